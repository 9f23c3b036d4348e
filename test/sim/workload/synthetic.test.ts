import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { OpenLoopWorkload } from "../../../src/sim/spec.ts"
import type { RequestSpec } from "../../../src/sim/types.ts"
import { meanLength, type LengthDist } from "../../../src/sim/workload/lengths.ts"
import { closedLoopWorkload, openLoopWorkload } from "../../../src/sim/workload/synthetic.ts"

const drain = (w: OpenLoopWorkload): RequestSpec[] => {
  const out: RequestSpec[] = []
  for (let r = w.next(); r !== undefined; r = w.next()) out.push(r)
  return out
}
const mean = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0) / xs.length

const input: LengthDist = { kind: "lognormal", mean: 400, sd: 300 }
const output: LengthDist = { kind: "uniform", min: 50, max: 150 }

describe("openLoopWorkload", () => {
  it("yields numRequests requests in arrival order with lengths >= 1", () => {
    const w = openLoopWorkload({ seed: 1, numRequests: 5000, arrival: { kind: "rate", rate: 10 }, input, output })
    expect(w.kind).toBe("open")
    expect(w.countRequests).toBe(5000)
    expect(w.stageCount).toBe(1)
    const rs = drain(w)
    expect(rs).toHaveLength(5000)
    for (let i = 1; i < rs.length; i++) expect((rs[i] as RequestSpec).arrival).toBeGreaterThanOrEqual((rs[i - 1] as RequestSpec).arrival)
    expect(rs.every((r) => r.inputTokens >= 1 && r.outputTokens >= 1 && r.contentId === -1 && r.priority === 0 && r.prefixes.length === 0)).toBe(true)
    const sdIn = 300 // lognormal sd as given
    expect(Math.abs(mean(rs.map((r) => r.inputTokens)) - meanLength(input))).toBeLessThan((4 * sdIn) / Math.sqrt(5000) + 0.05)
  })

  it("is deterministic per seed", () => {
    const mk = (seed: number) => drain(openLoopWorkload({ seed, numRequests: 300, arrival: { kind: "rate", rate: 3, burstiness: 0.5 }, input, output }))
    expect(mk(9)).toEqual(mk(9))
    expect(mk(9)).not.toEqual(mk(10))
  })

  it("streams are independent: changing the output distribution leaves arrivals and inputs unchanged", () => {
    const base = { seed: 5, numRequests: 500, arrival: { kind: "rate", rate: 4 } as const, input }
    const a = drain(openLoopWorkload({ ...base, output }))
    const b = drain(openLoopWorkload({ ...base, output: { kind: "fixed", value: 7 }, prefix: { numGroups: 3, length: 32 } }))
    expect(b.map((r) => r.arrival)).toEqual(a.map((r) => r.arrival))
    expect(b.map((r) => r.inputTokens - 32)).toEqual(a.map((r) => r.inputTokens))
    expect(b.every((r) => r.outputTokens === 7)).toBe(true)
  })

  it("outputMultiplier scales output lengths", () => {
    const base = { seed: 2, numRequests: 200, arrival: { kind: "constant", rate: 1 } as const, input }
    const a = drain(openLoopWorkload({ ...base, output }))
    const b = drain(openLoopWorkload({ ...base, output, outputMultiplier: 2.5 }))
    b.forEach((r, i) => expect(r.outputTokens).toBe(Math.round((a[i] as RequestSpec).outputTokens * 2.5)))
  })

  it("prefix groups are shared, cover the prompt start and are picked uniformly", () => {
    const rs = drain(openLoopWorkload({ seed: 3, numRequests: 6000, arrival: { kind: "rate", rate: 50 }, input, output, prefix: { numGroups: 4, length: 100 } }))
    const counts = [0, 0, 0, 0]
    for (const r of rs) {
      expect(r.prefixes).toHaveLength(1)
      const p = r.prefixes[0]!
      expect(p.length).toBe(100)
      expect(r.inputTokens).toBeGreaterThan(100)
      counts[p.id] = (counts[p.id] as number) + 1
    }
    // Binomial(6000, 1/4): sd ≈ 33.5.
    for (const c of counts) expect(Math.abs(c - 1500)).toBeLessThan(4 * 33.5)
  })

  it("draws priorities from the given distribution", () => {
    const rs = drain(
      openLoopWorkload({ seed: 4, numRequests: 4000, arrival: { kind: "rate", rate: 50 }, input, output, priority: { values: [0, 10], weights: [3, 1] } }),
    )
    const high = rs.filter((r) => r.priority === 0).length
    expect(rs.every((r) => r.priority === 0 || r.priority === 10)).toBe(true)
    // Binomial(4000, 3/4): sd ≈ 27.4.
    expect(Math.abs(high - 3000)).toBeLessThan(4 * 27.4)
  })

  it("stages record their index", () => {
    const w = openLoopWorkload({ seed: 1, arrival: { kind: "stages", stages: [{ rate: 2, duration: 10 }, { rate: 4, duration: 10 }] }, input, output })
    expect(w.countRequests).toBe(60)
    expect(w.stageCount).toBe(2)
    const rs = drain(w)
    expect(rs.filter((r) => r.stage === 0)).toHaveLength(20)
    expect(rs.filter((r) => r.stage === 1)).toHaveLength(40)
  })

  it("property: lengths >= 1 for any multiplier", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 10, noNaN: true }), fc.integer(), (mult, seed) => {
        const rs = drain(
          openLoopWorkload({ seed, numRequests: 50, arrival: { kind: "rate", rate: 1 }, input: { kind: "normal", mean: 3, sd: 10 }, output, outputMultiplier: mult }),
        )
        expect(rs.every((r) => Number.isInteger(r.inputTokens) && r.inputTokens >= 1 && Number.isInteger(r.outputTokens) && r.outputTokens >= 1)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })
})

describe("closedLoopWorkload", () => {
  it("makes requests arriving at the send time", () => {
    const w = closedLoopWorkload({ seed: 1, concurrency: 8, numRequests: 100, input, output })
    expect(w).toMatchObject({ kind: "closed", concurrency: 8, numRequests: 100, countRequests: 100 })
    const r = w.next(12.5)
    expect(r.arrival).toBe(12.5)
    expect(r.stage).toBe(0)
    expect(r.inputTokens).toBeGreaterThanOrEqual(1)
  })

  it("lengths depend on the seed and call order only, not on send times", () => {
    const a = closedLoopWorkload({ seed: 6, concurrency: 4, numRequests: 10, input, output })
    const b = closedLoopWorkload({ seed: 6, concurrency: 4, numRequests: 10, input, output })
    for (let i = 0; i < 10; i++) {
      const x = a.next(i)
      const y = b.next(i * 3.7)
      expect([x.inputTokens, x.outputTokens]).toEqual([y.inputTokens, y.outputTokens])
    }
  })

  it("rejects a bad concurrency", () => {
    expect(() => closedLoopWorkload({ seed: 1, concurrency: 0, numRequests: 10, input, output })).toThrow(/concurrency/)
  })
})
