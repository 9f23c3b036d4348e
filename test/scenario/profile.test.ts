import { describe, expect, it } from "vitest"
import { parseProfile, PROFILE_KIND } from "../../src/scenario/profile.ts"
import { COEFFICIENT_NAMES, unitCoefficients } from "../../src/hw/physics-step-time.ts"

const profile = (coefficients: Record<string, number>) => ({
  kind: PROFILE_KIND,
  version: 1,
  model: "meta-llama/Llama-3.1-8B-Instruct",
  gpu: "h100-sxm",
  tp: 1,
  pp: 1,
  precision: "bf16",
  coefficients,
  overheads: { ingressBase: 0.002, ingressPerInputToken: 0, perOutputToken: 0, completion: 0 },
})

describe("step-time profiles", () => {
  it("a profile written before moeDispatch, allReduceRankSkew and moeQuantizedServed existed loads with the model it was fitted with", () => {
    const { moeDispatch: _d, allReduceRankSkew: _s, moeQuantizedServed: _q, ...older } = { ...unitCoefficients, allReduceRankSkew: 1e-6, moeQuantizedServed: 2 }
    const p = parseProfile(profile(older))
    if (typeof p === "string") throw new Error(p)
    expect(p.coefficients.moeDispatch).toBe(0)
    expect(p.coefficients.allReduceRankSkew).toBe(0)
    expect(p.coefficients.moeQuantizedServed).toBe(1)
    expect(p.coefficients.weightRead).toBe(1)
  })

  it("any other missing coefficient is one line naming it", () => {
    const { weightRead: _, ...missing } = unitCoefficients
    expect(parseProfile(profile(missing))).toBe("coefficients.weightRead: expected a number")
    expect(COEFFICIENT_NAMES).toContain("moeDispatch")
  })
})
