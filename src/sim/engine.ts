// One vLLM engine (one replica): waiting queue, running list, KV cache, and the step cycle
// begin (schedule + step time) → end (apply computed tokens, sample, finish). The caller owns the
// clock: it calls beginStep at the time the engine is free and endStep when the step's time has passed.
// Used by the batch simulator and, in wall time, by the twin server.
//
// Requests in steady decode are advanced implicitly by a DecodeGroup (lazyDecode), which makes a step
// cost O(1) in the batch size. A step is formed on the fast path when the outcome provably equals the
// exact pass (no preemption, and the token budget is not contended out of admission order);
// otherwise the group is dissolved and the exact pass runs. The two give identical schedules.
import type { StepTimeModel } from "../hw/types.ts"
import {
  admitWaiting,
  chunkFor,
  computeShape,
  makeScheduledBatch,
  schedule,
  type ScheduledBatch,
  type SchedulerState,
} from "./batch-formation.ts"
import { DecodeGroup } from "./decode-group.ts"
import { CpuKvTier } from "./cpu-kv-tier.ts"
import { KvBlockManager } from "./kv-block-manager.ts"
import type { RequestState } from "./request-state.ts"
import type { ReplicaLoad, SchedulingPolicy } from "./spec.ts"
import type { EngineConfig, RequestSpec } from "./types.ts"
import { WaitingQueue } from "./waiting-queue.ts"
import { blockKey } from "./prefix-cache.ts"
import { StepTimeError } from "./step-time-error.ts"

/** What an engine reports as steps complete. The engine calls these; it never reads a clock. */
export interface EngineListener {
  /** A token was sampled for an explicitly tracked request by the step that ended at `time`. */
  onToken(req: RequestState, time: number, first: boolean): void
  /** Every decode-group member got a token in the step; `measuredByStage` counts those whose ITL counts. */
  onGroupTokens(gap: number, measuredByStage: ReadonlyArray<number>): void
  /** Whether a request's inter-token latencies are recorded (not a warm-up request). */
  isMeasured(req: RequestState): boolean
  onFinish(req: RequestState, time: number): void
  onPreempt(req: RequestState, time: number): void
  /** A request that can never run here (e.g. its prompt needs more KV blocks than exist). */
  onReject(req: RequestState, time: number, reason: string): void
  onStep(engine: Engine, start: number, end: number, batch: ScheduledBatch): void
}

export interface EngineOptions {
  /** Advance steady decodes implicitly (default true). The twin turns it off to see every token. */
  readonly lazyDecode?: boolean
}

/**
 * Sorts a step's finished requests by admission order, stably. A step finishes a handful at most, and
 * an insertion sort of those is several times cheaper than Array.prototype.sort with a comparator.
 */
const sortByAdmission = (reqs: RequestState[]): void => {
  if (reqs.length > 64) {
    reqs.sort((a, b) => a.admittedSeq - b.admittedSeq) // stable too; avoids a quadratic worst case
    return
  }
  for (let i = 1; i < reqs.length; i++) {
    const r = reqs[i]!
    let j = i - 1
    for (; j >= 0 && reqs[j]!.admittedSeq > r.admittedSeq; j--) reqs[j + 1] = reqs[j]!
    reqs[j + 1] = r
  }
}

/**
 * Empties or shortens an array by popping: a step drops a few entries, and pop is compiled inline,
 * while assigning `length` is a runtime call on every step.
 */
const truncate = (xs: unknown[], k: number): void => {
  while (xs.length > k) xs.pop()
}

/** Drops requests that joined the decode group or finished, in place (no array per step). */
const keepExplicit = (explicit: RequestState[]): void => {
  let k = 0
  for (const r of explicit) if (!r.inDecodeGroup && !r.finished) explicit[k++] = r
  truncate(explicit, k)
}

export class Engine implements SchedulerState, ReplicaLoad {
  readonly index: number
  readonly config: EngineConfig
  readonly policy: SchedulingPolicy
  readonly kv: KvBlockManager
  readonly waiting: WaitingQueue
  readonly stepTime: StepTimeModel
  private readonly listener: EngineListener
  private readonly lazyDecode: boolean
  private readonly group: DecodeGroup
  running: RequestState[] = []
  explicit: RequestState[] = []
  admittedSeq = 0
  readonly batch: ScheduledBatch = makeScheduledBatch()
  /** Start time of the step in flight, or −1 when idle. */
  stepStart = -1
  /** Steps completed; the decode group's clock. */
  numSteps = 0
  private lastStepEnd = 0
  private groupInStep = false
  private readonly finishedInStep: RequestState[] = []
  /** Finished requests still in `running` (removed in batches: removing each costs O(batch)). */
  private numFinishedInRunning = 0
  private numAbortsPending = 0
  /** Finished requests whose blocks wait for a KV transfer (P/D prefill side; see releaseHeld). */
  numHeld = 0
  /**
   * Async scheduling: requests that reached the engine after the schedule of the coming step was formed,
   * in arrival order (vllm/v1/engine/core.py step_with_batch_queue schedules step N+1 before blocking on
   * step N, so an arrival during step N is first scheduled in step N+2).
   */
  private readonly unscheduled: RequestState[] = []
  private unscheduledHead = 0
  /** Start of the previous step when the engine has been busy since; −1 after idling. */
  private previousStepStart = -1

  constructor(
    index: number,
    config: EngineConfig,
    policy: SchedulingPolicy,
    stepTime: StepTimeModel,
    listener: EngineListener,
    options: EngineOptions = {},
  ) {
    this.index = index
    this.config = config
    this.policy = policy
    const cpuBlocks = config.cpuOffloadBlocks ?? 0
    const cpu = cpuBlocks > 0 ? new CpuKvTier(cpuBlocks, config.cpuLoadSecondsPerBlock ?? 0) : undefined
    this.kv = new KvBlockManager(config.numGpuBlocks, config.blockSize, config.enablePrefixCaching, cpu)
    this.waiting = new WaitingQueue(policy)
    this.stepTime = stepTime
    this.listener = listener
    this.lazyDecode = options.lazyDecode ?? true
    this.group = new DecodeGroup(config.blockSize)
  }

  get numRunning(): number {
    return this.running.length - this.numFinishedInRunning
  }

  get numWaiting(): number {
    return this.waiting.size + this.unscheduled.length - this.unscheduledHead
  }

  get kvCacheUsage(): number {
    return this.kv.usage
  }

  get busy(): boolean {
    return this.stepStart >= 0
  }

  hasWork(): boolean {
    return this.numRunning > 0 || this.numWaiting > 0 || this.numAbortsPending > 0
  }

  private compactRunning(): void {
    if (this.numFinishedInRunning === 0) return
    this.running = this.running.filter((r) => !r.finished)
    this.numFinishedInRunning = 0
  }

  /** Brings every running request's fields up to date (for inspection; changes no outcome). */
  syncRunning(): void {
    this.compactRunning()
    this.group.syncAll(this.numSteps, this.lastStepEnd)
  }

  cachedPrefixTokens(req: RequestSpec): number {
    if (!this.config.enablePrefixCaching) return 0
    let blocks = 0
    const max = Math.floor((req.inputTokens - 1) / this.config.blockSize)
    for (let b = 0; b < max; b++) {
      const key = blockKey(req, -1, b, this.config.blockSize, false)
      if (key < 0 || !this.kv.cache.has(key)) break
      blocks++
    }
    return blocks * this.config.blockSize
  }

  /**
   * Drops a request whose client disconnected (vLLM aborts it: blocks freed, no more steps). Takes
   * effect before the next step; a step in flight still completes for it.
   */
  abort(req: RequestState): void {
    if (req.finished || req.aborted) return
    req.aborted = true
    this.numAbortsPending++
  }

  private dropAborted(): void {
    this.numAbortsPending = 0
    if (this.group.size > 0) this.group.dissolve(this.numSteps, this.lastStepEnd)
    this.compactRunning()
    for (const r of this.running) {
      if (!r.aborted) continue
      r.finished = true
      this.kv.free(r, false)
    }
    this.running = this.running.filter((r) => !r.aborted)
    this.explicit = this.running.slice()
    this.waiting.removeIf((r) => r.aborted)
  }

  enqueue(req: RequestState, now: number): void {
    req.engineArrival = now
    if (this.config.asyncScheduling === true) this.unscheduled.push(req)
    else this.waiting.push(req)
  }

  /**
   * Async scheduling: hands the scheduler what had arrived when this step's schedule was formed — at the
   * start of the previous step while the engine stays busy with running requests, now after idling.
   */
  private releaseArrivals(now: number): void {
    const q = this.unscheduled
    if (this.unscheduledHead === q.length) return
    const cutoff = this.previousStepStart >= 0 && this.numRunning > 0 ? this.previousStepStart : now
    let i = this.unscheduledHead
    while (i < q.length && q[i]!.engineArrival <= cutoff) {
      const req = q[i++]!
      if (!req.aborted) this.waiting.push(req)
    }
    if (i === q.length) {
      truncate(q, 0)
      this.unscheduledHead = 0
    } else if (i > 1024 && i * 2 > q.length) {
      // Under steady arrivals the buffer never empties: drop the released prefix now and then.
      q.splice(0, i)
      this.unscheduledHead = 0
    } else this.unscheduledHead = i
  }

  /**
   * Forms the next batch at `now`; returns the step's duration, or −1 when nothing can run
   * (idle, or the head of the queue cannot fit even in an empty engine — then it is rejected).
   */
  beginStep(now: number): number {
    if (this.numAbortsPending > 0) this.dropAborted()
    if (this.lastStepEnd !== now) this.previousStepStart = -1
    this.releaseArrivals(now)
    for (;;) {
      if (this.group.size > 0 && this.fastSchedule()) {
        this.groupInStep = true
        break
      }
      this.groupInStep = false
      if (this.group.size > 0) this.group.dissolve(this.numSteps, this.lastStepEnd)
      this.compactRunning()
      schedule(this, this.batch)
      for (const p of this.batch.preempted) this.listener.onPreempt(p, now)
      if (this.batch.count > 0) break
      if (this.unscheduledHead < this.unscheduled.length) {
        // Nothing was schedulable when this step was formed: the engine core schedules anew at once.
        this.previousStepStart = -1
        this.releaseArrivals(now)
        continue
      }
      const head = this.waiting.peek()
      // Blocks held for a KV transfer come back when it completes: the head may fit then.
      if (head === undefined || this.numRunning > 0 || this.numHeld > 0) return -1
      // Nothing runs and the head cannot be admitted into an empty engine: it never will be.
      this.waiting.pop()
      const tooLongUnchunked = !this.config.enableChunkedPrefill && head.numTokens > this.config.maxNumBatchedTokens
      this.listener.onReject(
        head,
        now,
        tooLongUnchunked
          ? "prompt longer than max_num_batched_tokens with chunked prefill off"
          : "request needs more KV cache blocks than the engine has (num_gpu_blocks)",
      )
    }
    this.stepStart = now
    const dt = this.stepTime.stepTime(this.batch.shape)
    // A step that takes Infinity or NaN seconds would turn every latency into null: say so instead.
    if (!(dt >= 0 && dt < Number.POSITIVE_INFINITY)) throw new StepTimeError(this.stepTime.name, this.batch.shape.numTokens, this.batch.shape.numReqs, dt)
    // Blocks copied back from the CPU KV tier for this step's admissions add their transfer time.
    return dt + this.batch.loadSeconds
  }

  /**
   * The step with every group member decoding one token, when that is provably what the exact pass
   * would do; false (nothing changed) otherwise.
   */
  private fastSchedule(): boolean {
    const cfg = this.config
    const kv = this.kv
    const g = this.group
    const out = this.batch
    const explicit = this.explicit
    let budget = cfg.maxNumBatchedTokens - g.size
    if (budget < 0) return false
    // The exact pass serves running requests in admission order. Members first is exact when every
    // explicit request was admitted after every member, or when nobody's share is cut by the budget.
    if (explicit.length > 0 && explicit[0]!.admittedSeq < g.maxAdmittedSeq) {
      let demand = g.size
      for (const r of explicit) demand += chunkFor(cfg, r.numTokens - r.numComputedTokens, Number.POSITIVE_INFINITY)
      if (demand > cfg.maxNumBatchedTokens) return false
    }
    const groupBlocks = g.blocksNeeded(this.numSteps)
    let blocks = groupBlocks
    out.count = 0
    if (out.preempted.length > 0) out.preempted.length = 0 // setting length is a runtime call: skip it when empty
    out.loadSeconds = 0
    for (let i = 0; i < explicit.length && budget > 0; i++) {
      const req = explicit[i]!
      const n = chunkFor(cfg, req.numTokens - req.numComputedTokens, budget)
      const need = kv.blocksFor(req.numComputedTokens + n) - req.numBlocks
      if (need > 0) blocks += need
      out.reqs[out.count] = req
      out.numNew[out.count] = n
      out.count++
      budget -= n
    }
    // Any shortfall means a preemption: leave that to the exact pass.
    if (blocks > kv.numFree) {
      out.count = 0
      return false
    }
    kv.allocateBlocks(groupBlocks)
    for (let k = 0; k < out.count; k++) {
      const req = out.reqs[k]!
      kv.allocateSlots(req, req.numComputedTokens + out.numNew[k]!)
    }
    admitWaiting(this, out, budget)
    computeShape(out)
    const shape = out.shape
    shape.numReqs += g.size
    shape.numTokens += g.size
    shape.numDecodeReqs += g.size
    shape.decodeContextTokens += g.contextTokens(this.numSteps)
    return true
  }

  /** P/D: the KV connector has sent a finished request's blocks; they return to the pool. */
  releaseHeld(req: RequestState): void {
    this.kv.free(req, false)
    this.numHeld--
  }

  /** Applies the step that began at stepStart and ends at `end`. */
  endStep(end: number): void {
    const b = this.batch
    const kv = this.kv
    const g = this.group
    const step = ++this.numSteps
    const finished = this.finishedInStep
    truncate(finished, 0)
    if (this.groupInStep) {
      this.listener.onGroupTokens(end - this.lastStepEnd, g.measuredByStage)
      for (let req = g.popFinished(step, end); req !== undefined; req = g.popFinished(step, end)) finished.push(req)
    }
    const groupFinished = finished.length
    let joined = 0
    for (let k = 0; k < b.count; k++) {
      const req = b.reqs[k]!
      const from = req.numComputedTokens
      req.numComputedTokens = from + b.numNew[k]!
      if (req.firstScheduled < 0) req.firstScheduled = this.stepStart
      kv.commitComputed(req, from, req.numComputedTokens)
      if (req.numComputedTokens < req.numTokens) continue // a prefill chunk: nothing sampled yet
      req.numOutputTokensDone++
      const first = req.firstTokenStep < 0
      if (first) req.firstTokenStep = end
      this.listener.onToken(req, end, first)
      req.lastTokenStep = end
      if (req.numOutputTokensDone >= req.outputTokens) finished.push(req)
      else if (this.lazyDecode && req.shareable !== Number.POSITIVE_INFINITY) {
        // Conversations (shareable to the end) stay explicit: their decode blocks are published as they fill.
        g.join(req, step, this.listener.isMeasured(req))
        joined++
      }
    }
    if (joined > 0) keepExplicit(this.explicit)
    if (finished.length > 0) {
      if (finished.length > 1) sortByAdmission(finished)
      for (const req of finished) {
        req.finished = true
        if (req.holdKvOnFinish) this.numHeld++
        else kv.free(req, false)
      }
      this.numFinishedInRunning += finished.length
      if (this.numFinishedInRunning > 64 && this.numFinishedInRunning * 2 > this.running.length) this.compactRunning()
      if (finished.length > groupFinished) keepExplicit(this.explicit)
      for (const req of finished) this.listener.onFinish(req, end)
    }
    this.lastStepEnd = end
    this.previousStepStart = this.stepStart
    this.listener.onStep(this, this.stepStart, end, b)
    this.stepStart = -1
  }
}
