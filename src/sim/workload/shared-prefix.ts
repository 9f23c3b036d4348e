// inference-perf's shared_prefix workload (kubernetes-sigs/inference-perf,
// inference_perf/datagen/shared_prefix_datagen.py and apis/user_session.py), read from the workload
// spec JSON of ../shared/data/serving/workloads/*.json.
//
// The generator's model, as inference-perf builds it:
// - num_groups system prompts of system_prompt_len random tokens; per group num_prompts_per_group
//   questions of question_len random tokens; output_len is max_tokens (ignore_eos, so exact).
// - Single turn (default): prompt = system prompt + " " + question; the G·U prompts are shuffled once
//   and request i sends prompt i mod G·U, so every prompt recurs every G·U requests. Here: prefix
//   {id: group, length: system_prompt_len} and contentId = prompt index, so a recurrence hits the whole
//   prompt in the prefix cache, and prompts of one group share the system prompt's blocks.
// - Multi turn (enable_multi_turn_chat): one user session per (group, question), sessions shuffled;
//   request i goes to session i mod G·U as round i div G·U. A session's context starts as its system
//   prompt and after each turn becomes prompt + " " + response, so turn k's prompt is
//   system + (k+1)·question + k·output tokens: history accumulates. Here: contentId = the session, so
//   turn k+1 reuses turn k's prompt and output blocks. inference-perf also serialises a session's turns
//   (turn k+1 waits for turn k's response); an open loop cannot, which matters only when a session's
//   turns are closer together than a request's latency.
//
// What the measured runs (../shared/data/serving/inference-sim-h100-poisson.csv) actually ran: their
// profiles say num_unique_system_prompts / num_users_per_system_prompt / enable_multi_turn_chat, names
// the inference-perf version used does not have. Its own config dump (inference-sim/training
// default_args/<run>/results/config.yaml @c4f0340) shows num_groups: 10, num_prompts_per_group: 10 and no
// multi-turn flag — pydantic dropped the unknown keys and the defaults ran, single turn. The measured
// prompt lengths agree: codegen's prompt_len is 580–604 (mean 591.63) for 100 + 466 = 566 nominal, so
// no history accumulated; the ~4.9% excess is re-tokenising decoded random tokens. Use
// `asRunByInferencePerf` to get that configuration and INFERENCE_PERF_RETOKENIZE_SCALE for the excess.
import { parseStages, type ArrivalSpec, type RateStage } from "./arrivals.ts"
import { arrivalStream } from "./arrivals.ts"
import { makeRng, shuffledIndices, STREAMS } from "./random.ts"
import type { CountedOpenLoopWorkload } from "./synthetic.ts"
import type { SharedPrefix } from "../types.ts"
import { isRecord } from "../../format/json.ts"

export interface SharedPrefixSpec {
  /** Distinct system prompts (inference-perf num_groups). */
  readonly numGroups: number
  /** Questions (single turn) or users (multi turn) per system prompt (num_prompts_per_group). */
  readonly promptsPerGroup: number
  readonly systemPromptLen: number
  readonly questionLen: number
  readonly outputLen: number
  readonly multiTurn: boolean
  readonly load: { readonly type: "constant" | "poisson"; readonly stages: ReadonlyArray<RateStage> }
  readonly server: {
    readonly model?: string
    readonly tensorParallelism?: number
    readonly maxModelLen?: number
    readonly maxNumBatchedTokens?: number
    readonly maxNumSeqs?: number
  }
  readonly ignoreEos?: boolean
  /**
   * Which names the file gives the group fields: inference-perf's own (num_groups, ...) or the
   * inference-sim profile's (num_unique_system_prompts, ...), which that inference-perf ignored.
   */
  readonly keyStyle: "inference-perf" | "inference-sim"
  readonly source?: string
}

/**
 * Measured prompt tokens / nominal (system_prompt_len + question_len) over the 9 runs of
 * inference-sim-h100-poisson.csv: 1.045–1.052, mean 1.049. Decoding random token ids to text and
 * re-tokenising the joined prompt yields more tokens than were drawn.
 */
export const INFERENCE_PERF_RETOKENIZE_SCALE = 1.049

/** inference-perf's SharedPrefix defaults (config.py), which ran when the file's keys were ignored. */
const INFERENCE_PERF_DEFAULT_GROUPS = 10
const INFERENCE_PERF_DEFAULT_PROMPTS_PER_GROUP = 10

/** The configuration inference-perf actually ran for this file (see the header comment). */
export const asRunByInferencePerf = (spec: SharedPrefixSpec): SharedPrefixSpec =>
  spec.keyStyle === "inference-perf"
    ? spec
    : { ...spec, numGroups: INFERENCE_PERF_DEFAULT_GROUPS, promptsPerGroup: INFERENCE_PERF_DEFAULT_PROMPTS_PER_GROUP, multiTurn: false }

// ---- parsing ----

const isPosInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x > 0

/** Integer that the files sometimes hold as a string ("4096"). */
const intLike = (x: unknown): number | undefined => {
  if (typeof x === "number") return Number.isInteger(x) && x > 0 ? x : undefined
  if (typeof x === "string" && /^\s*\d+\s*$/.test(x)) {
    const n = Number(x)
    return n > 0 ? n : undefined
  }
  return undefined
}

/** Parses an inference-perf workload spec; a string result is a one-line error naming the field. */
export const parseSharedPrefixSpec = (raw: unknown): SharedPrefixSpec | string => {
  if (!isRecord(raw)) return "spec: expected a JSON object"
  const data = raw["data"]
  if (!isRecord(data)) return "data: expected an object"
  if (data["type"] !== undefined && data["type"] !== "shared_prefix") return `data.type: expected "shared_prefix"`
  const sp = data["shared_prefix"]
  if (!isRecord(sp)) return "data.shared_prefix: expected an object"

  // Either naming; one style per file.
  const simStyle = sp["num_unique_system_prompts"] !== undefined || sp["num_users_per_system_prompt"] !== undefined
  const groupsKey = simStyle ? "num_unique_system_prompts" : "num_groups"
  const perGroupKey = simStyle ? "num_users_per_system_prompt" : "num_prompts_per_group"
  const field = (key: string, fallback?: number): number | string => {
    const v = sp[key]
    if (v === undefined && fallback !== undefined) return fallback
    return isPosInt(v) ? v : `data.shared_prefix.${key}: expected a positive integer`
  }
  // inference-perf defaults apply to absent keys, as its pydantic model does.
  const numGroups = field(groupsKey, INFERENCE_PERF_DEFAULT_GROUPS)
  if (typeof numGroups === "string") return numGroups
  const promptsPerGroup = field(perGroupKey, INFERENCE_PERF_DEFAULT_PROMPTS_PER_GROUP)
  if (typeof promptsPerGroup === "string") return promptsPerGroup
  const systemPromptLen = field("system_prompt_len", 100)
  if (typeof systemPromptLen === "string") return systemPromptLen
  const questionLen = field("question_len", 50)
  if (typeof questionLen === "string") return questionLen
  const outputLen = field("output_len", 50)
  if (typeof outputLen === "string") return outputLen
  const mt = sp["enable_multi_turn_chat"]
  if (mt !== undefined && typeof mt !== "boolean") return "data.shared_prefix.enable_multi_turn_chat: expected a boolean"

  const load = raw["load"]
  if (!isRecord(load)) return "load: expected an object"
  const type = load["type"] ?? "constant"
  if (type !== "constant" && type !== "poisson") return `load.type: expected "constant" or "poisson"`
  const stages = parseStages(load["stages"], "load.stages")
  if (typeof stages === "string") return stages

  const serverRaw = raw["server"] ?? {}
  if (!isRecord(serverRaw)) return "server: expected an object"
  const server: {
    model?: string
    tensorParallelism?: number
    maxModelLen?: number
    maxNumBatchedTokens?: number
    maxNumSeqs?: number
  } = {}
  const model = serverRaw["model"] ?? serverRaw["model_name"]
  if (model !== undefined) {
    if (typeof model !== "string" || model === "") return "server.model: expected a string"
    server.model = model
  }
  const serverInts: ReadonlyArray<[string, "tensorParallelism" | "maxModelLen" | "maxNumBatchedTokens" | "maxNumSeqs"]> = [
    ["tensor_parallelism", "tensorParallelism"],
    ["max_model_len", "maxModelLen"],
    ["max_num_batched_tokens", "maxNumBatchedTokens"],
    ["max_num_seqs", "maxNumSeqs"],
  ]
  for (const [key, name] of serverInts) {
    const v = serverRaw[key]
    if (v === undefined) continue
    const n = intLike(v)
    if (n === undefined) return `server.${key}: expected a positive integer`
    server[name] = n
  }
  const ignoreEos = raw["ignore_eos"] ?? serverRaw["ignore_eos"]
  if (ignoreEos !== undefined && typeof ignoreEos !== "boolean") return "ignore_eos: expected a boolean"
  const source = raw["source"]

  return {
    numGroups,
    promptsPerGroup,
    systemPromptLen,
    questionLen,
    outputLen,
    multiTurn: mt === true,
    load: { type, stages },
    server,
    ...(ignoreEos !== undefined ? { ignoreEos } : {}),
    keyStyle: simStyle ? "inference-sim" : "inference-perf",
    ...(typeof source === "string" ? { source } : {}),
  }
}

// ---- workload ----

export interface SharedPrefixOptions {
  readonly seed: string | number
  /** Caps the count (the stages decide it otherwise: trunc(rate·duration) each under load type constant). */
  readonly numRequests?: number
  /** Indices of the stages to run, back to back from t = 0 (e.g. [0]: the CSV rows cover stage 0 only). */
  readonly stages?: ReadonlyArray<number>
  /** Multiplies prompt lengths (INFERENCE_PERF_RETOKENIZE_SCALE reproduces the measured ones); default 1. */
  readonly inputScale?: number
  /**
   * Multi turn only: when a turn's prompt + output would exceed this, the session starts a fresh
   * conversation (inference-perf does not truncate; the server would reject those requests).
   */
  readonly maxModelLen?: number
}

export const sharedPrefixWorkload = (spec: SharedPrefixSpec, opts: SharedPrefixOptions): CountedOpenLoopWorkload => {
  const selected = opts.stages ?? spec.load.stages.map((_, i) => i)
  for (const s of selected)
    if (!Number.isInteger(s) || s < 0 || s >= spec.load.stages.length) throw new RangeError(`stages: no stage ${s} (spec has ${spec.load.stages.length})`)
  const arrivalSpec: ArrivalSpec = {
    kind: "stages",
    stages: selected.map((s) => spec.load.stages[s] as RateStage),
    // inference-perf's PoissonLoadTimer draws a Poisson count per second; a Poisson process is the same in law.
    timer: spec.load.type === "constant" ? "constant-load" : "poisson",
  }
  const arrivals = arrivalStream(arrivalSpec, { seed: opts.seed, ...(opts.numRequests !== undefined ? { numRequests: opts.numRequests } : {}) })

  const scale = opts.inputScale ?? 1
  if (!(scale > 0)) throw new RangeError(`inputScale must be > 0 (got ${scale})`)
  const G = spec.numGroups
  const U = spec.promptsPerGroup
  const P = G * U
  const sysTokens = Math.max(1, Math.round(spec.systemPromptLen * scale))
  const questionTokens = Math.max(1, Math.round(spec.questionLen * scale))
  const singleTurnInput = Math.max(sysTokens + 1, Math.round((spec.systemPromptLen + spec.questionLen) * scale))
  const prefixOf: SharedPrefix[] = Array.from({ length: G }, (_, id) => ({ id, length: sysTokens }))
  // The one shuffle inference-perf does (prompts, or user sessions in multi turn).
  const order = shuffledIndices(P, makeRng(opts.seed, STREAMS.prefix))
  // Multi turn: turns done in the current conversation and conversation count, per session.
  const turns = new Int32Array(P)
  const epochs = new Int32Array(P)
  const maxLen = opts.maxModelLen ?? Number.POSITIVE_INFINITY

  let i = 0
  return {
    kind: "open",
    countRequests: arrivals.count,
    stageCount: selected.length,
    next: () => {
      const a = arrivals.next()
      if (a === undefined) return undefined
      const p = order[i % P] as number
      i++
      const group = Math.floor(p / U)
      const stage = selected[a.stage] as number
      const prefixes = [prefixOf[group] as SharedPrefix]
      if (!spec.multiTurn)
        return { arrival: a.time, stage, inputTokens: singleTurnInput, outputTokens: spec.outputLen, prefixes, contentId: p, priority: 0 }
      let k = turns[p] as number
      let input = sysTokens + (k + 1) * questionTokens + k * spec.outputLen
      if (k > 0 && input + spec.outputLen > maxLen) {
        epochs[p] = (epochs[p] as number) + 1
        k = 0
        input = sysTokens + questionTokens
      }
      turns[p] = k + 1
      const contentId = (epochs[p] as number) * P + p
      return { arrival: a.time, stage, inputTokens: input, outputTokens: spec.outputLen, prefixes, contentId, priority: 0 }
    },
  }
}
