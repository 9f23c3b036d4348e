// `servesim probe`: sweep a live vLLM (or the twin) and write a crash-safe run directory.
import { join, resolve } from "node:path"
import { Command, Option as CliOption } from "commander"
import { Effect } from "effect"
import { FetchHttpClient } from "effect/http"
import { apiKeyFromEnv } from "../probe/client.ts"
import { DEFAULT_MAX_LAG_FRACTION } from "../probe/lag.ts"
import { streamProgress } from "../probe/progress.ts"
import { DEFAULT_CONNECT_TIMEOUT_S, resumeProbe, startProbe } from "../probe/runner.ts"
import type { PointSummary, ProbePlan, ProbeResult } from "../probe/runner.ts"
import { pointId } from "../probe/types.ts"
import type { PointSpec } from "../probe/types.ts"
import { workloadPlan } from "../probe/workload.ts"
import { InputError } from "../scenario/errors.ts"
import { runCommand } from "./run-effect.ts"
import { addVllmBenchProbeFlags, addVllmBenchResultFlags, probeVllmAliases, selectedStatLines, vllmBenchMapping, type VllmBenchFlags, type VllmBenchResultFlags } from "./vllm-bench-flags.ts"
import { goodputOption } from "./flags.ts"
import { makeDir, writeJson } from "./simulate.ts"
import { benchDate } from "../scenario/bench-result.ts"
import { probeBenchResult, resultFilenames, type SummaryHead } from "../probe/bench-file.ts"
import { readRunDir } from "../probe/run-dir.ts"
import { recordsInSimulatedTime } from "../probe/lag.ts"
import type { GoodputSlo } from "../sim/spec.ts"
import { parseStructured, readText } from "../scenario/schema.ts"
import { datasetRequests, sha256 } from "../probe/dataset.ts"
import type { LengthRange, ProbeDataset, ProbeDatasetSpec } from "../probe/dataset.ts"

type DatasetFlags = Pick<
  VllmBenchFlags,
  | "datasetName"
  | "datasetPath"
  | "inputLen"
  | "outputLen"
  | "randomInputLen"
  | "randomOutputLen"
  | "randomRangeRatio"
  | "randomPrefixLen"
  | "prefixRepetitionPrefixLen"
  | "prefixRepetitionSuffixLen"
  | "prefixRepetitionNumPrefixes"
  | "prefixRepetitionOutputLen"
  | "sharegptOutputLen"
  | "customOutputLen"
>

const DATASET_KEYS: ReadonlyArray<keyof DatasetFlags> = [
  "datasetName",
  "datasetPath",
  "inputLen",
  "outputLen",
  "randomInputLen",
  "randomOutputLen",
  "randomRangeRatio",
  "randomPrefixLen",
  "prefixRepetitionPrefixLen",
  "prefixRepetitionSuffixLen",
  "prefixRepetitionNumPrefixes",
  "prefixRepetitionOutputLen",
  "sharegptOutputLen",
  "customOutputLen"
]

interface ProbeFlags extends DatasetFlags, VllmBenchResultFlags {
  readonly url?: string
  readonly model?: string
  readonly concurrency?: string
  readonly rate?: string
  readonly workload?: string
  readonly stages?: string
  readonly inferencePerfDefaults?: boolean
  readonly maxConcurrency?: string
  readonly requestRate?: string
  readonly numPrompts?: string
  readonly burstiness?: number
  readonly isl: string
  readonly osl: string
  readonly numRequests: string
  readonly warmup: string
  readonly timeout?: string
  readonly connectTimeout?: string
  readonly maxLag?: string
  readonly apiKeyEnv?: string
  readonly chat?: boolean
  readonly out?: string
  readonly resume?: string
  readonly seed: string
  readonly scrapeInterval: string
  readonly json?: boolean
  readonly goodput?: GoodputSlo
}

const DEFAULT_TIMEOUT_S = 600

const parseList = (flag: string, text: string): ReadonlyArray<number> | string => {
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  if (parts.length === 0) return `${flag} ${text}: expected a comma-separated list`
  const out: number[] = []
  for (const p of parts) {
    const n = Number(p)
    if (!Number.isFinite(n) || n <= 0) return `${flag} ${text}: "${p}" is not a positive number`
    out.push(n)
  }
  return out
}

/** `--rate 1,2,inf` → rates (inf: every request at once, as vllm bench). */
const parseRates = (flag: string, text: string): ReadonlyArray<number | "inf"> | string => {
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  if (parts.length === 0) return `${flag} ${text}: expected a comma-separated list`
  const out: Array<number | "inf"> = []
  for (const p of parts) {
    const n = Number(p)
    if (p !== "inf" && !(Number.isFinite(n) && n > 0)) return `${flag} ${text}: "${p}" is not a positive number or inf`
    out.push(p === "inf" ? "inf" : n)
  }
  return out
}

const parseNumber = (flag: string, text: string, integer: boolean, min: number): number | string => {
  const n = Number(text)
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    return `${flag} ${text}: expected ${integer ? "an integer" : "a number"} ≥ ${min}`
  }
  return n
}

/** `--stages 0,2` → stage indices. */
const parseStages = (text: string): ReadonlyArray<number> | string => {
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  if (parts.length === 0) return `--stages ${text}: expected a comma-separated list of stage indices (0 is the first)`
  const out: number[] = []
  for (const p of parts) {
    const n = Number(p)
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(n)) return `--stages ${text}: "${p}" is not a stage index (0, 1, ...)`
    out.push(n)
  }
  return out
}

/** What planFromFlags needs besides the flags. */
export interface PlanInputs {
  /** The parsed --workload file (JSON or YAML), read by the caller. */
  readonly workloadSpec?: unknown
  /** The text of the --dataset-path file, read by the caller. */
  readonly datasetText?: string
  /** Whether a flag with a default was given on the command line (attribute name, e.g. "numRequests"). */
  readonly given?: (attribute: string) => boolean
}

const workloadPlanFromFlags = (f: ProbeFlags & { url: string; model: string }, inputs: PlanInputs): ProbePlan | string => {
  const file = f.workload!
  for (const [value, flag] of [[f.concurrency, "--concurrency"], [f.rate, "--rate"], [f.maxConcurrency, "--max-concurrency"]] as const) {
    if (value !== undefined) return `${flag}: --workload runs the spec's own arrivals (its load.stages); give one or the other`
  }
  for (const [attr, flag] of [["isl", "--isl"], ["osl", "--osl"], ["numRequests", "--num-requests"], ["warmup", "--warmup"]] as const) {
    if (inputs.given?.(attr) === true) return `${flag}: --workload takes lengths and request counts from the spec; give one or the other`
  }
  const datasetFlag = DATASET_KEYS.find((k) => f[k] !== undefined)
  if (datasetFlag !== undefined) return `${flagOf(datasetFlag)}: --workload sends the spec's own prompts; give one or the other`
  if (f.burstiness !== undefined) return "--burstiness: --workload runs the spec's own arrivals (its load.stages); give one or the other"
  if (inputs.workloadSpec === undefined) return `--workload ${file}: the spec was not read`
  let stages: ReadonlyArray<number> | undefined
  if (f.stages !== undefined) {
    const s = parseStages(f.stages)
    if (typeof s === "string") return s
    stages = s
  }
  const w = workloadPlan(inputs.workloadSpec, resolve(file), {
    seed: f.seed,
    name: file,
    ...(stages === undefined ? {} : { stages }),
    ...(f.inferencePerfDefaults === true ? { inferencePerfDefaults: true } : {})
  })
  if (typeof w === "string") return w
  const timeoutS = parseNumber("--timeout", f.timeout ?? String(DEFAULT_TIMEOUT_S), false, 0.001)
  if (typeof timeoutS === "string") return timeoutS
  const spec = w.workload.spec
  return {
    url: f.url.replace(/\/+$/, "").replace(/\/v1$/, ""),
    model: f.model,
    endpoint: f.chat === true ? "chat" : "completions",
    mode: "workload",
    points: w.points,
    isl: spec.systemPromptLen + spec.questionLen,
    osl: spec.outputLen,
    numRequests: w.points.reduce((a, p) => a + p.numRequests, 0),
    warmup: 0,
    timeoutS,
    seed: f.seed,
    workload: w.workload,
    ...(f.apiKeyEnv === undefined ? {} : { apiKeyEnv: f.apiKeyEnv })
  }
}

const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

const lengthRange = (v: unknown): LengthRange => {
  if (typeof v === "number") return { min: v, max: v }
  const d = v as { min: number; max: number }
  return { min: d.min, max: d.max }
}

/**
 * The vllm bench dataset flags as the probe runs them: vllmBenchMapping (the one mapping simulate uses)
 * decides the dataset and its lengths; a fixed-length random dataset without a prefix is the probe's
 * plain --isl/--osl run. `lengths`: the probe's own --isl/--osl (typed or not) and request counts.
 */
const probeDataset = (
  f: ProbeFlags,
  lengths: { readonly isl: number; readonly osl: number; readonly numRequests: number; readonly warmup: number },
  inputs: PlanInputs
): { readonly isl: number; readonly osl: number; readonly numRequests: number; readonly dataset?: ProbeDataset } | string => {
  const bench: Record<string, unknown> = { numRequests: lengths.numRequests }
  for (const k of DATASET_KEYS) if (f[k] !== undefined) bench[k] = f[k]
  if (inputs.given?.("isl") === true) bench.isl = lengths.isl
  if (inputs.given?.("osl") === true) bench.osl = lengths.osl
  if ((f.datasetName === "sharegpt" || f.datasetName === "custom") && f.datasetPath === undefined)
    return `--dataset-name ${f.datasetName} needs --dataset-path FILE: the probe sends the file's prompts (${f.datasetName === "sharegpt" ? "a ShareGPT JSON list of {conversations: [...]}" : 'one {"prompt": ...} per line'})`
  if (f.datasetPath !== undefined && f.datasetName === undefined) return "--dataset-path needs --dataset-name sharegpt or custom"
  const m = vllmBenchMapping(bench, false, false)
  if (typeof m === "string") return m
  if (m.dropWorkload.length === 0) return lengths
  const seed = f.seed
  const count = lengths.warmup + (m.flags.numRequests ?? lengths.numRequests)
  const numRequests = m.flags.numRequests ?? lengths.numRequests
  const file = m.workload.dataset as { name: "sharegpt" | "custom"; path: string; outputLen?: number } | undefined
  const prefix = m.workload.prefix as { numGroups: number; length: number } | undefined
  let spec: ProbeDatasetSpec
  if (file !== undefined) {
    if (inputs.datasetText === undefined) return `--dataset-path ${file.path}: the file was not read`
    spec = { name: file.name, path: resolve(file.path), ...(file.outputLen === undefined ? {} : { outputLen: file.outputLen }), sha256: sha256(inputs.datasetText) }
  } else if (f.datasetName === "prefix_repetition" || (prefix !== undefined && prefix.numGroups > 1)) {
    spec = { name: "prefix_repetition", prefixLen: prefix?.length ?? 256, suffixLen: Number(m.flags.isl), numPrefixes: prefix?.numGroups ?? 10, outputLen: Number(m.flags.osl) }
  } else {
    const input = lengthRange(m.flags.isl)
    const output = lengthRange(m.flags.osl)
    const prefixLen = prefix?.length ?? 0
    // vllm's random dataset at range ratio 0 without a prefix: every request isl in / osl out.
    if (input.min === input.max && output.min === output.max && prefixLen === 0) return { isl: input.min, osl: output.min, numRequests }
    spec = { name: "random", input, output, prefixLen }
  }
  const requests = datasetRequests(spec, count, seed, inputs.datasetText)
  if (typeof requests === "string") return `--dataset-path ${f.datasetPath ?? ""}: ${requests}`
  const dataset: ProbeDataset = { spec, requests }
  const measured = requests.slice(lengths.warmup)
  return {
    isl: Math.max(1, Math.round(measured.reduce((a, r) => a + r.input, 0) / measured.length)),
    osl: Math.max(1, Math.round(measured.reduce((a, r) => a + r.output, 0) / measured.length)),
    numRequests,
    dataset
  }
}

/** Flags → plan, or a one-line error naming the flag. */
export const planFromFlags = (f: ProbeFlags, inputs: PlanInputs = {}): ProbePlan | string => {
  if (f.url === undefined) return "--url is required (the server root, e.g. http://127.0.0.1:8000)"
  if (f.model === undefined) return "--model is required (the served model name, as /v1/models lists it)"
  if (f.workload !== undefined) return workloadPlanFromFlags({ ...f, url: f.url, model: f.model }, inputs)
  if (f.stages !== undefined) return "--stages selects stages of a --workload spec"
  if (f.inferencePerfDefaults === true) return "--inference-perf-defaults applies to a --workload spec"
  if (f.concurrency !== undefined && f.rate !== undefined) return "give --concurrency or --rate, not both"
  if (f.concurrency === undefined && f.rate === undefined) {
    return "give --concurrency 1,4,16,64 (closed loop) or --rate 1,2,4 (Poisson), or --workload SPEC.json (a shared-prefix workload)"
  }
  let points: PointSpec[]
  if (f.concurrency !== undefined) {
    const list = parseList("--concurrency", f.concurrency)
    if (typeof list === "string") return list
    if (list.some((c) => !Number.isInteger(c))) return `--concurrency ${f.concurrency}: expected integers`
    points = list.map((c) => ({ id: pointId({ kind: "concurrency", concurrency: c }), kind: "concurrency", concurrency: c }))
    if (f.burstiness !== undefined) return "--burstiness shapes the arrivals of a --rate/--request-rate sweep; a --concurrency sweep is a closed loop"
  } else {
    const list = parseRates("--rate", f.rate!)
    if (typeof list === "string") return list
    points = list.map((r) => ({ id: pointId({ kind: "rate", rate: r }), kind: "rate", rate: r }))
  }
  const islFlag = parseNumber("--isl", f.isl, true, 1)
  if (typeof islFlag === "string") return islFlag
  const oslFlag = parseNumber("--osl", f.osl, true, 1)
  if (typeof oslFlag === "string") return oslFlag
  const requestsFlag = parseNumber("--num-requests", f.numRequests, true, 1)
  if (typeof requestsFlag === "string") return requestsFlag
  const warmup = parseNumber("--warmup", f.warmup, true, 0)
  if (typeof warmup === "string") return warmup
  const ds = probeDataset(f, { isl: islFlag, osl: oslFlag, numRequests: requestsFlag, warmup }, inputs)
  if (typeof ds === "string") return ds
  const { isl, osl, numRequests } = ds
  const timeoutS = parseNumber("--timeout", f.timeout ?? String(DEFAULT_TIMEOUT_S), false, 0.001)
  if (typeof timeoutS === "string") return timeoutS
  let maxConcurrency: number | undefined
  if (f.maxConcurrency !== undefined) {
    if (f.rate === undefined) return "--max-concurrency caps an open-loop --rate sweep; with --concurrency it is the concurrency itself"
    const m = parseNumber("--max-concurrency", f.maxConcurrency, true, 1)
    if (typeof m === "string") return m
    maxConcurrency = m
  }
  return {
    url: f.url.replace(/\/+$/, "").replace(/\/v1$/, ""),
    model: f.model,
    endpoint: f.chat === true ? "chat" : "completions",
    mode: f.concurrency !== undefined ? "concurrency" : "rate",
    points,
    isl,
    osl,
    numRequests,
    warmup,
    timeoutS,
    seed: f.seed,
    ...(f.apiKeyEnv === undefined ? {} : { apiKeyEnv: f.apiKeyEnv }),
    ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    ...(f.burstiness === undefined ? {} : { burstiness: f.burstiness }),
    ...(ds.dataset === undefined ? {} : { dataset: ds.dataset })
  }
}

const fmt = (v: number | null, digits = 1): string => (v === null ? "-" : v.toFixed(digits))

/** The end-of-run table, one line per point. */
export const formatResultTable = (result: ProbeResult): string => {
  const head = ["point", "completed", "failed", "req/s", "out tok/s", "ttft mean", "ttft p99", "tpot mean", "itl mean", "e2el mean"]
  const rows = result.points.map(({ id, summary: s }: { id: string; summary: PointSummary }) => [
    id,
    String(s.completed),
    String(s.failed),
    fmt(s.request_throughput, 2),
    fmt(s.output_throughput),
    fmt(s.mean_ttft_ms),
    fmt(s.p99_ttft_ms),
    fmt(s.mean_tpot_ms, 2),
    fmt(s.mean_itl_ms, 2),
    fmt(s.mean_e2el_ms)
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  return [line(head), ...rows.map(line), `(latencies in ms; run directory ${result.dir})`].join("\n")
}

/** --save-detailed, --result-dir and --result-filename shape --save-result's files: alone they would do nothing. */
const resultFlagProblem = (f: ProbeFlags): string | undefined => {
  for (const [v, flag] of [[f.saveDetailed, "--save-detailed"], [f.resultDir, "--result-dir"], [f.resultFilename, "--result-filename"]] as const)
    if (v !== undefined && f.saveResult !== true) return `${flag}: shapes the files of --save-result; give --save-result too`
  return undefined
}

/** Whether the printed results carry vllm bench's selected statistics (--percentile-metrics, --metric-percentiles, --goodput). */
const selects = (f: ProbeFlags): boolean => f.percentileMetrics !== undefined || f.metricPercentiles !== undefined || f.goodput !== undefined

/**
 * Each point of the run as a vllm bench result, from the run directory's records in simulated time
 * (the ones its summary was computed from).
 */
const benchResults = (result: ProbeResult, f: ProbeFlags, date: string, detailed: boolean) =>
  Effect.map(readRunDir(result.dir), (run) =>
    result.points.map((p) => ({
      id: p.id,
      bench: probeBenchResult(
        p.summary as unknown as Record<string, unknown> & SummaryHead,
        recordsInSimulatedTime(run.requests.filter((r) => r.point === p.id), run.manifest.server.timeScale ?? 1),
        {
          date,
          detailed,
          ...(f.percentileMetrics === undefined ? {} : { percentileMetrics: f.percentileMetrics }),
          ...(f.metricPercentiles === undefined ? {} : { metricPercentiles: f.metricPercentiles }),
          ...(f.goodput === undefined ? {} : { goodput: f.goodput }),
          ...(f.label === undefined ? {} : { label: f.label }),
          ...(f.metadata === undefined ? {} : { metadata: f.metadata })
        }
      )
    }))
  )

/** The selected statistics of each point under the table, as vllm bench prints them. */
const selectedBlock = (benches: ReadonlyArray<{ readonly id: string; readonly bench: Record<string, unknown> }>, f: ProbeFlags): string[] =>
  benches.flatMap(({ id, bench }) => [
    "",
    `${id}:`,
    ...(typeof bench.request_goodput === "number" ? [`${"Request goodput (req/s):".padEnd(40)} ${bench.request_goodput.toFixed(2)}`] : []),
    ...selectedStatLines(bench, f)
  ])

/** Recorded in the manifest: the command line without values that could be secrets (none are taken as flags). */
const argvForManifest = (): string => process.argv.slice(2).join(" ")

export const register = (program: Command): void => {
  const probeCommand = program
    .command("probe")
    .description(
      "Measure a live vLLM server (or the twin): sweep concurrency (closed loop) or request rate (Poisson), " +
        "or send an inference-perf shared-prefix workload spec (--workload, one point per rate stage, the " +
        "requests `simulate` generates for it); streaming /v1/completions with ignore_eos and usage on every " +
        "chunk, scraping /metrics; writes a crash-safe run directory (manifest.json, requests.jsonl, metrics/, " +
        "points/, workload/) that calibrate and validate read."
    )
    .option("--url <url>", "server root, e.g. http://127.0.0.1:8000")
    .option("--model <name>", "served model name (as /v1/models lists it)")
    .option("--concurrency <list>", "closed-loop sweep: requests in flight, e.g. 1,4,16,64 (like vllm bench --max-concurrency)")
    .option("--rate <list>", "open-loop sweep: arrivals per second, e.g. 1,2,4 (Poisson, or gamma with --burstiness; inf = all at once)")
    .option(
      "--workload <file>",
      "inference-perf shared-prefix workload spec (JSON/YAML, as ../shared/data/serving/workloads): its system prompts, " +
        "questions, multi-turn history, lengths and rate stages (open loop, the simulator's arrivals); one point per stage"
    )
    .option("--stages <list>", "with --workload: the stage indices to run, e.g. 0 (default: all)")
    .option(
      "--inference-perf-defaults",
      "with --workload: run it as inference-perf versions that ignore num_unique_system_prompts & co. did " +
        "(10 system prompts × 10 single-turn questions)"
    )
    .option("--max-concurrency <n>", "with --rate: cap on requests in flight; alone, a closed loop at N (as vllm bench)")
    .option("--isl <tokens>", "prompt tokens per request", "1024")
    .option("--osl <tokens>", "output tokens per request (max_tokens, ignore_eos)", "128")
    .option("--num-requests <n>", "measured requests per point", "200")
    .option("--warmup <n>", "warm-up requests per point, sent first in the same loop and excluded", "0")
    .option("--timeout <seconds>", `per-request deadline for the whole stream (default ${DEFAULT_TIMEOUT_S})`)
    .option(
      "--connect-timeout <seconds>",
      "deadline for a response's headers (connect + first byte), separate from --timeout; a server that accepts " +
        "connections and never answers is given up after at most 4 × this (the start-up GETs and one prompt-calibration " +
        "request, not retried), i.e. 2 min by default",
      String(DEFAULT_CONNECT_TIMEOUT_S)
    )
    .option(
      "--max-lag <fraction>",
      `mark a point lagged (calibrate then refuses it) when the server's or the probe's event-loop lag, × a twin's time scale, ` +
        `could bias its mean TTFT or E2EL by more than this fraction (default ${DEFAULT_MAX_LAG_FRACTION}); a twin's scaled times are converted back`
    )
    .option("--api-key-env <NAME>", "environment variable holding the API key (sent as Bearer; never written)")
    .option("--chat", "use /v1/chat/completions instead of /v1/completions")
    .option("--out <dir>", "new run directory")
    .option("--resume <dir>", "continue an interrupted run: only requests not yet recorded are sent")
    .option("--seed <seed>", "seed for prompts and arrivals (--workload: the simulator's seed; calibrate/validate simulate seed 0)", "0")
    .option("--scrape-interval <seconds>", "/metrics period during a point (0 = off)", "1")
    .addOption(new CliOption("--json", "print the point summaries as JSON instead of a table"))
  addVllmBenchResultFlags(addVllmBenchProbeFlags(probeCommand), {
    saveResult: "vllm bench: also write each point as a vllm bench result JSON, named {backend}-{rate}qps[-concurrency{N}]-{model}-{date}.json " +
      "(points that would share a name, or every point with --result-filename, get -POINT before .json)",
    saveDetailed: "vllm bench: add the per-request arrays (input_lens, output_lens, ttfts, itls, start_times, latencies, generated_texts, errors) to --save-result's files",
    resultDir: "vllm bench: folder for --save-result's files (created if missing; default the run directory)"
  })
    .addOption(goodputOption())
    .action((given: ProbeFlags, cmd: Command) =>
      runCommand(
        Effect.gen(function*() {
          const flags = probeVllmAliases(given, (key) => cmd.getOptionValueSource(key) === "cli")
          if (typeof flags === "string") return yield* new InputError({ message: flags })
          if (flags.out !== undefined && flags.resume !== undefined) {
            return yield* new InputError({ message: "give --out DIR for a new run or --resume DIR, not both" })
          }
          if (flags.out === undefined && flags.resume === undefined) {
            return yield* new InputError({ message: "--out RUN_DIR is required (or --resume RUN_DIR)" })
          }
          const resultProblem = resultFlagProblem(flags)
          if (resultProblem !== undefined) return yield* new InputError({ message: resultProblem })
          const scrape = parseNumber("--scrape-interval", flags.scrapeInterval, false, 0)
          if (typeof scrape === "string") return yield* new InputError({ message: scrape })
          const connectTimeoutS = parseNumber("--connect-timeout", flags.connectTimeout ?? String(DEFAULT_CONNECT_TIMEOUT_S), false, 0.001)
          if (typeof connectTimeoutS === "string") return yield* new InputError({ message: connectTimeoutS })
          const maxLag = parseNumber("--max-lag", flags.maxLag ?? String(DEFAULT_MAX_LAG_FRACTION), false, 0.0001)
          if (typeof maxLag === "string") return yield* new InputError({ message: maxLag })
          // --json: plain periodic lines on stderr, never a redrawn one (as the other long commands).
          const progress = streamProgress(flags.json === true ? { write: (s: string) => process.stderr.write(s) } : process.stderr)
          let result: ProbeResult
          if (flags.resume !== undefined) {
            const key = apiKeyFromEnv(flags.apiKeyEnv)
            if (typeof key === "string") return yield* new InputError({ message: key })
            let timeoutS: number | undefined
            if (flags.timeout !== undefined) {
              const t = parseNumber("--timeout", flags.timeout, false, 0.001)
              if (typeof t === "string") return yield* new InputError({ message: t })
              timeoutS = t
            }
            result = yield* resumeProbe(
              {
                ...(flags.url === undefined ? {} : { url: flags.url.replace(/\/+$/, "").replace(/\/v1$/, "") }),
                ...(timeoutS === undefined ? {} : { timeoutS }),
                ...(flags.apiKeyEnv === undefined ? {} : { apiKeyEnv: flags.apiKeyEnv })
              },
              {
                outDir: flags.resume,
                progress,
                scrapeIntervalMs: scrape * 1000,
                connectTimeoutMs: connectTimeoutS * 1000,
              maxLagFraction: maxLag,
                argv: argvForManifest(),
                ...(key === undefined ? {} : { apiKey: key })
              }
            )
          } else {
            const workloadSpec = flags.workload === undefined ? undefined : yield* parseStructured(yield* readText(flags.workload), flags.workload)
            const fileDataset = flags.datasetName === "sharegpt" || flags.datasetName === "custom"
            const datasetText = flags.datasetPath === undefined || flags.workload !== undefined || !fileDataset ? undefined : yield* readText(flags.datasetPath)
            const plan = planFromFlags(flags, {
              ...(workloadSpec === undefined ? {} : { workloadSpec }),
              ...(datasetText === undefined ? {} : { datasetText }),
              given: (attribute) => cmd.getOptionValueSource(attribute) === "cli"
            })
            if (typeof plan === "string") return yield* new InputError({ message: plan })
            const key = apiKeyFromEnv(flags.apiKeyEnv)
            if (typeof key === "string") return yield* new InputError({ message: key })
            result = yield* startProbe(plan, {
              outDir: flags.out!,
              progress,
              scrapeIntervalMs: scrape * 1000,
              connectTimeoutMs: connectTimeoutS * 1000,
              maxLagFraction: maxLag,
              argv: argvForManifest(),
              ...(key === undefined ? {} : { apiKey: key })
            })
          }
          const date = benchDate()
          if (flags.saveResult === true) {
            const files = yield* benchResults(result, flags, date, flags.saveDetailed === true)
            const dir = flags.resultDir ?? result.dir
            yield* makeDir(dir)
            const names = resultFilenames(files, date, flags.resultFilename)
            for (let i = 0; i < files.length; i++) {
              const file = join(dir, names[i]!)
              yield* writeJson(file, files[i]!.bench)
              progress.info(`${files[i]!.id}: vllm bench result ${file}`)
            }
          }
          const shown = selects(flags) ? yield* benchResults(result, flags, date, false) : undefined
          if (flags.json === true) {
            console.log(JSON.stringify(shown === undefined ? result.points.map((p) => p.summary) : shown.map((b) => b.bench), null, 2))
          } else console.log([formatResultTable(result), ...(shown === undefined ? [] : selectedBlock(shown, flags))].join("\n"))
        }).pipe(Effect.provide(FetchHttpClient.layer))
      )
    )
}
