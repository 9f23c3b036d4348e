import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { arrivalStream, parseArrivalSpec, stageRequestCount, type Arrival, type ArrivalSpec } from "../../../src/sim/workload/arrivals.ts"

const all = (spec: ArrivalSpec, seed: string | number = 1, numRequests?: number): Arrival[] => {
  const s = arrivalStream(spec, { seed, ...(numRequests !== undefined ? { numRequests } : {}) })
  const out: Arrival[] = []
  for (let a = s.next(); a !== undefined; a = s.next()) out.push(a)
  return out
}
const gapsOf = (as: ReadonlyArray<Arrival>): number[] => as.map((a, i) => a.time - (i === 0 ? 0 : (as[i - 1] as Arrival).time))
const mean = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0) / xs.length
const cv2 = (xs: ReadonlyArray<number>): number => {
  const m = mean(xs)
  return xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (xs.length - 1) / (m * m)
}

const N = 20_000

describe("vllm bench serve arrivals (kind rate)", () => {
  it("raw gaps have mean 1/rate (4 SE bound)", () => {
    const gaps = gapsOf(all({ kind: "rate", rate: 8, normalize: false }, 1, N))
    // Exponential gaps: sd = mean, so the mean's SE is (1/8)/sqrt(N) (0.71 % of the mean).
    expect(Math.abs(mean(gaps) * 8 - 1)).toBeLessThan(4 / Math.sqrt(N))
  })

  it("normalisation puts the last arrival at N/rate, as vllm does", () => {
    const as = all({ kind: "rate", rate: 8 }, 1, N)
    expect(as).toHaveLength(N)
    expect((as[N - 1] as Arrival).time).toBeCloseTo(N / 8, 6)
    expect((as[0] as Arrival).time).toBeGreaterThan(0)
  })

  it.each([0.25, 0.5, 1, 2, 4])("burstiness %f gives gap CV² ≈ 1/burstiness", (b) => {
    const gaps = gapsOf(all({ kind: "rate", rate: 5, burstiness: b }, 2, N))
    // SE of a sample variance / σ² ≈ sqrt((kurtosis - 1)/N); Gamma(k) kurtosis = 3 + 6/k.
    expect(Math.abs(cv2(gaps) * b - 1)).toBeLessThan(4 * Math.sqrt((2 + 6 / b) / N) + 4 / Math.sqrt(N))
  })

  it("burstiness inf gives fixed gaps; rate inf sends everything at 0", () => {
    const fixed = gapsOf(all({ kind: "rate", rate: 4, burstiness: "inf" }, 1, 100))
    for (const g of fixed) expect(g).toBeCloseTo(0.25, 12)
    expect(all({ kind: "rate", rate: "inf" }, 1, 50).every((a) => a.time === 0 && a.stage === 0)).toBe(true)
  })

  it("ramp moves the rate from start to end", () => {
    const as = all({ kind: "ramp", strategy: "linear", startRps: 1, endRps: 20 }, 3, 4000)
    const gaps = gapsOf(as)
    expect(mean(gaps.slice(0, 200))).toBeGreaterThan(3 * mean(gaps.slice(-200)))
  })

  it("constant has fixed gaps from 0", () => {
    expect(all({ kind: "constant", rate: 2 }, 1, 4).map((a) => a.time)).toEqual([0, 0.5, 1, 1.5])
  })

  it("is deterministic per seed and differs across seeds", () => {
    const spec: ArrivalSpec = { kind: "rate", rate: 3, burstiness: 0.7 }
    expect(all(spec, 42, 500)).toEqual(all(spec, 42, 500))
    expect(all(spec, 42, 500)).not.toEqual(all(spec, 43, 500))
  })

  it("needs numRequests", () => {
    expect(() => arrivalStream({ kind: "rate", rate: 1 }, { seed: 1 })).toThrow(/numRequests/)
  })
})

describe("rate stages", () => {
  const stages = [
    { rate: 5, duration: 600 },
    { rate: 10, duration: 600 },
    { rate: 0.7, duration: 10 }, // Python int(0.7 * 10) = 7
  ]

  it("ConstantLoadTimer sends exactly trunc(rate·duration) per stage, all inside the stage", () => {
    const as = all({ kind: "stages", stages })
    const s = arrivalStream({ kind: "stages", stages }, { seed: 1 })
    expect(s.count).toBe(3000 + 6000 + 7)
    expect(stageRequestCount({ rate: 0.7, duration: 10 })).toBe(7)
    let start = 0
    stages.forEach((st, i) => {
      const mine = as.filter((a) => a.stage === i)
      expect(mine).toHaveLength(Math.trunc(st.rate * st.duration))
      for (const a of mine) {
        expect(a.time).toBeGreaterThan(start)
        expect(a.time).toBeLessThanOrEqual(start + st.duration)
      }
      // The rescaled gaps fill the stage: the last request is at its end.
      expect((mine[mine.length - 1] as Arrival).time).toBe(start + st.duration)
      start += st.duration
    })
  })

  it("ConstantLoadTimer gaps are exponential-like (CV² ≈ 1)", () => {
    const as = all({ kind: "stages", stages: [{ rate: 20, duration: 1000 }] })
    expect(Math.abs(cv2(gapsOf(as)) - 1)).toBeLessThan(4 * Math.sqrt(8 / as.length))
  })

  it("changing a later stage leaves earlier stages unchanged", () => {
    const a = all({ kind: "stages", stages: [{ rate: 5, duration: 60 }, { rate: 10, duration: 60 }] }).filter((x) => x.stage === 0)
    const b = all({ kind: "stages", stages: [{ rate: 5, duration: 60 }, { rate: 30, duration: 60 }] }).filter((x) => x.stage === 0)
    expect(a).toEqual(b)
  })

  it("poisson timer: count within 4 SD of rate·duration, all inside the stage", () => {
    const as = all({ kind: "stages", stages: [{ rate: 20, duration: 500 }], timer: "poisson" })
    expect(Math.abs(as.length - 10_000)).toBeLessThan(4 * Math.sqrt(10_000))
    expect(as.every((a) => a.time > 0 && a.time <= 500)).toBe(true)
  })

  it("fixed timer: gaps of 1/rate", () => {
    expect(all({ kind: "stages", stages: [{ rate: 2, duration: 2 }, { rate: 1, duration: 2 }], timer: "fixed" })).toEqual([
      { time: 0.5, stage: 0 },
      { time: 1, stage: 0 },
      { time: 1.5, stage: 0 },
      { time: 2, stage: 0 },
      { time: 3, stage: 1 },
      { time: 4, stage: 1 },
    ])
  })

  it("numRequests caps a staged stream", () => {
    const s = arrivalStream({ kind: "stages", stages }, { seed: 1, numRequests: 10 })
    expect(s.count).toBe(10)
    expect(all({ kind: "stages", stages }, 1, 10)).toHaveLength(10)
  })
})

describe("arrival properties", () => {
  const spec: fc.Arbitrary<ArrivalSpec> = fc.oneof(
    fc.record({
      kind: fc.constant("rate" as const),
      rate: fc.oneof(fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.constant("inf" as const)),
      burstiness: fc.oneof(fc.double({ min: 0.05, max: 50, noNaN: true }), fc.constant("inf" as const)),
      normalize: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant("ramp" as const),
      strategy: fc.constantFrom("linear" as const, "exponential" as const),
      startRps: fc.double({ min: 0.1, max: 100, noNaN: true }),
      endRps: fc.double({ min: 0.1, max: 100, noNaN: true }),
    }),
    fc.record({
      kind: fc.constant("stages" as const),
      stages: fc.array(fc.record({ rate: fc.double({ min: 0.1, max: 50, noNaN: true }), duration: fc.double({ min: 0.5, max: 20, noNaN: true }) }), {
        minLength: 1,
        maxLength: 4,
      }),
      timer: fc.constantFrom("constant-load" as const, "poisson" as const, "fixed" as const),
    }),
  )

  it("arrivals are non-decreasing, finite, >= 0, with non-decreasing stage indices", () => {
    fc.assert(
      fc.property(spec, fc.integer(), (s, seed) => {
        const as = all(s, seed, 300)
        for (let i = 0; i < as.length; i++) {
          const a = as[i] as Arrival
          expect(Number.isFinite(a.time) && a.time >= 0).toBe(true)
          if (i > 0) {
            expect(a.time).toBeGreaterThanOrEqual((as[i - 1] as Arrival).time)
            expect(a.stage).toBeGreaterThanOrEqual((as[i - 1] as Arrival).stage)
          }
        }
      }),
      { numRuns: 200 },
    )
  })
})

describe("parseArrivalSpec", () => {
  it("accepts valid specs", () => {
    expect(parseArrivalSpec({ kind: "rate", rate: "inf" })).toEqual({ kind: "rate", rate: "inf" })
    expect(parseArrivalSpec({ kind: "stages", stages: [{ rate: 5, duration: 600 }] })).toEqual({ kind: "stages", stages: [{ rate: 5, duration: 600 }] })
  })

  it.each([
    [{ kind: "rate", rate: 0 }, 'arrival.rate: expected a positive number or "inf"'],
    [{ kind: "rate", rate: 2, burstiness: -1 }, 'arrival.burstiness: expected a positive number or "inf"'],
    [{ kind: "ramp", strategy: "sine", startRps: 1, endRps: 2 }, 'arrival.strategy: expected "linear" or "exponential"'],
    [{ kind: "stages", stages: [] }, "arrival.stages: expected a non-empty array of {rate, duration}"],
    [{ kind: "stages", stages: [{ rate: 5, duration: 60 }, { rate: 5 }] }, "arrival.stages[1].duration: expected a positive number"],
    [{ kind: "stages", stages: [{ rate: 5, duration: 60 }], timer: "x" }, 'arrival.timer: expected "constant-load", "poisson" or "fixed"'],
    [{ kind: "gamma" }, "arrival.kind: expected one of rate, ramp, constant, stages"],
  ])("rejects %j", (raw, msg) => {
    expect(parseArrivalSpec(raw)).toBe(msg)
  })
})
