// Shapes shared by the hardware side (GPU and model profiles, step-time models) and the engine.
// Pure data: no I/O, no clock.

/** Datasheet figures of one GPU. Throughputs are dense (no sparsity). */
export interface GpuProfile {
  readonly id: string // e.g. "h100-sxm"
  readonly name: string
  readonly memoryBytes: number // HBM capacity
  readonly memoryBandwidth: number // bytes/s
  readonly bf16Flops: number // dense FLOP/s
  readonly fp8Flops: number // dense FLOP/s; equal to bf16Flops where the GPU has no FP8 tensor cores
  readonly fp4Flops: number // dense FLOP/s; falls back to the best lower precision
  readonly int8Ops: number
  readonly nvlinkBandwidth: number // bytes/s, bidirectional per GPU (0 = no NVLink)
  readonly pcieBandwidth: number // bytes/s, bidirectional
  readonly tdpWatts: number
  /** Generation tag for per-generation fitted coefficients: "ampere" | "ada" | "hopper" | "blackwell". */
  readonly generation: string
  /**
   * Total memory as CUDA reports it (torch.cuda.mem_get_info()[1]), which is what vLLM multiplies by
   * gpu_memory_utilization; a little below memoryBytes (ECC, driver reserve). Absent = estimate.
   */
  readonly deviceMemoryBytes?: number
}

export type Precision = "bf16" | "fp16" | "fp8" | "fp4" | "int4"
export type KvCacheDtype = "auto" | "fp8"

/** Architecture facts of one model, enough for FLOPs, bytes and KV size. */
export interface ModelProfile {
  readonly id: string // Hugging Face id
  readonly numLayers: number
  readonly hiddenSize: number
  readonly numAttentionHeads: number
  readonly numKeyValueHeads: number
  readonly headDim: number
  readonly intermediateSize: number // dense MLP width (per expert for MoE: moeIntermediateSize)
  readonly vocabSize: number
  readonly tieWordEmbeddings: boolean
  /** MoE: 0 when dense. */
  readonly numExperts: number
  readonly numExpertsPerTok: number
  readonly moeIntermediateSize: number
  readonly numSharedExperts: number
  /** Layers that are dense in an otherwise MoE model (e.g. DeepSeek-V3 first_k_dense_replace). */
  readonly numDenseLayers: number
  /** MLA (DeepSeek): latent KV size per token per layer in elements (kv_lora_rank + qk_rope_head_dim); 0 = not MLA. */
  readonly mlaKvDim: number
  /** Sliding-window attention: window length and how many layers use it (0 = none). */
  readonly slidingWindow: number
  readonly numSlidingLayers: number
  readonly maxPositionEmbeddings: number
  // Optional details for exact parameter counts; absent = Llama style (gated SiLU MLP, RMSNorm, no biases).
  /** false: two-matrix MLP (OPT fc1/fc2) instead of gate/up/down. */
  readonly mlpGated?: boolean
  /** Attention projection biases: "qkv" (Qwen2) or "qkvo" (gpt-oss, OPT). */
  readonly attentionBias?: "qkv" | "qkvo"
  /** MLP biases (OPT). */
  readonly mlpBias?: boolean
  /** LayerNorm with weight and bias (OPT) rather than RMSNorm (weight only). */
  readonly layerNormBias?: boolean
  /** Per-head RMSNorm on q and k (Qwen3). */
  readonly qkNorm?: boolean
  /** Learned absolute position embedding rows (OPT: max_position_embeddings + 2); absent = RoPE. */
  readonly learnedPositionEmbeddings?: number
  /** MLA projection shapes (DeepSeek); needed for its attention weights and FLOPs. */
  readonly mla?: MlaDims
  /** Bytes per expert weight when the checkpoint fixes it whatever the serving precision (gpt-oss MXFP4). */
  readonly expertBytesPerWeight?: number
  /**
   * The checkpoint quantizes only the routed experts (gpt-oss MXFP4, Kimi-K2.5 INT4): attention, dense and
   * shared MLPs and lm_head stay 16-bit and run bf16 GEMMs whatever the serving precision's label.
   */
  readonly quantizedExpertsOnly?: boolean
  /**
   * The quantized experts carry one fp8 scale per output channel or per tensor (compressed-tensors
   * `strategy: channel`), applied after the K loop like the fp8 rows of the fused-MoE kernel tables,
   * rather than block or group scales (block-fp8, MXFP4, INT4) applied inside it.
   */
  readonly expertScalesPerChannel?: boolean
}

/** DeepSeek multi-head latent attention shapes (HF config names in comments). */
export interface MlaDims {
  readonly qLoraRank: number // q_lora_rank; 0 = plain q_proj
  readonly kvLoraRank: number // kv_lora_rank
  readonly qkNopeHeadDim: number // qk_nope_head_dim
  readonly qkRopeHeadDim: number // qk_rope_head_dim
  readonly vHeadDim: number // v_head_dim
}

/** How one engine (one replica) is laid out over GPUs. */
export interface Parallelism {
  readonly tp: number
  readonly pp: number
  readonly ep: number // expert parallel degree (1 = off); experts are split over tp*pp GPUs when on
}

/**
 * The shape of one engine step, aggregated over the scheduled requests.
 * `newTokens` are tokens computed this step; `context` is the KV length a request attends over
 * after this step (cached + computed + new).
 */
export interface BatchShape {
  numReqs: number
  numTokens: number // Σ newTokens (prefill chunks + decodes)
  numPrefillReqs: number // requests computing more than one token (a prefill chunk)
  prefillTokens: number // Σ newTokens over prefill requests
  numDecodeReqs: number
  /** Σ over prefill requests of newTokens × (context − newTokens + (newTokens + 1) / 2): causal attention work. */
  prefillAttentionWork: number
  /** Σ over prefill requests of context (KV read by the chunk). */
  prefillContextTokens: number
  /** Σ over decode requests of context (KV read by one decode token). */
  decodeContextTokens: number
}

export const emptyBatchShape = (): BatchShape => ({
  numReqs: 0,
  numTokens: 0,
  numPrefillReqs: 0,
  prefillTokens: 0,
  numDecodeReqs: 0,
  prefillAttentionWork: 0,
  prefillContextTokens: 0,
  decodeContextTokens: 0,
})

/** Per-request CPU-side overheads outside engine steps (API server, tokenizer, detokenizer, streaming). */
export interface RequestOverheads {
  /** Seconds between the client sending and the engine seeing the request: base + perInputToken × isl. */
  readonly ingressBase: number
  readonly ingressPerInputToken: number
  /** Seconds added to every streamed token's arrival at the client after its step ends. */
  readonly perOutputToken: number
  /** Seconds after the last token until the response completes. */
  readonly completion: number
}

export const zeroOverheads: RequestOverheads = {
  ingressBase: 0,
  ingressPerInputToken: 0,
  perOutputToken: 0,
  completion: 0,
}

/** Maps a batch to the wall time of one engine step, in seconds. The engine never knows which model. */
export interface StepTimeModel {
  readonly name: string
  stepTime(batch: BatchShape): number
  readonly overheads: RequestOverheads
}
