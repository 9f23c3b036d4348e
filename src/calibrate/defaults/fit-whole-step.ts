// Whole-step timings: the CPU-side step and per-request overheads of old vLLM, fitted on Splitwise and
// Argonne whole-step tables against the kernel-fitted GPU time (reported, not shipped), and a held-out
// check of the GPU terms on LLMServingSim's eager per-layer profiles.
import { lookupModel, modelFromHfConfig } from "../../hw/models.ts"
import { physicsStepTime, type StepTimeCoefficients } from "../../hw/physics-step-time.ts"
import type { BatchShape, GpuProfile, ModelProfile, Precision } from "../../hw/types.ts"
import { loadArgonne, loadLlmServingSimLayers, loadSplitwise, LLMSERVINGSIM_MODELS } from "./kernel-data.ts"
import { nnls } from "../nnls.ts"
import { gpuOf, type Collector } from "./fit-kernels.ts"

// ---- Whole-step timings ----

export const prefillBatch = (requests: number, prompt: number): BatchShape => ({
  numReqs: requests,
  numTokens: requests * prompt,
  numPrefillReqs: requests,
  prefillTokens: requests * prompt,
  numDecodeReqs: 0,
  prefillAttentionWork: (requests * prompt * (prompt + 1)) / 2,
  prefillContextTokens: requests * prompt,
  decodeContextTokens: 0,
})

export const decodeBatch = (requests: number, context: number): BatchShape => ({
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

export const wholeStepObservations = (root: string, gpuIds: ReadonlyArray<string>): StepObservation[] => {
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

export const predictObservation = (o: StepObservation, c: StepTimeCoefficients): number => {
  const st = physicsStepTime({ model: o.setup.model, gpu: o.setup.gpu, precision: o.setup.precision, kvCacheDtype: "auto", par: { tp: o.setup.tp, pp: 1, ep: 1 }, coefficients: c })
  return o.steps.reduce((s, x) => s + x.count * st.stepTime(x.batch), 0)
}

/**
 * CPU-side overheads: stepOverhead (s per step) and perRequestStepOverhead (s per scheduled request per
 * step), by NNLS on relative error of whole measurements against the kernel-fitted GPU time.
 */
export const fitOverheads = (obs: ReadonlyArray<StepObservation>, gpuOnly: StepTimeCoefficients) => {
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

export const checkLlmServingSim = (root: string, c: StepTimeCoefficients, out: Collector): void => {
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
