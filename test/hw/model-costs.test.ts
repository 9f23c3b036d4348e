import { describe, expect, it } from "vitest"
import {
  attentionFlops,
  bytesPerWeight,
  kvBytesPerElement,
  kvBytesPerToken,
  kvBytesPerTokenForContext,
  linearFlopsPerToken,
  moeExpertsTouched,
  paramCount,
  weightBytesPerGpu,
} from "../../src/hw/model-costs.ts"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { lookupModel } from "../../src/hw/models.ts"
import { stepTimeBasis } from "../../src/hw/step-time-terms.ts"
import type { ModelProfile, Parallelism } from "../../src/hw/types.ts"

// A tiny dense model every number below is worked out by hand for.
// h 8, 2 layers, 2 heads of 4, 1 KV head, MLP 16, vocab 64 (a multiple of 64: no vLLM padding), untied.
const tiny: ModelProfile = {
  id: "tiny",
  numLayers: 2,
  hiddenSize: 8,
  numAttentionHeads: 2,
  numKeyValueHeads: 1,
  headDim: 4,
  intermediateSize: 16,
  vocabSize: 64,
  tieWordEmbeddings: false,
  numExperts: 0,
  numExpertsPerTok: 0,
  moeIntermediateSize: 0,
  numSharedExperts: 0,
  numDenseLayers: 0,
  mlaKvDim: 0,
  slidingWindow: 0,
  numSlidingLayers: 0,
  maxPositionEmbeddings: 128,
}
// Per layer: q,o 2·8·2·4 = 128, k,v 2·8·1·4 = 64 → attention 192; norms 2·8 = 16; MLP 3·8·16 = 384.
// Layers 2 × 592 = 1184; final norm 8; embedding + lm_head 2·64·8 = 1024 → 2216.

// The same with a MoE: layer 0 dense, layer 1 has 4 experts of width 6 (top-2) and 1 shared expert.
const tinyMoe: ModelProfile = {
  ...tiny,
  id: "tiny-moe",
  numExperts: 4,
  numExpertsPerTok: 2,
  moeIntermediateSize: 6,
  numSharedExperts: 1,
  numDenseLayers: 1,
}
// MoE layer: 192 + 16 + (4 + 1)·3·8·6 + router 8·4 = 208 + 720 + 32 = 960 → total 592 + 960 + 8 + 1024 = 2584.
// Active: 208 + (2 + 1)·144 + 32 = 672 → 592 + 672 + 8 + 1024 = 2296.

const TP1: Parallelism = { tp: 1, pp: 1, ep: 1 }

describe("bytesPerWeight / kvBytesPerElement", () => {
  it("gives the storage width of each precision", () => {
    expect(bytesPerWeight("bf16")).toBe(2)
    expect(bytesPerWeight("fp16")).toBe(2)
    expect(bytesPerWeight("fp8")).toBe(1)
    expect(bytesPerWeight("fp4")).toBe(0.5625) // NVFP4: 4 bits + an FP8 scale per 16
    expect(bytesPerWeight("int4")).toBe(0.5)
  })

  it("keeps 16-bit KV for 'auto' whatever the weight precision, 1 byte for fp8", () => {
    expect(kvBytesPerElement("auto", "bf16")).toBe(2)
    expect(kvBytesPerElement("auto", "fp16")).toBe(2)
    expect(kvBytesPerElement("auto", "fp8")).toBe(2)
    expect(kvBytesPerElement("fp8", "bf16")).toBe(1)
    expect(kvBytesPerElement("fp8", "int4")).toBe(1)
  })
})

describe("paramCount", () => {
  it("counts the tiny dense model by hand", () => {
    expect(paramCount(tiny)).toEqual({ total: 2216, active: 2216, embedding: 1024 })
  })

  it("counts total and per-token active parameters of the tiny MoE", () => {
    expect(paramCount(tinyMoe)).toEqual({ total: 2584, active: 2296, embedding: 1024 })
  })

  it("counts a tied embedding once", () => {
    expect(paramCount({ ...tiny, tieWordEmbeddings: true }).total).toBe(2216 - 512)
  })

  it("adds Qwen2 qkv biases and Qwen3 q/k norms", () => {
    // qkv bias per layer: 2·4 + 2·1·4 = 16; q/k norm: 2·4 = 8.
    expect(paramCount({ ...tiny, attentionBias: "qkv" }).total).toBe(2216 + 2 * 16)
    expect(paramCount({ ...tiny, attentionBias: "qkvo" }).total).toBe(2216 + 2 * (16 + 8))
    expect(paramCount({ ...tiny, qkNorm: true }).total).toBe(2216 + 2 * 8)
  })

  it("counts OPT-125m at the published 125,239,296", () => {
    // facebook/opt-125m: 12 × (4·768² + 4·768 + 2·768·3072 + 3072 + 768 + 2·2·768) + 50272·768 + 2050·768 + 2·768.
    const opt = lookupModel("facebook/opt-125m")
    expect(opt).toBeDefined()
    if (opt !== undefined) expect(paramCount(opt).total).toBe(125_239_296)
  })
})

describe("kvBytesPerToken / kvBytesPerTokenForContext", () => {
  it("is 2 · layers · kv heads · head dim · bytes", () => {
    expect(kvBytesPerToken(tiny, 2)).toBe(2 * 2 * 1 * 4 * 2)
    expect(kvBytesPerToken(tiny, 1)).toBe(16)
  })

  it("uses the MLA latent for DeepSeek-V3: 576 · 61 · 2 = 70,272", () => {
    const ds = lookupModel("deepseek-ai/DeepSeek-V3")
    expect(ds).toBeDefined()
    if (ds !== undefined) expect(kvBytesPerToken(ds, 2)).toBe(70_272)
  })

  // 4 layers, 2 of them sliding over 8 tokens; 8 elements per layer per token at 1 byte.
  const sliding: ModelProfile = { ...tiny, numLayers: 4, numSlidingLayers: 2, slidingWindow: 8 }

  it("counts sliding layers in full per token", () => {
    expect(kvBytesPerToken(sliding, 1)).toBe(4 * 8)
  })

  it("caps sliding layers at the window for long contexts", () => {
    expect(kvBytesPerTokenForContext(sliding, 1, 4)).toBe(32) // inside the window: all layers
    expect(kvBytesPerTokenForContext(sliding, 1, 8)).toBe(32)
    // 16 tokens: full layers 2·16·8, sliding 2·8·8 → 384 bytes, 24 per token.
    expect(kvBytesPerTokenForContext(sliding, 1, 16)).toBe(24)
    expect(kvBytesPerTokenForContext(tiny, 2, 1000)).toBe(kvBytesPerToken(tiny, 2))
  })
})

describe("weightBytesPerGpu", () => {
  it("is 2 bytes per parameter at bf16 on one GPU", () => {
    expect(weightBytesPerGpu(tiny, "bf16", TP1)).toBe(2 * 2216)
  })

  it("splits over TP, replicating the single KV head and splitting the vocabulary", () => {
    // Per layer: q,o 128/2 + k,v 64 (replicated) = 128 → 256 B; norms 32 B; MLP 384/2 → 384 B: 672 B.
    // 2 layers 1344 + embedding and lm_head 2 · (64/2)·8·2 = 1024 + final norm 16 = 2384.
    expect(weightBytesPerGpu(tiny, "bf16", { tp: 2, pp: 1, ep: 1 })).toBe(2384)
  })

  it("quantizes only the linear layers: fp8 halves them, embeddings and norms stay 16-bit", () => {
    // Linear params: 2 · (192 + 384) = 1152 → bf16 − fp8 = 1152 bytes.
    expect(weightBytesPerGpu(tiny, "fp8", TP1)).toBe(2 * 2216 - 1152)
  })

  it("puts the embedding on the first PP stage and lm_head on the last, reporting the heavier", () => {
    // Stage 0: layer 1184 B + embedding 1024 B; stage 1: layer 1184 + lm_head 1024 + final norm 16.
    expect(weightBytesPerGpu(tiny, "bf16", { tp: 1, pp: 2, ep: 1 })).toBe(2224)
  })

  it("splits whole experts over EP ranks", () => {
    // Dense layer 1184 B. MoE layer: 416 + experts 2·144·2 = 576 + shared 288 + router 64 = 1344.
    expect(weightBytesPerGpu(tinyMoe, "bf16", { tp: 1, pp: 1, ep: 2 })).toBe(1184 + 1344 + 2048 + 16)
    // Without EP all four experts sit on the GPU: 416 + 1152 + 288 + 64 = 1920.
    expect(weightBytesPerGpu(tinyMoe, "bf16", TP1)).toBe(1184 + 1920 + 2048 + 16)
  })

  it("keeps gpt-oss experts in MXFP4 whatever the serving precision", () => {
    const oss = lookupModel("openai/gpt-oss-120b")
    expect(oss).toBeDefined()
    if (oss === undefined) return
    const bf16 = weightBytesPerGpu(oss, "bf16", TP1)
    // ~60.7 GiB: the released checkpoint is ~61 GiB (4.25-bit experts, bf16 rest), far below 2 × 116.8B.
    expect(bf16 / 2 ** 30).toBeGreaterThan(58)
    expect(bf16 / 2 ** 30).toBeLessThan(64)
  })

  it("falls as TP grows and halves (to within the 16-bit embeddings) at fp8", () => {
    const m = lookupModel("meta-llama/Llama-3.1-70B")
    expect(m).toBeDefined()
    if (m === undefined) return
    const byTp = [1, 2, 4, 8].map((tp) => weightBytesPerGpu(m, "bf16", { tp, pp: 1, ep: 1 }))
    for (let i = 1; i < byTp.length; i++) expect(byTp[i]).toBeLessThan(byTp[i - 1] ?? 0)
    // KV heads (8) still split evenly at TP 8, so the split is exact apart from replicated norms.
    expect(Math.abs(((byTp[3] ?? 0) * 8) / (byTp[0] ?? 1) - 1)).toBeLessThan(1e-3)
    const ratio = weightBytesPerGpu(m, "fp8", TP1) / weightBytesPerGpu(m, "bf16", TP1)
    const embeddingShare = (2 * 128256 * 8192) / paramCount(m).total
    expect(ratio).toBeCloseTo(0.5 + embeddingShare / 2, 3)
    expect(weightBytesPerGpu(m, "fp4", TP1)).toBeLessThan(weightBytesPerGpu(m, "fp8", TP1))
  })
})

describe("FLOPs", () => {
  it("linear FLOPs per token are 2 × active non-embedding params + the lm_head", () => {
    // 2 · (2216 − 1024) + 2 · 64 · 8 = 3408.
    expect(linearFlopsPerToken(tiny)).toBe(3408)
    // MoE counts only the routed experts a token uses: 2 · (2296 − 1024) + 1024 = 3568.
    expect(linearFlopsPerToken(tinyMoe)).toBe(3568)
  })

  it("causal attention: pairs × 4 · heads · head_dim × layers", () => {
    // 3 new tokens ending a 5-token sequence: 3·2 + 3·4/2 = 12 pairs; 32 FLOPs per pair; 2 layers.
    expect(attentionFlops(tiny, 3, 5)).toBe(12 * 32 * 2)
    // One decode token over 10 tokens of context: 10 pairs.
    expect(attentionFlops(tiny, 1, 10)).toBe(10 * 32 * 2)
    // A whole prefill of n tokens: n(n+1)/2 pairs.
    expect(attentionFlops(tiny, 100, 100)).toBe(5050 * 32 * 2)
    expect(attentionFlops(tiny, 0, 10)).toBe(0)
  })

  it("caps sliding-window layers at the window", () => {
    const sliding: ModelProfile = { ...tiny, numLayers: 4, numSlidingLayers: 2, slidingWindow: 4 }
    // q = 2 at positions 8, 9 of 10: full pairs 2·8 + 3 = 19; sliding min(9,4) + min(10,4) = 8.
    expect(attentionFlops(sliding, 2, 10)).toBe(32 * (2 * 19 + 2 * 8))
  })

  it("uses the unabsorbed MLA shapes for DeepSeek-V3", () => {
    const ds = lookupModel("deepseek-v3")
    expect(ds).toBeDefined()
    if (ds !== undefined) expect(attentionFlops(ds, 1, 1)).toBe(2 * 128 * (128 + 64 + 128) * 61)
  })

  it("expected distinct experts follow E · (1 − (1 − k/E)^n)", () => {
    expect(moeExpertsTouched(tinyMoe, 1)).toBe(2)
    expect(moeExpertsTouched(tinyMoe, 2)).toBe(3)
    expect(moeExpertsTouched(tinyMoe, 0)).toBe(0)
    expect(moeExpertsTouched(tiny, 100)).toBe(0)
    expect(moeExpertsTouched(tinyMoe, 1000)).toBeCloseTo(4, 9)
    const qwen = lookupModel("Qwen/Qwen3-30B-A3B")
    expect(qwen).toBeDefined()
    // 128 experts, top-8, 16 tokens: 128 · (1 − (15/16)^16) ≈ 82.3.
    if (qwen !== undefined) expect(moeExpertsTouched(qwen, 16)).toBeCloseTo(128 * (1 - (15 / 16) ** 16), 9)
  })
})

describe("expert-only quantized checkpoints", () => {
  it("gpt-oss-120b: MXFP4 experts, bf16 attention and embeddings — about the 65 GB the release weighs", () => {
    const m = lookupModel("openai/gpt-oss-120b")!
    expect(m.quantizedExpertsOnly).toBe(true)
    const bytes = weightBytesPerGpu(m, "fp4", { tp: 1, pp: 1, ep: 1 })
    // Checkpoint size 65.18 GB: experts at 4.25 bits plus 2.12 B non-expert parameters at 2 bytes.
    expect(bytes / 1e9).toBeGreaterThan(63)
    expect(bytes / 1e9).toBeLessThan(67)
    // Its attention GEMMs run bf16, not at an fp4 rate (Hopper has no fp4 tensor cores anyway).
    const b = stepTimeBasis({ model: m, gpu: lookupGpu("h100-sxm")!, precision: "fp4", kvCacheDtype: "auto", par: { tp: 1, pp: 1, ep: 1 } })
    expect(b.lowPrecisionGemm).toBe(false)
  })

  it("Kimi-K2.5: INT4 group-32 experts (0.5625 B), everything else bf16; a dense model at int4 quantizes all linears", () => {
    const kimi = lookupModel("moonshotai/Kimi-K2.5")!
    expect(kimi.expertBytesPerWeight).toBe(0.5625)
    expect(kimi.quantizedExpertsOnly).toBe(true)
    const llama = lookupModel("meta-llama/Llama-3.1-70B")!
    expect(weightBytesPerGpu(llama, "int4", { tp: 1, pp: 1, ep: 1 })).toBeLessThan(weightBytesPerGpu(llama, "bf16", { tp: 1, pp: 1, ep: 1 }) / 3)
  })
})
