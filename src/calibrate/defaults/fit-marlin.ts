// Stage 1, Marlin weight-only GEMMs on Ampere: the dequantization coefficient (marlinDequant) fitted on
// the one published A100 sweep of a Marlin kernel against torch's fp16 GEMM at every batch size, with
// the generation's own bf16 GEMM coefficients for the MMA and weight-streaming parts. The fp16 column
// of the same sweep is a held-out check of those bf16 coefficients.
import { MARLIN_TILE_ROWS } from "../../hw/step-time-terms.ts"
import type { GpuProfile } from "../../hw/types.ts"
import type { Collector } from "./fit-kernels.ts"

/** One row of the sweep as posted: batch rows M, Marlin's time (s, 5 decimals), TFLOP/s, and torch fp16's time / Marlin's. */
export interface MarlinRow {
  readonly batch: number
  readonly seconds: number
  readonly tflops: number
  readonly speedup: number
}

/**
 * IST-DASLab/marlin bench.py (FP16 × INT4, group size −1: one scale per column) on an A100, posted in
 * vllm-project/vllm#2497 (2024-01-24, the PR that brought Marlin into vLLM): one weight matrix, batch 1
 * to 4000. The GPU is the 80 GB part: the fp16 baseline at batch 1 streams its 2-byte weights at
 * 1.49 TB/s, beyond what a 1,555 GB/s A100-40GB reaches.
 */
export const MARLIN_A100_SWEEP: ReadonlyArray<MarlinRow> = [
  { batch: 1, seconds: 0.00014, tflops: 4.626, speedup: 3.12 },
  { batch: 2, seconds: 0.00014, tflops: 9.261, speedup: 3.1 },
  { batch: 4, seconds: 0.00014, tflops: 18.208, speedup: 3.14 },
  { batch: 8, seconds: 0.00014, tflops: 36.791, speedup: 3.2 },
  { batch: 16, seconds: 0.00014, tflops: 72.529, speedup: 3.19 },
  { batch: 32, seconds: 0.00018, tflops: 110.762, speedup: 2.28 },
  { batch: 64, seconds: 0.00029, tflops: 139.662, speedup: 1.47 },
  { batch: 128, seconds: 0.00057, tflops: 140.903, speedup: 1.01 },
  { batch: 256, seconds: 0.00113, tflops: 141.424, speedup: 0.74 },
  { batch: 512, seconds: 0.00227, tflops: 141.35, speedup: 0.73 },
  { batch: 1024, seconds: 0.00455, tflops: 141.152, speedup: 0.66 },
  { batch: 2048, seconds: 0.00907, tflops: 141.425, speedup: 0.6 },
  { batch: 4000, seconds: 0.01776, tflops: 141.124, speedup: 0.61 },
]

/**
 * Weight elements of the swept matrix: seconds × TFLOP/s / (2 × batch) on the rows whose time has three
 * or more significant digits (batch ≥ 1024), averaged. Times then come from TFLOP/s (4–5 digits).
 */
export const sweepWeights = (rows: ReadonlyArray<MarlinRow>): number => {
  const long = rows.filter((r) => r.batch >= 1024)
  return long.reduce((s, r) => s + (r.seconds * r.tflops * 1e12) / (2 * r.batch), 0) / long.length
}

/** The GEMM coefficients the fit builds on (the generation's bf16 fit). */
export interface BaseGemm {
  readonly gemmCompute: number
  readonly weightRead: number
  readonly gemmKernelLatency: number
}

/** The step model's time for one Marlin GEMM of `weights` elements at 0.5 bytes each, M = batch rows. */
export const marlinGemmSeconds = (gpu: GpuProfile, c: BaseGemm, marlinDequant: number, weights: number, batch: number): number => {
  const mma = (2 * batch * weights) / gpu.bf16Flops
  const dequant = ((2 * MARLIN_TILE_ROWS * weights) / gpu.bf16Flops) * Math.ceil(batch / MARLIN_TILE_ROWS)
  return Math.max(c.gemmCompute * mma + marlinDequant * dequant, (c.weightRead * 0.5 * weights) / gpu.memoryBandwidth) + c.gemmKernelLatency
}

/** The step model's time for the same GEMM with 16-bit weights (cuBLAS). */
export const bf16GemmSeconds = (gpu: GpuProfile, c: BaseGemm, weights: number, batch: number): number =>
  Math.max((c.gemmCompute * 2 * batch * weights) / gpu.bf16Flops, (c.weightRead * 2 * weights) / gpu.memoryBandwidth) + c.gemmKernelLatency

const relativeSquares = (pred: ReadonlyArray<number>, meas: ReadonlyArray<number>): number => {
  let s = 0
  for (let i = 0; i < pred.length; i++) s += ((pred[i]! - meas[i]!) / meas[i]!) ** 2
  return s
}

/**
 * marlinDequant minimising the relative squared error of the Marlin times (golden-section search on
 * [0, 10]: the error is unimodal in it, a max of two increasing lines per row). Deterministic.
 */
export const fitMarlinDequant = (gpu: GpuProfile, c: BaseGemm, rows: ReadonlyArray<MarlinRow> = MARLIN_A100_SWEEP): number => {
  const weights = sweepWeights(rows)
  const measured = rows.map((r) => (2 * r.batch * weights) / (r.tflops * 1e12))
  const err = (d: number) => relativeSquares(rows.map((r) => marlinGemmSeconds(gpu, c, d, weights, r.batch)), measured)
  const g = (Math.sqrt(5) - 1) / 2
  let a = 0
  let b = 10
  for (let i = 0; i < 100; i++) {
    const x1 = b - g * (b - a)
    const x2 = a + g * (b - a)
    if (err(x1) <= err(x2)) b = x2
    else a = x1
  }
  return (a + b) / 2
}

/** Fits marlinDequant on the A100 sweep and reports it and the held-out fp16 column. */
export const fitMarlin = (gpu: GpuProfile, c: BaseGemm, gen: string, out: Collector): number => {
  const w = sweepWeights(MARLIN_A100_SWEEP)
  const d = fitMarlinDequant(gpu, c)
  const marlin = MARLIN_A100_SWEEP.map((r) => (2 * r.batch * w) / (r.tflops * 1e12))
  out.add("vllm#2497 Marlin INT4 GEMM sweep, A100", gen, MARLIN_A100_SWEEP.map((r) => marlinGemmSeconds(gpu, c, d, w, r.batch)), marlin, true)
  out.add(
    "vllm#2497 torch fp16 GEMM (same sweep), A100",
    gen,
    MARLIN_A100_SWEEP.map((r) => bf16GemmSeconds(gpu, c, w, r.batch)),
    MARLIN_A100_SWEEP.map((r, i) => marlin[i]! * r.speedup),
    false,
  )
  return d
}
