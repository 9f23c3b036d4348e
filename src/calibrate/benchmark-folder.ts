// Validation over a benchmark folder in the sim2real layout (actuals.csv, scenarios/*.json,
// workloads/, models/): simulate every scenario, join to the actuals by experiment and stage, and
// report signed errors per row and median |error| per model and overall.
import { Effect } from "effect"
import { existsSync, readdirSync, statSync } from "node:fs"
import { basename, isAbsolute, join, resolve } from "node:path"
import { FileError, InputError } from "../scenario/errors.ts"
import { readScenarioFile, readText } from "../scenario/schema.ts"
import type { BenchSummary } from "../sim/bench-summary.ts"
import type { SimSummary } from "../sim/summary.ts"
import { medianAbs } from "./compare.ts"
import { parseCsvRecords } from "../format/csv.ts"
import { simulateScenarioObject, type RunResolved } from "./predict-point.ts"

export const FOLDER_METRICS = ["e2e_mean", "e2e_p90", "e2e_p99", "itl_mean", "ttft_mean", "ttft_p90", "ttft_p99"] as const
export type FolderMetric = (typeof FOLDER_METRICS)[number]

/** The actuals.csv column of each metric (ms). */
const ACTUAL_COLUMN: Record<FolderMetric, string> = {
  e2e_mean: "e2e_mean_ms",
  e2e_p90: "e2e_p90_ms",
  e2e_p99: "e2e_p99_ms",
  itl_mean: "itl_mean_ms",
  ttft_mean: "ttft_mean_ms",
  ttft_p90: "ttft_p90_ms",
  ttft_p99: "ttft_p99_ms",
}

/** The simulate-summary field of each metric; itl_mean is derived (benchmarkItl). */
const SUMMARY_FIELD: Record<Exclude<FolderMetric, "itl_mean">, string> = {
  e2e_mean: "mean_e2el_ms",
  e2e_p90: "p90_e2el_ms",
  e2e_p99: "p99_e2el_ms",
  ttft_mean: "mean_ttft_ms",
  ttft_p90: "p90_ttft_ms",
  ttft_p99: "p99_ttft_ms",
}

export interface ActualRow {
  readonly experiment: string
  readonly model: string
  /** −1 = whole run, 0.. = rate stage. */
  readonly stage: number
  readonly values: Readonly<Record<FolderMetric, number>>
}

export interface FolderRow {
  readonly experiment: string
  readonly model: string
  readonly stage: number
  readonly actual: Readonly<Record<FolderMetric, number>>
  readonly predicted: Readonly<Record<FolderMetric, number>>
  /** (predicted − actual) / actual × 100. */
  readonly errorPct: Readonly<Record<FolderMetric, number>>
  /** Output tokens the client counted per generated one (benchmarkItl). */
  readonly countedOutputFraction: number
}

export type MedianTable = Readonly<Record<FolderMetric, { readonly medianAbsPct: number; readonly n: number }>>

export interface FolderReport {
  readonly folder: string
  readonly rows: ReadonlyArray<FolderRow>
  readonly overall: MedianTable
  readonly byModel: Readonly<Record<string, MedianTable>>
  /** Actual rows repeated verbatim (same experiment and stage) that were counted once. */
  readonly duplicatesDropped: number
  /** Experiments with a scenario and no actuals, or actuals and no scenario. */
  readonly unmatched: ReadonlyArray<string>
}

/** A directory that is not a probe run (no manifest.json): validate's benchmark-folder form. */
export const isBenchmarkFolder = (path: string): boolean => existsSync(path) && statSync(path).isDirectory() && !existsSync(join(path, "manifest.json"))

/**
 * Output tokens the benchmark client counted per token the server generated. inference-perf
 * counts output tokens by re-tokenising the streamed text; the sim2real folder's README gives the
 * only measured figure, Llama-2-7B: 195 counted of 247 generated (its 32k SentencePiece vocabulary
 * does not round-trip the random ignore_eos text). CodeLlama is Llama-2 with the same tokenizer (plus
 * infill tokens), so it shares the figure. The README gives no shortfall for other tokenizers, so they
 * count what was generated.
 */
export const countedOutputFraction = (modelId: string): number => (/llama-2-|codellama/i.test(modelId) ? 195 / 247 : 1)

/**
 * ITL as the benchmark computes it: (E2E mean − TTFT mean) / (mean counted output tokens − 1),
 * with the counted tokens the simulated generated tokens times countedOutputFraction.
 */
export const benchmarkItl = (s: Readonly<Record<string, unknown>>, fraction: number): number => {
  const e2e = Number(s["mean_e2el_ms"])
  const ttft = Number(s["mean_ttft_ms"])
  const completed = Number(s["completed"])
  const out = Number(s["total_output_tokens"])
  const counted = (out / completed) * fraction
  return counted > 1 ? (e2e - ttft) / (counted - 1) : Number.NaN
}

/** Parses actuals.csv: one row per experiment and stage (the header names the columns). */
export const parseActuals = (text: string, name: string): { rows: ActualRow[]; duplicatesDropped: number } | string => {
  const parsed = parseCsvRecords(text)
  if (!parsed.ok) return `${name}:${parsed.line}: ${parsed.error}`
  const table = parsed.records.map((r) => r.cells).filter((r) => r.some((c) => c.trim() !== ""))
  const header = table[0]
  if (header === undefined) return `${name}: empty`
  const col = (c: string): number => header.indexOf(c)
  const needed = ["experiment", "model", "stage_index", ...FOLDER_METRICS.map((m) => ACTUAL_COLUMN[m])]
  const missing = needed.filter((c) => col(c) < 0)
  if (missing.length > 0) return `${name}: missing column ${missing.join(", ")}`
  const seen = new Set<string>()
  const rows: ActualRow[] = []
  let duplicatesDropped = 0
  for (let i = 1; i < table.length; i++) {
    const r = table[i]!
    const cell = (c: string): string => (r[col(c)] ?? "").trim()
    const stage = Number(cell("stage_index"))
    if (!Number.isInteger(stage) || stage < -1) return `${name}:${i + 1}: stage_index "${cell("stage_index")}" is not −1 or a stage number`
    const values = {} as Record<FolderMetric, number>
    for (const m of FOLDER_METRICS) {
      const v = Number(cell(ACTUAL_COLUMN[m]))
      if (cell(ACTUAL_COLUMN[m]) === "" || !Number.isFinite(v) || v <= 0) return `${name}:${i + 1}: ${ACTUAL_COLUMN[m]} "${cell(ACTUAL_COLUMN[m])}" is not a positive number`
      values[m] = v
    }
    const key = `${cell("experiment")}#${stage}`
    // The benchmark lists one run under several workload labels; count it once.
    if (seen.has(key)) {
      duplicatesDropped++
      continue
    }
    seen.add(key)
    rows.push({ experiment: cell("experiment"), model: cell("model"), stage, values })
  }
  return { rows, duplicatesDropped }
}

/** The summary fields of one stage (−1: the whole run; a single-stage run's stage 0 is the whole run). */
export const stageSummary = (s: Pick<SimSummary, "stages"> & BenchSummary, stage: number): BenchSummary | undefined => {
  if (stage === -1) return s
  if (s.stages !== undefined) return s.stages.find((x) => x.stage === stage)
  return stage === 0 ? s : undefined
}

/** Signed comparison of one simulated stage with its actual row. */
export const compareRow = (a: ActualRow, s: Readonly<Record<string, unknown>>): FolderRow => {
  const fraction = countedOutputFraction(a.model)
  const predicted = {} as Record<FolderMetric, number>
  const errorPct = {} as Record<FolderMetric, number>
  for (const m of FOLDER_METRICS) {
    predicted[m] = m === "itl_mean" ? benchmarkItl(s, fraction) : Number(s[SUMMARY_FIELD[m]])
    errorPct[m] = ((predicted[m] - a.values[m]) / a.values[m]) * 100
  }
  return { experiment: a.experiment, model: a.model, stage: a.stage, actual: a.values, predicted, errorPct, countedOutputFraction: fraction }
}

export const medianTable = (rows: ReadonlyArray<FolderRow>): MedianTable => {
  const out = {} as Record<FolderMetric, { medianAbsPct: number; n: number }>
  for (const m of FOLDER_METRICS) {
    const errs = rows.map((r) => r.errorPct[m]).filter(Number.isFinite)
    out[m] = { medianAbsPct: medianAbs(errs), n: errs.length }
  }
  return out
}

/**
 * A relative path inside a folder's scenario names the folder by its name (e.g.
 * "../shared/data/serving/sim2real-trainval/workloads/x.json", relative to the project root); rebase it
 * onto where the folder is, so the folder validates from any working directory.
 */
const rebase = (p: string, folder: string): string => {
  if (isAbsolute(p) || existsSync(p)) return p
  const marker = `/${basename(resolve(folder))}/`
  const at = `/${p}`.lastIndexOf(marker)
  return at < 0 ? p : join(folder, `/${p}`.slice(at + marker.length))
}

const rebaseScenario = (raw: Record<string, unknown>, folder: string): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...raw }
  if (typeof raw["model"] === "string" && /\.json$/i.test(raw["model"])) out["model"] = rebase(raw["model"], folder)
  const w = raw["workload"]
  if (typeof w === "object" && w !== null && !Array.isArray(w)) {
    const wl = { ...(w as Record<string, unknown>) }
    for (const k of ["file", "trace"]) if (typeof wl[k] === "string") wl[k] = rebase(wl[k], folder)
    out["workload"] = wl
  }
  return out
}

/** Simulates every scenario of the folder (with `run`: other coefficients, in fits) and joins it to actuals.csv. */
export const validateFolder = (folder: string, run?: RunResolved): Effect.Effect<FolderReport, InputError | FileError> =>
  Effect.gen(function* () {
    const actualsPath = join(folder, "actuals.csv")
    const scenarioDir = join(folder, "scenarios")
    if (!existsSync(actualsPath) || !existsSync(scenarioDir) || !statSync(scenarioDir).isDirectory())
      return yield* new InputError({ message: `${folder}: a benchmark folder needs actuals.csv and scenarios/ (one <experiment>.json per run), or manifest.json for a probe run directory` })
    const parsed = parseActuals(yield* readText(actualsPath), actualsPath)
    if (typeof parsed === "string") return yield* new InputError({ message: parsed })
    const files = readdirSync(scenarioDir).filter((f) => /\.(json|ya?ml)$/i.test(f)).sort()
    const experiments = new Map(files.map((f) => [f.replace(/\.(json|ya?ml)$/i, ""), join(scenarioDir, f)]))
    const rows: FolderRow[] = []
    const unmatched = new Set<string>()
    for (const [experiment, path] of experiments) {
      const actual = parsed.rows.filter((r) => r.experiment === experiment)
      if (actual.length === 0) {
        unmatched.add(`${experiment}: scenario without actuals`)
        continue
      }
      const summary = yield* simulateScenarioObject(rebaseScenario(yield* readScenarioFile(path), folder), path, run)
      for (const a of actual) {
        const s = stageSummary(summary, a.stage)
        if (s === undefined) return yield* new InputError({ message: `${actualsPath}: ${experiment} stage ${a.stage} has no simulated stage (the scenario's workload has fewer stages)` })
        rows.push(compareRow(a, s))
      }
    }
    for (const a of parsed.rows) if (!experiments.has(a.experiment)) unmatched.add(`${a.experiment}: actuals without a scenario`)
    if (rows.length === 0) return yield* new InputError({ message: `${folder}: no scenario matches an experiment of actuals.csv` })
    const models = [...new Set(rows.map((r) => r.model))].sort()
    const byModel = Object.fromEntries(models.map((m) => [m, medianTable(rows.filter((r) => r.model === m))]))
    return { folder, rows, overall: medianTable(rows), byModel, duplicatesDropped: parsed.duplicatesDropped, unmatched: [...unmatched] }
  })
