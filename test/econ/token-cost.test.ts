import fc from "fast-check"
import { describe, expect, test } from "vitest"
import type { BenchMetrics } from "../../src/econ/point.ts"
import {
  apiPricesFor,
  compareWithApi,
  prefillSplit,
  rooflinePrefillShare,
  tokenCost,
} from "../../src/econ/token-cost.ts"

const metrics = (over: Partial<BenchMetrics> = {}): BenchMetrics => ({
  completed: 2993,
  duration: 775,
  total_input_tokens: 2_000_000,
  total_output_tokens: 1_000_000,
  request_throughput: 2993 / 775,
  output_throughput: 1_000_000 / 775,
  mean_ttft_ms: 500,
  median_ttft_ms: 450,
  p99_ttft_ms: 1500,
  mean_tpot_ms: 30,
  median_tpot_ms: 29,
  p99_tpot_ms: 45,
  mean_itl_ms: 30,
  median_itl_ms: 28,
  p99_itl_ms: 60,
  mean_e2el_ms: 10_000,
  median_e2el_ms: 9_000,
  p99_e2el_ms: 20_000,
  ...over,
})

describe("cost of a run", () => {
  test("the paper's test-set cost: $/GPU-h × GPUs × T/3600", () => {
    const c = tokenCost(metrics(), 2, 0.79, { share: 0.25, method: "step-time" })
    expect(c.runCostUsd).toBeCloseTo((0.79 * 2 * 775) / 3600, 12)
    expect(c.runCostUsd).toBeCloseTo(0.34, 2)
    expect(c.usdPerRequest).toBeCloseTo(c.runCostUsd / 2993, 15)
    expect(c.usdPerMTotal).toBeCloseTo((c.runCostUsd * 1e6) / 3_000_000, 12)
    // 25 % of GPU time to 2M input tokens, 75 % to 1M output tokens.
    expect(c.usdPerMInput).toBeCloseTo((0.25 * c.runCostUsd * 1e6) / 2e6, 12)
    expect(c.usdPerMOutput).toBeCloseTo((0.75 * c.runCostUsd * 1e6) / 1e6, 12)
  })

  test("input and output charges add back up to the run cost", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1, max: 100_000, noNaN: true }),
        (inTok, outTok, share, duration) => {
          const m = metrics({ total_input_tokens: inTok, total_output_tokens: outTok, duration })
          const c = tokenCost(m, 4, 2.1, { share, method: "step-time" })
          const charged = (c.usdPerMInput * inTok + c.usdPerMOutput * outTok) / 1e6
          const expected = inTok + outTok > 0 ? c.runCostUsd : 0
          expect(charged).toBeCloseTo(expected, 9)
        },
      ),
    )
  })

  test("with no output tokens the whole run is charged to input", () => {
    const c = tokenCost(metrics({ total_output_tokens: 0 }), 1, 1, { share: 0.3, method: "step-time" })
    expect(c.usdPerMOutput).toBe(0)
    expect(c.usdPerMInput).toBeCloseTo((c.runCostUsd * 1e6) / 2e6, 12)
  })
})

describe("input/output split", () => {
  test("a measured step-time fraction wins, clamped to [0, 1]", () => {
    expect(prefillSplit(metrics(), 0.4)).toEqual({ share: 0.4, method: "step-time" })
    expect(prefillSplit(metrics(), 1.2).share).toBe(1)
  })

  test("without anything, tokens cost the same (FLOP view)", () => {
    expect(prefillSplit(metrics())).toEqual({ share: 2 / 3, method: "token-count" })
  })

  test("roofline: memory-bound decode makes an output token dearer than an input token", () => {
    // Llama-3.1-8B-like on one A800: 8e9 params, 16 GB weights, 312 TFLOP/s, 2.039 TB/s, batch 32.
    const r = { activeParams: 8e9, weightBytes: 16e9, peakFlops: 312e12, memoryBandwidth: 2.039e12, meanDecodeBatch: 32 }
    const share = rooflinePrefillShare(1, 1, r)
    // prefill 2N/F = 51 µs/token; decode W/B/BW = 245 µs/token.
    expect(share).toBeCloseTo(51.28 / (51.28 + 245.2), 2)
    const split = prefillSplit(metrics(), undefined, r)
    expect(split.method).toBe("roofline")
    const c = tokenCost(metrics(), 1, 0.79, split)
    expect(c.usdPerMOutput).toBeGreaterThan(c.usdPerMInput)
    // Large batches amortise the weights until compute binds: then both kinds cost the same.
    expect(rooflinePrefillShare(1, 1, { ...r, meanDecodeBatch: 1e6 })).toBeCloseTo(0.5, 6)
  })
})

describe("API comparison", () => {
  test("prices the same tokens at API rates and finds the break-even GPU-hour", () => {
    const m = metrics()
    const c = tokenCost(m, 2, 0.79, { share: 0.3, method: "step-time" })
    const cmp = compareWithApi(m, c, { provider: "x", inputPerM: 0.1, outputPerM: 0.3 })
    expect(cmp.apiRunCostUsd).toBeCloseTo(2 * 0.1 + 1 * 0.3, 12)
    expect(c.runCostUsd).toBeCloseTo(0.34, 2)
    expect(cmp.cheaper).toBe("self-hosted")
    expect(cmp.costRatio).toBeCloseTo(c.runCostUsd / 0.5, 12)
    // At the break-even rate the self-hosted run costs exactly the API bill.
    const atBreakEven = tokenCost(m, 2, cmp.breakEvenGpuHourUsd, { share: 0.3, method: "step-time" })
    expect(atBreakEven.runCostUsd).toBeCloseTo(cmp.apiRunCostUsd, 12)
  })

  test("the cited price table has sources", () => {
    const prices = apiPricesFor("llama-3.1-8b")
    expect(prices.length).toBeGreaterThan(1)
    for (const p of prices) expect(p.source?.length ?? 0).toBeGreaterThan(10)
  })
})
