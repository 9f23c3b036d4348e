// How many KV-cache blocks vLLM allocates per GPU, derived the way vLLM V1 does it:
//
//   vllm/v1/worker/gpu_worker.py determine_available_memory (@35d5cda1, economics.md §5.3):
//     requested = ceil(total_memory × gpu_memory_utilization)           (total as CUDA reports it)
//     available = requested − (weights + torch peak increase of profile_run + non-torch increase)
//   where profile_run is one dummy forward of max_num_batched_tokens tokens spread over
//   min(max_num_seqs, max_num_batched_tokens) requests plus a dummy sampler run on their logits.
//   CUDA graphs are captured afterwards and are not subtracted (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=0).
//   vllm/v1/core/kv_cache_utils.py get_num_blocks (@bbf906a8):
//     num_blocks = available // page_size // num_layers,   page_size = 2·block_size·kv_heads_per_rank·head_size·dtype
//   (MLA: block_size·(kv_lora_rank + qk_rope_head_dim)·dtype, one latent replicated on every TP rank),
//   the minimum over workers. Hybrid full + sliding-window models group layers (min layers per type,
//   or the max when max < 1.25·min) and divide by the group size instead of the layer count.

import { cudaTotalMemoryBytes } from "./gpus.ts"
import { kvBytesPerElement, weightBytesPerGpu } from "./model-costs.ts"
import type { GpuProfile, KvCacheDtype, ModelProfile, Parallelism, Precision } from "./types.ts"
import { vllmDefaults } from "./vllm-defaults.ts"

const GiB = 2 ** 30
const ACT_BYTES = 2 // bf16/fp16 activations

/**
 * Non-torch memory that appears during profiling (cuBLAS/attention workspaces, lazily loaded kernels,
 * NCCL buffers). Since vLLM measures from a snapshot taken after CUDA context and NCCL init, those
 * (~0.5–1 GiB) sit outside the budget and are not counted. 0.3 GiB is calibrated on the one vLLM 0.19
 * figure (RTX 4090, Llama-3.1-8B: 2588 blocks ⇒ 1.12 GiB of activations + non-torch, of which the
 * sampler estimate below is 0.83 GiB).
 */
export const NON_TORCH_INCREASE_BYTES = 0.3 * GiB

/**
 * Peak bytes per logit of the dummy sampler run (vllm/v1/sample/ops/topk_topp_sampler.py, sort path
 * with top-k and top-p set): bf16 logits 2 + fp32 copy 4 + sorted values 4 + int64 sort indices 8 +
 * softmax/cumsum 4 + scatter result 4 + bool mask 1 = 27. Newer vLLM (Triton top-k/top-p for batches
 * ≥ 8) needs less.
 */
export const SAMPLER_BYTES_PER_LOGIT = 27

// vLLM's fused MoE processes at most VLLM_FUSED_MOE_CHUNK_SIZE tokens at a time.
const FUSED_MOE_CHUNK = 32768

export interface KvCapacityInput {
  readonly gpu: GpuProfile
  readonly model: ModelProfile
  readonly precision: Precision
  readonly kvCacheDtype: KvCacheDtype
  readonly par: Parallelism
  readonly gpuMemoryUtilization: number
  readonly blockSize: number
  readonly maxNumBatchedTokens: number
  /** Requests in the profile run's dummy batch; default vLLM's max_num_seqs for this GPU. */
  readonly maxNumSeqs?: number
}

export interface KvCapacity {
  readonly numGpuBlocks: number
  /** Bytes of the KV blocks allocated on one GPU (numGpuBlocks × block bytes over this rank's layers). */
  readonly kvCacheBytesPerGpu: number
  /** Weights on the most loaded GPU plus the RoPE cos/sin cache, as vLLM's "Model loading took" counts. */
  readonly weightBytesPerGpu: number
  readonly activationReserveBytes: number
  readonly nonTorchReserveBytes: number
  /** CUDA's total memory × gpu_memory_utilization: the budget the four parts above share. */
  readonly requestedBytes: number
  /** One KV block over this rank's layers (the least the KV cache can hold). */
  readonly blockBytesPerGpu: number
}

/** RoPE cos/sin cache: max_position × rotary_dim in the model dtype (one shared module). */
const ropeCacheBytes = (m: ModelProfile): number => {
  if (m.learnedPositionEmbeddings !== undefined) return 0
  const rotary = m.mla !== undefined ? m.mla.qkRopeHeadDim : m.headDim
  return m.maxPositionEmbeddings * rotary * ACT_BYTES
}

/** Torch peak of profile_run above the weights: the larger of the forward pass and the sampler run. */
const activationPeakBytes = (m: ModelProfile, par: Parallelism, tokens: number, reqs: number): number => {
  const tp = Math.max(1, par.tp)
  const h = m.hiddenSize
  const headsRank = m.numAttentionHeads / tp
  // Widest transient per token inside one layer (the residual stream and hidden state live alongside).
  let attn: number
  if (m.mla !== undefined) {
    const { qkNopeHeadDim: dn, qkRopeHeadDim: dr, vHeadDim: dv } = m.mla
    attn = headsRank * (2 * (dn + dr) + 2 * dv) // q, k, v up-projected for prefill, and the output
  } else {
    const kvRank = Math.max(1, Math.floor(m.numKeyValueHeads / tp))
    attn = headsRank * m.headDim * 2 + 2 * kvRank * m.headDim
  }
  const gated = m.mlpGated !== false
  const mlp = m.numDenseLayers > 0 || m.numExperts === 0 ? ((gated ? 3 : 2) * m.intermediateSize) / tp : 0
  let forward = tokens * ACT_BYTES * (2 * h + Math.max(attn, mlp))
  if (m.numExperts > 0) {
    // fused_moe caches: gate_up (2·I), activation (I) and down outputs (h) for each of k experts per token.
    const iRank = par.ep > 1 ? m.moeIntermediateSize : m.moeIntermediateSize / tp
    const moe = Math.min(tokens, FUSED_MOE_CHUNK) * m.numExpertsPerTok * (3 * iRank + h) * ACT_BYTES
    forward = Math.max(forward, tokens * ACT_BYTES * 2 * h + moe)
  }
  const sampler = reqs * m.vocabSize * SAMPLER_BYTES_PER_LOGIT + tokens * h * ACT_BYTES
  return Math.max(forward, sampler)
}

/** Layers whose blocks one block id spans on the most loaded PP stage (vLLM's num_layers / group size). */
const layersPerBlock = (m: ModelProfile, pp: number): number => {
  const sliding = m.numSlidingLayers
  const full = m.numLayers - sliding
  if (sliding === 0 || full === 0) return Math.ceil(m.numLayers / pp)
  const a = Math.ceil(full / pp)
  const b = Math.ceil(sliding / pp)
  const lo = Math.min(a, b)
  const hi = Math.max(a, b)
  return hi < 1.25 * lo ? hi : lo
}

/** KV bytes of one block in one layer on one GPU. */
const pageBytesPerLayer = (m: ModelProfile, kvBytes: number, blockSize: number, tp: number): number => {
  if (m.mlaKvDim > 0) return blockSize * m.mlaKvDim * kvBytes
  const kvRank = Math.max(1, Math.floor(m.numKeyValueHeads / tp)) // replicated when kv heads < tp
  return 2 * blockSize * kvRank * m.headDim * kvBytes
}

/** vLLM's num_gpu_blocks for one engine (per GPU of it), with the memory budget it came from. */
export const numGpuBlocksFor = (input: KvCapacityInput): KvCapacity => {
  const { gpu, model: m, precision, kvCacheDtype, par, gpuMemoryUtilization, blockSize, maxNumBatchedTokens } = input
  const tp = Math.max(1, par.tp)
  const pp = Math.max(1, par.pp)
  const maxNumSeqs = input.maxNumSeqs ?? vllmDefaults(gpu).maxNumSeqs
  const reqs = Math.max(1, Math.min(maxNumSeqs, maxNumBatchedTokens))

  const requested = Math.ceil(cudaTotalMemoryBytes(gpu) * gpuMemoryUtilization)
  const weights = weightBytesPerGpu(m, precision, par) + ropeCacheBytes(m)
  const activation = activationPeakBytes(m, par, maxNumBatchedTokens, reqs)
  const nonTorch = NON_TORCH_INCREASE_BYTES
  const available = requested - weights - activation - nonTorch

  const page = pageBytesPerLayer(m, kvBytesPerElement(kvCacheDtype, precision), blockSize, tp)
  const layers = layersPerBlock(m, pp)
  const numGpuBlocks = available > 0 ? Math.floor(available / page / layers) : 0
  return {
    numGpuBlocks,
    kvCacheBytesPerGpu: numGpuBlocks * page * layers,
    weightBytesPerGpu: weights,
    activationReserveBytes: activation,
    nonTorchReserveBytes: nonTorch,
    requestedBytes: requested,
    blockBytesPerGpu: page * layers,
  }
}

/** Bytes of one KV block on one GPU, over the layers it spans: what copying a block moves per GPU. */
export const kvBlockBytesPerGpu = (m: ModelProfile, kvCacheDtype: KvCacheDtype, precision: Precision, blockSize: number, par: Parallelism): number =>
  pageBytesPerLayer(m, kvBytesPerElement(kvCacheDtype, precision), blockSize, Math.max(1, par.tp)) * layersPerBlock(m, Math.max(1, par.pp))

export interface KvOffloadTier {
  /** CPU blocks of one engine. */
  readonly cpuBlocks: number
  /** Seconds to copy one block back to the GPUs (each GPU its own slice, in parallel). */
  readonly loadSecondsPerBlock: number
}

/**
 * vLLM's --kv-offloading-size (vllm/config/cache.py kv_offloading_size: GiB summed over the TP ranks;
 * the native backend hands cpu_bytes_to_use = size × 2^30 to the OffloadingConnector) as CPU blocks of
 * one engine, and the host → GPU copy time of a block over one direction of the GPU's PCIe link
 * (GpuProfile.pcieBandwidth is bidirectional: Gen5 x16 is 64 GB/s each way).
 */
export const kvOffloadTier = (input: {
  readonly gpu: GpuProfile
  readonly model: ModelProfile
  readonly precision: Precision
  readonly kvCacheDtype: KvCacheDtype
  readonly par: Parallelism
  readonly blockSize: number
  readonly sizeGiB: number
}): KvOffloadTier => {
  const perGpu = kvBlockBytesPerGpu(input.model, input.kvCacheDtype, input.precision, input.blockSize, input.par)
  const ranks = Math.max(1, input.par.tp) * Math.max(1, input.par.pp)
  return {
    cpuBlocks: Math.floor((input.sizeGiB * GiB) / (perGpu * ranks)),
    loadSecondsPerBlock: perGpu / (input.gpu.pcieBandwidth / 2),
  }
}

const gib = (bytes: number): string => `${(bytes / GiB).toFixed(2)} GiB`

/**
 * Why a capacity of 0 blocks: the budget, each part taken from it, and the part that does not fit
 * (the weights alone, the profile run's activation reserve on top of them, the non-torch reserve, or
 * a remainder smaller than one block). Undefined when there is at least one block.
 */
export const kvShortfall = (cap: KvCapacity, gpuMemoryUtilization: number): string | undefined => {
  if (cap.numGpuBlocks > 0) return undefined
  const w = cap.weightBytesPerGpu
  const a = cap.activationReserveBytes
  const n = cap.nonTorchReserveBytes
  const left = cap.requestedBytes - w - a - n
  const culprit =
    w > cap.requestedBytes
      ? "the weights alone exceed the budget (more GPUs, tp/pp, or a lower precision)"
      : w + a > cap.requestedBytes
        ? "the weights fit, the activation reserve on top of them does not (lower max_num_batched_tokens or max_num_seqs, or raise gpu_memory_utilization)"
        : left < 0
          ? "the weights and the activation reserve fit, the non-torch reserve on top of them does not (raise gpu_memory_utilization)"
          : `what is left is less than one KV block (${gib(cap.blockBytesPerGpu)})`
  return (
    `budget ${gib(cap.requestedBytes)} (gpu_memory_utilization ${gpuMemoryUtilization} × ${gib(cap.requestedBytes / gpuMemoryUtilization)}) − weights ${gib(w)} ` +
    `− activation reserve ${gib(a)} − non-torch reserve ${gib(n)} = ${gib(left)} for the KV cache: ${culprit}`
  )
}
