// Small fixtures for engine tests: a linear step-time model with known coefficients and
// hand-made workloads, so expected times can be computed by hand.
import type { BatchShape, RequestOverheads, StepTimeModel } from "../../src/hw/types.ts"
import { zeroOverheads } from "../../src/hw/types.ts"
import { fcfs } from "../../src/sim/scheduling-policy.ts"
import { roundRobin } from "../../src/sim/router.ts"
import type { ClosedLoopWorkload, OpenLoopWorkload, SimSpec } from "../../src/sim/spec.ts"
import type { EngineConfig, RequestSpec } from "../../src/sim/types.ts"

/** step = base + perToken × tokens + perContext × decode context. */
export const linearStepTime = (base: number, perToken: number, perContext = 0, overheads: RequestOverheads = zeroOverheads): StepTimeModel => ({
  name: "linear-test",
  overheads,
  stepTime: (b: BatchShape) => base + perToken * b.numTokens + perContext * b.decodeContextTokens,
})

export const request = (arrival: number, inputTokens: number, outputTokens: number, extra: Partial<RequestSpec> = {}): RequestSpec => ({
  arrival,
  inputTokens,
  outputTokens,
  prefixes: [],
  contentId: -1,
  priority: 0,
  stage: 0,
  ...extra,
})

export const listWorkload = (reqs: ReadonlyArray<RequestSpec>): OpenLoopWorkload => {
  const sorted = [...reqs].sort((a, b) => a.arrival - b.arrival)
  let i = 0
  return { kind: "open", next: () => sorted[i++] }
}

export const fixedClosedLoop = (concurrency: number, numRequests: number, isl: number, osl: number): ClosedLoopWorkload => ({
  kind: "closed",
  concurrency,
  numRequests,
  next: (t) => request(t, isl, osl),
})

export const engineConfig = (over: Partial<EngineConfig> = {}): EngineConfig => ({
  maxNumSeqs: 256,
  maxNumBatchedTokens: 2048,
  maxModelLen: 32768,
  blockSize: 16,
  numGpuBlocks: 10_000,
  enableChunkedPrefill: true,
  enablePrefixCaching: true,
  longPrefillTokenThreshold: 0,
  ...over,
})

export const spec = (over: Partial<SimSpec> & Pick<SimSpec, "workload">): SimSpec => ({
  engine: engineConfig(),
  replicas: 1,
  router: roundRobin(),
  policy: fcfs,
  stepTime: linearStepTime(0.005, 0.0001),
  warmupRequests: 0,
  ...over,
})
