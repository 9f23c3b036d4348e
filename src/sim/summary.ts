// One function turns a simulation into the `vllm bench serve --save-result` field set (plus the
// simulator's own counters), so predictions and measurements compare field by field.
import { DONE, REJECTED, benchFields } from "./metrics.ts"
import type { DisaggregatedRun, PoolStats } from "./disaggregated.ts"
import type { Engine } from "./engine.ts"
import type { SimResult, Timeline } from "./simulate.ts"

export interface SimSummary {
  /** vllm-bench fields: completed, duration, throughputs, mean_/median_/std_/p50_/p90_/p95_/p99_{ttft,tpot,itl,e2el}_ms, … */
  readonly [field: string]: unknown
}

const round = (x: number): number => (Number.isFinite(x) ? Number(x.toPrecision(12)) : x)

const roundAll = (o: Record<string, number>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(o)) out[k] = round(v)
  return out
}

export interface SummaryOptions {
  /** Extra fields describing the run (model, gpu, workload), placed under `config`. */
  readonly config?: Record<string, unknown>
}

export const summarize = (result: SimResult, options: SummaryOptions = {}): SimSummary => {
  const { recorder: rec, spec, engines } = result
  const done = rec.select(DONE)
  const failed = rec.select(REJECTED).length
  const fields = benchFields(rec, done, failed, rec.itlDistribution(), spec.goodput)
  let prefixQueries = 0
  let prefixHits = 0
  for (const e of engines) {
    prefixQueries += e.kv.prefixQueries
    prefixHits += e.kv.prefixHits
  }
  const steps = Math.max(1, rec.numSteps)
  const busy = rec.busyTime > 0 ? rec.busyTime : 1
  const own: Record<string, number> = {
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
  const summary: Record<string, unknown> = {
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
    const stages: Array<Record<string, number>> = []
    for (let s = 0; s < stageCount; s++) {
      const stageDone = rec.select(DONE, s)
      const stageFailed = rec.select(REJECTED, s).length
      stages.push({ stage: s, requests_generated: acc.sent[s] ?? 0, ...roundAll(benchFields(rec, stageDone, stageFailed, rec.itlDistribution(s), spec.goodput)) })
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
const offloadSummary = (engines: ReadonlyArray<Engine>): Record<string, number> | undefined => {
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

const poolSummary = (engines: ReadonlyArray<Engine>, p: PoolStats): Record<string, number> => {
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

const disaggregationSummary = (d: DisaggregatedRun, endTime: number): Record<string, unknown> => {
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
      // From reaching a prefill replica to the KV arriving at decode: queue + prefill + link.
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
