// The econ layer on the real engine: a closed-loop concurrency sweep through simulate → summarize →
// seedRunFromSummary → analyzeSweep, with a hand-made linear step time so the shape is predictable.
import { describe, expect, test } from "vitest"
import { analyzeSweep, type SweepPointInput } from "../../src/econ/analyze-sweep.ts"
import { seedRunFromSummary } from "../../src/econ/from-sim.ts"
import { zeroOverheads, type BatchShape } from "../../src/hw/types.ts"
import { roundRobin } from "../../src/sim/router.ts"
import { fcfs } from "../../src/sim/scheduling-policy.ts"
import { simulate } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"

const MAX_SEQS = 32

const run = (concurrency: number) => {
  const result = simulate({
    engine: {
      maxNumSeqs: MAX_SEQS,
      maxNumBatchedTokens: 2048,
      maxModelLen: 8192,
      blockSize: 16,
      numGpuBlocks: 20_000,
      enableChunkedPrefill: true,
      enablePrefixCaching: false,
      longPrefillTokenThreshold: 0,
    },
    replicas: 1,
    router: roundRobin(),
    policy: fcfs,
    // 8 ms per step + 0.1 ms per decode sequence + 20 µs per prefill token.
    stepTime: {
      name: "linear-econ-test",
      overheads: zeroOverheads,
      stepTime: (b: BatchShape) => 0.008 + 0.0001 * b.numDecodeReqs + 0.00002 * b.prefillTokens,
    },
    workload: {
      kind: "closed",
      concurrency,
      numRequests: 400,
      next: (t: number) => ({
        arrival: t,
        inputTokens: 512,
        outputTokens: 128,
        prefixes: [],
        contentId: -1,
        priority: 0,
        stage: 0,
      }),
    },
    warmupRequests: 0,
    timelineInterval: 0.5,
  })
  const r = seedRunFromSummary(summarize(result), 1)
  if (!r.ok) throw new Error(r.error)
  return r.value
}

describe("econ on simulated runs", () => {
  test("a concurrency sweep saturates at max_num_seqs and is costed per token", () => {
    const loads = [4, 8, 16, 32, 64, 128]
    const inputs: SweepPointInput[] = loads.map((c) => ({
      config: { gpu: "a800-sxm", numGpus: 1, tp: 1, pp: 1, replicas: 1, maxNumSeqs: MAX_SEQS, load: { kind: "concurrency", value: c } },
      runs: [run(c)],
    }))
    const r = analyzeSweep(inputs)
    if (!r.ok) throw new Error(r.error)
    const byLoad = (c: number) => r.value.points.find((p) => p.config.load.value === c)
    // Beyond 32 in flight the engine runs the same batch: throughput stops growing there.
    expect(byLoad(32)?.flags.saturation).toBe(true)
    const t32 = byLoad(32)?.metrics.output_throughput.mean ?? 0
    const t128 = byLoad(128)?.metrics.output_throughput.mean ?? 0
    expect(t128 / t32).toBeLessThan(1.1)
    // Queueing beyond the cap shows up in TTFT, not TPOT.
    expect((byLoad(128)?.metrics.mean_ttft_ms.mean ?? 0) / (byLoad(32)?.metrics.mean_ttft_ms.mean ?? 1)).toBeGreaterThan(2)
    for (const p of r.value.points) {
      expect(p.cost.splitMethod).toBe("step-time")
      expect(p.cost.prefillShare.mean).toBeGreaterThan(0)
      expect(p.cost.prefillShare.mean).toBeLessThan(1)
      expect(p.timeline?.time.length ?? 0).toBeGreaterThan(2)
      // Cost of the request set = $/GPU-h × duration / 3600, split back into tokens exactly.
      const m = p.metrics
      const charged = (p.cost.usdPerMInput.mean * m.total_input_tokens.mean + p.cost.usdPerMOutput.mean * m.total_output_tokens.mean) / 1e6
      expect(charged).toBeCloseTo(p.cost.runCostUsd.mean, 12)
      expect(p.cost.runCostUsd.mean).toBeCloseTo((p.cost.gpuHourUsd * m.duration.mean) / 3600, 12)
    }
    // More load amortises the GPU-hour until saturation.
    expect(byLoad(32)?.cost.usdPerMOutput.mean ?? 0).toBeLessThan(byLoad(4)?.cost.usdPerMOutput.mean ?? 0)
  })
})
