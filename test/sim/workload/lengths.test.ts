import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  lengthSampler,
  lognormalParams,
  meanLength,
  parseLengthDist,
  sampleLength,
  sharegptInput,
  sharegptOutput,
  type LengthDist,
} from "../../../src/sim/workload/lengths.ts"
import { makeRng } from "../../../src/sim/workload/random.ts"

const sampleStats = (d: LengthDist, n: number, seed = 1): { mean: number; sd: number; min: number; max: number } => {
  const f = lengthSampler(d)
  const r = makeRng(seed, "lengths")
  let s = 0
  let s2 = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < n; i++) {
    const x = f(r)
    s += x
    s2 += x * x
    if (x < min) min = x
    if (x > max) max = x
  }
  const mean = s / n
  return { mean, sd: Math.sqrt(s2 / n - mean * mean), min, max }
}

describe("length distributions", () => {
  const cases: Array<[string, LengthDist]> = [
    ["fixed", { kind: "fixed", value: 128 }],
    ["uniform", { kind: "uniform", min: 100, max: 300 }],
    ["normal", { kind: "normal", mean: 500, sd: 100 }],
    ["normal clamped at min", { kind: "normal", mean: 20, sd: 30, min: 10 }],
    ["normal clamped at max", { kind: "normal", mean: 200, sd: 80, max: 220 }],
    ["normal truncated", { kind: "normal", mean: 20, sd: 30, min: 10, max: 60, truncate: true }],
    ["lognormal", { kind: "lognormal", mean: 300, sd: 200 }],
    ["lognormal clamped", { kind: "lognormal", mean: 300, sd: 600, max: 1000 }],
    ["lognormal truncated", { kind: "lognormal", mean: 300, sd: 600, min: 4, max: 1000, truncate: true }],
    ["empirical", { kind: "empirical", values: [10, 100, 1000], weights: [5, 3, 2] }],
    ["empirical, equal weights", { kind: "empirical", values: [3, 4, 5, 1000] }],
    ["preset sharegpt-input", { kind: "preset", name: "sharegpt-input" }],
    ["preset sharegpt-output", { kind: "preset", name: "sharegpt-output" }],
  ]
  const n = 50_000
  it.each(cases)("%s: sample mean matches meanLength within 4 SE", (_, d) => {
    const st = sampleStats(d, n)
    // Rounding of continuous draws adds < 0.05 tokens of bias; allow it on top of the CLT bound.
    expect(Math.abs(st.mean - meanLength(d))).toBeLessThanOrEqual((4 * st.sd) / Math.sqrt(n) + 0.05)
    expect(st.min).toBeGreaterThanOrEqual(1)
  })

  it("respects bounds", () => {
    expect(sampleStats({ kind: "normal", mean: 200, sd: 80, min: 150, max: 220 }, 5000)).toMatchObject({ min: 150, max: 220 })
    const t = sampleStats({ kind: "lognormal", mean: 300, sd: 600, min: 4, max: 1000, truncate: true }, 20000)
    expect(t.min).toBeGreaterThanOrEqual(4)
    expect(t.max).toBeLessThanOrEqual(1000)
    expect(sampleStats({ kind: "uniform", min: 7, max: 9 }, 2000)).toMatchObject({ min: 7, max: 9 })
  })

  it("meanLength is analytic for the simple kinds", () => {
    expect(meanLength({ kind: "fixed", value: 99.6 })).toBe(100)
    expect(meanLength({ kind: "uniform", min: 1, max: 4 })).toBe(2.5)
    expect(meanLength({ kind: "uniform", min: -2, max: 3 })).toBeCloseTo((1 + 1 + 1 + 1 + 2 + 3) / 6, 12)
    expect(meanLength({ kind: "normal", mean: 500, sd: 10 })).toBeCloseTo(500, 6)
    expect(meanLength({ kind: "lognormal", mean: 300, sd: 200 })).toBeCloseTo(300, 4)
    expect(meanLength({ kind: "empirical", values: [10, 20], weights: [1, 3] })).toBe(17.5)
  })

  it("converts lognormal mean/sd to mu/sigma", () => {
    const { mu, sigma } = lognormalParams(300, 200)
    expect(Math.exp(mu + (sigma * sigma) / 2)).toBeCloseTo(300, 9)
    expect(Math.sqrt((Math.exp(sigma * sigma) - 1) * Math.exp(2 * mu + sigma * sigma))).toBeCloseTo(200, 9)
  })

  // vllm bench serve on ShareGPT_V3 (gpustack performance-lab runs): 214.5–219.2 input, 193–202 output.
  it("sharegpt presets reproduce the measured vllm bench means", () => {
    expect(meanLength(sharegptInput)).toBeGreaterThan(214)
    expect(meanLength(sharegptInput)).toBeLessThan(220)
    expect(meanLength(sharegptOutput)).toBeGreaterThan(193)
    expect(meanLength(sharegptOutput)).toBeLessThan(203)
    const st = sampleStats(sharegptInput, 20000)
    expect(st.max).toBeLessThanOrEqual(1024)
    expect(st.min).toBeGreaterThanOrEqual(4)
  })

  it("property: every sample is an integer >= 1", () => {
    const dist: fc.Arbitrary<LengthDist> = fc.oneof(
      fc.record({ kind: fc.constant("fixed" as const), value: fc.double({ min: -10, max: 1e4, noNaN: true }) }),
      fc.record({ kind: fc.constant("normal" as const), mean: fc.double({ min: -100, max: 1e4, noNaN: true }), sd: fc.double({ min: 0, max: 1e3, noNaN: true }) }),
      fc.record({ kind: fc.constant("lognormal" as const), mean: fc.double({ min: 0.1, max: 1e4, noNaN: true }), sd: fc.double({ min: 0, max: 1e4, noNaN: true }) }),
      fc
        .tuple(fc.integer({ min: -5, max: 100 }), fc.integer({ min: 0, max: 100 }))
        .map(([lo, span]): LengthDist => ({ kind: "uniform", min: lo, max: lo + span })),
      fc.array(fc.double({ min: 0.01, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 8 }).map((values): LengthDist => ({ kind: "empirical", values })),
    )
    fc.assert(
      fc.property(dist, fc.integer(), (d, seed) => {
        const r = makeRng(seed, "prop")
        for (let i = 0; i < 50; i++) {
          const x = sampleLength(d, r)
          expect(Number.isInteger(x) && x >= 1).toBe(true)
        }
        expect(meanLength(d)).toBeGreaterThanOrEqual(1 - 1e-9)
      }),
      { numRuns: 200 },
    )
  })
})

describe("parseLengthDist", () => {
  it("accepts valid shapes", () => {
    expect(parseLengthDist({ kind: "lognormal", mean: 200, sd: 100, max: 2048 })).toEqual({ kind: "lognormal", mean: 200, sd: 100, max: 2048 })
    expect(parseLengthDist({ kind: "preset", name: "sharegpt-output" })).toEqual({ kind: "preset", name: "sharegpt-output" })
  })

  it.each([
    [{ kind: "fixed", value: 0 }, "input.value: expected a positive number"],
    [{ kind: "uniform", min: 10, max: 5 }, "input.max: must be >= min"],
    [{ kind: "normal", mean: 10 }, "input.sd: expected a number"],
    [{ kind: "lognormal", mean: -1, sd: 3 }, "input.mean: expected a positive number"],
    [{ kind: "normal", mean: 10, sd: 1, min: 1000, max: 2000, truncate: true }, "input: [min, max] has almost no probability mass to truncate to"],
    [{ kind: "empirical", values: [1, 2], weights: [1] }, "input.weights: expected an array as long as values"],
    [{ kind: "empirical", values: [1, "x"] }, "input.values[1]: expected a positive number ≤ 1e7 tokens"],
    [{ kind: "preset", name: "alpaca" }, 'input.name: expected "sharegpt-input" or "sharegpt-output"'],
    [{ kind: "zipf" }, "input.kind: expected one of fixed, uniform, normal, lognormal, empirical, preset"],
    [42, 'input: expected an object with a "kind"'],
  ])("rejects %j", (raw, msg) => {
    expect(parseLengthDist(raw, "input")).toBe(msg)
  })
})
