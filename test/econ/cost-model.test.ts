import { describe, expect, test } from "vitest"
import {
  defaultOwnedInputs,
  defaultSources,
  gpuTimeCost,
  hourlyCost,
  validateCostInputs,
  type OwnedCostInputs,
} from "../../src/econ/cost-model.ts"
import { GPU_PRICE_IDS, GPU_PRICES, lookupGpuPrice } from "../../src/econ/gpu-prices.ts"
import { builtinGpuIds, lookupGpu } from "../../src/hw/gpus.ts"

const owned = (i: OwnedCostInputs) => ({ kind: "owned" as const, ...i })

describe("owner-operated GPU-hour (arXiv 2510.26136 App. A)", () => {
  test("A800 80G at full utilisation comes to the paper's ≈ $0.79/h", () => {
    const inputs = defaultOwnedInputs("a800-sxm")
    expect(inputs).toBeDefined()
    if (inputs === undefined) return
    expect(inputs.utilization).toBe(1)
    const b = hourlyCost(owned(inputs))
    expect(b.total).toBeGreaterThan(0.785)
    expect(b.total).toBeLessThan(0.795)
    // Each term is its formula.
    expect(b.depreciation).toBeCloseTo(12000 / (3 * 8760 * 1), 12)
    expect(b.power).toBeCloseTo(0.4 * 1.58 * 0.088, 12)
    expect(b.maintenance).toBeCloseTo((12000 * 0.2) / 8760, 12)
    expect(b.depreciation + b.power + b.maintenance).toBeCloseTo(b.total, 12)
    expect(b.cloud).toBe(0)
  })

  test("the paper's two-A800 rig ($1.58/h) and its test-set cost formula 1.58·T/3600", () => {
    const a800 = hourlyCost(owned(defaultOwnedInputs("a800-sxm") ?? fail()))
    expect(2 * a800.total).toBeGreaterThan(1.57)
    expect(2 * a800.total).toBeLessThan(1.59)
    // WiNGPT-3.5's $0.34 on 2,993 requests implies T ≈ 775 s (economics.md §1.3).
    expect(gpuTimeCost(0.79, 2, 775)).toBeCloseTo(0.34, 2)
  })

  test("depreciation scales with 1/u and 1/Y; power and maintenance do not depend on u", () => {
    const base = defaultOwnedInputs("h100-sxm") ?? fail()
    const full = hourlyCost(owned(base))
    const half = hourlyCost(owned({ ...base, utilization: 0.5 }))
    expect(half.depreciation).toBeCloseTo(2 * full.depreciation, 12)
    expect(half.power).toBe(full.power)
    expect(half.maintenance).toBe(full.maintenance)
    const longer = hourlyCost(owned({ ...base, years: 6 }))
    expect(longer.depreciation).toBeCloseTo(full.depreciation / 2, 12)
  })

  test("a cloud rate is the whole cost", () => {
    expect(hourlyCost({ kind: "cloud", usdPerGpuHour: 2.5 })).toEqual({
      kind: "cloud",
      depreciation: 0,
      power: 0,
      maintenance: 0,
      cloud: 2.5,
      total: 2.5,
    })
  })

  test("invalid inputs are named in one line", () => {
    const base = defaultOwnedInputs("a100-sxm") ?? fail()
    expect(validateCostInputs(owned(base))).toBeUndefined()
    expect(validateCostInputs(owned({ ...base, utilization: 1.5 }))).toBe("utilization must be in (0, 1], got 1.5")
    expect(validateCostInputs(owned({ ...base, pue: 0.9 }))).toBe("PUE must be ≥ 1, got 0.9")
    expect(validateCostInputs(owned({ ...base, years: 0 }))).toBe("years must be > 0, got 0")
    expect(validateCostInputs({ kind: "cloud", usdPerGpuHour: Number.NaN })).toMatch(/^cloud price/)
  })
})

describe("price table", () => {
  test("covers the GPU ids of src/hw/gpus.ts, each with cited figures", () => {
    expect([...GPU_PRICE_IDS].sort()).toEqual(
      [
        "a800-sxm",
        "a800-pcie",
        "a100-sxm",
        "a100-pcie",
        "h800-pcie",
        "h100-sxm",
        "h100-pcie",
        "h800-sxm",
        "h200-sxm",
        "l40s",
        "b200-sxm",
        "rtx-4090",
        "rtx-pro-6000",
      ].sort(),
    )
    for (const id of GPU_PRICE_IDS) {
      const f = GPU_PRICES[id] ?? fail()
      expect(f.id).toBe(id)
      expect(f.purchasePrice.value).toBeGreaterThan(0)
      expect(f.purchasePrice.source.length).toBeGreaterThan(10)
      expect(f.boardPowerWatts.value).toBeGreaterThan(0)
      expect(f.boardPowerWatts.source.length).toBeGreaterThan(10)
      const sources = defaultSources(id) ?? fail()
      for (const s of Object.values(sources)) expect(s.length).toBeGreaterThan(10)
    }
    expect(defaultOwnedInputs("no-such-gpu")).toBeUndefined()
  })

  test("every built-in GPU has a price, board power equals its profile's TDP, aliases resolve", () => {
    expect([...GPU_PRICE_IDS].sort()).toEqual(builtinGpuIds().sort())
    for (const id of GPU_PRICE_IDS) {
      expect(GPU_PRICES[id]?.boardPowerWatts.value, id).toBe(lookupGpu(id)?.tdpWatts)
    }
    expect(lookupGpuPrice("A800")?.id).toBe("a800-sxm")
    expect(defaultOwnedInputs("rtx4090")?.purchasePrice).toBe(1599)
  })
})

function fail(): never {
  throw new Error("unexpected undefined")
}
