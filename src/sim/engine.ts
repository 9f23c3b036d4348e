// One vLLM engine (one replica): waiting queue, running list, KV cache, and the step cycle
// begin (schedule + step time) → end (apply computed tokens, sample, finish). The caller owns the
// clock: it calls beginStep at the time the engine is free and endStep when the step's time has passed.
// Used by the batch simulator and, in wall time, by the twin server.
import type { StepTimeModel } from "../hw/types.ts"
import { makeScheduledBatch, schedule, type ScheduledBatch, type SchedulerState } from "./batch-formation.ts"
import { KvBlockManager } from "./kv-block-manager.ts"
import type { RequestState } from "./request-state.ts"
import type { ReplicaLoad, SchedulingPolicy } from "./spec.ts"
import type { EngineConfig, RequestSpec } from "./types.ts"
import { WaitingQueue } from "./waiting-queue.ts"
import { blockKey } from "./prefix-cache.ts"

/** What an engine reports as steps complete. The engine calls these; it never reads a clock. */
export interface EngineListener {
  /** A token was sampled for `req` by the step that ended at `time` (first = its first output token). */
  onToken(req: RequestState, time: number, first: boolean): void
  onFinish(req: RequestState, time: number): void
  onPreempt(req: RequestState, time: number): void
  /** A request that can never run here (e.g. its prompt needs more KV blocks than exist). */
  onReject(req: RequestState, time: number, reason: string): void
  onStep(engine: Engine, start: number, end: number, batch: ScheduledBatch): void
}

export class Engine implements SchedulerState, ReplicaLoad {
  readonly index: number
  readonly config: EngineConfig
  readonly policy: SchedulingPolicy
  readonly kv: KvBlockManager
  readonly waiting: WaitingQueue
  readonly stepTime: StepTimeModel
  private readonly listener: EngineListener
  running: RequestState[] = []
  admittedSeq = 0
  readonly batch: ScheduledBatch = makeScheduledBatch()
  /** Start time of the step in flight, or −1 when idle. */
  stepStart = -1
  numSteps = 0

  constructor(index: number, config: EngineConfig, policy: SchedulingPolicy, stepTime: StepTimeModel, listener: EngineListener) {
    this.index = index
    this.config = config
    this.policy = policy
    this.kv = new KvBlockManager(config.numGpuBlocks, config.blockSize, config.enablePrefixCaching)
    this.waiting = new WaitingQueue(policy)
    this.stepTime = stepTime
    this.listener = listener
  }

  get numRunning(): number {
    return this.running.length
  }

  get numWaiting(): number {
    return this.waiting.size
  }

  get kvCacheUsage(): number {
    return this.kv.usage
  }

  get busy(): boolean {
    return this.stepStart >= 0
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.size > 0
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

  enqueue(req: RequestState, now: number): void {
    req.engineArrival = now
    this.waiting.push(req)
  }

  /**
   * Forms the next batch at `now`; returns the step's duration, or −1 when nothing can run
   * (idle, or the head of the queue cannot fit even in an empty cache — then it is rejected).
   */
  beginStep(now: number): number {
    for (;;) {
      schedule(this, this.batch)
      for (const p of this.batch.preempted) this.listener.onPreempt(p, now)
      if (this.batch.count > 0) break
      const head = this.waiting.peek()
      if (head === undefined || this.running.length > 0) return -1
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
    return this.stepTime.stepTime(this.batch.shape)
  }

  /** Applies the step that began at stepStart and ends at `end`. */
  endStep(end: number): void {
    const b = this.batch
    const kv = this.kv
    let finished = 0
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
      if (req.numOutputTokensDone >= req.outputTokens) {
        kv.free(req, false)
        finished++
        this.listener.onFinish(req, end)
      }
    }
    if (finished > 0) this.running = this.running.filter((r) => r.numOutputTokensDone < r.outputTokens)
    this.numSteps++
    this.listener.onStep(this, this.stepStart, end, b)
    this.stepStart = -1
  }
}
