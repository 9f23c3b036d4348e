// The probe's sweep: for each point (closed loop at a concurrency like `vllm bench serve
// --max-concurrency`, open loop with Poisson arrivals at a rate, or one rate stage of a shared-prefix
// workload spec, see workload.ts), send warm-ups then the measured
// requests through one keep-alive pool (Node's fetch: undici's global dispatcher keeps connections
// alive and reuses them; the pool grows to the number in flight), scrape /metrics about once a second,
// watch event-loop lag, append every finished request to the run directory, and write the point's
// summary. Interruption (Ctrl-C) stops in-flight requests and keeps everything already written; a
// later --resume sends only the requests not yet recorded.
import { monitorEventLoopDelay } from "node:perf_hooks"
import { Duration, Effect, Fiber, Redacted, Semaphore } from "effect"
import { HttpClient } from "effect/http"
import pkg from "../../package.json" with { type: "json" }
import { FileError, InputError } from "../scenario/errors.ts"
import { readText } from "../scenario/schema.ts"
import { arrivalStream } from "../sim/workload/arrivals.ts"
import { datasetLabel, datasetMeans, datasetPrompt, datasetRequests, sha256 } from "./dataset.ts"
import type { ProbeDataset } from "./dataset.ts"
import { getText, maskUrlCredentials, nowEpochMs, ProbeError, sendStreamingRequest } from "./client.ts"
import { parseVllmMetrics } from "./metrics-parser.ts"
import { makePrompt, wordsForTokens } from "./prompt.ts"
import { silentProgress } from "./progress.ts"
import type { ProgressSink } from "./progress.ts"
import { MANIFEST_FORMAT, openRunDirWriter, readRunDir, readScrapes, requestKey } from "./run-dir.ts"
import type { Manifest, RunDirWriter } from "./run-dir.ts"
import { DEFAULT_MAX_LAG_FRACTION, judgeLag, recordsInSimulatedTime, serverLagBetween, twinLagCounters } from "./lag.ts"
import type { PointLag, TwinLagCounters } from "./lag.ts"
import { digestScrapes, toScrapeRecord } from "./server-info.ts"
import type { ServerMetricsDigest } from "./server-info.ts"
import { basicStats, summarizeRecords } from "./summary.ts"
import type { PointSummaryBody } from "./summary.ts"
import { requestsInPoint } from "./types.ts"
import type { PointSpec, RequestRecord, ScrapeRecord } from "./types.ts"
import { calibratePrompt, discoverServer, isSilent } from "./server-setup.ts"
import { makeStageDriver, stageSpecJson, workloadFromManifest, workloadToManifest } from "./workload.ts"
import type { StageJob, WorkloadPlan } from "./workload.ts"

/** What to measure (becomes manifest.plan). */
export interface ProbePlan {
  readonly url: string
  readonly model: string
  readonly endpoint: "completions" | "chat"
  readonly mode: "concurrency" | "rate" | "workload"
  readonly points: ReadonlyArray<PointSpec>
  /** Prompt tokens per request (workload: the spec's system_prompt_len + question_len). */
  readonly isl: number
  /** Output tokens per request (workload: the spec's output_len). */
  readonly osl: number
  /** Measured requests per point (workload: the total over its stage points, each of which has its own count). */
  readonly numRequests: number
  readonly warmup: number
  readonly timeoutS: number
  readonly seed: string
  readonly apiKeyEnv?: string
  /** Open loop: cap on requests in flight (0 or absent: none). */
  readonly maxConcurrency?: number
  /** Open loop: vllm bench's --burstiness, the gamma shape of the arrival gaps (absent: 1, Poisson). */
  readonly burstiness?: number
  /**
   * --dataset-name: every request's prompt and lengths (warm-ups first; isl/osl are then the measured
   * requests' means). Absent: fixed isl/osl filler prompts.
   */
  readonly dataset?: ProbeDataset
  /** mode "workload": the shared-prefix spec whose stages are the points. */
  readonly workload?: WorkloadPlan
}

export interface RunOptions {
  readonly outDir: string
  readonly apiKey?: Redacted.Redacted<string>
  readonly progress?: ProgressSink
  /** /metrics period (default 1000 ms; 0 disables scraping). */
  readonly scrapeIntervalMs?: number
  /** Event-loop lag p99 above which TTFT may be skewed (default 5 ms). */
  readonly lagWarnMs?: number
  /** Stop after this many consecutive connection_refused failures (default 20). */
  readonly maxConsecutiveRefused?: number
  /** Command line to note in the manifest's session list (must not contain secrets). */
  readonly argv?: string
  /** Connect/first-byte deadline of every request (default DEFAULT_CONNECT_TIMEOUT_S; never above the plan's timeout). */
  readonly connectTimeoutMs?: number
  /** Lag bound (fraction of mean TTFT/E2EL) beyond which a point is marked lagged (default DEFAULT_MAX_LAG_FRACTION). */
  readonly maxLagFraction?: number
}

/** Default connect/first-byte timeout: a server that accepts and says nothing for this long is not serving. */
export const DEFAULT_CONNECT_TIMEOUT_S = 30


/** The per-point summary file: vllm bench `--save-result` fields plus the probe's extras. */
export type PointSummary =
  & {
    readonly date: string
    readonly backend: "servesim-probe"
    readonly endpoint_type: "openai" | "openai-chat"
    readonly label: null
    readonly model_id: string
    readonly tokenizer_id: null
    readonly num_prompts: number
    readonly request_rate: number | "inf"
    readonly burstiness: number
    readonly max_concurrency: number | null
    readonly dataset_name: "random" | "sharegpt" | "prefix_repetition" | "custom" | null
    readonly dataset_path: string | null
    readonly point: string
    readonly input_len: number
    readonly output_len: number
    readonly warmup_requests: number
    readonly sessions: ReadonlyArray<number>
    readonly event_loop_lag_ms: { readonly mean: number; readonly p99: number; readonly max: number } | null
    readonly server_metrics: ServerMetricsDigest | null
    readonly warnings: ReadonlyArray<string>
    /** Lag of the twin and of the client, scaled to simulated time; `lagged` points are not fit by calibrate. */
    readonly lag?: PointLag
    /** Workload-stage points: the spec and stage (input_len/output_len are its nominal lengths). */
    readonly workload?: {
      readonly file: string
      readonly stage: number
      readonly duration_s: number
      readonly multi_turn: boolean
      readonly num_groups: number
      readonly prompts_per_group: number
      readonly system_prompt_len: number
      readonly question_len: number
    }
  }
  & PointSummaryBody

export interface ProbeResult {
  readonly dir: string
  readonly session: number
  readonly points: ReadonlyArray<{ readonly id: string; readonly summary: PointSummary; readonly ran: boolean }>
}

/** package.json is bundled in (not read beside the module), so dist/ reports the same version. */
const toolVersion = (): string => pkg.version

// ---------------------------------------------------------------------------------------------
// Points

interface Task {
  readonly index: number
  readonly warmup: boolean
  /** Open loop: ms after the point's start. */
  readonly offsetMs: number
}

/** How a point makes its requests: the tasks left, and each task's prompt and lengths. */
interface PointDriver {
  readonly tasks: ReadonlyArray<Task>
  readonly job: (task: Task) => Effect.Effect<StageJob>
  readonly finished: (task: Task, record: RequestRecord) => void
}

/**
 * Arrival offsets (ms) of warm-ups then measured requests, from the seed and point: vllm bench's
 * get_request (vllm/benchmarks/serve.py) as the simulator draws it (src/sim/workload/arrivals.ts) —
 * gamma gaps of shape `burstiness` and scale 1/(rate·burstiness) (burstiness 1: Poisson), rescaled so
 * the last request lands at count/rate, the first after one gap; rate "inf": every request at 0.
 */
export const arrivalOffsetsMs = (seed: string, point: string, rate: number | "inf", count: number, burstiness = 1): ReadonlyArray<number> => {
  const stream = arrivalStream({ kind: "rate", rate, burstiness }, { seed: `${seed}:${point}`, numRequests: count })
  const out: number[] = []
  for (let a = stream.next(); a !== undefined; a = stream.next()) out.push(a.time * 1000)
  return out
}

/** The tasks still to run for a point, given the measured requests already on disk. */
export const remainingTasks = (
  plan: Pick<ProbePlan, "seed" | "warmup" | "numRequests" | "burstiness">,
  point: PointSpec,
  doneMeasured: ReadonlySet<number>
): ReadonlyArray<Task> => {
  const total = plan.warmup + plan.numRequests
  const offsets = point.kind === "rate" ? arrivalOffsetsMs(plan.seed, point.id, point.rate, total, plan.burstiness) : undefined
  const tasks: Task[] = []
  const anyMeasuredLeft = doneMeasured.size < plan.numRequests
  if (!anyMeasuredLeft) return []
  for (let i = 0; i < plan.warmup; i++) tasks.push({ index: i, warmup: true, offsetMs: offsets?.[i] ?? 0 })
  for (let i = 0; i < plan.numRequests; i++) {
    if (doneMeasured.has(i)) continue
    tasks.push({ index: i, warmup: false, offsetMs: offsets?.[plan.warmup + i] ?? 0 })
  }
  // A resumed open-loop point keeps its warm-ups' schedule and moves the remaining measured arrivals
  // up so the first of them takes the slot of measured request 0, keeping the gaps between them.
  const firstMeasured = offsets?.[plan.warmup] ?? 0
  const firstRemaining = tasks.find((t) => !t.warmup)?.offsetMs ?? firstMeasured
  const shift = firstRemaining - firstMeasured
  return tasks.map((t) => (t.warmup ? t : { ...t, offsetMs: t.offsetMs - shift }))
}

interface LagStats {
  readonly mean: number
  readonly p99: number
  readonly max: number
}

const LAG_RESOLUTION_MS = 10

const startLagMonitor = () => {
  const h = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
  h.enable()
  return (): LagStats | null => {
    h.disable()
    if (h.count === 0) return null
    const adj = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS)
    return { mean: adj(h.mean), p99: adj(h.percentile(99)), max: adj(h.max) }
  }
}

const pointSummary = (
  plan: ProbePlan,
  point: PointSpec,
  records: ReadonlyArray<RequestRecord>,
  extras: { lag: LagStats | null; server: ServerMetricsDigest | null; warnings: ReadonlyArray<string>; timeScale: number; pointLag?: PointLag }
): PointSummary => {
  const body = summarizeRecords(recordsInSimulatedTime(records, extras.timeScale))
  const spec = plan.workload?.spec
  return {
    date: new Date().toISOString(),
    backend: "servesim-probe",
    endpoint_type: plan.endpoint === "chat" ? "openai-chat" : "openai",
    label: null,
    model_id: plan.model,
    tokenizer_id: null,
    num_prompts: requestsInPoint(point, plan.numRequests),
    request_rate: point.kind === "concurrency" ? "inf" : point.rate,
    burstiness: plan.burstiness ?? 1.0,
    max_concurrency: point.kind === "concurrency"
      ? point.concurrency
      : plan.maxConcurrency !== undefined && plan.maxConcurrency > 0
      ? plan.maxConcurrency
      : null,
    // vllm bench's --dataset-name/--dataset-path (a --workload stage is an inference-perf shared_prefix spec).
    dataset_name: point.kind === "stage" ? null : plan.dataset?.spec.name ?? "random",
    dataset_path: plan.dataset !== undefined && "path" in plan.dataset.spec ? plan.dataset.spec.path : null,
    point: point.id,
    input_len: plan.isl,
    output_len: plan.osl,
    warmup_requests: records.filter((r) => r.warmup).length,
    sessions: [...new Set(records.map((r) => r.session))].sort((a, b) => a - b),
    event_loop_lag_ms: extras.lag,
    server_metrics: extras.server,
    warnings: extras.warnings,
    ...(extras.pointLag === undefined ? {} : { lag: extras.pointLag }),
    ...(point.kind === "stage" && plan.workload !== undefined && spec !== undefined
      ? {
        workload: {
          file: plan.workload.file,
          stage: point.stage,
          duration_s: point.duration,
          multi_turn: spec.multiTurn,
          num_groups: spec.numGroups,
          prompts_per_group: spec.promptsPerGroup,
          system_prompt_len: spec.systemPromptLen,
          question_len: spec.questionLen
        }
      }
      : {}),
    ...body
  }
}

interface PointContext {
  readonly plan: ProbePlan
  readonly manifest: Manifest
  readonly session: number
  readonly writer: RunDirWriter
  readonly apiKey: Redacted.Redacted<string> | undefined
  readonly progress: ProgressSink
  readonly scrapeIntervalMs: number
  readonly lagWarnMs: number
  readonly maxConsecutiveRefused: number
  readonly connectTimeoutMs: number
  readonly maxLagFraction: number
  readonly runTag: string
  /** The server's max_model_len, else the workload spec's (multi-turn conversations restart below it). */
  readonly maxModelLen: number | undefined
}

const scrapeOnce = (ctx: PointContext, point: string) =>
  getText(ctx.plan.url, "/metrics", { timeoutMs: 5000, apiKey: ctx.apiKey }).pipe(
    Effect.map((res): ScrapeRecord => {
      const at = nowEpochMs()
      if (res.status !== 200) return { point, session: ctx.session, at, error: `HTTP ${res.status}` }
      const snap = parseVllmMetrics(res.text)
      return typeof snap === "string" ? { point, session: ctx.session, at, error: snap } : toScrapeRecord(point, ctx.session, at, snap)
    }),
    Effect.catch((e) => Effect.succeed<ScrapeRecord>({ point, session: ctx.session, at: nowEpochMs(), error: e.message }))
  )

/** The requests of a point: filler prompts of the plan's lengths, or a workload stage's (workload.ts). */
const pointDriver = (
  ctx: PointContext,
  point: PointSpec,
  previous: ReadonlyArray<RequestRecord>,
  doneMeasured: ReadonlySet<number>
): PointDriver => {
  const { plan } = ctx
  if (point.kind === "stage") {
    if (plan.workload === undefined) throw new Error(`point ${point.id}: a workload stage without a workload in the plan`)
    return makeStageDriver({
      workload: plan.workload,
      point,
      seed: plan.seed,
      salt: `${plan.seed}:${ctx.runTag}:${point.id}`,
      model: { overhead: ctx.manifest.prompt.overhead, perWord: ctx.manifest.prompt.perWord },
      ...(ctx.maxModelLen === undefined ? {} : { maxModelLen: ctx.maxModelLen }),
      previous
    })
  }
  const dataset = plan.dataset
  if (dataset !== undefined) {
    const model = { overhead: ctx.manifest.prompt.overhead, perWord: ctx.manifest.prompt.perWord }
    return {
      tasks: remainingTasks(plan, point, doneMeasured),
      job: (task) =>
        Effect.sync(() => {
          const r = dataset.requests[task.warmup ? task.index : plan.warmup + task.index]!
          const key = task.warmup ? `${plan.seed}:${point.id}:w${task.index}:s${ctx.session}` : `${plan.seed}:${point.id}:${task.index}`
          return { ...datasetPrompt(r, model, `${plan.seed}:${ctx.runTag}:${point.id}`, key), keepText: false }
        }),
      finished: () => undefined
    }
  }
  const words = ctx.manifest.prompt.words
  return {
    tasks: remainingTasks(plan, point, doneMeasured),
    job: (task) =>
      Effect.sync(() => {
        const seedKey = task.warmup ? `${plan.seed}:${point.id}:w${task.index}:s${ctx.session}` : `${plan.seed}:${point.id}:${task.index}`
        return { prompt: makePrompt(words, seedKey), maxTokens: plan.osl, promptTokensRequested: plan.isl, promptWords: words, keepText: false }
      }),
    finished: () => undefined
  }
}

const runPoint = Effect.fnUntraced(function*(ctx: PointContext, point: PointSpec, previous: ReadonlyArray<RequestRecord>) {
  const { plan, writer, progress } = ctx
  const doneMeasured = new Set(previous.filter((r) => !r.warmup).map((r) => r.index))
  const driver = pointDriver(ctx, point, previous, doneMeasured)
  const tasks = driver.tasks
  const records: RequestRecord[] = [...previous]
  const warnings: string[] = []
  const total = requestsInPoint(point, plan.numRequests)
  let measuredDone = doneMeasured.size
  let ok = previous.filter((r) => !r.warmup && r.ok).length
  let failed = measuredDone - ok
  let consecutiveRefused = 0
  const ttfts: number[] = []
  const startPerf = performance.now()
  const report = () => {
    const p = {
      point: point.id,
      total,
      done: measuredDone,
      ok,
      failed,
      elapsedS: (performance.now() - startPerf) / 1000,
      ...(ttfts.length > 0 ? { medianTtftMs: basicStats(ttfts.slice(-200), [50])!.median } : {})
    }
    return p
  }
  if (doneMeasured.size > 0) progress.info(`${point.id}: resuming, ${doneMeasured.size}/${total} requests already recorded`)

  const pendingWrites: Array<Fiber.Fiber<void, FileError>> = []
  const exec = (task: Task, intendedAt: number) =>
    Effect.gen(function*() {
      const job = yield* driver.job(task)
      const outcome = yield* sendStreamingRequest({
        baseUrl: plan.url,
        model: plan.model,
        prompt: job.prompt,
        maxTokens: job.maxTokens,
        chat: plan.endpoint === "chat",
        timeoutMs: plan.timeoutS * 1000,
        firstByteTimeoutMs: ctx.connectTimeoutMs,
        requestId: `servesim-${ctx.runTag}-s${ctx.session}-${point.id}-${task.warmup ? "w" : ""}${task.index}`,
        ...(job.keepText ? { keepText: true } : {}),
        ...(ctx.apiKey === undefined ? {} : { apiKey: ctx.apiKey })
      })
      const record: RequestRecord = {
        point: point.id,
        index: task.index,
        warmup: task.warmup,
        session: ctx.session,
        intendedAt,
        ...outcome,
        promptTokensRequested: job.promptTokensRequested,
        promptWords: job.promptWords,
        maxTokens: job.maxTokens
      }
      driver.finished(task, record)
      // The record is written (and fdatasync'd) in its own fiber: the closed loop's next request must
      // go out as soon as this one finishes, as vllm bench does, not after the disk write. Every write
      // is awaited before the point's summary.
      pendingWrites.push(yield* Effect.forkDetach(writer.appendRequest(record)))
      records.push(record)
      if (!task.warmup) {
        measuredDone++
        if (record.ok) ok++
        else failed++
        if (record.ok && record.firstTokenMs !== undefined) ttfts.push(record.firstTokenMs)
      }
      consecutiveRefused = record.errorClass === "connection_refused" || isSilent(record) ? consecutiveRefused + 1 : 0
      progress.update(report())
      if (consecutiveRefused >= ctx.maxConsecutiveRefused) {
        return yield* new ProbeError({
          message: `${consecutiveRefused} consecutive requests could not connect to or got no answer from ${plan.url} (${record.error ?? ""}); ` +
            `stopped — fix the server and continue with --resume ${writer.dir}`
        })
      }
    })

  const closedLoop = (concurrency: number) =>
    Effect.gen(function*() {
      let next = 0
      const worker = Effect.gen(function*() {
        while (next < tasks.length) {
          const task = tasks[next++]!
          yield* exec(task, nowEpochMs())
        }
      })
      const workers = Math.max(1, Math.min(concurrency, tasks.length))
      yield* Effect.forEach(Array.from({ length: workers }, (_, i) => i), () => worker, { concurrency: "unbounded", discard: true })
    })

  const openLoop = Effect.gen(function*() {
    const t0 = performance.now()
    const epoch0 = nowEpochMs()
    const cap = plan.maxConcurrency ?? 0
    const sem = cap > 0 ? Semaphore.makeUnsafe(cap) : undefined
    yield* Effect.forEach(tasks, (task) =>
      Effect.gen(function*() {
        // Timers fire on a 1 ms clock and can be early against performance.now(): sleep until due.
        for (let wait = task.offsetMs - (performance.now() - t0); wait > 0; wait = task.offsetMs - (performance.now() - t0)) {
          yield* Effect.sleep(Duration.millis(wait))
        }
        const run = exec(task, epoch0 + task.offsetMs)
        yield* sem === undefined ? run : sem.withPermits(1)(run)
      }), { concurrency: "unbounded", discard: true })
  })

  const scrapes: ScrapeRecord[] = []
  const scraping = ctx.manifest.server.metricsAvailable && ctx.scrapeIntervalMs > 0
  const takeScrape = Effect.gen(function*() {
    const s = yield* scrapeOnce(ctx, point.id)
    scrapes.push(s)
    yield* writer.appendScrape(s)
  })
  const scraper = Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(Duration.millis(ctx.scrapeIntervalMs))
      yield* takeScrape
    }
  })

  const timeScale = ctx.manifest.server.timeScale ?? 1
  const readTwinLag = getText(ctx.plan.url, "/metrics", { timeoutMs: 5000, apiKey: ctx.apiKey }).pipe(
    Effect.map((res): TwinLagCounters | undefined => (res.status === 200 ? twinLagCounters(res.text) : undefined)),
    Effect.orElseSucceed((): TwinLagCounters | undefined => undefined)
  )
  const isTwin = ctx.manifest.server.timeScale !== undefined
  if (tasks.length > 0) {
    const twinBefore = isTwin ? yield* readTwinLag : undefined
    if (scraping) yield* takeScrape
    const scraperFiber = scraping ? yield* Effect.forkChild(scraper) : undefined
    const stopLag = startLagMonitor()
    const lagBox: { value: LagStats | null } = { value: null }
    // Rate and workload-stage points are open loop.
    const sweep = point.kind === "concurrency" ? closedLoop(point.concurrency) : openLoop
    yield* sweep.pipe(
      Effect.onInterrupt(() =>
        Effect.sync(() =>
          progress.info(`${point.id}: interrupted with ${measuredDone}/${total} requests recorded; continue with --resume ${writer.dir}`)
        )
      ),
      Effect.ensuring(Effect.sync(() => {
        lagBox.value = stopLag()
      })),
      Effect.ensuring(scraperFiber === undefined ? Effect.void : Fiber.interrupt(scraperFiber)),
      Effect.ensuring(Fiber.awaitAll(pendingWrites))
    )
    yield* Fiber.joinAll(pendingWrites)
    const lag = lagBox.value
    const twinAfter = isTwin ? yield* readTwinLag : undefined
    if (scraping) yield* takeScrape
    progress.finish(report())
    if (lag !== null && lag.p99 > ctx.lagWarnMs) {
      const w = `client event-loop lag p99 ${lag.p99.toFixed(1)} ms (max ${lag.max.toFixed(1)} ms) may skew TTFT/ITL by that much; ` +
        `lower the concurrency or run the probe on a less loaded machine`
      warnings.push(w)
      progress.warn(`${point.id}: ${w}`)
    }
    const converted = summarizeRecords(recordsInSimulatedTime(records, timeScale))
    const pointLag = judgeLag({
      timeScale,
      server: serverLagBetween(twinBefore, twinAfter),
      client: lag,
      meanTtftMs: converted.mean_ttft_ms,
      meanE2elMs: converted.mean_e2el_ms,
      bound: ctx.maxLagFraction
    })
    if (pointLag.lagged) {
      const w = `lagged: ${pointLag.reason ?? ""}; calibrate will not fit this point — lower --time-scale or the concurrency, or use a less loaded host`
      warnings.push(w)
      progress.warn(`${point.id}: ${w}`)
    }
    const summary = pointSummary(plan, point, records, {
      lag,
      server: digestScrapes(scrapes.filter((s) => s.session === ctx.session)) ?? null,
      warnings,
      timeScale,
      pointLag
    })
    yield* writer.writeSummary(point.id, summary)
    return { summary, ran: true }
  }
  // Nothing left to send (resume after the last record, before the summary was written).
  const stored = yield* readScrapes(writer.dir, point.id)
  const lastSession = Math.max(-1, ...stored.map((s) => s.session))
  const summary = pointSummary(plan, point, records, {
    lag: null,
    server: digestScrapes(stored.filter((s) => s.session === lastSession)) ?? null,
    warnings,
    timeScale
  })
  yield* writer.writeSummary(point.id, summary)
  return { summary, ran: false }
})

// ---------------------------------------------------------------------------------------------
// Entry points

const validatePlan = (plan: ProbePlan): string | undefined => {
  if (plan.points.length === 0) return "no sweep points (give --concurrency, --rate or --workload)"
  const stagePoints = plan.points.filter((p) => p.kind === "stage")
  if (plan.mode === "workload") {
    if (plan.workload === undefined) return "mode workload without a workload spec"
    if (stagePoints.length !== plan.points.length) return "a --workload run has only workload-stage points"
    if (plan.warmup > 0) return "--warmup: a --workload run sends the spec as written, without warm-ups"
    if (plan.maxConcurrency !== undefined && plan.maxConcurrency > 0) return "--max-concurrency: a --workload run is open loop as the spec says"
    for (const p of stagePoints) {
      if (!(Number.isInteger(p.numRequests) && p.numRequests >= 1)) return `${p.id}: the stage sends no request`
      if (plan.workload.spec.load.stages[p.stage] === undefined) return `${p.id}: the spec has no stage ${p.stage}`
    }
  } else if (stagePoints.length > 0) return "workload-stage points need --workload"
  if (!Number.isInteger(plan.isl) || plan.isl < 1) return `--isl ${plan.isl}: expected a positive integer`
  if (!Number.isInteger(plan.osl) || plan.osl < 1) return `--osl ${plan.osl}: expected a positive integer`
  if (!Number.isInteger(plan.numRequests) || plan.numRequests < 1) return `--num-requests ${plan.numRequests}: expected a positive integer`
  if (!Number.isInteger(plan.warmup) || plan.warmup < 0) return `--warmup ${plan.warmup}: expected an integer ≥ 0`
  if (!(plan.timeoutS > 0)) return `--timeout ${plan.timeoutS}: expected seconds > 0`
  if (plan.burstiness !== undefined && !(plan.burstiness > 0 && Number.isFinite(plan.burstiness))) return `--burstiness ${plan.burstiness}: expected a number > 0`
  if (plan.dataset !== undefined) {
    if (plan.mode === "workload") return "--dataset-name: a --workload run sends the spec's own prompts"
    if (plan.dataset.requests.length !== plan.warmup + plan.numRequests)
      return `--dataset-name: ${plan.dataset.requests.length} sampled requests for ${plan.warmup} warm-ups + ${plan.numRequests} measured`
  }
  const ids = new Set<string>()
  for (const p of plan.points) {
    if (p.kind === "concurrency" && (!Number.isInteger(p.concurrency) || p.concurrency < 1)) {
      return `--concurrency ${p.concurrency}: expected positive integers`
    }
    if (p.kind === "rate" && p.rate !== "inf" && !(p.rate > 0 && Number.isFinite(p.rate))) return `--rate ${p.rate}: expected positive numbers or inf`
    if (ids.has(p.id)) return `sweep point ${p.id} is listed twice`
    ids.add(p.id)
  }
  const shown = maskUrlCredentials(plan.url)
  try {
    const u = new URL(plan.url)
    if (u.protocol !== "http:" && u.protocol !== "https:") return `--url ${shown}: expected http:// or https://`
    // Credentials in the URL would be written to the manifest and shown in messages: refused, never echoed.
    if (u.username !== "" || u.password !== "") return `--url ${shown}: credentials in the URL are not supported (they would be recorded); pass a key with --api-key-env`
  } catch {
    return `--url ${shown}: not a URL`
  }
  return undefined
}

const connectTimeoutOf = (plan: Pick<ProbePlan, "timeoutS">, options: RunOptions): number =>
  Math.min(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_S * 1000, plan.timeoutS * 1000)

const runPoints = Effect.fnUntraced(function*(
  plan: ProbePlan,
  manifest: Manifest,
  session: number,
  previous: ReadonlyArray<RequestRecord>,
  previousSummaries: ReadonlyMap<string, unknown>,
  options: RunOptions,
  mode: "fresh" | "resume"
) {
  const progress = options.progress ?? silentProgress
  const writer = yield* openRunDirWriter(options.outDir, manifest, mode)
  const ctx: PointContext = {
    plan,
    manifest,
    session,
    writer,
    apiKey: options.apiKey,
    progress,
    scrapeIntervalMs: options.scrapeIntervalMs ?? 1000,
    lagWarnMs: options.lagWarnMs ?? 5,
    maxConsecutiveRefused: options.maxConsecutiveRefused ?? 20,
    connectTimeoutMs: connectTimeoutOf(plan, options),
    maxLagFraction: options.maxLagFraction ?? DEFAULT_MAX_LAG_FRACTION,
    runTag: Math.floor(Date.parse(manifest.createdAt) / 1000).toString(36),
    maxModelLen: manifest.server.maxModelLen ?? plan.workload?.spec.server.maxModelLen
  }
  // Each workload stage's one-stage spec, before any request: what calibrate/validate simulate.
  if (plan.workload !== undefined) {
    for (const point of plan.points) {
      if (point.kind === "stage") yield* writer.writeStageSpec(point.id, stageSpecJson(plan.workload, point))
    }
  }
  const results: Array<{ id: string; summary: PointSummary; ran: boolean }> = []
  for (const point of plan.points) {
    const prev = previous.filter((r) => r.point === point.id)
    const measured = new Set(prev.filter((r) => !r.warmup).map((r) => r.index))
    const stored = previousSummaries.get(point.id)
    if (measured.size >= requestsInPoint(point, plan.numRequests) && stored !== undefined) {
      progress.info(`${point.id}: already complete, skipped`)
      results.push({ id: point.id, summary: stored as PointSummary, ran: false })
      continue
    }
    const r = yield* runPoint(ctx, point, prev)
    results.push({ id: point.id, ...r })
  }
  const result: ProbeResult = { dir: options.outDir, session, points: results }
  return result
}, Effect.scoped)

/** Starts a new run in `options.outDir` (which must not hold a run yet). */
export const startProbe = (plan: ProbePlan, options: RunOptions) =>
  Effect.gen(function*() {
    const problem = validatePlan(plan)
    if (problem !== undefined) return yield* new InputError({ message: problem })
    const progress = options.progress ?? silentProgress
    const info = yield* discoverServer(plan, options.apiKey, progress, connectTimeoutOf(plan, options))
    const cal = yield* calibratePrompt(plan, options.apiKey, progress, connectTimeoutOf(plan, options))
    const words = wordsForTokens(cal.model, plan.isl)
    progress.info(
      `server ${info.server.version ?? "(version unknown)"}; prompt ${plan.isl} tokens ≈ ${words} words ` +
        `(overhead ${cal.model.overhead.toFixed(1)}, ${cal.model.perWord.toFixed(3)} tokens/word)`
    )
    if (plan.dataset !== undefined) {
      const m = datasetMeans(plan.dataset, plan.warmup)
      progress.info(`dataset ${datasetLabel(plan.dataset.spec)}: ${plan.numRequests} requests per point, mean ${m.isl} prompt / ${m.osl} output tokens`)
    }
    if (plan.workload !== undefined) {
      const w = plan.workload.spec
      progress.info(
        `workload ${plan.workload.file}: ${w.numGroups} system prompts × ${w.promptsPerGroup} ${w.multiTurn ? "conversations" : "questions"}, ` +
          `${w.systemPromptLen} + ${w.questionLen} prompt tokens, ${w.outputLen} output tokens; ` +
          plan.points.map((p) => (p.kind === "stage" ? `${p.id}: ${p.numRequests} requests at ${p.rate}/s` : p.id)).join(", ")
      )
    }
    const createdAt = new Date().toISOString()
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      createdAt,
      tool: { name: "servesim", version: toolVersion(), node: process.version, platform: `${process.platform}-${process.arch}` },
      plan: {
        url: plan.url,
        model: plan.model,
        endpoint: plan.endpoint,
        mode: plan.mode,
        points: plan.points.map((p) => ({ ...p })),
        isl: plan.isl,
        osl: plan.osl,
        numRequests: plan.numRequests,
        warmup: plan.warmup,
        timeoutS: plan.timeoutS,
        seed: plan.seed,
        ...(plan.apiKeyEnv === undefined ? {} : { apiKeyEnv: plan.apiKeyEnv }),
        ...(plan.maxConcurrency === undefined ? {} : { maxConcurrency: plan.maxConcurrency }),
        ...(plan.burstiness === undefined ? {} : { burstiness: plan.burstiness }),
        ...(plan.dataset === undefined ? {} : { dataset: plan.dataset.spec }),
        ...(plan.workload === undefined ? {} : { workload: workloadToManifest(plan.workload) })
      },
      prompt: { overhead: cal.model.overhead, perWord: cal.model.perWord, words, calibration: cal.samples },
      server: info.server,
      sessions: [{ session: 0, startedAt: createdAt, ...(options.argv === undefined ? {} : { argv: options.argv }) }]
    }
    return yield* runPoints(plan, manifest, 0, [], new Map(), options, "fresh")
  })

/** A resumed run's dataset: the same requests again (a file is re-read and must be unchanged). */
const datasetFromManifest = (spec: ProbeDataset["spec"], count: number, seed: string) =>
  Effect.gen(function*() {
    let text: string | undefined
    if (spec.name === "sharegpt" || spec.name === "custom") {
      text = yield* readText(spec.path)
      if (sha256(text) !== spec.sha256) {
        return yield* new InputError({ message: `--dataset-path ${spec.path}: the file changed since the run started; a resumed run must send the same prompts` })
      }
    }
    const requests = datasetRequests(spec, count, seed, text)
    if (typeof requests === "string") return yield* new InputError({ message: `--dataset-path ${"path" in spec ? spec.path : spec.name}: ${requests}` })
    const dataset: ProbeDataset = { spec, requests }
    return dataset
  })

/** Overrides accepted on --resume (the server may have moved; the plan itself is the manifest's). */
export interface ResumeOverrides {
  readonly url?: string
  readonly timeoutS?: number
  readonly apiKeyEnv?: string
}

/** Continues the run in `options.outDir`: sends only the requests not recorded yet. */
export const resumeProbe = (overrides: ResumeOverrides, options: RunOptions) =>
  Effect.gen(function*() {
    const contents = yield* readRunDir(options.outDir)
    const old = contents.manifest
    const progress = options.progress ?? silentProgress
    if (contents.discardedTail) progress.info(`${options.outDir}: discarded a half-written last record (an interrupted append)`)
    const { workload: workloadJson, dataset: datasetSpec, ...oldPlan } = old.plan
    const workload = workloadJson === undefined ? undefined : workloadFromManifest(workloadJson)
    if (typeof workload === "string") return yield* new InputError({ message: `${options.outDir}: ${workload}` })
    const dataset = datasetSpec === undefined ? undefined : yield* datasetFromManifest(datasetSpec, old.plan.warmup + old.plan.numRequests, old.plan.seed)
    const plan: ProbePlan = {
      ...oldPlan,
      ...(workload === undefined ? {} : { workload }),
      ...(dataset === undefined ? {} : { dataset }),
      points: old.plan.points,
      ...(overrides.url === undefined ? {} : { url: overrides.url }),
      ...(overrides.timeoutS === undefined ? {} : { timeoutS: overrides.timeoutS }),
      ...(overrides.apiKeyEnv === undefined ? {} : { apiKeyEnv: overrides.apiKeyEnv })
    }
    const problem = validatePlan(plan)
    if (problem !== undefined) return yield* new InputError({ message: problem })
    const session = Math.max(-1, ...old.sessions.map((s) => s.session), ...contents.requests.map((r) => r.session)) + 1
    const manifest: Manifest = {
      ...old,
      plan: { ...old.plan, url: plan.url, timeoutS: plan.timeoutS, ...(plan.apiKeyEnv === undefined ? {} : { apiKeyEnv: plan.apiKeyEnv }) },
      sessions: [
        ...old.sessions,
        { session, startedAt: new Date().toISOString(), ...(options.argv === undefined ? {} : { argv: options.argv }) }
      ]
    }
    yield* discoverServer(plan, options.apiKey, progress, connectTimeoutOf(plan, options))
    const done = new Set(contents.requests.map(requestKey))
    progress.info(`resuming ${options.outDir}: ${done.size} records on disk, session ${session}`)
    return yield* runPoints(plan, manifest, session, contents.requests, contents.summaries, options, "resume")
  })

/** Everything the probe can fail with. */
export type ProbeFailure = ProbeError | InputError | FileError

/** Type of the HttpClient requirement, for callers that provide FetchHttpClient.layer. */
export type ProbeRequirements = HttpClient.HttpClient
