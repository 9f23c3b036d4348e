import fc from "fast-check"
import seedrandom from "seedrandom"
import { describe, expect, it } from "vitest"
import { makeRng, shuffledIndices } from "../../../src/sim/workload/random.ts"

const draw = (f: () => number, n: number): number[] => Array.from({ length: n }, f)
const mean = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0) / xs.length
const variance = (xs: ReadonlyArray<number>): number => {
  const m = mean(xs)
  return xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1)
}

describe("makeRng", () => {
  it("is deterministic per (seed, stream)", () => {
    const a = makeRng(7, "arrivals")
    const b = makeRng("7", "arrivals")
    expect(draw(() => a.uniform(), 100)).toEqual(draw(() => b.uniform(), 100))
  })

  it("draws seedrandom's Alea sequence bit for bit (its stepping is reimplemented on a typed array)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (seed, stream) => {
        const lib = seedrandom.alea(`${seed}/${stream}`)
        const ours = makeRng(seed, stream)
        for (let i = 0; i < 2000; i++) expect(ours.uniform()).toBe(lib())
      }),
      { numRuns: 50 },
    )
  })

  it("gives different sequences for different seeds and streams", () => {
    const base = draw(() => makeRng(1, "s").uniform(), 1)
    const r1 = makeRng(1, "s")
    const r2 = makeRng(2, "s")
    const r3 = makeRng(1, "t")
    const a = draw(() => r1.uniform(), 20)
    expect(a[0]).toBe(base[0])
    expect(draw(() => r2.uniform(), 20)).not.toEqual(a)
    expect(draw(() => r3.uniform(), 20)).not.toEqual(a)
  })

  // n = 50k; bounds are 4 standard errors of the sample statistic.
  const n = 50_000
  it("exponential has the requested mean", () => {
    const r = makeRng(3, "exp")
    const xs = draw(() => r.exponential(2), n)
    expect(Math.abs(mean(xs) - 2)).toBeLessThan((4 * 2) / Math.sqrt(n))
  })

  it.each([0.3, 1, 2.5, 10])("gamma(shape %f) has mean kθ and variance kθ²", (k) => {
    const r = makeRng(4, `gamma${k}`)
    const theta = 1.5
    const xs = draw(() => r.gamma(k, theta), n)
    const sd = Math.sqrt(k) * theta
    expect(Math.abs(mean(xs) - k * theta)).toBeLessThan((4 * sd) / Math.sqrt(n))
    // SE of the sample variance / σ² ≈ sqrt((kurtosis - 1)/n), gamma kurtosis = 3 + 6/k.
    expect(Math.abs(variance(xs) / (k * theta * theta) - 1)).toBeLessThan(4 * Math.sqrt((2 + 6 / k) / n))
  })

  it("normal and lognormal have the requested moments", () => {
    const r = makeRng(5, "normal")
    const xs = draw(() => r.normal(10, 3), n)
    expect(Math.abs(mean(xs) - 10)).toBeLessThan((4 * 3) / Math.sqrt(n))
    expect(Math.abs(variance(xs) / 9 - 1)).toBeLessThan(4 * Math.sqrt(2 / n))
    const ls = draw(() => r.lognormal(1, 0.5), n)
    const m = Math.exp(1 + 0.125)
    const sd = m * Math.sqrt(Math.exp(0.25) - 1)
    expect(Math.abs(mean(ls) - m)).toBeLessThan((4 * sd) / Math.sqrt(n))
  })

  it("int stays in [lo, hi] and hits both ends", () => {
    fc.assert(
      fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 20 }), fc.integer(), (lo, span, seed) => {
        const r = makeRng(seed, "int")
        const xs = draw(() => r.int(lo, lo + span), 400)
        expect(xs.every((x) => Number.isInteger(x) && x >= lo && x <= lo + span)).toBe(true)
        if (span <= 5) expect(new Set(xs).size).toBe(span + 1)
      }),
      { numRuns: 50 },
    )
  })

  it("shuffledIndices is a permutation", () => {
    const p = shuffledIndices(100, makeRng(1, "shuffle"))
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i))
  })
})
