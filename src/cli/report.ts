// `servesim report INPUT [--out report.html]`: a self-contained HTML page with plots rendered to inline
// SVG, from a sweep result (RESULTS.json, `--quality scores.csv` adds the quality frontier), a validate
// result (validate --json/--out) or a probe run directory (validated here: measured vs predicted).
import { statSync } from "node:fs"
import { readFile, writeFile } from "node:fs/promises"
import type { Command } from "commander"
import { Console, Effect } from "effect"
import { qualityFrontier } from "../econ/analyze-sweep.ts"
import { parseQualityCsv } from "../econ/pareto.ts"
import type { SweepResult } from "../econ/sweep-result.ts"
import { isRunDir, readRunDir, readScrapes } from "../probe/run-dir.ts"
import type { ScrapeRecord } from "../probe/types.ts"
import { SWEEP_RESULT_FORMAT } from "../econ/sweep-result.ts"
import { buildReport, buildValidationReport, type BuiltReport } from "../report/build-report.ts"
import type { ChartSpec } from "../report/chart-common.ts"
import { kvUsageChart, type KvLine } from "../report/kv-chart.ts"
import { decodeValidationResult, looksLikeValidation, type ValidationResult } from "../report/validation-result.ts"
import { decodeSweepResult } from "../sweep/result-schema.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { runCommand } from "./run-effect.ts"
import { validateReport, type ValidateReport } from "./validate.ts"

export interface ReportFlags {
  readonly out?: string
  readonly quality?: string
  readonly model?: string
  readonly gpu?: string
  readonly profile?: string
}

// validate's JSON is what the report decodes: a change to one that the other does not follow fails here.
const _sameShape = (r: ValidateReport): ValidationResult => r
void _sameShape

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const readText = (path: string) =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new FileError({ message: `cannot read ${path}: ${reasonOf(e)}` }),
  })

/** Adds (or replaces) the quality frontier from a model,score CSV. */
export const withQuality = (result: SweepResult, csvPath: string): Effect.Effect<SweepResult, FileError | InputError> =>
  Effect.gen(function* () {
    const parsed = parseQualityCsv(yield* readText(csvPath), csvPath)
    if (!parsed.ok) return yield* new InputError({ message: parsed.error })
    return { ...result, quality: qualityFrontier(parsed.value, result.points) }
  })

export type ReportInput =
  | { readonly kind: "sweep"; readonly json: unknown }
  | { readonly kind: "validate"; readonly json: unknown }
  | { readonly kind: "run-dir" }

const UNKNOWN = "not a sweep result (sweep --json --out), a validate result (validate --json/--out) or a probe run directory"

/** Which of the three inputs a path is; anything else is refused with one line. */
export const detectReportInput = (path: string): Effect.Effect<ReportInput, FileError | InputError> =>
  Effect.gen(function* () {
    const isDir = yield* Effect.try({ try: () => statSync(path).isDirectory(), catch: (e) => new FileError({ message: `cannot read ${path}: ${reasonOf(e)}` }) })
    if (isDir) return isRunDir(path) ? { kind: "run-dir" as const } : yield* new InputError({ message: `${path}: a directory without manifest.json: ${UNKNOWN}` })
    const text = yield* readText(path)
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (e) => new InputError({ message: `${path}: invalid JSON (${reasonOf(e)}): ${UNKNOWN}` }),
    })
    const format = typeof json === "object" && json !== null && "format" in json ? json.format : undefined
    if (format === SWEEP_RESULT_FORMAT) return { kind: "sweep" as const, json }
    if (looksLikeValidation(json)) return { kind: "validate" as const, json }
    if (typeof json === "object" && json !== null && "folder" in json && "overall" in json)
      return yield* new InputError({ message: `${path}: a benchmark-folder validation (validate FOLDER); report reads the per-point result of validate TABLE.csv | bench.json | RUN_DIR --out` })
    return yield* new InputError({ message: `${path}: ${UNKNOWN}${typeof format === "string" ? ` (format "${format}")` : ""}` })
  })

const sweepOnly = (flags: ReportFlags, kind: string): Effect.Effect<void, InputError> =>
  flags.quality === undefined ? Effect.void : Effect.fail(new InputError({ message: `--quality applies to sweep results, not to a ${kind}` }))

const runDirOnly = (flags: ReportFlags, kind: string): Effect.Effect<void, InputError> => {
  const given = (["model", "gpu", "profile"] as const).find((k) => flags[k] !== undefined)
  return given === undefined ? Effect.void : Effect.fail(new InputError({ message: `--${given} applies to a probe run directory, not to a ${kind}` }))
}

/**
 * A point's measured KV usage (vllm:kv_cache_usage_perc, a 0–1 fraction) against seconds since its first
 * sample; a scaled twin's wall seconds × its time scale, so the axis reads in server time like the records.
 */
export const kvLineOf = (label: string, scrapes: ReadonlyArray<ScrapeRecord>, timeScale = 1): KvLine => {
  const s = scrapes.filter((x): x is ScrapeRecord & { kvCacheUsage: number } => typeof x.kvCacheUsage === "number" && Number.isFinite(x.kvCacheUsage))
  const t0 = s[0]?.at ?? 0
  return { label, time: s.map((x) => ((x.at - t0) / 1000) * timeScale), usage: s.map((x) => x.kvCacheUsage) }
}

/** The run's measured KV-usage plot, when the probe could scrape /metrics. */
const measuredKvChart = (dir: string): Effect.Effect<ChartSpec | undefined, FileError | InputError> =>
  Effect.gen(function* () {
    const run = yield* readRunDir(dir)
    const lines: KvLine[] = []
    for (const p of run.manifest.plan.points) lines.push(kvLineOf(p.id, yield* readScrapes(dir, p.id), run.manifest.server.timeScale ?? 1))
    return kvUsageChart(lines, {
      id: "kv-measured",
      title: "Measured KV-cache usage",
      clock: "time into the point",
      source: "vllm:kv_cache_usage_perc as the probe scraped it from /metrics (about once a second) during each point.",
    })
  })

/** The page for any of the three inputs, and what it was built from. */
export const buildReportFor = (input: string, flags: ReportFlags): Effect.Effect<{ report: BuiltReport; what: string }, FileError | InputError> =>
  Effect.gen(function* () {
    const detected = yield* detectReportInput(input)
    // Rendering failures are bugs, not bad input: they surface as defects.
    if (detected.kind === "sweep") {
      yield* runDirOnly(flags, "sweep result")
      const loaded = yield* decodeSweepResult(detected.json, input)
      const result = flags.quality === undefined ? loaded : yield* withQuality(loaded, flags.quality)
      return { report: yield* Effect.promise(() => buildReport(result)), what: `${result.points.length} points` }
    }
    yield* sweepOnly(flags, detected.kind === "validate" ? "validate result" : "probe run directory")
    if (detected.kind === "validate") {
      yield* runDirOnly(flags, "validate result")
      const decoded = decodeValidationResult(detected.json, input)
      if (!decoded.ok) return yield* new InputError({ message: decoded.error })
      const v = decoded.value
      return { report: yield* Effect.promise(() => buildValidationReport(v, `servesim validation: ${v.sources.join(", ")}`)), what: `${v.rows.length} measured points` }
    }
    const v = yield* validateReport([input], {
      engine: "all",
      harness: "auto",
      ...(flags.model !== undefined ? { model: flags.model } : {}),
      ...(flags.gpu !== undefined ? { gpu: flags.gpu } : {}),
      ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
    })
    const kv = yield* measuredKvChart(input)
    const title = `servesim probe run: ${input}, measured vs predicted`
    return { report: yield* Effect.promise(() => buildValidationReport(v, title, kv === undefined ? [] : [kv])), what: `${v.rows.length} measured points` }
  })

export const reportProgram = (input: string, flags: ReportFlags): Effect.Effect<void, FileError | InputError> =>
  Effect.gen(function* () {
    const out = flags.out ?? "report.html"
    const { report, what } = yield* buildReportFor(input, flags)
    yield* Effect.tryPromise({
      try: () => writeFile(out, report.html, "utf8"),
      catch: (e) => new FileError({ message: `cannot write ${out}: ${reasonOf(e)}` }),
    })
    yield* Console.log(`wrote ${out}: ${report.charts.length} plots, ${what}`)
  })

export const register = (program: Command): void => {
  program
    .command("report")
    .description("Render a sweep result, a validate result or a probe run directory as a self-contained HTML page with plots")
    .argument("<input>", "RESULTS.json (`sweep --json --out`), validate.json (`validate --json/--out`) or a probe RUN_DIR")
    .option("--out <file>", "HTML file to write", "report.html")
    .option("--quality <csv>", "sweep results: model,score CSV, adds the quality-vs-cost frontier")
    .option("--model <id>", "probe run directory: model, when the run does not say")
    .option("--gpu <id>", "probe run directory: GPU the run measured")
    .option("--profile <profile.json>", "probe run directory: calibrated step-time profile for the predictions")
    .action((input: string, flags: ReportFlags) => runCommand(reportProgram(input, flags)))
}
