import { describe, expect, test } from "vitest"
import { analyzeSweep, seriesKey, type SweepPointInput } from "../../src/econ/analyze-sweep.ts"
import { hourlyCost, defaultOwnedInputs } from "../../src/econ/cost-model.ts"
import { seedRunFromSummary } from "../../src/econ/from-sim.ts"
import type { BenchMetrics, PointConfig } from "../../src/econ/point.ts"
import { sampleSweepInputs, sampleSweepResult } from "../../src/report/sample-sweep.ts"
import { simulate } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"
import { fixedClosedLoop, linearStepTime, spec } from "../sim/helpers.ts"

const metrics = (throughput: number, ttftMs: number, tpotMs: number): BenchMetrics => {
  const duration = 1_000_000 / throughput
  return {
    completed: 1000,
    duration,
    total_input_tokens: 500_000,
    total_output_tokens: 1_000_000,
    request_throughput: 1000 / duration,
    output_throughput: throughput,
    mean_ttft_ms: ttftMs,
    median_ttft_ms: ttftMs,
    p99_ttft_ms: 2 * ttftMs,
    mean_tpot_ms: tpotMs,
    median_tpot_ms: tpotMs,
    p99_tpot_ms: 2 * tpotMs,
    mean_itl_ms: tpotMs,
    median_itl_ms: tpotMs,
    p99_itl_ms: 2 * tpotMs,
    mean_e2el_ms: ttftMs + 999 * tpotMs,
    median_e2el_ms: ttftMs + 999 * tpotMs,
    p99_e2el_ms: 2 * (ttftMs + 999 * tpotMs),
  }
}

const config = (c: number): PointConfig => ({
  gpu: "a800-sxm",
  numGpus: 2,
  tp: 2,
  pp: 1,
  replicas: 1,
  load: { kind: "concurrency", value: c },
})

// A paper-like sweep on 2 × A800: throughput flattens at 64, TTFT breaks the SLO beyond it.
const paperLike: SweepPointInput[] = [
  [8, 600, 120, 12],
  [16, 1100, 150, 13],
  [32, 1800, 220, 16],
  [48, 2200, 300, 20],
  [64, 2450, 420, 25],
  [96, 2470, 2500, 25],
  [128, 2460, 5200, 25],
].map(([c, thr, ttft, tpot]) => ({
  config: config(c ?? 0),
  runs: [0.98, 1, 1.02].map((f, seed) => ({
    seed,
    metrics: metrics((thr ?? 0) * f, (ttft ?? 0) / f, (tpot ?? 0) / f),
    prefillTimeFraction: 0.2,
  })),
}))

describe("analyzeSweep", () => {
  test("saturation, SLA boundary, optimal point and costs of a paper-like A800 sweep", () => {
    const r = analyzeSweep(paperLike, { createdBy: "test" })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const v = r.value
    const byLoad = (c: number) => v.points.find((p) => p.config.load.value === c)
    expect(v.series).toHaveLength(1)
    expect(v.series[0]?.saturationPointId).toBe(byLoad(64)?.id)
    expect(v.series[0]?.slaBoundaryPointId).toBe(byLoad(64)?.id)
    expect(v.summary.optimalPointId).toBe(byLoad(64)?.id)
    expect(byLoad(64)?.flags).toMatchObject({ saturation: true, slaBoundary: true, optimal: true, meetsSlo: true })
    expect(byLoad(96)?.flags.meetsSlo).toBe(false)
    expect(byLoad(96)?.flags.sloViolations[0]).toMatch(/^mean TTFT/)
    // The defaults price the A800 at ≈ $0.79/h; the run cost is that × 2 GPUs × duration.
    const gpuHour = hourlyCost({ kind: "owned", ...(defaultOwnedInputs("a800-sxm") ?? fail()) }).total
    expect(v.gpuCosts[0]?.breakdown.total).toBeCloseTo(gpuHour, 12)
    const p64 = byLoad(64) ?? fail()
    expect(p64.cost.runCostUsd.mean).toBeCloseTo(
      ((gpuHour * 2) / 3600) * (p64.metrics.duration.mean),
      9,
    )
    expect(p64.cost.splitMethod).toBe("step-time")
    expect(p64.cost.usdPerMOutput.mean).toBeCloseTo(
      (0.8 * p64.cost.runCostUsd.mean * 1e6) / 1e6,
      9,
    )
    // CIs from three seeds bracket the mean.
    expect(p64.metrics.output_throughput.n).toBe(3)
    expect(p64.metrics.output_throughput.ciLow).toBeLessThan(2450)
    expect(p64.metrics.output_throughput.ciHigh).toBeGreaterThan(2450)
    expect(p64.serialTokensPerSecond).toBeCloseTo(1000 / p64.metrics.mean_tpot_ms.mean, 9)
    // Sensitivity is about the optimal point.
    expect(v.sensitivity?.pointId).toBe(p64.id)
    expect(v.sensitivity?.baseOutput).toBeCloseTo(p64.cost.usdPerMOutput.mean, 12)
  })

  test("API prices naming another model do not apply", () => {
    const inputs = paperLike.map((p) => ({ ...p, config: { ...p.config, model: "llama-3.1-8b" } }))
    const r = analyzeSweep(inputs, {
      apiPrices: [
        { provider: "a", model: "llama-3.1-8b", inputPerM: 0.03, outputPerM: 0.05 },
        { provider: "b", model: "qwen3-32b", inputPerM: 0.1, outputPerM: 0.28 },
        { provider: "c", inputPerM: 1, outputPerM: 1 },
      ],
    })
    if (!r.ok) return fail()
    expect(r.value.points[0]?.cost.api.map((a) => a.provider)).toEqual(["a", "c"])
  })

  test("a cloud price replaces the owned model; unknown GPUs need one", () => {
    const r = analyzeSweep(paperLike, { costs: { "a800-sxm": { kind: "cloud", usdPerGpuHour: 2.82 } } })
    if (!r.ok) return fail()
    expect(r.value.points[0]?.cost.gpuHourUsd).toBe(2.82)
    expect(r.value.gpuCosts[0]?.sources).toBeUndefined()
    const unknown = analyzeSweep([{ ...paperLike[0]!, config: { ...config(8), gpu: "tpu-v9" } }])
    expect(unknown).toEqual({ ok: false, error: 'no price for GPU "tpu-v9"; give a cost model for it' })
    expect(analyzeSweep([])).toEqual({ ok: false, error: "sweep has no points" })
    const zero = analyzeSweep([{ ...paperLike[0]!, config: { ...config(8), numGpus: 0 } }])
    expect(zero).toEqual({ ok: false, error: "point p01 (a800-sxm×0 tp2 concurrency): numGpus must be > 0, got 0" })
  })

  test("series are split by everything but the load", () => {
    expect(seriesKey(config(8))).toBe(seriesKey(config(128)))
    expect(seriesKey(config(8))).not.toBe(seriesKey({ ...config(8), tp: 1, numGpus: 1 }))
    const s = sampleSweepResult()
    expect(s.series).toHaveLength(3)
    for (const series of s.series) expect(series.pointIds).toHaveLength(7)
  })

  test("the result is plain JSON: no NaN, Infinity or undefined survives a round trip", () => {
    const s = sampleSweepResult()
    const text = JSON.stringify(s)
    expect(text).not.toContain("null")
    expect(JSON.parse(text)).toEqual(s)
  })

  test("quality frontier joins scores to each model's cheapest SLO-meeting point", () => {
    const s = sampleSweepResult()
    const q = s.quality ?? fail()
    expect(q.missingModels).toEqual(["toy-70b"])
    const small = q.rows.find((r) => r.model === "toy-7b") ?? fail()
    const candidates = s.points.filter((p) => p.config.model === "toy-7b" && p.flags.meetsSlo)
    expect(small.costUsd).toBe(Math.min(...candidates.map((p) => p.cost.runCostUsd.mean)))
    expect(q.rows.every((r) => r.pareto)).toBe(true) // better model costs more: both on the frontier
  })

  test("sample inputs: flags agree with the summary", () => {
    const s = sampleSweepResult()
    const flagged = (k: "optimal" | "pareto") => s.points.filter((p) => p.flags[k]).map((p) => p.id)
    expect(flagged("optimal")).toEqual(s.summary.optimalPointId === undefined ? [] : [s.summary.optimalPointId])
    expect(flagged("pareto")).toEqual(s.summary.paretoPointIds)
    expect(sampleSweepInputs(1).every((p) => p.runs.length === 1)).toBe(true)
  })
})

describe("adapter from the engine summary", () => {
  const summary = summarize(
    simulate({ ...spec({ workload: fixedClosedLoop(4, 40, 200, 20), stepTime: linearStepTime(0.01, 1e-5) }), timelineInterval: 0.5 }),
  )

  test("keeps the vllm-bench fields, the prefill fraction and the timeline", () => {
    const r = seedRunFromSummary(summary, 7)
    if (!r.ok) return fail()
    expect(r.value.seed).toBe(7)
    expect(r.value.metrics.completed).toBe(40)
    expect(r.value.metrics.output_throughput).toBe(summary.output_throughput)
    expect(r.value.metrics.total_token_throughput).toBe(summary.total_token_throughput)
    expect(r.value.metrics.p99_e2el_ms).toBe(summary.p99_e2el_ms)
    expect(r.value.prefillTimeFraction).toBe(summary.prefill_time_fraction)
    expect(r.value.timeline?.kvCacheUsage.length).toBeGreaterThan(2)
    expect(r.value.timeline).toEqual(summary.timeline)
  })

  test("a non-finite metric (an overflowing step-time model) fails the run, naming the field", () => {
    expect(seedRunFromSummary({ ...summary, mean_tpot_ms: Number.NaN }, 1)).toEqual({
      ok: false,
      error: "simulation summary (seed 1): mean_tpot_ms is NaN, not a finite number",
    })
  })
})

function fail(): never {
  throw new Error("unexpected")
}
