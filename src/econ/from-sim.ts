// Adapter from the engine's summary (src/sim/summary.ts `summarize(result)`: vllm-bench fields plus
// prefill_time_fraction and an optional timeline) to the econ layer's SeedRun. The summary is typed;
// what is checked here is that the simulation's numbers are finite (a step-time model that overflows
// must fail the point, not enter the analysis as NaN). Pure.
import type { SimSummary } from "../sim/summary.ts"
import type { ParseResult } from "./pareto.ts"
import { CORE_METRIC_KEYS, OPTIONAL_METRIC_KEYS, type BenchMetrics, type SeedRun } from "./point.ts"

export const seedRunFromSummary = (summary: SimSummary, seed: number | string): ParseResult<SeedRun> => {
  for (const key of CORE_METRIC_KEYS)
    if (!Number.isFinite(summary[key])) return { ok: false, error: `simulation summary (seed ${seed}): ${key} is ${summary[key]}, not a finite number` }
  const metrics: { -readonly [K in keyof BenchMetrics]: BenchMetrics[K] } = {
    completed: summary.completed,
    duration: summary.duration,
    total_input_tokens: summary.total_input_tokens,
    total_output_tokens: summary.total_output_tokens,
    request_throughput: summary.request_throughput,
    output_throughput: summary.output_throughput,
    mean_ttft_ms: summary.mean_ttft_ms,
    median_ttft_ms: summary.median_ttft_ms,
    p99_ttft_ms: summary.p99_ttft_ms,
    mean_tpot_ms: summary.mean_tpot_ms,
    median_tpot_ms: summary.median_tpot_ms,
    p99_tpot_ms: summary.p99_tpot_ms,
    mean_itl_ms: summary.mean_itl_ms,
    median_itl_ms: summary.median_itl_ms,
    p99_itl_ms: summary.p99_itl_ms,
    mean_e2el_ms: summary.mean_e2el_ms,
    median_e2el_ms: summary.median_e2el_ms,
    p99_e2el_ms: summary.p99_e2el_ms,
  }
  for (const key of OPTIONAL_METRIC_KEYS) {
    const v = summary[key]
    if (v !== undefined && Number.isFinite(v)) metrics[key] = v
  }
  const fraction = summary.prefill_time_fraction
  return {
    ok: true,
    value: {
      seed,
      metrics,
      ...(Number.isFinite(fraction) ? { prefillTimeFraction: fraction } : {}),
      ...(summary.timeline === undefined ? {} : { timeline: summary.timeline }),
    },
  }
}
