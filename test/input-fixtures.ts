// Valid inputs that the input-checking tests corrupt one field at a time: Llama-3.1-8B's config.json
// fields, a small vllm bench result, and a profile of roofline coefficients.
import { unitCoefficients } from "../src/hw/physics-step-time.ts"
import { PROFILE_KIND } from "../src/scenario/profile.ts"

export const llama8bConfig = {
  model_type: "llama",
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 14336,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  tie_word_embeddings: false,
}

export const benchResult = {
  model_id: "meta-llama/Llama-3.1-8B-Instruct",
  completed: 10,
  num_prompts: 10,
  max_concurrency: 4,
  total_input_tokens: 2560,
  total_output_tokens: 1280,
  mean_ttft_ms: 30,
  mean_tpot_ms: 5,
  duration: 2,
}

/** A profile file's object with these coefficients and overheads over the roofline's. */
export const profileWith = (coefficients: Record<string, number>, overheads: Record<string, number> = {}) => ({
  kind: PROFILE_KIND,
  version: 1,
  model: "meta-llama/Llama-3.1-8B-Instruct",
  gpu: "h100-sxm",
  tp: 1,
  pp: 1,
  precision: "bf16",
  coefficients: { ...unitCoefficients, ...coefficients },
  overheads: { ingressBase: 0, ingressPerInputToken: 0, perOutputToken: 0, completion: 0, ...overheads },
})
