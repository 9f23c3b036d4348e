// The scenario that reproduces a measured point: its model, GPU, parallelism, precision and scheduler
// limits, and its workload (closed loop at its concurrency with fixed lengths, an open loop at its rate —
// capped at its concurrency when it has both — or its workload spec at its rate). Shared by validate and calibrate so both simulate exactly the measured setting.
import { dirname, resolve } from "node:path"
import { asyncSchedulingDefault } from "../hw/vllm-defaults.ts"
import { harnessOf, lengthFor, type ClientHarness } from "./client-harness.ts"
import type { SharedPrefixSpec } from "../sim/workload/shared-prefix.ts"
import type { MeasuredPoint } from "./measurements.ts"

/** Requests simulated for a closed-loop point whose request count was not recorded. */
export const defaultClosedLoopRequests = (concurrency: number): number => Math.max(10 * concurrency, 100)

/** The workload-spec path of a table row, resolved against the table's folder. */
export const workloadSpecPath = (p: MeasuredPoint): string | undefined => {
  if (p.workload === undefined || p.workload === "random-fixed" || p.workload === "") return undefined
  const file = p.source.replace(/:\d+$/, "")
  return resolve(dirname(file), p.workload)
}

const defined = (o: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out
}

export interface PointScenarioOptions {
  readonly profile?: string
  readonly gpu?: string
  readonly model?: string
  readonly tp?: number
  /** Weight precision when the measurement does not say (a quantized checkpoint named by its architecture). */
  readonly precision?: string
  /** The parsed workload spec of the point, when it names one (for its server settings and lengths). */
  readonly spec?: SharedPrefixSpec
  readonly seed?: number
  /** Requests to simulate for a closed-loop point whose count was not recorded (default defaultClosedLoopRequests). */
  readonly closedLoopRequests?: (concurrency: number) => number
  /** The client that measured a closed-loop row (default: what its provenance names, harnessOf). */
  readonly harness?: ClientHarness
}

/** A plain scenario object (decoded later like any scenario file), or the reason the point cannot be simulated. */
export const scenarioForPoint = (p: MeasuredPoint, o: PointScenarioOptions = {}): Record<string, unknown> | string => {
  const model = o.model ?? p.model
  const gpu = o.gpu ?? p.gpu
  if (model === undefined) return "the measurement does not say which model (give --model)"
  if (gpu === undefined) return "the measurement does not say which GPU (give --gpu)"
  const specPath = workloadSpecPath(p)
  const server = o.spec?.server
  const engine = defined({
    maxNumSeqs: p.maxNumSeqs ?? server?.maxNumSeqs,
    maxNumBatchedTokens: p.maxNumBatchedTokens ?? server?.maxNumBatchedTokens,
    maxModelLen: p.maxModelLen ?? server?.maxModelLen,
    numGpuBlocks: p.numGpuBlocks,
    blockSize: p.blockSize,
    // The server's scheduling mode follows its version (on from vLLM 0.14); unknown → build-spec's default.
    asyncScheduling: p.engineVersion !== undefined && p.engineVersion !== "" ? asyncSchedulingDefault(p.pp ?? 1, p.engineVersion) : undefined,
  })
  let workload: Record<string, unknown>
  if (specPath !== undefined) {
    if (o.spec === undefined) return `workload spec ${specPath} was not read`
    const nominal = o.spec.systemPromptLen + o.spec.questionLen
    workload = defined({
      file: specPath,
      fileStages: [0],
      inferencePerfDefaults: true,
      // Match the measured mean prompt: inference-perf's prompts re-tokenise longer than drawn.
      inputScale: p.isl > 0 && !o.spec.multiTurn ? p.isl / nominal : undefined,
      numRequests: p.numRequests,
    })
  } else {
    const isl = Math.max(1, Math.round(p.isl))
    const osl = Math.max(1, Math.round(p.osl))
    const closedCount = o.closedLoopRequests ?? defaultClosedLoopRequests
    const h = o.harness ?? harnessOf(p)
    if (p.concurrency !== undefined && p.requestRate !== undefined)
      // vllm bench --request-rate R --max-concurrency N: arrivals at R, at most N in flight (not a closed loop).
      workload = defined({ concurrency: p.concurrency, rate: p.requestRate, burstiness: p.burstiness, input: isl, output: osl, numRequests: p.numRequests ?? 1000 })
    else if (p.concurrency !== undefined)
      workload = {
        concurrency: p.concurrency,
        input: lengthFor(h, isl),
        output: lengthFor(h, osl),
        // A known client's count stays, even when a caller simulates fewer (the first wave's share of the mean depends on it).
        numRequests: p.numRequests ?? (h.requestsPerConcurrency !== undefined ? h.requestsPerConcurrency * p.concurrency : closedCount(p.concurrency)),
      }
    else if (p.requestRate !== undefined) workload = defined({ rate: p.requestRate, burstiness: p.burstiness, input: isl, output: osl, numRequests: p.numRequests ?? 1000 })
    else if (p.burst === true) workload = { rate: "inf", input: isl, output: osl, numRequests: p.numRequests ?? 1000 }
    else return "the measurement has neither a concurrency nor a request rate"
  }
  return defined({
    name: p.label ?? p.source,
    model,
    gpu,
    tp: o.tp ?? p.tp,
    pp: p.pp,
    precision: p.precision ?? o.precision,
    engine: Object.keys(engine).length > 0 ? engine : undefined,
    workload,
    profile: o.profile,
    seed: o.seed ?? 0,
  })
}
