// One probe point as a `vllm bench serve --save-result` file: the point summary's fields in vllm's
// layout (the one simulate writes, src/scenario/bench-result.ts), the statistics --percentile-metrics/
// --metric-percentiles select and --goodput's request_goodput computed from the point's records, vllm's
// max_output_tokens_per_s/max_concurrent_requests, and with --save-detailed the per-request arrays as
// vllm writes them (vllm/benchmarks/serve.py calculate_metrics and benchmark). Pure.
import { benchResultFields, benchResultFilename, selectedStatKeys, type PercentileMetric } from "../scenario/bench-result.ts"
import { basicStats, peakPerSecond, requestMetrics } from "./summary.ts"
import type { RequestRecord } from "./types.ts"
import type { GoodputSlo } from "../sim/spec.ts"
import { minOf } from "../sim/stats.ts"

export interface ProbeBenchOptions {
  readonly date: string
  readonly percentileMetrics?: ReadonlyArray<PercentileMetric>
  readonly metricPercentiles?: ReadonlyArray<number>
  readonly goodput?: GoodputSlo
  /** --save-detailed: add the per-request arrays. */
  readonly detailed?: boolean
  /** --label: the result's label and file-name prefix (vllm: default the backend). */
  readonly label?: string
  /** --metadata: fields recorded after num_prompts. */
  readonly metadata?: Record<string, string>
}

/** The point summary fields the result's head is read from (src/probe/runner.ts PointSummary). */
export interface SummaryHead {
  readonly backend: string
  readonly endpoint_type: string
  readonly model_id: string
  readonly tokenizer_id: string | null
  readonly num_prompts: number
  readonly request_rate: number | "inf"
  readonly burstiness: number
  readonly max_concurrency: number | null
  readonly duration: number
}

const round = (x: number): number => Math.round(x * 1e9) / 1e9

/**
 * The client-side queueing of each completed request, ms: an open loop with --max-concurrency waits
 * from its scheduled arrival to a free slot (sentAt − intendedAt); a closed loop is vllm bench's
 * request rate inf with a cap, every request arriving at the start (sentAt − the session's first send).
 */
const clientQueueMs = (records: ReadonlyArray<RequestRecord>, closedLoop: boolean): Map<RequestRecord, number> => {
  const start = new Map<number, number>()
  for (const r of records) start.set(r.session, Math.min(start.get(r.session) ?? Number.POSITIVE_INFINITY, r.sentAt))
  return new Map(records.map((r) => [r, Math.max(0, r.sentAt - (closedLoop ? start.get(r.session)! : r.intendedAt))]))
}


/** vllm's goodput: completed requests meeting every SLO (TPOT 0 for one output token), per second. */
export const requestGoodput = (ok: ReadonlyArray<RequestRecord>, slo: GoodputSlo, durationS: number): number => {
  let good = 0
  for (const r of ok) {
    const m = requestMetrics(r)
    const tpot = m.tpotMs ?? 0
    if (
      (slo.ttftMs === undefined || (m.ttftMs !== undefined && m.ttftMs <= slo.ttftMs)) &&
      (slo.tpotMs === undefined || tpot <= slo.tpotMs) &&
      (slo.e2elMs === undefined || (m.e2elMs !== undefined && m.e2elMs <= slo.e2elMs))
    )
      good++
  }
  return durationS > 0 ? good / durationS : 0
}

/**
 * vllm's per-request arrays, measured requests in index order: seconds for times (start_times after the
 * point's first send), 0 and [] for a failed request, "" or the error as its error. input_lens are the
 * server's prompt_tokens (the requested length when it sent no usage); generated_texts are empty unless
 * the probe kept the text (multi-turn workload points).
 */
export const detailedArrays = (measured: ReadonlyArray<RequestRecord>): Record<string, unknown[]> => {
  const t0 = measured.length === 0 ? 0 : minOf(measured.map((r) => r.sentAt))
  const cols = { input_lens: [] as number[], output_lens: [] as number[], ttfts: [] as number[], itls: [] as number[][], start_times: [] as number[], latencies: [] as number[], generated_texts: [] as string[], errors: [] as string[] }
  for (const r of measured) {
    const m = requestMetrics(r)
    const ok = r.ok && m.ttftMs !== undefined
    cols.input_lens.push(r.usage?.prompt_tokens ?? r.promptTokensRequested)
    cols.output_lens.push(ok ? (r.usage?.completion_tokens ?? 0) : 0)
    cols.ttfts.push(ok ? round(m.ttftMs! / 1000) : 0)
    cols.itls.push(ok ? m.itlMs.map((g) => round(g / 1000)) : [])
    cols.start_times.push(round((r.sentAt - t0) / 1000))
    cols.latencies.push(ok && m.e2elMs !== undefined ? round(m.e2elMs / 1000) : 0)
    cols.generated_texts.push(r.responseText ?? "")
    cols.errors.push(r.ok ? "" : `${r.errorClass ?? "bad_response"}: ${r.error ?? ""}`.replace(/: $/, ""))
  }
  return cols
}

/** Each selectable metric's per-request values (ms) over the completed requests, and the metrics a point can have. */
const statPools = (records: ReadonlyArray<RequestRecord>, head: SummaryHead, metrics: ReadonlyArray<PercentileMetric>) => {
  const ok = records.filter((r) => r.ok)
  const pools: Record<PercentileMetric, number[]> = { ttft: [], tpot: [], itl: [], e2el: [], client_queue_time: [], e2el_including_client_queue: [] }
  const queue = clientQueueMs(records, head.request_rate === "inf" && head.max_concurrency !== null)
  for (const r of ok) {
    const m = requestMetrics(r)
    if (m.ttftMs !== undefined) pools.ttft.push(m.ttftMs)
    if (m.tpotMs !== undefined) pools.tpot.push(m.tpotMs)
    pools.itl.push(...m.itlMs)
    if (m.e2elMs !== undefined) pools.e2el.push(m.e2elMs)
    const q = queue.get(r)!
    pools.client_queue_time.push(q)
    if (m.e2elMs !== undefined) pools.e2el_including_client_queue.push(q + m.e2elMs)
  }
  // As simulate (extraStatsFor): client queueing only with a cap, the sum only with a finite rate too.
  const capped = head.max_concurrency !== null
  return { ok, pools, metrics: metrics.filter((m) => (m !== "client_queue_time" || capped) && (m !== "e2el_including_client_queue" || (capped && typeof head.request_rate === "number"))) }
}

/**
 * One point's vllm bench result. `summary`: its point summary (src/probe/runner.ts); `records`: its
 * requests in simulated time (warm-ups are left out), the ones the summary was computed from.
 */
export const probeBenchResult = (summary: Record<string, unknown> & SummaryHead, records: ReadonlyArray<RequestRecord>, o: ProbeBenchOptions): Record<string, unknown> => {
  const measured = records.filter((r) => !r.warmup).sort((a, b) => a.index - b.index)
  const percentiles = o.metricPercentiles ?? [99]
  const { ok, pools, metrics } = statPools(measured, summary, o.percentileMetrics ?? ["ttft", "tpot", "itl"])
  const stats: Record<string, number | null> = {}
  for (const m of metrics) {
    const s = basicStats(pools[m], percentiles)
    stats[`mean_${m}_ms`] = s?.mean ?? null
    stats[`median_${m}_ms`] = s?.median ?? null
    stats[`std_${m}_ms`] = s?.std ?? null
    for (const p of percentiles) stats[`p${String(p)}_${m}_ms`] = s?.percentiles.get(p) ?? null
  }
  const body: Record<string, unknown> = {
    ...summary,
    ...stats,
    ...(o.goodput === undefined ? {} : { request_goodput: requestGoodput(ok, o.goodput, summary.duration) }),
    ...peakPerSecond(ok),
  }
  return benchResultFields(
    {
      date: o.date,
      backend: summary.backend,
      endpointType: summary.endpoint_type,
      label: o.label ?? null,
      model: summary.model_id,
      tokenizer: summary.tokenizer_id,
      numPrompts: summary.num_prompts,
      request_rate: summary.request_rate,
      burstiness: summary.burstiness,
      max_concurrency: summary.max_concurrency,
      ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
    },
    body,
    selectedStatKeys(metrics, percentiles),
    o.detailed === true ? detailedArrays(measured) : undefined,
  )
}

/**
 * The file names of a run's results: vllm's {backend}-{rate}qps[-concurrency{N}]-{model}-{date}.json per
 * point, or `resultFilename`; where several points would share a name (always, with --result-filename
 * and more than one point) the point id goes before the extension: res.json → res-concurrency-4.json.
 */
export const resultFilenames = (results: ReadonlyArray<{ readonly id: string; readonly bench: Record<string, unknown> }>, date: string, resultFilename?: string): string[] => {
  const names = results.map(({ bench }) =>
    resultFilename ??
    benchResultFilename({
      label: String(bench.label ?? bench.backend),
      requestRate: bench.request_rate as number | "inf",
      maxConcurrency: typeof bench.max_concurrency === "number" ? bench.max_concurrency : undefined,
      model: String(bench.model_id),
      date,
    }),
  )
  return names.map((n, i) => {
    if (names.indexOf(n) === names.lastIndexOf(n)) return n
    const dot = n.toLowerCase().endsWith(".json") ? n.length - 5 : n.length
    return `${n.slice(0, dot)}-${results[i]!.id}${n.slice(dot)}`
  })
}
