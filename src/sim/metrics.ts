// Records what the engines report and turns it into `vllm bench serve --save-result` fields.
// Per-request numbers live in typed columns (no per-token arrays): inter-token latencies are kept as
// (gap, count) pairs, since every request decoding in the same step sees the same gap.
import type { RequestOverheads } from "../hw/types.ts"
import type { ScheduledBatch } from "./batch-formation.ts"
import type { Engine, EngineListener } from "./engine.ts"
import type { RequestState } from "./request-state.ts"
import type { BenchSummary } from "./bench-summary.ts"
import type { GoodputSlo } from "./spec.ts"
import { type Column, distributionOf, floatColumn, int32Column, sortPairs, SortScratch, uint8Column, weightedDistributionOf, type Distribution } from "./stats.ts"

/** A request's state in the recorder's status column. */
export const PENDING = 0
export const DONE = 1
export const REJECTED = 2

export class MetricsRecorder implements EngineListener {
  private readonly overheads: RequestOverheads
  private readonly warmupRequests: number
  readonly send: Column<Float64Array>
  readonly ttft: Column<Float64Array>
  readonly e2el: Column<Float64Array>
  readonly inputTokens: Column<Int32Array>
  readonly outputTokens: Column<Int32Array>
  readonly queueTime: Column<Float64Array>
  /** Seconds a request waited at the client for a concurrency slot (vllm bench's client_queue_time). */
  readonly clientQueueTime: Column<Float64Array>
  readonly stage: Column<Int32Array>
  readonly status: Column<Uint8Array>
  readonly rejected = new Map<string, number>()
  private readonly itlGap: Column<Float64Array>
  private readonly itlCount: Column<Int32Array>
  private readonly itlStage: Column<Int32Array>
  private curGap = -1
  private curStage = -1
  private curCount = 0
  numPreemptions = 0
  numSteps = 0
  busyTime = 0
  prefillBusyTime = 0
  batchSizeSum = 0
  batchSizeMax = 0
  batchedTokensSum = 0
  batchedTokensMax = 0
  /** Prompt tokens computed by all steps (recomputation after preemption included). */
  prefillTokensSum = 0
  kvUsageTimeSum = 0
  kvUsageMax = 0
  /** Engine-step end times at which measured requests received tokens, and how many (for vllm's peak output tokens/s). */
  readonly tokenStepTime: Column<Float64Array>
  readonly tokenStepCount: Column<Int32Array>
  private stepTokens = 0
  /**
   * Per-request token times and refusal reasons, kept only for vllm bench's --save-detailed arrays
   * (simulate's `detailed` hook, which also decodes every request explicitly so each token is seen).
   */
  tokenTimes: number[][] | undefined
  readonly rejectReason = new Map<number, string>()
  /** Called when a request is done for the client (finished or rejected), at client time. */
  onClientDone: (time: number) => void = () => {}

  /** `expectedRequests` (when known) sizes the per-request columns once instead of by doubling. */
  constructor(overheads: RequestOverheads, warmupRequests: number, expectedRequests = 0) {
    this.overheads = overheads
    this.warmupRequests = warmupRequests
    const n = Math.max(1024, expectedRequests)
    this.send = floatColumn(n)
    this.ttft = floatColumn(n)
    this.e2el = floatColumn(n)
    this.inputTokens = int32Column(n)
    this.outputTokens = int32Column(n)
    this.queueTime = floatColumn(n)
    this.clientQueueTime = floatColumn(n)
    this.stage = int32Column(n)
    this.status = uint8Column(n)
    // Per-step records start at one per request, about what a loaded engine takes (ShareGPT-like chat
    // at 90% load: 1.15 steps a request), so long runs grow them once or twice rather than ten times.
    this.itlGap = floatColumn(n)
    this.itlCount = int32Column(n)
    this.itlStage = int32Column(n)
    this.tokenStepTime = floatColumn(n)
    this.tokenStepCount = int32Column(n)
  }

  /** A request was sent by the client. */
  onSend(req: RequestState, clientQueueTime = 0): void {
    const id = req.id
    this.send.at(id)[id] = req.arrival
    this.clientQueueTime.at(id)[id] = clientQueueTime
    this.inputTokens.at(id)[id] = req.inputTokens
    this.stage.at(id)[id] = req.spec.stage
    this.status.at(id)[id] = PENDING
  }

  /** One ITL record (see Column.at for why the stores are written out here). */
  private pushItl(gap: number, count: number, stage: number): void {
    const k = this.itlGap.append()
    this.itlGap.data[k] = gap
    this.itlCount.at(k)[k] = count
    this.itlStage.at(k)[k] = stage
  }

  private flushItl(): void {
    if (this.curCount > 0) this.pushItl(this.curGap, this.curCount, this.curStage)
    this.curCount = 0
    this.curGap = -1
  }

  onToken(req: RequestState, time: number, first: boolean): void {
    if (req.id >= this.warmupRequests) this.stepTokens++
    if (this.tokenTimes !== undefined) (this.tokenTimes[req.id] ??= []).push(time)
    if (first || req.id < this.warmupRequests) return
    const gap = time - req.lastTokenStep
    const stage = req.spec.stage
    if (gap === this.curGap && stage === this.curStage) this.curCount++
    else {
      this.flushItl()
      this.curGap = gap
      this.curStage = stage
      this.curCount = 1
    }
  }

  isMeasured(req: RequestState): boolean {
    return req.id >= this.warmupRequests
  }

  onGroupTokens(gap: number, measuredByStage: ReadonlyArray<number>): void {
    this.flushItl()
    for (let stage = 0; stage < measuredByStage.length; stage++) {
      const count = measuredByStage[stage]
      if (count === undefined || count === 0) continue
      this.stepTokens += count
      this.pushItl(gap, count, stage)
    }
  }

  onFinish(req: RequestState, time: number): void {
    const o = this.overheads
    const id = req.id
    this.status.at(id)[id] = DONE
    this.ttft.at(id)[id] = req.firstTokenStep + o.perOutputToken - req.arrival
    const clientDone = time + o.perOutputToken + o.completion
    this.e2el.at(id)[id] = clientDone - req.arrival
    this.outputTokens.at(id)[id] = req.numOutputTokensDone
    this.queueTime.at(id)[id] = req.firstScheduled - req.engineArrival
    this.onClientDone(clientDone)
  }

  onPreempt(): void {
    this.numPreemptions++
  }

  onReject(req: RequestState, time: number, reason: string): void {
    this.status.set(req.id, REJECTED)
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1)
    if (this.tokenTimes !== undefined) this.rejectReason.set(req.id, reason)
    this.onClientDone(time)
  }

  onStep(engine: Engine, start: number, end: number, batch: ScheduledBatch): void {
    this.flushItl()
    if (this.stepTokens > 0) {
      const k = this.tokenStepTime.append()
      this.tokenStepTime.data[k] = end
      this.tokenStepCount.at(k)[k] = this.stepTokens
      this.stepTokens = 0
    }
    const dt = end - start
    const shape = batch.shape
    this.numSteps++
    this.busyTime += dt
    if (shape.numTokens > 0) this.prefillBusyTime += (dt * shape.prefillTokens) / shape.numTokens
    this.batchSizeSum += shape.numReqs
    if (shape.numReqs > this.batchSizeMax) this.batchSizeMax = shape.numReqs
    this.batchedTokensSum += shape.numTokens
    if (shape.numTokens > this.batchedTokensMax) this.batchedTokensMax = shape.numTokens
    this.prefillTokensSum += shape.prefillTokens
    const usage = engine.kv.usage
    this.kvUsageTimeSum += usage * dt
    if (usage > this.kvUsageMax) this.kvUsageMax = usage
  }

  /** Indices of measured requests with the given status (and stage, when given), in id order. */
  select(status: number, stage?: number): Int32Array {
    const st = this.status.view()
    const stages = this.stage.view()
    let n = 0
    for (let i = this.warmupRequests; i < st.length; i++) if (st[i] === status && (stage === undefined || stages[i] === stage)) n++
    const out = new Int32Array(n)
    let k = 0
    for (let i = this.warmupRequests; i < st.length; i++) if (st[i] === status && (stage === undefined || stages[i] === stage)) out[k++] = i
    return out
  }

  /**
   * Measured requests (after warm-up) per stage by outcome. INV conservation: every request sent ends
   * finished or rejected with a reason; `pending` is non-zero only if the engine lost one.
   */
  accounting(numStages: number): { readonly sent: number[]; readonly done: number[]; readonly rejected: number[]; readonly pending: number[] } {
    const n = Math.max(1, numStages)
    const sent = new Array<number>(n).fill(0)
    const done = new Array<number>(n).fill(0)
    const rejected = new Array<number>(n).fill(0)
    const pending = new Array<number>(n).fill(0)
    const stages = this.stage.data
    const status = this.status.data
    for (let i = this.warmupRequests; i < this.status.length; i++) {
      const s = Math.min(n - 1, stages[i]!)
      sent[s]!++
      const st = status[i]!
      if (st === DONE) done[s]!++
      else if (st === REJECTED) rejected[s]!++
      else pending[s]!++
    }
    return { sent, done, rejected, pending }
  }

  /** Inter-token latencies of measured requests (of one stage, when given). */
  itlDistribution(stage?: number): Distribution {
    this.flushItl()
    const counts = this.itlCount.view()
    if (stage === undefined) return weightedDistributionOf(this.itlGap.view(), counts)
    const stages = this.itlStage.view()
    const masked = new Float64Array(counts.length)
    for (let i = 0; i < counts.length; i++) masked[i] = stages[i] === stage ? counts[i]! : 0
    return weightedDistributionOf(this.itlGap.view(), masked)
  }
}

/** vllm bench's percentile key word: "99" for 99, "99.9" for 99.9 (vllm/benchmarks/serve.py process_one_metric). */
export const percentileWord = (p: number): string => String(p) // JS prints 99 and 99.9 as Python's str(int(p)) / str(p) do

const ms = (d: Distribution, name: string, out: Record<string, number>, extra: ReadonlyArray<number> = []): void => {
  out[`mean_${name}_ms`] = d.mean * 1000
  out[`median_${name}_ms`] = d.median * 1000
  out[`std_${name}_ms`] = d.std * 1000
  out[`p50_${name}_ms`] = d.p50 * 1000
  out[`p90_${name}_ms`] = d.p90 * 1000
  out[`p95_${name}_ms`] = d.p95 * 1000
  out[`p99_${name}_ms`] = d.p99 * 1000
  for (const p of extra) {
    const key = `p${percentileWord(p)}_${name}_ms`
    if (!(key in out)) out[key] = (d.quantile?.(p / 100) ?? 0) * 1000
  }
}

/** Extra statistics vllm bench writes when asked (--metric-percentiles, and its client-queue metrics). */
export interface ExtraStats {
  /** Percentiles (0–100) beyond p50/p90/p95/p99, for every metric. */
  readonly percentiles?: ReadonlyArray<number>
  /** client_queue_time (vllm writes it when --max-concurrency is set). */
  readonly clientQueue?: boolean
  /** e2el_including_client_queue (vllm writes it when both a finite rate and a cap are set). */
  readonly e2elIncludingClientQueue?: boolean
}

/**
 * vllm bench's max_output_tokens_per_s and max_concurrent_requests (vllm/benchmarks/serve.py
 * calculate_metrics): one-second buckets from the first send; tokens land in the bucket of their
 * arrival at the client, a request counts in every bucket from its send's to its end's, inclusive.
 */
export const peakFields = (
  rec: MetricsRecorder,
  done: Int32Array,
  tokenOffset: number,
  /** Most one-second buckets counted densely (the sparse path gives the same figures, slower). */
  denseBuckets = Math.max(1 << 20, 4 * done.length),
): { max_output_tokens_per_s: number; max_concurrent_requests: number } => {
  if (done.length === 0) return { max_output_tokens_per_s: 0, max_concurrent_requests: 0 }
  // Indexed loops over the columns' arrays: this runs over every request of a long run.
  const sendOf = rec.send.data
  const e2elOf = rec.e2el.data
  let minStart = Number.POSITIVE_INFINITY
  let maxEnd = Number.NEGATIVE_INFINITY
  for (let k = 0; k < done.length; k++) {
    const i = done[k]!
    const s = sendOf[i]!
    if (s < minStart) minStart = s
    if (s + e2elOf[i]! > maxEnd) maxEnd = s + e2elOf[i]!
  }
  const numBuckets = Math.ceil(maxEnd - minStart) + 1
  const times = rec.tokenStepTime.view()
  const counts = rec.tokenStepCount.view()
  // Dense buckets when the run spans a bounded number of seconds (every realistic run: O(requests +
  // seconds) time and a few bytes a second); sparse ones, by sorting, when it spans years.
  if (numBuckets <= denseBuckets) {
    const tokens = new Float64Array(numBuckets)
    let maxTokens = 0
    for (let k = 0; k < times.length; k++) {
      const b = Math.floor(times[k]! + tokenOffset - minStart)
      if (b < 0 || b >= numBuckets) continue
      const c = tokens[b]! + counts[k]!
      tokens[b] = c
      if (c > maxTokens) maxTokens = c
    }
    // Concurrency: +1 at the send's bucket, −1 after the end's bucket, summed in bucket order.
    const delta = new Int32Array(numBuckets + 1)
    for (let k = 0; k < done.length; k++) {
      const i = done[k]!
      const s = sendOf[i]!
      delta[Math.floor(s - minStart)]!++
      delta[Math.min(Math.floor(s + e2elOf[i]! - minStart), numBuckets - 1) + 1]!--
    }
    let cur = 0
    let most = 0
    for (let b = 0; b < numBuckets; b++) {
      cur += delta[b]!
      if (cur > most) most = cur
    }
    return { max_output_tokens_per_s: maxTokens, max_concurrent_requests: most }
  }
  const tokens = new Map<number, number>()
  let maxTokens = 0
  for (let k = 0; k < times.length; k++) {
    const b = Math.floor(times[k]! + tokenOffset - minStart)
    if (b < 0 || b >= numBuckets) continue
    const c = (tokens.get(b) ?? 0) + counts[k]!
    tokens.set(b, c)
    if (c > maxTokens) maxTokens = c
  }
  const edges = new Float64Array(2 * done.length)
  const delta = new Float64Array(2 * done.length)
  done.forEach((i, k) => {
    const s = rec.send.get(i)
    edges[2 * k] = Math.floor(s - minStart)
    delta[2 * k] = 1
    edges[2 * k + 1] = Math.min(Math.floor(s + rec.e2el.get(i) - minStart), numBuckets - 1) + 1
    delta[2 * k + 1] = -1
  })
  const [e, d] = sortPairs(edges, delta)
  let cur = 0
  let most = 0
  for (let k = 0; k < e.length; k++) {
    cur += d[k]!
    // Apply every change at the same bucket before reading the level.
    if (k + 1 < e.length && e[k + 1] === e[k]) continue
    if (cur > most) most = cur
  }
  return { max_output_tokens_per_s: maxTokens, max_concurrent_requests: most }
}

/** vllm bench's fields for a set of requests, and the queueing time (arrival to first schedule). */
export type BenchFields = BenchSummary & {
  readonly mean_queue_time_ms: number
  readonly median_queue_time_ms: number
  readonly p99_queue_time_ms: number
}

/** The vllm-bench metric fields for a set of completed requests; ITL given separately. */
export const benchFields = (
  rec: MetricsRecorder,
  done: ArrayLike<number>,
  failed: number,
  itl: Distribution,
  goodput: GoodputSlo | undefined,
  extra: ExtraStats = {},
  scratch: SortScratch = new SortScratch(),
): BenchFields => {
  const n = done.length
  const ttftOf = rec.ttft.data
  const e2elOf = rec.e2el.data
  const outOf = rec.outputTokens.data
  // vllm/benchmarks/serve.py: TPOT = (latency − ttft) / (output_len − 1) for output_len > 1.
  const tpotOf = (i: number): number => (e2elOf[i]! - ttftOf[i]!) / (outOf[i]! - 1)
  const cqOf = rec.clientQueueTime.data
  const inOf = rec.inputTokens.data
  const sendOf = rec.send.data
  let tpotCount = 0
  let inTok = 0
  let outTok = 0
  let firstSend = Number.POSITIVE_INFINITY
  let lastDone = Number.NEGATIVE_INFINITY
  let good = 0
  for (let k = 0; k < n; k++) {
    const i = done[k]!
    const t = ttftOf[i]!
    const e = e2elOf[i]!
    const out = outOf[i]!
    let reqTpot = 0
    if (out > 1) {
      reqTpot = tpotOf(i)
      tpotCount++
    }
    inTok += inOf[i]!
    outTok += out
    const s = sendOf[i]!
    if (s < firstSend) firstSend = s
    if (s + e > lastDone) lastDone = s + e
    if (
      goodput !== undefined &&
      (goodput.ttftMs === undefined || t * 1000 <= goodput.ttftMs) &&
      (goodput.tpotMs === undefined || reqTpot * 1000 <= goodput.tpotMs) &&
      (goodput.e2elMs === undefined || e * 1000 <= goodput.e2elMs)
    )
      good++
  }
  const duration = n > 0 ? lastDone - firstSend : 0
  const per = (x: number) => (duration > 0 ? x / duration : 0)
  const fields: Record<string, number> = {
    completed: n,
    failed,
    duration,
    total_input_tokens: inTok,
    total_output_tokens: outTok,
    request_throughput: per(n),
    output_throughput: per(outTok),
    total_token_throughput: per(inTok + outTok),
  }
  if (goodput !== undefined) fields.request_goodput = per(good)
  // One buffer serves each per-request metric in turn (sorted in place by distributionOf), so a long
  // run holds one extra column at a time rather than four.
  const buf = new Float64Array(n)
  const column = (of: ArrayLike<number>): Float64Array => {
    for (let k = 0; k < n; k++) buf[k] = of[done[k]!]!
    return buf
  }
  const pcts = extra.percentiles ?? []
  ms(distributionOf(column(ttftOf), scratch), "ttft", fields, pcts)
  let m = 0
  for (let k = 0; k < n; k++) {
    const i = done[k]!
    if (outOf[i]! > 1) buf[m++] = tpotOf(i)
  }
  ms(distributionOf(buf.subarray(0, tpotCount), scratch), "tpot", fields, pcts)
  ms(itl, "itl", fields, pcts)
  if (extra.e2elIncludingClientQueue === true) {
    for (let k = 0; k < n; k++) {
      const i = done[k]!
      buf[k] = e2elOf[i]! + cqOf[i]!
    }
    ms(distributionOf(buf, scratch), "e2el_including_client_queue", fields, pcts)
  }
  ms(distributionOf(column(e2elOf), scratch), "e2el", fields, pcts)
  if (extra.clientQueue === true) ms(distributionOf(column(cqOf), scratch), "client_queue_time", fields, pcts)
  const q = distributionOf(column(rec.queueTime.data), scratch)
  fields.mean_queue_time_ms = q.mean * 1000
  fields.median_queue_time_ms = q.median * 1000
  fields.p99_queue_time_ms = q.p99 * 1000
  // Every StatKey was written by ms() for the four metrics above, and the queue times just now.
  return fields as BenchFields
}
