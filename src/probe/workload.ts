// `probe --workload FILE`: send an inference-perf shared-prefix workload spec (the JSON of
// ../shared/data/serving/workloads, read by src/sim/workload/shared-prefix.ts) to a live server, request
// for request as `servesim simulate` generates it, so that a probe point and its simulation compare.
//
// - Each rate stage of the spec is one sweep point ("stage-0", ...). A point's requests are exactly
//   `sharedPrefixWorkload(spec, {seed, stages: [k], maxModelLen})`: the same arrival times (inference-perf's
//   ConstantLoadTimer, or Poisson), the same shuffled prompt order, the same lengths. The run directory
//   keeps that one-stage spec as RUN_DIR/workload/stage-k.json, which is what calibrate/validate simulate
//   for the point (with its first and only stage, from an empty cache, with the same seed).
// - Prompt text: one fixed text of random one-token words per system prompt (group), system_prompt_len
//   tokens long, sent verbatim by every request of that group so the server's prefix cache can share
//   it; then " " and the question text (question_len tokens), one per prompt (contentId). Lengths come
//   from the probe's prompt calibration (tokens ≈ overhead + perWord · words; the overhead, BOS or a chat
//   template, is charged to the question). Texts are salted with the run and the stage, so a stage
//   starts with a cold prefix cache like its simulation, and a second run on the same server does not
//   hit the first one's cache.
// - Multi turn (enable_multi_turn_chat), as inference-perf's UserSessionCompletionAPIData does it: a
//   conversation's context starts as its system prompt; a turn sends context + " " + question; after a
//   success the context becomes that prompt + " " + the text the server generated; after a failure it
//   stays. A turn waits for its conversation's previous turn to finish (inference-perf serialises a
//   session's rounds), so its send time may be later than its scheduled arrival (intendedAt). A new
//   conversation (the generator restarts one that would outgrow max_model_len) starts from the system
//   prompt with a fresh question. Generated text is kept in multi-turn records (responseText) so a
//   resumed run rebuilds the histories.
import { Deferred, Effect } from "effect"
import { asRunByInferencePerf, parseSharedPrefixSpec, sharedPrefixWorkload } from "../sim/workload/shared-prefix.ts"
import type { SharedPrefixSpec } from "../sim/workload/shared-prefix.ts"
import type { RateStage } from "../sim/workload/arrivals.ts"
import { makePrompt, wordCount, wordsForTokens } from "./prompt.ts"
import type { PromptModel } from "./prompt.ts"
import { pointId } from "./types.ts"
import type { RequestRecord, StagePointSpec } from "./types.ts"

/** What --workload runs (manifest.plan.workload, with the spec parsed). */
export interface WorkloadPlan {
  /** Absolute path the spec was read from (for the record; the manifest keeps the spec itself). */
  readonly file: string
  /** Indices into spec.load.stages, one point each, in order. */
  readonly stages: ReadonlyArray<number>
  /** The spec was run as inference-perf versions that ignore num_unique_system_prompts & co. did. */
  readonly inferencePerfDefaults: boolean
  /** The spec as run (after asRunByInferencePerf when inferencePerfDefaults). */
  readonly spec: SharedPrefixSpec
}

/** manifest.plan.workload */
export interface WorkloadManifest {
  readonly file: string
  readonly stages: ReadonlyArray<number>
  readonly inferencePerfDefaults: boolean
  readonly spec: { readonly [k: string]: unknown }
}

const defined = (o: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out
}

/**
 * The spec as inference-perf JSON with inference-perf's own key names (num_groups,
 * num_prompts_per_group), so that parseSharedPrefixSpec reads it back as this exact configuration and
 * asRunByInferencePerf leaves it alone. `stages` replaces load.stages.
 */
export const sharedPrefixSpecJson = (
  spec: SharedPrefixSpec,
  stages: ReadonlyArray<RateStage> = spec.load.stages,
  source: string | undefined = spec.source
): Record<string, unknown> =>
  defined({
    source,
    server: defined({
      model: spec.server.model,
      tensor_parallelism: spec.server.tensorParallelism,
      max_model_len: spec.server.maxModelLen,
      max_num_batched_tokens: spec.server.maxNumBatchedTokens,
      max_num_seqs: spec.server.maxNumSeqs
    }),
    data: {
      type: "shared_prefix",
      shared_prefix: {
        num_groups: spec.numGroups,
        num_prompts_per_group: spec.promptsPerGroup,
        system_prompt_len: spec.systemPromptLen,
        question_len: spec.questionLen,
        output_len: spec.outputLen,
        enable_multi_turn_chat: spec.multiTurn
      }
    },
    load: { type: spec.load.type, stages: stages.map((s) => ({ rate: s.rate, duration: s.duration })) },
    api: { streaming: true, type: "completion" },
    ignore_eos: true
  })

export interface StageRequest {
  /** Index within the stage (the record's index). */
  readonly index: number
  /** Scheduled send time, ms after the stage's start. */
  readonly offsetMs: number
  /** System prompt (inference-perf group). */
  readonly group: number
  /** Prompt (single turn) or conversation (multi turn) identity, as the simulator's contentId. */
  readonly contentId: number
  /** Nominal prompt tokens (system + question, plus history in multi turn). */
  readonly inputTokens: number
  readonly outputTokens: number
}

/** The requests of one stage, exactly as the simulator generates them for that stage alone. */
export const stageRequests = (
  spec: SharedPrefixSpec,
  stage: number,
  seed: string | number,
  maxModelLen?: number
): ReadonlyArray<StageRequest> => {
  const wl = sharedPrefixWorkload(spec, { seed, stages: [stage], ...(maxModelLen === undefined ? {} : { maxModelLen }) })
  const out: StageRequest[] = []
  for (let r = wl.next(); r !== undefined; r = wl.next()) {
    out.push({
      index: out.length,
      offsetMs: r.arrival * 1000,
      group: r.prefixes[0]?.id ?? 0,
      contentId: r.contentId,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens
    })
  }
  return out
}

/** Reads a spec for --workload: the stage points, or a one-line error naming the problem. */
export const workloadPlan = (
  raw: unknown,
  file: string,
  options: {
    readonly stages?: ReadonlyArray<number>
    readonly inferencePerfDefaults?: boolean
    readonly seed: string
    /** How error messages name the file (default `file`). */
    readonly name?: string
  }
): { readonly workload: WorkloadPlan; readonly points: ReadonlyArray<StagePointSpec> } | string => {
  const name = options.name ?? file
  const parsed = parseSharedPrefixSpec(raw)
  if (typeof parsed === "string") return `--workload ${name}: ${parsed}`
  const ipd = options.inferencePerfDefaults === true
  const spec = ipd ? asRunByInferencePerf(parsed) : parsed
  const n = spec.load.stages.length
  const stages = options.stages ?? spec.load.stages.map((_, i) => i)
  if (stages.length === 0) return "--stages: expected at least one stage index"
  const seen = new Set<number>()
  for (const s of stages) {
    if (!Number.isInteger(s) || s < 0 || s >= n) return `--stages: no stage ${s} (${name} has ${n}: 0..${n - 1})`
    if (seen.has(s)) return `--stages: stage ${s} is listed twice`
    seen.add(s)
  }
  const workload: WorkloadPlan = { file, stages: [...stages], inferencePerfDefaults: ipd, spec }
  const points = stagePoints(workload, options.seed)
  const empty = points.find((p) => p.numRequests === 0)
  if (empty !== undefined) {
    return `--workload ${name}: stage ${empty.stage} (rate ${empty.rate}/s for ${empty.duration} s) sends no request`
  }
  return { workload, points }
}

/** One point per selected stage; its request count is what the generator yields for it. */
export const stagePoints = (w: WorkloadPlan, seed: string): ReadonlyArray<StagePointSpec> =>
  w.stages.map((stage) => {
    const s = w.spec.load.stages[stage]!
    return {
      id: pointId({ kind: "stage", stage }),
      kind: "stage",
      stage,
      rate: s.rate,
      duration: s.duration,
      numRequests: stageRequests(w.spec, stage, seed).length
    }
  })

export const workloadToManifest = (w: WorkloadPlan): WorkloadManifest => ({
  file: w.file,
  stages: [...w.stages],
  inferencePerfDefaults: w.inferencePerfDefaults,
  spec: sharedPrefixSpecJson(w.spec)
})

export const workloadFromManifest = (m: WorkloadManifest): WorkloadPlan | string => {
  const spec = parseSharedPrefixSpec(m.spec)
  if (typeof spec === "string") return `manifest plan.workload.spec: ${spec}`
  return { file: m.file, stages: [...m.stages], inferencePerfDefaults: m.inferencePerfDefaults, spec }
}

/** The one-stage spec of a point: RUN_DIR/workload/<point>.json, what calibrate/validate simulate. */
export const stageSpecJson = (w: WorkloadPlan, point: StagePointSpec): Record<string, unknown> =>
  sharedPrefixSpecJson(
    w.spec,
    [w.spec.load.stages[point.stage]!],
    `servesim probe --workload ${w.file}${w.inferencePerfDefaults ? " --inference-perf-defaults" : ""}: stage ${point.stage}` +
      (w.spec.source === undefined ? "" : ` (${w.spec.source})`)
  )

// ---------------------------------------------------------------------------------------------
// Prompt text

export interface WorkloadWords {
  readonly system: number
  readonly question: number
}

/** Filler words for the system prompt and the question, so that together they make the nominal length. */
export const workloadWords = (model: PromptModel, spec: SharedPrefixSpec): WorkloadWords => {
  const system = Math.max(1, Math.round(spec.systemPromptLen / model.perWord))
  const total = wordsForTokens(model, spec.systemPromptLen + spec.questionLen)
  return { system, question: Math.max(1, total - system) }
}

export interface WorkloadTexts {
  /** The text of system prompt `group`, identical for every request of the group. */
  readonly system: (group: number) => string
  /** The question of prompt / conversation `contentId`. */
  readonly question: (contentId: number) => string
}

export const makeWorkloadTexts = (salt: string, words: WorkloadWords): WorkloadTexts => {
  const systems = new Map<number, string>()
  const questions = new Map<number, string>()
  return {
    system: (g) => {
      let t = systems.get(g)
      if (t === undefined) systems.set(g, (t = makePrompt(words.system, `${salt}:system:${g}`)))
      return t
    },
    question: (c) => {
      let t = questions.get(c)
      if (t === undefined) questions.set(c, (t = makePrompt(words.question, `${salt}:question:${c}`)))
      return t
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The driver of one stage point

/** A request to send (open loop: at offsetMs after the point's start). */
export interface StageTask {
  readonly index: number
  readonly warmup: false
  readonly offsetMs: number
}

export interface StageJob {
  readonly prompt: string
  readonly maxTokens: number
  readonly promptTokensRequested: number
  readonly promptWords: number
  /** Keep the generated text (multi turn: it becomes history). */
  readonly keepText: boolean
}

export interface StageDriver {
  readonly requests: ReadonlyArray<StageRequest>
  /** The requests not recorded yet, on the stage's schedule (shifted after a resume, gaps kept). */
  readonly tasks: ReadonlyArray<StageTask>
  /** The prompt of a task; in multi turn it first waits for the conversation's previous turn. */
  readonly job: (task: { readonly index: number }) => Effect.Effect<StageJob>
  /** Every sent task's record, as soon as it is known (before it is written). */
  readonly finished: (task: { readonly index: number }, record: RequestRecord) => void
}

/**
 * The remaining tasks of a stage: every request not in `done`, scheduled at its arrival; after a
 * resume, moved up so the first remaining one takes request 0's slot, keeping the gaps between them.
 */
export const remainingStageTasks = (requests: ReadonlyArray<StageRequest>, done: ReadonlySet<number>): ReadonlyArray<StageTask> => {
  const left = requests.filter((r) => !done.has(r.index))
  if (left.length === 0) return []
  const shift = left[0]!.offsetMs - requests[0]!.offsetMs
  return left.map((r) => ({ index: r.index, warmup: false, offsetMs: r.offsetMs - shift }))
}

export const makeStageDriver = (o: {
  readonly workload: WorkloadPlan
  readonly point: StagePointSpec
  readonly seed: string
  /** Salt of the texts (the run and the point). */
  readonly salt: string
  readonly model: PromptModel
  /** The server's max_model_len (multi turn restarts a conversation that would outgrow it). */
  readonly maxModelLen?: number
  /** Records of this point already on disk (resume). */
  readonly previous: ReadonlyArray<RequestRecord>
}): StageDriver => {
  const { spec } = o.workload
  const requests = stageRequests(spec, o.point.stage, o.seed, o.maxModelLen)
  const texts = makeWorkloadTexts(o.salt, workloadWords(o.model, spec))
  const measured = o.previous.filter((r) => !r.warmup && r.index < requests.length)
  const done = new Set(measured.map((r) => r.index))
  const tasks = remainingStageTasks(requests, done)

  if (!spec.multiTurn) {
    const words = workloadWords(o.model, spec)
    return {
      requests,
      tasks,
      job: (task) =>
        Effect.sync(() => {
          const r = requests[task.index]!
          return {
            prompt: `${texts.system(r.group)} ${texts.question(r.contentId)}`,
            maxTokens: r.outputTokens,
            promptTokensRequested: r.inputTokens,
            promptWords: words.system + words.question,
            keepText: false
          }
        }),
      finished: () => undefined
    }
  }

  // Multi turn. Conversation contexts, rebuilt from the records already on disk (in request order).
  const contexts = new Map<number, string>()
  const contextOf = (r: StageRequest): string => contexts.get(r.contentId) ?? texts.system(r.group)
  const advance = (r: StageRequest, prompt: string, record: Pick<RequestRecord, "ok" | "responseText">) => {
    if (record.ok && record.responseText !== undefined) contexts.set(r.contentId, `${prompt} ${record.responseText}`)
  }
  for (const rec of [...measured].sort((a, b) => a.index - b.index)) {
    const r = requests[rec.index]!
    advance(r, `${contextOf(r)} ${texts.question(r.contentId)}`, rec)
  }
  // The previous turn of each request's conversation, when it is still to be sent in this session.
  const pending = new Map<number, Deferred.Deferred<void>>()
  for (const t of tasks) pending.set(t.index, Deferred.makeUnsafe<void>())
  const previousTurn = new Map<number, number>()
  const last = new Map<number, number>()
  for (const r of requests) {
    const p = last.get(r.contentId)
    if (p !== undefined && pending.has(p)) previousTurn.set(r.index, p)
    last.set(r.contentId, r.index)
  }
  const prompts = new Map<number, string>()
  return {
    requests,
    tasks,
    job: (task) =>
      Effect.gen(function*() {
        const before = previousTurn.get(task.index)
        if (before !== undefined) yield* Deferred.await(pending.get(before)!)
        const r = requests[task.index]!
        const prompt = `${contextOf(r)} ${texts.question(r.contentId)}`
        prompts.set(task.index, prompt)
        return {
          prompt,
          maxTokens: r.outputTokens,
          promptTokensRequested: r.inputTokens,
          promptWords: wordCount(prompt),
          keepText: true
        }
      }),
    finished: (task, record) => {
      const r = requests[task.index]!
      const prompt = prompts.get(task.index)
      prompts.delete(task.index)
      if (prompt !== undefined) advance(r, prompt, record)
      const d = pending.get(task.index)
      if (d !== undefined) Deferred.doneUnsafe(d, Effect.void)
    }
  }
}
