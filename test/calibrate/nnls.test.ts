import { describe, expect, it } from "vitest"
import { fitMaxRoofline, fitRooflineSoftness, leastSquares, medianAbsPercentError, nnls, nnlsL1, nnlsRelative, predictMax, predictSmooth } from "../../src/calibrate/nnls.ts"
import { gemmRoofline } from "../../src/hw/physics-step-time.ts"

describe("leastSquares", () => {
  it("solves an overdetermined consistent system exactly", () => {
    const a = [
      [1, 0],
      [0, 1],
      [1, 1],
    ]
    const x = leastSquares(a, [2, 3, 5])
    expect(x[0]).toBeCloseTo(2, 12)
    expect(x[1]).toBeCloseTo(3, 12)
  })
  it("handles columns of very different scale (seconds vs counts)", () => {
    const a = [
      [1e-6, 1],
      [2e-6, 1],
      [3e-6, 1],
    ]
    const x = leastSquares(a, [1.5e-6 + 4, 3e-6 + 4, 4.5e-6 + 4])
    expect(x[0]).toBeCloseTo(1.5, 6)
    expect(x[1]).toBeCloseTo(4, 9)
  })
})

describe("nnls (Lawson–Hanson)", () => {
  it("recovers a known non-negative solution", () => {
    const a = [
      [1, 2, 0],
      [0, 1, 1],
      [3, 0, 1],
      [1, 1, 1],
      [2, 0, 5],
    ]
    const truth = [0.5, 2, 1.25]
    const b = a.map((r) => r.reduce((s, v, j) => s + v * (truth[j] as number), 0))
    const { x, residualNorm } = nnls(a, b)
    x.forEach((v, j) => expect(v).toBeCloseTo(truth[j] as number, 10))
    expect(residualNorm).toBeLessThan(1e-10)
  })
  it("clamps a coefficient that unconstrained least squares would make negative", () => {
    // Textbook case: unconstrained solution (2, −1); constrained optimum puts x2 = 0.
    const a = [
      [1, 1],
      [1, 2],
      [1, 3],
    ]
    const b = [1, 0, -1]
    const free = leastSquares(a, b)
    expect(free[1]).toBeLessThan(0)
    const { x } = nnls(a, b)
    expect(x[1]).toBe(0)
    // With x2 fixed at 0 the best x1 is the mean of b clipped at 0: mean = 0.
    expect(x[0]).toBeCloseTo(0, 12)
  })
  it("matches the KKT conditions on a random problem", () => {
    // Deterministic pseudo-random matrix (LCG) so the test is reproducible.
    let s = 12345
    const rnd = (): number => {
      s = (s * 1103515245 + 12345) % 2147483648
      return s / 2147483648 - 0.5
    }
    const a = Array.from({ length: 30 }, () => Array.from({ length: 6 }, rnd))
    const b = Array.from({ length: 30 }, rnd)
    const { x } = nnls(a, b)
    const r = b.map((bi, i) => bi - (a[i] as number[]).reduce((acc, v, j) => acc + v * (x[j] as number), 0))
    for (let j = 0; j < 6; j++) {
      const w = a.reduce((acc, row, i) => acc + (row[j] as number) * (r[i] as number), 0)
      expect(x[j]).toBeGreaterThanOrEqual(0)
      // Stationarity: w_j = 0 where x_j > 0, w_j ≤ 0 where x_j = 0.
      if ((x[j] as number) > 0) expect(Math.abs(w)).toBeLessThan(1e-9)
      else expect(w).toBeLessThanOrEqual(1e-9)
    }
  })
})

describe("relative and max-roofline fits", () => {
  it("nnlsRelative recovers multipliers of microsecond-scale terms", () => {
    const flops = [1e-6, 5e-6, 2e-5, 1e-4]
    const y = flops.map((f) => 1.3 * f + 4e-6)
    const x = nnlsRelative(
      flops.map((f) => [f, 1]),
      y,
    )
    expect(x[0]).toBeCloseTo(1.3, 8)
    expect(x[1]).toBeCloseTo(4e-6, 12)
  })
  it("fitMaxRoofline recovers max(a·C, b·M) + c", () => {
    const pts: Array<[number, number]> = []
    for (let i = 0; i < 40; i++) pts.push([1e-6 * 1.25 ** i, 2e-5])
    const a = 1.2
    const b = 1.1
    const c = 3e-6
    const input = {
      compute: pts.map(([cc]) => [cc]),
      memory: pts.map(([, m]) => [m]),
      fixed: pts.map(() => [1]),
      y: pts.map(([cc, m]) => Math.max(a * cc, b * m) + c),
    }
    const fit = fitMaxRoofline(input)
    expect(fit.compute[0]).toBeCloseTo(a, 8)
    expect(fit.memory[0]).toBeCloseTo(b, 8)
    expect(fit.fixed[0]).toBeCloseTo(c, 12)
    expect(predictMax(fit, [1e-3], [2e-5], [1])).toBeCloseTo(a * 1e-3 + c, 12)
  })
  it("medianAbsPercentError", () => {
    expect(medianAbsPercentError([1.1, 0.8, 1], [1, 1, 1])).toBeCloseTo(10, 10)
    expect(medianAbsPercentError([1.1, 0.8], [1, 1])).toBeCloseTo(15, 10)
  })
})

describe("nnlsL1", () => {
  it("ignores a gross outlier that pulls the L2 fit", () => {
    const xs = Array.from({ length: 21 }, (_, i) => i)
    const a = xs.map((x) => [1, x])
    const b = xs.map((x) => 2 + 0.5 * x)
    b[20] = 100 // one row from another experiment
    const l2 = nnls(a, b).x
    const l1 = nnlsL1(a, b)
    expect(Math.abs((l2[1] as number) - 0.5)).toBeGreaterThan(0.5)
    expect(l1[0]).toBeCloseTo(2, 3)
    expect(l1[1]).toBeCloseTo(0.5, 4)
  })
})

describe("fitRooflineSoftness", () => {
  // GEMM-like rows: compute ∝ m, weights fixed per shape, m from 1 to 8192 around a ridge near 150.
  const compute: number[][] = []
  const memory: number[][] = []
  const fixed: number[][] = []
  for (const w of [1e-5, 4e-5, 2e-4])
    for (const m of [1, 4, 16, 48, 80, 128, 160, 256, 512, 1024, 4096, 8192]) {
      compute.push([(w * m) / 150])
      memory.push([w])
      fixed.push([1])
    }
  const truth = { compute: [1.3], memory: [1.4], fixed: [6e-6], rmsRelativeError: 0 }
  const timed = (s: number) => compute.map((_, i) => gemmRoofline(1.3 * compute[i]![0]!, 1.4 * memory[i]![0]!, s) + 6e-6)

  it("recovers the softness the rows were made with, given their coefficients", () => {
    for (const s of [0.2, 0.44, 0.7]) expect(fitRooflineSoftness({ compute, memory, fixed, y: timed(s) }, truth)).toBeCloseTo(s, 5)
  })

  it("finds no knee in rows made by the max rule, and the max fit recovers their coefficients exactly", () => {
    const input = { compute, memory, fixed, y: timed(0) }
    const fit = fitMaxRoofline(input)
    expect(fit.compute[0]).toBeCloseTo(1.3, 6)
    expect(fit.memory[0]).toBeCloseTo(1.4, 6)
    expect(fitRooflineSoftness(input, fit)).toBeLessThan(1e-5)
    expect(predictSmooth(fit, compute[0]!, memory[0]!, fixed[0]!, 0)).toBeCloseTo(predictMax(fit, compute[0]!, memory[0]!, fixed[0]!), 15)
  })
})
