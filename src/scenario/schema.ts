// Scenario files (JSON or YAML): what to simulate. Decoded with Effect Schema, reporting every
// problem with its field path; CLI flags are merged over the file before decoding, so a flag and a
// field are checked the same way.
import { Effect, Schema, SchemaIssue } from "effect"
import { Yaml } from "effect/encoding"
import { readFile } from "node:fs/promises"
import { dirname, isAbsolute, resolve as resolvePath } from "node:path"
import { FileError, InputError } from "./errors.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThan(0))
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveNumber = Schema.Finite.check(Schema.isGreaterThan(0))
const opt = Schema.optionalKey
/** An integer in [1, max]: every count has a documented upper bound, decided before any work starts. */
const IntUpTo = (max: number) => Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: max }))
/** Requests/s: below 1e-6 (one request in 11 days) a run's simulated time is meaningless. */
const Rate = Schema.Finite.check(Schema.isBetween({ minimum: 1e-6, maximum: 1e9 }))
/** Seconds of a rate stage: at most ~3 years. */
const Duration = Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1e8))

const Engine = Schema.Struct({
  maxNumSeqs: opt(PositiveInt),
  maxNumBatchedTokens: opt(PositiveInt),
  maxModelLen: opt(PositiveInt),
  gpuMemoryUtilization: opt(Schema.Finite.check(Schema.isBetween({ minimum: 0.05, maximum: 1 }))),
  numGpuBlocks: opt(PositiveInt),
  blockSize: opt(Schema.Literals([1, 8, 16, 32, 64, 128, 256])),
  enablePrefixCaching: opt(Schema.Boolean),
  enableChunkedPrefill: opt(Schema.Boolean),
  longPrefillTokenThreshold: opt(NonNegativeInt),
  /** vLLM's --async-scheduling (default on, as in current vLLM). */
  asyncScheduling: opt(Schema.Boolean),
})

const Stage = Schema.Struct({ rate: Rate, duration: Duration })

const Workload = Schema.Struct({
  /**
   * Requests in flight (vllm bench --max-concurrency): alone, a closed loop; with rate/stages/arrival,
   * the open loop's cap (a request arriving at the cap waits for a slot, as vllm bench's semaphore does).
   */
  concurrency: opt(IntUpTo(10_000_000)),
  /** Open loop: requests/s ("inf" sends all at t = 0). */
  rate: opt(Schema.Union([Rate, Schema.Literal("inf")])),
  burstiness: opt(PositiveNumber),
  stages: opt(Schema.Array(Stage).check(Schema.isMinLength(1), Schema.isMaxLength(10_000))),
  /** A full arrival spec (kind rate | ramp | constant | stages), checked by the workload module. */
  arrival: opt(Schema.Unknown),
  numRequests: opt(IntUpTo(1_000_000_000)),
  warmup: opt(NonNegativeInt),
  /** Input / output lengths: a token count or a length distribution. */
  input: opt(Schema.Unknown),
  output: opt(Schema.Unknown),
  oslMultiplier: opt(PositiveNumber),
  prefix: opt(Schema.Struct({ numGroups: IntUpTo(1_000_000), length: IntUpTo(10_000_000) })),
  /** What-if: fraction of each prompt's tokens that is a shared (cacheable) prefix; mapped onto `prefix`. */
  prefixShare: opt(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThan(1))),
  /** Distinct shared prefixes for prefixShare (default 1). */
  prefixGroups: opt(IntUpTo(1_000_000)),
  priority: opt(Schema.Struct({ values: Schema.Array(Schema.Int).check(Schema.isMinLength(1)), weights: opt(Schema.Array(PositiveNumber)) })),
  /** A shared-prefix workload spec (inference-perf JSON, as in ../shared/data/serving/workloads). */
  file: opt(Schema.String),
  /** Rate stages of the workload spec to run (default: all). */
  fileStages: opt(Schema.Array(NonNegativeInt)),
  /** Scales the spec's prompt lengths (1.049 reproduces inference-perf's re-tokenised prompts). */
  inputScale: opt(PositiveNumber),
  /**
   * Run the spec as inference-perf versions that ignore num_unique_system_prompts & co. did: their
   * defaults, 10 system prompts × 10 single-turn questions (the runs of inference-sim-h100-poisson.csv).
   */
  inferencePerfDefaults: opt(Schema.Boolean),
  /** A request trace to replay (JSONL or CSV). */
  trace: opt(Schema.String),
  /**
   * A vllm bench dataset file (--dataset-name sharegpt|custom --dataset-path FILE): prompt lengths (and
   * ShareGPT's reply lengths) from its texts, sampled as vllm does; outputLen overrides the outputs.
   */
  dataset: opt(Schema.Struct({ name: Schema.Literals(["sharegpt", "custom"]), path: Schema.String, outputLen: opt(IntUpTo(10_000_000)) })),
})

const Goodput = Schema.Struct({ ttftMs: opt(PositiveNumber), tpotMs: opt(PositiveNumber), e2elMs: opt(PositiveNumber) })

export const Scenario = Schema.Struct({
  name: opt(Schema.String),
  description: opt(Schema.String),
  /** A built-in Hugging Face id (e.g. meta-llama/Llama-3.1-8B-Instruct) or a path to a config.json. */
  model: Schema.String,
  /** A built-in GPU id (h100-sxm, a800-sxm, …) or a path to a GPU JSON file. */
  gpu: Schema.String,
  tp: opt(IntUpTo(1024)),
  pp: opt(IntUpTo(1024)),
  ep: opt(IntUpTo(1024)),
  replicas: opt(IntUpTo(10_000)),
  /** Refuse workloads of more requests than this before simulating (default 20,000,000; ~100 B each). */
  maxRequests: opt(IntUpTo(1_000_000_000)),
  precision: opt(Schema.Literals(["bf16", "fp16", "fp8", "fp4", "int4"])),
  kvCacheDtype: opt(Schema.Literals(["auto", "fp8"])),
  engine: opt(Engine),
  workload: opt(Workload),
  /** fcfs | priority | spf, or a path to a module whose default export implements SchedulingPolicy. */
  policy: opt(Schema.String),
  router: opt(Schema.Literals(["round-robin", "least-outstanding-requests", "least-kv-usage", "prefix-affinity"])),
  seed: opt(Schema.Union([Schema.Int, Schema.String])),
  goodput: opt(Goodput),
  /** A calibrated step-time profile (from `servesim calibrate`). */
  profile: opt(Schema.String),
  /** Sample KV usage and queue lengths every this many simulated seconds (0 = off). */
  timelineInterval: opt(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
  /** What-if: speculative decoding in the step-time model (src/hw/speculative-decoding.ts). */
  speculative: opt(
    Schema.Struct({
      method: Schema.Literals(["draft", "ngram"]),
      numTokens: PositiveInt,
      acceptance: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
      draftModel: opt(Schema.String),
    }),
  ),
  /** Cost parameters for the economics commands; checked there. */
  cost: opt(Schema.Unknown),
  /** The grid of `servesim sweep` (lists of loads and configurations); checked there. */
  sweep: opt(Schema.Unknown),
})

export type Scenario = typeof Scenario.Type

/** Formats a Schema error as one line per problem: `path: message`. */
export const formatSchemaError = (error: Schema.SchemaError): string => {
  const issues = SchemaIssue.makeFormatterStandardSchemaV1()(error.issue).issues
  return issues
    .map((i) => {
      const path = (i.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? String(p.key) : String(p))).join(".")
      return path === "" ? i.message : `${path}: ${i.message}`
    })
    .join("; ")
}

export const decodeScenario = (raw: unknown, source: string): Effect.Effect<Scenario, InputError> =>
  Schema.decodeUnknownEffect(Scenario)(raw, { errors: "all", onExcessProperty: "error" }).pipe(
    Effect.mapError((e) => new InputError({ message: `${source}: ${formatSchemaError(e)}` })),
  )

/** Parses JSON or YAML text, keeping the parser's message (with its position). */
export const parseStructured = (text: string, path: string): Effect.Effect<unknown, InputError> =>
  Effect.try({
    try: () => (/\.ya?ml$/i.test(path) ? Yaml.parse(text) : JSON.parse(text)),
    catch: (e) => new InputError({ message: `${path}: not valid ${/\.ya?ml$/i.test(path) ? "YAML" : "JSON"}: ${e instanceof Error ? e.message : String(e)}` }),
  })

export const readText = (path: string): Effect.Effect<string, FileError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new FileError({ message: `cannot read ${path}: ${e instanceof Error && "code" in e ? String(e.code) : String(e)}` }),
  })

/** Reads a scenario file as plain data (not yet decoded), so flags can be merged over it. */
export const readScenarioFile = (path: string): Effect.Effect<Record<string, unknown>, InputError | FileError> =>
  Effect.gen(function* () {
    const raw = yield* parseStructured(yield* readText(path), path)
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return yield* new InputError({ message: `${path}: a scenario must be an object` })
    return anchorPolicyModule(raw as Record<string, unknown>, path)
  })

/**
 * A policy module named by a scenario file is relative to that file, not to the working directory
 * (a --policy flag stays relative to the working directory, like every path flag).
 */
export const anchorPolicyModule = (raw: Record<string, unknown>, scenarioPath: string): Record<string, unknown> => {
  const p = raw.policy
  if (typeof p !== "string" || !/\.(ts|js|mjs)$/.test(p) || isAbsolute(p)) return raw
  return { ...raw, policy: resolvePath(dirname(scenarioPath), p) }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Deep-merges `over` onto `base` (objects merge, everything else replaces; undefined is skipped). */
export const mergeScenario = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    const b = out[k]
    if (isPlainObject(v)) {
      const merged = mergeScenario(isPlainObject(b) ? b : {}, v)
      if (Object.keys(merged).length > 0) out[k] = merged
    } else out[k] = v
  }
  return out
}
