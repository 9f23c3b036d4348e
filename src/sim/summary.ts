// One function turns a simulation into the `vllm bench serve --save-result` field set (plus the
// simulator's own counters), so predictions and measurements compare field by field.
import { DONE, REJECTED, benchFields, peakFields, type BenchFields, type ExtraStats } from "./metrics.ts"
import type { SimResult, Timeline } from "./simulate.ts"

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
  readonly simulated_time: number
}

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
  const fields = { ...benchFields(rec, done, failed, rec.itlDistribution(), spec.goodput, options.extra), ...peakFields(rec, done, spec.stepTime.overheads.perOutputToken) }
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
      stages.push({ stage: s, requests_generated: acc.sent[s] ?? 0, ...roundAll(benchFields(rec, stageDone, stageFailed, rec.itlDistribution(s), spec.goodput)) })
    }
    summary.stages = stages
  }
  if (result.timeline !== undefined) summary.timeline = roundTimeline(result.timeline)
  return summary
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
