// `servesim calibrate <RUN_DIR | bench.json ... | table.csv>`: fit a step-time profile to measured
// points (one deployment), print per-point fit and leave-one-out errors, write the profile.
// `--per-group` calibrates every deployment group of a table separately and reports the
// cross-validated errors over all of them (the real-data evaluation of issue 4).
import { Command, Option } from "commander"
import { Console, Effect, Exit } from "effect"
import { calibrate, DEFAULT_UNCERTAINTY, fitProblems, type CalibrationResult } from "../calibrate/calibrate.ts"
import { COVERAGE_BASES, summarizeCoverage, type CoverageSummary } from "../calibrate/fit-uncertainty.ts"
import { UNCERTAINTY_METHODS, type UncertaintyMethod } from "../calibrate/uncertainty.ts"
import { COMPARE_METRICS, medianAbsErrorByMetric, type MetricComparison } from "../calibrate/compare.ts"
import { groupBySetting, loadMeasurements, type MeasuredPoint } from "../calibrate/measurements.ts"
import { InputError } from "../scenario/errors.ts"
import { positiveInt } from "./flags.ts"
import { progress } from "./progress.ts"
import { failureMessage, runCommand } from "./run-effect.ts"
import { writeJson } from "./simulate.ts"
import { maxOf } from "../sim/stats.ts"

interface CalibrateFlags {
  model?: string
  gpu?: string
  tp?: number
  engine: string
  out?: string
  json?: boolean
  perGroup?: boolean
  cv: boolean
  minPoints: number
  precision?: string
  allowLagged?: boolean
  strict?: boolean
  uncertainty: UncertaintyMethod
  coverage?: boolean
  groups?: number
}

/** Coverage is checked at this level (the level simulate's intervals default to). */
const COVERAGE_LEVEL = 0.9

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

const formatCoverage = (c: CoverageSummary): string[] => [
  `prediction-interval coverage on held-out points (leave-one-out, ${pct(c.level)} intervals, ${c.cases} point-metrics):`,
  ...COVERAGE_BASES.map((b) => `  ${b.padEnd(13)} ${pct(c.coverage[b]).padStart(6)} inside (t) · ${pct(c.coverageNormal[b]).padStart(6)} with the normal quantile · median log sd ${c.medianLogSd[b].toFixed(3)}`),
  ...Object.entries(c.byMetric).map(([m, v]) => `  ${m.toUpperCase().padEnd(5)} (${v.cases}): ${COVERAGE_BASES.map((b) => `${b} ${pct(v.coverage[b])}`).join(", ")}`),
]

/** `count` groups evenly spaced over all of them (first and last included): a reproducible subset. */
export const evenlySpaced = <T>(xs: ReadonlyArray<T>, count: number): T[] =>
  count >= xs.length ? [...xs] : count === 1 ? [xs[0]!] : Array.from({ length: count }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (count - 1))]!)

const errCell = (cs: ReadonlyArray<MetricComparison> | undefined, m: string): string => {
  const c = cs?.find((x) => x.metric === m)
  return c === undefined ? "-" : `${c.errorPct >= 0 ? "+" : ""}${c.errorPct.toFixed(1)}%`
}

const formatResult = (r: CalibrationResult): string => {
  const lines = [`profile: ${r.profile.model} on ${r.profile.gpu} tp=${r.profile.tp} ${r.profile.precision}; ${r.evaluations} simulation sweeps`]
  lines.push(`fitted multipliers: ${Object.entries(r.knobs).map(([k, v]) => `${k} ×${v.toPrecision(3)}`).join(", ")}`)
  const header = ["point", "load", ...COMPARE_METRICS.filter((m) => m !== "itl").flatMap((m) => [`${m} fit`, `${m} loo`])]
  const rows = r.points.map((p) => [
    p.source.split("/").pop() ?? p.source,
    p.load,
    ...COMPARE_METRICS.filter((m) => m !== "itl").flatMap((m) => [errCell(p.fit, m), errCell(p.crossValidated, m)]),
  ])
  const all = [header, ...rows]
  const widths = header.map((_, i) => maxOf(all.map((row) => row[i]!.length)))
  for (const row of all) lines.push(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
  return lines.join("\n")
}

/**
 * --model filters the points when some point names that model; when none does (e.g. a bench file of
 * neuralmagic/Meta-Llama-3.1-8B-FP8 with --model meta-llama/Llama-3.1-8B-Instruct) it names the
 * architecture of the measured model instead, and filters nothing.
 */
const modelFilters = (points: ReadonlyArray<MeasuredPoint>, model: string | undefined): boolean =>
  model !== undefined && points.some((p) => p.model !== undefined && p.model.toLowerCase() === model.toLowerCase())

const chosenPoints = (points: ReadonlyArray<MeasuredPoint>, f: CalibrateFlags): MeasuredPoint[] => {
  const byModel = modelFilters(points, f.model)
  if (f.model !== undefined && !byModel) {
    const ids = [...new Set(points.flatMap((p) => (p.model === undefined ? [] : [p.model])))]
    if (ids.length > 0) process.stderr.write(`calibrate: no point is ${f.model}; fitting ${ids.join(", ")} with ${f.model}'s architecture\n`)
  }
  return points.filter(
    (p) =>
      (f.engine === "all" || (p.engine ?? "vllm") === f.engine) &&
      (!byModel || p.model === undefined || p.model.toLowerCase() === f.model!.toLowerCase()) &&
      (f.gpu === undefined || p.gpu === undefined || p.gpu === f.gpu) &&
      (f.tp === undefined || p.tp === undefined || p.tp === f.tp),
  )
}

/** Points the probe marked lagged are not fitted (their timings carry the host's lag, not the server's). */
const trustedPoints = (points: ReadonlyArray<MeasuredPoint>, f: CalibrateFlags) =>
  Effect.gen(function* () {
    if (f.allowLagged === true) return points
    const lagged = points.filter((p) => p.lagged !== undefined)
    for (const p of lagged) process.stderr.write(`warning: ${p.source}: not fitted, lagged: ${p.lagged}\n`)
    const kept = points.filter((p) => p.lagged === undefined)
    if (kept.length === 0)
      return yield* new InputError({
        message: `all ${points.length} measured points lagged (the server's or the probe's clock fell behind, × the twin's time scale): refusing to fit a profile to them; re-probe with a lower --time-scale or on a less loaded host (or --allow-lagged)`,
      })
    return kept
  })

const perGroup = (points: ReadonlyArray<MeasuredPoint>, f: CalibrateFlags) =>
  Effect.gen(function* () {
    const eligible = [...groupBySetting(points).entries()].filter(([, g]) => g.length >= f.minPoints)
    const groups = f.groups === undefined ? eligible : evenlySpaced(eligible, f.groups)
    if (f.groups !== undefined) process.stderr.write(`calibrating ${groups.length} of ${eligible.length} groups, evenly spaced (--groups ${f.groups})\n`)
    const results: Array<{ group: string; points: number; result?: CalibrationResult; skipped?: string }> = []
    let i = 0
    for (const [key, g] of groups) {
      i++
      process.stderr.write(`[${i}/${groups.length}] ${key}\n`)
      const bar = progress(`calibrate ${key}`, 1, { json: f.json === true, unit: "simulated evaluations" })
      const exit = yield* Effect.exit(
        calibrate(g, { crossValidate: f.cv, uncertainty: f.uncertainty, ...(f.coverage === true ? { coverage: true } : {}), onEvaluation: (done, bound) => bar.tick(done, undefined, bound) }),
      )
      bar.end()
      if (Exit.isFailure(exit)) results.push({ group: key, points: g.length, skipped: failureMessage(exit.cause) })
      else results.push({ group: key, points: g.length, result: exit.value })
    }
    const fitted = results.flatMap((r) => (r.result === undefined ? [] : [r.result]))
    const loo = medianAbsErrorByMetric(fitted.flatMap((r) => r.points.map((p) => p.crossValidated ?? [])))
    const fit = medianAbsErrorByMetric(fitted.flatMap((r) => r.points.map((p) => p.fit)))
    const coverage = f.coverage === true ? summarizeCoverage(fitted.flatMap((r) => r.coverageCases ?? []), COVERAGE_LEVEL) : undefined
    const report = {
      groups: results.map((r) => ({
        group: r.group,
        points: r.points,
        ...(r.skipped !== undefined ? { skipped: r.skipped } : {}),
        ...(r.result !== undefined ? { knobs: r.result.knobs, fit: r.result.profile.fit, perPoint: r.result.points } : {}),
      })),
      medianAbsErrorPct: { fit, leaveOneOut: loo },
      ...(coverage !== undefined ? { coverage } : {}),
    }
    if (f.out !== undefined) yield* writeJson(f.out, report)
    if (f.json === true) return yield* Console.log(JSON.stringify(report, null, 2))
    for (const r of results) {
      if (r.result === undefined) yield* Console.log(`${r.group}: skipped (${r.skipped})`)
      else {
        const m = medianAbsErrorByMetric(r.result.points.map((p) => p.crossValidated ?? []))
        yield* Console.log(`${r.group}: ${r.points} points, leave-one-out median |err| TTFT ${m.ttft?.medianAbsPct.toFixed(1) ?? "-"}%, TPOT ${m.tpot?.medianAbsPct.toFixed(1) ?? "-"}%`)
      }
    }
    yield* Console.log("")
    yield* Console.log(`${fitted.length} groups calibrated, ${results.length - fitted.length} skipped`)
    for (const m of COMPARE_METRICS) {
      const l = loo[m]
      const ff = fit[m]
      if (l !== undefined) yield* Console.log(`median |error| ${m.toUpperCase()}: fit ${ff?.medianAbsPct.toFixed(1)}% · leave-one-out ${l.medianAbsPct.toFixed(1)}% over ${l.n} points`)
    }
    if (coverage !== undefined) for (const line of formatCoverage(coverage)) yield* Console.log(line)
  })

const program = (sources: ReadonlyArray<string>, f: CalibrateFlags) =>
  Effect.gen(function* () {
    const set = yield* loadMeasurements(sources)
    for (const w of set.warnings) process.stderr.write(`warning: ${w}\n`)
    const chosen = chosenPoints(set.points, f)
    if (chosen.length === 0) return yield* new InputError({ message: "no measured points match the filters (--engine/--model/--gpu/--tp)" })
    const points = yield* trustedPoints(chosen, f)
    if (f.coverage === true && !f.cv) return yield* new InputError({ message: "--coverage: checks intervals on the leave-one-out fits, which --no-cv turns off" })
    if (f.perGroup === true) return yield* perGroup(points, f)
    if (f.out === undefined) return yield* new InputError({ message: "--out: where to write the profile is required" })
    if (f.groups !== undefined) return yield* new InputError({ message: "--groups: only with --per-group" })
    const bar = progress("calibrate", 1, { json: f.json === true, unit: "simulated evaluations" })
    const result = yield* calibrate(points, {
      crossValidate: f.cv,
      uncertainty: f.uncertainty,
      ...(f.coverage === true ? { coverage: true } : {}),
      onEvaluation: (done, bound) => bar.tick(done, undefined, bound),
      ...(f.model !== undefined ? { model: f.model } : {}),
      ...(f.gpu !== undefined ? { gpu: f.gpu } : {}),
      ...(f.tp !== undefined ? { tp: f.tp } : {}),
      ...(f.precision !== undefined ? { precision: f.precision } : {}),
    })
    bar.end()
    const problems = fitProblems(result)
    const fit = medianAbsErrorByMetric(result.points.map((p) => p.fit))
    const quality = `fit quality: median |error| ${COMPARE_METRICS.flatMap((m) => (fit[m] === undefined ? [] : [`${m.toUpperCase()} ${fit[m]!.medianAbsPct.toFixed(1)}%`])).join(", ")} over ${result.points.length} points`
    for (const problem of problems) process.stderr.write(`warning: the fit is not trustworthy: ${problem}\n`)
    if (problems.length > 0 && f.strict === true)
      return yield* new InputError({ message: `--strict: the fit is not trustworthy (${problems.join("; ")}); no profile written` })
    yield* writeJson(f.out, problems.length === 0 ? result.profile : { ...result.profile, fitWarnings: problems })
    const coverage = result.coverageCases === undefined ? undefined : summarizeCoverage(result.coverageCases, COVERAGE_LEVEL)
    if (f.json === true) yield* Console.log(JSON.stringify({ profile: result.profile, points: result.points, fitWarnings: problems, ...(coverage !== undefined ? { coverage } : {}) }, null, 2))
    else {
      yield* Console.log(formatResult(result))
      if (coverage !== undefined) for (const line of formatCoverage(coverage)) yield* Console.log(line)
      yield* Console.log(problems.length === 0 ? quality : `${quality}; NOT TRUSTWORTHY (see the warnings)`)
      yield* Console.log(`wrote ${f.out}`)
    }
  })

export const register = (cli: Command): void => {
  cli
    .command("calibrate")
    .description("fit step-time coefficients and overheads to measurements; writes a profile for --profile")
    .argument("<sources...>", "probe run directories, vllm bench --save-result JSON files, or a measurement-table CSV")
    .option("--model <id>", "model: picks the points of that model, or, when no point names it, the architecture of the measured model (e.g. a fine-tune or quantized checkpoint)")
    .option("--gpu <id>", "GPU (when the measurements do not say, or to pick one deployment)")
    .option("--tp <n>", "tensor parallel size", positiveInt)
    .option("--precision <p>", "weight precision of the measured model (e.g. fp8), when the measurements do not say")
    .option("--strict", "exit 2 and write nothing when a fitted multiplier leaves its physical range or the fit error is large")
    .option("--allow-lagged", "also fit points the probe marked lagged (their timings carry the host's lag)")
    .addOption(new Option("--engine <name>", "only points of this engine").choices(["vllm", "sglang", "trtllm", "all"]).default("vllm"))
    .option("--out <profile.json>", "where to write the profile")
    .option("--per-group", "calibrate each deployment group separately and report cross-validated errors")
    .option("--min-points <n>", "with --per-group: skip groups with fewer points", positiveInt, 3)
    .option("--no-cv", "skip leave-one-point-out cross-validation")
    .addOption(new Option("--uncertainty <method>", "how the profile's parameter uncertainty is estimated (for prediction intervals)").choices(UNCERTAINTY_METHODS).default(DEFAULT_UNCERTAINTY))
    .option("--coverage", "check 90% prediction intervals on the leave-one-out points: how often they hold the measurement (each method)")
    .option("--groups <n>", "with --per-group: only n groups, evenly spaced over the table's (a reproducible subset)", positiveInt)
    .option("--json", "print JSON")
    .action((sources: string[], flags: CalibrateFlags) => runCommand(program(sources, flags)))
}
