import { describe, expect, it } from "vitest"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { kvBytesPerToken, paramCount, weightBytesPerGpu } from "../../src/hw/model-costs.ts"
import { builtinModelIds, lookupModel, modelFromHfConfig } from "../../src/hw/models.ts"
import { stepTimeBasis } from "../../src/hw/step-time-terms.ts"
import type { ModelProfile } from "../../src/hw/types.ts"
import {
  IN_CI,
  arr,
  dataPath,
  field,
  hasData,
  isRecord,
  num,
  readJson,
  skipReason,
  str,
  subdirs,
} from "./shared-data.ts"

const profile = (r: ModelProfile | string): ModelProfile => {
  if (typeof r === "string") throw new Error(r)
  return r
}

const mustLookup = (id: string): ModelProfile => {
  const m = lookupModel(id)
  if (m === undefined) throw new Error(`no built-in model for ${id}`)
  return m
}

// ---------------------------------------------------------------------------------------------
// Against the published architecture facts (read at test time).

const FACTS = ["facts", "models.json"] as const
const haveFacts = hasData(...FACTS)

describe.skipIf(!haveFacts)(`built-ins match facts/models.json ${haveFacts ? "" : skipReason(...FACTS)}`, () => {
  const entries = haveFacts ? arr(readJson(...FACTS), "models") : []

  it("has every facts model as a built-in", () => {
    expect(entries.length).toBeGreaterThanOrEqual(13)
    for (const e of entries) expect(lookupModel(str(e, "id")), str(e, "id")).toBeDefined()
  })

  for (const e of entries) {
    const id = str(e, "id")
    it(`${id}: architecture fields`, () => {
      const m = mustLookup(id)
      expect(m.hiddenSize).toBe(num(e, "hidden_size"))
      expect(m.numLayers).toBe(num(e, "num_layers"))
      expect(m.numAttentionHeads).toBe(num(e, "num_attention_heads"))
      expect(m.vocabSize).toBe(num(e, "vocab_size"))
      expect(m.tieWordEmbeddings).toBe(field(e, "tie_word_embeddings"))
      expect(m.maxPositionEmbeddings).toBe(num(e, "max_position_embeddings"))
      expect(m.intermediateSize).toBe(num(e, "intermediate_size"))
      const kv = field(e, "num_kv_heads")
      if (typeof kv === "number") {
        expect(m.numKeyValueHeads).toBe(kv)
        expect(m.headDim).toBe(num(e, "head_dim"))
      }
      const moe = isRecord(e) ? e["moe"] : undefined
      if (isRecord(moe)) {
        expect(m.numExperts).toBe(num(moe, "num_experts"))
        expect(m.numExpertsPerTok).toBe(num(moe, "experts_per_token"))
        expect(m.moeIntermediateSize).toBe(num(moe, "moe_intermediate_size"))
        expect(m.numSharedExperts).toBe(num(moe, "shared_experts"))
        expect(m.numDenseLayers).toBe(num(moe, "dense_layers"))
      } else {
        expect(m.numExperts).toBe(0)
      }
      const mla = isRecord(e) ? e["mla"] : undefined
      if (isRecord(mla)) expect(m.mlaKvDim).toBe(num(mla, "cached_elems_per_token_per_layer"))
    })

    it(`${id}: parameter count`, () => {
      const m = mustLookup(id)
      const { total, active } = paramCount(m)
      // 1e-5 relative: the facts formula leaves out Qwen3's q/k norms (2 · head_dim per layer, ≤ 1.1e-6),
      // while a missing per-layer norm (≥ 3e-5 of any model here) or qkv bias (1.7e-5) would fail.
      expect(Math.abs(total / num(e, "params_computed") - 1)).toBeLessThan(1e-5)
      const act = isRecord(e) ? e["params_active_computed"] : undefined
      if (typeof act === "number") expect(Math.abs(active / act - 1)).toBeLessThan(1e-5)
      else if (m.numExperts > 0) expect(active).toBeLessThan(total)
      else expect(active).toBe(total)
    })

    it(`${id}: KV bytes per token (bf16)`, () => {
      const m = mustLookup(id)
      const published = num(e, "kv_bytes_per_token_bf16")
      if (m.numSlidingLayers > 0) {
        // facts gives the full-attention layers (growing with context) and the sliding ones separately.
        const perLayer = kvBytesPerToken(m, 2) / m.numLayers
        expect(perLayer * (m.numLayers - m.numSlidingLayers)).toBe(published)
        expect(perLayer * m.numSlidingLayers).toBe(num(e, "kv_bytes_per_token_bf16_sliding_layers"))
      } else {
        expect(kvBytesPerToken(m, 2)).toBe(published)
      }
    })

    it(`${id}: bf16 weight bytes on one GPU`, () => {
      const m = mustLookup(id)
      const w = weightBytesPerGpu(m, "bf16", { tp: 1, pp: 1, ep: 1 })
      if (m.expertBytesPerWeight !== undefined) {
        // gpt-oss ships MXFP4 experts: far below the all-bf16 figure facts quotes.
        expect(w).toBeLessThan(0.6 * num(e, "weights_bytes_bf16"))
      } else {
        expect(Math.abs(w / num(e, "weights_bytes_bf16") - 1)).toBeLessThan(1e-5)
      }
    })
  }
})
it.runIf(!haveFacts && IN_CI)(`CI requires ${dataPath(...FACTS)}`, () => {
  expect.fail(`${dataPath(...FACTS)} is missing in CI`)
})

// ---------------------------------------------------------------------------------------------
// Hugging Face config.json files of the inference-sim runs, and the replay configs.

const HF = ["models", "hf-configs"] as const
const hfDirs = subdirs(...HF)
const haveHf = hfDirs.length > 0

describe.skipIf(!haveHf)(`hf-configs/*/config.json parse ${haveHf ? "" : skipReason(...HF)}`, () => {
  it("has the four configs", () => {
    expect(hfDirs).toEqual(["CodeLlama-34b-Instruct-hf", "Llama-2-70b-hf", "Llama-2-7b-hf", "Mixtral-8x7B-v0.1"])
  })

  const hfId: Readonly<Record<string, string>> = {
    "CodeLlama-34b-Instruct-hf": "codellama/CodeLlama-34b-Instruct-hf",
    "Llama-2-70b-hf": "meta-llama/Llama-2-70b-hf",
    "Llama-2-7b-hf": "meta-llama/Llama-2-7b-hf",
    "Mixtral-8x7B-v0.1": "mistralai/Mixtral-8x7B-v0.1",
  }

  for (const dir of hfDirs) {
    it(`${dir}: parses to the built-in profile`, () => {
      const id = hfId[dir] ?? dir
      const parsed = profile(modelFromHfConfig(readJson(...HF, dir, "config.json"), id))
      expect(parsed).toEqual(mustLookup(id))
    })
  }

  it("reads MHA, GQA and MoE shapes from the files", () => {
    const l7 = profile(modelFromHfConfig(readJson(...HF, "Llama-2-7b-hf", "config.json"), "l7"))
    expect([l7.numKeyValueHeads, l7.headDim, l7.maxPositionEmbeddings]).toEqual([32, 128, 4096])
    expect(kvBytesPerToken(l7, 2)).toBe(524_288) // 2 · 32 · 32 · 128 · 2
    const l70 = profile(modelFromHfConfig(readJson(...HF, "Llama-2-70b-hf", "config.json"), "l70"))
    expect(kvBytesPerToken(l70, 2)).toBe(327_680) // 2 · 80 · 8 · 128 · 2
    const cl = profile(modelFromHfConfig(readJson(...HF, "CodeLlama-34b-Instruct-hf", "config.json"), "cl"))
    expect([cl.numLayers, cl.intermediateSize, cl.maxPositionEmbeddings]).toEqual([48, 22016, 16384])
    // CodeLlama-34B is published as 33.7B parameters.
    expect(paramCount(cl).total / 1e9).toBeCloseTo(33.74, 2)
    const mx = profile(modelFromHfConfig(readJson(...HF, "Mixtral-8x7B-v0.1", "config.json"), "mx"))
    expect([mx.numExperts, mx.numExpertsPerTok, mx.moeIntermediateSize, mx.numSlidingLayers]).toEqual([8, 2, 14336, 0])
  })
})
it.runIf(!haveHf && IN_CI)(`CI requires ${dataPath(...HF)}`, () => {
  expect.fail(`${dataPath(...HF)} is missing in CI`)
})

const REPLAYS = ["serving", "per-request-replays"] as const
const replayRuns = subdirs(...REPLAYS).flatMap((gpu) => subdirs(...REPLAYS, gpu).map((model) => [gpu, model] as const))
const haveReplays = replayRuns.length > 0

describe.skipIf(!haveReplays)(`per-request-replays configs resolve ${haveReplays ? "" : skipReason(...REPLAYS)}`, () => {
  for (const [gpuDir, modelDir] of replayRuns) {
    it(`${gpuDir}/${modelDir}: model, GPU and TP are known`, () => {
      const config = readJson(...REPLAYS, gpuDir, modelDir, "config.json")
      const meta = readJson(...REPLAYS, gpuDir, modelDir, "meta.json")
      const kwargs = field(meta, "engine_kwargs")
      let instances = 0
      for (const node of arr(config, "nodes")) {
        for (const inst of arr(node, "instances")) {
          instances++
          const m = lookupModel(str(inst, "model_name"))
          expect(m, str(inst, "model_name")).toBeDefined()
          expect(m?.id).toBe(str(meta, "model"))
          const gpu = lookupGpu(str(inst, "hardware"))
          expect(gpu, str(inst, "hardware")).toBeDefined()
          // LLMServingSim's npu_mem.mem_size is the card's memory in GB (24 / 96).
          expect((gpu?.memoryBytes ?? 0) / 2 ** 30).toBe(num(field(inst, "npu_mem"), "mem_size"))
          expect(num(inst, "tp_size")).toBe(num(kwargs, "tensor_parallel_size"))
        }
      }
      expect(instances).toBeGreaterThan(0)
    })
  }
})
it.runIf(!haveReplays && IN_CI)(`CI requires ${dataPath(...REPLAYS)}`, () => {
  expect.fail(`${dataPath(...REPLAYS)} is missing in CI`)
})

// ---------------------------------------------------------------------------------------------
// Parser features on hand-written configs.

const llamaLike = {
  model_type: "llama",
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  vocab_size: 1000,
  max_position_embeddings: 2048,
  tie_word_embeddings: false,
}

describe("modelFromHfConfig", () => {
  it("defaults head_dim to hidden / heads and KV heads to heads", () => {
    const m = profile(modelFromHfConfig({ ...llamaLike, num_key_value_heads: undefined }, "x"))
    expect(m.headDim).toBe(8)
    expect(m.numKeyValueHeads).toBe(8)
    expect(profile(modelFromHfConfig({ ...llamaLike, head_dim: 32 }, "x")).headDim).toBe(32)
  })

  it("reads Qwen3-MoE expert layout including mlp_only_layers", () => {
    const cfg = { ...llamaLike, model_type: "qwen3_moe", num_experts: 16, num_experts_per_tok: 4, moe_intermediate_size: 32, mlp_only_layers: [0, 3] }
    const m = profile(modelFromHfConfig(cfg, "q"))
    expect([m.numExperts, m.numExpertsPerTok, m.moeIntermediateSize, m.numDenseLayers, m.qkNorm]).toEqual([16, 4, 32, 2, true])
    const stepped = profile(modelFromHfConfig({ ...cfg, mlp_only_layers: [], decoder_sparse_step: 2 }, "q"))
    expect(stepped.numDenseLayers).toBe(2) // layers 0 and 2 dense, 1 and 3 sparse
  })

  it("reads Llama-4's interleaved MoE layers (interleave_moe_layer_step) and their dense width (intermediate_size_mlp)", () => {
    const cfg = {
      ...llamaLike,
      model_type: "llama4_text",
      num_local_experts: 16,
      num_experts_per_tok: 1,
      intermediate_size: 32,
      intermediate_size_mlp: 64,
      n_shared_experts: 1,
    }
    // Maverick-style step 2 of 4 layers: layers 1 and 3 are MoE, 0 and 2 dense MLPs of intermediate_size_mlp.
    const maverick = profile(modelFromHfConfig({ ...cfg, interleave_moe_layer_step: 2 }, "m"))
    expect([maverick.numDenseLayers, maverick.intermediateSize, maverick.moeIntermediateSize]).toEqual([2, 64, 32])
    // Scout-style step 1: every layer MoE; intermediate_size is the expert width.
    const scout = profile(modelFromHfConfig({ ...cfg, interleave_moe_layer_step: 1 }, "s"))
    expect([scout.numDenseLayers, scout.moeIntermediateSize, scout.numSharedExperts]).toEqual([0, 32, 1])
  })

  it("reads DeepSeek MoE and MLA fields", () => {
    const cfg = {
      ...llamaLike,
      model_type: "deepseek_v3",
      n_routed_experts: 8,
      n_shared_experts: 2,
      num_experts_per_tok: 2,
      moe_intermediate_size: 16,
      first_k_dense_replace: 1,
      q_lora_rank: null,
      kv_lora_rank: 32,
      qk_nope_head_dim: 16,
      qk_rope_head_dim: 8,
      v_head_dim: 16,
    }
    const m = profile(modelFromHfConfig(cfg, "ds"))
    expect([m.numExperts, m.numSharedExperts, m.numDenseLayers, m.mlaKvDim, m.headDim]).toEqual([8, 2, 1, 40, 24])
    expect(m.mla).toEqual({ qLoraRank: 0, kvLoraRank: 32, qkNopeHeadDim: 16, qkRopeHeadDim: 8, vHeadDim: 16 })
    expect(kvBytesPerToken(m, 2)).toBe(40 * 4 * 2)
  })

  it("reads sliding windows from layer_types, Qwen max_window_layers and Mistral style", () => {
    const types = ["sliding_attention", "full_attention", "sliding_attention", "full_attention"]
    const a = profile(modelFromHfConfig({ ...llamaLike, sliding_window: 128, layer_types: types }, "a"))
    expect([a.slidingWindow, a.numSlidingLayers]).toEqual([128, 2])
    const q = { ...llamaLike, model_type: "qwen2", sliding_window: 4096, max_window_layers: 3 }
    expect(profile(modelFromHfConfig({ ...q, use_sliding_window: false }, "q")).numSlidingLayers).toBe(0)
    const qOn = profile(modelFromHfConfig({ ...q, use_sliding_window: true }, "q"))
    expect([qOn.slidingWindow, qOn.numSlidingLayers]).toEqual([4096, 1])
    const mistral = profile(modelFromHfConfig({ ...llamaLike, model_type: "mistral", sliding_window: 4096 }, "m"))
    expect([mistral.slidingWindow, mistral.numSlidingLayers]).toEqual([4096, 4])
    expect(profile(modelFromHfConfig({ ...llamaLike, sliding_window: null }, "n")).numSlidingLayers).toBe(0)
  })

  it("reads the gpt-oss layout: alternating windows, attention biases, MXFP4 experts", () => {
    const m = mustLookup("openai/gpt-oss-120b")
    expect([m.numSlidingLayers, m.slidingWindow, m.attentionBias, m.expertBytesPerWeight]).toEqual([18, 128, "qkvo", 4.25 / 8])
    // OpenAI's model card: 5.1B active per token, which leaves out the input embedding (vocab × hidden).
    const { active } = paramCount(m)
    expect(Math.abs((active - m.vocabSize * m.hiddenSize) / 5.1e9 - 1)).toBeLessThan(0.02)
  })

  it("marks per-channel fp8 experts (compressed-tensors strategy channel), not block or group scales", () => {
    const group = (weights: Record<string, unknown>) => ({ quant_method: "compressed-tensors", config_groups: { group_0: { weights } } })
    const channel = { num_bits: 8, type: "float", strategy: "channel", block_structure: null, group_size: null }
    const moe = { ...llamaLike, num_local_experts: 16, num_experts_per_tok: 1 }
    const flag = (cfg: unknown): boolean | undefined => profile(modelFromHfConfig(cfg, "m")).expertScalesPerChannel
    expect(flag({ ...moe, quantization_config: group(channel) })).toBe(true)
    expect(flag({ ...moe, quantization_config: group({ ...channel, strategy: "tensor" }) })).toBe(true)
    expect(flag({ ...moe, quantization_config: group({ ...channel, strategy: "block", block_structure: [128, 128] }) })).toBeUndefined()
    expect(flag({ ...moe, quantization_config: group({ ...channel, num_bits: 4, type: "int", strategy: "group", group_size: 128 }) })).toBeUndefined()
    expect(flag({ ...moe, quantization_config: { quant_method: "fp8", weight_block_size: [128, 128] } })).toBeUndefined()
    expect(flag({ ...llamaLike, quantization_config: group(channel) })).toBeUndefined() // dense: no experts
    // The served quantized-expert factor then applies to block-fp8 experts only.
    const gpu = lookupGpu("h100-sxm")!
    const basis = (cfg: unknown) => stepTimeBasis({ model: profile(modelFromHfConfig(cfg, "m")), gpu, precision: "fp8", kvCacheDtype: "auto", par: { tp: 1, pp: 1, ep: 1 } })
    expect(basis({ ...moe, quantization_config: group(channel) }).quantizedExperts).toBe(false)
    expect(basis({ ...moe, quantization_config: { quant_method: "fp8", weight_block_size: [128, 128] } }).quantizedExperts).toBe(true)
  })

  it("reads OPT configs (ffn_dim, two-matrix MLP, tied embeddings by default)", () => {
    const cfg = { model_type: "opt", hidden_size: 768, ffn_dim: 3072, num_hidden_layers: 12, num_attention_heads: 12, vocab_size: 50272, max_position_embeddings: 2048 }
    const m = profile(modelFromHfConfig(cfg, "facebook/opt-125m"))
    expect([m.intermediateSize, m.headDim, m.tieWordEmbeddings, m.mlpGated, m.learnedPositionEmbeddings]).toEqual([3072, 64, true, false, 2050])
    expect(m).toEqual(mustLookup("facebook/opt-125m"))
  })

  it("reads a nested text_config", () => {
    const m = profile(modelFromHfConfig({ model_type: "wrapper", text_config: llamaLike }, "w"))
    expect(m.hiddenSize).toBe(64)
  })

  it("names the missing or invalid field in a one-line error", () => {
    const err = (cfg: unknown): string => {
      const r = modelFromHfConfig(cfg, "my/model")
      if (typeof r !== "string") throw new Error("expected an error")
      expect(r).not.toContain("\n")
      expect(r).toContain("my/model")
      return r
    }
    expect(err({ ...llamaLike, hidden_size: undefined })).toContain('"hidden_size"')
    expect(err({ ...llamaLike, num_hidden_layers: 0 })).toContain('"num_hidden_layers"')
    expect(err({ ...llamaLike, num_key_value_heads: "8" })).toContain('"num_key_value_heads"')
    expect(err({ ...llamaLike, max_position_embeddings: undefined })).toContain('"max_position_embeddings"')
    expect(err({ ...llamaLike, intermediate_size: undefined })).toContain('"intermediate_size"')
    expect(err({ ...llamaLike, num_experts: 8 })).toContain('"num_experts_per_tok"')
    expect(err({ ...llamaLike, kv_lora_rank: 32, qk_nope_head_dim: 16, v_head_dim: 16 })).toContain('"qk_rope_head_dim"')
    expect(err({ ...llamaLike, hidden_size: 60, num_attention_heads: 8 })).toContain('"head_dim"')
    expect(err({ model_type: "opt", hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 1, vocab_size: 8, max_position_embeddings: 8 })).toContain('"ffn_dim"')
    expect(err([1, 2])).toContain("object")
  })
})

describe("lookupModel", () => {
  it("lists every model the simulator needs", () => {
    const ids = builtinModelIds()
    for (const id of [
      "meta-llama/Llama-2-7b-hf",
      "meta-llama/Llama-2-70b-hf",
      "codellama/CodeLlama-34b-Instruct-hf",
      "meta-llama/Llama-3.1-8B",
      "meta-llama/Llama-3.1-8B-Instruct",
      "meta-llama/Llama-3.1-70B-Instruct",
      "Qwen/Qwen2.5-7B-Instruct",
      "Qwen/Qwen2.5-72B-Instruct",
      "Qwen/Qwen3-14B",
      "Qwen/Qwen3-32B",
      "Qwen/Qwen3-30B-A3B",
      "Qwen/Qwen3-30B-A3B-Instruct-2507",
      "mistralai/Mistral-Small-24B-Instruct-2501",
      "mistralai/Mixtral-8x7B-v0.1",
      "mistralai/Mixtral-8x7B-Instruct-v0.1",
      "openai/gpt-oss-120b",
      "deepseek-ai/DeepSeek-V3",
      "facebook/opt-125m",
    ]) {
      expect(ids).toContain(id)
      expect(lookupModel(id)?.id).toBe(id)
    }
  })

  it("matches case-insensitively, bare names and suffixed variants", () => {
    expect(lookupModel("META-LLAMA/llama-3.1-8b-instruct")?.id).toBe("meta-llama/Llama-3.1-8B-Instruct")
    expect(lookupModel("llama-3.1-8b")?.id).toBe("meta-llama/Llama-3.1-8B")
    expect(lookupModel("Llama-3.1-70B-Instruct")?.hiddenSize).toBe(8192)
    expect(lookupModel("mixtral-8x7b")?.numExperts).toBe(8)
    expect(lookupModel("someone/CodeLlama-34b-hf")?.numLayers).toBe(48)
    expect(lookupModel("Qwen/Qwen2.5-7B")?.hiddenSize).toBe(3584)
    expect(lookupModel("unknown/model-9b")).toBeUndefined()
  })

  it("keeps the 2507 release's longer context apart from the base Qwen3-30B-A3B", () => {
    expect(lookupModel("Qwen/Qwen3-30B-A3B-Instruct-2507")?.maxPositionEmbeddings).toBe(262144)
    expect(lookupModel("Qwen/Qwen3-30B-A3B")?.maxPositionEmbeddings).toBe(40960)
    expect(paramCount(mustLookup("Qwen/Qwen3-30B-A3B-Instruct-2507"))).toEqual(paramCount(mustLookup("Qwen/Qwen3-30B-A3B")))
  })
})

// ---------------------------------------------------------------------------------------------
// Large MoE models of silicon-sweeps.csv (vLLM rows), against their published sizes.

describe("silicon-sweeps models", () => {
  const within = (got: number, published: number): number => Math.abs(got / published - 1)

  it("resolves every vLLM model id of silicon-sweeps.csv, reporting the id asked for", () => {
    const ids = builtinModelIds()
    for (const id of ["MiniMaxAI/MiniMax-M2.5", "moonshotai/Kimi-K2.5", "Qwen/Qwen3-235B-A22B-FP8", "nvidia/Llama-3.1-8B-Instruct-FP8"]) {
      expect(ids).toContain(id)
      expect(lookupModel(id)?.id).toBe(id)
      expect(lookupModel(id.toUpperCase())?.id).toBe(id)
    }
  })

  it("gives -FP8 checkpoints their base model's architecture", () => {
    const same = (a: string, b: string): void => expect({ ...mustLookup(a), id: "" }).toEqual({ ...mustLookup(b), id: "" })
    same("Qwen/Qwen3-235B-A22B-FP8", "Qwen/Qwen3-235B-A22B")
    same("nvidia/Llama-3.1-8B-Instruct-FP8", "meta-llama/Llama-3.1-8B-Instruct")
    // Any "-FP8" suffix strips like "-Instruct" does.
    expect(lookupModel("Qwen/Qwen3-30B-A3B-FP8")?.id).toBe("Qwen/Qwen3-30B-A3B")
  })

  it("MiniMax-M2.5: GQA MoE, 256 experts top-8, ~230B total / ~10B active", () => {
    const m = mustLookup("MiniMaxAI/MiniMax-M2.5")
    expect([m.numLayers, m.hiddenSize, m.numAttentionHeads, m.numKeyValueHeads, m.headDim]).toEqual([62, 3072, 48, 8, 128])
    expect([m.numExperts, m.numExpertsPerTok, m.moeIntermediateSize, m.numSharedExperts, m.numDenseLayers, m.mlaKvDim]).toEqual([256, 8, 1536, 0, 0, 0])
    expect(kvBytesPerToken(m, 2)).toBe(253_952) // 2 · 62 · 8 · 128 · 2
    const { total, active, embedding } = paramCount(m)
    expect(within(total, 230e9)).toBeLessThan(0.03) // 228.7B
    // MiniMax's "10B active" (9.8B in its reports) leaves out the embedding and lm_head (1.23B).
    expect(within(active - embedding, 10e9)).toBeLessThan(0.03) // 9.80B
    expect(mustLookup("MiniMaxAI/MiniMax-M2")).toEqual({ ...m, id: "MiniMaxAI/MiniMax-M2" })
  })

  it("Kimi-K2.5 (language model): DeepSeek-V3 MLA MoE, 384 + 1 experts, ~1.04T total / ~32B active", () => {
    const m = mustLookup("moonshotai/Kimi-K2.5")
    expect([m.numLayers, m.hiddenSize, m.numAttentionHeads, m.vocabSize, m.maxPositionEmbeddings]).toEqual([61, 7168, 64, 163840, 262144])
    expect([m.numExperts, m.numExpertsPerTok, m.moeIntermediateSize, m.numSharedExperts, m.numDenseLayers]).toEqual([384, 8, 2048, 1, 1])
    expect(m.mla).toEqual({ qLoraRank: 1536, kvLoraRank: 512, qkNopeHeadDim: 128, qkRopeHeadDim: 64, vHeadDim: 128 })
    expect(kvBytesPerToken(m, 2)).toBe(70_272) // (512 + 64) · 61 · 2
    const { total, active } = paramCount(m)
    expect(within(total, 1.04e12)).toBeLessThan(0.03) // 1.026T
    expect(within(active, 32e9)).toBeLessThan(0.03) // 32.86B
  })

  it("Qwen3-235B-A22B: GQA MoE, 128 experts top-8, ~235B total / ~22B active", () => {
    const m = mustLookup("Qwen/Qwen3-235B-A22B-FP8")
    expect([m.numLayers, m.hiddenSize, m.numAttentionHeads, m.numKeyValueHeads, m.headDim, m.qkNorm]).toEqual([94, 4096, 64, 4, 128, true])
    expect([m.numExperts, m.numExpertsPerTok, m.moeIntermediateSize, m.numDenseLayers, m.maxPositionEmbeddings]).toEqual([128, 8, 1536, 0, 40960])
    expect(kvBytesPerToken(m, 2)).toBe(192_512) // 2 · 94 · 4 · 128 · 2
    const { total, active, embedding } = paramCount(m)
    expect(within(total, 235e9)).toBeLessThan(0.03) // 235.09B
    expect(within(total - embedding, 234e9)).toBeLessThan(0.01) // model card: 234B non-embedding
    expect(within(active, 22e9)).toBeLessThan(0.03) // 22.19B
  })
})
