// The econ layer's view of "a simulated point": the configuration that was simulated and the metrics
// of one run, named as `vllm bench serve` names them. The engine's result is a superset of BenchMetrics,
// so integrating it is a plain assignment. Pure types.
import type { BenchSummary } from "../sim/bench-summary.ts"

/** Metrics of one run, with `vllm bench serve` field names (src/sim/bench-summary.ts): the ones the
 *  econ layer uses. Times in ms unless named otherwise. */
export type BenchMetrics = Pick<BenchSummary, CoreMetricKey> & Partial<Pick<BenchSummary, OptionalMetricKey>>

export const CORE_METRIC_KEYS = [
  "completed",
  "duration",
  "total_input_tokens",
  "total_output_tokens",
  "request_throughput",
  "output_throughput",
  "mean_ttft_ms",
  "median_ttft_ms",
  "p99_ttft_ms",
  "mean_tpot_ms",
  "median_tpot_ms",
  "p99_tpot_ms",
  "mean_itl_ms",
  "median_itl_ms",
  "p99_itl_ms",
  "mean_e2el_ms",
  "median_e2el_ms",
  "p99_e2el_ms",
] as const

export const OPTIONAL_METRIC_KEYS = ["total_token_throughput", "request_goodput"] as const

export type CoreMetricKey = (typeof CORE_METRIC_KEYS)[number]
export type OptionalMetricKey = (typeof OPTIONAL_METRIC_KEYS)[number]

/** How load is applied: closed loop with a concurrency cap (`--max-concurrency`) or open loop at a rate (req/s). */
export interface LoadSpec {
  readonly kind: "concurrency" | "rate"
  readonly value: number
  /** An open loop capped at this many requests in flight (vllm bench --request-rate with --max-concurrency). */
  readonly maxConcurrency?: number
}

/** A load as tables print it: "c=16", "4 req/s", "4 req/s c≤16" (short: "4/s c≤16"). */
export const formatLoad = (l: LoadSpec, short = false): string =>
  l.kind === "concurrency" ? `c=${l.value}` : `${l.value}${short ? "/s" : " req/s"}${l.maxConcurrency === undefined ? "" : ` c≤${l.maxConcurrency}`}`

/** What was simulated. `numGpus` = tp·pp·replicas unless the engine says otherwise. */
export interface PointConfig {
  /** GPU id as in src/hw/gpus.ts. */
  readonly gpu: string
  readonly numGpus: number
  readonly tp: number
  readonly pp: number
  readonly replicas: number
  readonly load: LoadSpec
  /** Hugging Face model id, when known; joins the point to quality scores. */
  readonly model?: string
  readonly maxNumSeqs?: number
  readonly maxNumBatchedTokens?: number
  /** Free-form knobs (quantization, speculative decoding, …) shown in the report. */
  readonly extra?: Readonly<Record<string, string | number | boolean>>
}

/** KV-cache usage over time, columnar (same-length arrays), as the engine samples it (src/sim/simulate.ts Timeline). */
export interface KvTimeline {
  /** Seconds from the start of the run. */
  readonly time: ReadonlyArray<number>
  /** 0..1 */
  readonly kvCacheUsage: ReadonlyArray<number>
  readonly numRunning?: ReadonlyArray<number>
  readonly numWaiting?: ReadonlyArray<number>
}

/** One simulated run (one seed) of a point. */
export interface SeedRun {
  readonly seed: number | string
  readonly metrics: BenchMetrics
  /**
   * Fraction of busy step time attributable to prefill tokens, when the engine measures it
   * (Σ over steps of stepTime × prefillShareOfStep / Σ stepTime). Drives the input/output cost split.
   */
  readonly prefillTimeFraction?: number
  readonly timeline?: KvTimeline
}
