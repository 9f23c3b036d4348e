// `servesim validate <measurements...>`: simulate every measured point's setting and compare predicted
// with measured TTFT, TPOT, ITL and E2E (means), per row and as the median absolute % error.
import { Command, Option } from "commander"
import { Console, Effect } from "effect"
import { COMPARE_METRICS } from "../calibrate/compare.ts"
import { loadMeasurements } from "../calibrate/measurements.ts"
import type { HarnessName } from "../calibrate/client-harness.ts"
import { validatePoints, type ValidatedRow, type ValidationReport } from "../calibrate/validate.ts"
import { InputError } from "../scenario/errors.ts"
import { resolveGpu, resolveModel } from "../scenario/resolve.ts"
import { readProfile } from "../scenario/step-time-source.ts"
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

/** What `validate --json/--out` writes (src/report/validation-result.ts decodes it for `report`). */
export interface ValidateReport extends ValidationReport {
  readonly sources: ReadonlyArray<string>
  readonly engine: string
  readonly profile: string
}

/** Loads the sources (tables, bench files, run directories), simulates every point and compares. */
export const validateReport = (sources: ReadonlyArray<string>, flags: Pick<ValidateFlags, "engine" | "profile" | "model" | "gpu" | "limit" | "harness" | "json">) =>
  Effect.gen(function* () {
    const set = yield* loadMeasurements(sources)
    const bar = progress("validate", 1, { json: flags.json === true, unit: "points" })
    const v = yield* validatePoints(set, {
      engine: flags.engine,
      onProgress: (done, total) => bar.tick(done, undefined, total),
      harness: flags.harness,
      ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
      ...(flags.model !== undefined ? { model: flags.model } : {}),
      ...(flags.gpu !== undefined ? { gpu: flags.gpu } : {}),
      ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
      describeFailure: (exit) => failureMessage(exit.cause),
    })
    bar.end()
    const report: ValidateReport = { sources, engine: flags.engine, profile: flags.profile ?? "defaults", ...v }
    return report
  })

const program = (sources: ReadonlyArray<string>, flags: ValidateFlags) =>
  Effect.gen(function* () {
    // The flags apply to every point: a typo in one is the input's problem, said once and as the flag.
    if (flags.gpu !== undefined) yield* resolveGpu(flags.gpu, "--gpu")
    if (flags.model !== undefined) yield* resolveModel(flags.model, "--model")
    if (flags.profile !== undefined) yield* readProfile(flags.profile, "--profile")
    const folders = sources.filter(isBenchmarkFolder)
    if (folders.length > 0) {
      if (sources.length > 1) return yield* new InputError({ message: `${folders[0]}: a benchmark folder is validated on its own, not with other sources` })
      return yield* validateFolderProgram(folders[0]!, flags)
    }
    const report = yield* validateReport(sources, flags)
    const { rows, skipped, medianAbsErrorPct: medians } = report
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
