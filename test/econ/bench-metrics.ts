// A BenchMetrics record from a mean TTFT and TPOT (p99 = 2 × mean), for search and ranking tests.
import type { BenchMetrics } from "../../src/econ/point.ts"

export const benchMetrics = (ttft: number, tpot: number): BenchMetrics => ({
  completed: 100,
  duration: 100,
  total_input_tokens: 10_000,
  total_output_tokens: 10_000,
  request_throughput: 1,
  output_throughput: 100,
  mean_ttft_ms: ttft,
  median_ttft_ms: ttft,
  p99_ttft_ms: 2 * ttft,
  mean_tpot_ms: tpot,
  median_tpot_ms: tpot,
  p99_tpot_ms: 2 * tpot,
  mean_itl_ms: tpot,
  median_itl_ms: tpot,
  p99_itl_ms: 2 * tpot,
  mean_e2el_ms: ttft + 99 * tpot,
  median_e2el_ms: ttft + 99 * tpot,
  p99_e2el_ms: 2 * (ttft + 99 * tpot),
})
