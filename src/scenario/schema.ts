// Scenario files (JSON or YAML): what to simulate. Decoded with Effect Schema, reporting every
// problem with its field path; CLI flags are merged over the file before decoding, so a flag and a
// field are checked the same way.
import { Effect, Schema, SchemaIssue } from "effect"
import { Yaml } from "effect/encoding"
import { readFile } from "node:fs/promises"
import { dirname, isAbsolute, resolve as resolvePath } from "node:path"
import { FileError, InputError } from "./errors.ts"
import { FIELD_FLAGS } from "./flag-fields.ts"

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
  maxNumSeqs: opt(IntUpTo(10_000_000)),
  maxNumBatchedTokens: opt(IntUpTo(1_000_000_000)),
  maxModelLen: opt(IntUpTo(1_073_741_824)),
  gpuMemoryUtilization: opt(Schema.Finite.check(Schema.isBetween({ minimum: 0.05, maximum: 1 }))),
  /** At most 1e8 blocks (1.6 billion tokens at block size 16; an H200 holds ~1.5 million). */
  numGpuBlocks: opt(IntUpTo(100_000_000)),
  blockSize: opt(Schema.Literals([1, 8, 16, 32, 64, 128, 256])),
  enablePrefixCaching: opt(Schema.Boolean),
  enableChunkedPrefill: opt(Schema.Boolean),
  longPrefillTokenThreshold: opt(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 }))),
  /** vLLM's --async-scheduling (default on, as in current vLLM). */
  asyncScheduling: opt(Schema.Boolean),
  /** vLLM's --kv-offloading-size: GiB of host memory for a CPU KV tier, summed over the TP ranks. */
  kvOffloadingSize: opt(Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1e6))),
})

/** One pool of a P/D deployment; gpu, tp and engine fields default to the scenario's. */
const Pool = Schema.Struct({
  replicas: IntUpTo(10_000),
  tp: opt(IntUpTo(1024)),
  gpu: opt(Schema.String),
  engine: opt(Engine),
})

const Disaggregation = Schema.Struct({
  prefill: Pool,
  decode: Pool,
  kvTransfer: opt(
    Schema.Struct({
      /** GB/s (10^9 bytes) of the link every transfer shares. */
      bandwidthGBps: opt(Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1e6))),
      /** Milliseconds added to each transfer. */
      latencyMs: opt(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThanOrEqualTo(1e6))),
      /** The vLLM KV connector (a label: the link's figures decide the timing). */
      connector: opt(Schema.Literals(["nixl", "p2p-nccl", "lmcache", "mooncake"])),
    }),
  ),
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
  warmup: opt(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000_000 }))),
  /** Input / output lengths: a token count or a length distribution. */
  input: opt(Schema.Unknown),
  output: opt(Schema.Unknown),
  /** Output lengths × this: above 1,000 every output exceeds any max_model_len. */
  oslMultiplier: opt(Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(1000))),
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
  /**
   * What the client asks the sampler for: "greedy" (temperature 0, what vllm bench serve sends),
   * "model-defaults" (no sampling parameters: vLLM applies the checkpoint's generation_config, e.g. top_p
   * 0.9 for Llama 3.1; what inference-perf sends) or "top-p" (top-p/top-k on every request). Default:
   * model-defaults with inferencePerfDefaults, else greedy.
   */
  sampling: opt(Schema.Literals(["greedy", "model-defaults", "top-p"])),
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
  /** Prefill/decode disaggregation: separate pools joined by a KV-transfer link (src/sim/disaggregated.ts). */
  disaggregation: opt(Disaggregation),
  /** Cost parameters for the economics commands; checked there. */
  cost: opt(Schema.Unknown),
  /** The grid of `servesim sweep` (lists of loads and configurations); checked there. */
  sweep: opt(Schema.Unknown),
})

export type Scenario = typeof Scenario.Type

interface Issue {
  /** Dotted field path ("workload.stages.0.rate"); "" for the whole object. */
  readonly path: string
  readonly message: string
}

const issuesOf = (error: Schema.SchemaError): Issue[] =>
  SchemaIssue.makeFormatterStandardSchemaV1()(error.issue).issues.map((i) => ({
    path: (i.path ?? []).map((p) => (typeof p === "object" && p !== null && "key" in p ? String(p.key) : String(p))).join("."),
    message: i.message,
  }))

/** Formats a Schema error as one line per problem: `path: message`. */
export const formatSchemaError = (error: Schema.SchemaError): string =>
  issuesOf(error)
    .map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`))
    .join("; ")

const parentOf = (path: string): string => (path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "")

/** The flag that set `path` or a field above it ("workload.stages.0.rate" → --stages), with that field. */
const flagAt = (path: string, flagged: ReadonlyMap<string, string>): readonly [string, string] | undefined => {
  for (let p = path; p !== ""; p = parentOf(p)) {
    const flag = flagged.get(p)
    if (flag !== undefined) return [flag, p]
  }
  return undefined
}

const valueAt = (raw: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((node, k) => (typeof node === "object" && node !== null ? (node as Record<string, unknown>)[k] : undefined), raw)

/**
 * One problem as the user wrote it: a field a flag set names the flag and the value given
 * ("--rate: Expected a value between … (got 1e-300)"), a field the flags made required names its flag
 * ("--spec-method is required with --draft-model"), anything else the file and field path.
 */
const describeIssue = (i: Issue, raw: unknown, source: string, flagged: ReadonlyMap<string, string>): string => {
  const hit = flagAt(i.path, flagged)
  if (hit !== undefined) {
    const [flag, at] = hit
    const rest = i.path.slice(at.length + 1)
    const v = valueAt(raw, i.path)
    return `${flag}${rest === "" ? "" : ` (${rest})`}: ${i.message}${typeof v === "number" || typeof v === "string" ? ` (got ${JSON.stringify(v)})` : ""}`
  }
  const own = FIELD_FLAGS.get(i.path)
  const parent = parentOf(i.path)
  const siblings = parent === "" ? [] : [...flagged].filter(([p]) => p.startsWith(`${parent}.`)).map(([, f]) => f)
  if (own !== undefined && i.message === "Missing key" && siblings.length > 0) return `${own} is required with ${siblings.join(", ")}`
  return i.path === "" ? `${source}: ${i.message}` : `${source}: ${i.path}: ${i.message}`
}

/**
 * Decodes a scenario object. `flagged` maps the fields that command-line flags set to those flags
 * (flags.ts flaggedFields), so that a bad flag value is reported as the flag, not as the file.
 */
export const decodeScenario = (raw: unknown, source: string, flagged: ReadonlyMap<string, string> = new Map()): Effect.Effect<Scenario, InputError> =>
  Schema.decodeUnknownEffect(Scenario)(raw, { errors: "all", onExcessProperty: "error" }).pipe(
    Effect.mapError((e) => new InputError({ message: issuesOf(e).map((i) => describeIssue(i, raw, source, flagged)).join("; ") })),
  )

/**
 * A resolve-time message that starts with a field a flag set ("tp: 32 attention heads …",
 * "workload.input.max: must be >= min"), with the flag named instead ("--tp: 32 attention heads …").
 */
export const withFlagNames = (message: string, flagged: ReadonlyMap<string, string>): string => {
  const m = /^([A-Za-z][\w.]*)(:| )/.exec(message)
  const field = m?.[1]
  const hit = field === undefined ? undefined : flagAt(field, flagged)
  if (field === undefined || hit === undefined) return message
  const rest = field.slice(hit[1].length + 1)
  return `${hit[0]}${rest === "" ? "" : ` (${rest})`}${message.slice(field.length)}`
}

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
