// `servesim probe`: sweep a live vLLM (or the twin) and write a crash-safe run directory.
import { resolve } from "node:path"
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
import { addVllmBenchProbeFlags, probeVllmAliases } from "./vllm-bench-flags.ts"
import { parseStructured, readText } from "../scenario/schema.ts"

interface ProbeFlags {
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
  readonly randomInputLen?: string
  readonly randomOutputLen?: string
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
  } else {
    const list = parseList("--rate", f.rate!)
    if (typeof list === "string") return list
    points = list.map((r) => ({ id: pointId({ kind: "rate", rate: r }), kind: "rate", rate: r }))
  }
  const isl = parseNumber("--isl", f.isl, true, 1)
  if (typeof isl === "string") return isl
  const osl = parseNumber("--osl", f.osl, true, 1)
  if (typeof osl === "string") return osl
  const numRequests = parseNumber("--num-requests", f.numRequests, true, 1)
  if (typeof numRequests === "string") return numRequests
  const warmup = parseNumber("--warmup", f.warmup, true, 0)
  if (typeof warmup === "string") return warmup
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
    ...(maxConcurrency === undefined ? {} : { maxConcurrency })
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
    .option("--rate <list>", "open-loop sweep: Poisson arrivals per second, e.g. 1,2,4")
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
  addVllmBenchProbeFlags(probeCommand)
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
            const plan = planFromFlags(flags, {
              ...(workloadSpec === undefined ? {} : { workloadSpec }),
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
          if (flags.json === true) {
            console.log(JSON.stringify(result.points.map((p) => p.summary), null, 2))
          } else console.log(formatResultTable(result))
        }).pipe(Effect.provide(FetchHttpClient.layer))
      )
    )
}
