// Stage 3 of the default fit: what a served prefill costs beyond the kernel microbenchmarks, fitted by
// simulating closed-loop vLLM runs whose client is known (InferenceX rows of silicon-sweeps.csv, see
// client-harness.ts) with the simulator itself — the prefill a request waits for depends on how the
// closed loop interleaves arrivals, chunks and decodes, which only a simulation reproduces.
//
// Three log-multipliers, each on something the microbenchmarks time differently from a served step:
// - gemmComputeLowPrecision: aiconfigurator's fp8 GEMM table runs at 27–38% of the fp8 peak, slower than
//   its bf16 GEMMs in absolute time; a served fp8 checkpoint fuses the activation quantization into the
//   preceding kernel and runs CUTLASS scaled-mm.
// - moeQuantizedServed (scales moeCompute and moeDispatch of quantized experts): the checkpoints'
//   MXFP4, block-fp8 and INT4 experts run other fused-MoE kernels than the table's bf16/fp8 ones. A bf16
//   MoE (Mixtral) runs the table's own kernels and keeps the kernel fit.
// - ingressPerInputToken: the API server tokenizes the prompt and hands its ids to the engine core
//   before the engine sees the request; no table times it.
// Fitted on the rows at concurrency ≤ TRAIN_MAX_CONCURRENCY (TTFT and TPOT); the others are reported
// held out. Deterministic: the simulator is seeded and the points are simulated in file order.
import { Effect } from "effect"
import { resolveScenario, type ResolvedScenario } from "../../scenario/resolve.ts"
import { decodeScenario } from "../../scenario/schema.ts"
import type { StepTimeCoefficients } from "../../hw/physics-step-time.ts"
import type { RequestOverheads } from "../../hw/types.ts"
import { harnessOf } from "../client-harness.ts"
import { levenbergMarquardt } from "../levenberg-marquardt.ts"
import type { MeasuredPoint } from "../measurements.ts"
import { scenarioForPoint } from "../point-scenario.ts"
import { simulateWithCoefficients } from "../predict-point.ts"

export interface ServedPoint {
  readonly point: MeasuredPoint
  readonly resolved: ResolvedScenario
  readonly train: boolean
  /** Measured mean TTFT and TPOT (s). */
  readonly ttft: number
  readonly tpot: number
}

/**
 * The InferenceX closed-loop vLLM points of a measurement table (as validate reads it) that the simulator
 * can run (built-in model and GPU); train = concurrency ≤ trainMax.
 */
export const servedPoints = (points: ReadonlyArray<MeasuredPoint>, trainMax: number): ServedPoint[] => {
  const out: ServedPoint[] = []
  for (const point of points) {
    const c = point.concurrency
    const ttft = point.metrics.mean_ttft_ms
    const tpot = point.metrics.mean_tpot_ms
    if (point.engine !== "vllm" || point.workload !== "random-fixed" || c === undefined || c < 1) continue
    if (harnessOf(point).name !== "inferencex" || !(ttft !== undefined && ttft > 0) || !(tpot !== undefined && tpot > 0)) continue
    const raw = scenarioForPoint(point)
    if (typeof raw === "string") continue
    const resolved = Effect.runSyncExit(Effect.flatMap(decodeScenario(raw, point.source), resolveScenario))
    if (resolved._tag === "Failure") continue
    out.push({ point, resolved: resolved.value, train: c <= trainMax, ttft: ttft / 1000, tpot: tpot / 1000 })
  }
  return out
}

export interface ServedPrediction {
  readonly ttft: number
  readonly tpot: number
}

/** Mean TTFT and TPOT (s) of a point simulated with these coefficients and overheads. */
export const simulateServed = (p: ServedPoint, coefficients: StepTimeCoefficients, overheads: RequestOverheads): ServedPrediction => {
  const s = simulateWithCoefficients(p.resolved, coefficients, overheads)
  return { ttft: s.mean_ttft_ms / 1000, tpot: s.mean_tpot_ms / 1000 }
}

export interface ServedFit {
  /** Multiplies gemmComputeLowPrecision. */
  readonly lowPrecisionGemmMultiplier: number
  /** The fitted moeQuantizedServed (its start is 1). */
  readonly moeMultiplier: number
  readonly ingressPerInputToken: number
  readonly evaluations: number
}

/** Starting value of ingressPerInputToken (s per prompt token): a fast tokenizer's order of magnitude. */
const INGRESS_PER_TOKEN_START = 1e-6

/**
 * Levenberg–Marquardt over the three log-multipliers on the training points' log TTFT and TPOT ratios,
 * starting from each point's stage-2 coefficients (`coefficientsOf`).
 */
export const fitServed = (
  points: ReadonlyArray<ServedPoint>,
  coefficientsOf: (p: ServedPoint) => StepTimeCoefficients,
  overheads: RequestOverheads,
  maxIterations = 5,
): ServedFit => {
  const train = points.filter((p) => p.train)
  const apply = (theta: ReadonlyArray<number>, p: ServedPoint) => {
    const c = coefficientsOf(p)
    const moe = Math.exp(theta[1]!)
    return {
      coefficients: { ...c, gemmComputeLowPrecision: c.gemmComputeLowPrecision * Math.exp(theta[0]!), moeQuantizedServed: c.moeQuantizedServed * moe },
      overheads: { ...overheads, ingressPerInputToken: (overheads.ingressPerInputToken > 0 ? overheads.ingressPerInputToken : INGRESS_PER_TOKEN_START) * Math.exp(theta[2]!) },
    }
  }
  let evaluations = 0
  const residuals = (theta: ReadonlyArray<number>): number[] => {
    evaluations++
    return train.flatMap((p) => {
      const { coefficients, overheads: o } = apply(theta, p)
      const s = simulateServed(p, coefficients, o)
      return [Math.log(s.ttft / p.ttft), Math.log(s.tpot / p.tpot)]
    })
  }
  const fit = levenbergMarquardt(residuals, [0, 0, 0], { maxIterations })
  const probe = apply(fit.theta, train[0]!)
  return {
    lowPrecisionGemmMultiplier: Math.exp(fit.theta[0]!),
    moeMultiplier: Math.exp(fit.theta[1]!),
    ingressPerInputToken: probe.overheads.ingressPerInputToken,
    evaluations,
  }
}
