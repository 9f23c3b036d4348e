// Derived per-model quantities: parameter counts, weight and KV bytes, FLOPs. Pure functions of a
// ModelProfile; the step-time model builds on these names, so keep them stable.

import type { KvCacheDtype, ModelProfile, Parallelism, Precision } from "./types.ts"

/**
 * Bytes per weight of a linear layer at a serving precision. fp4 = NVFP4: 4-bit values plus one FP8
 * scale per 16 (0.5 + 1/16). int4 = 0.5, leaving out GPTQ/AWQ group scales (~3% more at group 128).
 */
export const bytesPerWeight = (p: Precision): number => {
  switch (p) {
    case "bf16":
    case "fp16":
      return 2
    case "fp8":
      return 1
    case "fp4":
      return 0.5 + 1 / 16
    case "int4":
      return 0.5
  }
}

/** Bytes per non-expert linear weight: 16-bit when the checkpoint quantizes only its experts. */
export const nonExpertBytesPerWeight = (m: ModelProfile, p: Precision): number => (m.quantizedExpertsOnly === true ? 2 : bytesPerWeight(p))

/** The precision the non-expert GEMMs run at (bf16 for an expert-only quantized checkpoint). */
export const nonExpertPrecision = (m: ModelProfile, p: Precision): Precision => (m.quantizedExpertsOnly === true ? "bf16" : p)

/** "auto" keeps the activation dtype (bf16/fp16, 2 bytes) whatever the weight quantization; fp8 = 1. */
export const kvBytesPerElement = (kv: KvCacheDtype, p: Precision): number => {
  void p // weight-only quantization (fp8/fp4/int4 checkpoints) still runs bf16 activations and KV
  return kv === "fp8" ? 1 : 2
}

// Embeddings, lm_head, norms, biases and MoE routers stay 16-bit under vLLM's fp8/fp4/int4 schemes.
const HALF = 2

interface LayerParams {
  readonly attention: number // projection weights
  readonly attentionSmall: number // biases, q/k norms, MLA latent norms (16-bit)
  readonly norms: number
  readonly denseMlp: number
  readonly denseMlpBias: number
  readonly expert: number // one routed or shared expert
  readonly router: number
}

const layerParams = (m: ModelProfile): LayerParams => {
  const h = m.hiddenSize
  const H = m.numAttentionHeads
  let attention: number
  let attentionSmall = 0
  if (m.mla !== undefined) {
    const { qLoraRank: ql, kvLoraRank: kl, qkNopeHeadDim: dn, qkRopeHeadDim: dr, vHeadDim: dv } = m.mla
    const q = ql > 0 ? h * ql + ql * H * (dn + dr) : h * H * (dn + dr)
    attention = q + h * (kl + dr) + kl * H * (dn + dv) + H * dv * h
    attentionSmall = (ql > 0 ? ql : 0) + kl // q_a_layernorm, kv_a_layernorm
  } else {
    const d = m.headDim
    const kv = m.numKeyValueHeads
    attention = 2 * h * H * d + 2 * h * kv * d
    if (m.attentionBias !== undefined) attentionSmall += H * d + 2 * kv * d + (m.attentionBias === "qkvo" ? h : 0)
    if (m.qkNorm === true) attentionSmall += 2 * d
  }
  const normWidth = m.layerNormBias === true ? 2 * h : h
  const gated = m.mlpGated !== false
  const I = m.intermediateSize
  return {
    attention,
    attentionSmall,
    norms: 2 * normWidth,
    denseMlp: (gated ? 3 : 2) * h * I,
    denseMlpBias: m.mlpBias === true ? (gated ? 2 * I : I) + h : 0,
    expert: 3 * h * m.moeIntermediateSize,
    router: m.numExperts > 0 ? h * m.numExperts : 0,
  }
}

const moeLayerCount = (m: ModelProfile): number => (m.numExperts > 0 ? m.numLayers - m.numDenseLayers : 0)

const vocabParams = (m: ModelProfile): number =>
  m.vocabSize * m.hiddenSize * (m.tieWordEmbeddings ? 1 : 2) + (m.learnedPositionEmbeddings ?? 0) * m.hiddenSize

/**
 * Parameter counts. `embedding` = input embedding + untied lm_head (+ learned positions); `active` =
 * parameters one token touches (k routed + shared experts for MoE), embeddings included. Expert biases,
 * attention sinks and DeepSeek's router correction bias are left out (< 0.05%).
 */
export const paramCount = (m: ModelProfile): { total: number; active: number; embedding: number } => {
  const p = layerParams(m)
  const moeLayers = moeLayerCount(m)
  const denseLayers = m.numLayers - moeLayers
  const perLayerCommon = p.attention + p.attentionSmall + p.norms
  const finalNorm = m.layerNormBias === true ? 2 * m.hiddenSize : m.hiddenSize
  const embedding = vocabParams(m)
  const base = m.numLayers * perLayerCommon + denseLayers * (p.denseMlp + p.denseMlpBias) + finalNorm + embedding
  const moe = (experts: number): number => moeLayers * ((experts + m.numSharedExperts) * p.expert + p.router)
  return {
    total: base + moe(m.numExperts),
    active: base + moe(m.numExpertsPerTok),
    embedding,
  }
}

/** Cached elements per token per layer: the MLA latent, or K and V over all KV heads. */
const kvElementsPerLayer = (m: ModelProfile): number => (m.mlaKvDim > 0 ? m.mlaKvDim : 2 * m.numKeyValueHeads * m.headDim)

/**
 * KV bytes one token adds over all layers (MLA: latent × layers). Sliding-window layers count in full
 * here, as if the window were unbounded; kvBytesPerTokenForContext applies the window.
 */
export const kvBytesPerToken = (m: ModelProfile, kvBytes: number): number => kvElementsPerLayer(m) * m.numLayers * kvBytes

/**
 * Average KV bytes per token of a sequence of `context` tokens, with sliding-window layers holding at
 * most `slidingWindow` tokens. Equals kvBytesPerToken while context ≤ window. (vLLM's SlidingWindowSpec
 * reserves window − 1 + max_num_batched_tokens during chunked prefill; that transient is not here.)
 */
export const kvBytesPerTokenForContext = (m: ModelProfile, kvBytes: number, context: number): number => {
  if (context <= 0 || m.numSlidingLayers === 0 || context <= m.slidingWindow) return kvBytesPerToken(m, kvBytes)
  const perLayer = kvElementsPerLayer(m) * kvBytes
  const full = m.numLayers - m.numSlidingLayers
  return (perLayer * (full * context + m.numSlidingLayers * m.slidingWindow)) / context
}

/** vLLM splits layers over PP ranks evenly, giving the remainder to the last ranks but the final one (get_pp_indices). */
const ppLayerCounts = (layers: number, pp: number): number[] => {
  const counts = Array.from({ length: pp }, () => Math.floor(layers / pp))
  // remainder ≤ pp − 1, so the indices pp − 2 … pp − 1 − remainder are all valid.
  for (let i = 2; i < (layers % pp) + 2; i++) counts[pp - i] = (counts[pp - i] ?? 0) + 1
  return counts
}

// VocabParallelEmbedding pads the vocabulary to a multiple of 64 before splitting it over TP.
const paddedVocab = (v: number): number => Math.ceil(v / 64) * 64

/**
 * Weight bytes on the most loaded GPU: layers split over pp stages, each layer's linear weights over tp
 * (KV projections replicated when num_kv_heads < tp; MLA down-projections replicated), routed experts
 * split over ep when ep > 1 (whole experts per GPU) else TP-sharded, embedding and lm_head split over tp
 * as vLLM's VocabParallelEmbedding/ParallelLMHead do (first and last stage). Linear weights at the
 * serving precision; embeddings, lm_head, norms, biases and routers at 16 bits.
 */
export const weightBytesPerGpu = (m: ModelProfile, p: Precision, par: Parallelism): number => {
  const tp = Math.max(1, par.tp)
  const pp = Math.max(1, par.pp)
  const ep = Math.max(1, par.ep)
  const wb = nonExpertBytesPerWeight(m, p)
  const eb = m.expertBytesPerWeight ?? bytesPerWeight(p)
  const h = m.hiddenSize
  const H = m.numAttentionHeads

  // Attention weights on one GPU.
  let attn: number
  let attnSmall: number
  if (m.mla !== undefined) {
    const { qLoraRank: ql, kvLoraRank: kl, qkNopeHeadDim: dn, qkRopeHeadDim: dr, vHeadDim: dv } = m.mla
    const replicated = (ql > 0 ? h * ql : 0) + h * (kl + dr) // q_a / kv_a_proj_with_mqa are ReplicatedLinear
    const split = (ql > 0 ? ql * H * (dn + dr) : h * H * (dn + dr)) + kl * H * (dn + dv) + H * dv * h
    attn = (replicated + split / tp) * wb
    attnSmall = ((ql > 0 ? ql : 0) + kl) * HALF
  } else {
    const d = m.headDim
    const kvRank = Math.max(1, Math.floor(m.numKeyValueHeads / tp)) // replicated when kv < tp
    attn = ((2 * H * d * h) / tp + 2 * kvRank * d * h) * wb
    const bias =
      m.attentionBias === undefined ? 0 : (H * d) / tp + 2 * kvRank * d + (m.attentionBias === "qkvo" ? h : 0)
    attnSmall = (bias + (m.qkNorm === true ? 2 * d : 0)) * HALF
  }
  const p0 = layerParams(m)
  const norms = p0.norms * HALF
  const denseLayerBytes = attn + attnSmall + norms + (p0.denseMlp / tp) * wb + (p0.denseMlpBias / tp) * HALF
  const expertsHere = ep > 1 ? Math.ceil(m.numExperts / ep) : m.numExperts / tp
  const moeLayerBytes =
    attn + attnSmall + norms + expertsHere * p0.expert * eb + ((m.numSharedExperts * p0.expert) / tp) * wb + p0.router * HALF

  const vocabSlice = (paddedVocab(m.vocabSize) / tp) * h * HALF
  const positions = (m.learnedPositionEmbeddings ?? 0) * h * HALF
  const finalNorm = (m.layerNormBias === true ? 2 * h : h) * HALF
  const counts = ppLayerCounts(m.numLayers, pp)
  let firstLayer = 0
  let worst = 0
  counts.forEach((n, stage) => {
    // Dense layers come first (DeepSeek first_k_dense_replace).
    const denseHere = Math.max(0, Math.min(firstLayer + n, m.numLayers - moeLayerCount(m)) - firstLayer)
    let bytes = denseHere * denseLayerBytes + (n - denseHere) * moeLayerBytes
    if (stage === 0) bytes += vocabSlice + positions
    if (stage === pp - 1) bytes += finalNorm + (m.tieWordEmbeddings && pp === 1 ? 0 : vocabSlice)
    worst = Math.max(worst, bytes)
    firstLayer += n
  })
  return worst
}

/** Forward FLOPs per token in the linear layers: 2 × active non-embedding params + the lm_head matmul. */
export const linearFlopsPerToken = (m: ModelProfile): number => {
  const { active, embedding } = paramCount(m)
  return 2 * (active - embedding) + 2 * m.vocabSize * m.hiddenSize
}

/** Σ_{j=1..n} min(j, w): keys attended by queries at positions 0..n−1 under a window of w. */
const windowedPairs = (n: number, w: number): number => (n <= w ? (n * (n + 1)) / 2 : (w * (w + 1)) / 2 + (n - w) * w)

/**
 * FLOPs of causal attention (QKᵀ and PV) for `queryTokens` new tokens at the end of a sequence of
 * `contextTokens` tokens (context includes the new ones), over all layers. Full layers see
 * q·(c − q) + q(q + 1)/2 query-key pairs; sliding layers at most `slidingWindow` keys per query.
 * Per pair and layer: 4·heads·head_dim, or for MLA 2·heads·(qk_nope + qk_rope + v_head_dim), the
 * unabsorbed (prefill) form.
 */
export const attentionFlops = (m: ModelProfile, queryTokens: number, contextTokens: number): number => {
  const q = Math.max(0, Math.min(queryTokens, contextTokens))
  const c = Math.max(0, contextTokens)
  if (q === 0) return 0
  const perPair =
    m.mla !== undefined
      ? 2 * m.numAttentionHeads * (m.mla.qkNopeHeadDim + m.mla.qkRopeHeadDim + m.mla.vHeadDim)
      : 4 * m.numAttentionHeads * m.headDim
  const fullPairs = q * (c - q) + (q * (q + 1)) / 2
  const full = m.numLayers - m.numSlidingLayers
  const slidingPairs =
    m.numSlidingLayers > 0 ? windowedPairs(c, m.slidingWindow) - windowedPairs(c - q, m.slidingWindow) : 0
  return perPair * (full * fullPairs + m.numSlidingLayers * slidingPairs)
}

/** Expected distinct routed experts (per MoE layer) a batch of numTokens activates under uniform routing. */
export const moeExpertsTouched = (m: ModelProfile, numTokens: number): number => {
  const E = m.numExperts
  if (E === 0 || numTokens <= 0) return 0
  return E * (1 - Math.pow(1 - m.numExpertsPerTok / E, numTokens))
}
