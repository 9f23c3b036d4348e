import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { distributionOf, quantileSortedLinear, sortFloat64, weightedDistributionOf } from "../../src/sim/stats.ts"

describe("stats with numpy's conventions", () => {
  it("percentiles interpolate linearly like np.percentile", () => {
    const v = Float64Array.from([1, 2, 3, 4])
    expect(quantileSortedLinear(v, 0.5)).toBe(2.5)
    expect(quantileSortedLinear(v, 0.9)).toBeCloseTo(3.7, 12)
    const d = distributionOf(Float64Array.from([4, 1, 3, 2]))
    expect(d.mean).toBe(2.5)
    expect(d.std).toBeCloseTo(Math.sqrt(1.25), 12) // population std (ddof = 0)
    expect(d.p99).toBeCloseTo(3.97, 12)
  })

  it("a weighted distribution equals the distribution of the expanded list", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: 0, max: 10, noNaN: true }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 40 }),
        (pairs) => {
          const expanded: number[] = []
          for (const [v, c] of pairs) for (let i = 0; i < c; i++) expanded.push(v)
          const w = weightedDistributionOf(Float64Array.from(pairs.map((p) => p[0])), Float64Array.from(pairs.map((p) => p[1])))
          const e = distributionOf(Float64Array.from(expanded))
          for (const k of ["mean", "median", "std", "p90", "p95", "p99"] as const) expect(w[k]).toBeCloseTo(e[k], 9)
        },
      ),
      { numRuns: 300, seed: 3 },
    )
  })
})

describe("sortFloat64", () => {
  it("sorts like TypedArray.prototype.sort, negatives, zeros and duplicates included", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e12, max: 1e12 }), { minLength: 0, maxLength: 3000 }), (xs) => {
        const a = Float64Array.from(xs)
        const expected = Float64Array.from(xs).sort()
        expect(Array.from(sortFloat64(a))).toEqual(Array.from(expected))
      }),
      { numRuns: 100, seed: 11 },
    )
  })

  it("sorts a large column of latencies", () => {
    const a = new Float64Array(100_000)
    for (let i = 0; i < a.length; i++) a[i] = ((i * 7919) % 100_003) / 1000
    const expected = Float64Array.from(a).sort()
    expect(sortFloat64(a)).toEqual(expected)
  })
})

describe("sortFloat64 with a payload", () => {
  it("carries each value's payload to its sorted position", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 2000 }), (pairs) => {
        const keys = Float64Array.from(pairs.map((p) => p[0]))
        const payload = Float64Array.from(pairs.map((p) => p[1]))
        sortFloat64(keys, payload)
        const expected = [...pairs].sort((a, b) => a[0] - b[0])
        expect(Array.from(keys)).toEqual(expected.map((p) => p[0]))
        // Equal keys may come in any order: compare the payload multiset per key.
        const byKey = (ks: ArrayLike<number>, ps: ArrayLike<number>) => {
          const m = new Map<number, number[]>()
          for (let i = 0; i < ks.length; i++) m.set(ks[i]!, [...(m.get(ks[i]!) ?? []), ps[i]!].sort((a, b) => a - b))
          return m
        }
        expect(byKey(keys, payload)).toEqual(byKey(expected.map((p) => p[0]), expected.map((p) => p[1])))
      }),
      { numRuns: 100, seed: 5 },
    )
  })
})

describe("sortFloat64 on runs of nearly equal values", () => {
  // Values 1 + k·2^-52 share their high 32 bits: the sort finishes each such run by the low word.
  const near = (n: number): number[] => Array.from({ length: n }, (_, k) => 1 + ((k * 7919) % n) * 2 ** -52)

  it("sorts a long run of values equal in their high word, with and without a payload", () => {
    const xs = [...near(5000), ...near(20), 3, -2, 0.5]
    const a = Float64Array.from(xs)
    expect(Array.from(sortFloat64(a))).toEqual(Array.from(Float64Array.from(xs).sort()))
    const keys = Float64Array.from(xs)
    const payload = Float64Array.from(xs, (x) => x * 10)
    sortFloat64(keys, payload)
    expect(Array.from(keys)).toEqual(Array.from(Float64Array.from(xs).sort()))
    for (let i = 0; i < keys.length; i++) expect(payload[i]).toBe(keys[i]! * 10)
  })
})
