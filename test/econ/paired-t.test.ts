// Student t (CDF, quantiles, incomplete beta) against table values and closed forms; the paired t-test
// on analytic cases; compare's verdict lines.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { compareVariants, verdictOf, COMPARE_METRICS } from "../../src/econ/compare.ts"
import { pairedTTest, type PairedTest } from "../../src/econ/paired.ts"
import type { BenchMetrics } from "../../src/econ/point.ts"
import { tCritical95 } from "../../src/econ/stats.ts"
import { lnGamma, regularizedBeta, studentTCdf, studentTQuantile, studentTTwoSidedP } from "../../src/econ/student-t.ts"

describe("Student t", () => {
  test("quantiles match the printed table (NIST/SEMATECH e-Handbook 1.3.6.7.2)", () => {
    const table: ReadonlyArray<readonly [number, number, number]> = [
      // [p, df, t]
      [0.975, 9, 2.262],
      [0.975, 1, 12.706],
      [0.975, 4, 2.776],
      [0.975, 30, 2.042],
      [0.995, 4, 4.604],
      [0.995, 9, 3.25],
      [0.95, 9, 1.833],
      [0.9, 9, 1.383],
      [0.9995, 1, 636.619],
    ]
    for (const [p, df, t] of table) {
      expect(studentTQuantile(p, df), `t(${p}, ${df})`).toBeCloseTo(t, 3)
      expect(studentTQuantile(1 - p, df), `t(${1 - p}, ${df})`).toBeCloseTo(-t, 3)
    }
    // Approaches the normal quantile.
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5)
    // Agrees with the 3-decimal table of stats.ts for df 1…30.
    for (let df = 1; df <= 30; df++) expect(Math.abs(studentTQuantile(0.975, df) - tCritical95(df)), `df ${df}`).toBeLessThan(6e-4)
  })

  test("CDF: closed forms for df = 1 (Cauchy), 2 and 3", () => {
    for (const t of [-7, -1.5, -0.2, 0, 0.3, 1, 2.5, 40]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12)
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12)
      const u = t / Math.sqrt(3)
      expect(studentTCdf(t, 3)).toBeCloseTo(0.5 + (u / (1 + u * u) + Math.atan(u)) / Math.PI, 12)
    }
    expect(studentTTwoSidedP(2.262157162, 9)).toBeCloseTo(0.05, 8)
    expect(studentTTwoSidedP(0, 5)).toBe(1)
    expect(studentTTwoSidedP(Infinity, 5)).toBe(0)
  })

  test("incomplete beta: binomial sums for integer a, b; ln Γ at integers and 1/2", () => {
    // I_x(a, n − a + 1) = P(Binomial(n, x) ≥ a).
    const binomTail = (n: number, a: number, x: number) => {
      let s = 0
      for (let j = a; j <= n; j++) {
        let c = 1
        for (let i = 0; i < j; i++) c = (c * (n - i)) / (i + 1)
        s += c * x ** j * (1 - x) ** (n - j)
      }
      return s
    }
    for (const [a, b, x] of [[2, 3, 0.3], [1, 1, 0.42], [5, 2, 0.9], [10, 10, 0.5], [3, 8, 0.05]] as const)
      expect(regularizedBeta(x, a, b), `I_${x}(${a}, ${b})`).toBeCloseTo(binomTail(a + b - 1, a, x), 12)
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 12)
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12)
    expect(regularizedBeta(-0.1, 1, 1)).toBeNaN()
  })

  test("quantile inverts the CDF (any p, df)", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.integer({ min: 1, max: 200 }), (p, df) => {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 9)
      }),
      { numRuns: 200 },
    )
  })
})

describe("paired t-test", () => {
  const ok = (t: PairedTest | string): PairedTest => {
    if (typeof t === "string") throw new Error(t)
    return t
  }

  test("analytic case: differences 1, 2, 3, 4", () => {
    const t = ok(pairedTTest([10, 20, 30, 40], [11, 22, 33, 44]))
    const sd = Math.sqrt(5 / 3)
    const se = sd / 2
    expect(t.n).toBe(4)
    expect(t.df).toBe(3)
    expect(t.meanDiff).toBeCloseTo(2.5, 12)
    expect(t.sdDiff).toBeCloseTo(sd, 12)
    expect(t.t).toBeCloseTo(2.5 / se, 12)
    // t(0.975, 3) = 3.182446305…
    expect(t.ciLow).toBeCloseTo(2.5 - 3.182446305 * se, 8)
    expect(t.ciHigh).toBeCloseTo(2.5 + 3.182446305 * se, 8)
    // Two-sided p from the df = 3 closed form.
    const u = t.t / Math.sqrt(3)
    expect(t.p).toBeCloseTo(2 * (1 - (0.5 + (u / (1 + u * u) + Math.atan(u)) / Math.PI)), 12)
    expect(t.p).toBeGreaterThan(0.02)
    expect(t.p).toBeLessThan(0.05)
  })

  test("noise shared by both variants on a seed cancels: adding any per-seed offset changes nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: -1e3, max: 1e3, noNaN: true })), { minLength: 2, maxLength: 12 }),
        (rows) => {
          const a = rows.map(([x]) => x)
          const b = rows.map(([x, d]) => x + d)
          const a2 = rows.map(([x, , o]) => x + o)
          const b2 = rows.map(([x, d, o]) => x + d + o)
          const t1 = ok(pairedTTest(a, b))
          const t2 = ok(pairedTTest(a2, b2))
          expect(t2.meanDiff).toBeCloseTo(t1.meanDiff, 6)
          expect(t2.ciLow).toBeLessThanOrEqual(t2.meanDiff + 1e-9)
          expect(t2.ciHigh).toBeGreaterThanOrEqual(t2.meanDiff - 1e-9)
        },
      ),
      { numRuns: 100 },
    )
  })

  test("no spread: identical samples give exactly 0, p = 1; a constant shift gives p = 0", () => {
    expect(ok(pairedTTest([3, 4, 5], [3, 4, 5]))).toMatchObject({ meanDiff: 0, sdDiff: 0, t: 0, p: 1, ciLow: 0, ciHigh: 0 })
    expect(ok(pairedTTest([3, 4, 5], [4, 5, 6]))).toMatchObject({ meanDiff: 1, p: 0, t: Infinity, ciLow: 1, ciHigh: 1 })
  })

  test("refuses fewer than 2 pairs, unequal lengths, non-finite values", () => {
    expect(pairedTTest([1], [2])).toMatch(/at least 2 pairs, got 1/)
    expect(pairedTTest([1, 2], [2])).toMatch(/differ in length/)
    expect(pairedTTest([1, Number.NaN], [2, 3])).toMatch(/finite/)
  })
})

describe("compare verdicts", () => {
  const p99Ttft = COMPARE_METRICS.find((m) => m.key === "p99_ttft_ms")!
  const throughput = COMPARE_METRICS.find((m) => m.key === "output_throughput")!
  const test_ = (meanDiff: number, ciLow: number, ciHigh: number, p: number, sdDiff = 1): PairedTest => ({ n: 10, meanDiff, sdDiff, df: 9, t: 0, p, level: 0.95, ciLow, ciHigh })

  test("lower/raise with the interval of the magnitude, p formatted; not significant; identical", () => {
    expect(verdictOf("spf", p99Ttft, test_(-31, -38, -24, 1e-5))).toBe("spf lowers p99 TTFT by 31 ms [24, 38], p < 0.001")
    expect(verdictOf("spf", throughput, test_(12.5, 3.2, 21.8, 0.012))).toBe("spf raises output throughput by 12.5 tok/s [3.2, 21.8], p = 0.012")
    expect(verdictOf("spf", p99Ttft, test_(2, -1, 5, 0.41))).toBe("no significant difference in p99 TTFT (p = 0.41)")
    expect(verdictOf("spf", p99Ttft, test_(0, 0, 0, 1, 0))).toBe("no difference in p99 TTFT (identical on every seed)")
  })

  test("compareVariants: baseline first, goodput only where every run has it", () => {
    const run = (ttft: number, goodput?: number): BenchMetrics =>
      ({
        completed: 10, duration: 1, total_input_tokens: 100, total_output_tokens: 100, request_throughput: 10, output_throughput: 100,
        mean_ttft_ms: ttft, median_ttft_ms: ttft, p99_ttft_ms: ttft, mean_tpot_ms: 5, median_tpot_ms: 5, p99_tpot_ms: 5,
        mean_itl_ms: 5, median_itl_ms: 5, p99_itl_ms: 5, mean_e2el_ms: ttft + 50, median_e2el_ms: ttft + 50, p99_e2el_ms: ttft + 50,
        ...(goodput === undefined ? {} : { request_goodput: goodput }),
      }) satisfies BenchMetrics
    const r = compareVariants([
      { label: "a", runs: [run(100, 9), run(120, 8), run(110, 9)] },
      { label: "b", runs: [run(90, 9), run(111, 9), run(99, 9)] },
    ])
    if (!r.ok) throw new Error(r.error)
    const [c] = r.value
    expect(c?.baseline).toBe("a")
    const ttft = c?.metrics.find((m) => m.metric === "mean_ttft_ms")
    expect(ttft?.differences).toEqual([-10, -9, -11])
    expect(ttft?.verdict).toMatch(/^b lowers mean TTFT by 10 ms \[/)
    expect(c?.metrics.some((m) => m.metric === "request_goodput")).toBe(true)
    const noGoodput = compareVariants([{ label: "a", runs: [run(1), run(2)] }, { label: "b", runs: [run(1, 3), run(2, 3)] }])
    expect(noGoodput.ok && noGoodput.value[0]?.metrics.some((m) => m.metric === "request_goodput")).toBe(false)
    const one = compareVariants([{ label: "a", runs: [run(1)] }, { label: "b", runs: [run(2)] }])
    expect(one.ok ? "" : one.error).toMatch(/mean TTFT: a paired t-test needs at least 2 pairs, got 1/)
  })
})
