// The kernel's invariants (src/sim/INVARIANTS.md), one `it` per id, property-tested over random
// workloads and engine configurations; every failure message starts with the invariant's id.
import fc from "fast-check"
import { describe, it } from "vitest"
import type { Engine } from "../../src/sim/engine.ts"
import { DONE, REJECTED } from "../../src/sim/metrics.ts"
import { leastKvUsage, leastOutstanding, prefixAffinity, roundRobin } from "../../src/sim/router.ts"
import { fcfs, priority, shortestPromptFirst } from "../../src/sim/scheduling-policy.ts"
import { simulate, type SimResult, type SimulateHooks } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"
import type { RequestSpec } from "../../src/sim/types.ts"
import { engineConfig, linearStepTime, listWorkload, request, spec } from "./helpers.ts"

const requestArb = fc.record({
  arrival: fc.double({ min: 0, max: 20, noNaN: true }),
  inputTokens: fc.integer({ min: 1, max: 3000 }),
  outputTokens: fc.integer({ min: 1, max: 300 }),
  prefixId: fc.integer({ min: -1, max: 3 }),
  prefixLen: fc.integer({ min: 16, max: 1500 }),
  contentId: fc.integer({ min: -1, max: 4 }),
  priority: fc.integer({ min: 0, max: 3 }),
})

const configArb = fc.record({
  numGpuBlocks: fc.integer({ min: 20, max: 2000 }),
  maxNumSeqs: fc.integer({ min: 1, max: 64 }),
  maxNumBatchedTokens: fc.integer({ min: 64, max: 4096 }),
  blockSize: fc.constantFrom(8, 16, 32),
  enableChunkedPrefill: fc.boolean(),
  enablePrefixCaching: fc.boolean(),
  longPrefillTokenThreshold: fc.constantFrom(0, 0, 256),
  asyncScheduling: fc.boolean(),
  policy: fc.constantFrom(fcfs, priority, shortestPromptFirst),
  replicas: fc.integer({ min: 1, max: 3 }),
  router: fc.constantFrom(roundRobin, leastOutstanding, leastKvUsage, prefixAffinity),
})

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never
type RawRequest = ValueOf<typeof requestArb>
type Config = ValueOf<typeof configArb>
const caseArb = fc.tuple(fc.array(requestArb, { minLength: 1, maxLength: 40 }), configArb)

/** The requests in send order (request id = index), as listWorkload sends them. */
const requestsOf = (raw: ReadonlyArray<RawRequest>): RequestSpec[] =>
  raw
    .map((r) =>
      request(r.arrival, r.inputTokens, r.outputTokens, {
        prefixes: r.prefixId >= 0 ? [{ id: r.prefixId, length: Math.min(r.prefixLen, r.inputTokens) }] : [],
        contentId: r.contentId,
        priority: r.priority,
      }),
    )
    .sort((a, b) => a.arrival - b.arrival)

const run = (reqs: ReadonlyArray<RequestSpec>, c: Config, hooks: SimulateHooks = {}): SimResult =>
  simulate(
    spec({
      engine: engineConfig({
        numGpuBlocks: c.numGpuBlocks,
        maxNumSeqs: c.maxNumSeqs,
        maxNumBatchedTokens: c.maxNumBatchedTokens,
        blockSize: c.blockSize,
        enableChunkedPrefill: c.enableChunkedPrefill,
        enablePrefixCaching: c.enablePrefixCaching,
        longPrefillTokenThreshold: c.longPrefillTokenThreshold,
        asyncScheduling: c.asyncScheduling,
        maxModelLen: 4096,
      }),
      workload: listWorkload(reqs),
      policy: c.policy,
      replicas: c.replicas,
      router: c.router(),
      stepTime: linearStepTime(0.003, 0.00002, 1e-8),
    }),
    hooks,
  )

/** Runs the property; a failure is reported as one error whose message starts with the id. */
const holds = (id: string, check: (reqs: RequestSpec[], c: Config) => void, numRuns = 100): void => {
  const details = fc.check(
    fc.property(caseArb, ([raw, c]) => check(requestsOf(raw), c)),
    { numRuns, seed: 20261122 },
  )
  if (details.failed) throw new Error(`${id} violated: ${fc.defaultReportMessage(details)}`)
}

/** Throws `${id} …` when the condition is false. */
const must = (id: string, ok: boolean, what: () => string): void => {
  if (!ok) throw new Error(`${id} ${what()}`)
}

describe("kernel invariants (src/sim/INVARIANTS.md)", () => {
  it("INV-1 KV blocks are conserved", () => {
    const id = "INV-1"
    const check = (e: Engine): void => {
      e.syncRunning()
      const kv = e.kv
      let privateBlocks = 0
      const keys = new Set<number>()
      for (const r of e.running) {
        privateBlocks += r.numBlocks - r.keys.length
        for (const k of r.keys) keys.add(k)
      }
      must(id, privateBlocks === kv.numPrivate, () => `engine ${e.index}: private blocks ${kv.numPrivate} ≠ Σ held ${privateBlocks}`)
      must(id, keys.size === kv.cache.numReferenced, () => `engine ${e.index}: referenced cached blocks ${kv.cache.numReferenced} ≠ ${keys.size} distinct keys held`)
      const total = kv.numPrivate + kv.cache.numReferenced + kv.cache.numEvictable
      must(id, total <= e.config.numGpuBlocks, () => `engine ${e.index}: ${total} blocks in use or cached, only ${e.config.numGpuBlocks} exist`)
    }
    holds(id, (reqs, c) => {
      const result = run(reqs, c, { afterStep: (e) => check(e) })
      for (const e of result.engines) must(id, e.kv.numUsed === 0, () => `engine ${e.index}: ${e.kv.numUsed} blocks still in use at the end`)
    })
  })

  it("INV-2 every request ends: finished with all its output tokens, or rejected with a reason", () => {
    const id = "INV-2"
    holds(id, (reqs, c) => {
      const result = run(reqs, c)
      const rec = result.recorder
      const done = rec.select(DONE)
      const rejected = rec.select(REJECTED)
      must(id, done.length + rejected.length === reqs.length, () => `${done.length} finished + ${rejected.length} rejected ≠ ${reqs.length} sent`)
      for (const i of done) must(id, rec.outputTokens.get(i) === reqs[i]!.outputTokens, () => `request ${i} finished with ${rec.outputTokens.get(i)} of ${reqs[i]!.outputTokens} tokens`)
      let reasons = 0
      for (const n of rec.rejected.values()) reasons += n
      must(id, reasons === rejected.length, () => `${rejected.length} rejections but ${reasons} reasons`)
      for (const e of result.engines)
        must(id, e.numRunning === 0 && e.numWaiting === 0, () => `engine ${e.index} ends with ${e.numRunning} running, ${e.numWaiting} waiting`)
    })
  })

  it("INV-3 the token budget is respected (max_num_batched_tokens, long-prefill threshold, unchunked prompts whole)", () => {
    const id = "INV-3"
    holds(id, (reqs, c) => {
      run(reqs, c, {
        afterStep: (e, t) => {
          const b = e.batch
          must(id, b.shape.numTokens <= c.maxNumBatchedTokens, () => `step at ${t} scheduled ${b.shape.numTokens} > ${c.maxNumBatchedTokens} tokens`)
          for (let k = 0; k < b.count; k++) {
            const r = b.reqs[k]!
            const n = b.numNew[k]!
            if (c.longPrefillTokenThreshold > 0)
              must(id, n <= c.longPrefillTokenThreshold, () => `request ${r.id} got a chunk of ${n} > threshold ${c.longPrefillTokenThreshold}`)
            else if (!c.enableChunkedPrefill)
              must(id, r.lastTokenStep === t, () => `request ${r.id} was prefilled in part (${n} tokens) with chunked prefill off`)
          }
        },
      })
    })
  })

  it("INV-4 seats are respected (max_num_seqs)", () => {
    const id = "INV-4"
    holds(id, (reqs, c) => {
      run(reqs, c, {
        afterStep: (e) => {
          must(id, e.numRunning <= c.maxNumSeqs, () => `engine ${e.index}: ${e.numRunning} running > ${c.maxNumSeqs}`)
          must(id, e.batch.shape.numReqs <= c.maxNumSeqs, () => `engine ${e.index}: batch of ${e.batch.shape.numReqs} > ${c.maxNumSeqs}`)
        },
      })
    })
  })

  it("INV-5 time is monotone: steps never go back, TTFT > 0, E2E ≥ TTFT, queue time ≥ 0", () => {
    const id = "INV-5"
    holds(id, (reqs, c) => {
      let last = 0
      const result = run(reqs, c, {
        afterStep: (_e, t) => {
          must(id, t >= last, () => `time went back from ${last} to ${t}`)
          last = t
        },
      })
      const rec = result.recorder
      for (const i of rec.select(DONE)) {
        const ttft = rec.ttft.get(i)
        const e2el = rec.e2el.get(i)
        const queue = rec.queueTime.get(i)
        must(id, ttft > 0 && e2el >= ttft && queue >= 0, () => `request ${i}: ttft ${ttft}, e2el ${e2el}, queue ${queue}`)
      }
    })
  })

  it("INV-6 a request's KV blocks cover its computed tokens, which never exceed its tokens", () => {
    const id = "INV-6"
    holds(id, (reqs, c) => {
      run(reqs, c, {
        afterStep: (e) => {
          e.syncRunning()
          for (const r of e.running) {
            must(id, r.numBlocks >= Math.ceil(r.numComputedTokens / c.blockSize), () => `request ${r.id}: ${r.numComputedTokens} computed tokens in ${r.numBlocks} blocks`)
            must(id, r.numComputedTokens <= r.numTokens, () => `request ${r.id}: ${r.numComputedTokens} computed of ${r.numTokens} tokens`)
          }
        },
      })
    })
  })

  it("INV-7 no request is admitted in a step that preempted", () => {
    const id = "INV-7"
    holds(id, (reqs, c) => {
      const seqBefore = new Map<number, number>()
      run(reqs, c, {
        afterStep: (e, t) => {
          const before = seqBefore.get(e.index) ?? 0
          if (e.batch.preempted.length > 0)
            must(id, e.admittedSeq === before, () => `engine ${e.index}: step ending at ${t} preempted ${e.batch.preempted.length} and admitted ${e.admittedSeq - before}`)
          seqBefore.set(e.index, e.admittedSeq)
        },
      })
    })
  })

  it("INV-8 lazy decode (the decode group) gives the same summary as eager decode", () => {
    const id = "INV-8"
    holds(
      id,
      (reqs, c) => {
        const lazy = JSON.stringify(summarize(run(reqs, c)))
        const eager = JSON.stringify(summarize(run(reqs, c, { eagerDecode: true })))
        must(id, lazy === eager, () => `lazy ${lazy}\n≠ eager ${eager}`)
      },
      60,
    )
  })

  it("INV-9 the same spec gives a byte-identical summary", () => {
    const id = "INV-9"
    holds(
      id,
      (reqs, c) => {
        const a = JSON.stringify(summarize(run(reqs, c)))
        const b = JSON.stringify(summarize(run(reqs, c)))
        must(id, a === b, () => `two runs differ:\n${a}\n${b}`)
      },
      40,
    )
  })

  it("INV-10 prefix hits are whole blocks, fewer than the tokens queried, none with caching off", () => {
    const id = "INV-10"
    holds(id, (reqs, c) => {
      for (const e of run(reqs, c).engines) {
        const { prefixHits: hits, prefixQueries: queries } = e.kv
        must(id, hits % c.blockSize === 0, () => `engine ${e.index}: ${hits} hit tokens is not whole blocks of ${c.blockSize}`)
        must(id, queries === 0 ? hits === 0 : hits < queries, () => `engine ${e.index}: ${hits} hit tokens of ${queries} queried`)
        if (!c.enablePrefixCaching) must(id, hits === 0, () => `engine ${e.index}: ${hits} hits with prefix caching off`)
      }
    })
  })
})
