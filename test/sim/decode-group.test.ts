// The implicit decode group must not change any outcome: lazy and eager runs agree on every metric.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fcfs, priority } from "../../src/sim/scheduling-policy.ts"
import { leastOutstanding } from "../../src/sim/router.ts"
import { simulate } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"
import type { SimSpec } from "../../src/sim/spec.ts"
import { engineConfig, fixedClosedLoop, linearStepTime, listWorkload, request, spec } from "./helpers.ts"

const agree = (make: () => SimSpec): void => {
  const lazy = summarize(simulate(make()))
  const eager = summarize(simulate(make(), { eagerDecode: true }))
  for (const [k, v] of Object.entries(eager)) {
    const w = (lazy as Record<string, unknown>)[k]
    if (typeof v === "number" && typeof w === "number") {
      if (Math.abs(v - w) > 1e-9 * Math.max(1, Math.abs(v))) throw new Error(`${k}: eager ${v} ≠ lazy ${w}`)
    } else expect(w).toEqual(v)
  }
}

describe("decode group", () => {
  it("lazy and eager decode agree on random open-loop workloads and configurations", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            arrival: fc.double({ min: 0, max: 5, noNaN: true }),
            input: fc.integer({ min: 1, max: 2500 }),
            output: fc.integer({ min: 1, max: 200 }),
            prefix: fc.integer({ min: -1, max: 2 }),
            content: fc.integer({ min: -1, max: 2 }),
            prio: fc.integer({ min: 0, max: 2 }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        fc.record({
          blocks: fc.integer({ min: 30, max: 3000 }),
          seqs: fc.integer({ min: 1, max: 48 }),
          budget: fc.integer({ min: 32, max: 4096 }),
          threshold: fc.constantFrom(0, 128),
          chunked: fc.boolean(),
          caching: fc.boolean(),
          async: fc.boolean(),
          prio: fc.boolean(),
          replicas: fc.integer({ min: 1, max: 2 }),
        }),
        (raw, c) => {
          const reqs = raw.map((r) =>
            request(r.arrival, r.input, r.output, {
              prefixes: r.prefix >= 0 ? [{ id: r.prefix, length: Math.min(200, r.input) }] : [],
              contentId: r.content,
              priority: r.prio,
            }),
          )
          agree(() =>
            spec({
              workload: listWorkload(reqs),
              engine: engineConfig({
                numGpuBlocks: c.blocks,
                maxNumSeqs: c.seqs,
                maxNumBatchedTokens: c.budget,
                longPrefillTokenThreshold: c.threshold,
                enableChunkedPrefill: c.chunked,
                enablePrefixCaching: c.caching,
                asyncScheduling: c.async,
                maxModelLen: 4096,
              }),
              policy: c.prio ? priority : fcfs,
              replicas: c.replicas,
              router: leastOutstanding(),
              stepTime: linearStepTime(0.004, 0.00003, 2e-8),
              warmupRequests: 3,
            }),
          )
        },
      ),
      { numRuns: 200, seed: 7 },
    )
  })

  it("lazy and eager decode agree when outputs outlast the finishing ring (4096 steps) by laps", () => {
    // Members finishing 1, 2 and 3 laps ahead share buckets with short ones and must wait their lap.
    const reqs = [request(0, 50, 9000), request(0, 40, 4096 + 7), request(0.001, 30, 7), request(0.002, 60, 4096 * 3 + 1)]
    for (let i = 0; i < 40; i++) reqs.push(request(0.01 * i, 20 + i, 1 + ((i * 37) % 300)))
    agree(() => spec({ workload: listWorkload(reqs), engine: engineConfig({ maxModelLen: 16384, numGpuBlocks: 5000 }), stepTime: linearStepTime(0.004, 0.00003, 2e-8) }))
  })

  it("lazy and eager decode agree on a closed loop under KV pressure", () => {
    agree(() => spec({ workload: fixedClosedLoop(48, 400, 700, 150), engine: engineConfig({ numGpuBlocks: 900 }) }))
  })
})
