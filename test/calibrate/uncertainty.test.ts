import fc from "fast-check"
import seedrandom from "seedrandom"
import { describe, expect, it } from "vitest"
import { heldOutCases, summarizeCoverage, type ResidualLabel } from "../../src/calibrate/fit-uncertainty.ts"
import {
  bootstrapShifts,
  coverage,
  identifiedColumns,
  jacobianAt,
  jacobianCovariance,
  residualSds,
  shiftCovariance,
} from "../../src/calibrate/uncertainty.ts"
import { gaussianDraws, logInterval, normalQuantile, tQuantile } from "../../src/calibrate/quantiles.ts"

/** y = a + b·x + N(0, σ²) noise, seeded. */
const linearData = (n: number, sigma: number, seed: string) => {
  const rng = seedrandom.alea(seed)
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())
  const xs = Array.from({ length: n }, (_, i) => i / (n - 1) * 4 - 1)
  return { xs, ys: xs.map((x) => 1.5 + 0.8 * x + sigma * normal()) }
}

/** Ordinary least squares of a straight line: [intercept, slope]. */
const lineFit = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): number[] => {
  const n = xs.length
  const xbar = xs.reduce((a, b) => a + b, 0) / n
  const ybar = ys.reduce((a, b) => a + b, 0) / n
  const slope = xs.reduce((a, x, i) => a + (x - xbar) * (ys[i]! - ybar), 0) / xs.reduce((a, x) => a + (x - xbar) ** 2, 0)
  return [ybar - slope * xbar, slope]
}

describe("fit covariance", () => {
  it("σ²(JᵀJ)⁻¹ of a straight-line fit equals the closed form", () => {
    const { xs, ys } = linearData(9, 0.3, "closed-form")
    const f = (t: ReadonlyArray<number>) => xs.map((x, i) => t[0]! + t[1]! * x - ys[i]!)
    const { jacobian, residuals } = jacobianAt(f, lineFit(xs, ys), 1e-3)
    const cov = jacobianCovariance(jacobian, residuals)!
    const n = xs.length
    const xbar = xs.reduce((a, b) => a + b, 0) / n
    const sxx = xs.reduce((a, x) => a + (x - xbar) ** 2, 0)
    const s2 = residuals.reduce((a, r) => a + r * r, 0) / (n - 2)
    expect(cov[1]![1]).toBeCloseTo(s2 / sxx, 10)
    expect(cov[0]![0]).toBeCloseTo(s2 * (1 / n + (xbar * xbar) / sxx), 10)
    expect(cov[0]![1]).toBeCloseTo((-xbar * s2) / sxx, 10)
    expect(cov[1]![0]).toBeCloseTo(cov[0]![1]!, 12)
  })

  it("knobs the residuals do not pin (no response, or moving with another) get zero variance; the rest keep the closed form", () => {
    const { xs, ys } = linearData(9, 0.3, "closed-form")
    const theta = lineFit(xs, ys)
    // Columns: intercept, slope, a knob nothing responds to, a copy of the slope.
    const f = (t: ReadonlyArray<number>) => xs.map((x, i) => t[0]! + (t[1]! + t[3]!) * x - ys[i]!)
    const { jacobian, residuals } = jacobianAt(f, [...theta, 0, 0], 1e-3)
    expect(identifiedColumns(jacobian)).toEqual([0, 1])
    const cov = jacobianCovariance(jacobian, residuals)!
    const n = xs.length
    const xbar = xs.reduce((a, b) => a + b, 0) / n
    const sxx = xs.reduce((a, x) => a + (x - xbar) ** 2, 0)
    // n − p uses all four knobs: what the fit spent, identified or not.
    const s2 = residuals.reduce((a, r) => a + r * r, 0) / (n - 4)
    expect(cov[1]![1]).toBeCloseTo(s2 / sxx, 10)
    expect(cov[2]![2]).toBe(0)
    expect(cov[3]![3]).toBe(0)
  })

  it("with a prior, a knob the data do not pin keeps the prior variance and a pinned one is barely moved", () => {
    const { xs, ys } = linearData(30, 0.1, "prior")
    const theta = lineFit(xs, ys)
    const f = (t: ReadonlyArray<number>) => xs.map((x, i) => t[0]! + t[1]! * x + 1e-7 * t[2]! - ys[i]!)
    const { jacobian, residuals } = jacobianAt(f, [...theta, 0], 1e-3)
    const plain = jacobianCovariance(jacobian, residuals)!
    const prior = jacobianCovariance(jacobian, residuals, 0.8)!
    expect(prior[2]![2]).toBeCloseTo(0.64, 6)
    expect(prior[1]![1]! / plain[1]![1]!).toBeGreaterThan(0.999)
    expect(prior[1]![1]! / plain[1]![1]!).toBeLessThanOrEqual(1)
    // The bootstrap's ridge keeps the unpinned knob's shifts finite and small.
    const shifts = bootstrapShifts(jacobian, residuals, xs.map((_, i) => i), 50, "p", 0.8)
    expect(shifts).toHaveLength(50)
    for (const d of shifts) expect(Math.abs(d[2]!)).toBeLessThan(1e-3)
  })

  it("is undefined without residual degrees of freedom", () => {
    expect(jacobianCovariance([[1, 0], [0, 1]], [0.1, 0.2])).toBeUndefined()
  })

  it("the one-step pairs bootstrap of a straight line tends to the sandwich (HC0) covariance", () => {
    const { xs, ys } = linearData(40, 0.2, "bootstrap")
    const theta = lineFit(xs, ys)
    const f = (t: ReadonlyArray<number>) => xs.map((x, i) => t[0]! + t[1]! * x - ys[i]!)
    const { jacobian, residuals } = jacobianAt(f, theta, 1e-3)
    // (XᵀX)⁻¹ Xᵀ diag(r²) X (XᵀX)⁻¹, written out for a 2-column X = [1, x].
    const [s0, s1, s2] = [xs.length, xs.reduce((a, x) => a + x, 0), xs.reduce((a, x) => a + x * x, 0)]
    const det = s0 * s2 - s1 * s1
    const inv = [[s2 / det, -s1 / det], [-s1 / det, s0 / det]]
    const meat = [[0, 0], [0, 0]]
    xs.forEach((x, i) => {
      const row = [1, x]
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) meat[a]![b]! += row[a]! * row[b]! * residuals[i]! ** 2
    })
    const mul = (a: number[][], b: number[][]) => a.map((r) => [0, 1].map((j) => r[0]! * b[0]![j]! + r[1]! * b[1]![j]!))
    const sandwich = mul(mul(inv, meat), inv)
    const samples = bootstrapShifts(jacobian, residuals, xs.map((_, i) => i), 4000, "s")
    expect(samples.length).toBe(4000)
    const b = shiftCovariance(samples)!
    for (const k of [0, 1]) {
      expect(b[k]![k]! / sandwich[k]![k]!).toBeGreaterThan(0.85)
      expect(b[k]![k]! / sandwich[k]![k]!).toBeLessThan(1.15)
    }
    expect(bootstrapShifts(jacobian, residuals, xs.map((_, i) => i), 5, "s")).toEqual(samples.slice(0, 5))
  })

  it("residual sds take the knobs' degrees of freedom out", () => {
    const rows = [0.1, -0.1, 0.1, -0.1].map((value, i) => ({ metric: i < 2 ? "ttft" : "tpot", value }))
    const s = residualSds(rows, 2)!
    expect(s.ttft).toBeCloseTo(0.1 * Math.sqrt(2), 12)
    expect(residualSds(rows, 4)).toBeUndefined()
  })
})

describe("prediction intervals", () => {
  it("uses Student t's quantile with the fit's residual degrees of freedom", () => {
    expect(tQuantile(0.95, 1)).toBeCloseTo(6.313752, 5)
    expect(tQuantile(0.95, 2)).toBeCloseTo(2.919986, 5)
    expect(tQuantile(0.95, 3)).toBeCloseTo(2.353363, 2)
    expect(tQuantile(0.95, 10)).toBeCloseTo(1.812461, 3)
    expect(tQuantile(0.95, 30)).toBeCloseTo(1.697261, 4)
    expect(tQuantile(0.95)).toBeCloseTo(1.644854, 5)
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 5)
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12)
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 5)
  })

  it("widen monotonically with the variance and hold the centre", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true }), (c, s1, s2) => {
        const [a, b] = [Math.min(s1, s2), Math.max(s1, s2)]
        const [loA, hiA] = logInterval(c, a, 0.9)
        const [loB, hiB] = logInterval(c, b, 0.9)
        expect(loB).toBeLessThanOrEqual(loA * (1 + 1e-12))
        expect(hiB).toBeGreaterThanOrEqual(hiA * (1 - 1e-12))
        expect(loA).toBeLessThanOrEqual(c * (1 + 1e-12))
        expect(hiA).toBeGreaterThanOrEqual(c * (1 - 1e-12))
      }),
    )
  })

  it("Gaussian draws have the covariance asked for", () => {
    const c = [[0.04, 0.01], [0.01, 0.09]]
    const d = gaussianDraws(c, 20000, "t")
    const e = shiftCovariance(d)!
    expect(e[0]![0]).toBeCloseTo(0.04, 2)
    expect(e[1]![1]).toBeCloseTo(0.09, 2)
    expect(e[0]![1]).toBeCloseTo(0.01, 2)
    expect(gaussianDraws(c, 3, "t")).toEqual(gaussianDraws(c, 3, "t"))
  })

  it("90% leave-one-out intervals of a known model hold ≈ 90% of held-out points", () => {
    const cases = []
    for (let d = 0; d < 40; d++) {
      const { xs, ys } = linearData(30, 0.25, `coverage-${d}`)
      const labels: ResidualLabel[] = xs.map((_, i) => ({ point: i, metric: "y" }))
      for (let k = 0; k < xs.length; k++) {
        const theta = lineFit(xs.filter((_, i) => i !== k), ys.filter((_, i) => i !== k))
        const all = (t: ReadonlyArray<number>) => xs.map((x, i) => t[0]! + t[1]! * x - ys[i]!)
        const { jacobian, residuals } = jacobianAt(all, theta, 1e-3)
        cases.push(...heldOutCases(jacobian, residuals, labels, k, `f${k}`, { replicates: 20 }))
      }
    }
    const s = summarizeCoverage(cases, 0.9)
    expect(s.cases).toBe(1200)
    // With t's quantile (27 dof) the interval is exact for this model; the sampling error of 1200 cases is ±0.9%.
    expect(s.coverage.jacobian).toBeGreaterThan(0.87)
    expect(s.coverage.jacobian).toBeLessThan(0.93)
    // The normal quantile is narrower: t with 27 dof puts 88.9% inside ±z₀.₉₅.
    expect(s.coverageNormal.jacobian).toBeLessThan(s.coverage.jacobian)
    // Without the parameter part the interval is too narrow: it must cover less.
    expect(s.coverage["residual-only"]).toBeLessThan(s.coverage.jacobian)
    expect(coverage([{ logError: 0.2, logSd: 0.1 }, { logError: 0.1, logSd: 0.1 }], 0.9)).toBe(0.5)
  })
})
