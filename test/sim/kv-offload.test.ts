// KV offloading to a CPU tier (vLLM's --kv-offloading-size): blocks come back instead of being
// recomputed, with their copy time in the step; the tier evicts least recently used blocks.
import { describe, expect, it } from "vitest"
import { CpuKvTier } from "../../src/sim/cpu-kv-tier.ts"
import { DONE } from "../../src/sim/metrics.ts"
import { simulate } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"
import { engineConfig, fixedClosedLoop, linearStepTime, listWorkload, request, spec } from "./helpers.ts"

describe("CPU KV tier", () => {
  it("evicts the least recently stored or used block when full", () => {
    const t = new CpuKvTier(2, 0.001)
    t.store(1)
    t.store(2)
    t.touch(1)
    t.store(3) // evicts 2, the least recently used
    expect([t.has(1), t.has(2), t.has(3)]).toEqual([true, false, true])
    t.store(1) // already there: refreshed, not stored again
    expect(t.numStored).toBe(3)
    expect(t.numEvicted).toBe(1)
  })

  it("a prompt evicted from the GPU comes back from the CPU tier, its copy time in the step", () => {
    // Prompt A (320 tokens, 20 blocks) runs, then B's 3 000 tokens flush A's blocks out of a 200-block
    // GPU cache; A again at t = 10 s hits 19 blocks (304 tokens; the last token is computed) in the
    // CPU tier: its step computes 16 tokens plus 19 block copies of 2 ms.
    const a = { prefixes: [], contentId: 7 }
    const reqs = [request(0, 320, 1, a), request(1, 3000, 1), request(10, 320, 1, a)]
    const run = (cpuOffloadBlocks: number) =>
      simulate(
        spec({
          workload: listWorkload(reqs),
          engine: engineConfig({ numGpuBlocks: 200, cpuOffloadBlocks, cpuLoadSecondsPerBlock: 0.002 }),
          stepTime: linearStepTime(0.01, 0.0001),
        }),
      )
    const off = run(0)
    const on = run(1000)
    // Without the tier the third request recomputes all 320 tokens: 10 ms + 32 ms.
    expect(off.recorder.ttft.get(2)).toBeCloseTo(0.01 + 0.032, 9)
    expect(on.recorder.ttft.get(2)).toBeCloseTo(0.01 + 0.0016 + 19 * 0.002, 9)
    expect(on.recorder.prefillTokensSum).toBe(off.recorder.prefillTokensSum - 304)
    const s = summarize(on)
    expect(s.kv_offload).toMatchObject({ loaded_blocks: 19, loaded_tokens: 304 })
  })

  it("in a KV-starved run it cuts recomputed prefill tokens and TTFT", () => {
    const run = (cpuOffloadBlocks: number) =>
      summarize(
        simulate(
          spec({
            workload: fixedClosedLoop(48, 400, 600, 300),
            engine: engineConfig({ numGpuBlocks: 600, maxNumSeqs: 48, cpuOffloadBlocks, cpuLoadSecondsPerBlock: 2e-5 }),
            stepTime: linearStepTime(0.005, 0.0002, 1e-7),
          }),
        ),
      )
    const off = run(0)
    const on = run(20_000)
    expect(off.num_preemptions as number).toBeGreaterThan(50)
    const prompts = 400 * 600
    const recomputedOff = (off.prefill_tokens_computed as number) - prompts
    const recomputedOn = (on.prefill_tokens_computed as number) - prompts
    expect(recomputedOff).toBeGreaterThan(0)
    expect(recomputedOn).toBeLessThan(0.5 * recomputedOff)
    expect(on.mean_ttft_ms as number).toBeLessThan(off.mean_ttft_ms as number)
    expect(on.completed).toBe(400)
    expect(on.kv_offload).toBeDefined()
    expect(off.kv_offload).toBeUndefined()
  })

  it("implicit decode gives exactly what stepping every request gives, with the tier on", () => {
    const make = () =>
      spec({
        workload: fixedClosedLoop(32, 200, 500, 200),
        engine: engineConfig({ numGpuBlocks: 400, maxNumSeqs: 32, cpuOffloadBlocks: 3000, cpuLoadSecondsPerBlock: 3e-5 }),
        stepTime: linearStepTime(0.005, 0.0002, 1e-7),
      })
    const lazy = summarize(simulate(make()))
    expect(lazy.num_preemptions as number).toBeGreaterThan(0)
    expect(JSON.stringify(summarize(simulate(make(), { eagerDecode: true })))).toBe(JSON.stringify(lazy))
  })

  it("every request finishes and the GPU pool empties with the tier on", () => {
    const reqs = Array.from({ length: 60 }, (_, i) => request(i * 0.01, 200 + ((i * 37) % 900), 20 + (i % 50), { contentId: i % 5 }))
    const result = simulate(
      spec({ workload: listWorkload(reqs), engine: engineConfig({ numGpuBlocks: 120, cpuOffloadBlocks: 50, cpuLoadSecondsPerBlock: 1e-4 }), stepTime: linearStepTime(0.003, 0.0001) }),
    )
    expect(result.recorder.select(DONE)).toHaveLength(60)
    expect(result.engines[0]!.kv.numUsed).toBe(0)
    expect(result.engines[0]!.kv.cpu!.size).toBeLessThanOrEqual(50)
  })
})
