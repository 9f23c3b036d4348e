// One loader for measured serving points, used by calibrate and validate. Three sources:
//   (a) a probe run directory (manifest.json + requests.jsonl + points/*.summary.json),
//   (b) `vllm bench serve --save-result` JSON (one result, with or without --save-detailed arrays;
//       a `vllm bench sweep` list of results; a probe point summary, which uses the same field names),
//   (c) the measurement-table CSV of ../shared/data/serving/*.csv (columns in its README).
// The parse functions are pure and return a value or a one-line error string naming the file, row and
// field; `loadMeasurements` reads files and fails with InputError (content) or FileError (I/O).
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import { Effect } from "effect"
import { FileError, InputError } from "../scenario/errors.ts"
import { readRunDir, stageSpecPath } from "../probe/run-dir.ts"
import type { RunDirContents } from "../probe/run-dir.ts"
import { basicStats, requestMetrics, summarizeRecords } from "../probe/summary.ts"
import { recordsInSimulatedTime } from "../probe/lag.ts"
import { requestsInPoint } from "../probe/types.ts"
import { minOf } from "../sim/stats.ts"
import { firstRangeError } from "./measurement-ranges.ts"
import { isRecord } from "../format/json.ts"
import { parseCsvRecords } from "../format/csv.ts"
import { LATENCY_METRICS, MEASURED_STATS, measuredKey, type BenchSummary, type LatencyMetric, type MeasuredStatKey } from "../sim/bench-summary.ts"

/**
 * What was measured at one point, in the result type's names (BenchSummary, src/sim/bench-summary.ts)
 * and definitions (TPOT = (E2EL − TTFT)/(output tokens − 1) per request; ITL = gaps between streamed
 * chunks, pooled): every field optional, absent = not measured. Milliseconds, and per second.
 */
export type MeasuredMetrics = Partial<Pick<BenchSummary, MeasuredStatKey | "request_throughput" | "output_throughput">> & {
  /** Input tokens per second. */
  readonly input_throughput?: number
}

export type MeasurementKind = "probe" | "bench" | "table"

/** One request of a measured point, when the source has per-request detail (for exact replays). */
export interface MeasuredRequest {
  /** Seconds after the point's first send (closed loop: when the request was actually sent). */
  readonly sendOffsetS: number
  readonly inputTokens?: number
  readonly outputTokens?: number
  readonly ok: boolean
  readonly warmup: boolean
  readonly ttftMs?: number
  readonly e2elMs?: number
}

export interface MeasuredPoint {
  /** Where it came from: "file.csv:12", "bench.json", "bench.json[1]", "RUN_DIR#concurrency-4". */
  readonly source: string
  readonly kind: MeasurementKind
  /** Row id of a table source (its `source` column). */
  readonly label?: string
  readonly engine?: string
  readonly engineVersion?: string
  readonly model?: string
  readonly precision?: string
  readonly gpu?: string
  readonly tp?: number
  readonly pp?: number
  /** "agg" = one aggregated engine (table sources). */
  readonly mode?: string
  /** "random-fixed" (every request isl in / osl out) or a workload spec path (table sources). */
  readonly workload?: string
  /** Mean input tokens per request (exact for fixed-length workloads). */
  readonly isl: number
  /** Mean output tokens per request. */
  readonly osl: number
  /** Closed loop: requests in flight (vllm bench --max-concurrency). */
  readonly concurrency?: number
  /** Open loop: arrivals per second. */
  readonly requestRate?: number
  /** Every request sent at once (vllm bench with request_rate inf and no max_concurrency). */
  readonly burst?: boolean
  /** Open loop: gamma shape of the arrival gaps (vllm bench --burstiness; absent: 1, Poisson). */
  readonly burstiness?: number
  readonly numRequests?: number
  readonly completed?: number
  readonly failed?: number
  readonly durationS?: number
  /** Warm-up requests sent before (probe: in the same loop) and not measured. */
  readonly warmup?: number
  readonly metrics: MeasuredMetrics
  readonly numGpuBlocks?: number
  readonly blockSize?: number
  readonly maxNumSeqs?: number
  readonly maxNumBatchedTokens?: number
  readonly maxModelLen?: number
  readonly requests?: ReadonlyArray<MeasuredRequest>
  /** Why the point's timings cannot be trusted (the probe marked it lagged); calibrate does not fit it. */
  readonly lagged?: string
}

export interface MeasuredSet {
  readonly points: ReadonlyArray<MeasuredPoint>
  /** Entries skipped with the reason (e.g. a bench run where every request failed). */
  readonly warnings: ReadonlyArray<string>
}

// ---------------------------------------------------------------------------------------------
// Helpers

type Mutable<T> = { -readonly [K in keyof T]: T[K] }


const finite = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)

const compact = <T extends object>(o: T): T => {
  const out = {} as Mutable<T>
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] !== undefined) out[k] = o[k]
  return out
}

/** The latency statistics of every metric from `mean_<m>_ms`, `median_<m>_ms`, `p<P>_<m>_ms` fields (bench and probe summaries). */
const statsFromFields = (o: Record<string, unknown>): MeasuredMetrics => {
  const out: Mutable<MeasuredMetrics> = {}
  for (const m of LATENCY_METRICS)
    for (const stat of MEASURED_STATS) {
      const v = stat === "p50" ? (finite(o[`median_${m}_ms`]) ?? finite(o[`p50_${m}_ms`])) : finite(o[`${stat}_${m}_ms`])
      if (v !== undefined) out[measuredKey(stat, m)] = v
    }
  return out
}

/** The latency statistics of one metric from its per-request values. */
const statsFromValues = (values: ReadonlyArray<number>, m: LatencyMetric): MeasuredMetrics => {
  const s = basicStats(values, [50, 90, 95, 99])
  if (s === undefined) return {}
  return {
    [measuredKey("mean", m)]: s.mean,
    [measuredKey("p50", m)]: s.median,
    [measuredKey("p90", m)]: s.percentiles.get(90)!,
    [measuredKey("p95", m)]: s.percentiles.get(95)!,
    [measuredKey("p99", m)]: s.percentiles.get(99)!
  }
}

const hasAnyStat = (m: MeasuredMetrics): boolean => Object.values(m).some((v) => v !== undefined)

// ---------------------------------------------------------------------------------------------
// (b) vllm bench result JSON

const numArray = (u: unknown): ReadonlyArray<number> | undefined =>
  Array.isArray(u) && u.every((x) => typeof x === "number") ? (u as ReadonlyArray<number>) : undefined

/** Per-request arrays of --save-detailed, when all present and of one length. */
const detailedArrays = (o: Record<string, unknown>) => {
  const ttfts = numArray(o.ttfts)
  const outputLens = numArray(o.output_lens)
  const inputLens = numArray(o.input_lens)
  if (ttfts === undefined || outputLens === undefined || inputLens === undefined) return undefined
  const n = ttfts.length
  if (outputLens.length !== n || inputLens.length !== n) return undefined
  const itlsRaw = Array.isArray(o.itls) ? o.itls : undefined
  const itls = itlsRaw !== undefined && itlsRaw.length === n && itlsRaw.every((x) => numArray(x) !== undefined)
    ? (itlsRaw as ReadonlyArray<ReadonlyArray<number>>)
    : undefined
  const latencies = numArray(o.latencies)
  const startTimes = numArray(o.start_times)
  const errors = Array.isArray(o.errors) && o.errors.length === n ? o.errors : undefined
  return {
    n,
    ttfts,
    outputLens,
    inputLens,
    itls,
    latencies: latencies?.length === n ? latencies : undefined,
    startTimes: startTimes?.length === n ? startTimes : undefined,
    errors
  }
}

/** Numeric fields of a vllm bench result besides the latency stats (`mean_ttft_ms`, `p99_itl_ms`, …). */
const BENCH_NUMBERS = [
  "completed",
  "failed",
  "num_prompts",
  "total_input_tokens",
  "total_output_tokens",
  "duration",
  "request_throughput",
  "output_throughput",
  "total_token_throughput",
  "max_concurrency",
  "warmup_requests",
  "max_num_seqs",
  "max_num_batched_tokens",
]
const BENCH_STAT = /^(mean|median|std|p\d+(\.\d+)?)_(ttft|tpot|itl|e2el)_ms$/

/**
 * "name: value is not a number" for the first numeric field holding something else: a string or a list
 * where a count or latency belongs is a broken file, not a missing measurement (null is vllm bench's
 * "not set", as for max_concurrency without a cap).
 */
const mistypedBenchField = (o: Record<string, unknown>): string | undefined => {
  for (const [k, v] of Object.entries(o)) {
    if (v === null || v === undefined || !(BENCH_NUMBERS.includes(k) || BENCH_STAT.test(k))) continue
    if (typeof v !== "number" || !Number.isFinite(v)) return `${k}: ${JSON.stringify(v)} is not a number`
  }
  return undefined
}

/**
 * Reads one bench result object. Returns a point, or a string saying why it was skipped. With
 * --save-detailed arrays the percentiles the summary lacks (p90, e2el, ...) are computed from them
 * (same definitions: TPOT over requests with output > 1, ITL pooled, numpy linear percentiles).
 */
export const measuredPointFromBenchResult = (o: Record<string, unknown>, source: string): MeasuredPoint | string => {
  const mistyped = mistypedBenchField(o)
  if (mistyped !== undefined) return `${source}: field ${mistyped}`
  const completed = finite(o.completed)
  if (completed === undefined) return `${source}: field completed: missing (not a vllm bench result)`
  const failed = finite(o.failed)
  const numPrompts = finite(o.num_prompts)
  if (completed === 0) {
    return `${source}: completed 0 (all ${failed ?? numPrompts ?? "?"} requests failed): nothing measured`
  }
  const detail = detailedArrays(o)
  let isl: number | undefined
  let osl: number | undefined
  let requests: MeasuredRequest[] | undefined
  let fromDetail: MeasuredMetrics | undefined
  if (detail !== undefined) {
    const okIdx: number[] = []
    for (let i = 0; i < detail.n; i++) {
      // vllm bench keeps "" (or null) in errors for a success and 0 in output_lens for a failure.
      const err = detail.errors?.[i]
      const failedReq = detail.errors !== undefined ? typeof err === "string" && err !== "" : detail.outputLens[i] === 0
      if (!failedReq) okIdx.push(i)
    }
    if (okIdx.length > 0) {
      let inSum = 0
      let outSum = 0
      const ttft: number[] = []
      const tpot: number[] = []
      const itl: number[] = []
      const e2el: number[] = []
      for (const i of okIdx) {
        inSum += detail.inputLens[i]!
        outSum += detail.outputLens[i]!
        ttft.push(detail.ttfts[i]! * 1000)
        const lat = detail.latencies?.[i] ?? (detail.itls === undefined ? undefined : detail.ttfts[i]! + detail.itls[i]!.reduce((a, b) => a + b, 0))
        if (lat !== undefined) {
          e2el.push(lat * 1000)
          if (detail.outputLens[i]! > 1) tpot.push(((lat - detail.ttfts[i]!) / (detail.outputLens[i]! - 1)) * 1000)
        }
        if (detail.itls !== undefined) for (const g of detail.itls[i]!) itl.push(g * 1000)
      }
      isl = inSum / okIdx.length
      osl = outSum / okIdx.length
      fromDetail = { ...statsFromValues(ttft, "ttft"), ...statsFromValues(tpot, "tpot"), ...statsFromValues(itl, "itl"), ...statsFromValues(e2el, "e2el") }
      const t0 = detail.startTimes === undefined ? 0 : minOf(detail.startTimes)
      requests = []
      const okSet = new Set(okIdx)
      for (let i = 0; i < detail.n; i++) {
        const ok = okSet.has(i)
        const lat = detail.latencies?.[i]
        requests.push(compact({
          sendOffsetS: detail.startTimes === undefined ? 0 : detail.startTimes[i]! - t0,
          inputTokens: detail.inputLens[i],
          outputTokens: ok ? detail.outputLens[i] : undefined,
          ok,
          warmup: false,
          ttftMs: ok ? detail.ttfts[i]! * 1000 : undefined,
          e2elMs: ok && lat !== undefined ? lat * 1000 : undefined
        }))
      }
    }
  }
  const totalIn = finite(o.total_input_tokens)
  const totalOut = finite(o.total_output_tokens)
  isl ??= totalIn === undefined ? undefined : totalIn / completed
  osl ??= totalOut === undefined ? undefined : totalOut / completed
  if (isl === undefined) return `${source}: field total_input_tokens: missing, cannot tell the input length`
  if (osl === undefined) return `${source}: field total_output_tokens: missing, cannot tell the output length`
  const duration = finite(o.duration)
  // The summary's statistics, with the --save-detailed arrays filling the ones it lacks.
  const metrics: MeasuredMetrics = compact({
    ...fromDetail,
    ...statsFromFields(o),
    request_throughput: finite(o.request_throughput),
    output_throughput: finite(o.output_throughput),
    input_throughput: totalIn !== undefined && duration !== undefined && duration > 0 ? totalIn / duration : undefined
  })
  const rate = o.request_rate
  const requestRate = typeof rate === "number" && Number.isFinite(rate) && rate > 0
    ? rate
    : typeof rate === "string" && rate !== "inf" && Number.isFinite(Number(rate)) ? Number(rate) : undefined
  const maxConc = finite(o.max_concurrency)
  const burst = requestRate === undefined && maxConc === undefined
  const probe = o.backend === "servesim-probe"
  return compact({
    source,
    kind: probe ? "probe" as const : "bench" as const,
    engine: probe ? undefined : "vllm",
    model: typeof o.model_id === "string" ? o.model_id : undefined,
    isl,
    osl,
    concurrency: maxConc ?? (burst ? numPrompts : undefined),
    requestRate,
    burst: burst ? true : undefined,
    burstiness: requestRate !== undefined && finite(o.burstiness) !== undefined && o.burstiness !== 1 ? finite(o.burstiness) : undefined,
    numRequests: numPrompts,
    completed,
    failed,
    durationS: duration,
    warmup: finite(o.warmup_requests),
    metrics,
    maxNumSeqs: finite(o.max_num_seqs),
    maxNumBatchedTokens: finite(o.max_num_batched_tokens),
    requests,
    lagged: laggedReason(o)
  })
}

/** A bench result file: one object, or a list of them (`vllm bench sweep`). */
export const parseBenchResultJson = (text: string, name: string): MeasuredSet | string => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    return `${name}: not JSON (${e instanceof Error ? e.message : String(e)})`
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed]
  const points: MeasuredPoint[] = []
  const warnings: string[] = []
  for (let i = 0; i < entries.length; i++) {
    const src = Array.isArray(parsed) ? `${name}[${i}]` : name
    const e: unknown = entries[i]
    if (!isRecord(e)) return `${src}: expected a JSON object`
    const p = measuredPointFromBenchResult(e, src)
    if (typeof p === "string") {
      if (p.includes("field completed: missing")) return p
      warnings.push(p)
    } else points.push(p)
  }
  if (points.length === 0) return warnings[0] ?? `${name}: no results`
  return { points, warnings }
}

// ---------------------------------------------------------------------------------------------
// (c) measurement-table CSV

/** The measurement table's columns of each statistic (../shared/data/README.md). */
const TABLE_METRICS: ReadonlyArray<readonly [MeasuredStatKey, string]> = [
  ["mean_ttft_ms", "ttft_mean_ms"],
  ["p50_ttft_ms", "ttft_p50_ms"],
  ["p90_ttft_ms", "ttft_p90_ms"],
  ["p99_ttft_ms", "ttft_p99_ms"],
  ["mean_tpot_ms", "tpot_mean_ms"],
  ["p50_tpot_ms", "tpot_p50_ms"],
  ["p90_tpot_ms", "tpot_p90_ms"],
  ["p99_tpot_ms", "tpot_p99_ms"],
  ["mean_itl_ms", "itl_mean_ms"],
  ["mean_e2el_ms", "e2e_mean_ms"],
  ["p50_e2el_ms", "e2e_p50_ms"],
  ["p90_e2el_ms", "e2e_p90_ms"],
  ["p99_e2el_ms", "e2e_p99_ms"]
]

/**
 * The measurement table (one row per sweep point; blank = not measured). Rows without a single metric
 * are skipped with a warning; a malformed number is an error naming the row and column.
 */
export const parseMeasurementCsv = (text: string, name: string): MeasuredSet | string => {
  const parsed = parseCsvRecords(text)
  if (!parsed.ok) return `${name}:${parsed.line}: ${parsed.error}`
  const records = parsed.records
  const rows = records.map((r) => r.cells)
  if (rows.length === 0) return `${name}: empty file`
  const header = rows[0]!.map((h) => h.trim())
  const col = new Map(header.map((h, i) => [h, i]))
  if (col.size < header.length) {
    const dup = header.find((h, i) => header.indexOf(h) !== i)
    return `${name}:1: column ${dup === "" ? "(blank)" : dup} appears more than once in the header`
  }
  for (const required of ["isl", "osl"]) {
    if (!col.has(required)) {
      return `${name}: column ${required} missing (not a measurement table; columns are listed in ../shared/data/README.md)`
    }
  }
  if (!TABLE_METRICS.some(([, c]) => col.has(c)) && !col.has("output_throughput")) {
    return `${name}: no metric columns (ttft_mean_ms, tpot_mean_ms, ..., output_throughput)`
  }
  const points: MeasuredPoint[] = []
  const warnings: string[] = []
  for (let r = 1; r < rows.length; r++) {
    const cells = rows[r]!
    const line = records[r]!.line
    const where = `${name}:${line}`
    if (cells.length !== header.length) return `${where}: ${cells.length} fields, the header has ${header.length}`
    const str = (c: string): string | undefined => {
      const i = col.get(c)
      const v = i === undefined ? undefined : cells[i]!.trim()
      return v === undefined || v === "" ? undefined : v
    }
    let bad: string | undefined
    const num = (c: string): number | undefined => {
      const v = str(c)
      if (v === undefined) return undefined
      const n = Number(v)
      if (!Number.isFinite(n)) {
        bad ??= `${where}: field ${c}: "${v}" is not a number`
        return undefined
      }
      return n
    }
    const isl = num("isl")
    const osl = num("osl")
    const stats: Mutable<MeasuredMetrics> = {}
    for (const [key, c] of TABLE_METRICS) {
      const v = num(c)
      if (v !== undefined) stats[key] = v
    }
    const metrics: MeasuredMetrics = compact({
      ...stats,
      request_throughput: num("request_throughput"),
      output_throughput: num("output_throughput"),
      input_throughput: num("input_throughput")
    })
    const point: MeasuredPoint = compact({
      source: where,
      kind: "table" as const,
      label: str("source"),
      engine: str("engine"),
      engineVersion: str("engine_version"),
      model: str("model"),
      precision: str("precision"),
      gpu: str("gpu"),
      tp: num("tp"),
      pp: num("pp"),
      mode: str("mode"),
      workload: str("workload"),
      isl: isl ?? Number.NaN,
      osl: osl ?? Number.NaN,
      concurrency: num("concurrency"),
      requestRate: num("request_rate"),
      numRequests: num("num_requests"),
      metrics,
      maxNumSeqs: num("max_num_seqs"),
      maxNumBatchedTokens: num("max_num_batched_tokens")
    })
    if (bad !== undefined) return bad
    if (isl === undefined) return `${where}: field isl: blank`
    if (osl === undefined) return `${where}: field osl: blank`
    if (!hasAnyStat(metrics)) {
      warnings.push(`${where}: no measured metric, skipped`)
      continue
    }
    points.push(point)
  }
  return { points, warnings }
}

// ---------------------------------------------------------------------------------------------
// (a) probe run directory

/**
 * Measured points of a probe run: one per point with at least one completed request. A --workload
 * stage point names its one-stage spec (RUN_DIR/workload/<point>.json, absolute) as its workload, so
 * scenarioForPoint simulates that stage as the probe sent it.
 */
/** The probe's lag verdict in a point summary (`lag.lagged`), as a reason, or undefined. */
const laggedReason = (summary: unknown): string | undefined => {
  if (typeof summary !== "object" || summary === null || !("lag" in summary)) return undefined
  const lag: unknown = summary.lag
  if (typeof lag !== "object" || lag === null || !("lagged" in lag) || lag.lagged !== true) return undefined
  return "reason" in lag && typeof lag.reason === "string" ? lag.reason : "the probe marked it lagged"
}

export const measuredPointsFromRunDir = (run: RunDirContents): MeasuredSet => {
  const { manifest } = run
  const points: MeasuredPoint[] = []
  const warnings: string[] = []
  for (const spec of manifest.plan.points) {
    const source = `${run.dir}#${spec.id}`
    // A scaled twin's wall-clock timings, converted back to simulated time.
    const records = recordsInSimulatedTime(run.requests.filter((r) => r.point === spec.id), manifest.server.timeScale ?? 1)
    const measured = records.filter((r) => !r.warmup)
    if (measured.length === 0) {
      warnings.push(`${source}: no requests recorded`)
      continue
    }
    const body = summarizeRecords(records)
    if (body.completed === 0) {
      warnings.push(`${source}: completed 0 (all ${body.failed} requests failed): nothing measured`)
      continue
    }
    const planned = requestsInPoint(spec, manifest.plan.numRequests)
    if (measured.length < planned) {
      warnings.push(`${source}: incomplete (${measured.length}/${planned} requests); resume the run to finish it`)
    }
    const o = body as unknown as Record<string, unknown>
    const t0 = minOf(records.map((r) => r.sentAt))
    const requests: MeasuredRequest[] = records.map((r) => {
      const m = requestMetrics(r)
      return compact({
        sendOffsetS: (r.sentAt - t0) / 1000,
        inputTokens: m.inputTokens,
        outputTokens: m.outputTokens,
        ok: r.ok,
        warmup: r.warmup,
        ttftMs: r.ok ? m.ttftMs : undefined,
        e2elMs: r.ok ? m.e2elMs : undefined
      })
    })
    points.push(compact({
      source,
      kind: "probe" as const,
      engine: "vllm",
      engineVersion: manifest.server.version,
      model: manifest.plan.model,
      workload: spec.kind === "stage" ? path.resolve(stageSpecPath(run.dir, spec.id)) : "random-fixed",
      isl: body.mean_input_tokens ?? manifest.plan.isl,
      osl: body.mean_output_tokens ?? manifest.plan.osl,
      concurrency: spec.kind === "concurrency" ? spec.concurrency : manifest.plan.maxConcurrency || undefined,
      requestRate: spec.kind === "concurrency" || spec.rate === "inf" ? undefined : spec.rate,
      burst: spec.kind === "rate" && spec.rate === "inf" && !(manifest.plan.maxConcurrency! > 0) ? true : undefined,
      burstiness: spec.kind === "rate" && spec.rate !== "inf" && manifest.plan.burstiness !== undefined && manifest.plan.burstiness !== 1 ? manifest.plan.burstiness : undefined,
      numRequests: planned,
      completed: body.completed,
      failed: body.failed,
      durationS: body.duration,
      warmup: manifest.plan.warmup,
      metrics: compact({
        ...statsFromFields(o),
        request_throughput: body.request_throughput,
        output_throughput: body.output_throughput,
        input_throughput: body.duration > 0 ? body.total_input_tokens / body.duration : undefined
      }),
      numGpuBlocks: manifest.server.numGpuBlocks,
      blockSize: manifest.server.blockSize,
      maxModelLen: manifest.server.maxModelLen,
      requests,
      lagged: laggedReason(run.summaries.get(spec.id))
    }))
  }
  return { points, warnings }
}

// ---------------------------------------------------------------------------------------------
// Grouping

/** The load of a point as tables print it: "c=16", "4 req/s", "4 req/s, c≤16" (a capped open loop) or "burst". */
export const loadOf = (p: MeasuredPoint): string =>
  p.concurrency !== undefined && p.requestRate !== undefined
    ? `${p.requestRate} req/s, c≤${p.concurrency}`
    : p.concurrency !== undefined
      ? `c=${p.concurrency}`
      : p.requestRate !== undefined
        ? `${p.requestRate} req/s`
        : "burst"

/**
 * Key of the setting a point was measured in, apart from the load level (concurrency / rate): points
 * with the same key form one sweep (e.g. one vLLM group of silicon-sweeps.csv).
 */

export const settingKey = (p: MeasuredPoint): string =>
  [
    p.engine ?? "",
    p.engineVersion ?? "",
    p.model ?? "",
    p.precision ?? "",
    p.gpu ?? "",
    p.tp ?? "",
    p.pp ?? "",
    p.mode ?? "",
    p.workload ?? "",
    Math.round(p.isl),
    Math.round(p.osl),
    p.maxNumSeqs ?? "",
    p.maxNumBatchedTokens ?? ""
  ].join("|")

/** Points grouped by settingKey, each group ordered by concurrency then rate. */
export const groupBySetting = (points: ReadonlyArray<MeasuredPoint>): ReadonlyMap<string, ReadonlyArray<MeasuredPoint>> => {
  const groups = new Map<string, MeasuredPoint[]>()
  for (const p of points) {
    const k = settingKey(p)
    const g = groups.get(k) ?? []
    g.push(p)
    groups.set(k, g)
  }
  for (const g of groups.values()) {
    g.sort((a, b) => (a.concurrency ?? Infinity) - (b.concurrency ?? Infinity) || (a.requestRate ?? Infinity) - (b.requestRate ?? Infinity))
  }
  return groups
}

// ---------------------------------------------------------------------------------------------
// Effects

const readText = (file: string): Effect.Effect<string, FileError> =>
  Effect.tryPromise({
    try: () => fsp.readFile(file, "utf8"),
    catch: (e) => new FileError({ message: `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}` })
  })

const isDirectory = (p: string): Effect.Effect<boolean, FileError> =>
  Effect.tryPromise({
    try: async () => (await fsp.stat(p)).isDirectory(),
    catch: (e) => new FileError({ message: `cannot read ${p}: ${e instanceof Error ? e.message : String(e)}` })
  })

/** Loads one source: a probe run directory, a bench/probe-summary .json, or a measurement-table .csv. */
export const loadMeasurementSource = (p: string): Effect.Effect<MeasuredSet, InputError | FileError> =>
  Effect.gen(function*() {
    if (yield* isDirectory(p)) {
      const run = yield* readRunDir(p)
      const set = measuredPointsFromRunDir(run)
      if (set.points.length === 0) {
        return yield* new InputError({ message: set.warnings[0] ?? `${p}: the run has no completed requests` })
      }
      return set
    }
    const text = yield* readText(p)
    const ext = path.extname(p).toLowerCase()
    const parsed = ext === ".csv"
      ? parseMeasurementCsv(text, p)
      : ext === ".json"
      ? parseBenchResultJson(text, p)
      : `${p}: expected a probe run directory, a .json bench result or a .csv measurement table`
    if (typeof parsed === "string") return yield* new InputError({ message: parsed })
    const range = firstRangeError(parsed.points)
    if (range !== undefined) return yield* new InputError({ message: range })
    return parsed
  })

/** Loads and concatenates several sources (calibrate/validate accept RUN_DIR | bench.json ... | table.csv). */
export const loadMeasurements = (paths: ReadonlyArray<string>): Effect.Effect<MeasuredSet, InputError | FileError> =>
  Effect.gen(function*() {
    if (paths.length === 0) return yield* new InputError({ message: "no measurement sources given" })
    const points: MeasuredPoint[] = []
    const warnings: string[] = []
    for (const p of paths) {
      const set = yield* loadMeasurementSource(p)
      for (const pt of set.points) points.push(pt)
      for (const w of set.warnings) warnings.push(w)
    }
    return { points, warnings }
  })
