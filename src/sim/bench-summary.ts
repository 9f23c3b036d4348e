// The one result type of servesim: a run's metrics with `vllm bench serve --save-result` field names
// and definitions (vllm/benchmarks/serve.py calculate_metrics). The simulator's summary (src/sim/
// summary.ts) and the probe's per-point summary (src/probe/summary.ts) are both BenchSummary; calibrate,
// econ and report read its fields by these names. Times in ms unless named otherwise.

export const LATENCY_METRICS = ["ttft", "tpot", "itl", "e2el"] as const
export type LatencyMetric = (typeof LATENCY_METRICS)[number]
/** The percentiles vllm bench reports by default besides mean, median and std. */
export const PERCENTILES = [50, 90, 95, 99] as const
export type StatPrefix = "mean" | "median" | "std" | "p50" | "p90" | "p95" | "p99"
export type StatKey = `${StatPrefix}_${LatencyMetric}_ms`

/** The latency statistics a measurement can carry (tables, bench files, probe runs); p50 is the median. */
export const MEASURED_STATS = ["mean", "p50", "p90", "p95", "p99"] as const
export type MeasuredStat = (typeof MEASURED_STATS)[number]
export type MeasuredStatKey = `${MeasuredStat}_${LatencyMetric}_ms`
export const measuredKey = (stat: MeasuredStat, metric: LatencyMetric): MeasuredStatKey => `${stat}_${metric}_ms`

/**
 * `V` is what a latency statistic holds: a number for a simulation; `number | null` for a
 * measurement, where null means not measurable (no request had two output tokens for TPOT, say).
 */
export type LatencyFields<V = number> = { readonly [K in StatKey]: V }

// A type alias (not an interface), so a summary is also a plain Record<string, unknown> for generic code.
export type BenchSummary<V = number> = LatencyFields<V> & {
  /** Completed requests (failed ones excluded from every statistic, as vllm bench does). */
  readonly completed: number
  readonly failed: number
  /** First send to last completion, seconds. */
  readonly duration: number
  readonly total_input_tokens: number
  readonly total_output_tokens: number
  /** Completed requests per second. */
  readonly request_throughput: number
  /** Output tokens per second. */
  readonly output_throughput: number
  /** Input + output tokens per second. */
  readonly total_token_throughput: number
  /** Requests per second that met every goodput SLO, when SLOs were given. */
  readonly request_goodput?: number
}
