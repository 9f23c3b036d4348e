// Built-in model profiles, addressed by Hugging Face id, and the parser for HF config.json files.
// Pure: the built-ins are transcribed config.json fields (sources per entry) run through the same
// parser a user's config goes through, so the two cannot drift apart.

import type { ModelProfile } from "./types.ts"
import { isRecord } from "../format/json.ts"

type Json = Readonly<Record<string, unknown>>
const asArray = (v: unknown): ReadonlyArray<unknown> | undefined => (Array.isArray(v) ? (v as ReadonlyArray<unknown>) : undefined)

class ConfigError extends Error {}

// MXFP4: 4-bit E2M1 values plus one 8-bit E8M0 scale per 32 (OCP MX spec) = 4.25 bits.
const MXFP4_BYTES = 4.25 / 8

/**
 * The largest value each integer architecture field may take. Ten to a hundred times the largest
 * published models (Llama-3.1-405B: 126 layers, hidden 16384, 128 heads, intermediate 53248; Gemma 3:
 * vocabulary 262,144; Kimi-K2: 384 experts; Llama 4 Scout: 10M positions): beyond these a config is a
 * typo, and 1e15 layers would hang the per-layer loops.
 */
export const MODEL_FIELD_MAX = {
  num_hidden_layers: 4096,
  hidden_size: 262_144,
  num_attention_heads: 4096,
  num_key_value_heads: 4096,
  head_dim: 4096,
  vocab_size: 4_194_304,
  max_position_embeddings: 1_073_741_824,
  intermediate_size: 1_048_576,
  ffn_dim: 1_048_576,
  moe_intermediate_size: 1_048_576,
  shared_expert_intermediate_size: 1_048_576,
  intermediate_size_mlp: 1_048_576,
  interleave_moe_layer_step: 4096,
  num_local_experts: 65_536,
  num_experts: 65_536,
  n_routed_experts: 65_536,
  n_shared_experts: 65_536,
  num_experts_per_tok: 65_536,
  experts_per_token: 65_536,
  kv_lora_rank: 65_536,
  q_lora_rank: 65_536,
  qk_nope_head_dim: 4096,
  qk_rope_head_dim: 4096,
  v_head_dim: 4096,
  first_k_dense_replace: 4096,
  decoder_sparse_step: 4096,
  max_window_layers: 4096,
  sliding_window: 1_073_741_824,
} as const

type ModelIntField = keyof typeof MODEL_FIELD_MAX
const maxOfField = (field: ModelIntField): number => MODEL_FIELD_MAX[field]

/**
 * A ModelProfile from a Hugging Face config.json object. Handles dense Llama/Qwen/Mistral, GQA, MoE
 * (Mixtral num_local_experts, Qwen3-MoE num_experts/moe_intermediate_size/mlp_only_layers, DeepSeek
 * n_routed_experts/n_shared_experts/first_k_dense_replace, gpt-oss, Llama-4 interleave_moe_layer_step
 * and intermediate_size_mlp), MLA (kv_lora_rank + qk_rope_head_dim), sliding windows (layer_types,
 * use_sliding_window/max_window_layers, Mistral-style sliding_window on every layer), OPT (ffn_dim, fc1/fc2, LayerNorm, learned positions), and a nested
 * text_config. Returns a one-line error naming the missing or invalid field on failure.
 * max_position_embeddings is taken as written (rope_scaling factors are not applied); OPT-350m's
 * word_embed_proj_dim projections are not counted.
 */
export const modelFromHfConfig = (config: unknown, id: string): ModelProfile | string => {
  try {
    return parse(config, id)
  } catch (e) {
    if (e instanceof ConfigError) return e.message
    throw e
  }
}

const parse = (config: unknown, id: string): ModelProfile => {
  const where = `hf config for "${id}"`
  if (!isRecord(config)) throw new ConfigError(`${where}: expected a JSON object`)
  // Multimodal wrappers keep the language model under text_config.
  const c: Json = isRecord(config["text_config"]) ? { ...config, ...config["text_config"] } : config

  const fail = (field: string, expected: string): never => {
    const got = c[field]
    const shown = got === undefined ? "missing" : `got ${JSON.stringify(got)}`
    throw new ConfigError(`${where}: field "${field}" must be ${expected} (${shown})`)
  }
  const isPosInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0
  const upTo = (field: ModelIntField): string => `≤ ${maxOfField(field).toLocaleString("en-US")}`
  const reqInt = (field: ModelIntField): number => {
    const v = c[field]
    return isPosInt(v) && v <= maxOfField(field) ? v : fail(field, `a positive integer ${upTo(field)}`)
  }
  /** Absent or null → undefined. */
  const optInt = (field: ModelIntField): number | undefined => {
    const v = c[field]
    if (v === undefined || v === null) return undefined
    return isPosInt(v) && v <= maxOfField(field) ? v : fail(field, `a positive integer ${upTo(field)} or null`)
  }
  const optNonNegInt = (field: ModelIntField): number | undefined => {
    const v = c[field]
    if (v === undefined || v === null) return undefined
    return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= maxOfField(field) ? v : fail(field, `an integer in [0, ${maxOfField(field).toLocaleString("en-US")}] or null`)
  }
  const optBool = (field: string): boolean | undefined => {
    const v = c[field]
    if (v === undefined || v === null) return undefined
    return typeof v === "boolean" ? v : fail(field, "a boolean")
  }

  const modelType = typeof c["model_type"] === "string" ? c["model_type"] : ""
  const isOpt = modelType === "opt"

  const hidden = reqInt("hidden_size")
  const layers = reqInt("num_hidden_layers")
  const heads = reqInt("num_attention_heads")
  const kvHeadsCfg = optInt("num_key_value_heads") ?? heads
  // Grouped-query attention shares each KV head among num_attention_heads / num_key_value_heads query
  // heads: vLLM's Attention layer asserts num_heads % num_kv_heads == 0 (vllm/attention/layer.py).
  if (c["kv_lora_rank"] === undefined && heads % kvHeadsCfg !== 0)
    fail("num_key_value_heads", `a divisor of num_attention_heads ${heads}`)
  const vocab = reqInt("vocab_size")
  const maxPos = reqInt("max_position_embeddings")
  // HF PretrainedConfig defaults tie_word_embeddings to True; Llama/Qwen/Mistral/DeepSeek configs
  // override it to False and write it out, OPT relies on the default.
  const tied = optBool("tie_word_embeddings") ?? isOpt

  // MLA (DeepSeek V2/V3): the cache holds one latent of kv_lora_rank + qk_rope_head_dim per token.
  const kvLora = optInt("kv_lora_rank")
  const mla =
    kvLora === undefined
      ? undefined
      : {
          qLoraRank: optInt("q_lora_rank") ?? 0,
          kvLoraRank: kvLora,
          qkNopeHeadDim: reqInt("qk_nope_head_dim"),
          qkRopeHeadDim: reqInt("qk_rope_head_dim"),
          vHeadDim: reqInt("v_head_dim"),
        }

  let headDim: number
  if (mla !== undefined) headDim = mla.qkNopeHeadDim + mla.qkRopeHeadDim
  else {
    const explicit = optInt("head_dim")
    if (explicit !== undefined) headDim = explicit
    else if (hidden % heads === 0) headDim = hidden / heads
    else return fail("head_dim", `given explicitly, since hidden_size ${hidden} / num_attention_heads ${heads} is not whole`)
  }

  // MoE. Each family spells the expert count differently.
  const experts = optNonNegInt("num_local_experts") ?? optNonNegInt("num_experts") ?? optNonNegInt("n_routed_experts") ?? 0
  const denseIntermediate = isOpt ? reqInt("ffn_dim") : optInt("intermediate_size")
  let intermediate: number
  let moeIntermediate = 0
  let expertsPerTok = 0
  let sharedExperts = 0
  let denseLayers = 0
  if (experts > 0) {
    expertsPerTok = optInt("num_experts_per_tok") ?? optInt("experts_per_token") ?? fail("num_experts_per_tok", "a positive integer")
    if (expertsPerTok > experts) fail("num_experts_per_tok", `at most the expert count ${experts}`)
    // Mixtral and gpt-oss give the per-expert width as intermediate_size.
    moeIntermediate = optInt("moe_intermediate_size") ?? denseIntermediate ?? fail("moe_intermediate_size", "a positive integer")
    intermediate = denseIntermediate ?? moeIntermediate
    sharedExperts = optNonNegInt("n_shared_experts") ?? 0
    // Qwen2-MoE: one shared expert of shared_expert_intermediate_size = that many expert-widths.
    const sharedWidth = optInt("shared_expert_intermediate_size")
    if (sharedWidth !== undefined) sharedExperts += Math.round(sharedWidth / moeIntermediate)
    denseLayers = optNonNegInt("first_k_dense_replace") ?? 0
    const mlpOnly = asArray(c["mlp_only_layers"]) ?? []
    const sparseStep = optInt("decoder_sparse_step")
    if (mlpOnly.length > 0 || (sparseStep !== undefined && sparseStep > 1)) {
      // Qwen-MoE: layer i is sparse unless listed in mlp_only_layers or (i+1) % step != 0.
      const only = new Set<unknown>(mlpOnly)
      const step = sparseStep ?? 1
      let dense = 0
      for (let i = 0; i < layers; i++) if (only.has(i) || (i + 1) % step !== 0) dense++
      denseLayers = Math.max(denseLayers, dense)
    }
    // Llama-4: layer i is MoE when (i + 1) % interleave_moe_layer_step == 0, the others dense MLPs of
    // intermediate_size_mlp (vllm/model_executor/models/llama4.py Llama4DecoderLayer): Maverick's step 2
    // halves the MoE layers, Scout's step 1 makes every layer MoE.
    const interleave = optInt("interleave_moe_layer_step")
    if (interleave !== undefined && interleave > 1) {
      denseLayers = Math.max(denseLayers, layers - Math.floor(layers / interleave))
      intermediate = optInt("intermediate_size_mlp") ?? intermediate
    }
    if (denseLayers > layers) fail("first_k_dense_replace", `at most num_hidden_layers ${layers}`)
  } else {
    intermediate = denseIntermediate ?? fail("intermediate_size", "a positive integer")
  }

  // Sliding-window attention.
  let slidingWindow = 0
  let slidingLayers = 0
  const layerTypes = asArray(c["layer_types"])
  const window = optInt("sliding_window")
  if (layerTypes !== undefined) {
    if (layerTypes.length !== layers) fail("layer_types", `a list of num_hidden_layers (${layers}) entries`)
    slidingLayers = layerTypes.filter((t) => t === "sliding_attention").length
    if (slidingLayers > 0) slidingWindow = window ?? fail("sliding_window", "a positive integer when layer_types has sliding_attention")
  } else if (window !== undefined) {
    const use = optBool("use_sliding_window")
    if (use === undefined) {
      // Mistral style: a window with no switch applies to every layer.
      slidingWindow = window
      slidingLayers = layers
    } else if (use) {
      // Qwen2/Qwen3: layers from max_window_layers on use the window (HF Qwen2Config.layer_types).
      const from = optNonNegInt("max_window_layers") ?? 0
      slidingLayers = Math.max(0, layers - from)
      slidingWindow = slidingLayers > 0 ? window : 0
    }
  }

  // Biases and norms, for exact parameter counts.
  let attentionBias: "qkv" | "qkvo" | undefined
  if (isOpt) attentionBias = (optBool("enable_bias") ?? true) ? "qkvo" : undefined
  else if (modelType === "qwen2" || modelType === "qwen2_moe") attentionBias = "qkv" // HF Qwen2 q/k/v bias=True, o no bias
  else if (optBool("attention_bias") === true) attentionBias = "qkvo" // Llama/gpt-oss: bias on q, k, v and o
  const quant = c["quantization_config"]
  const mxfp4 = isRecord(quant) && quant["quant_method"] === "mxfp4"
  const perChannel = experts > 0 && perChannelFp8Weights(quant)

  const profile: ModelProfile = {
    id,
    numLayers: layers,
    hiddenSize: hidden,
    numAttentionHeads: heads,
    numKeyValueHeads: kvHeadsCfg,
    headDim,
    intermediateSize: intermediate,
    vocabSize: vocab,
    tieWordEmbeddings: tied,
    numExperts: experts,
    numExpertsPerTok: expertsPerTok,
    moeIntermediateSize: moeIntermediate,
    numSharedExperts: sharedExperts,
    numDenseLayers: experts > 0 ? denseLayers : 0,
    mlaKvDim: mla === undefined ? 0 : mla.kvLoraRank + mla.qkRopeHeadDim,
    slidingWindow,
    numSlidingLayers: slidingLayers,
    maxPositionEmbeddings: maxPos,
    ...(isOpt
      ? {
          mlpGated: false,
          mlpBias: optBool("enable_bias") ?? true,
          layerNormBias: true,
          learnedPositionEmbeddings: maxPos + 2, // OPTLearnedPositionalEmbedding offset 2
        }
      : {}),
    ...(!isOpt && optBool("mlp_bias") === true ? { mlpBias: true } : {}), // Llama mlp_bias
    ...(attentionBias === undefined ? {} : { attentionBias }),
    ...(modelType === "qwen3" || modelType === "qwen3_moe" ? { qkNorm: true } : {}),
    ...(mla === undefined ? {} : { mla }),
    // gpt-oss's MXFP4 covers the MoE weights only (quantization_config modules_to_not_convert: attention, router, embeddings).
    ...(mxfp4 && experts > 0 ? { expertBytesPerWeight: MXFP4_BYTES, quantizedExpertsOnly: true } : {}),
    ...(perChannel ? { expertScalesPerChannel: true } : {}),
  }
  return profile
}

/**
 * A compressed-tensors checkpoint whose every weight group is 8-bit float with one scale per output
 * channel (or per tensor) and no block structure (RedHatAI's FP8-dynamic checkpoints), as opposed to
 * block-fp8 (`weight_block_size`), MXFP4 or INT4 group scales.
 */
const perChannelFp8Weights = (quant: unknown): boolean => {
  if (!isRecord(quant) || quant["quant_method"] !== "compressed-tensors" || !isRecord(quant["config_groups"])) return false
  const groups = Object.values(quant["config_groups"])
  return (
    groups.length > 0 &&
    groups.every((g) => {
      const w = isRecord(g) ? g["weights"] : undefined
      if (!isRecord(w)) return false
      const strategy = w["strategy"]
      return w["num_bits"] === 8 && w["type"] === "float" && (strategy === "channel" || strategy === "tensor") && (w["block_structure"] ?? null) === null && (w["group_size"] ?? null) === null
    })
  )
}

// ---------------------------------------------------------------------------------------------
// Built-in table: config.json fields transcribed from the cited copies.

interface BuiltinEntry {
  /** Hugging Face ids served by this architecture; the first is canonical. */
  readonly ids: ReadonlyArray<string>
  /** Extra bare names (facts/models.json ids etc.). */
  readonly aliases: ReadonlyArray<string>
  readonly config: Json
  /** What the checkpoint's quantization_config says when the transcription leaves it out. */
  readonly checkpoint?: Pick<ModelProfile, "expertBytesPerWeight" | "quantizedExpertsOnly">
}

const llama = (o: Json): Json => ({ model_type: "llama", tie_word_embeddings: false, ...o })
const qwen2 = (o: Json): Json => ({ model_type: "qwen2", tie_word_embeddings: false, use_sliding_window: false, ...o })
const qwen3 = (o: Json): Json => ({ model_type: "qwen3", tie_word_embeddings: false, head_dim: 128, use_sliding_window: false, ...o })

const QWEN3_30B_A3B: Json = {
  // volcengine/verl tests/utils/test_flops_counter.py @013146cf (Qwen3-30B-A3B-Base)
  model_type: "qwen3_moe",
  hidden_size: 2048,
  num_hidden_layers: 48,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  head_dim: 128,
  intermediate_size: 6144, // unused: every layer is MoE (mlp_only_layers = [])
  moe_intermediate_size: 768,
  num_experts: 128,
  num_experts_per_tok: 8,
  decoder_sparse_step: 1,
  mlp_only_layers: [],
  vocab_size: 151936,
  max_position_embeddings: 40960,
  tie_word_embeddings: false,
  use_sliding_window: false,
}

const QWEN3_235B_A22B: Json = {
  // Qwen/Qwen3-235B-A22B config.json (transformers 4.51.0) as transcribed in a public litellm_config.py;
  // the HF model card (Qwen/Qwen3-235B-A22B-FP8, mirrored at
  // hf-p-cfw.fyan.top) agrees: 94 layers, 64 Q / 4 KV heads, 128 experts, 8 active, 235B total / 22B
  // active, 234B non-embedding.
  model_type: "qwen3_moe",
  hidden_size: 4096,
  num_hidden_layers: 94,
  num_attention_heads: 64,
  num_key_value_heads: 4,
  head_dim: 128,
  intermediate_size: 12288, // unused: every layer is MoE (mlp_only_layers = [])
  moe_intermediate_size: 1536,
  num_experts: 128,
  num_experts_per_tok: 8,
  decoder_sparse_step: 1,
  mlp_only_layers: [],
  vocab_size: 151936,
  max_position_embeddings: 40960,
  tie_word_embeddings: false,
  use_sliding_window: false,
  sliding_window: null,
}

const MINIMAX_M2: Json = {
  // MiniMaxAI/MiniMax-M2.5 config.json: the "exact pinned MiniMax-M2.5 profile" of a public Rust
  // checkpoint loader; the same shape is in the M2.1 config copy at
  // huggingface.co/QuixiAI/MiniMax-M2.1-bf16/blob/main/config.json and in
  // huggingface.co/tiny-random/minimax-m2.5 (max_position_embeddings 196608, vocab 200064). NVIDIA
  // Megatron-Bridge docs (docs.nvidia.com/nemo/megatron-bridge/nightly/models/minimax/minimax-m2.html):
  // M2.5 is the same MiniMaxM2ForCausalLM architecture as M2. GQA MoE, every layer MoE
  // (attn_type_list all 1 = full attention), no shared expert (shared_intermediate_size 0),
  // intermediate_size is the per-expert width (Mixtral style). Left out: the 3 MTP modules
  // (num_mtp_modules, not loaded without speculative decoding), the full-width q/k RMSNorm
  // (use_qk_norm, qk_norm_type "per_layer": 48·128 + 8·128 weights per layer, 0.0002% of the total; the
  // profile's qkNorm flag means Qwen3's per-head norm), the routing-bias vector, and the FP8
  // quantization_config (block [128, 128]); the serving precision comes from the measurement row.
  model_type: "minimax_m2",
  hidden_size: 3072,
  intermediate_size: 1536,
  num_hidden_layers: 62,
  num_attention_heads: 48,
  num_key_value_heads: 8,
  head_dim: 128,
  num_local_experts: 256,
  num_experts_per_tok: 8,
  vocab_size: 200064,
  max_position_embeddings: 196608,
  tie_word_embeddings: false,
  sliding_window: null,
}

const KIMI_K2_5: Json = {
  // moonshotai/Kimi-K2.5 config.json (KimiK25ForConditionalGeneration). Only text_config is modelled: the
  // MoonViT vision tower and its projector only run on image/video inputs and are irrelevant to text
  // serving. text_config is DeepSeek-V3 architecture (DeepseekV3ForCausalLM, model_type kimi_k2): MLA,
  // 384 routed + 1 shared expert, top-8, first_k_dense_replace 1, 64 heads. Values from two public
  // transcriptions of the config (a Swift test fixture and a Python fixture) that agree field by field, and the Kimi-K2 text model at
  // huggingface.co/Edithai/aura-v1/blob/main/config.json (kimi_k2, 262144 positions). Not confirmed from
  // the moonshotai repository itself (not in the stored index). Left out: quantization_config (the
  // release ships routed experts as compressed-tensors INT4, group 32, with attention, shared experts and
  // lm_head in bf16); the serving precision comes from the measurement row. num_nextn_predict_layers 0.
  model_type: "kimi_k25",
  tie_word_embeddings: false,
  text_config: {
    model_type: "kimi_k2",
    tie_word_embeddings: false,
    hidden_size: 7168,
    intermediate_size: 18432,
    moe_intermediate_size: 2048,
    num_hidden_layers: 61,
    num_attention_heads: 64,
    num_key_value_heads: 64,
    n_routed_experts: 384,
    n_shared_experts: 1,
    num_experts_per_tok: 8,
    first_k_dense_replace: 1,
    q_lora_rank: 1536,
    kv_lora_rank: 512,
    qk_nope_head_dim: 128,
    qk_rope_head_dim: 64,
    v_head_dim: 128,
    vocab_size: 163840,
    max_position_embeddings: 262144,
  },
}

const BUILTINS: ReadonlyArray<BuiltinEntry> = [
  {
    ids: ["meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-chat-hf"],
    aliases: ["llama-2-7b"],
    // ../shared/data/models/hf-configs/Llama-2-7b-hf/config.json (MHA: 32 KV heads)
    config: llama({ hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32, vocab_size: 32000, max_position_embeddings: 4096 }),
  },
  {
    ids: ["meta-llama/Llama-2-70b-hf", "meta-llama/Llama-2-70b-chat-hf"],
    aliases: ["llama-2-70b"],
    // hf-configs/Llama-2-70b-hf/config.json
    config: llama({ hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 4096 }),
  },
  {
    ids: ["codellama/CodeLlama-34b-Instruct-hf", "codellama/CodeLlama-34b-hf"],
    aliases: ["codellama-34b"],
    // hf-configs/CodeLlama-34b-Instruct-hf/config.json
    config: llama({ hidden_size: 8192, intermediate_size: 22016, num_hidden_layers: 48, num_attention_heads: 64, num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 16384 }),
  },
  {
    ids: ["meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B-Instruct", "nvidia/Llama-3.1-8B-Instruct-FP8"],
    aliases: ["llama-3.1-8b", "llama3.1-8b"],
    // facts/models.json llama-3.1-8b (HF config; Epoch notebook @589a102 cross-check). nvidia/…-FP8 is
    // NVIDIA's ModelOpt FP8 checkpoint of Llama-3.1-8B-Instruct: same architecture, fp8 weights (the
    // precision comes from the serving config, not from this profile).
    config: llama({ hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072 }),
  },
  {
    ids: ["meta-llama/Llama-3.1-70B", "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Meta-Llama-3.1-70B", "meta-llama/Meta-Llama-3.1-70B-Instruct"],
    aliases: ["llama-3.1-70b", "llama3.1-70b"],
    // facts/models.json llama-3.1-70b
    config: llama({ hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072 }),
  },
  {
    // The 7B-class model for the 2 × A800 paper scenario.
    ids: ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B"],
    aliases: ["qwen2.5-7b"],
    // facts/models.json qwen2.5-7b (verl test_flops_counter @013146cf). Instruct config: 32768 positions;
    // the base config lists 131072 (not re-verified), so vLLM's default max_model_len differs for base.
    config: qwen2({ hidden_size: 3584, intermediate_size: 18944, num_hidden_layers: 28, num_attention_heads: 28, num_key_value_heads: 4, vocab_size: 152064, max_position_embeddings: 32768, sliding_window: 131072, max_window_layers: 28 }),
  },
  {
    ids: ["Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-14B"],
    aliases: ["qwen2.5-14b"],
    // facts/models.json qwen2.5-14b
    config: qwen2({ hidden_size: 5120, intermediate_size: 13824, num_hidden_layers: 48, num_attention_heads: 40, num_key_value_heads: 8, vocab_size: 152064, max_position_embeddings: 32768 }),
  },
  {
    ids: ["Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-32B"],
    aliases: ["qwen2.5-32b"],
    // facts/models.json qwen2.5-32b
    config: qwen2({ hidden_size: 5120, intermediate_size: 27648, num_hidden_layers: 64, num_attention_heads: 40, num_key_value_heads: 8, vocab_size: 152064, max_position_embeddings: 32768 }),
  },
  {
    ids: ["Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-72B"],
    aliases: ["qwen2.5-72b"],
    // facts/models.json qwen2.5-72b
    config: qwen2({ hidden_size: 8192, intermediate_size: 29568, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, vocab_size: 152064, max_position_embeddings: 32768 }),
  },
  {
    ids: ["Qwen/Qwen3-8B"],
    aliases: ["qwen3-8b"],
    // facts/models.json qwen3-8b
    config: qwen3({ hidden_size: 4096, intermediate_size: 12288, num_hidden_layers: 36, num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 151936, max_position_embeddings: 40960 }),
  },
  {
    ids: ["Qwen/Qwen3-14B"],
    aliases: ["qwen3-14b"],
    // Qwen/Qwen3-14B config.json as published on the Hub ( 5120, 17408, 40 layers, 40/8 heads, head_dim 128, 151936, 40960)
    config: qwen3({ hidden_size: 5120, intermediate_size: 17408, num_hidden_layers: 40, num_attention_heads: 40, num_key_value_heads: 8, vocab_size: 151936, max_position_embeddings: 40960 }),
  },
  {
    ids: ["Qwen/Qwen3-32B"],
    aliases: ["qwen3-32b"],
    // facts/models.json qwen3-32b
    config: qwen3({ hidden_size: 5120, intermediate_size: 25600, num_hidden_layers: 64, num_attention_heads: 64, num_key_value_heads: 8, vocab_size: 151936, max_position_embeddings: 40960 }),
  },
  {
    ids: ["Qwen/Qwen3-30B-A3B", "Qwen/Qwen3-30B-A3B-Base"],
    aliases: ["qwen3-30b-a3b"],
    config: QWEN3_30B_A3B,
  },
  {
    ids: ["Qwen/Qwen3-30B-A3B-Instruct-2507", "Qwen/Qwen3-30B-A3B-Thinking-2507"],
    aliases: ["qwen3-30b-a3b-2507"],
    // Same architecture; 262144 positions (LLMServingSim RTXPRO6000 meta.json @0acc21b: max_model_len 262144).
    config: { ...QWEN3_30B_A3B, max_position_embeddings: 262144 },
  },
  {
    ids: ["mistralai/Mistral-Small-24B-Instruct-2501", "mistralai/Mistral-Small-24B-Base-2501"],
    aliases: ["mistral-small-24b-2501", "mistral-small-24b"],
    // facts/models.json mistral-small-24b-2501 (explicit head_dim 128 ≠ 5120/32)
    config: { model_type: "mistral", tie_word_embeddings: false, hidden_size: 5120, intermediate_size: 32768, num_hidden_layers: 40, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 128, vocab_size: 131072, max_position_embeddings: 32768, sliding_window: null },
  },
  {
    ids: ["mistralai/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x7B-Instruct-v0.1"],
    aliases: ["mixtral-8x7b"],
    // hf-configs/Mixtral-8x7B-v0.1/config.json
    config: { model_type: "mixtral", tie_word_embeddings: false, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, num_local_experts: 8, num_experts_per_tok: 2, vocab_size: 32000, max_position_embeddings: 32768, sliding_window: null },
  },
  {
    ids: ["openai/gpt-oss-120b"],
    aliases: ["gpt-oss-120b"],
    // facts/models.json gpt-oss-120b: even layers slide over 128 tokens,
    // attention biases, experts in MXFP4.
    config: {
      model_type: "gpt_oss",
      tie_word_embeddings: false,
      hidden_size: 2880,
      intermediate_size: 2880,
      num_hidden_layers: 36,
      num_attention_heads: 64,
      num_key_value_heads: 8,
      head_dim: 64,
      num_local_experts: 128,
      num_experts_per_tok: 4,
      vocab_size: 201088,
      max_position_embeddings: 131072,
      sliding_window: 128,
      layer_types: Array.from({ length: 36 }, (_, i) => (i % 2 === 0 ? "sliding_attention" : "full_attention")),
      attention_bias: true,
      quantization_config: { quant_method: "mxfp4" },
    },
  },
  {
    ids: ["deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-V3-0324", "deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-R1"],
    aliases: ["deepseek-v3"],
    // facts/models.json deepseek-v3 (verl test_flops_counter @013146cf, V3 architecture). The MTP layer
    // (num_nextn_predict_layers) is not loaded without speculative decoding and is left out.
    config: {
      model_type: "deepseek_v3",
      tie_word_embeddings: false,
      hidden_size: 7168,
      intermediate_size: 18432,
      moe_intermediate_size: 2048,
      num_hidden_layers: 61,
      num_attention_heads: 128,
      num_key_value_heads: 128,
      n_routed_experts: 256,
      n_shared_experts: 1,
      num_experts_per_tok: 8,
      first_k_dense_replace: 3,
      q_lora_rank: 1536,
      kv_lora_rank: 512,
      qk_nope_head_dim: 128,
      qk_rope_head_dim: 64,
      v_head_dim: 128,
      vocab_size: 129280,
      max_position_embeddings: 163840,
    },
  },
  {
    ids: ["Qwen/Qwen3-235B-A22B", "Qwen/Qwen3-235B-A22B-FP8"],
    aliases: ["qwen3-235b-a22b"],
    // -FP8 is Qwen's block-FP8 checkpoint of the same architecture; precision comes from the serving config.
    config: QWEN3_235B_A22B,
  },
  {
    ids: ["MiniMaxAI/MiniMax-M2.5", "MiniMaxAI/MiniMax-M2", "MiniMaxAI/MiniMax-M2.1"],
    aliases: ["minimax-m2.5"],
    // M2, M2.1 and M2.5 share the MiniMaxM2ForCausalLM shape and 196608 positions (see MINIMAX_M2).
    config: MINIMAX_M2,
  },
  {
    ids: ["moonshotai/Kimi-K2.5"],
    aliases: ["kimi-k2.5"],
    config: KIMI_K2_5,
    // Routed experts INT4 (compressed-tensors, group 32, a 16-bit scale per group: 0.5 + 2/32 bytes);
    // attention, shared experts and lm_head bf16 (see KIMI_K2_5).
    checkpoint: { expertBytesPerWeight: 0.5 + 2 / 32, quantizedExpertsOnly: true },
  },
  {
    ids: ["facebook/opt-125m"],
    aliases: ["opt-125m"],
    // HF OPTConfig of facebook/opt-125m (transformers' OPTConfig defaults); used by the vLLM captures.
    config: { model_type: "opt", hidden_size: 768, ffn_dim: 3072, num_hidden_layers: 12, num_attention_heads: 12, vocab_size: 50272, max_position_embeddings: 2048, word_embed_proj_dim: 768, enable_bias: true, do_layer_norm_before: true },
  },
]

const unwrap = (r: ModelProfile | string): ModelProfile => {
  if (typeof r === "string") throw new Error(`built-in model table: ${r}`)
  return r
}

/** Parsed once; profiles keyed by canonical id (the entry's first id). */
const PROFILES: ReadonlyArray<{ readonly entry: BuiltinEntry; readonly profile: ModelProfile }> = BUILTINS.map((entry) => ({
  entry,
  profile: { ...unwrap(modelFromHfConfig(entry.config, entry.ids[0] ?? "")), ...entry.checkpoint },
}))

// "-Instruct", "-hf", "-Instruct-2507", "-v0.1" style suffixes name the same architecture, and so does
// "-FP8" (a quantized checkpoint; the serving precision comes from the run, not the profile).
const SUFFIX = /-(instruct-2507|thinking-2507|instruct|chat|base|hf|it|v0\.1|v0\.2|fp8)$/

const stripSuffixes = (name: string): string => {
  let prev = ""
  let cur = name
  while (cur !== prev) {
    prev = cur
    cur = cur.replace(SUFFIX, "")
  }
  return cur
}

const lastSegment = (id: string): string => id.slice(id.lastIndexOf("/") + 1)

interface Hit {
  readonly id: string // spelling to report
  readonly profile: ModelProfile
}

const buildIndex = (): { exact: Map<string, Hit>; names: Map<string, Hit>; stripped: Map<string, Hit> } => {
  const exact = new Map<string, Hit>()
  const names = new Map<string, Hit>()
  const stripped = new Map<string, Hit>()
  for (const { entry, profile } of PROFILES) {
    const canonical = entry.ids[0] ?? profile.id
    for (const id of entry.ids) {
      const hit: Hit = { id, profile }
      exact.set(id.toLowerCase(), hit)
      names.set(lastSegment(id).toLowerCase(), hit)
    }
    for (const a of entry.aliases) names.set(a.toLowerCase(), { id: canonical, profile })
    // Stripped keys must not override an entry that owns the exact name (Qwen3-30B-A3B vs -2507).
    const key = stripSuffixes(lastSegment(canonical).toLowerCase())
    if (!stripped.has(key)) stripped.set(key, { id: canonical, profile })
  }
  return { exact, names, stripped }
}

const INDEX = buildIndex()

/**
 * A built-in model by Hugging Face id, case-insensitive: "meta-llama/Llama-3.1-8B-Instruct",
 * "Qwen/Qwen3-30B-A3B-Instruct-2507", a bare name ("llama-3.1-8b") or a suffixed variant of a known
 * architecture ("mistralai/Mixtral-8x7B-Instruct-v0.1"). The profile's id is the matched HF id.
 */
export const lookupModel = (id: string): ModelProfile | undefined => {
  const key = id.trim().toLowerCase()
  const name = lastSegment(key)
  const hit = INDEX.exact.get(key) ?? INDEX.names.get(name) ?? INDEX.names.get(stripSuffixes(name)) ?? INDEX.stripped.get(stripSuffixes(name))
  if (hit === undefined) return undefined
  return hit.id === hit.profile.id ? hit.profile : { ...hit.profile, id: hit.id }
}

/** One Hugging Face id per built-in architecture (its first, canonical id), for error messages. */
export const builtinModelNames = (): string[] => BUILTINS.map((e) => e.ids[0]).filter((id): id is string => id !== undefined)

/** Every Hugging Face id the built-in table lists (variants included). */
export const builtinModelIds = (): string[] => BUILTINS.flatMap((e) => [...e.ids])

// ---- Sampling defaults (generation_config.json) ----

/**
 * The sampling a checkpoint's generation_config.json asks for: top_p < 1 or top_k > 0 turn on vLLM's
 * top-k/top-p filter, repetition_penalty ≠ 1 its penalties (absent = 1, no penalty).
 */
export interface SamplingDefaults {
  readonly topP: number
  readonly topK: number
  readonly repetitionPenalty?: number
}

// generation_config.json of the checkpoints as published on the Hugging Face Hub. vLLM applies them to
// every request that does not set its own sampling parameters (--generation-config auto, the default
// since vLLM 0.7; vllm/config/model.py get_diff_sampling_param reads repetition_penalty, temperature,
// top_k, top_p, min_p, max_new_tokens). Checkpoints absent here set no filter and no penalty.
const SAMPLING_DEFAULTS: ReadonlyArray<{ readonly ids: ReadonlyArray<string>; readonly defaults: SamplingDefaults }> = [
  // Qwen2.5 Instruct: temperature 0.7, top_p 0.8, top_k 20, repetition_penalty 1.05.
  { ids: ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-14B-Instruct", "Qwen/Qwen2.5-32B-Instruct", "Qwen/Qwen2.5-72B-Instruct"], defaults: { topP: 0.8, topK: 20, repetitionPenalty: 1.05 } },
  // Qwen3 (thinking mode defaults): temperature 0.6, top_p 0.95, top_k 20; no repetition_penalty.
  { ids: ["Qwen/Qwen3-8B", "Qwen/Qwen3-14B", "Qwen/Qwen3-32B"], defaults: { topP: 0.95, topK: 20 } },
  // Meta Llama 3.1 and Llama 2 checkpoints: temperature 0.6, top_p 0.9.
  {
    ids: [
      "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Meta-Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B-Instruct",
      "meta-llama/Llama-3.1-70B", "meta-llama/Llama-3.1-70B-Instruct", "meta-llama/Meta-Llama-3.1-70B", "meta-llama/Meta-Llama-3.1-70B-Instruct",
      "meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-chat-hf", "meta-llama/Llama-2-70b-hf", "meta-llama/Llama-2-70b-chat-hf",
    ],
    defaults: { topP: 0.9, topK: 0 },
  },
]

/** The sampling defaults of a checkpoint by Hugging Face id (case-insensitive), when its generation_config.json sets any. */
export const samplingDefaults = (id: string): SamplingDefaults | undefined => {
  const key = id.trim().toLowerCase()
  return SAMPLING_DEFAULTS.find((e) => e.ids.some((i) => i.toLowerCase() === key))?.defaults
}

/** Whether sampling with these parameters runs vLLM's top-k/top-p filter (vllm/v1/worker/gpu_input_batch.py: top_p < 1, 0 < top_k < vocab). */
export const usesTopKTopP = (d: SamplingDefaults | undefined): boolean => d !== undefined && (d.topP < 1 || d.topK > 0)

/** Whether sampling with these parameters runs vLLM's penalties (vllm/v1/worker/gpu_input_batch.py add_request: repetition_penalty ≠ 1). */
export const usesPenalties = (d: SamplingDefaults | undefined): boolean => d !== undefined && d.repetitionPenalty !== undefined && d.repetitionPenalty !== 1
