// Properties that must hold for any workload and configuration (checked after every engine step).
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fcfs, priority, shortestPromptFirst } from "../../src/sim/scheduling-policy.ts"
import { leastKvUsage, leastOutstanding, prefixAffinity, roundRobin } from "../../src/sim/router.ts"
import { DONE, REJECTED } from "../../src/sim/metrics.ts"
import { simulate } from "../../src/sim/simulate.ts"
import type { Engine } from "../../src/sim/engine.ts"
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

/** Checks the engine's books after a step; throws with the broken invariant. */
const checkEngine = (e: Engine): void => {
  e.syncRunning()
  const cfg = e.config
  const kv = e.kv
  let privateBlocks = 0
  const keys = new Set<number>()
  for (const r of e.running) {
    privateBlocks += r.numBlocks - r.keys.length
    for (const k of r.keys) keys.add(k)
    if (r.numBlocks < Math.ceil(r.numComputedTokens / cfg.blockSize)) throw new Error(`request ${r.id} computed past its blocks`)
    if (r.numComputedTokens > r.numTokens) throw new Error(`request ${r.id} computed more tokens than it has`)
  }
  if (privateBlocks !== kv.numPrivate) throw new Error(`private blocks ${kv.numPrivate} ≠ Σ held ${privateBlocks}`)
  if (keys.size !== kv.cache.numReferenced) throw new Error(`referenced cached blocks ${kv.cache.numReferenced} ≠ ${keys.size}`)
  if (kv.numPrivate + kv.cache.numReferenced + kv.cache.numEvictable > cfg.numGpuBlocks) throw new Error("more blocks in use than exist")
  if (e.numRunning > cfg.maxNumSeqs) throw new Error("max_num_seqs exceeded")
  if (e.batch.shape.numTokens > cfg.maxNumBatchedTokens) throw new Error("token budget exceeded")
  if (e.batch.count > cfg.maxNumSeqs) throw new Error("batch larger than max_num_seqs")
}

describe("engine invariants", () => {
  it("blocks are conserved, limits hold, time never goes back, and every request ends", () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 40 }), configArb, (raw, c) => {
        const reqs = raw.map((r) =>
          request(r.arrival, r.inputTokens, r.outputTokens, {
            prefixes: r.prefixId >= 0 ? [{ id: r.prefixId, length: Math.min(r.prefixLen, r.inputTokens) }] : [],
            contentId: r.contentId,
            priority: r.priority,
          }),
        )
        let lastTime = 0
        const engine = engineConfig({
          numGpuBlocks: c.numGpuBlocks,
          maxNumSeqs: c.maxNumSeqs,
          maxNumBatchedTokens: c.maxNumBatchedTokens,
          blockSize: c.blockSize,
          enableChunkedPrefill: c.enableChunkedPrefill,
          enablePrefixCaching: c.enablePrefixCaching,
          longPrefillTokenThreshold: c.longPrefillTokenThreshold,
          asyncScheduling: c.asyncScheduling,
          maxModelLen: 4096,
        })
        const result = simulate(
          spec({ engine, workload: listWorkload(reqs), policy: c.policy, replicas: c.replicas, router: c.router(), stepTime: linearStepTime(0.003, 0.00002, 1e-8) }),
          {
            afterStep: (e, t) => {
              if (t < lastTime) throw new Error(`time went back from ${lastTime} to ${t}`)
              lastTime = t
              checkEngine(e)
            },
          },
        )
        const rec = result.recorder
        const done = rec.select(DONE)
        const rejected = rec.select(REJECTED)
        expect(done.length + rejected.length).toBe(reqs.length)
        for (const i of done) expect(rec.outputTokens.get(i)).toBeGreaterThan(0)
        let reasons = 0
        for (const n of rec.rejected.values()) reasons += n
        expect(reasons).toBe(rejected.length)
        for (const e of result.engines) {
          expect(e.numRunning).toBe(0)
          expect(e.waiting.size).toBe(0)
          expect(e.kv.numUsed).toBe(0)
        }
      }),
      { numRuns: 150, seed: 20261122 },
    )
  })
})
