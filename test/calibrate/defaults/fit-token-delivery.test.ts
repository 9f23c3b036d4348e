import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { tableExpertsTouched } from "../../../src/calibrate/defaults/fit-kernels.ts"
import { weightedMedianShift } from "../../../src/calibrate/defaults/fit-token-delivery.ts"
import { moeExpertsTouched } from "../../../src/hw/model-costs.ts"
import { lookupModel } from "../../../src/hw/models.ts"

const objective = (c: number, x: ReadonlyArray<number>, y: ReadonlyArray<number>): number => x.reduce((s, xi, i) => s + Math.abs(xi + c - y[i]!) / y[i]!, 0)

describe("weightedMedianShift (stage 4: the per-token delivery delay)", () => {
  it("recovers a constant shift exactly", () => {
    expect(weightedMedianShift([10, 20, 30], [15, 25, 35])).toBe(5)
  })
  it("weights each row by 1 / measured (relative error), so short TTFTs count more", () => {
    // differences 10 and 90 with weights 1/20 and 1/100: the weighted median is 10
    expect(weightedMedianShift([10, 10], [20, 100])).toBe(10)
  })
  it("never goes below zero", () => {
    expect(weightedMedianShift([30, 40], [20, 35])).toBe(0)
  })
  it("minimises Σ |x + c − y| / y over c ≥ 0", () => {
    const rows = fc.array(fc.record({ x: fc.double({ min: 1, max: 200, noNaN: true }), y: fc.double({ min: 1, max: 200, noNaN: true }) }), { minLength: 1, maxLength: 30 })
    fc.assert(
      fc.property(rows, fc.double({ min: 0, max: 300, noNaN: true }), (rs, other) => {
        const x = rs.map((r) => r.x)
        const y = rs.map((r) => r.y)
        const c = weightedMedianShift(x, y)
        expect(c).toBeGreaterThanOrEqual(0)
        expect(objective(c, x, y)).toBeLessThanOrEqual(objective(other, x, y) + 1e-9)
      }),
    )
  })
})

describe("tableExpertsTouched (the moe tables' routing)", () => {
  const row = (distribution: string, numTokens: number, topk: number, numExperts: number) => ({ distribution, numTokens, topk, numExperts })
  it("balanced rows touch min(E, n·k) experts: aiconfigurator's round-robin balanced_logits", () => {
    expect(tableExpertsTouched(row("balanced", 1, 2, 8))).toBe(2)
    expect(tableExpertsTouched(row("balanced", 4, 2, 8))).toBe(8)
    expect(tableExpertsTouched(row("balanced", 3, 8, 128))).toBe(24)
    expect(tableExpertsTouched(row("balanced", 64, 8, 128))).toBe(128)
  })
  it("power-law rows draw routing at random: the random-routing count servesim serves with", () => {
    const mixtral = lookupModel("mistralai/Mixtral-8x7B-Instruct-v0.1")!
    expect(tableExpertsTouched(row("power_law_1.01", 4, 2, 8))).toBeCloseTo(moeExpertsTouched(mixtral, 4), 12)
    expect(tableExpertsTouched(row("power_law_1.01", 4, 2, 8))).toBeLessThan(8)
  })
})
