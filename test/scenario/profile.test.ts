import { describe, expect, it } from "vitest"
import { parseProfile, PROFILE_KIND } from "../../src/scenario/profile.ts"
import { COEFFICIENT_NAMES, unitCoefficients } from "../../src/hw/physics-step-time.ts"
import { profileUncertainty, type ResidualLabel } from "../../src/calibrate/fit-uncertainty.ts"

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

describe("profile uncertainty", () => {
  const base = profile({ ...unitCoefficients })
  const jac = [[1, 0], [0, 1], [1, 1], [1, -1], [2, 1]]
  const r = [0.05, -0.02, 0.03, -0.04, 0.01]
  const labels: ResidualLabel[] = ["ttft", "tpot", "e2el", "ttft", "tpot"].map((metric, i) => ({ point: i >> 1, metric }))

  it("round-trips through JSON with either method, and profiles without it still load", () => {
    for (const method of ["jacobian", "bootstrap"] as const) {
      const u = profileUncertainty(jac, r, labels, ["per-step", "kv-read"], method, "x")!
      expect(u.method).toBe(method)
      const p = parseProfile(JSON.parse(JSON.stringify({ ...base, uncertainty: u })))
      if (typeof p === "string") throw new Error(p)
      expect(p.uncertainty).toEqual(u)
    }
    const plain = parseProfile(JSON.parse(JSON.stringify(base)))
    if (typeof plain === "string") throw new Error(plain)
    expect(plain.uncertainty).toBeUndefined()
  })

  it("a bad uncertainty block is one line naming the field", () => {
    const u = profileUncertainty(jac, r, labels, ["per-step", "kv-read"], "jacobian", "x")!
    expect(parseProfile({ ...base, uncertainty: { ...u, method: "guess" } })).toBe("uncertainty.method: expected one of jacobian, bootstrap")
    expect(parseProfile({ ...base, uncertainty: { ...u, covariance: [[1]] } })).toBe("uncertainty.covariance: expected a 2×2 matrix of numbers")
    expect(parseProfile({ ...base, uncertainty: { ...u, residualSd: { ttft: -1 } } })).toBe("uncertainty.residualSd.ttft: expected a number ≥ 0")
    expect(parseProfile({ ...base, uncertainty: { ...u, method: "bootstrap" } })).toBe("uncertainty.samples: required with method bootstrap")
  })
})
