// The wall-clock driver on a fake clock: given the same arrivals, the twin's engine timeline is exactly
// the batch simulator's (TTFT and E2E per request, with ingress / per-token / completion overheads),
// however late the events are processed.
import { describe, expect, it } from "vitest"
import type { BatchShape, StepTimeModel } from "../../src/hw/types.ts"
import { leastOutstanding, roundRobin } from "../../src/sim/router.ts"
import { fcfs } from "../../src/sim/scheduling-policy.ts"
import { simulate } from "../../src/sim/simulate.ts"
import type { EngineConfig, RequestSpec } from "../../src/sim/types.ts"
import { traceWorkload } from "../../src/sim/workload/trace.ts"
import { VllmMetrics } from "../../src/serve/metrics.ts"
import { TwinSim } from "../../src/serve/twin-sim.ts"

const engine: EngineConfig = {
  maxNumSeqs: 4,
  maxNumBatchedTokens: 512,
  maxModelLen: 4096,
  blockSize: 16,
  numGpuBlocks: 300,
  enableChunkedPrefill: true,
  enablePrefixCaching: false,
  longPrefillTokenThreshold: 0,
}

const stepTime: StepTimeModel = {
  name: "t",
  stepTime: (b: BatchShape) => 0.01 + 2e-5 * b.numTokens + 1e-7 * b.decodeContextTokens,
  overheads: { ingressBase: 0.003, ingressPerInputToken: 1e-6, perOutputToken: 0.0005, completion: 0.002 },
}

const specs: RequestSpec[] = Array.from({ length: 24 }, (_, i) => ({
  arrival: i * 0.07 + (i % 3) * 0.011,
  inputTokens: 100 + ((i * 137) % 700),
  outputTokens: 5 + ((i * 31) % 60),
  prefixes: [],
  contentId: -1,
  priority: 0,
  stage: 0,
}))

const runTwin = (replicas: number, lateMs: number) => {
  let now = 0 // fake wall ms
  const metrics = new VllmMetrics({
    modelName: "m",
    maxModelLen: engine.maxModelLen,
    numEngines: replicas,
    startUnix: 0,
    cacheConfig: { blockSize: 16, numGpuBlocks: 300, enablePrefixCaching: false, gpuMemoryUtilization: 0.9, cacheDtype: "auto", maxModelLen: 4096 },
  })
  const scale = 10
  const sim = new TwinSim({ engine, stepTime, policy: fcfs, replicas, router: replicas > 1 ? leastOutstanding() : roundRobin() }, scale, metrics, () => now)
  const first = new Map<number, number>()
  const done = new Map<number, number>()
  const ids: number[] = []
  try {
    for (const s of specs) {
      // Process pending events late (as a busy event loop would), then the request arrives.
      const wall = (s.arrival / scale) * 1000
      for (let t = now; t < wall; t += lateMs) {
        now = t
        sim.pump()
      }
      now = wall
      const idx = ids.length
      ids.push(
        sim.submit(
          { inputTokens: s.inputTokens, outputTokens: s.outputTokens, maxTokens: s.outputTokens, prefixes: [], priority: 0, finishReason: "length" },
          {
            onToken: (j, time) => {
              if (j === 0) first.set(idx, time)
            },
            onComplete: (time) => done.set(idx, time),
            onReject: () => {},
          },
        ),
      )
    }
    for (let k = 0; k < 100_000 && sim.inFlight > 0; k++) {
      now += lateMs
      sim.pump()
    }
  } finally {
    sim.close()
  }
  return { first, done, metrics }
}

describe("TwinSim", () => {
  for (const replicas of [1, 2]) {
    for (const lateMs of [0.5, 7]) {
      it(`reproduces simulate() exactly (${replicas} replica(s), events handled up to ${lateMs} ms late)`, () => {
        const ref = simulate({
          engine,
          replicas,
          router: replicas > 1 ? leastOutstanding() : roundRobin(),
          policy: fcfs,
          stepTime,
          workload: traceWorkload(specs),
          warmupRequests: 0,
        })
        const twin = runTwin(replicas, lateMs)
        expect(twin.done.size).toBe(specs.length)
        for (let i = 0; i < specs.length; i++) {
          const arrival = specs[i]!.arrival
          expect(twin.first.get(i)! - arrival).toBeCloseTo(ref.recorder.ttft.get(i), 9)
          expect(twin.done.get(i)! - arrival).toBeCloseTo(ref.recorder.e2el.get(i), 9)
        }
        expect(twin.metrics.totals().generationTokens).toBe(specs.reduce((a, s) => a + s.outputTokens, 0))
        expect(twin.metrics.totals().success.length).toBe(specs.length)
      })
    }
  }
})
