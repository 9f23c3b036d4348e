// `npm run fit-defaults`: fits the shipped step-time coefficients (src/hw/coefficients.json) on the
// measured timings in ../shared/data (or $SERVESIM_DATA), read in place, and prints the fit error per
// dataset. Deterministic: the same data gives the same file byte for byte.
//
// Stage 1, GPU-side efficiencies, each on the microbenchmark that isolates it, per GPU generation
// (ampere: A100; hopper: H100 + H200 pooled, so one set must serve both HBM3 and HBM3e):
//   aiconfigurator gemm_perf            → gemmCompute(+LowPrecision), weightRead, gemmKernelLatency (max rule)
//   aiconfigurator generation_attention → kvRead, attentionPerSlot
//   vidur mlp (norm/rope/act/add ops)   → elementwise, layerLaunch (GPU part)
//   aiconfigurator context_attention    → attentionCompute
//   aiconfigurator custom_allreduce (< 8 MiB) + nccl all_reduce → allReduceLatency, allReduceBandwidth
//   aiconfigurator nccl all_gather/reduce_scatter              → moeAllToAllLatency, moeAllToAllBandwidth
//   aiconfigurator moe_perf             → moeCompute, moeExpertWeight, moeLayerLatency (sum rule)
//   vidur send_recv                     → ppHandoffLatency, ppHandoffBandwidth
// Stage 2, what a served step adds that no microbenchmark shows (CPU per step and per request, per-layer
// launch gaps, all-reduce rank skew, fused fp8 quantization), on closed-loop vLLM runs: see fitStage2.
// Everything not used for a coefficient is reported as a held-out check.
import { writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { lookupGpu } from "../hw/gpus.ts"
import { lookupModel, modelFromHfConfig } from "../hw/models.ts"
import { moeExpertsTouched, weightBytesPerGpu } from "../hw/model-costs.ts"
import {
  COEFFICIENT_NAMES,
  physicsStepTime,
  type StepTimeCoefficients,
} from "../hw/physics-step-time.ts"
import {
  allReduceCount,
  gemmKernelCount,
  layerCount,
  linkBandwidthOneWay,
  ringAllReduceFactor,
  scheduledRequestCount,
  stepCount,
  stepTimeBasis,
  type HardwareSetup,
} from "../hw/step-time-terms.ts"
import { vllmDefaults } from "../hw/vllm-defaults.ts"
import type { CoefficientsFile, DatasetFitError, GenerationCoefficients } from "../hw/default-coefficients.ts"
import type { BatchShape, GpuProfile, ModelProfile, Precision, RequestOverheads } from "../hw/types.ts"
import {
  AICONFIGURATOR_GPUS,
  dataRoot,
  loadArgonne,
  loadContextAttention,
  loadCustomAllReduce,
  loadGemm,
  loadGenerationAttention,
  loadLlmServingSimLayers,
  loadMoe,
  loadNccl,
  loadServingTable,
  loadSplitwise,
  loadVidurCollective,
  loadVidurMlp,
  LLMSERVINGSIM_MODELS,
  VIDUR_MODELS,
  type ServingRow,
  type VidurMlpPoint,
} from "./kernel-data.ts"
import { fitMaxRoofline, medianAbsPercentError, nnls, nnlsL1, nnlsRelative, predictMax } from "./nnls.ts"

export type DatasetError = DatasetFitError

const gpuOf = (id: string): GpuProfile => {
  const g = lookupGpu(id)
  if (g === undefined) throw new Error(`fit-defaults: no GPU profile ${id}`)
  return g
}

/** 6 significant digits: stable across platforms, far below the fit error. */
const round6 = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(6)))
const round1 = (x: number): number => Math.round(x * 10) / 10

const peakFor = (gpu: GpuProfile, dtype: string): number => (dtype === "bfloat16" ? gpu.bf16Flops : gpu.fp8Flops)

interface Collector {
  readonly errors: DatasetError[]
  add(dataset: string, generation: string, predicted: ReadonlyArray<number>, measured: ReadonlyArray<number>, role: boolean | "comparison"): void
}

const collector = (): Collector => {
  const errors: DatasetError[] = []
  return {
    errors,
    add: (dataset, generation, predicted, measured, role) => {
      if (measured.length === 0) return
      errors.push({
        dataset,
        generation,
        points: measured.length,
        medianAbsPercentError: round1(medianAbsPercentError(predicted, measured)),
        role: role === "comparison" ? "comparison" : role ? "fit" : "held out",
      })
    },
  }
}

// ---- Per-kernel fits ----

interface GemmFit {
  hasLowPrecision: boolean
  gemmCompute: number
  gemmComputeLowPrecision: number
  weightRead: number
  gemmKernelLatency: number
  gemmKernelLatencyLowPrecision: number
}

/**
 * GEMM: latency ≈ max(c·2mnk/peak, w·n·k·bytes/BW) + kernel latency, bf16 and fp8 jointly (shared
 * weight-read efficiency, own compute efficiency and fixed latency). Shapes with n, k ≥ 1024 (the
 * model layers'); fp8_block (DeepSeek-style block scales) is left out.
 */
const fitGemm = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector): GemmFit => {
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
  const fit = fitMaxRoofline({ compute, memory, fixed, y })
  const pred = y.map((_, i) => predictMax(fit, compute[i]!, memory[i]!, fixed[i]!))
  const bf = y.map((_, i) => (fixed[i]![0] === 1 ? i : -1)).filter((i) => i >= 0)
  const f8 = y.map((_, i) => (fixed[i]![1] === 1 ? i : -1)).filter((i) => i >= 0)
  out.add("aiconfigurator gemm bf16", gen, bf.map((i) => pred[i]!), bf.map((i) => y[i]!), true)
  out.add("aiconfigurator gemm fp8", gen, f8.map((i) => pred[i]!), f8.map((i) => y[i]!), true)
  const hasFp8 = f8.length > 0
  // The alternative combination rule, for the record: a·FLOPs + b·bytes + c.
  const sumRows = y.map((_, i) => [...compute[i]!, ...memory[i]!, ...fixed[i]!])
  const xs = nnlsRelative(sumRows, y)
  const sumPred = sumRows.map((r) => dotp(r, xs))
  out.add("aiconfigurator gemm bf16, sum rule", gen, bf.map((i) => sumPred[i]!), bf.map((i) => y[i]!), "comparison")
  return {
    hasLowPrecision: hasFp8,
    gemmCompute: fit.compute[0]!,
    // Without fp8 tensor cores (Ampere) vLLM runs fp8 checkpoints as W8A16 Marlin at the bf16 rate.
    gemmComputeLowPrecision: hasFp8 ? fit.compute[1]! : fit.compute[0]!,
    weightRead: fit.memory[0]!,
    gemmKernelLatency: fit.fixed[0]!,
    gemmKernelLatencyLowPrecision: hasFp8 ? fit.fixed[1]! : fit.fixed[0]!,
  }
}

const kvElementBytes = (dtype: string): number => (dtype === "fp8" ? 1 : 2)

/** Decode attention: latency ≈ launch + attentionPerSlot·batch·kv_heads + kvRead·KV bytes / BW. */
const fitDecodeAttention = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    for (const p of loadGenerationAttention(root, dir, id)) {
      const kvBytes = p.batch * p.step * 2 * p.kvHeads * p.headDim * kvElementBytes(p.kvDtype)
      rows.push([1, p.batch * p.kvHeads, kvBytes / gpu.memoryBandwidth])
      y.push(p.latency)
    }
  }
  const x = nnlsRelative(rows, y)
  out.add("aiconfigurator generation_attention", gen, rows.map((r) => dotp(r, x)), y, true)
  return { launch: x[0]!, attentionPerSlot: x[1]!, kvRead: x[2]! }
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
const fitPrefillAttention = (
  root: string,
  dirs: ReadonlyArray<{ dir: string; gpu: string }>,
  gen: string,
  decode: { attentionPerSlot: number; kvRead: number },
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
      offsets.push(decode.attentionPerSlot * p.batch * p.kvHeads + (decode.kvRead * kvBytes + elementwise * qoBytes) / gpu.memoryBandwidth)
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

/** vLLM 0.14 uses its custom all-reduce below 8 MiB (CUDA-graph variant in graphs) and NCCL above. */
const CUSTOM_ALLREDUCE_MAX_BYTES = 8 * 1024 * 1024

const fitAllReduce = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    const link = linkBandwidthOneWay(gpu)
    const points = [
      ...loadCustomAllReduce(root, dir, id).filter((p) => p.kernel === "vLLM_custom_graph" && p.bytes <= CUSTOM_ALLREDUCE_MAX_BYTES),
      ...loadNccl(root, dir, id).filter((p) => p.op === "all_reduce" && p.dtype === "half" && p.bytes > CUSTOM_ALLREDUCE_MAX_BYTES),
    ]
    for (const p of points) {
      rows.push([1, (p.bytes * ringAllReduceFactor(p.numGpus)) / link])
      y.push(p.latency)
    }
  }
  const x = nnlsRelative(rows, y)
  out.add("aiconfigurator all_reduce (custom < 8 MiB, nccl above)", gen, rows.map((r) => dotp(r, x)), y, true)
  return { allReduceLatency: x[0]!, allReduceBandwidth: x[1]! }
}

/** EP dispatch/combine as vLLM's allgather_reducescatter backend: NCCL all_gather + reduce_scatter. */
const fitAllGather = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
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
const fitSendRecv = (root: string, sources: ReadonlyArray<{ gpu: string; dir: string }>, gen: string, out: Collector) => {
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
const fitMoe = (root: string, dirs: ReadonlyArray<{ dir: string; gpu: string }>, gen: string, out: Collector) => {
  const rows: number[][] = []
  const y: number[] = []
  for (const { dir, gpu: id } of dirs) {
    const gpu = gpuOf(id)
    const points = loadMoe(root, dir, id)
    // The A100 table has no balanced routing; power_law_1.01 is the mildest skew it has.
    const dist = points.some((p) => p.distribution === "balanced") ? "balanced" : "power_law_1.01"
    for (const p of points) {
      if (p.distribution !== dist || (p.dtype !== "bfloat16" && p.dtype !== "fp8")) continue
      const perExpert = (3 * p.hidden * p.inter) / p.tp
      const flops = (2 * p.numTokens * p.topk * perExpert) / p.ep
      const touched = moeExpertsTouched(moeShape(p.numExperts, p.topk), p.numTokens) / p.ep
      rows.push([flops / gpu.bf16Flops, (touched * perExpert * (p.dtype === "fp8" ? 1 : 2)) / gpu.memoryBandwidth, 1])
      y.push(p.latency)
    }
  }
  if (y.length === 0) return { moeCompute: 1, moeExpertWeight: 1, moeLayerLatency: 0 }
  const x = nnlsRelative(rows, y)
  out.add("aiconfigurator moe", gen, rows.map((r) => dotp(r, x)), y, true)
  // The alternative rule, for the record: max(a·FLOPs, b·bytes) + c.
  const mx = fitMaxRoofline({ compute: rows.map((r) => [r[0]!]), memory: rows.map((r) => [r[1]!]), fixed: rows.map(() => [1]), y })
  out.add("aiconfigurator moe, max rule", gen, rows.map((r) => predictMax(mx, [r[0]!], [r[1]!], [1])), y, "comparison")
  return { moeCompute: x[0]!, moeExpertWeight: x[1]!, moeLayerLatency: x[2]! }
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
const fitElementwise = (root: string, gpuIds: ReadonlyArray<string>, gen: string, out: Collector) => {
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
const checkVidurGemms = (root: string, gpuIds: ReadonlyArray<string>, gen: string, c: StepTimeCoefficients, out: Collector): void => {
  const pred: number[] = []
  const y: number[] = []
  for (const id of gpuIds) {
    const gpu = gpuOf(id)
    for (const p of vidurPoints(root, id)) {
      const d = p.hidden / p.heads
      const params = (p.hidden * (p.heads + 2 * p.kvHeads) * d + p.heads * d * p.hidden + (p.gated ? 3 : 2) * p.hidden * p.intermediate) / p.tp
      const compute = (c.gemmCompute * 2 * params * p.numTokens) / gpu.bf16Flops
      const memory = (c.weightRead * params * 2) / gpu.memoryBandwidth
      pred.push(Math.max(compute, memory) + 4 * c.gemmKernelLatency)
      y.push(GEMM_OPS.reduce((s, o) => s + (p.ops[o] ?? 0), 0))
    }
  }
  out.add("vidur linear layers (held out)", gen, pred, y, false)
}

// ---- Whole-step timings ----

const prefillBatch = (requests: number, prompt: number): BatchShape => ({
  numReqs: requests,
  numTokens: requests * prompt,
  numPrefillReqs: requests,
  prefillTokens: requests * prompt,
  numDecodeReqs: 0,
  prefillAttentionWork: (requests * prompt * (prompt + 1)) / 2,
  prefillContextTokens: requests * prompt,
  decodeContextTokens: 0,
})

const decodeBatch = (requests: number, context: number): BatchShape => ({
  numReqs: requests,
  numTokens: requests,
  numPrefillReqs: 0,
  prefillTokens: 0,
  numDecodeReqs: requests,
  prefillAttentionWork: 0,
  prefillContextTokens: 0,
  decodeContextTokens: requests * context,
})

const model = (id: string): ModelProfile => {
  const m = lookupModel(id)
  if (m === undefined) throw new Error(`fit-defaults: no model profile ${id}`)
  return m
}

const hfModel = (config: Record<string, unknown>, id: string): ModelProfile => {
  const m = modelFromHfConfig(config, id)
  if (typeof m === "string") throw new Error(m)
  return m
}

/**
 * Models of the whole-step datasets: built-ins, or the architecture of their HF config (sources in comments).
 * BLOOM-176B is written out: ALiBi MHA, 4h GELU MLP, tied embeddings (bigscience/bloom config.json).
 */
const WHOLE_STEP_MODELS: Readonly<Record<string, () => ModelProfile>> = {
  "llama2-70b": () => model("meta-llama/Llama-2-70b-hf"),
  "bloom-176b": () => ({
    id: "bigscience/bloom",
    numLayers: 70,
    hiddenSize: 14336,
    numAttentionHeads: 112,
    numKeyValueHeads: 112,
    headDim: 128,
    intermediateSize: 4 * 14336,
    vocabSize: 250880,
    tieWordEmbeddings: true,
    numExperts: 0,
    numExpertsPerTok: 0,
    moeIntermediateSize: 0,
    numSharedExperts: 0,
    numDenseLayers: 0,
    mlaKvDim: 0,
    slidingWindow: 0,
    numSlidingLayers: 0,
    maxPositionEmbeddings: 2048,
    mlpGated: false,
  }),
  "meta-llama/Llama-2-7b-hf": () => model("meta-llama/Llama-2-7b-hf"),
  "meta-llama/Llama-2-70b-hf": () => model("meta-llama/Llama-2-70b-hf"),
  // Llama 3 and 3.1 share the architecture (only rope scaling and context length differ).
  "meta-llama/Meta-Llama-3-8B": () => model("meta-llama/Llama-3.1-8B"),
  "meta-llama/Meta-Llama-3-70B": () => model("meta-llama/Llama-3.1-70B"),
  // Qwen2 and Qwen2.5 7B/72B share the architecture (Qwen2.5 technical report, table 1).
  "Qwen/Qwen2-7B": () => model("Qwen/Qwen2.5-7B"),
  "Qwen/Qwen2-72B": () => model("Qwen/Qwen2.5-72B"),
  "mistralai/Mixtral-8x7B-v0.1": () => model("mistralai/Mixtral-8x7B-v0.1"),
  // mistralai/Mistral-7B-v0.1 config.json (sliding_window 4096 on every layer).
  "mistralai/Mistral-7B-v0.1": () =>
    hfModel(
      {
        model_type: "mistral",
        hidden_size: 4096,
        intermediate_size: 14336,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        vocab_size: 32000,
        max_position_embeddings: 32768,
        sliding_window: 4096,
        tie_word_embeddings: false,
      },
      "mistralai/Mistral-7B-v0.1",
    ),
}

interface StepObservation {
  readonly dataset: string
  readonly setup: { model: ModelProfile; gpu: GpuProfile; precision: Precision; tp: number }
  /** Steps making up the measurement, each with a multiplicity. */
  readonly steps: ReadonlyArray<{ readonly batch: BatchShape; readonly count: number }>
  readonly measured: number
}

/** Old vLLM (≤ 0.6) without chunked prefill: whole prompts per step, up to max(4096, prompt) tokens. */
const prefillSteps = (requests: number, prompt: number): Array<{ batch: BatchShape; count: number }> => {
  const perStep = Math.max(1, Math.floor(Math.max(4096, prompt) / prompt))
  const full = Math.floor(requests / perStep)
  const rest = requests - full * perStep
  const steps = [] as Array<{ batch: BatchShape; count: number }>
  if (full > 0) steps.push({ batch: prefillBatch(perStep, prompt), count: full })
  if (rest > 0) steps.push({ batch: prefillBatch(rest, prompt), count: 1 })
  return steps
}

const wholeStepObservations = (root: string, gpuIds: ReadonlyArray<string>): StepObservation[] => {
  const obs: StepObservation[] = []
  for (const p of loadSplitwise(root)) {
    if (!gpuIds.includes(p.gpu)) continue
    const m = WHOLE_STEP_MODELS[p.model]
    if (m === undefined) continue
    // Splitwise rows with batch 64 and prompt 512 report prefill faster than batch 32 (a failed run); skip.
    if (p.batchSize * p.promptSize > 16384) continue
    const setup = { model: m(), gpu: gpuOf(p.gpu), precision: "fp16" as Precision, tp: p.tp }
    obs.push({ dataset: "splitwise prefill", setup, steps: [{ batch: prefillBatch(p.batchSize, p.promptSize), count: 1 }], measured: p.promptTime })
    obs.push({ dataset: "splitwise decode", setup, steps: [{ batch: decodeBatch(p.batchSize, p.promptSize + p.tokenSize / 2), count: 1 }], measured: p.tokenTime })
  }
  for (const p of loadArgonne(root)) {
    if (!gpuIds.includes(p.gpu)) continue
    const m = WHOLE_STEP_MODELS[p.model]
    if (m === undefined) continue
    const setup = { model: m(), gpu: gpuOf(p.gpu), precision: "fp16" as Precision, tp: p.tp }
    // KV is linear in context, so L − 1 decode steps at the mean context cost the same as the sum.
    const steps = [...prefillSteps(p.batch, p.length), { batch: decodeBatch(p.batch, p.length + p.length / 2), count: p.length - 1 }]
    obs.push({ dataset: "argonne vLLM static batch", setup, steps, measured: p.latency })
  }
  return obs
}

const predictObservation = (o: StepObservation, c: StepTimeCoefficients): number => {
  const st = physicsStepTime({ model: o.setup.model, gpu: o.setup.gpu, precision: o.setup.precision, kvCacheDtype: "auto", par: { tp: o.setup.tp, pp: 1, ep: 1 }, coefficients: c })
  return o.steps.reduce((s, x) => s + x.count * st.stepTime(x.batch), 0)
}

/**
 * CPU-side overheads: stepOverhead (s per step) and perRequestStepOverhead (s per scheduled request per
 * step), by NNLS on relative error of whole measurements against the kernel-fitted GPU time.
 */
const fitOverheads = (obs: ReadonlyArray<StepObservation>, gpuOnly: StepTimeCoefficients) => {
  const base = { ...gpuOnly, stepOverhead: 0, perRequestStepOverhead: 0 }
  const y = obs.map((o) => o.measured)
  const gpuTime = obs.map((o) => predictObservation(o, base))
  // min Σ ((gpu_i + steps_i·a + requestSteps_i·b − y_i) / y_i)², a, b ≥ 0
  const a = obs.map((o, i) => [o.steps.reduce((s, x) => s + x.count, 0) / y[i]!, o.steps.reduce((s, x) => s + x.count * x.batch.numReqs, 0) / y[i]!])
  const b = y.map((v, i) => (v - gpuTime[i]!) / v)
  const x = nnls(a, b).x
  return { stepOverhead: x[0]!, perRequestStepOverhead: x[1]! }
}

// ---- Layer profiles (LLMServingSim, eager PyTorch timings): held-out check of the GPU terms ----

const checkLlmServingSim = (root: string, c: StepTimeCoefficients, out: Collector): void => {
  const pred: number[] = []
  const y: number[] = []
  for (const { model: id, tp } of LLMSERVINGSIM_MODELS) {
    const pts = loadLlmServingSimLayers(root, id, tp)
    if (pts.length === 0) continue
    const m = model(id)
    const st = physicsStepTime({ model: m, gpu: gpuOf("h100-sxm"), precision: "bf16", kvCacheDtype: "auto", par: { tp, pp: 1, ep: 1 }, coefficients: { ...c, stepOverhead: 0, perRequestStepOverhead: 0 } })
    // Σ per-layer ops × layers for a prefill of `input` tokens with no cache (kv_cache = 0 rows).
    const byInput = new Map<number, number>()
    const lmHead = new Map<number, number>()
    for (const p of pts) {
      if (p.kvCache !== 0) continue
      if (p.layer === "embedding" || p.layer === "final_layernorm") continue
      if (p.layer === "lm_head") lmHead.set(p.input, p.latency)
      else byInput.set(p.input, (byInput.get(p.input) ?? 0) + p.latency)
    }
    for (const [input, perLayer] of byInput) {
      if (input < 256 || input % 256 !== 0) continue
      pred.push(st.stepTime(prefillBatch(1, input)))
      y.push(perLayer * m.numLayers + (lmHead.get(input) ?? 0))
    }
  }
  out.add("llmservingsim H100 layers, eager (held out)", "hopper", pred, y, false)
}

// ---- Serving overheads (stage 2): what kernel microbenchmarks cannot see ----
//
// The microbenchmarks time each kernel alone. A served step also pays CPU work per step and per
// request (scheduling, input preparation, sampling, output processing), waits at every all-reduce for
// the slowest rank (launch skew, which grows with TP; Vidur adds 20 µs + skew·tp^1.25 per all-reduce,
// ../shared/notes/simulators.md §4.3), and runs fp8 GEMMs whose activation quantization torch.compile
// fuses into the preceding norm/activation kernel. Those four are fitted on closed-loop vLLM runs:
// silicon-sweeps.csv rows (vLLM 0.12–0.18, H100/H200) of built-in models at concurrency ≤ 16, where a
// step's time is what a request's TPOT measures. Rows at higher concurrency, the inference-sim runs and
// every other table stay held out. The older whole-step tables (Splitwise 2023, Argonne vLLM ≈ 0.5)
// carry pre-V1 CPU overheads several times larger; they are fitted separately and reported only.

/** Serving rows with concurrency up to this train stage 2; the rest are held out. */
export const TRAIN_MAX_CONCURRENCY = 16

interface ClosedLoopPoint {
  readonly row: ServingRow
  readonly setup: HardwareSetup
  /** Steps a request sees between its first and last token, each with its share of the window. */
  readonly decodeWindow: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>
  /** The steps that prefill it (its chunks next to the others' decodes), and the step it waits behind. */
  readonly prefill: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>
}

const mixedBatch = (decodes: number, context: number, chunks: number, chunk: number, chunksPerPrompt: number): BatchShape => {
  // Chunk j of a prompt starts at j·chunk; average over the prompt's chunks.
  const offset = ((chunksPerPrompt - 1) * chunk) / 2
  return {
    numReqs: decodes + chunks,
    numTokens: decodes + chunks * chunk,
    numPrefillReqs: chunks,
    prefillTokens: chunks * chunk,
    numDecodeReqs: decodes,
    prefillAttentionWork: chunks * chunk * (offset + (chunk + 1) / 2),
    prefillContextTokens: chunks * (offset + chunk),
    decodeContextTokens: decodes * context,
  }
}

/**
 * Steady state of a closed loop (`vllm bench serve --max-concurrency c`, fixed isl/osl) with chunked
 * prefill under a token budget: every request decodes while the c − 1 others each prefill once per
 * cycle, so its osl − 1 decode steps carry (c − 1)·chunks prefill chunks (several per step when that
 * exceeds the window, up to the budget). Decodes attend over isl + osl/2 tokens on average.
 */
const closedLoopPoint = (row: ServingRow, setup: HardwareSetup): ClosedLoopPoint | undefined => {
  const c = row.concurrency
  const window = row.osl - 1
  if (!(c >= 1) || !(window >= 1) || !(row.isl >= 1)) return undefined
  const budget = Number.isFinite(row.maxNumBatchedTokens) ? row.maxNumBatchedTokens : vllmDefaults(setup.gpu).maxNumBatchedTokens
  const room = Math.max(1, budget - (c - 1))
  const nChunks = Math.ceil(row.isl / room)
  const chunk = row.isl / nChunks
  const ctx = row.isl + row.osl / 2
  const others = (c - 1) * nChunks
  const decodeWindow =
    others <= window
      ? [
          { batch: decodeBatch(c, ctx), weight: (window - others) / window },
          { batch: mixedBatch(c - 1, ctx, 1, chunk, nChunks), weight: others / window },
        ].filter((s) => s.weight > 0)
      : [{ batch: mixedBatch(c - 1, ctx, Math.min(others / window, room / chunk), chunk, nChunks), weight: 1 }]
  const prefill = [
    // The request arrives mid-step: on average half a step of the others' decoding before its first chunk.
    { batch: decodeBatch(Math.max(1, c - 1), ctx), weight: 0.5 },
    { batch: mixedBatch(c - 1, ctx, 1, chunk, nChunks), weight: nChunks },
  ]
  return { row, setup, decodeWindow, prefill }
}

/** Counts the stage-2 coefficients multiply in one step: per step, per request, per all-reduce, per low-precision GEMM kernel, per layer. */
const stage2Counts = (setup: HardwareSetup, batch: BatchShape): number[] => {
  const b = stepTimeBasis(setup)
  return [stepCount(b), scheduledRequestCount(batch), allReduceCount(b), b.lowPrecisionGemm ? gemmKernelCount(b) : 0, layerCount(b)]
}

const weighted = (
  steps: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>,
  f: (b: BatchShape) => number,
): number => steps.reduce((s, x) => s + x.weight * f(x.batch), 0)

const weightedCounts = (setup: HardwareSetup, steps: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>): number[] => {
  const acc = [0, 0, 0, 0, 0]
  for (const st of steps) stage2Counts(setup, st.batch).forEach((v, i) => (acc[i] = acc[i]! + st.weight * v))
  return acc
}

const servingPoints = (root: string, file: string, generation: (gpu: GpuProfile) => string): Array<ClosedLoopPoint & { readonly generation: string }> => {
  const pts: Array<ClosedLoopPoint & { readonly generation: string }> = []
  for (const row of loadServingTable(root, file)) {
    if (row.engine !== "vllm" || row.workload !== "random-fixed" || row.pp !== 1) continue
    const m = lookupModel(row.model)
    const gpu = lookupGpu(row.gpu)
    if (m === undefined || gpu === undefined) continue
    const precision = row.precision as Precision
    // The table has no EP column; aiconfigurator's run ids carry it ("…_tp4_ep4_…").
    const epMatch = /_ep(\d+)/.exec(row.source)
    const ep = epMatch !== null && m.numExperts > 0 ? Math.max(1, Number(epMatch[1])) : 1
    const par = { tp: row.tp, pp: 1, ep: ep <= row.tp ? ep : 1 }
    // Rows whose weights cannot fit the GPUs named were run with more GPUs than the table says (DP/EP); skip.
    if (weightBytesPerGpu(m, precision, par) > 0.95 * gpu.memoryBytes) continue
    const setup: HardwareSetup = { model: m, gpu, precision, kvCacheDtype: "auto", par }
    const p = closedLoopPoint(row, setup)
    if (p !== undefined) pts.push({ ...p, generation: generation(gpu) })
  }
  return pts
}

interface Stage2 {
  readonly stepOverhead: number
  readonly perRequestStepOverhead: number
  /** Added to each generation's microbenchmark all-reduce latency. */
  readonly allReduceSkew: number
  /** Low-precision GEMM kernel latency in a served (compiled, graphed) step. */
  readonly gemmKernelLatencyLowPrecision: number
  /** Added to each generation's per-layer kernel cost. */
  readonly layerSkew: number
}

/**
 * TPOT of the closed-loop points ≈ GPU time (stage 1) + Σ stage-2 coefficient × count, fitted on
 * relative error in L1 (nnlsL1): some rows describe runs the table under-specifies (other vLLM
 * versions, DP, max_num_seqs caps), and L1 keeps them from dragging the rest.
 */
const fitStage2 = (train: ReadonlyArray<ClosedLoopPoint>, base: (gen: string) => StepTimeCoefficients, genOf: (p: ClosedLoopPoint) => string): Stage2 => {
  const a: number[][] = []
  const b: number[] = []
  for (const p of train) {
    const y = p.row.tpotMean
    if (!(y > 0)) continue
    const c0 = { ...base(genOf(p)), stepOverhead: 0, perRequestStepOverhead: 0 }
    const st = physicsStepTime({ ...p.setup, coefficients: stepTimeBasis(p.setup).lowPrecisionGemm ? { ...c0, gemmKernelLatencyLowPrecision: 0 } : c0 })
    const t0 = weighted(p.decodeWindow, st.stepTime)
    a.push(weightedCounts(p.setup, p.decodeWindow).map((v) => v / y))
    b.push((y - t0) / y)
  }
  const x = nnlsL1(a, b)
  return { stepOverhead: x[0]!, perRequestStepOverhead: x[1]!, allReduceSkew: x[2]!, gemmKernelLatencyLowPrecision: x[3]!, layerSkew: x[4]! }
}

const predictTpot = (p: ClosedLoopPoint, c: StepTimeCoefficients): number => weighted(p.decodeWindow, physicsStepTime({ ...p.setup, coefficients: c }).stepTime)
const predictTtftEngine = (p: ClosedLoopPoint, c: StepTimeCoefficients): number => weighted(p.prefill, physicsStepTime({ ...p.setup, coefficients: c }).stepTime)

// ---- Whole fit ----

/**
 * Request overheads outside engine steps: vLLM's API server parses the HTTP request and tokenizes the
 * prompt before the engine sees it (order of a millisecond for the prompt lengths here with a fast
 * tokenizer), streams each token as an SSE event and closes the response. None of this is separable in
 * the tables; these are estimates for `servesim calibrate` to replace.
 */
export const DEFAULT_OVERHEADS: RequestOverheads = { ingressBase: 0.002, ingressPerInputToken: 0, perOutputToken: 0, completion: 0 }

/**
 * Generations with kernel data. Vidur's a100_pairwise_nvlink and h100_pairwise_nvlink send_recv files
 * are byte-identical, so both generations take the hand-off efficiency fitted against the H100 link.
 */
export const GENERATIONS: ReadonlyArray<{ readonly name: string; readonly gpus: ReadonlyArray<string>; readonly vidur: ReadonlyArray<{ gpu: string; dir: string }> }> = [
  { name: "ampere", gpus: ["a100-sxm"], vidur: [{ gpu: "h100-sxm", dir: "h100_pairwise_nvlink" }] },
  { name: "hopper", gpus: ["h100-sxm", "h200-sxm"], vidur: [{ gpu: "h100-sxm", dir: "h100_pairwise_nvlink" }] },
]

/** ada (L40S, RTX 4090) is closest to Ampere in memory system and kernels; blackwell borrows Hopper's. */
export const GENERATION_FALLBACK: Readonly<Record<string, string>> = { ada: "ampere", blackwell: "hopper" }

export const fitDefaults = (root: string = dataRoot()): { file: CoefficientsFile; errors: ReadonlyArray<DatasetError>; legacy: Readonly<Record<string, { stepOverhead: number; perRequestStepOverhead: number }>> } => {
  const out = collector()
  // Stage 1: GPU-side efficiencies from kernel microbenchmarks, per generation.
  const stage1: Record<string, StepTimeCoefficients> = {}
  const hasLowPrecisionData: Record<string, boolean> = {}
  for (const gen of GENERATIONS) {
    const dirs = AICONFIGURATOR_GPUS.filter((d) => gen.gpus.includes(d.gpu))
    const gemm = fitGemm(root, dirs, gen.name, out)
    const decode = fitDecodeAttention(root, dirs, gen.name, out)
    const ew = fitElementwise(root, gen.gpus, gen.name, out)
    const prefill = fitPrefillAttention(root, dirs, gen.name, decode, ew.elementwise, out)
    const allReduce = fitAllReduce(root, dirs, gen.name, out)
    const allGather = fitAllGather(root, dirs, gen.name, out)
    const sendRecv = fitSendRecv(root, gen.vidur, gen.name, out)
    const moe = fitMoe(root, dirs, gen.name, out)
    const { hasLowPrecision, ...gemmCoefficients } = gemm
    hasLowPrecisionData[gen.name] = hasLowPrecision
    stage1[gen.name] = {
      ...gemmCoefficients,
      moeCompute: moe.moeCompute,
      moeExpertWeight: moe.moeExpertWeight,
      moeLayerLatency: moe.moeLayerLatency,
      attentionCompute: prefill.attentionCompute,
      kvRead: decode.kvRead,
      attentionPerSlot: decode.attentionPerSlot,
      elementwise: ew.elementwise,
      ...allReduce,
      ...allGather,
      ...sendRecv,
      layerLaunch: ew.layerLaunch,
      stepOverhead: 0,
      perRequestStepOverhead: 0,
    }
    checkVidurGemms(root, gen.gpus, gen.name, stage1[gen.name]!, out)
  }
  const genOf = (gpu: GpuProfile): string =>
    stage1[gpu.generation] !== undefined ? gpu.generation : (GENERATION_FALLBACK[gpu.generation] ?? "hopper")

  // Stage 2: serving overheads on the closed-loop training rows.
  const points = servingPoints(root, "silicon-sweeps.csv", genOf)
  const train = points.filter((p) => p.row.concurrency <= TRAIN_MAX_CONCURRENCY)
  const heldOut = points.filter((p) => p.row.concurrency > TRAIN_MAX_CONCURRENCY)
  const s2 = fitStage2(train, (g) => stage1[g]!, (p) => (p as ClosedLoopPoint & { generation: string }).generation)
  const final: Record<string, StepTimeCoefficients> = {}
  for (const gen of GENERATIONS) {
    const c1 = stage1[gen.name]!
    final[gen.name] = {
      ...c1,
      stepOverhead: s2.stepOverhead,
      perRequestStepOverhead: s2.perRequestStepOverhead,
      allReduceLatency: c1.allReduceLatency + s2.allReduceSkew,
      layerLaunch: c1.layerLaunch + s2.layerSkew,
      // Without fp8 tensor cores (Ampere) fp8 weights run W8A16 kernels: keep the bf16-like fit.
      gemmKernelLatencyLowPrecision: hasLowPrecisionData[gen.name] ? s2.gemmKernelLatencyLowPrecision : c1.gemmKernelLatencyLowPrecision,
    }
  }
  const finalOf = (p: ClosedLoopPoint & { generation: string }): StepTimeCoefficients => final[p.generation]!
  // FIT_DEBUG=1 prints the steady-state view's signed TPOT error per deployment.
  if (process.env.FIT_DEBUG !== undefined) {
    const groups = new Map<string, number[]>()
    for (const p of points) {
      if (!(p.row.tpotMean > 0)) continue
      const k = `${p.row.model} ${p.row.gpu} ${p.row.precision} tp${p.setup.par.tp} ep${p.setup.par.ep} ${p.row.engineVersion}`
      const e = (100 * (predictTpot(p, finalOf(p)) - p.row.tpotMean)) / p.row.tpotMean
      groups.set(k, [...(groups.get(k) ?? []), e])
    }
    for (const [k, es] of groups) console.log(`${k}: n=${es.length} signed TPOT errors ${es.map((e) => e.toFixed(0)).join(" ")}`)
  }
  // Request overheads outside steps. The tables time requests from the client, and a closed loop's TTFT
  // mixes ingress with how the engine interleaves the arriving prefills (which the simulator, not this
  // steady-state view, reproduces), so ingress is not fitted here: DEFAULT_OVERHEADS below. The TTFT
  // error of the steady-state view is reported for reference.
  const ttftRows = train.filter((p) => p.row.ttftMean > 0)
  const overheads = DEFAULT_OVERHEADS
  const ingressOf = (p: ClosedLoopPoint): number => overheads.ingressBase + overheads.ingressPerInputToken * p.row.isl
  for (const [name, set, fitted] of [
    [`silicon-sweeps vLLM TPOT, c ≤ ${TRAIN_MAX_CONCURRENCY} (steady-state)`, train, true],
    [`silicon-sweeps vLLM TPOT, c > ${TRAIN_MAX_CONCURRENCY} (steady-state, held out)`, heldOut, false],
  ] as const) {
    const sel = set.filter((p) => p.row.tpotMean > 0)
    out.add(name, "hopper", sel.map((p) => predictTpot(p, finalOf(p))), sel.map((p) => p.row.tpotMean), fitted)
  }
  out.add(
    `silicon-sweeps vLLM TTFT, c ≤ ${TRAIN_MAX_CONCURRENCY} (steady-state, not fitted)`,
    "hopper",
    ttftRows.map((p) => ingressOf(p) + predictTtftEngine(p, finalOf(p))),
    ttftRows.map((p) => p.row.ttftMean),
    false,
  )

  // Legacy whole-step tables: their own overhead fit (reported), and the shipped coefficients (held out).
  const legacy: Record<string, { stepOverhead: number; perRequestStepOverhead: number }> = {}
  for (const gen of GENERATIONS) {
    const obs = wholeStepObservations(root, gen.gpus)
    const lo = fitOverheads(obs, stage1[gen.name]!)
    legacy[gen.name] = { stepOverhead: round6(lo.stepOverhead), perRequestStepOverhead: round6(lo.perRequestStepOverhead) }
    const withLegacy = { ...stage1[gen.name]!, ...lo }
    for (const name of [...new Set(obs.map((o) => o.dataset))]) {
      const sel = obs.filter((o) => o.dataset === name)
      out.add(`${name} (own overhead fit)`, gen.name, sel.map((o) => predictObservation(o, withLegacy)), sel.map((o) => o.measured), true)
      out.add(`${name} (shipped, held out)`, gen.name, sel.map((o) => predictObservation(o, final[gen.name]!)), sel.map((o) => o.measured), false)
    }
  }
  checkLlmServingSim(root, final.hopper!, out)

  const generations: Record<string, GenerationCoefficients> = {}
  for (const gen of GENERATIONS) {
    const rounded = {} as Record<keyof StepTimeCoefficients, number>
    for (const k of COEFFICIENT_NAMES) rounded[k] = round6(final[gen.name]![k])
    generations[gen.name] = { fittedOn: gen.gpus, coefficients: rounded }
  }
  const file: CoefficientsFile = {
    kind: "servesim-default-coefficients",
    version: 1,
    generated: "npm run fit-defaults (src/calibrate/fit-defaults.ts) on ../shared/data",
    generations,
    generationFallback: GENERATION_FALLBACK,
    overheads,
    fit: out.errors,
  }
  return { file, errors: out.errors, legacy }
}

export const COEFFICIENTS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), "..", "hw", "coefficients.json")

export const serializeCoefficients = (file: CoefficientsFile): string => `${JSON.stringify(file, null, 2)}\n`

const main = (): void => {
  const root = dataRoot()
  const { file, errors, legacy } = fitDefaults(root)
  writeFileSync(COEFFICIENTS_PATH, serializeCoefficients(file))
  const w = Math.max(...errors.map((e) => e.dataset.length))
  console.log(`data: ${root}`)
  console.log(`${"dataset".padEnd(w)}  gen     points  median |err|  role`)
  for (const e of errors)
    console.log(`${e.dataset.padEnd(w)}  ${e.generation.padEnd(6)}  ${String(e.points).padStart(6)}  ${`${e.medianAbsPercentError.toFixed(1)}%`.padStart(12)}  ${e.role}`)
  for (const [g, c] of Object.entries(file.generations)) {
    console.log(`\n${g} (${c.fittedOn.join(", ")}):`)
    for (const k of COEFFICIENT_NAMES) console.log(`  ${k.padEnd(30)} ${c.coefficients[k]}`)
  }
  console.log(`\nrequest overheads: ${JSON.stringify(file.overheads)}`)
  console.log(`legacy vLLM (Splitwise, Argonne) overheads, not shipped: ${JSON.stringify(legacy)}`)
  console.log(`\nwrote ${COEFFICIENTS_PATH}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main()
