// One scheduling decision (src/sim/batch-formation.ts), driven directly: the state is built by hand so
// each expected batch follows from vLLM V1's Scheduler.schedule (vllm/v1/core/sched/scheduler.py).
// Contracts, as BLIS states them for its batch formation: running requests first, then waiting ones
// in policy order; the step's tokens never exceed max_num_batched_tokens nor its requests max_num_seqs;
// a preempted request gives back its tokens and blocks. It does not advance time, does not record
// metrics, does not change a scheduled request's computed tokens (the step's end does), and does not
// admit a waiting request in a step that preempted.
import { describe, expect, it } from "vitest"
import { chunkFor, makeScheduledBatch, schedule, type ScheduledBatch, type SchedulerState } from "../../src/sim/batch-formation.ts"
import { KvBlockManager } from "../../src/sim/kv-block-manager.ts"
import { RequestState } from "../../src/sim/request-state.ts"
import { fcfs, priority } from "../../src/sim/scheduling-policy.ts"
import type { SchedulingPolicy } from "../../src/sim/spec.ts"
import type { EngineConfig } from "../../src/sim/types.ts"
import { WaitingQueue } from "../../src/sim/waiting-queue.ts"
import { engineConfig, request } from "./helpers.ts"

interface Harness {
  readonly state: SchedulerState
  readonly out: ScheduledBatch
  /** A request already running: prompt prefilled, `decoded` tokens sampled, blocks held for what is computed. */
  run(input: number, decoded: number, extra?: { priority?: number; arrival?: number }): RequestState
  wait(input: number, extra?: { priority?: number; arrival?: number }): RequestState
  step(): ScheduledBatch
}

const harness = (over: Partial<EngineConfig>, policy: SchedulingPolicy = fcfs): Harness => {
  const config = engineConfig({ enablePrefixCaching: false, ...over })
  const kv = new KvBlockManager(config.numGpuBlocks, config.blockSize, config.enablePrefixCaching)
  const waiting = new WaitingQueue(policy)
  const state: SchedulerState = {
    config,
    policy,
    kv,
    waiting,
    running: [],
    get numRunning() {
      return this.running.length
    },
    explicit: [],
    admittedSeq: 0,
  }
  const out = makeScheduledBatch()
  let nextId = 0
  return {
    state,
    out,
    run: (input, decoded, extra = {}) => {
      const r = new RequestState(nextId++, request(extra.arrival ?? 0, input, 1000, { priority: extra.priority ?? 0 }))
      r.numOutputTokensDone = decoded
      r.numComputedTokens = input + decoded - 1
      if (!kv.allocateSlots(r, r.numComputedTokens)) throw new Error("harness: KV pool too small for the running set")
      r.admittedSeq = state.admittedSeq++
      state.running.push(r)
      return r
    },
    wait: (input, extra = {}) => {
      const r = new RequestState(nextId++, request(extra.arrival ?? 0, input, 10, { priority: extra.priority ?? 0 }))
      waiting.push(r)
      return r
    },
    step: () => {
      schedule(state, out)
      return out
    },
  }
}

const scheduled = (b: ScheduledBatch): Array<[number, number]> => Array.from({ length: b.count }, (_, k) => [b.reqs[k]!.id, b.numNew[k]!])

describe("batch formation: order, budget and seats", () => {
  it("schedules running requests before waiting ones, then waiting ones in policy order", () => {
    const h = harness({ maxNumBatchedTokens: 1000 })
    const a = h.run(100, 3)
    const b = h.run(200, 1)
    const c = h.wait(300, { arrival: 2 })
    const d = h.wait(50, { arrival: 1 })
    // Each running request decodes one token; FCFS admits the earlier arrival (d) first.
    expect(scheduled(h.step())).toEqual([
      [a.id, 1],
      [b.id, 1],
      [d.id, 50],
      [c.id, 300],
    ])
    expect(h.state.running.map((r) => r.id)).toEqual([a.id, b.id, d.id, c.id])
  })

  it("never schedules more tokens than max_num_batched_tokens: the last admitted prompt gets the remainder as a chunk", () => {
    const h = harness({ maxNumBatchedTokens: 256 })
    h.run(100, 1)
    h.run(100, 1)
    const w = h.wait(1000)
    const b = h.step()
    expect(scheduled(b)).toEqual([
      [0, 1],
      [1, 1],
      [w.id, 254],
    ])
    expect(b.shape.numTokens).toBe(256)
    expect(b.shape.numPrefillReqs).toBe(1)
    expect(b.shape.numDecodeReqs).toBe(2)
    expect(b.shape.prefillTokens).toBe(254)
  })

  it("a running prefill continues with the tokens left in its prompt, capped by the budget", () => {
    const h = harness({ maxNumBatchedTokens: 300 })
    const p = h.run(1000, 0)
    // run() marks the prompt computed; rewind it to a chunk boundary (400 of 1000 tokens computed).
    p.numComputedTokens = 400
    expect(scheduled(h.step())).toEqual([[p.id, 300]])
  })

  it("admits no more requests than max_num_seqs, counting the running ones", () => {
    const h = harness({ maxNumSeqs: 3 })
    h.run(10, 1)
    h.wait(10)
    h.wait(10)
    h.wait(10)
    const b = h.step()
    expect(b.count).toBe(3)
    expect(h.state.running.length).toBe(3)
    expect(h.state.waiting.size).toBe(1)
  })

  it("stops admitting at the first waiting request that does not fit (head-of-line), leaving later ones waiting", () => {
    // 4 blocks of 16 tokens: the head needs 5, the small one behind it would fit.
    const h = harness({ numGpuBlocks: 4 })
    h.wait(80, { arrival: 0 })
    h.wait(10, { arrival: 1 })
    expect(h.step().count).toBe(0)
    expect(h.state.waiting.size).toBe(2)
    expect(h.state.kv.numUsed).toBe(0)
  })

  it("allocates KV blocks for computed + scheduled tokens and does not touch computed tokens (the step's end does)", () => {
    const h = harness({ maxNumBatchedTokens: 100 })
    const r = h.run(31, 2) // 32 computed tokens: 2 full blocks; its decode token needs a third
    const w = h.wait(40)
    const before = r.numComputedTokens
    h.step()
    expect(r.numComputedTokens).toBe(before)
    expect(w.numComputedTokens).toBe(0)
    expect(r.numBlocks).toBe(3)
    expect(w.numBlocks).toBe(3)
    expect(h.state.kv.numUsed).toBe(6)
  })
})

describe("batch formation: chunked prefill", () => {
  it("chunkFor caps a chunk by the long-prefill threshold, then by the budget", () => {
    const cfg = engineConfig({ longPrefillTokenThreshold: 512 })
    expect(chunkFor(cfg, 2000, 4096)).toBe(512)
    expect(chunkFor(cfg, 2000, 300)).toBe(300)
    expect(chunkFor(cfg, 100, 4096)).toBe(100)
    expect(chunkFor(engineConfig({ longPrefillTokenThreshold: 0 }), 2000, 4096)).toBe(2000)
  })

  it("with a long-prefill threshold, a long prompt takes at most that many tokens per step and leaves budget for others", () => {
    const h = harness({ maxNumBatchedTokens: 1000, longPrefillTokenThreshold: 256 })
    const a = h.wait(2000, { arrival: 0 })
    const b = h.wait(2000, { arrival: 1 })
    expect(scheduled(h.step())).toEqual([
      [a.id, 256],
      [b.id, 256],
    ])
  })

  it("with chunked prefill off, a prompt longer than the remaining budget is not admitted, and blocks the queue", () => {
    const h = harness({ maxNumBatchedTokens: 500, enableChunkedPrefill: false })
    h.run(100, 1)
    const big = h.wait(500, { arrival: 0 })
    h.wait(10, { arrival: 1 })
    expect(scheduled(h.step())).toEqual([[0, 1]]) // 499 left < 500
    expect(h.state.waiting.peek()).toBe(big)
    // With the whole budget free it runs unchunked.
    const h2 = harness({ maxNumBatchedTokens: 500, enableChunkedPrefill: false })
    const big2 = h2.wait(500)
    expect(scheduled(h2.step())).toEqual([[big2.id, 500]])
  })
})

describe("batch formation: preemption", () => {
  it("FCFS preempts the newest admitted request, frees its blocks and sends it back to the waiting queue", () => {
    // 3 blocks of 16: A (16 computed tokens) needs a second block for its next token; B holds the rest.
    const h = harness({ numGpuBlocks: 3 })
    const a = h.run(15, 2) // 16 computed → next token needs block 2
    const b = h.run(31, 1) // 31 computed, 2 blocks
    expect(h.state.kv.numFree).toBe(0)
    const out = h.step()
    expect(out.preempted).toEqual([b])
    expect(scheduled(out)).toEqual([[a.id, 1]])
    expect(b.numComputedTokens).toBe(0)
    expect(b.numBlocks).toBe(0)
    expect(b.numPreemptions).toBe(1)
    expect(h.state.running).toEqual([a])
    expect(h.state.waiting.peek()).toBe(b)
  })

  it("a request that cannot get a block even after preempting every later one preempts itself and is not scheduled", () => {
    const h = harness({ numGpuBlocks: 1 })
    const a = h.run(15, 2) // needs a second block; nobody else to preempt
    const out = h.step()
    expect(out.preempted).toEqual([a])
    expect(out.count).toBe(0)
    expect(h.state.running).toEqual([])
    expect(h.state.kv.numUsed).toBe(0)
  })

  it("priority preempts the running request with the largest (priority, arrival) and gives back the tokens it was already scheduled", () => {
    // X (priority 5) is first in the running list and is scheduled first; Y (priority 0) then needs a
    // block. The victim is X, already in this step's batch: its token returns to the budget (vLLM:
    // token_budget += num_scheduled_tokens[preempted_req]) and it leaves the batch.
    const h = harness({ numGpuBlocks: 3, maxNumBatchedTokens: 2 }, priority)
    const x = h.run(31, 1, { priority: 5 }) // 31 computed: its token fits in its 2 blocks
    const y = h.run(15, 2, { priority: 0 }) // 16 computed, 1 block: needs a second
    expect(h.state.kv.numFree).toBe(0)
    const out = h.step()
    expect(out.preempted).toEqual([x])
    expect(scheduled(out)).toEqual([[y.id, 1]])
    expect(out.shape.numTokens).toBe(1)
    expect(h.state.running).toEqual([y])
    expect(y.numBlocks).toBe(2)
  })

  it("priority breaks a priority tie by the later arrival", () => {
    const reqs = [
      { id: 0, arrival: 1, inputTokens: 1, outputTokens: 1, priority: 2, numComputedTokens: 0, numOutputTokensDone: 0 },
      { id: 1, arrival: 3, inputTokens: 1, outputTokens: 1, priority: 2, numComputedTokens: 0, numOutputTokensDone: 0 },
      { id: 2, arrival: 5, inputTokens: 1, outputTokens: 1, priority: 1, numComputedTokens: 0, numOutputTokensDone: 0 },
    ]
    expect(priority.pickVictim(reqs)).toBe(1)
    expect(fcfs.pickVictim(reqs)).toBe(2)
  })

  it("does not admit a waiting request in a step that preempted, even with budget and seats to spare", () => {
    const h = harness({ numGpuBlocks: 3 })
    h.run(15, 2)
    h.run(31, 1)
    // w heads the queue and its one block would fit in the block the preemption freed.
    const w = h.wait(1, { arrival: -1 })
    const out = h.step()
    expect(out.preempted.length).toBe(1)
    expect(h.state.kv.numFree).toBe(1)
    expect(out.reqs.slice(0, out.count)).not.toContain(w)
    expect(h.state.waiting.size).toBe(2)
    // The next step preempts nothing and admits it.
    const next = h.step()
    expect(next.preempted.length).toBe(0)
    expect(scheduled(next)).toEqual([
      [0, 1],
      [w.id, 1],
    ])
  })
})

describe("batch formation: prefix hits on admission", () => {
  it("a waiting request's computed tokens start after its cached leading blocks, which count against no new blocks", () => {
    const h = harness({ enablePrefixCaching: true })
    const kv = h.state.kv
    // A finished request left 4 blocks of prefix 9 (64 tokens) cached and evictable.
    const first = new RequestState(100, request(0, 80, 1, { prefixes: [{ id: 9, length: 64 }] }))
    kv.allocateSlots(first, 80)
    kv.commitComputed(first, 0, 80)
    kv.free(first, false)
    expect(kv.cache.numEvictable).toBe(4)
    const w = new RequestState(101, request(0, 100, 1, { prefixes: [{ id: 9, length: 64 }] }))
    h.state.waiting.push(w)
    const out = h.step()
    expect(scheduled(out)).toEqual([[w.id, 36]])
    expect(w.numComputedTokens).toBe(64)
    expect(w.numBlocks).toBe(7)
    expect(kv.prefixHits).toBe(64)
    expect(kv.prefixQueries).toBe(100)
  })
})
