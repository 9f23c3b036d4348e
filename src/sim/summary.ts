// One function turns a simulation into the `vllm bench serve --save-result` field set (plus the
// simulator's own counters), so predictions and measurements compare field by field.
import type { DisaggregatedRun, PoolStats } from "./disaggregated.ts"
import type { Engine } from "./engine.ts"
import { DONE, REJECTED, benchFields, peakFields, type BenchFields, type ExtraStats } from "./metrics.ts"
import type { SimResult, Timeline } from "./simulate.ts"
import { SortScratch } from "./stats.ts"

/** The simulator's own counters, beside vllm bench's fields. */
export type EngineCounters = {
  readonly num_preemptions: number
  readonly num_steps: number
  readonly mean_batch_size: number
  readonly max_batch_size: number
  readonly mean_batched_tokens: number
  readonly max_batched_tokens: number
  /** Time-weighted mean fraction of KV blocks in use while the engine is busy. */
  readonly mean_kv_cache_usage: number
  readonly max_kv_cache_usage: number
  readonly prefix_cache_hit_rate: number
  /** Seconds the engine spent stepping, and the share of it that prefill tokens account for. */
  readonly engine_busy_time: number
  readonly prefill_time_fraction: number
  /** Prompt tokens computed by all steps (recomputation after preemption included). */
  readonly prefill_tokens_computed: number
  readonly simulated_time: number
}

/** The CPU KV tier (--kv-offloading-size), summed over engines. */
export type KvOffloadSummary = {
  readonly cpu_blocks: number
  readonly stored_blocks: number
  readonly evicted_blocks: number
  readonly loaded_blocks: number
  /** Prompt tokens loaded back from the CPU tier instead of recomputed. */
  readonly loaded_tokens: number
}

/** One pool of a P/D-disaggregated run. */
export type PoolSummary = {
  readonly replicas: number
  readonly num_gpu_blocks: number
  readonly max_num_seqs: number
  readonly max_num_batched_tokens: number
  readonly num_steps: number
  readonly num_preemptions: number
  readonly mean_batch_size: number
  readonly max_batch_size: number
  readonly mean_batched_tokens: number
  readonly prefill_tokens_computed: number
  readonly engine_busy_time: number
  readonly mean_kv_cache_usage: number
  readonly max_kv_cache_usage: number
  readonly prefix_cache_hit_rate: number
}

/** The KV-transfer link of a P/D-disaggregated run. */
export type KvTransferSummary = {
  readonly bandwidth_gbps: number
  readonly latency_ms: number
  readonly num_transfers: number
  readonly total_bytes: number
  readonly mean_bytes: number
  readonly mean_link_wait_ms: number
  readonly max_link_wait_ms: number
  readonly link_utilization: number
  /** From reaching a prefill replica to the KV arriving at decode: queue + prefill + link. */
  readonly mean_prefill_phase_ms: number
}

export type DisaggregationSummary = { readonly prefill: PoolSummary; readonly decode: PoolSummary; readonly kv_transfer: KvTransferSummary }

/** One rate stage of a staged workload. */
export type StageSummary = BenchFields & { readonly stage: number; readonly requests_generated: number }

/** A simulation's result: what `servesim simulate --json` prints (before its cost block). */
export type SimSummary = BenchFields &
  EngineCounters & {
  /** completed + failed: the measured requests (after warm-up), stage by stage too. */
  readonly requests_generated: number
  /** vllm bench's peak one-second output tokens and requests active in one second (metrics.ts peakFields). */
  readonly max_output_tokens_per_s: number
  readonly max_concurrent_requests: number
  /** Requests refused, by reason. */
  readonly rejected: Readonly<Record<string, number>>
  /** The run's configuration: the scenario's description and the engine settings it ran with. */
  readonly config: Readonly<Record<string, unknown>>
  readonly stages?: ReadonlyArray<StageSummary>
  readonly timeline?: Timeline
  readonly kv_offload?: KvOffloadSummary
  readonly disaggregation?: DisaggregationSummary
}

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(12)) : x)

const roundAll = <T extends object>(o: T): T => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) out[k] = typeof v === "number" ? round(v) : v
  return out as T
}

export interface SummaryOptions {
  /** Extra fields describing the run (model, gpu, workload), placed under `config`. */
  readonly config?: Record<string, unknown>
  /** Statistics beyond the default set (vllm bench --metric-percentiles, client-queue metrics). */
  readonly extra?: ExtraStats
}

export const summarize = (result: SimResult, options: SummaryOptions = {}): SimSummary => {
  const { recorder: rec, spec, engines } = result
  const done = rec.select(DONE)
  const failed = rec.select(REJECTED).length
  // One set of sort buffers serves every distribution of the summary (stats.ts SortScratch).
  const scratch = new SortScratch()
  const fields = {
    ...benchFields(rec, done, failed, rec.itlDistribution(), spec.goodput, options.extra, scratch),
    ...peakFields(rec, done, spec.stepTime.overheads.perOutputToken),
  }
  let prefixQueries = 0
  let prefixHits = 0
  for (const e of engines) {
    prefixQueries += e.kv.prefixQueries
    prefixHits += e.kv.prefixHits
  }
  const steps = Math.max(1, rec.numSteps)
  const busy = rec.busyTime > 0 ? rec.busyTime : 1
  const own: EngineCounters = {
    num_preemptions: rec.numPreemptions,
    num_steps: rec.numSteps,
    mean_batch_size: rec.batchSizeSum / steps,
    max_batch_size: rec.batchSizeMax,
    mean_batched_tokens: rec.batchedTokensSum / steps,
    max_batched_tokens: rec.batchedTokensMax,
    mean_kv_cache_usage: rec.kvUsageTimeSum / busy,
    max_kv_cache_usage: rec.kvUsageMax,
    prefix_cache_hit_rate: prefixQueries > 0 ? prefixHits / prefixQueries : 0,
    engine_busy_time: rec.busyTime,
    prefill_time_fraction: rec.busyTime > 0 ? rec.prefillBusyTime / rec.busyTime : 0,
    prefill_tokens_computed: rec.prefillTokensSum,
    simulated_time: result.endTime,
  }
  const acc = rec.accounting(spec.stageCount ?? 1)
  const summary: { -readonly [K in keyof SimSummary]: SimSummary[K] } = {
    // completed + failed = requests_generated (measured requests, after warm-up), stage by stage too.
    requests_generated: acc.sent.reduce((a, b) => a + b, 0),
    ...roundAll(fields),
    ...roundAll(own),
    rejected: Object.fromEntries([...rec.rejected.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
    config: {
      ...options.config,
      replicas: spec.replicas,
      router: spec.router.name,
      policy: spec.policy.name,
      step_time_model: spec.stepTime.name,
      max_num_seqs: spec.engine.maxNumSeqs,
      max_num_batched_tokens: spec.engine.maxNumBatchedTokens,
      max_model_len: spec.engine.maxModelLen,
      block_size: spec.engine.blockSize,
      num_gpu_blocks: spec.engine.numGpuBlocks,
      enable_chunked_prefill: spec.engine.enableChunkedPrefill,
      enable_prefix_caching: spec.engine.enablePrefixCaching,
      async_scheduling: spec.engine.asyncScheduling === true,
      warmup_requests: spec.warmupRequests,
    },
  }
  const stageCount = spec.stageCount ?? 0
  if (stageCount > 1) {
    const stages: StageSummary[] = []
    for (let s = 0; s < stageCount; s++) {
      const stageDone = rec.select(DONE, s)
      const stageFailed = rec.select(REJECTED, s).length
      stages.push({ stage: s, requests_generated: acc.sent[s] ?? 0, ...roundAll(benchFields(rec, stageDone, stageFailed, rec.itlDistribution(s), spec.goodput, {}, scratch)) })
    }
    summary.stages = stages
  }
  const offload = offloadSummary(engines)
  if (offload !== undefined) summary.kv_offload = offload
  if (result.disaggregated !== undefined) summary.disaggregation = disaggregationSummary(result.disaggregated, result.endTime)
  if (result.timeline !== undefined) summary.timeline = roundTimeline(result.timeline)
  return summary
}

/** The CPU tier's counters summed over engines, when any engine has one. */
const offloadSummary = (engines: ReadonlyArray<Engine>): KvOffloadSummary | undefined => {
  let on = false
  let capacity = 0
  let stored = 0
  let evicted = 0
  let loaded = 0
  let blockSize = 0
  for (const e of engines) {
    const cpu = e.kv.cpu
    if (cpu === undefined) continue
    on = true
    capacity += cpu.capacityBlocks
    stored += cpu.numStored
    evicted += cpu.numEvicted
    loaded += cpu.numLoadedBlocks
    blockSize = e.kv.blockSize
  }
  if (!on) return undefined
  return { cpu_blocks: capacity, stored_blocks: stored, evicted_blocks: evicted, loaded_blocks: loaded, loaded_tokens: loaded * blockSize }
}

const poolSummary = (engines: ReadonlyArray<Engine>, p: PoolStats): PoolSummary => {
  const steps = Math.max(1, p.numSteps)
  let queries = 0
  let hits = 0
  for (const e of engines) {
    queries += e.kv.prefixQueries
    hits += e.kv.prefixHits
  }
  const first = engines[0]
  return roundAll({
    replicas: engines.length,
    num_gpu_blocks: first?.config.numGpuBlocks ?? 0,
    max_num_seqs: first?.config.maxNumSeqs ?? 0,
    max_num_batched_tokens: first?.config.maxNumBatchedTokens ?? 0,
    num_steps: p.numSteps,
    num_preemptions: p.numPreemptions,
    mean_batch_size: p.batchSizeSum / steps,
    max_batch_size: p.batchSizeMax,
    mean_batched_tokens: p.batchedTokensSum / steps,
    prefill_tokens_computed: p.prefillTokensSum,
    engine_busy_time: p.busyTime,
    mean_kv_cache_usage: p.busyTime > 0 ? p.kvUsageTimeSum / p.busyTime : 0,
    max_kv_cache_usage: p.kvUsageMax,
    prefix_cache_hit_rate: queries > 0 ? hits / queries : 0,
  })
}

const disaggregationSummary = (d: DisaggregatedRun, endTime: number): DisaggregationSummary => {
  const l = d.link
  const n = Math.max(1, l.numTransfers)
  return {
    prefill: poolSummary(d.prefillEngines, d.prefill),
    decode: poolSummary(d.decodeEngines, d.decode),
    kv_transfer: roundAll({
      bandwidth_gbps: l.bandwidth / 1e9,
      latency_ms: l.latency * 1000,
      num_transfers: l.numTransfers,
      total_bytes: l.bytes,
      mean_bytes: l.bytes / n,
      mean_link_wait_ms: (1000 * l.waitSum) / n,
      max_link_wait_ms: 1000 * l.waitMax,
      link_utilization: endTime > 0 ? l.busyTime / endTime : 0,
      mean_prefill_phase_ms: d.numTransferred > 0 ? (1000 * d.prefillPhaseSum) / d.numTransferred : 0,
    }),
  }
}

const roundTimeline = (t: Timeline): Timeline => ({
  time: t.time.map(round),
  kvCacheUsage: t.kvCacheUsage.map(round),
  numRunning: t.numRunning,
  numWaiting: t.numWaiting,
})

/**
 * vllm bench's per-request arrays (--save-detailed), in send order, measured requests only: seconds
 * for times, an empty generated text (the simulator makes none) and "" or the refusal as the error,
 * as vllm writes a failed request (ttft 0, no ITLs, output length 0). Needs simulate's `detailed` hook.
 */
export const detailedArrays = (result: SimResult): Record<string, unknown[]> | undefined => {
  const rec = result.recorder
  const times = rec.tokenTimes
  if (times === undefined) return undefined
  const cols = { input_lens: [] as number[], output_lens: [] as number[], ttfts: [] as number[], itls: [] as number[][], start_times: [] as number[], latencies: [] as number[], queue_times: [] as number[], generated_texts: [] as string[], errors: [] as string[] }
  for (let i = result.spec.warmupRequests; i < rec.status.length; i++) {
    const ok = rec.status.get(i) === DONE
    const t = times[i] ?? []
    const itl: number[] = []
    for (let k = 1; k < t.length && ok; k++) itl.push(round(t[k]! - t[k - 1]!))
    cols.input_lens.push(rec.inputTokens.get(i))
    cols.output_lens.push(ok ? rec.outputTokens.get(i) : 0)
    cols.ttfts.push(ok ? round(rec.ttft.get(i)) : 0)
    cols.itls.push(itl)
    cols.start_times.push(round(rec.send.get(i)))
    cols.latencies.push(ok ? round(rec.e2el.get(i)) : 0)
    cols.queue_times.push(round(rec.clientQueueTime.get(i)))
    cols.generated_texts.push("")
    cols.errors.push(ok ? "" : (rec.rejectReason.get(i) ?? "rejected"))
  }
  return cols
}
