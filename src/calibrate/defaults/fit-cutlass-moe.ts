// Stage 5 of the default fit: the served cost of experts vLLM runs as CUTLASS grouped GEMMs
// (moeCutlassExpertWeight, moeCutlassLayerLatency), on the MoE runs of the sim2real benchmark's fitting
// half (../shared/data/serving/sim2real-trainval: Llama-4-Scout-17B-16E FP8-dynamic, per-channel fp8
// experts, TP2 H100, vLLM 0.15.1).
//
// Why: on SM90/SM100 vLLM serves per-channel fp8 experts with cutlass_moe_fp8 (compressed_tensors_moe.py
// CompressedTensorsW8A8Fp8MoEMethod, use_cutlass), not the Triton fused_moe kernel whose timings
// (aiconfigurator moe tables) set moeExpertWeight and moeLayerLatency. Those runs' decode steps are
// mostly expert reads, and priced with the Triton fit they come out 10–18% slow, more so at moderate
// batches: from concurrency 11 to 34 their ITL grows 4.6 ms while the Triton fit adds 8 ms for the six
// more experts uniform routing touches. A grouped GEMM streams its experts closer to the bandwidth and
// launches more small kernels per layer (per-token quantization, row shuffles, expert offsets): a lower
// per-expert cost and a higher per-layer one, which is what the two coefficients carry.
//
// The fit: a grid over the two (the expert-weight multiplier no lower than reaching the datasheet
// bandwidth), each point simulated, the least median |ITL error| over the folder's MoE rows winning
// (ties: the larger multiplier, then the smaller latency). ITL is (E2E − TTFT) / (tokens − 1), so the
// delivery delay stage 4 fits later does not move it; the folder's dense runs, E2E and TTFT columns
// are not used.
import type { StepTimeCoefficients } from "../../hw/physics-step-time.ts"
import type { RequestOverheads } from "../../hw/types.ts"
import type { FolderRow } from "../benchmark-folder.ts"
import { medianAbs } from "../compare.ts"
import { candidateRows, type CoefficientsOfSetup } from "./fit-token-delivery.ts"

export const CUTLASS_WEIGHT_GRID: ReadonlyArray<number> = [1, 0.95, 0.9, 0.85, 0.8]
export const CUTLASS_LATENCY_GRID: ReadonlyArray<number> = [0, 1.5e-5, 3e-5, 4.5e-5]

export interface CutlassMoeFit {
  readonly moeCutlassExpertWeight: number
  readonly moeCutlassLayerLatency: number
  /** Median |ITL error| (%) over the MoE rows without the coefficients (1, 0) and with the fitted ones. */
  readonly before: number
  readonly after: number
  readonly moeRows: number
}

/** The coefficients with CUTLASS grouped-GEMM expert costs set. */
export const withCutlassMoe = (c: StepTimeCoefficients, weight: number, latency: number): StepTimeCoefficients => ({
  ...c,
  moeCutlassExpertWeight: weight,
  moeCutlassLayerLatency: latency,
})

/**
 * Fits the two on the folder's MoE rows; `coefficientsOf` gives each deployment's other coefficients.
 * Undefined when the folder is absent or has no MoE run. The multiplier is kept at or above
 * 1 / moeExpertWeight of the deployment (no expert read faster than the datasheet bandwidth).
 */
export const fitCutlassMoe = async (root: string, coefficientsOf: CoefficientsOfSetup, overheads: RequestOverheads): Promise<CutlassMoeFit | undefined> => {
  let floor = 0
  const moeRowsAt = candidateRows<{ weight: number; latency: number }>(
    root,
    (r) => r.model.numExperts > 0,
    (r, { weight, latency }) => {
      const base = coefficientsOf(r)
      if (r.model.numExperts === 0) return base
      floor = Math.max(floor, 1 / base.moeExpertWeight)
      return withCutlassMoe(base, weight, latency)
    },
    overheads,
  )
  if (moeRowsAt === undefined) return undefined
  const score = (rows: ReadonlyArray<FolderRow>): number => medianAbs(rows.map((r) => r.errorPct.itl_mean))
  const first = await moeRowsAt({ weight: 1, latency: 0 })
  if (first.length === 0) return undefined
  const before = score(first)
  let best = { weight: 1, latency: 0, e: before }
  for (const weight of CUTLASS_WEIGHT_GRID) {
    if (weight < floor) continue
    for (const latency of CUTLASS_LATENCY_GRID) {
      const e = weight === 1 && latency === 0 ? before : score(await moeRowsAt({ weight, latency }))
      if (e < best.e - 1e-9) best = { weight, latency, e }
    }
  }
  return { moeCutlassExpertWeight: best.weight, moeCutlassLayerLatency: best.latency, before, after: best.e, moeRows: first.length }
}
