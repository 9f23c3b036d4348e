// `servesim validate <measurements...>`: simulate every measured point's setting and compare predicted
// with measured TTFT, TPOT, ITL and E2E (means), per row and as the median absolute % error.
import { Command, Option } from "commander"
import { Console, Effect, Exit } from "effect"
import { COMPARE_METRICS, compareMeans, medianAbsErrorByMetric, type MetricComparison } from "../calibrate/compare.ts"
import { loadMeasurements } from "../calibrate/measurements.ts"
import { predictPoint } from "../calibrate/predict-point.ts"
import { HARNESSES, harnessOf, type HarnessName } from "../calibrate/client-harness.ts"
import { pointLoadLabel as loadOf, workloadSpecPath } from "../calibrate/point-scenario.ts"
import { InputError } from "./errors.ts"
import { positiveInt } from "./flags.ts"
import { progress } from "./progress.ts"
import { failureMessage, runCommand } from "./run-effect.ts"
import { writeJson } from "./simulate.ts"
import { isBenchmarkFolder } from "../calibrate/benchmark-folder.ts"
import { validateFolderProgram } from "./validate-folder.ts"
import { maxOf } from "../sim/stats.ts"

interface ValidateFlags {
  engine: string
  profile?: string
  model?: string
  gpu?: string
  json?: boolean
  out?: string
  limit?: number
  harness: "auto" | HarnessName
}

export interface ValidatedRow {
  readonly source: string
  readonly label: string
  readonly model: string
  readonly gpu: string
  readonly tp: number
  readonly load: string
  readonly isl: number
  readonly osl: number
  /** The client the closed loop was simulated as (lengths, request count). */
  readonly harness?: HarnessName
  readonly comparisons: ReadonlyArray<MetricComparison>
}


const fmt = (x: number | undefined, d = 1): string => (x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(d))

const formatTable = (rows: ReadonlyArray<ValidatedRow>): string => {
  const header = ["model", "gpu", "tp", "load", "isl/osl", ...COMPARE_METRICS.flatMap((m) => [`${m} meas`, `${m} pred`, `${m} err%`])]
  const body = rows.map((r) => [
    r.model.split("/").pop() ?? r.model,
    r.gpu,
    String(r.tp),
    r.load,
    `${Math.round(r.isl)}/${Math.round(r.osl)}`,
    ...COMPARE_METRICS.flatMap((m) => {
      const c = r.comparisons.find((x) => x.metric === m)
      return [fmt(c?.measuredMs), fmt(c?.predictedMs), c === undefined ? "-" : `${c.errorPct >= 0 ? "+" : ""}${c.errorPct.toFixed(1)}`]
    }),
  ])
  const all = [header, ...body]
  const widths = header.map((_, i) => maxOf(all.map((r) => r[i]!.length)))
  return all.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n")
}

const program = (sources: ReadonlyArray<string>, flags: ValidateFlags) =>
  Effect.gen(function* () {
    const folders = sources.filter(isBenchmarkFolder)
    if (folders.length > 0) {
      if (sources.length > 1) return yield* new InputError({ message: `${folders[0]}: a benchmark folder is validated on its own, not with other sources` })
      return yield* validateFolderProgram(folders[0]!, flags)
    }
    const set = yield* loadMeasurements(sources)
    const points = set.points.filter((p) => flags.engine === "all" || (p.engine ?? "vllm") === flags.engine)
    const chosen = flags.limit !== undefined ? points.slice(0, flags.limit) : points
    const rows: ValidatedRow[] = []
    const skipped: Array<{ source: string; reason: string }> = []
    const bar = progress("validate", chosen.length, { json: flags.json === true, unit: "points" })
    for (const [i, p] of chosen.entries()) {
      bar.tick(i, p.label ?? p.source)
      const harness = flags.harness === "auto" ? harnessOf(p) : HARNESSES[flags.harness]
      const exit = yield* Effect.exit(
        predictPoint(p, {
          harness,
          ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
          ...(flags.model !== undefined ? { model: flags.model } : {}),
          ...(flags.gpu !== undefined ? { gpu: flags.gpu } : {}),
        }),
      )
      if (Exit.isFailure(exit)) {
        const reason = failureMessage(exit.cause)
        skipped.push({ source: p.source, reason })
        continue
      }
      rows.push({
        source: p.source,
        label: p.label ?? p.source,
        model: p.model ?? "?",
        gpu: p.gpu ?? "?",
        tp: p.tp ?? 1,
        load: loadOf(p),
        isl: p.isl,
        osl: p.osl,
        ...(p.concurrency !== undefined && p.requestRate === undefined && workloadSpecPath(p) === undefined ? { harness: harness.name } : {}),
        comparisons: compareMeans(exit.value, p),
      })
    }
    bar.tick(chosen.length)
    bar.end()
    // A validation that compared nothing is a failure, never a table of zero rows with exit 0.
    if (chosen.length === 0)
      return yield* new InputError({ message: `no measured points to validate: ${set.points.length} read, none of engine ${flags.engine}${set.warnings.length > 0 ? `; ${set.warnings.length} skipped while reading (${set.warnings[0]})` : ""}` })
    if (rows.length === 0)
      return yield* new InputError({ message: `0 of ${chosen.length} measured points could be simulated (first: ${skipped[0]!.source}: ${skipped[0]!.reason})` })
    const medians = medianAbsErrorByMetric(rows.map((r) => r.comparisons))
    const report = { sources, engine: flags.engine, profile: flags.profile ?? "defaults", points: rows.length, skipped, medianAbsErrorPct: medians, rows, warnings: set.warnings }
    if (flags.out !== undefined) yield* writeJson(flags.out, report)
    if (flags.json === true) {
      yield* Console.log(JSON.stringify(report, null, 2))
      return
    }
    yield* Console.log(formatTable(rows))
    yield* Console.log("")
    yield* Console.log(`${rows.length} points simulated, ${skipped.length} skipped (engine ${flags.engine})`)
    const byHarness = new Map<string, number>()
    for (const r of rows) if (r.harness !== undefined) byHarness.set(r.harness, (byHarness.get(r.harness) ?? 0) + 1)
    if (byHarness.size > 0)
      yield* Console.log(
        `closed loops simulated as their client sent them: ${[...byHarness].map(([h, n]) => `${n} ${h === "inferencex" ? "InferenceX (lengths uniform on [0.8·L, L), 10×c requests)" : "fixed-length"}`).join(", ")}`,
      )
    for (const m of COMPARE_METRICS) {
      const s = medians[m]
      if (s !== undefined) yield* Console.log(`median |error| ${m.toUpperCase()}: ${s.medianAbsPct.toFixed(1)}% over ${s.n} points`)
    }
    const reasons = new Map<string, number>()
    for (const s of skipped) {
      const r = s.reason.replace(/^.*?: /, "")
      reasons.set(r, (reasons.get(r) ?? 0) + 1)
    }
    for (const [r, n] of reasons) yield* Console.log(`skipped ${n}: ${r}`)
  })

export const register = (cli: Command): void => {
  cli
    .command("validate")
    .description("predict every measured point and compare with the measurement (TTFT, TPOT, ITL, E2E)")
    .argument("<sources...>", "measurement-table CSV, vllm bench --save-result JSON, probe run directories, or one benchmark folder (actuals.csv + scenarios/, e.g. sim2real-trainval)")
    .addOption(new Option("--engine <name>", "only rows of this engine").choices(["vllm", "sglang", "trtllm", "all"]).default("vllm"))
    .option("--profile <profile.json>", "calibrated step-time profile (default: shipped coefficients)")
    .option("--model <id>", "model, for measurements that do not say (probe runs, bench files)")
    .option("--gpu <id>", "GPU, for measurements that do not say (probe runs, bench files)")
    .option("--limit <n>", "only the first N points", positiveInt)
    .addOption(
      new Option("--harness <client>", "how closed-loop rows' clients drew requests: auto (from each row's provenance), fixed (exactly isl/osl), inferencex (lengths on [0.8·L, L), 10×c requests)")
        .choices(["auto", "fixed", "inferencex"])
        .default("auto"),
    )
    .option("--json", "print the report as JSON")
    .option("--out <file>", "write the JSON report to a file")
    .action((sources: string[], flags: ValidateFlags) => runCommand(program(sources, flags)))
}
