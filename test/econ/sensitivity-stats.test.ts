import { describe, expect, test } from "vitest"
import { defaultOwnedInputs, hourlyCost } from "../../src/econ/cost-model.ts"
import { costTornado } from "../../src/econ/sensitivity.ts"
import { summarize, tCritical95 } from "../../src/econ/stats.ts"

describe("sensitivity tornado", () => {
  const a800 = { kind: "owned" as const, ...(defaultOwnedInputs("a800-sxm") ?? { purchasePrice: 0, years: 1, utilization: 1, powerKw: 0, pue: 1, electricityPrice: 0, maintenanceRate: 0 }) }
  const base = 0.2 // $/1M output tokens at the defaults

  test("each parameter ±20 %, $/token ∝ C_h, rows sorted by swing", () => {
    const t = costTornado(a800, base)
    expect(t.delta).toBe(0.2)
    expect(t.rows.map((r) => r.parameter)).toEqual([
      "purchasePrice", // moves depreciation and maintenance
      "years",
      "utilization",
      "maintenanceRate",
      "electricityPrice",
      "powerKw",
      "pue",
    ].filter((p) => t.rows.some((r) => r.parameter === p)))
    for (let i = 1; i < t.rows.length; i++) expect(t.rows[i - 1]?.swing ?? 0).toBeGreaterThanOrEqual(t.rows[i]?.swing ?? 0)
    const c0 = hourlyCost(a800).total
    const p = t.rows.find((r) => r.parameter === "purchasePrice")
    expect(p?.outputAtHigh).toBeCloseTo((base * hourlyCost({ ...a800, purchasePrice: 14400 }).total) / c0, 12)
    // Power, PUE and electricity enter as one product: equal swings.
    const swing = (k: string) => t.rows.find((r) => r.parameter === k)?.swing ?? -1
    expect(swing("pue")).toBeCloseTo(swing("powerKw"), 12)
    expect(swing("electricityPrice")).toBeCloseTo(swing("powerKw"), 12)
  })

  test("utilisation cannot exceed 1: the upper bound is capped and noted", () => {
    const u = costTornado(a800, base).rows.find((r) => r.parameter === "utilization")
    expect(u?.highValue).toBe(1)
    expect(u?.outputAtHigh).toBeCloseTo(base, 12)
    expect(u?.note).toBe("capped at 1")
    expect(u?.outputAtLow).toBeGreaterThan(base)
  })

  test("cloud rate: one row; optional throughput row", () => {
    const t = costTornado({ kind: "cloud", usdPerGpuHour: 2 }, 1, "USD per 1M output tokens", { includeThroughput: true })
    expect(t.rows.map((r) => r.parameter)).toEqual(["throughput", "usdPerGpuHour"])
    const thr = t.rows[0]
    expect(thr?.outputAtLow).toBeCloseTo(1 / 0.8, 12)
    expect(thr?.outputAtHigh).toBeCloseTo(1 / 1.2, 12)
    expect(t.rows[1]?.outputAtLow).toBeCloseTo(0.8, 12)
  })
})

describe("mean and 95% CI over seeds", () => {
  test("Student t with n − 1 degrees of freedom", () => {
    const s = summarize([1, 2, 3])
    expect(s.mean).toBe(2)
    expect(s.stdev).toBe(1)
    expect(s.ciLow).toBeCloseTo(2 - 4.303 / Math.sqrt(3), 12)
    expect(s.ciHigh).toBeCloseTo(2 + 4.303 / Math.sqrt(3), 12)
    expect(s.n).toBe(3)
  })

  test("t table", () => {
    expect(tCritical95(1)).toBe(12.706)
    expect(tCritical95(4)).toBe(2.776)
    expect(tCritical95(30)).toBe(2.042)
    expect(tCritical95(45)).toBe(2.021) // between rows: the smaller df (wider interval)
    expect(tCritical95(5000)).toBe(1.962)
    expect(Number.isNaN(tCritical95(0))).toBe(true)
  })

  test("one seed: the interval collapses to the mean", () => {
    expect(summarize([5])).toEqual({ mean: 5, stdev: 0, ciLow: 5, ciHigh: 5, n: 1 })
  })

  test("constant samples have zero width", () => {
    const s = summarize([4, 4, 4, 4])
    expect(s.ciHigh - s.ciLow).toBe(0)
  })
})
