// `servesim report RESULTS.json [--out report.html] [--quality scores.csv]`: the sweep result as a
// self-contained HTML page with plots rendered to inline SVG.
import { readFile, writeFile } from "node:fs/promises"
import type { Command } from "commander"
import { Console, Effect } from "effect"
import { qualityFrontier } from "../econ/analyze-sweep.ts"
import { parseQualityCsv } from "../econ/pareto.ts"
import type { SweepResult } from "../econ/sweep-result.ts"
import { buildReport } from "../report/build-report.ts"
import { decodeSweepResult } from "../sweep/result-schema.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { runCommand } from "./run-effect.ts"

export interface ReportFlags {
  readonly out?: string
  readonly quality?: string
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const readText = (path: string) =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new FileError({ message: `cannot read ${path}: ${reasonOf(e)}` }),
  })

/** Reads and decodes a RESULTS.json. */
export const loadSweepResult = (path: string): Effect.Effect<SweepResult, FileError | InputError> =>
  Effect.gen(function* () {
    const text = yield* readText(path)
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: (e) => new InputError({ message: `${path}: invalid JSON: ${reasonOf(e)}` }),
    })
    return yield* decodeSweepResult(json, path)
  })

/** Adds (or replaces) the quality frontier from a model,score CSV. */
export const withQuality = (result: SweepResult, csvPath: string): Effect.Effect<SweepResult, FileError | InputError> =>
  Effect.gen(function* () {
    const parsed = parseQualityCsv(yield* readText(csvPath), csvPath)
    if (!parsed.ok) return yield* new InputError({ message: parsed.error })
    return { ...result, quality: qualityFrontier(parsed.value, result.points) }
  })

export const reportProgram = (resultsPath: string, flags: ReportFlags): Effect.Effect<void, FileError | InputError> =>
  Effect.gen(function* () {
    const out = flags.out ?? "report.html"
    const loaded = yield* loadSweepResult(resultsPath)
    const result = flags.quality === undefined ? loaded : yield* withQuality(loaded, flags.quality)
    // Rendering failures are bugs, not bad input: they surface as defects.
    const report = yield* Effect.promise(() => buildReport(result))
    yield* Effect.tryPromise({
      try: () => writeFile(out, report.html, "utf8"),
      catch: (e) => new FileError({ message: `cannot write ${out}: ${reasonOf(e)}` }),
    })
    yield* Console.log(`wrote ${out}: ${report.charts.length} plots, ${result.points.length} points`)
  })

export const register = (program: Command): void => {
  program
    .command("report")
    .description("Render a sweep result (RESULTS.json) as a self-contained HTML page with plots")
    .argument("<results>", "RESULTS.json written by `servesim sweep --json --out`")
    .option("--out <file>", "HTML file to write", "report.html")
    .option("--quality <csv>", "model,score CSV: add the quality-vs-cost frontier")
    .action((results: string, flags: ReportFlags) => runCommand(reportProgram(results, flags)))
}
