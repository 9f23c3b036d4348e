// Per-point summary of probe records with `vllm bench serve --save-result` field names and definitions
// (vllm/benchmarks/serve.py calculate_metrics): TTFT per request; TPOT = (E2EL − TTFT)/(output − 1) for
// output > 1; ITL = every gap between successive content chunks after the first token, pooled over
// requests; E2EL = last content chunk; std is the population std (numpy's default); percentiles use
// numpy's default linear interpolation. Failed requests are excluded, as vllm bench does, and the
// error-adjusted companions count each failure as an infinite latency. Pure.
import type { ErrorClass, RequestRecord } from "./types.ts"
import { ERROR_CLASSES } from "./types.ts"
import { LATENCY_METRICS, PERCENTILES, type BenchSummary, type LatencyMetric, type StatKey } from "../sim/bench-summary.ts"
import { maxOf, minOf, quantileSortedLinear } from "../sim/stats.ts"

type AdjustedPrefix = "median" | "p50" | "p90" | "p95" | "p99"
export type AdjustedKey = `${AdjustedPrefix}_${"ttft" | "tpot" | "e2el"}_ms`

export interface BasicStats {
  readonly mean: number
  readonly median: number
  readonly std: number
  readonly percentiles: ReadonlyMap<number, number>
}

/** Mean, median, population std and percentiles of finite values; undefined when empty. */
export const basicStats = (values: ReadonlyArray<number>, percentiles: ReadonlyArray<number> = PERCENTILES): BasicStats | undefined => {
  const n = values.length
  if (n === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  let sum = 0
  for (const v of sorted) sum += v
  const mean = sum / n
  let sq = 0
  for (const v of sorted) sq += (v - mean) * (v - mean)
  const map = new Map<number, number>()
  for (const p of percentiles) map.set(p, quantileSortedLinear(sorted, p / 100))
  return { mean, median: quantileSortedLinear(sorted, 0.5), std: Math.sqrt(sq / n), percentiles: map }
}

/** What one record contributes to the statistics (undefined fields: not measurable). */
export interface RequestMetrics {
  readonly ttftMs?: number
  readonly e2elMs?: number
  readonly tpotMs?: number
  readonly itlMs: ReadonlyArray<number>
  readonly inputTokens?: number
  readonly outputTokens?: number
}

/** TTFT, E2EL, TPOT and the ITL gaps of one record, per vllm bench's definitions. */
export const requestMetrics = (r: RequestRecord): RequestMetrics => {
  const ttft = r.firstTokenMs
  const e2el = r.lastChunkMs
  const out = r.usage?.completion_tokens
  const itl: number[] = []
  if (ttft !== undefined) {
    let prev: number | undefined
    for (const [t] of r.chunks) {
      if (t < ttft) continue
      if (prev !== undefined) itl.push(t - prev)
      prev = t
    }
  }
  const tpot = ttft !== undefined && e2el !== undefined && out !== undefined && out > 1 ? (e2el - ttft) / (out - 1) : undefined
  return {
    ...(ttft === undefined ? {} : { ttftMs: ttft }),
    ...(e2el === undefined ? {} : { e2elMs: e2el }),
    ...(tpot === undefined ? {} : { tpotMs: tpot }),
    itlMs: itl,
    ...(r.usage === undefined ? {} : { inputTokens: r.usage.prompt_tokens, outputTokens: r.usage.completion_tokens })
  }
}

export type InfOr = number | "inf"

/** What the probe adds to vllm bench's fields for one point. */
export interface PointSummaryCore {
  /** vllm bench's peaks over one-second buckets (as its result file has them). */
  readonly max_output_tokens_per_s: number
  readonly max_concurrent_requests: number
  readonly errors_by_class: Readonly<Record<ErrorClass, number>>
  readonly failure_rate: number
  /** Failed requests counted as +Infinity ("inf" in JSON); null when nothing was measured. */
  readonly error_adjusted: { readonly [K in AdjustedKey]: InfOr | null }
  /** Completed requests without usage in the stream: their tokens are unknown and not counted. */
  readonly usage_missing: number
  readonly mean_input_tokens: number | null
  readonly mean_output_tokens: number | null
  /** Mean generated tokens per content chunk (> 1 when the server coalesces tokens). */
  readonly mean_tokens_per_chunk: number | null
  /** sentAt − intendedAt: how late the client sent (open loop) — mean / p99 / max, ms. */
  readonly send_lag_ms: { readonly mean: number; readonly p99: number; readonly max: number } | null
}

/** One point's summary: vllm bench's fields (a statistic is null when nothing measured it) and the probe's. */
export type PointSummaryBody = BenchSummary<number | null> & PointSummaryCore

const emptyErrors = (): Record<ErrorClass, number> => {
  const o = {} as Record<ErrorClass, number>
  for (const c of ERROR_CLASSES) o[c] = 0
  return o
}

/**
 * Duration as vllm bench measures it (first send → last finish), summed over sessions so a resumed
 * point does not count the time it was not running.
 */
export const measuredDurationS = (records: ReadonlyArray<RequestRecord>): number => {
  const spans = new Map<number, { start: number; end: number }>()
  for (const r of records) {
    const s = spans.get(r.session)
    const end = r.sentAt + r.endMs
    if (s === undefined) spans.set(r.session, { start: r.sentAt, end })
    else {
      s.start = Math.min(s.start, r.sentAt)
      s.end = Math.max(s.end, end)
    }
  }
  let total = 0
  for (const s of spans.values()) total += Math.max(0, s.end - s.start)
  return total / 1000
}

/**
 * vllm bench's max_output_tokens_per_s and max_concurrent_requests: one-second buckets from the first
 * successful send; each token (the first, then one per ITL gap) lands in the bucket of its arrival, and a
 * request counts in every bucket from its start's to its end's, inclusive.
 */
export const peakPerSecond = (ok: ReadonlyArray<RequestRecord>): { max_output_tokens_per_s: number; max_concurrent_requests: number } => {
  const done = ok.filter((r) => r.firstTokenMs !== undefined && r.lastChunkMs !== undefined)
  if (done.length === 0) return { max_output_tokens_per_s: 0, max_concurrent_requests: 0 }
  const t0 = minOf(done.map((r) => r.sentAt))
  const end = maxOf(done.map((r) => r.sentAt + r.lastChunkMs!))
  const n = Math.ceil((end - t0) / 1000) + 1
  const tokens = new Float64Array(n)
  const conc = new Float64Array(n)
  for (const r of done) {
    for (const [t] of r.chunks) {
      if (t < r.firstTokenMs!) continue
      const b = Math.floor((r.sentAt + t - t0) / 1000)
      if (b >= 0 && b < n) tokens[b]!++
    }
    const last = Math.min(Math.floor((r.sentAt + r.lastChunkMs! - t0) / 1000), n - 1)
    for (let b = Math.floor((r.sentAt - t0) / 1000); b <= last; b++) conc[b]!++
  }
  return { max_output_tokens_per_s: maxOf(tokens), max_concurrent_requests: maxOf(conc) }
}

/** The summary body of one point from its measured (non-warm-up) records. */
export const summarizeRecords = (all: ReadonlyArray<RequestRecord>): PointSummaryBody => {
  const records = all.filter((r) => !r.warmup)
  const okRecords = records.filter((r) => r.ok)
  const errors = emptyErrors()
  for (const r of records) if (!r.ok) errors[r.errorClass ?? "bad_response"]++
  const ttfts: number[] = []
  const tpots: number[] = []
  const itls: number[] = []
  const e2els: number[] = []
  let totalIn = 0
  let totalOut = 0
  let withUsage = 0
  let usageMissing = 0
  let chunkTokens = 0
  let chunkCount = 0
  for (const r of okRecords) {
    const m = requestMetrics(r)
    if (m.ttftMs !== undefined) ttfts.push(m.ttftMs)
    if (m.e2elMs !== undefined) e2els.push(m.e2elMs)
    if (m.tpotMs !== undefined) tpots.push(m.tpotMs)
    for (const g of m.itlMs) itls.push(g)
    if (m.inputTokens !== undefined && m.outputTokens !== undefined) {
      totalIn += m.inputTokens
      totalOut += m.outputTokens
      withUsage++
    } else usageMissing++
    for (const [, tok] of r.chunks) {
      if (tok !== null && tok > 0) {
        chunkTokens += tok
        chunkCount++
      }
    }
  }
  const duration = measuredDurationS(records)
  const rate = (x: number): number => (duration > 0 ? x / duration : 0)
  const stats = {} as Record<StatKey, number | null>
  const pools: Record<LatencyMetric, number[]> = { ttft: ttfts, tpot: tpots, itl: itls, e2el: e2els }
  for (const metric of LATENCY_METRICS) {
    const s = basicStats(pools[metric])
    stats[`mean_${metric}_ms`] = s?.mean ?? null
    stats[`median_${metric}_ms`] = s?.median ?? null
    stats[`std_${metric}_ms`] = s?.std ?? null
    for (const p of PERCENTILES) stats[`p${p}_${metric}_ms`] = s?.percentiles.get(p) ?? null
  }
  const failed = records.length - okRecords.length
  const adjusted = {} as Record<AdjustedKey, InfOr | null>
  for (const metric of ["ttft", "tpot", "e2el"] as const) {
    const values = [...pools[metric]]
    for (let i = 0; i < failed; i++) values.push(Number.POSITIVE_INFINITY)
    values.sort((a, b) => a - b)
    const at = (p: number): InfOr | null => {
      if (values.length === 0) return null
      const v = quantileSortedLinear(values, p / 100)
      return Number.isFinite(v) ? v : "inf"
    }
    adjusted[`median_${metric}_ms`] = at(50)
    for (const p of PERCENTILES) adjusted[`p${p}_${metric}_ms`] = at(p)
  }
  const lags = records.map((r) => r.sentAt - r.intendedAt)
  const lagStats = basicStats(lags, [99])
  return {
    duration,
    completed: okRecords.length,
    failed,
    total_input_tokens: totalIn,
    total_output_tokens: totalOut,
    request_throughput: rate(okRecords.length),
    output_throughput: rate(totalOut),
    total_token_throughput: rate(totalIn + totalOut),
    ...peakPerSecond(okRecords),
    ...stats,
    errors_by_class: errors,
    failure_rate: records.length === 0 ? 0 : failed / records.length,
    error_adjusted: adjusted,
    usage_missing: usageMissing,
    mean_input_tokens: withUsage > 0 ? totalIn / withUsage : null,
    mean_output_tokens: withUsage > 0 ? totalOut / withUsage : null,
    mean_tokens_per_chunk: chunkCount > 0 ? chunkTokens / chunkCount : null,
    send_lag_ms: lagStats === undefined
      ? null
      : { mean: lagStats.mean, p99: lagStats.percentiles.get(99)!, max: maxOf(lags) }
  }
}
