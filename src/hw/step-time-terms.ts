// Physics basis terms of one engine step: each a datasheet roofline quantity (seconds at 100% of the
// GPU's peak FLOP/s, HBM or link bandwidth, or a count of fixed-cost events) computed from the model,
// GPU, precision, KV dtype, parallelism and the batch. physics-step-time.ts multiplies each by a fitted
// non-negative coefficient. Pure: no I/O, no clock.
//
// Everything is per GPU. A step is one pass of the whole batch through the model; with pipeline
// parallelism vLLM V1 keeps `pp` micro-batches in flight (its batch queue has pp slots), so a step is
// pp stage-passes of batch/pp each: batch-independent stage costs (weight reads, kernel and layer
// launches, latencies, the scheduler) are paid pp times, batch-proportional work once per stage.
// `pipelineFactor` below is that pp.

import {
  attentionFlops,
  bytesPerWeight,
  kvBytesPerElement,
  kvBytesPerToken,
  linearFlopsPerToken,
  moeExpertsTouched,
  nonExpertPrecision,
  weightBytesPerGpu,
} from "./model-costs.ts"
import type { BatchShape, GpuProfile, KvCacheDtype, ModelProfile, Parallelism, Precision } from "./types.ts"

/** What a step-time model is built for: one replica's model, GPU type, precisions and layout. */
export interface HardwareSetup {
  readonly model: ModelProfile
  readonly gpu: GpuProfile
  readonly precision: Precision
  readonly kvCacheDtype: KvCacheDtype
  readonly par: Parallelism
  /**
   * vLLM's async scheduling: the CPU's per-step work (scheduling, input preparation, output processing)
   * for step N+1 runs while the GPU executes step N, so a step takes max(GPU, CPU) instead of their sum.
   */
  readonly asyncScheduling?: boolean
  /**
   * The requests sample with top-p or top-k (their own parameters, or the checkpoint's generation_config
   * that vLLM applies when a client sends none): every step runs vLLM's top-k/top-p filter over the
   * logits of every scheduled request (samplerFilterTime).
   */
  readonly topKTopPSampling?: boolean
  /**
   * The requests sample with a repetition (or presence/frequency) penalty, e.g. Qwen2.5-Instruct's
   * generation_config repetition_penalty 1.05: every step runs vLLM's penalties over the logits of every
   * scheduled request (penaltyTime).
   */
  readonly samplingPenalties?: boolean
}

/** Activations (hidden states, all-reduce payloads, stage hand-offs) stay 16-bit under every weight scheme. */
export const ACTIVATION_BYTES = 2

/**
 * Peak dense FLOP/s of the GEMMs at a weight precision. fp8/fp4 checkpoints run W8A8/W4A4 tensor-core
 * GEMMs (vLLM quantizes activations on the fly); int4 (GPTQ/AWQ) runs W4A16 Marlin kernels, which
 * dequantize to 16 bits and so run at the bf16 rate (plus marlinDequantTime), as do fp8 weights on a GPU
 * without fp8 tensor cores (its fp8Flops equals its bf16Flops).
 */
export const gemmPeakFlops = (gpu: GpuProfile, p: Precision): number => {
  switch (p) {
    case "bf16":
    case "fp16":
    case "int4":
      return gpu.bf16Flops
    case "fp8":
      return gpu.fp8Flops
    case "fp4":
      return gpu.fp4Flops
  }
}

/** fp8/fp4 GEMMs quantize activations per call and use different kernels: their own fitted efficiency. */
export const isLowPrecisionGemm = (p: Precision): boolean => p === "fp8" || p === "fp4"

/**
 * Weight-only GEMMs that vLLM runs as Marlin kernels: INT4 (GPTQ/AWQ, W4A16: gptq_marlin/awq_marlin on
 * SM ≥ 8.0), and fp8/fp4 on a GPU without tensor cores of that precision (W8A16/W4A16 FP8/FP4 Marlin:
 * vllm/model_executor/layers/quantization/utils/marlin_utils_fp8.py, used below SM 8.9). Marlin reads
 * the weights at their stored bytes, dequantizes them in registers and multiplies at the 16-bit rate.
 */
export const isMarlinGemm = (gpu: GpuProfile, p: Precision): boolean =>
  p === "int4" || (p === "fp8" && !(gpu.fp8Flops > gpu.bf16Flops)) || (p === "fp4" && !(gpu.fp4Flops > gpu.bf16Flops))

/** Batch rows one Marlin tile covers (thread_m_blocks ≤ 4 of 16 rows): larger batches loop over 64-row slices. */
export const MARLIN_TILE_ROWS = 64

/**
 * vLLM's top-k/top-p filter (vllm/v1/sample/ops/topk_topp_sampler.py apply_top_k_top_p, the PyTorch path
 * vLLM 0.15 runs by default: the FlashInfer sampler is opt-in) sorts every request's full row of logits,
 * masks by the k-th value and the cumulative probability, and scatters back. Measured on H100 (vllm PR
 * #33538, PyTorch column, top-k + top-p on every row): 2.57 ms for 512 × 32,768 logits, 5.04 ms for
 * 1,024 × 32,768, 0.13 ms for 1 × 32,768 — 0.147 ns per logit plus 0.1 ms of launches. The per-logit
 * part streams the rows through the sort's passes, so it scales with HBM bandwidth on other GPUs.
 */
export const SAMPLER_FILTER_SECONDS_PER_LOGIT_H100 = 0.147e-9
export const SAMPLER_FILTER_LAUNCH_SECONDS = 0.1e-3

/**
 * HBM bytes per logit of vLLM's penalties (vllm/v1/sample/sampler.py apply_penalties →
 * vllm/v1/sample/ops/penalties.py apply_all_penalties → vllm/model_executor/layers/utils.py
 * apply_penalties), run eagerly on every step's float32 [num_seqs, vocab] logits whenever one request
 * has a penalty (all three penalties are applied, the neutral ones with 0 or 1):
 *   prompt bin counts: torch.zeros int64 [n, vocab+1] (8 B written), mask = counts > 0 (8 read, 1 written)
 *   output bin counts: the same (8 + 9)
 *   apply_repetition_penalties (CUDA kernel, csrc/sampler.cu): logits 4 read + 4 written, both masks 1 + 1
 *   frequency: penalty × counts → float32 temporary (8 read, 4 written); logits −= it (8 read, 4 written)
 *   presence: penalty × mask → float32 temporary (1 read, 4 written); logits −= it (8 read, 4 written)
 * = 85 B. The scatter_add_ of the padded prompt ([n, max_prompt_len]) and output token ids moves ~24 B
 * per token (int64 index, ones, the add), under 1% of a 152k-entry row even at a 4,096-token prompt, so
 * the cost is per request and vocab-sized, not set by prompt length. The CPU side (the padded output
 * history rebuilt per step by make_tensor_with_pad, the prompt tensor rebuilt when the batch changes,
 * and the async-scheduling sync on the previous step's sampled ids, gpu_input_batch.py
 * update_async_output_token_ids) runs while the GPU executes the forward pass it follows, ~0.35 ms at
 * 11 rows × 1,448 tokens (vllm PR #47540: ~22 ns per history token), far under the step.
 */
export const PENALTY_BYTES_PER_LOGIT = 85
const H100_SXM_BANDWIDTH = 3.35e12

/**
 * One-direction bandwidth of the GPU-to-GPU link used by collectives: NVLink when present, else PCIe.
 * Datasheets quote both directions (H100 NVLink 900 GB/s = 450 each way), a ring moves data one way.
 */
export const linkBandwidthOneWay = (gpu: GpuProfile): number =>
  (gpu.nvlinkBandwidth > 0 ? gpu.nvlinkBandwidth : gpu.pcieBandwidth) / 2

/** Ring all-reduce moves 2(n−1)/n of the message through each GPU's link (NCCL's "bus bandwidth" factor). */
export const ringAllReduceFactor = (n: number): number => (n > 1 ? (2 * (n - 1)) / n : 0)

/** vLLM's custom all-reduce serves messages up to this size (vllm/distributed/device_communicators/custom_all_reduce.py max_size); NCCL above. */
export const CUSTOM_ALLREDUCE_MAX_BYTES = 8 * 1024 * 1024

/**
 * The largest message (exclusive, bytes) vLLM's custom all-reduce sends one-shot on `n` GPUs: every rank
 * reads the n − 1 other ranks' whole buffers over NVLink and reduces (cross_device_reduce_1stage). Above
 * it, two-shot (reduce-scatter then all-gather through an intermediate buffer, a second barrier:
 * cross_device_reduce_2stage) moves the ring's 2(n−1)/n. csrc/custom_all_reduce.cuh allreduce: 2 GPUs
 * always one-shot; with full NVLink, ≤ 4 GPUs below 512 KiB, ≤ 8 GPUs below 256 KiB. Without NVLink
 * vLLM runs the custom kernel on 2 GPUs only (NCCL otherwise). 0 = never one-shot.
 */
export const oneShotAllReduceMaxBytes = (n: number, nvlink: boolean): number => {
  if (n === 2) return CUSTOM_ALLREDUCE_MAX_BYTES
  if (!nvlink || ![4, 6, 8].includes(n)) return 0
  return n <= 4 ? 512 * 1024 : 256 * 1024
}

/** Bytes through each GPU's link per byte of message: one-shot reads n − 1 peer buffers, two-shot and ring 2(n−1)/n. */
export const oneShotAllReduceFactor = (n: number): number => (n > 1 ? n - 1 : 0)

/**
 * Activation bytes per token over all layers on one GPU that no GEMM moves, 16-bit: two RMSNorms fused
 * with the residual add (read x and residual, write both: 4h each), RoPE on q and k (read + write), the
 * attention kernel's Q read and O write (its K/V are kvReadTime), SiLU-and-mul (read 2I, write I; GELU
 * read I, write I). Norms are replicated on every TP rank; the rest is split.
 */
export const elementwiseBytesPerToken = (m: ModelProfile, tp: number): number => {
  const h = m.hiddenSize
  const nMoe = moeLayers(m)
  const qDim = m.numAttentionHeads * m.headDim
  const qkDim = qDim + m.numKeyValueHeads * m.headDim
  const mlpWidth = (m.mlpGated === false ? 2 : 3) * m.intermediateSize
  const moeWidth = 3 * (m.numExpertsPerTok + m.numSharedExperts) * m.moeIntermediateSize
  const perLayer = 8 * h + (2 * qkDim + 2 * qDim) / tp
  return ACTIVATION_BYTES * (m.numLayers * perLayer + ((m.numLayers - nMoe) * mlpWidth + nMoe * moeWidth) / tp)
}

/** Weights of one routed expert (gate, up, down) per layer. */
const expertParams = (m: ModelProfile): number => 3 * m.hiddenSize * m.moeIntermediateSize

const moeLayers = (m: ModelProfile): number => (m.numExperts > 0 ? m.numLayers - m.numDenseLayers : 0)

/**
 * Batch-independent per-GPU constants of a setup, in roofline seconds per unit of batch work. Built once
 * per step-time model; the term functions below turn a BatchShape into seconds with a few multiplies.
 */
export interface StepTimeBasis {
  readonly setup: HardwareSetup
  /** pp: micro-batches in flight; multiplies batch-independent stage costs. */
  readonly pipelineFactor: number
  /** Non-expert linear layers (attention projections, dense MLPs, shared experts): s per new token. */
  readonly gemmSecondsPerToken: number
  /** lm_head: s per sampled request (vLLM computes logits only at the positions it samples). */
  readonly lmHeadSecondsPerRequest: number
  /** Routed experts (top-k per token): s per new token at the bf16 peak (see moeComputeTime). */
  readonly moeSecondsPerToken: number
  /** Hidden states of a token's k routed copies over the stage's MoE layers / HBM bandwidth (s per new token), on every GPU. */
  readonly moeDispatchSecondsPerToken: number
  /** Non-expert weights read once per stage pass (s), times the pipeline factor. The input embedding is a gather, not a read. */
  readonly weightReadSeconds: number
  /** One routed expert's weights on this GPU over the stage's MoE layers / bandwidth (s). */
  readonly expertReadSecondsPerExpert: number
  /** Fraction of routed experts held by this GPU (1/tp when TP-sharded, ceil(E/ep)/E whole experts under EP). */
  readonly expertShare: number
  /** Attention FLOPs per query–key pair over this GPU's heads and layers / peak bf16 (s): full-attention layers. */
  readonly attentionSecondsPerPair: number
  /** The same for sliding-window layers, whose pairs are capped at `slidingWindow` keys per query. */
  readonly slidingAttentionSecondsPerPair: number
  readonly slidingWindow: number
  /** (request, KV head) pairs the attention kernel walks per request over this GPU's layers: its per-request cost. */
  readonly attentionSlotsPerRequest: number
  /** KV bytes per context token on this GPU / bandwidth (s): full-attention layers, and sliding layers. */
  readonly kvReadSecondsPerToken: number
  readonly slidingKvReadSecondsPerToken: number
  /** Elementwise kernels (norms, residual adds, RoPE, activation): bytes touched per token / bandwidth (s). */
  readonly elementwiseSecondsPerToken: number
  /** TP all-reduce payload per token through the ring (two-shot, NCCL), summed over the step's all-reduces (s). */
  readonly allReduceSecondsPerToken: number
  /** The same for one-shot all-reduces, each rank reading n − 1 peer buffers (s). */
  readonly allReduceOneShotSecondsPerToken: number
  /** Micro-batches of fewer tokens than this all-reduce one-shot (vLLM custom all-reduce); 0 = never. */
  readonly allReduceOneShotBelowTokens: number
  /** All-reduces per step, times the pipeline factor (each pays a fixed latency). */
  readonly allReducesPerStep: number
  /** All-reduces per step × the expected slowest-of-tp straggler delay in jitter units (expectedMaxOfNormals(tp)). */
  readonly allReduceRankWaits: number
  /** EP dispatch + combine payload per token (s), and their count per step (times the pipeline factor). */
  readonly allToAllSecondsPerToken: number
  readonly allToAllsPerStep: number
  /** PP stage hand-off payload per token (s) and hand-offs on a step's critical path. */
  readonly ppHandoffSecondsPerToken: number
  readonly ppHandoffsPerStep: number
  /** MoE layer passes per step (fused-MoE routing, alignment, grouped GEMMs, reduction: a fixed cost each). */
  readonly moeLayersPerStep: number
  /** GEMM kernel launches per step over all stage passes (each has a fixed latency). */
  readonly gemmKernelsPerStep: number
  /** Transformer layer passes per step over all stage passes: (layers/pp) × pp micro-batches. */
  readonly layersPerStep: number
  readonly lowPrecisionGemm: boolean
  /** The non-expert linear layers run as Marlin weight-only GEMMs (isMarlinGemm). */
  readonly marlinGemm: boolean
  /** The top-k/top-p filter's fixed cost per step (s; 0 when the requests do not filter). */
  readonly samplerFilterSecondsPerStep: number
  /** Its cost per scheduled request: the request's vocab-sized row of logits (s). */
  readonly samplerFilterSecondsPerRequest: number
  /** vLLM's penalties per scheduled request at datasheet HBM bandwidth (PENALTY_BYTES_PER_LOGIT × vocab; 0 without penalties). */
  readonly penaltySecondsPerRequest: number
  /** Routed experts stored below 16 bits with block or group scales (block-fp8, MXFP4/NVFP4, INT4): served by other fused-MoE kernels than the tables time. */
  readonly quantizedExperts: boolean
  /** Per-channel fp8 experts on Hopper/Blackwell, which vLLM serves with CUTLASS grouped GEMMs instead of the Triton fused-MoE kernel the tables time. */
  readonly cutlassExperts: boolean
  /** The KV cache is fp8 (--kv-cache-dtype fp8): the decode kernel dequantizes what it reads (kvReadFp8). */
  readonly fp8KvCache: boolean
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough for the expectation below. */
const erf = (x: number): number => {
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return x >= 0 ? y : -y
}

const maxOfNormalsCache = new Map<number, number>()

/**
 * E[max of n independent standard normals] = ∫ z · n φ(z) Φ(z)^(n−1) dz (0 for n = 1; 1/√π for n = 2),
 * by Simpson's rule on [−8, 8]. What the slowest of n ranks adds to a barrier, in units of their jitter.
 */
export const expectedMaxOfNormals = (n: number): number => {
  if (!(n > 1)) return 0
  const known = maxOfNormalsCache.get(n)
  if (known !== undefined) return known
  const steps = 1600
  const h = 16 / steps
  let sum = 0
  for (let i = 0; i <= steps; i++) {
    const z = -8 + i * h
    const f = z * n * (Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)) * (0.5 * (1 + erf(z / Math.SQRT2))) ** (n - 1)
    sum += (i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2) * f
  }
  const v = (sum * h) / 3
  maxOfNormalsCache.set(n, v)
  return v
}

export const stepTimeBasis = (setup: HardwareSetup): StepTimeBasis => {
  const { model: m, gpu, precision, kvCacheDtype, par } = setup
  const tp = Math.max(1, par.tp)
  const pp = Math.max(1, par.pp)
  const ep = Math.max(1, par.ep)
  const bw = gpu.memoryBandwidth
  // Non-expert GEMMs run at the checkpoint's non-expert precision (bf16 for expert-only quantization).
  const denseGemmPrecision = nonExpertPrecision(m, precision)
  const peak = gemmPeakFlops(gpu, denseGemmPrecision)
  const h = m.hiddenSize
  const shards = tp * pp
  const nMoe = moeLayers(m)
  const nDense = m.numLayers - nMoe
  const link = linkBandwidthOneWay(gpu)

  // Linear FLOPs: model-costs counts 2 × active non-embedding params + the lm_head matmul per token.
  const lmHeadFlops = 2 * m.vocabSize * h
  const routedFlops = 2 * nMoe * m.numExpertsPerTok * expertParams(m)
  const denseFlops = linearFlopsPerToken(m) - lmHeadFlops - routedFlops

  // Weights read per stage pass: everything on the GPU but the routed experts (read only when touched,
  // see moeExpertWeightTime) and the input-embedding slice (a row gather). Tied embeddings double as
  // lm_head, which is read in full.
  const expertBytesPerWeight = m.expertBytesPerWeight ?? bytesPerWeight(precision)
  const expertShare = m.numExperts === 0 ? 0 : ep > 1 ? Math.ceil(m.numExperts / ep) / m.numExperts : 1 / tp
  const expertBytesOnGpuPerExpert = (expertParams(m) * expertBytesPerWeight * expertShare * nMoe) / pp
  const allExpertBytes = expertBytesOnGpuPerExpert * m.numExperts
  const embeddingSlice = m.tieWordEmbeddings && pp === 1 ? 0 : ((Math.ceil(m.vocabSize / 64) * 64) / tp) * h * ACTIVATION_BYTES
  const readBytes = Math.max(0, weightBytesPerGpu(m, precision, par) - allExpertBytes - embeddingSlice)

  // KV heads are split over TP and replicated when there are fewer than tp (vLLM); an MLA latent is replicated.
  const kvShare = m.mlaKvDim > 0 ? 1 : Math.max(1, Math.floor(m.numKeyValueHeads / tp)) / m.numKeyValueHeads
  // An fp8 KV cache halves the bytes on every GPU, Ampere included: FlashAttention 2 (SM 8.x) cannot
  // read fp8, so vLLM picks FlashInfer or Triton attention there (vllm/platforms/cuda.py backend
  // priorities; fp8 KV on those backends off SM 10.0 since vllm-project/vllm#24577, 2025-09). Measured on
  // an A100 with vLLM 0.26 (vllm-project/vllm#42058): prefill 2.5–5% slower, decode 0.4–5.5% faster.
  // vLLM 0.5's 3.8× slowdown (argonne) was its old paged-attention path and is not modelled.
  const kvPerToken = (kvBytesPerToken(m, kvBytesPerElement(kvCacheDtype, precision)) * kvShare) / pp
  const slidingFraction = m.numLayers > 0 ? m.numSlidingLayers / m.numLayers : 0

  // attentionFlops(m, 1, 1) is one query–key pair over all layers; split it into full and sliding layers.
  const pairFlops = attentionFlops(m, 1, 1)
  const headShare = 1 / tp
  const attnPair = (pairFlops * headShare) / pp / gpu.bf16Flops

  // Activation traffic per token outside the GEMMs, 16-bit: elementwiseBytesPerToken below.
  const ewBytes = elementwiseBytesPerToken(m, tp)

  // Collectives. TP: one all-reduce after attention and one after the MLP/MoE in every layer (vLLM
  // RowParallelLinear). With EP, vLLM's default all2all backend (allgather_reducescatter) replaces the
  // MoE layer's all-reduce with a dispatch all-gather and a combine reduce-scatter, each moving
  // (ep−1)/ep of the tokens' hidden states through every GPU.
  const epOn = ep > 1 && nMoe > 0
  const allReducesPerStage = tp > 1 ? (2 * m.numLayers - (epOn ? nMoe : 0)) / pp : 0
  const allToAllsPerStage = epOn ? (2 * nMoe) / pp : 0

  return {
    setup,
    pipelineFactor: pp,
    gemmSecondsPerToken: denseFlops / shards / peak,
    lmHeadSecondsPerRequest: lmHeadFlops / tp / peak,
    moeSecondsPerToken: routedFlops / shards / gpu.bf16Flops,
    // Not divided by tp or ep: under TP every GPU runs every routed copy through its expert slices, and
    // vLLM's EP (all-gather dispatch) hands every GPU all tokens, whose copies it sorts and masks.
    moeDispatchSecondsPerToken: (nMoe * m.numExpertsPerTok * h * ACTIVATION_BYTES) / pp / bw,
    moeLayersPerStep: nMoe,
    weightReadSeconds: (readBytes / bw) * pp,
    expertReadSecondsPerExpert: expertBytesOnGpuPerExpert / bw,
    expertShare,
    attentionSecondsPerPair: attnPair * (1 - slidingFraction),
    slidingAttentionSecondsPerPair: attnPair * slidingFraction,
    slidingWindow: m.numSlidingLayers > 0 ? m.slidingWindow : 0,
    attentionSlotsPerRequest: ((m.mlaKvDim > 0 ? 1 : m.numKeyValueHeads * kvShare) * m.numLayers) / pp,
    kvReadSecondsPerToken: (kvPerToken * (1 - slidingFraction)) / bw,
    slidingKvReadSecondsPerToken: (kvPerToken * slidingFraction) / bw,
    elementwiseSecondsPerToken: ewBytes / pp / bw,
    allReduceSecondsPerToken: (allReducesPerStage * h * ACTIVATION_BYTES * ringAllReduceFactor(tp)) / link,
    allReduceOneShotSecondsPerToken: (allReducesPerStage * h * ACTIVATION_BYTES * oneShotAllReduceFactor(tp)) / link,
    allReduceOneShotBelowTokens: tp > 1 ? oneShotAllReduceMaxBytes(tp, gpu.nvlinkBandwidth > 0) / (h * ACTIVATION_BYTES) : 0,
    allReducesPerStep: allReducesPerStage * pp,
    allReduceRankWaits: allReducesPerStage * pp * expectedMaxOfNormals(tp),
    allToAllSecondsPerToken: (allToAllsPerStage * h * ACTIVATION_BYTES * (ep - 1)) / ep / link,
    allToAllsPerStep: allToAllsPerStage * pp,
    // A micro-batch of batch/pp tokens crosses pp−1 stage boundaries per step.
    ppHandoffSecondsPerToken: pp > 1 ? ((pp - 1) / pp) * ((h * ACTIVATION_BYTES) / link) : 0,
    ppHandoffsPerStep: pp - 1,
    // qkv, o, gate_up, down per dense layer; qkv, o, router (+ shared gate_up/down) per MoE layer, whose
    // fused expert kernels are moeLayerCount; each stage's layers once per micro-batch, lm_head once per micro-batch.
    gemmKernelsPerStep: 4 * nDense + (3 + (m.numSharedExperts > 0 ? 2 : 0)) * nMoe + pp,
    layersPerStep: m.numLayers,
    lowPrecisionGemm: isLowPrecisionGemm(denseGemmPrecision),
    marlinGemm: isMarlinGemm(gpu, denseGemmPrecision),
    // The sampler runs once per step on the last stage, on the full (gathered) vocabulary.
    samplerFilterSecondsPerStep: setup.topKTopPSampling === true ? SAMPLER_FILTER_LAUNCH_SECONDS : 0,
    samplerFilterSecondsPerRequest:
      setup.topKTopPSampling === true ? (m.vocabSize * SAMPLER_FILTER_SECONDS_PER_LOGIT_H100 * H100_SXM_BANDWIDTH) / bw : 0,
    penaltySecondsPerRequest: setup.samplingPenalties === true ? (m.vocabSize * PENALTY_BYTES_PER_LOGIT) / bw : 0,
    // Per-channel fp8 experts are served by fp8 w8a8 kernels without block scales (vllm/model_executor/
    // layers/quantization/compressed_tensors/compressed_tensors_moe.py, CompressedTensorsW8A8Fp8MoEMethod),
    // so moeQuantizedServed, fitted on block-fp8/MXFP4/INT4 checkpoints, does not apply to them. On SM90
    // and SM100 that method sets use_cutlass (not block-quantized, _is_fp8_w8a8_sm90 / _sm100) and runs
    // cutlass_moe_fp8: per-token activation quantization, row shuffles and two CUTLASS grouped GEMMs
    // instead of the Triton fused_moe kernel the moe tables time (Ada runs Triton, Ampere Marlin W8A16).
    quantizedExperts: nMoe > 0 && expertBytesPerWeight < ACTIVATION_BYTES && m.expertScalesPerChannel !== true,
    cutlassExperts: nMoe > 0 && m.expertScalesPerChannel === true && precision === "fp8" && (gpu.generation === "hopper" || gpu.generation === "blackwell"),
    fp8KvCache: kvCacheDtype === "fp8",
  }
}

// ---- Terms: roofline seconds (or counts) for one step. Coefficient 1 = the datasheet figure. ----

/** Linear layers' FLOPs (non-expert, all new tokens; lm_head for each request) / peak at the weight precision. */
export const gemmComputeTime = (b: StepTimeBasis, batch: BatchShape): number =>
  b.gemmSecondsPerToken * batch.numTokens + b.lmHeadSecondsPerRequest * batch.numReqs

/**
 * Marlin's dequantization of the non-expert weights (0 unless marlinGemm): every 64-row slice of the
 * batch dequantizes each weight once more on the CUDA cores before its tensor-core MMAs, so the cost is
 * the weights' MMA time for one full slice (64 × gemmSecondsPerToken, at the 16-bit peak) per slice of
 * each micro-batch. Small batches pay it once, which caps Marlin's speed-up over 16-bit weights below
 * the byte ratio; large ones pay it per 64 tokens, a constant addition to the compute coefficient.
 */
export const marlinDequantTime = (b: StepTimeBasis, batch: BatchShape): number => {
  if (!b.marlinGemm || batch.numTokens <= 0) return 0
  const pp = b.pipelineFactor
  return b.gemmSecondsPerToken * MARLIN_TILE_ROWS * pp * Math.ceil(batch.numTokens / (pp * MARLIN_TILE_ROWS))
}

/**
 * Routed-expert FLOPs of all new tokens (top-k experts each) / peak bf16. vLLM's fused-MoE kernels
 * reach the same rate with fp8 and bf16 weights on the aiconfigurator moe tables (8192 tokens: ≈ 4.4×
 * the bf16 FLOP time either way), so the bf16 peak is the reference whatever the precision. Zero for dense models.
 */
export const moeComputeTime = (b: StepTimeBasis, batch: BatchShape): number => b.moeSecondsPerToken * batch.numTokens

/**
 * Routed token copies the fused-MoE kernels move on each GPU: every token's k copies of its hidden state
 * are permuted into expert order, gathered into the grouped GEMMs and combined back (bytes / HBM
 * bandwidth; the coefficient counts the passes). It does not shrink with TP or EP, which is why a
 * fine-grained MoE's prefill scales worse than 1/tp: on the aiconfigurator moe tables (H100 + H200,
 * ≥ 2048 tokens) the fit without it errs from −36% at EP 1 to −86% at EP 128 and from −11% at TP 8 to
 * −49% at TP 32; with it all stay within ±20% up to TP 8 and EP 256.
 */
export const moeDispatchTime = (b: StepTimeBasis, batch: BatchShape): number => b.moeDispatchSecondsPerToken * batch.numTokens

/** Non-expert weight bytes on one GPU / HBM bandwidth: read once per stage pass whatever the batch. */
export const weightReadTime = (b: StepTimeBasis): number => b.weightReadSeconds

/**
 * Bytes of the routed experts the batch touches / HBM bandwidth. Under uniform routing a batch of n
 * tokens touches E(1 − (1 − k/E)^n) experts per layer (moeExpertsTouched); each micro-batch reads its own.
 */
export const moeExpertWeightTime = (b: StepTimeBasis, batch: BatchShape): number => {
  if (b.expertReadSecondsPerExpert === 0 || batch.numTokens <= 0) return 0
  const pp = b.pipelineFactor
  return moeExpertsTouched(b.setup.model, batch.numTokens / pp) * pp * b.expertReadSecondsPerExpert
}

/**
 * Attention FLOPs (QKᵀ and PV) / peak bf16: the prefill chunks' causal work (BatchShape.prefillAttentionWork
 * query–key pairs) plus one query per decode request over its context. Sliding-window layers see at most
 * `window` keys per query. Decode attention of GQA models is memory-bound (kvReadTime); its FLOPs
 * matter for MLA and many-head models.
 */
export const attentionComputeTime = (b: StepTimeBasis, batch: BatchShape): number => {
  const pairs = batch.prefillAttentionWork + batch.decodeContextTokens
  let t = b.attentionSecondsPerPair * pairs
  if (b.slidingAttentionSecondsPerPair > 0) {
    const w = b.slidingWindow
    const capped = Math.min(batch.prefillAttentionWork, batch.prefillTokens * w) + Math.min(batch.decodeContextTokens, batch.numDecodeReqs * w)
    t += b.slidingAttentionSecondsPerPair * capped
  }
  return t
}

/**
 * Per-request work of the attention kernel: (request, KV head) pairs over this GPU's layers. Paged
 * FlashAttention decode launches a block per (request, KV head[, split]); on the aiconfigurator
 * generation-attention tables a term in batch × kv_heads fits H100 at 7.1% median error against 9.3% for
 * one in batch alone. The coefficient is seconds per pair.
 */
export const attentionSlotCount = (b: StepTimeBasis, batch: BatchShape): number => b.attentionSlotsPerRequest * batch.numReqs

/**
 * KV cache bytes read / HBM bandwidth: each decode request reads its whole context, each prefill chunk
 * its context (cached prefix + itself). Sliding-window layers read at most `window` tokens per request.
 */
export const kvReadTime = (b: StepTimeBasis, batch: BatchShape): number => {
  const tokens = batch.decodeContextTokens + batch.prefillContextTokens
  let t = b.kvReadSecondsPerToken * tokens
  if (b.slidingKvReadSecondsPerToken > 0) {
    const w = b.slidingWindow
    t += b.slidingKvReadSecondsPerToken * Math.min(tokens, (batch.numDecodeReqs + batch.numPrefillReqs) * w)
  }
  return t
}

/** Norms, residual adds, RoPE, attention Q/O and activation: activation bytes touched / HBM bandwidth. */
export const elementwiseTime = (b: StepTimeBasis, batch: BatchShape): number => b.elementwiseSecondsPerToken * batch.numTokens

/** Whether the step's all-reduces (each of one micro-batch's tokens × hidden × 2 bytes) run one-shot. */
export const allReduceOneShot = (b: StepTimeBasis, batch: BatchShape): boolean => batch.numTokens / b.pipelineFactor < b.allReduceOneShotBelowTokens

/**
 * TP all-reduce payload time: 2 per layer, numTokens × hidden × 2 bytes each, through one direction of
 * NVLink (PCIe when the GPU has none): × (tp − 1) one-shot, × 2(tp−1)/tp two-shot or NCCL ring. The
 * A800's 400 GB/s NVLink makes this 1.5× the A100's 600 GB/s. The fixed per-call latency is
 * allReduceCount × a fitted seconds coefficient, plus allReduceTwoShotCount × the two-shot extra.
 */
export const allReduceTime = (b: StepTimeBasis, batch: BatchShape): number =>
  (allReduceOneShot(b, batch) ? b.allReduceOneShotSecondsPerToken : b.allReduceSecondsPerToken) * batch.numTokens

/**
 * All-reduces that run two-shot or through NCCL (0 when one-shot): the second barrier and the pass
 * through the intermediate buffer cost a fixed extra per call. On the aiconfigurator custom all-reduce
 * and NCCL tables (H100 + H200) modelling the two algorithms fits at 6.1% median error against 9.9% for
 * one ring formula with one latency (`npm run fit-defaults` prints both).
 */
export const allReduceTwoShotCount = (b: StepTimeBasis, batch: BatchShape): number => (allReduceOneShot(b, batch) ? 0 : b.allReducesPerStep)

/** All-reduces per step (0 at TP = 1). */
export const allReduceCount = (b: StepTimeBasis): number => b.allReducesPerStep

/**
 * All-reduces × the expected straggler wait in units of per-rank jitter: the custom all-reduce's barrier
 * (csrc/custom_all_reduce.cuh, the start/end flags every rank sets and waits on) releases when the last
 * of tp ranks arrives, so with independent jitter σ in when ranks reach it the wait is σ·E[max of tp
 * standard normals] (0 at TP 1, 0.56 at 2, 1.03 at 4, 1.42 at 8): it grows with tp, but far slower than
 * tp − 1. Microbenchmarks that start every rank together do not see it; served steps do.
 */
export const allReduceRankCount = (b: StepTimeBasis): number => b.allReduceRankWaits

/** Expert-parallel dispatch and combine payload time (0 without EP). */
export const moeAllToAllTime = (b: StepTimeBasis, batch: BatchShape): number => b.allToAllSecondsPerToken * batch.numTokens

/** Dispatches and combines per step. */
export const moeAllToAllCount = (b: StepTimeBasis): number => b.allToAllsPerStep

/** Activations handed between pipeline stages (16-bit hidden states of every token) over the link. */
export const ppHandoffTime = (b: StepTimeBasis, batch: BatchShape): number => b.ppHandoffSecondsPerToken * batch.numTokens

/** Stage hand-offs on a step's critical path (pp − 1). */
export const ppHandoffCount = (b: StepTimeBasis): number => b.ppHandoffsPerStep

/**
 * PP bubble factor: micro-batches a step is split into, each paying the batch-independent stage costs
 * (already folded into weightReadTime, the counts and stepCount).
 */
export const ppBubbleFactor = (b: StepTimeBasis): number => b.pipelineFactor

/** MoE layer passes per step. */
export const moeLayerCount = (b: StepTimeBasis): number => b.moeLayersPerStep

/** GEMM kernel launches per step: each has a fixed latency (ramp-up, tail, activation quantization). */
export const gemmKernelCount = (b: StepTimeBasis): number => b.gemmKernelsPerStep

/**
 * Layer passes per step: the fixed cost of a layer beyond its GEMMs — its small kernels (norms, RoPE,
 * attention, activation) and the gaps between launches. vLLM V1 replays CUDA graphs for decode and for
 * mixed batches up to the largest capture size; beyond it the eager launches overlap the large GEMMs
 * they precede. One per-layer cost serves both (fitted on Vidur's kernel timings plus served steps).
 */
export const layerCount = (b: StepTimeBasis): number => b.layersPerStep

/**
 * vLLM's top-k/top-p filter over the step's logits (GPU, after the forward pass and before the next step
 * can start, so async scheduling does not hide it): a fixed part per step and a vocab-sized row per
 * scheduled request. Zero for greedy sampling (vllm bench serve sends temperature 0) and for requests
 * without top-p/top-k.
 */
export const samplerFilterTime = (b: StepTimeBasis, batch: BatchShape): number =>
  batch.numTokens > 0 ? b.samplerFilterSecondsPerStep + b.samplerFilterSecondsPerRequest * batch.numReqs : 0

/**
 * vLLM's penalties over the step's logits at datasheet HBM bandwidth (GPU, eager PyTorch passes after
 * the forward pass, like the filter; × the fitted elementwise efficiency in the step model): a
 * vocab-sized pass per scheduled request. Zero for requests without penalties.
 */
export const penaltyTime = (b: StepTimeBasis, batch: BatchShape): number => (batch.numTokens > 0 ? b.penaltySecondsPerRequest * batch.numReqs : 0)

/** Scheduler / input preparation / sampling passes per step: one per micro-batch. */
export const stepCount = (b: StepTimeBasis): number => b.pipelineFactor

/** Requests scheduled this step: per-request CPU work (input prep, sampling, output processing). */
export const scheduledRequestCount = (batch: BatchShape): number => batch.numReqs

/** Every term of a step by name (allocates; for fitting, tests and reports, not the hot path). */
export interface StepTerms {
  readonly gemmComputeTime: number
  readonly marlinDequantTime: number
  readonly moeComputeTime: number
  readonly moeDispatchTime: number
  readonly weightReadTime: number
  readonly moeExpertWeightTime: number
  readonly attentionComputeTime: number
  readonly kvReadTime: number
  readonly attentionSlotCount: number
  readonly elementwiseTime: number
  readonly allReduceTime: number
  readonly allReduceCount: number
  readonly allReduceTwoShotCount: number
  readonly allReduceRankCount: number
  readonly moeAllToAllTime: number
  readonly moeAllToAllCount: number
  readonly ppHandoffTime: number
  readonly ppHandoffCount: number
  readonly gemmKernelCount: number
  readonly moeLayerCount: number
  readonly layerCount: number
  readonly stepCount: number
  readonly scheduledRequestCount: number
  readonly samplerFilterTime: number
  readonly penaltyTime: number
}

export const stepTerms = (b: StepTimeBasis, batch: BatchShape): StepTerms => ({
  gemmComputeTime: gemmComputeTime(b, batch),
  marlinDequantTime: marlinDequantTime(b, batch),
  moeComputeTime: moeComputeTime(b, batch),
  moeDispatchTime: moeDispatchTime(b, batch),
  weightReadTime: weightReadTime(b),
  moeExpertWeightTime: moeExpertWeightTime(b, batch),
  attentionComputeTime: attentionComputeTime(b, batch),
  kvReadTime: kvReadTime(b, batch),
  attentionSlotCount: attentionSlotCount(b, batch),
  elementwiseTime: elementwiseTime(b, batch),
  allReduceTime: allReduceTime(b, batch),
  allReduceCount: allReduceCount(b),
  allReduceTwoShotCount: allReduceTwoShotCount(b, batch),
  allReduceRankCount: allReduceRankCount(b),
  moeAllToAllTime: moeAllToAllTime(b, batch),
  moeAllToAllCount: moeAllToAllCount(b),
  ppHandoffTime: ppHandoffTime(b, batch),
  ppHandoffCount: ppHandoffCount(b),
  gemmKernelCount: gemmKernelCount(b),
  moeLayerCount: moeLayerCount(b),
  layerCount: layerCount(b),
  stepCount: stepCount(b),
  scheduledRequestCount: scheduledRequestCount(batch),
  samplerFilterTime: samplerFilterTime(b, batch),
  penaltyTime: penaltyTime(b, batch),
})
