// Per-kernel fits of the stage-1 (GPU-side) step-time coefficients, per GPU generation, on kernel
// microbenchmarks: aiconfigurator gemm/attention/nccl/custom all-reduce/moe tables and Vidur mlp and
// send_recv profiles (Vidur's linear layers are a held-out check).
import { lookupGpu } from "../../hw/gpus.ts"
import { moeExpertsTouched } from "../../hw/model-costs.ts"
import type { StepTimeCoefficients } from "../../hw/physics-step-time.ts"
import { CUSTOM_ALLREDUCE_MAX_BYTES, linkBandwidthOneWay, oneShotAllReduceFactor, oneShotAllReduceMaxBytes, ringAllReduceFactor } from "../../hw/step-time-terms.ts"
import type { DatasetFitError } from "../../hw/default-coefficients.ts"
import type { GpuProfile, ModelProfile } from "../../hw/types.ts"
import {
  type MoePoint,
  loadContextAttention,
  loadCustomAllReduce,
  loadGemm,
  loadGenerationAttention,
  loadMoe,
  loadNccl,
  loadVidurCollective,
  loadVidurMlp,
  VIDUR_MODELS,
  type VidurMlpPoint,
} from "./kernel-data.ts"
import { fitMaxRoofline, fitRooflineSoftness, nnlsL1, nnlsRelative, predictMax, predictSmooth } from "../nnls.ts"
import { gemmRoofline } from "../../hw/physics-step-time.ts"

export const gpuOf = (id: string): GpuProfile => {
  const g = lookupGpu(id)
  if (g === undefined) throw new Error(`fit-defaults: no GPU profile ${id}`)
  return g
}

const peakFor = (gpu: GpuProfile, dtype: string): number => (dtype === "bfloat16" ? gpu.bf16Flops : gpu.fp8Flops)

/** Where each fit reports its error per dataset (see collector in fit-defaults.ts). */
export interface Collector {
  readonly errors: DatasetFitError[]
  add(dataset: string, generation: string, predicted: ReadonlyArray<number>, measured: ReadonlyArray<number>, role: boolean | "comparison"): void
}

interface GemmFit {
  hasLowPrecision: boolean
  gemmCompute: number
  gemmKneeSoftness: number
  gemmComputeLowPrecision: number
  weightRead: number
  gemmKernelLatency: number
  gemmKernelLatencyLowPrecision: number
}

/**
 * GEMM: latency ≈ max(c·2mnk/peak, w·n·k·bytes/BW) + kernel latency, bf16 and fp8 jointly (shared
 * weight-read efficiency, own compute efficiency and fixed latency). Shapes with n, k ≥ 1024 (the
 * model layers'); fp8_block (DeepSeek-style block scales) is left out. With `knee` the max becomes the
 * p-norm gemmRoofline, its softness fitted on the max fit's coefficients (fitRooflineSoftness): the A100
 * table's GEMMs of 80–256 rows, near its ridge, run 10–30% slower than the max says; H100's and H200's
 * do not. (Fitting the coefficients jointly with the softness lowers gemmCompute to 1.20, which the
 * held-out A100 sources refuse: Vidur's linear layers 6.3% → 11.9%, vllm#2497's fp16 column 2.8% → 6.8%.)
 */
export const fitGemm = (
  root: string,
  dirs: ReadonlyArray<{ dir: string; gpu: string }>,
  gen: string,
  out: Collector,
  knee = false,
): GemmFit => {
  const compute: number[][] = []
  const memory: number[][] = []
  const fixed: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    for (const p of loadGemm(root, dir, id)) {
      if (p.n < 1024 || p.k < 1024 || (p.dtype !== "bfloat16" && p.dtype !== "fp8")) continue
      const low = p.dtype === "fp8"
      const f = (2 * p.m * p.n * p.k) / peakFor(gpu, p.dtype)
      compute.push(low ? [0, f] : [f, 0])
      memory.push([(p.n * p.k * (low ? 1 : 2)) / gpu.memoryBandwidth])
      fixed.push(low ? [0, 1] : [1, 0])
      y.push(p.latency)
    }
  }
  const input = { compute, memory, fixed, y }
  const fit = fitMaxRoofline(input)
  const softness = knee ? fitRooflineSoftness(input, fit) : 0
  const pred = y.map((_, i) => predictSmooth(fit, compute[i]!, memory[i]!, fixed[i]!, softness))
  const bf = y.map((_, i) => (fixed[i]![0] === 1 ? i : -1)).filter((i) => i >= 0)
  const f8 = y.map((_, i) => (fixed[i]![1] === 1 ? i : -1)).filter((i) => i >= 0)
  out.add("aiconfigurator gemm bf16", gen, bf.map((i) => pred[i]!), bf.map((i) => y[i]!), true)
  out.add("aiconfigurator gemm fp8", gen, f8.map((i) => pred[i]!), f8.map((i) => y[i]!), true)
  const hasFp8 = f8.length > 0
  if (knee) out.add("aiconfigurator gemm bf16, max rule", gen, bf.map((i) => predictMax(fit, compute[i]!, memory[i]!, fixed[i]!)), bf.map((i) => y[i]!), "comparison")
  // The alternative combination rule, for the record: a·FLOPs + b·bytes + c.
  const sumRows = y.map((_, i) => [...compute[i]!, ...memory[i]!, ...fixed[i]!])
  const xs = nnlsRelative(sumRows, y)
  const sumPred = sumRows.map((r) => dotp(r, xs))
  out.add("aiconfigurator gemm bf16, sum rule", gen, bf.map((i) => sumPred[i]!), bf.map((i) => y[i]!), "comparison")
  return {
    hasLowPrecision: hasFp8,
    gemmCompute: fit.compute[0]!,
    gemmKneeSoftness: softness,
    // Without fp8 tensor cores (Ampere) vLLM runs fp8 checkpoints as W8A16 Marlin at the bf16 rate.
    gemmComputeLowPrecision: hasFp8 ? fit.compute[1]! : fit.compute[0]!,
    weightRead: fit.memory[0]!,
    gemmKernelLatency: fit.fixed[0]!,
    gemmKernelLatencyLowPrecision: hasFp8 ? fit.fixed[1]! : fit.fixed[0]!,
  }
}

const kvElementBytes = (dtype: string): number => (dtype === "fp8" ? 1 : 2)

/**
 * Decode attention: latency ≈ launch + attentionPerSlot·batch·kv_heads + kvRead·KV bytes / BW, with a
 * 16-bit cache's bytes and an fp8 cache's in separate columns (kvRead, kvRead·kvReadFp8): the fp8 kernel
 * dequantizes what it reads, and one pooled multiplier overstates the 16-bit cost (H100: 1.20 pooled,
 * 1.07 with the two apart). kvReadFp8 is 1 where a table has no fp8 rows.
 */
export const fitDecodeAttention = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    for (const p of loadGenerationAttention(root, dir, id)) {
      const element = kvElementBytes(p.kvDtype)
      const kvBytes = p.batch * p.step * 2 * p.kvHeads * p.headDim * element
      const fp8 = element === 1
      rows.push([1, p.batch * p.kvHeads, fp8 ? 0 : kvBytes / gpu.memoryBandwidth, fp8 ? kvBytes / gpu.memoryBandwidth : 0])
      y.push(p.latency)
    }
  }
  const x = nnlsRelative(rows, y)
  out.add("aiconfigurator generation_attention", gen, rows.map((r) => dotp(r, x)), y, true)
  const kvRead = x[2]!
  const hasFp8 = rows.some((r) => r[3]! > 0)
  return { launch: x[0]!, attentionPerSlot: x[1]!, kvRead, kvReadFp8: hasFp8 && kvRead > 0 ? x[3]! / kvRead : 1 }
}

const dotp = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/**
 * Prefill attention: latency − (per-slot and KV terms from decode, Q/O traffic at the elementwise
 * efficiency) ≈ launch + attentionCompute·causal FLOPs / peak bf16.
 */
export const fitPrefillAttention = (
  root: string,
  dirs: ReadonlyArray<{ dir: string; gpu: string }>,
  gen: string,
  decode: { attentionPerSlot: number; kvRead: number; kvReadFp8: number },
  elementwise: number,
  out: Collector,
) => {
  const rows: number[][] = []
  const offsets: number[] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    for (const p of loadContextAttention(root, dir, id)) {
      const flops = 4 * p.heads * p.headDim * p.batch * ((p.isl * (p.isl + 1)) / 2)
      const kvBytes = p.batch * p.isl * 2 * p.kvHeads * p.headDim * kvElementBytes(p.kvDtype)
      // Q read + O write per token, counted with the elementwise traffic in the step model.
      const qoBytes = p.batch * p.isl * 2 * p.heads * p.headDim * 2
      const kvRead = decode.kvRead * (kvElementBytes(p.kvDtype) === 1 ? decode.kvReadFp8 : 1)
      offsets.push(decode.attentionPerSlot * p.batch * p.kvHeads + (kvRead * kvBytes + elementwise * qoBytes) / gpu.memoryBandwidth)
      rows.push([1, flops / gpu.bf16Flops])
      y.push(p.latency)
    }
  }
  // Relative NNLS on what the offsets leave (clamped so the weights stay positive).
  const resid = y.map((v, i) => Math.max(v - offsets[i]!, 0.05 * v))
  const x = nnlsRelative(
    rows.map((r, i) => r.map((v) => (v * resid[i]!) / y[i]!)),
    resid.map((r, i) => (r * resid[i]!) / y[i]!),
  )
  out.add("aiconfigurator context_attention", gen, rows.map((r, i) => dotp(r, x) + offsets[i]!), y, true)
  return { attentionCompute: x[1]! }
}

/**
 * vLLM 0.14 uses its custom all-reduce up to 8 MiB (CUDA-graph variant in graphs), one-shot below a size
 * that depends on the GPU count and two-shot above (step-time-terms.ts oneShotAllReduceMaxBytes), and
 * NCCL's ring above 8 MiB: latency ≈ allReduceLatency (+ allReduceTwoShotLatency when not one-shot) +
 * allReduceBandwidth · bytes through one link direction. The comparison row fits one ring formula.
 */
export const fitAllReduce = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const ring: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    const link = linkBandwidthOneWay(gpu)
    const points = [
      ...loadCustomAllReduce(root, dir, id).filter((p) => p.kernel === "vLLM_custom_graph" && p.bytes <= CUSTOM_ALLREDUCE_MAX_BYTES),
      ...loadNccl(root, dir, id).filter((p) => p.op === "all_reduce" && p.dtype === "half" && p.bytes > CUSTOM_ALLREDUCE_MAX_BYTES),
    ]
    for (const p of points) {
      const oneShot = p.bytes <= CUSTOM_ALLREDUCE_MAX_BYTES && p.bytes < oneShotAllReduceMaxBytes(p.numGpus, gpu.nvlinkBandwidth > 0)
      rows.push([1, oneShot ? 0 : 1, (p.bytes * (oneShot ? oneShotAllReduceFactor(p.numGpus) : ringAllReduceFactor(p.numGpus))) / link])
      ring.push([1, (p.bytes * ringAllReduceFactor(p.numGpus)) / link])
      y.push(p.latency)
    }
  }
  const x = nnlsRelative(rows, y)
  out.add("aiconfigurator all_reduce (custom one-shot/two-shot ≤ 8 MiB, nccl above)", gen, rows.map((r) => dotp(r, x)), y, true)
  const xr = nnlsRelative(ring, y)
  out.add("aiconfigurator all_reduce, one ring formula", gen, ring.map((r) => dotp(r, xr)), y, "comparison")
  return { allReduceLatency: x[0]!, allReduceTwoShotLatency: x[1]!, allReduceBandwidth: x[2]! }
}

/** EP dispatch/combine as vLLM's allgather_reducescatter backend: NCCL all_gather + reduce_scatter. */
export const fitAllGather = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const link = linkBandwidthOneWay(gpuOf(id))
    for (const p of loadNccl(root, dir, id)) {
      if ((p.op !== "all_gather" && p.op !== "reduce_scatter") || p.dtype !== "half") continue
      rows.push([1, (p.bytes * (p.numGpus - 1)) / p.numGpus / link])
      y.push(p.latency)
    }
  }
  const x = nnlsRelative(rows, y)
  out.add("aiconfigurator nccl all_gather/reduce_scatter", gen, rows.map((r) => dotp(r, x)), y, true)
  return { moeAllToAllLatency: x[0]!, moeAllToAllBandwidth: x[1]! }
}

/**
 * PP hand-off: Vidur send_recv (a100_pairwise_nvlink and h100_pairwise_nvlink are byte-identical files in
 * the source). Both ranks are timed; the faster one (the other includes waiting for its peer) per size.
 */
export const fitSendRecv = (root: string, sources: ReadonlyArray<{ gpu: string; dir: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const { gpu: id, dir } of sources) {
    const link = linkBandwidthOneWay(gpuOf(id))
    const best = new Map<number, number>()
    for (const p of loadVidurCollective(root, id, dir, "send_recv")) best.set(p.bytes, Math.min(best.get(p.bytes) ?? Infinity, p.latency))
    for (const [bytes, latency] of [...best.entries()].sort((a, b) => a[0] - b[0])) {
      rows.push([1, bytes / link])
      y.push(latency)
    }
  }
  const x = nnlsRelative(rows, y)
  out.add("vidur send_recv", gen, rows.map((r) => dotp(r, x)), y, true)
  return { ppHandoffLatency: x[0]!, ppHandoffBandwidth: x[1]! }
}

/** A one-MoE-layer profile for moeExpertsTouched. */
const moeShape = (numExperts: number, topk: number): ModelProfile => ({
  id: "moe-table",
  numLayers: 1,
  hiddenSize: 1,
  numAttentionHeads: 1,
  numKeyValueHeads: 1,
  headDim: 1,
  intermediateSize: 1,
  vocabSize: 1,
  tieWordEmbeddings: true,
  numExperts,
  numExpertsPerTok: topk,
  moeIntermediateSize: 1,
  numSharedExperts: 0,
  numDenseLayers: 0,
  mlaKvDim: 0,
  slidingWindow: 0,
  numSlidingLayers: 0,
  maxPositionEmbeddings: 1,
})

/**
 * Fused MoE: latency ≈ moeCompute·routed FLOPs / peak bf16 + moeExpertWeight·touched expert bytes / BW
 * + moeLayerLatency, per GPU (experts TP-sharded by moe_tp, split whole by moe_ep). Balanced routing
 * (A100: power_law_1.01, its only near-uniform table). bf16 and fp8 weights share the bf16 compute rate.
 */
/**
 * Distinct experts a moe_perf row's routing touches. "balanced" is aiconfigurator's balanced_logits
 * (collector/vllm/collect_moe.py): token t sends its i-th copy to expert (t + i·⌈E/k⌉) mod E, spread over
 * all E once n ≥ ⌈E/k⌉, so min(E, n·k) experts are touched, not the E(1 − (1 − k/E)^n) of random
 * routing (at 4 tokens top-2 of 8: 8, not 5.5). Counting the latter made each touched expert look 30%
 * dearer than its bytes (the table's small-batch rows: Mixtral fp8 streams an expert at ~93% of HBM
 * bandwidth). Power-law rows draw their routing at random: the random-routing count.
 */
export const tableExpertsTouched = (p: Pick<MoePoint, "distribution" | "numExperts" | "numTokens" | "topk">): number =>
  p.distribution === "balanced" ? Math.min(p.numExperts, p.numTokens * p.topk) : moeExpertsTouched(moeShape(p.numExperts, p.topk), p.numTokens)

/** One moe_perf row as the sum-rule basis: [compute, expert weights, 1, dispatch] (seconds at the datasheet). */
const moeRow = (p: MoePoint, gpu: GpuProfile): number[] => {
  const perExpert = (3 * p.hidden * p.inter) / p.tp
  const flops = (2 * p.numTokens * p.topk * perExpert) / p.ep
  const touched = tableExpertsTouched(p) / p.ep
  // Routed copies' hidden states, on every GPU whatever tp and ep (moeDispatchTime).
  const dispatch = (p.numTokens * p.topk * p.hidden * 2) / gpu.memoryBandwidth
  return [flops / gpu.bf16Flops, (touched * perExpert * (p.dtype === "fp8" ? 1 : 2)) / gpu.memoryBandwidth, 1, dispatch]
}

/** The table's rows with its mildest routing (the A100 table has no balanced one) and these dtypes. */
const moeRows = (root: string, dir: string, id: string, dtypes: ReadonlyArray<string>): MoePoint[] => {
  const points = loadMoe(root, dir, id)
  const dist = points.some((p) => p.distribution === "balanced") ? "balanced" : "power_law_1.01"
  return points.filter((p) => p.distribution === dist && dtypes.includes(p.dtype))
}

/** Least absolute relative error of the sum rule; returns [moeCompute, moeExpertWeight, moeLayerLatency, moeDispatch]. */
const fitMoeRows = (rows: ReadonlyArray<ReadonlyArray<number>>, y: ReadonlyArray<number>): number[] =>
  nnlsL1(rows.map((r, i) => r.map((v) => v / y[i]!)), y.map(() => 1))

export const fitMoe = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    for (const p of moeRows(root, dir, id, ["bfloat16", "fp8"])) {
      rows.push(moeRow(p, gpu))
      y.push(p.latency)
    }
  }
  if (y.length === 0) return { moeCompute: 1, moeDispatch: 0, moeExpertWeight: 1, moeLayerLatency: 0 }
  // Least absolute relative error, not least squares: the table mixes fused-MoE kernel configs vLLM
  // tuned for a shape (Mixtral's 8 × 14336 experts reach 60% of the bf16 peak, fp8 even above it)
  // with untuned ones (fine-grained experts: 20–30%), and squared errors let the few fast rows pull
  // the compute coefficient down until the large-batch (prefill) steps of fine-grained models are
  // predicted far too fast.
  const x = fitMoeRows(rows, y)
  out.add("aiconfigurator moe", gen, rows.map((r) => dotp(r, x)), y, true)
  const noDispatch = rows.map((r) => r.slice(0, 3))
  const xs = nnlsRelative(noDispatch, y)
  out.add("aiconfigurator moe, least squares without dispatch", gen, noDispatch.map((r) => dotp(r, xs)), y, "comparison")
  // The alternative rule, for the record: max(a·FLOPs, b·bytes) + c.
  const mx = fitMaxRoofline({ compute: rows.map((r) => [r[0]!]), memory: rows.map((r) => [r[1]!]), fixed: rows.map(() => [1]), y })
  out.add("aiconfigurator moe, max rule", gen, rows.map((r) => predictMax(mx, [r[0]!], [r[1]!], [1])), y, "comparison")
  return { moeCompute: x[0]!, moeExpertWeight: x[1]!, moeLayerLatency: x[2]!, moeDispatch: x[3]! }
}

/** Key of an expert shape: hidden × expert width × experts × top-k. */
export const moeShapeKey = (hidden: number, inter: number, experts: number, topk: number): string => `${hidden}x${inter}x${experts}x${topk}`

export type MoeShapeCoefficients = Pick<StepTimeCoefficients, "moeCompute" | "moeExpertWeight" | "moeLayerLatency" | "moeDispatch">

/**
 * The bf16 fused-MoE kernel of each expert shape the table times, on each GPU: vLLM ships tuned kernel
 * configs for some shapes (Mixtral's 8 × 14336 streams its experts at 85% of the bandwidth where the
 * pooled fit says 72%), so a model with exactly such experts, served in bf16, is better predicted by its
 * own rows than by the pooled fit.
 */
export const fitMoeShapes = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector): Record<string, Record<string, MoeShapeCoefficients>> => {
  const result: Record<string, Record<string, MoeShapeCoefficients>> = {}
  const pred: number[] = []
  const meas: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    const byShape = new Map<string, MoePoint[]>()
    for (const p of moeRows(root, dir, id, ["bfloat16"])) {
      const k = moeShapeKey(p.hidden, p.inter, p.numExperts, p.topk)
      byShape.set(k, [...(byShape.get(k) ?? []), p])
    }
    for (const [k, pts] of [...byShape].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const rows = pts.map((p) => moeRow(p, gpu))
      const y = pts.map((p) => p.latency)
      // No kernel streams weights faster than the datasheet bandwidth: fit the expert-weight multiplier's
      // excess over 1 (a shape's few rows otherwise trade it against the other terms).
      const excess = nnlsL1(rows.map((r, i) => r.map((v) => v / y[i]!)), rows.map((r, i) => 1 - r[1]! / y[i]!))
      const x = excess.map((v, i) => (i === 1 ? v + 1 : v))
      rows.forEach((r, i) => {
        pred.push(dotp(r, x))
        meas.push(y[i]!)
      })
      result[k] = { ...result[k], [id]: { moeCompute: x[0]!, moeExpertWeight: x[1]!, moeLayerLatency: x[2]!, moeDispatch: x[3]! } }
    }
  }
  out.add("aiconfigurator moe bf16, per expert shape", gen, pred, meas, true)
  return result
}

/** Per-token bytes of Vidur's elementwise ops (norms + residual, RoPE, activation) of one layer on one GPU. */
const elementwiseBytesPerLayer = (p: VidurMlpPoint): number => {
  const headDim = p.hidden / p.heads
  const qk = (p.heads + p.kvHeads) * headDim
  return 2 * (8 * p.hidden + (2 * qk) / p.tp + ((p.gated ? 3 : 2) * p.intermediate) / p.tp)
}

const ELEMENTWISE_OPS = ["input_layernorm", "post_attention_layernorm", "attn_rope", "mlp_act", "add"] as const
const GEMM_OPS = ["attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj"] as const

const vidurPoints = (root: string, gpuId: string): VidurMlpPoint[] =>
  VIDUR_MODELS.filter((v) => v.gpu === gpuId).flatMap((v) => loadVidurMlp(root, v.gpu, v.dir, v.model))

/** Elementwise kernels of one layer (Vidur, CUDA events): latency ≈ layerLaunch + elementwise·bytes / BW. */
export const fitElementwise = (root: string, gpuIds: ReadonlyArray<string>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const id of gpuIds) {
    const gpu = gpuOf(id)
    for (const p of vidurPoints(root, id)) {
      rows.push([1, (p.numTokens * elementwiseBytesPerLayer(p)) / gpu.memoryBandwidth])
      y.push(ELEMENTWISE_OPS.reduce((s, o) => s + (p.ops[o] ?? 0), 0))
    }
  }
  if (y.length === 0) return { layerLaunch: 0, elementwise: 1 }
  const x = nnlsRelative(rows, y)
  out.add("vidur elementwise ops per layer", gen, rows.map((r) => dotp(r, x)), y, true)
  return { layerLaunch: x[0]!, elementwise: x[1]! }
}

/** Held-out check of the GEMM fit on real layer shapes: Vidur's four projections of one layer. */
export const checkVidurGemms = (root: string, gpuIds: ReadonlyArray<string>, gen: string, c: StepTimeCoefficients, out: Collector): void => {
  const pred: number[] = []
  const y: number[] = []
  for (const id of gpuIds) {
    const gpu = gpuOf(id)
    for (const p of vidurPoints(root, id)) {
      const d = p.hidden / p.heads
      const params = (p.hidden * (p.heads + 2 * p.kvHeads) * d + p.heads * d * p.hidden + (p.gated ? 3 : 2) * p.hidden * p.intermediate) / p.tp
      const compute = (c.gemmCompute * 2 * params * p.numTokens) / gpu.bf16Flops
      const memory = (c.weightRead * params * 2) / gpu.memoryBandwidth
      pred.push(gemmRoofline(compute, memory, c.gemmKneeSoftness) + 4 * c.gemmKernelLatency)
      y.push(GEMM_OPS.reduce((s, o) => s + (p.ops[o] ?? 0), 0))
    }
  }
  out.add("vidur linear layers (held out)", gen, pred, y, false)
}
