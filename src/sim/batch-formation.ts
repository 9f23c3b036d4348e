// One scheduling decision of vLLM V1's scheduler (vllm/v1/core/sched/scheduler.py, Scheduler.schedule):
// a token budget of max_num_batched_tokens and a seat cap of max_num_seqs. Running requests go first,
// each getting its next decode token or prefill chunk; when one needs a KV block and none is free, the
// policy's victim is preempted by recompute (blocks freed, back to the waiting queue). Waiting
// requests are then admitted in policy order while budget, seats and blocks allow — but not in a step
// that preempted. Decides only: it never advances time and records no metrics.
import { emptyBatchShape, type BatchShape } from "../hw/types.ts"
import type { KvBlockManager, PrefixHit } from "./kv-block-manager.ts"
import type { RequestState } from "./request-state.ts"
import type { SchedulingPolicy } from "./spec.ts"
import type { EngineConfig } from "./types.ts"
import type { WaitingQueue } from "./waiting-queue.ts"

export interface SchedulerState {
  readonly config: EngineConfig
  readonly policy: SchedulingPolicy
  readonly kv: KvBlockManager
  readonly waiting: WaitingQueue
  /** In admission order (vLLM's self.running); may hold finished requests until compacted. */
  running: RequestState[]
  /** Running requests not yet finished. */
  readonly numRunning: number
  /** The running requests not in the decode group, in admission order (all of them on the exact path). */
  explicit: RequestState[]
  admittedSeq: number
}

/** The output of one decision; arrays are reused between steps. */
export interface ScheduledBatch {
  reqs: RequestState[]
  numNew: number[]
  count: number
  preempted: RequestState[]
  shape: BatchShape
  /** Seconds the step spends copying offloaded KV blocks back from the CPU tier (0 without one). */
  loadSeconds: number
}

export const makeScheduledBatch = (): ScheduledBatch => ({
  reqs: [],
  numNew: [],
  count: 0,
  preempted: [],
  shape: emptyBatchShape(),
  loadSeconds: 0,
})

const hit: PrefixHit = { blocks: 0, evictable: 0 }

/** Chunk size for a request given the remaining budget (chunked prefill, long-prefill threshold). */
export const chunkFor = (cfg: EngineConfig, remaining: number, budget: number): number => {
  let n = remaining
  if (cfg.longPrefillTokenThreshold > 0 && n > cfg.longPrefillTokenThreshold) n = cfg.longPrefillTokenThreshold
  return n < budget ? n : budget
}

const preempt = (s: SchedulerState, victim: RequestState, out: ScheduledBatch): void => {
  s.kv.free(victim, true)
  victim.numComputedTokens = 0
  victim.numPreemptions++
  s.waiting.push(victim)
  out.preempted.push(victim)
}

/** The exact scheduling pass over every running request (decode group dissolved, running compacted). */
export const schedule = (s: SchedulerState, out: ScheduledBatch): void => {
  const cfg = s.config
  const kv = s.kv
  let budget = cfg.maxNumBatchedTokens
  out.count = 0
  if (out.preempted.length > 0) out.preempted.length = 0
  out.loadSeconds = 0
  const running = s.running

  // 1. Running requests, in order.
  let i = 0
  while (i < running.length && budget > 0) {
    const req = running[i]!
    const numNew = chunkFor(cfg, req.numTokens - req.numComputedTokens, budget)
    let scheduledSelf = true
    while (!kv.allocateSlots(req, req.numComputedTokens + numNew)) {
      const v = s.policy.pickVictim(running)
      const victim = running[v]!
      running.splice(v, 1)
      if (v < i) {
        // The victim was already scheduled this step: take back its tokens (vLLM does the same).
        for (let k = 0; k < out.count; k++) {
          if (out.reqs[k] === victim) {
            budget += out.numNew[k]!
            out.reqs.splice(k, 1)
            out.numNew.splice(k, 1)
            out.count--
            break
          }
        }
        i--
      }
      preempt(s, victim, out)
      if (victim === req) {
        scheduledSelf = false
        break
      }
    }
    if (!scheduledSelf) continue
    out.reqs[out.count] = req
    out.numNew[out.count] = numNew
    out.count++
    budget -= numNew
    i++
  }

  // 2. Waiting requests, unless this step preempted.
  s.explicit = running.slice()
  if (out.preempted.length === 0) admitWaiting(s, out, budget)
  computeShape(out)
}

/** Admits waiting requests in policy order while budget, seats and KV blocks allow (head-of-line blocking). */
export const admitWaiting = (s: SchedulerState, out: ScheduledBatch, budgetLeft: number): void => {
  const cfg = s.config
  const kv = s.kv
  let budget = budgetLeft
  while (budget > 0 && s.numRunning < cfg.maxNumSeqs) {
    const req = s.waiting.peek()
    if (req === undefined) break
    kv.findCachedBlocks(req, hit)
    let computed = hit.blocks * kv.blockSize
    // KV from outside this GPU: a prefill replica's (P/D), else the CPU tier's blocks after the hit.
    let offloaded = 0
    if (req.numExternalTokens > computed) computed = req.numExternalTokens
    else if (kv.cpu !== undefined) {
      offloaded = kv.findOffloadedBlocks(req, hit.blocks)
      computed += offloaded * kv.blockSize
    }
    const remaining = req.numTokens - computed
    if (!cfg.enableChunkedPrefill && remaining > budget) break
    const numNew = chunkFor(cfg, remaining, budget)
    const needed = kv.blocksFor(computed + numNew) - hit.blocks
    if (needed + hit.evictable > kv.numFree) break
    s.waiting.pop()
    kv.applyHits(req, hit)
    if (computed > req.numComputedTokens) {
      kv.adoptExternal(req, computed, offloaded)
      req.numExternalTokens = 0
      if (offloaded > 0) out.loadSeconds += offloaded * kv.cpu!.loadSecondsPerBlock
    }
    kv.allocateSlots(req, computed + numNew)
    req.admittedSeq = s.admittedSeq++
    s.running.push(req)
    s.explicit.push(req)
    out.reqs[out.count] = req
    out.numNew[out.count] = numNew
    out.count++
    budget -= numNew
  }
}

/** The batch's shape for the step-time model, over the explicitly scheduled requests. */
export const computeShape = (out: ScheduledBatch): void => {
  const shape = out.shape
  shape.numReqs = out.count
  shape.numTokens = 0
  shape.numPrefillReqs = 0
  shape.prefillTokens = 0
  shape.numDecodeReqs = 0
  shape.prefillAttentionWork = 0
  shape.prefillContextTokens = 0
  shape.decodeContextTokens = 0
  for (let k = 0; k < out.count; k++) {
    const req = out.reqs[k]!
    const n = out.numNew[k]!
    const context = req.numComputedTokens + n
    shape.numTokens += n
    // A request with output already sampled computing one token is a decode; anything else is prefill.
    if (n === 1 && req.numOutputTokensDone > 0 && req.numComputedTokens === req.numTokens - 1) {
      shape.numDecodeReqs++
      shape.decodeContextTokens += context
    } else {
      shape.numPrefillReqs++
      shape.prefillTokens += n
      shape.prefillContextTokens += context
      shape.prefillAttentionWork += n * (req.numComputedTokens + (n + 1) / 2)
    }
  }
}
