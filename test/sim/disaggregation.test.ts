// P/D disaggregation in the kernel: the link's queueing against a hand-computed answer, conservation
// of requests and KV blocks across both pools, decode-pool scaling and determinism.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DONE, REJECTED } from "../../src/sim/metrics.ts"
import { leastOutstanding, roundRobin } from "../../src/sim/router.ts"
import { simulate } from "../../src/sim/simulate.ts"
import type { DisaggregationSpec, PoolSpec, SimSpec } from "../../src/sim/spec.ts"
import { summarize } from "../../src/sim/summary.ts"
import type { RequestSpec } from "../../src/sim/types.ts"
import { engineConfig, fixedClosedLoop, linearStepTime, listWorkload, request, spec } from "./helpers.ts"

const pool = (over: Partial<PoolSpec> = {}): PoolSpec => ({
  engine: engineConfig(),
  replicas: 1,
  router: roundRobin(),
  stepTime: linearStepTime(0.001, 0),
  ...over,
})

const pdSpec = (workload: SimSpec["workload"], pd: Partial<DisaggregationSpec> = {}): SimSpec => {
  const disaggregation: DisaggregationSpec = {
    prefill: pool(),
    decode: pool(),
    kvTransfer: { bandwidth: 1.6e6, latency: 0.01 },
    kvBytesPerToken: 1000,
    ...pd,
  }
  return spec({
    workload,
    engine: disaggregation.prefill.engine,
    replicas: disaggregation.prefill.replicas,
    router: disaggregation.prefill.router,
    stepTime: disaggregation.prefill.stepTime,
    disaggregation,
  })
}

describe("P/D disaggregation", () => {
  it("transfers queue on the shared link: the k-th of n simultaneous transfers lands at k·bytes/bw + latency", () => {
    // 4 prompts of 160 tokens (10 full blocks) prefill together in one 1 ms step; each moves
    // 160 × 1000 B = 160 kB over a 1.6 MB/s link (0.1 s) with 10 ms latency; the decode replica then
    // computes the last prompt token (recomputed, as vLLM does when the blocks cover the prompt) and
    // samples the first token in a 1 ms step. TTFT_k = 1 ms + k·100 ms + 10 ms + 1 ms.
    const reqs = [0, 1, 2, 3].map(() => request(0, 160, 2))
    const result = simulate(pdSpec(listWorkload(reqs)))
    const rec = result.recorder
    const ttft = Array.from(rec.select(DONE), (i) => rec.ttft.get(i))
    expect(ttft).toHaveLength(4)
    ttft.forEach((t, k) => expect(t).toBeCloseTo(0.001 + (k + 1) * 0.1 + 0.01 + 0.001, 9))
    const link = result.disaggregated!.link
    expect(link.numTransfers).toBe(4)
    expect(link.bytes).toBe(4 * 160 * 1000)
    expect(link.waitMax).toBeCloseTo(0.3, 9)
    // The decode replica computed one prompt token per request; the prefill replica all 640.
    expect(result.disaggregated!.decode.prefillTokensSum).toBe(4)
    expect(result.disaggregated!.prefill.prefillTokensSum).toBe(640)
  })

  it("the decode router counts requests still on the link, so a burst spreads over the decode replicas", () => {
    const reqs = [0, 1, 2, 3].map(() => request(0, 160, 2))
    const result = simulate(pdSpec(listWorkload(reqs), { decode: pool({ replicas: 2, router: leastOutstanding() }) }))
    // Each decode replica admits two of the four 160-token prompts.
    expect(result.disaggregated!.decodeEngines.map((e) => e.kv.prefixQueries)).toEqual([320, 320])
  })

  it("only full blocks cross the link; the decode replica computes the partial block", () => {
    // 100 tokens = 6 full blocks (96 tokens) + 4: 96 kB → 60 ms on the link; decode computes 4 tokens.
    const result = simulate(pdSpec(listWorkload([request(0, 100, 3)])))
    const rec = result.recorder
    expect(rec.ttft.get(0)).toBeCloseTo(0.001 + 0.06 + 0.01 + 0.001, 9)
    expect(result.disaggregated!.link.bytes).toBe(96 * 1000)
    expect(result.disaggregated!.decode.prefillTokensSum).toBe(4)
  })

  it("blocks the decode replica already caches do not cross the link again", () => {
    // A and B share a 160-token system prompt (10 blocks). A moves its 12 full blocks (192 tokens);
    // B, later, only the 2 after the prefix the decode replica cached from A.
    const shared = { prefixes: [{ id: 1, length: 160 }] }
    const result = simulate(pdSpec(listWorkload([request(0, 200, 2, shared), request(1, 200, 2, shared)])))
    expect(result.disaggregated!.link.bytes).toBe((192 + 32) * 1000)
    expect(result.recorder.ttft.get(1)).toBeCloseTo(0.001 + 0.032 / 1.6 + 0.01 + 0.001, 9)
  })

  it("every request ends and every block is released on both sides, for any workload", () => {
    const reqArb = fc.record({
      arrival: fc.double({ min: 0, max: 5, noNaN: true }),
      inputTokens: fc.integer({ min: 1, max: 1500 }),
      outputTokens: fc.integer({ min: 1, max: 200 }),
      prefixId: fc.integer({ min: -1, max: 2 }),
    })
    const cfgArb = fc.record({
      prefillBlocks: fc.integer({ min: 20, max: 400 }),
      decodeBlocks: fc.integer({ min: 20, max: 400 }),
      prefillReplicas: fc.integer({ min: 1, max: 3 }),
      decodeReplicas: fc.integer({ min: 1, max: 3 }),
      maxNumSeqs: fc.integer({ min: 1, max: 32 }),
      prefixCaching: fc.boolean(),
      asyncScheduling: fc.boolean(),
      bandwidth: fc.constantFrom(1e6, 1e8, 1e10),
    })
    fc.assert(
      fc.property(fc.array(reqArb, { minLength: 1, maxLength: 30 }), cfgArb, (raw, c) => {
        const reqs: RequestSpec[] = raw.map((r) =>
          request(r.arrival, r.inputTokens, r.outputTokens, { prefixes: r.prefixId >= 0 ? [{ id: r.prefixId, length: Math.min(200, r.inputTokens) }] : [] }),
        )
        const engine = (numGpuBlocks: number) =>
          engineConfig({ numGpuBlocks, maxNumSeqs: c.maxNumSeqs, maxNumBatchedTokens: 512, enablePrefixCaching: c.prefixCaching, asyncScheduling: c.asyncScheduling, maxModelLen: 4096 })
        const s = pdSpec(listWorkload(reqs), {
          prefill: pool({ engine: engine(c.prefillBlocks), replicas: c.prefillReplicas, router: leastOutstanding(), stepTime: linearStepTime(0.002, 0.00002) }),
          decode: pool({ engine: engine(c.decodeBlocks), replicas: c.decodeReplicas, router: roundRobin(), stepTime: linearStepTime(0.002, 0.00002, 1e-8) }),
          kvTransfer: { bandwidth: c.bandwidth, latency: 0.001 },
        })
        const result = simulate(s, {
          afterStep: (e) => {
            const kv = e.kv
            if (kv.numPrivate < 0 || kv.numPrivate + kv.cache.numReferenced + kv.cache.numEvictable > e.config.numGpuBlocks) throw new Error("block books broken")
          },
        })
        const rec = result.recorder
        expect(rec.select(DONE).length + rec.select(REJECTED).length).toBe(reqs.length)
        for (const e of result.engines) {
          expect(e.numRunning).toBe(0)
          expect(e.numWaiting).toBe(0)
          expect(e.numHeld).toBe(0)
          expect(e.kv.numUsed).toBe(0)
          expect(e.kv.numPrivate).toBe(0)
        }
        expect(result.disaggregated!.link.numTransfers).toBe(result.disaggregated!.numTransferred)
      }),
      { numRuns: 80, seed: 20261203 },
    )
  })

  it("more decode replicas lower TPOT at high load", () => {
    const tpot = (decodeReplicas: number): number => {
      const s = pdSpec(fixedClosedLoop(256, 600, 512, 128), {
        prefill: pool({ replicas: 2, stepTime: linearStepTime(0.004, 0.00003) }),
        decode: pool({ replicas: decodeReplicas, stepTime: linearStepTime(0.006, 0.00005, 2e-7), engine: engineConfig({ numGpuBlocks: 4000 }) }),
        kvTransfer: { bandwidth: 50e9, latency: 0.0005 },
      })
      return summarize(simulate(s)).mean_tpot_ms as number
    }
    const one = tpot(1)
    const four = tpot(4)
    expect(four).toBeLessThan(0.75 * one)
  })

  it("implicit decode (the decode group) gives exactly what stepping every request gives", () => {
    const make = () =>
      pdSpec(fixedClosedLoop(40, 300, 900, 80), {
        prefill: pool({ replicas: 2, router: leastOutstanding(), stepTime: linearStepTime(0.003, 0.00002) }),
        decode: pool({ replicas: 2, engine: engineConfig({ numGpuBlocks: 300, maxNumSeqs: 32 }), stepTime: linearStepTime(0.004, 0.00001, 1e-7) }),
        kvTransfer: { bandwidth: 1e9, latency: 0.001 },
      })
    const lazy = summarize(simulate(make()))
    const eager = summarize(simulate(make(), { eagerDecode: true }))
    expect(lazy.num_preemptions as number).toBeGreaterThan(0)
    expect(JSON.stringify(eager)).toBe(JSON.stringify(lazy))
  })

  it("is deterministic: the same spec gives byte-identical JSON", () => {
    const run = () =>
      JSON.stringify(
        summarize(
          simulate(
            pdSpec(fixedClosedLoop(32, 200, 700, 60), {
              prefill: pool({ replicas: 2, router: leastOutstanding() }),
              decode: pool({ replicas: 3, router: leastOutstanding() }),
            }),
          ),
        ),
      )
    expect(run()).toBe(run())
  })
})
