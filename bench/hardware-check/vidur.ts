// vidur's per-layer linear timings (../shared/data/kernels/vidur/data/profiling/compute/<gpu>/<model>/
// mlp.csv.gz): qkv (attn_pre_proj), o (attn_post_proj), fused gate_up (mlp_up_proj) and down
// (mlp_down_proj) GEMMs of one layer vs tokens and TP, on A100 and H100. Compared with the dense-linear
// part of the shipped step-time model for one layer: max(gemmCompute · FLOPs / peak, weightRead ·
// bytes / bandwidth) + 4 · gemmKernelLatency (physics-step-time.ts), medians of vidur's repeats.
import { defaultCoefficients } from "../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { bytesPerWeight } from "../../src/hw/model-costs.ts"
import { lookupModel } from "../../src/hw/models.ts"
import { gemmPeakFlops, stepTimeBasis } from "../../src/hw/step-time-terms.ts"
import { ARCHITECTURE_TWINS } from "./argonne.ts"
import { cell, type Comparison, type Row } from "./table.ts"

const PROJECTIONS = ["attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj"] as const

/** Measured ms of one layer's four GEMMs (sum of the medians); undefined when a column is blank. */
export const layerLinearMs = (row: Row): number | undefined => {
  let sum = 0
  for (const p of PROJECTIONS) {
    const v = cell(row, `time_stats.${p}.median`)
    if (v === undefined) return undefined
    sum += v
  }
  return sum
}

/** Tokens ≤ 64: weight-bound GEMMs; ≥ 1024: compute-bound; between: the crossover. */
export const regime = (tokens: number): string => (tokens <= 64 ? "N≤64" : tokens >= 1024 ? "N≥1024" : "64<N<1024")

/** The predicted ms of one layer's dense linear part at `tokens` tokens, bf16, on `gpuId` at TP `tp`. */
export const predictedLayerLinearMs = (modelId: string, gpuId: string, tp: number, tokens: number): number => {
  const model = lookupModel(modelId)
  const gpu = lookupGpu(gpuId)
  if (model === undefined || gpu === undefined) throw new Error(`not built in: ${modelId} / ${gpuId}`)
  const b = stepTimeBasis({ model, gpu, precision: "bf16", kvCacheDtype: "auto", par: { tp, pp: 1, ep: 1 } })
  const c = defaultCoefficients(gpu)
  const layers = model.numLayers
  const compute = (c.gemmCompute * b.gemmSecondsPerToken * tokens) / layers
  // gemmSecondsPerToken · peak = dense linear FLOPs per token per GPU = 2 × its weights.
  const bytes = ((b.gemmSecondsPerToken * gemmPeakFlops(gpu, "bf16")) / 2) * bytesPerWeight("bf16")
  const weights = (c.weightRead * bytes) / gpu.memoryBandwidth / layers
  return (Math.max(compute, weights) + 4 * c.gemmKernelLatency) * 1000
}

/** One comparison per row of a model's table; the group is GPU and token regime. */
export const compareVidur = (rows: ReadonlyArray<Row>, hfId: string, gpuId: string): Comparison[] => {
  const modelId = ARCHITECTURE_TWINS[hfId] ?? hfId
  const out: Comparison[] = []
  for (const r of rows) {
    const tp = cell(r, "num_tensor_parallel_workers")
    const tokens = cell(r, "num_tokens")
    const measured = layerLinearMs(r)
    if (tp === undefined || tokens === undefined || measured === undefined) continue
    out.push({
      label: `${hfId.slice(hfId.indexOf("/") + 1)} tp${tp} N=${tokens}`,
      gpu: `${gpuId} ${regime(tokens)}`,
      values: { linear: { measured, predicted: predictedLayerLinearMs(modelId, gpuId, tp, tokens) } },
    })
  }
  return out
}
