import { describe, expect, it } from "vitest"
import { levenbergMarquardt, solveLinear } from "../../src/calibrate/levenberg-marquardt.ts"

describe("Levenberg–Marquardt", () => {
  it("solves a small linear system", () => {
    const x = solveLinear([[4, 1], [1, 3]], [1, 2])
    expect(x[0]).toBeCloseTo(1 / 11, 12)
    expect(x[1]).toBeCloseTo(7 / 11, 12)
  })

  it("recovers the parameters of an exponential model from exact data", () => {
    // y = a·exp(b·x) with a = e^θ0 = 2, b = θ1 = −0.7
    const xs = [0, 0.5, 1, 1.5, 2, 3, 4]
    const ys = xs.map((x) => 2 * Math.exp(-0.7 * x))
    const fit = levenbergMarquardt((t) => xs.map((x, i) => Math.exp(t[0]!) * Math.exp(t[1]! * x) - ys[i]!), [0, 0], { maxIterations: 50, step: 1e-6, tolerance: 1e-14 })
    expect(Math.exp(fit.theta[0]!)).toBeCloseTo(2, 5)
    expect(fit.theta[1]!).toBeCloseTo(-0.7, 5)
    expect(fit.loss).toBeLessThan(1e-12)
  })

  it("respects the bound on θ", () => {
    const fit = levenbergMarquardt((t) => [t[0]! - 100], [0], { bound: 3 })
    expect(fit.theta[0]).toBe(3)
  })
})
