// The probe's crash-safe run directory.
//
//   RUN_DIR/manifest.json               plan, tool and server versions, prompt calibration, sessions (no secrets);
//                                       written before any measured request, rewritten atomically on resume
//   RUN_DIR/requests.jsonl              one RequestRecord per finished request, appended and fdatasync'd as
//                                       each finishes (warm-ups too, flagged "warmup": true)
//   RUN_DIR/metrics/<point>.jsonl       /metrics samples (ScrapeRecord) taken about once a second
//   RUN_DIR/points/<point>.summary.json the point's summary (vllm bench field names) when the point ends
//   RUN_DIR/workload/<point>.json       --workload runs: the shared-prefix spec of that one stage (what
//                                       calibrate and validate simulate for the point)
//
// A measured request is identified by (point, index); a warm-up by (point, index, session). A kill -9 can leave a half-written last
// line: readers discard it, and reopening for --resume cuts it off before appending.
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import { Effect, Schema, Scope, Semaphore } from "effect"
import { FileError, InputError } from "../scenario/errors.ts"
import type { ProbeDatasetSpec } from "./dataset.ts"
import type { RequestRecord, ScrapeRecord } from "./types.ts"

export const MANIFEST_FORMAT = "servesim-probe-run/1"

// ---------------------------------------------------------------------------------------------
// Schemas of the files (the TS interfaces in types.ts are the documented shapes)

const Usage = Schema.Struct({
  prompt_tokens: Schema.Number,
  completion_tokens: Schema.Number,
  total_tokens: Schema.optionalKey(Schema.Number),
  cached_tokens: Schema.optionalKey(Schema.Number)
})

const ErrorClassSchema = Schema.Literals([
  "connection_refused",
  "timeout",
  "http_4xx",
  "http_5xx",
  "stream_error",
  "dropped_connection",
  "bad_response"
])

export const RequestRecordSchema = Schema.Struct({
  point: Schema.String,
  index: Schema.Number,
  warmup: Schema.Boolean,
  session: Schema.Number,
  intendedAt: Schema.Number,
  sentAt: Schema.Number,
  headersMs: Schema.optionalKey(Schema.Number),
  firstChunkMs: Schema.optionalKey(Schema.Number),
  firstTokenMs: Schema.optionalKey(Schema.Number),
  lastChunkMs: Schema.optionalKey(Schema.Number),
  endMs: Schema.Number,
  chunks: Schema.Array(Schema.Tuple([Schema.Number, Schema.NullOr(Schema.Number)])),
  status: Schema.optionalKey(Schema.Number),
  ok: Schema.Boolean,
  errorClass: Schema.optionalKey(ErrorClassSchema),
  error: Schema.optionalKey(Schema.String),
  finishReason: Schema.optionalKey(Schema.NullOr(Schema.String)),
  usage: Schema.optionalKey(Usage),
  continuousUsage: Schema.Boolean,
  done: Schema.Boolean,
  promptTokensRequested: Schema.Number,
  promptWords: Schema.Number,
  maxTokens: Schema.Number,
  responseText: Schema.optionalKey(Schema.String)
})
// Compile-time check that the schema decodes to the documented record.
const _recordCheck = (r: typeof RequestRecordSchema.Type): RequestRecord => r
void _recordCheck

const PointSpecSchema = Schema.Union([
  Schema.Struct({ id: Schema.String, kind: Schema.Literal("concurrency"), concurrency: Schema.Number }),
  Schema.Struct({ id: Schema.String, kind: Schema.Literal("rate"), rate: Schema.Union([Schema.Number, Schema.Literal("inf")]) }),
  Schema.Struct({
    id: Schema.String,
    kind: Schema.Literal("stage"),
    stage: Schema.Number,
    rate: Schema.Number,
    duration: Schema.Number,
    numRequests: Schema.Number
  })
])

const LengthRangeSchema = Schema.Struct({ min: Schema.Number, max: Schema.Number })
const DatasetSpecSchema = Schema.Union([
  Schema.Struct({ name: Schema.Literal("random"), input: LengthRangeSchema, output: LengthRangeSchema, prefixLen: Schema.Number }),
  Schema.Struct({
    name: Schema.Literal("prefix_repetition"),
    prefixLen: Schema.Number,
    suffixLen: Schema.Number,
    numPrefixes: Schema.Number,
    outputLen: Schema.Number
  }),
  Schema.Struct({ name: Schema.Literals(["sharegpt", "custom"]), path: Schema.String, outputLen: Schema.optionalKey(Schema.Number), sha256: Schema.String })
])
// Compile-time check that the schema decodes to the plan's dataset spec.
const _datasetCheck = (d: typeof DatasetSpecSchema.Type): ProbeDatasetSpec => d
void _datasetCheck

export const ManifestSchema = Schema.Struct({
  format: Schema.Literal(MANIFEST_FORMAT),
  createdAt: Schema.String,
  tool: Schema.Struct({ name: Schema.String, version: Schema.String, node: Schema.String, platform: Schema.String }),
  plan: Schema.Struct({
    url: Schema.String,
    model: Schema.String,
    endpoint: Schema.Literals(["completions", "chat"]),
    mode: Schema.Literals(["concurrency", "rate", "workload"]),
    points: Schema.Array(PointSpecSchema),
    isl: Schema.Number,
    osl: Schema.Number,
    numRequests: Schema.Number,
    warmup: Schema.Number,
    timeoutS: Schema.Number,
    seed: Schema.String,
    /** Name of the environment variable holding the API key (never its value). */
    apiKeyEnv: Schema.optionalKey(Schema.String),
    /** Open loop only: cap on requests in flight (0 = none). */
    maxConcurrency: Schema.optionalKey(Schema.Number),
    /** Open loop: vllm bench's --burstiness, the gamma shape of the arrival gaps (absent: 1, Poisson). */
    burstiness: Schema.optionalKey(Schema.Number),
    /** --dataset-name and its settings (src/probe/dataset.ts ProbeDatasetSpec); absent: fixed isl/osl filler prompts. */
    dataset: Schema.optionalKey(DatasetSpecSchema),
    /**
     * --workload: the shared-prefix spec that was run. `file` is the absolute path it was read from;
     * `spec` is what was sent, in inference-perf's own key names (after --inference-perf-defaults when
     * given), with all of the file's stages; `stages` are the indices run (one point each). With mode
     * "workload", numRequests is the total over the stages run.
     */
    workload: Schema.optionalKey(Schema.Struct({
      file: Schema.String,
      stages: Schema.Array(Schema.Number),
      inferencePerfDefaults: Schema.Boolean,
      spec: Schema.Record(Schema.String, Schema.Unknown)
    }))
  }),
  prompt: Schema.Struct({
    overhead: Schema.Number,
    perWord: Schema.Number,
    words: Schema.Number,
    calibration: Schema.Array(Schema.Struct({ words: Schema.Number, tokens: Schema.Number }))
  }),
  server: Schema.Struct({
    version: Schema.optionalKey(Schema.String),
    models: Schema.Array(Schema.Struct({
      id: Schema.String,
      root: Schema.optionalKey(Schema.String),
      max_model_len: Schema.optionalKey(Schema.Number)
    })),
    maxModelLen: Schema.optionalKey(Schema.Number),
    numGpuBlocks: Schema.optionalKey(Schema.Number),
    blockSize: Schema.optionalKey(Schema.Number),
    cacheConfig: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
    /** Simulated seconds per wall second when the server is a servesim twin (its x-servesim-time-scale). */
    timeScale: Schema.optionalKey(Schema.Number),
    metricsAvailable: Schema.Boolean,
    vllmFamilies: Schema.optionalKey(Schema.Array(Schema.String))
  }),
  sessions: Schema.Array(Schema.Struct({ session: Schema.Number, startedAt: Schema.String, argv: Schema.optionalKey(Schema.String) }))
})
export type Manifest = typeof ManifestSchema.Type

const decodeRecord = Schema.decodeUnknownExit(RequestRecordSchema)
const decodeManifest = Schema.decodeUnknownExit(ManifestSchema)

// ---------------------------------------------------------------------------------------------
// Pure helpers

/** File-system-safe point id (ids are already like "concurrency-4" / "rate-2.5"). */
export const safePointName = (point: string): string => point.replace(/[^A-Za-z0-9._-]/g, "_")

/** Identity of a planned request: (point, index) for measured ones; warm-ups are re-sent per session. */
export const requestKey = (r: Pick<RequestRecord, "point" | "index" | "warmup" | "session">): string =>
  r.warmup ? `${r.point}#w${r.index}@${r.session}` : `${r.point}#${r.index}`

export interface JsonlParse<A> {
  readonly values: ReadonlyArray<A>
  /** The text did not end with a newline and its last line was dropped (a half-written append). */
  readonly discardedTail: boolean
  /** Byte length of the complete-lines prefix to keep when repairing the file. */
  readonly keepBytes: number
}

/**
 * Parses JSONL text. A last line without its newline is kept only when it parses and validates;
 * otherwise it is dropped. A bad line in the middle is an error naming the line.
 */
export const parseJsonl = <A>(text: string, validate: (u: unknown) => A | string, name: string): JsonlParse<A> | string => {
  const values: A[] = []
  const endsClean = text.length === 0 || text.endsWith("\n")
  const lines = text.split("\n")
  if (endsClean) lines.pop()
  let keepBytes = 0
  let discardedTail = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const isTail = !endsClean && i === lines.length - 1
    if (line.trim() === "") {
      if (!isTail) keepBytes += Buffer.byteLength(line, "utf8") + 1
      continue
    }
    let parsed: unknown
    let problem: string | undefined
    try {
      parsed = JSON.parse(line)
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e)
    }
    const value = problem === undefined ? validate(parsed) : problem
    if (typeof value === "string") {
      if (isTail) {
        discardedTail = true
        continue
      }
      return `${name}:${i + 1}: ${value}`
    }
    values.push(value)
    if (!isTail) keepBytes += Buffer.byteLength(line, "utf8") + 1
  }
  return { values, discardedTail, keepBytes }
}

const schemaMessage = (e: unknown): string => {
  const m = e instanceof Error ? e.message : String(e)
  return m.split("\n").slice(0, 2).join(" ").replace(/\s+/g, " ")
}

export const validateRequestRecord = (u: unknown): RequestRecord | string => {
  const exit = decodeRecord(u)
  if (exit._tag === "Success") return exit.value
  const err = exit.cause.reasons.find((r) => r._tag === "Fail")
  return `not a request record: ${err !== undefined && err._tag === "Fail" ? schemaMessage(err.error) : "invalid"}`
}

export const validateScrapeRecord = (u: unknown): ScrapeRecord | string => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return "not a scrape record"
  const o = u as { point?: unknown; at?: unknown }
  if (typeof o.point !== "string" || typeof o.at !== "number") return "not a scrape record (point, at)"
  return u as ScrapeRecord
}

export const parseManifest = (text: string, name: string): Manifest | string => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    return `${name}: ${e instanceof Error ? e.message : String(e)}`
  }
  const exit = decodeManifest(parsed)
  if (exit._tag === "Success") return exit.value
  const err = exit.cause.reasons.find((r) => r._tag === "Fail")
  return `${name}: not a servesim probe manifest: ${err !== undefined && err._tag === "Fail" ? schemaMessage(err.error) : "invalid"}`
}

export interface DedupResult {
  readonly records: ReadonlyArray<RequestRecord>
  readonly duplicates: number
}

/** Keeps the first record of each requestKey. */
export const dedupRecords = (records: ReadonlyArray<RequestRecord>): DedupResult => {
  const seen = new Set<string>()
  const out: RequestRecord[] = []
  let duplicates = 0
  for (const r of records) {
    const k = requestKey(r)
    if (seen.has(k)) {
      duplicates++
      continue
    }
    seen.add(k)
    out.push(r)
  }
  return { records: out, duplicates }
}

// ---------------------------------------------------------------------------------------------
// Effects

const fileError = (what: string) => (e: unknown) =>
  new FileError({ message: `${what}: ${e instanceof Error ? e.message : String(e)}` })

const readTextIfExists = (file: string): Effect.Effect<string | undefined, FileError> =>
  Effect.tryPromise({
    try: async () => {
      try {
        return await fsp.readFile(file, "utf8")
      } catch (e) {
        if ((e as { code?: unknown }).code === "ENOENT") return undefined
        throw e
      }
    },
    catch: fileError(`cannot read ${file}`)
  })

/** Writes JSON via a temporary file, fsync and rename: readers see the old or the new file, never half. */
export const writeJsonAtomic = (file: string, value: unknown): Effect.Effect<void, FileError> =>
  Effect.tryPromise({
    try: async () => {
      const tmp = `${file}.tmp-${process.pid}`
      const fh = await fsp.open(tmp, "w")
      try {
        await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`, "utf8")
        await fh.sync()
      } finally {
        await fh.close()
      }
      await fsp.rename(tmp, file)
    },
    catch: fileError(`cannot write ${file}`)
  }).pipe(Effect.uninterruptible)

/** Cuts a JSONL file back to its last complete line (after a kill -9), before appending to it again. */
export const repairJsonlTail = <A>(file: string, validate: (u: unknown) => A | string): Effect.Effect<boolean, FileError | InputError> =>
  Effect.gen(function*() {
    const text = yield* readTextIfExists(file)
    if (text === undefined || text === "" || text.endsWith("\n")) return false
    const parsed = parseJsonl(text, validate, file)
    if (typeof parsed === "string") return yield* new InputError({ message: parsed })
    yield* Effect.tryPromise({
      try: async () => {
        if (parsed.discardedTail) await fsp.truncate(file, parsed.keepBytes)
        else await fsp.appendFile(file, "\n") // the tail was complete but lost its newline
      },
      catch: fileError(`cannot repair ${file}`)
    })
    return parsed.discardedTail
  })

export interface JsonlAppender {
  /** Appends one line and fdatasyncs it; uninterruptible so a line is never cut by Ctrl-C. */
  readonly append: (value: unknown) => Effect.Effect<void, FileError>
}

/** Opens a file for appending for the life of the scope. Appends are serialized. */
export const openAppender = (file: string): Effect.Effect<JsonlAppender, FileError, Scope.Scope> =>
  Effect.gen(function*() {
    const fh = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => fsp.open(file, "a"), catch: fileError(`cannot open ${file}`) }),
      (h) => Effect.promise(() => h.close().catch(() => undefined))
    )
    const lock = Semaphore.makeUnsafe(1)
    const append = (value: unknown): Effect.Effect<void, FileError> =>
      lock.withPermits(1)(
        Effect.tryPromise({
          try: async () => {
            await fh.write(`${JSON.stringify(value)}\n`, null, "utf8")
            await fh.datasync()
          },
          catch: fileError(`cannot append to ${file}`)
        })
      ).pipe(Effect.uninterruptible)
    return { append }
  })

export interface RunDirWriter {
  readonly dir: string
  readonly appendRequest: (r: RequestRecord) => Effect.Effect<void, FileError>
  readonly appendScrape: (s: ScrapeRecord) => Effect.Effect<void, FileError>
  readonly writeSummary: (point: string, summary: unknown) => Effect.Effect<void, FileError>
  readonly writeManifest: (m: Manifest) => Effect.Effect<void, FileError>
  /** Writes RUN_DIR/workload/<point>.json (a --workload point's one-stage spec). */
  readonly writeStageSpec: (point: string, spec: unknown) => Effect.Effect<void, FileError>
}

export const manifestPath = (dir: string): string => path.join(dir, "manifest.json")
export const requestsPath = (dir: string): string => path.join(dir, "requests.jsonl")
export const metricsPath = (dir: string, point: string): string => path.join(dir, "metrics", `${safePointName(point)}.jsonl`)
export const summaryPath = (dir: string, point: string): string => path.join(dir, "points", `${safePointName(point)}.summary.json`)
/** A --workload point's one-stage spec (absolute when `dir` is). */
export const stageSpecPath = (dir: string, point: string): string => path.join(dir, "workload", `${safePointName(point)}.json`)

/**
 * Opens a run directory for writing. `fresh`: the directory must not hold a manifest yet (refuses to
 * overwrite a previous run); the manifest is written before anything else. `resume`: half-written tails
 * are cut off and the given manifest replaces the old one.
 */
export const openRunDirWriter = (
  dir: string,
  manifest: Manifest,
  mode: "fresh" | "resume"
): Effect.Effect<RunDirWriter, FileError | InputError, Scope.Scope> =>
  Effect.gen(function*() {
    if (mode === "fresh") {
      const existing = yield* readTextIfExists(manifestPath(dir))
      if (existing !== undefined) {
        return yield* new InputError({ message: `--out ${dir}: already holds a probe run; use --resume ${dir} or another directory` })
      }
    }
    yield* Effect.tryPromise({
      try: async () => {
        await fsp.mkdir(path.join(dir, "metrics"), { recursive: true })
        await fsp.mkdir(path.join(dir, "points"), { recursive: true })
      },
      catch: fileError(`cannot create ${dir}`)
    })
    yield* writeJsonAtomic(manifestPath(dir), manifest)
    if (mode === "resume") yield* repairJsonlTail(requestsPath(dir), validateRequestRecord)
    const requests = yield* openAppender(requestsPath(dir))
    const scrapeFiles = new Map<string, JsonlAppender>()
    const scope = yield* Effect.scope
    const appendScrape = (s: ScrapeRecord): Effect.Effect<void, FileError> =>
      Effect.gen(function*() {
        let app = scrapeFiles.get(s.point)
        if (app === undefined) {
          const file = metricsPath(dir, s.point)
          yield* repairJsonlTail(file, validateScrapeRecord).pipe(Effect.catchTag("InputError", () => Effect.succeed(false)))
          app = yield* openAppender(file).pipe(Scope.provide(scope))
          scrapeFiles.set(s.point, app)
        }
        yield* app.append(s)
      })
    return {
      dir,
      appendRequest: (r) => requests.append(r),
      appendScrape,
      writeSummary: (point, summary) => writeJsonAtomic(summaryPath(dir, point), summary),
      writeManifest: (m) => writeJsonAtomic(manifestPath(dir), m),
      writeStageSpec: (point, spec) =>
        Effect.tryPromise({
          try: () => fsp.mkdir(path.join(dir, "workload"), { recursive: true }),
          catch: fileError(`cannot create ${path.join(dir, "workload")}`)
        }).pipe(Effect.andThen(writeJsonAtomic(stageSpecPath(dir, point), spec)))
    }
  })

export interface RunDirContents {
  readonly dir: string
  readonly manifest: Manifest
  /** Every distinct finished request (warm-ups included), in file order. */
  readonly requests: ReadonlyArray<RequestRecord>
  /** Point summaries present on disk, by point id (as parsed JSON). */
  readonly summaries: ReadonlyMap<string, unknown>
  /** A half-written last line was found and ignored. */
  readonly discardedTail: boolean
  /** Records repeating an earlier (point, index, warmup); ignored. */
  readonly duplicates: number
}

/** Reads a run directory (for --resume, calibrate and validate). */
export const readRunDir = (dir: string): Effect.Effect<RunDirContents, FileError | InputError> =>
  Effect.gen(function*() {
    const mtext = yield* readTextIfExists(manifestPath(dir))
    if (mtext === undefined) return yield* new InputError({ message: `${dir}: no manifest.json (not a probe run directory)` })
    const manifest = parseManifest(mtext, manifestPath(dir))
    if (typeof manifest === "string") return yield* new InputError({ message: manifest })
    const rtext = (yield* readTextIfExists(requestsPath(dir))) ?? ""
    const parsed = parseJsonl(rtext, validateRequestRecord, requestsPath(dir))
    if (typeof parsed === "string") return yield* new InputError({ message: parsed })
    const { records, duplicates } = dedupRecords(parsed.values)
    const summaries = new Map<string, unknown>()
    for (const p of manifest.plan.points) {
      const s = yield* readTextIfExists(summaryPath(dir, p.id))
      if (s === undefined) continue
      try {
        summaries.set(p.id, JSON.parse(s))
      } catch {
        // a summary is derived data; an unreadable one is recomputed from the records
      }
    }
    return { dir, manifest, requests: records, summaries, discardedTail: parsed.discardedTail, duplicates }
  })

/** The /metrics samples of one point. */
export const readScrapes = (dir: string, point: string): Effect.Effect<ReadonlyArray<ScrapeRecord>, FileError | InputError> =>
  Effect.gen(function*() {
    const text = yield* readTextIfExists(metricsPath(dir, point))
    if (text === undefined) return []
    const parsed = parseJsonl(text, validateScrapeRecord, metricsPath(dir, point))
    if (typeof parsed === "string") return yield* new InputError({ message: parsed })
    return parsed.values
  })

/** Synchronous existence check used by the CLI to tell a run directory from a file. */
export const isRunDir = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory() && fs.existsSync(manifestPath(p))
  } catch {
    return false
  }
}
