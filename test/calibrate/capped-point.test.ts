// A measured point with both a request rate and a concurrency cap (vllm bench --request-rate R
// --max-concurrency N) is simulated as that capped open loop, not as a closed loop at N.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { MeasuredPoint } from "../../src/calibrate/measurements.ts"
import { scenarioForPoint } from "../../src/calibrate/point-scenario.ts"
import { predictPoint } from "../../src/calibrate/predict-point.ts"

const point = (over: Partial<MeasuredPoint>): MeasuredPoint => ({
  source: "bench.json",
  kind: "bench",
  engine: "vllm",
  model: "meta-llama/Llama-3.1-8B-Instruct",
  gpu: "h100-sxm",
  isl: 512,
  osl: 64,
  numRequests: 200,
  metrics: {},
  ...over,
})

describe("a rate + concurrency point", () => {
  it("becomes a capped open loop in its scenario", () => {
    expect(scenarioForPoint(point({ concurrency: 8, requestRate: 2 }))).toMatchObject({ workload: { concurrency: 8, rate: 2, input: 512, output: 64, numRequests: 200 } })
  })

  it("keeps its burstiness: a probe or bench file's gamma arrivals are simulated as such", () => {
    expect(scenarioForPoint(point({ concurrency: 8, requestRate: 2, burstiness: 0.5 }))).toMatchObject({ workload: { concurrency: 8, rate: 2, burstiness: 0.5 } })
    expect(scenarioForPoint(point({ requestRate: 2, burstiness: 4 }))).toMatchObject({ workload: { rate: 2, burstiness: 4 } })
    expect((scenarioForPoint(point({ requestRate: 2 })) as { workload: Record<string, unknown> }).workload.burstiness).toBeUndefined()
  })

  it("is simulated at its rate: a light rate under a loose cap takes N/R seconds, unlike the closed loop", async () => {
    const capped = await Effect.runPromise(predictPoint(point({ concurrency: 64, requestRate: 2 })))
    const closed = await Effect.runPromise(predictPoint(point({ concurrency: 64 })))
    // 200 requests at 2/s arrive over ~100 s (vllm normalises the last arrival to N/R); the closed loop of 64 finishes in a few seconds.
    expect(capped.duration as number).toBeGreaterThan(95)
    expect(capped.duration as number).toBeLessThan(105)
    expect(closed.duration as number).toBeLessThan(30)
  })
})
