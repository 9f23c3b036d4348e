// servesim as a library: `import { simulate, sweep, calibrate, loadScenario } from "servesim"`.
// Each function takes what the matching command takes (a scenario as a scenario file holds it,
// measurement files) and resolves to what the command's --json prints; bad input rejects with a
// ServesimError whose message is the command's one-line error. Promises, no Effect in the signatures.
import { Cause, Effect, Exit, Option } from "effect"
import { calibrate as calibratePoints, type CalibrateOptions, type CalibrationResult } from "./calibrate/calibrate.ts"
import { loadMeasurements } from "./calibrate/measurements.ts"
import { DEFAULT_SLO, parseSloSpec } from "./econ/saturation.ts"
import { AXIS_KEYS, parseAxis, type AxisKey, type AxisValue, type GridAxis } from "./econ/sweep-grid.ts"
import type { SweepResult } from "./econ/sweep-result.ts"
import { isRecord } from "./format/json.ts"
import { InputError } from "./scenario/errors.ts"
import { resolveScenario } from "./scenario/resolve.ts"
import { benchDate, benchResult, extraStatsFor } from "./scenario/bench-result.ts"
import { runScenarioDetailed, type RunResult } from "./scenario/run-scenario.ts"
import { decodeScenario, readScenarioFile, type Scenario } from "./scenario/schema.ts"
import { sweepScenario } from "./sweep/sweep-scenario.ts"

export type { CalibrateOptions, CalibrationResult } from "./calibrate/calibrate.ts"
export type { SweepResult, SweepPoint } from "./econ/sweep-result.ts"
export type { RunResult } from "./scenario/run-scenario.ts"
export type { Scenario } from "./scenario/schema.ts"
export type { StepTimeProfile } from "./scenario/profile.ts"
export type { AxisKey } from "./econ/sweep-grid.ts"

/** A scenario, measurement file or option that cannot be used as given (the CLI's exit-2 errors). */
export class ServesimError extends Error {
  /** "InputError" (bad content) or "FileError" (cannot read or write). */
  readonly kind: string
  constructor(kind: string, message: string) {
    super(message)
    this.name = "ServesimError"
    this.kind = kind
  }
}

const run = async <A>(program: Effect.Effect<A, { readonly _tag: string; readonly message: string }>): Promise<A> => {
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isSome(error)) throw new ServesimError(error.value._tag, error.value.message)
  throw Cause.squash(exit.cause)
}

const scenarioObject = (scenario: Readonly<Record<string, unknown>> | string) =>
  typeof scenario === "string" ? readScenarioFile(scenario) : Effect.succeed({ ...scenario })

/** Reads and checks a scenario file (JSON or YAML), as the commands do; resolves to its contents. */
export const loadScenario = (path: string): Promise<Scenario> => run(readScenarioFile(path).pipe(Effect.flatMap((raw) => decodeScenario(raw, path))))

export interface SimulateOptions {
  /** Sample KV usage and queues every this many simulated seconds (`--timeline-interval`). */
  readonly timelineInterval?: number
  /** Price the run at this USD per GPU-hour (`--cloud-price`). */
  readonly cloudPrice?: number
}

/**
 * One simulation: what `servesim simulate SCENARIO --json` prints — a vllm bench result (its metadata,
 * `date` included, then the metrics) with servesim's fields. `scenario`: an object as a scenario file
 * holds it, or a file's path.
 */
export const simulate = (scenario: Readonly<Record<string, unknown>> | string, options: SimulateOptions = {}): Promise<RunResult & Record<string, unknown>> => {
  const source = typeof scenario === "string" ? scenario : "scenario"
  return run(
    Effect.gen(function* () {
      const raw = yield* scenarioObject(scenario)
      const resolved = yield* resolveScenario(yield* decodeScenario(raw, source))
      const r = yield* runScenarioDetailed(resolved, {
        source,
        ...(options.timelineInterval !== undefined ? { timelineInterval: options.timelineInterval } : {}),
        ...(options.cloudPrice !== undefined ? { cloudPrice: String(options.cloudPrice) } : {}),
        extra: extraStatsFor(resolved, {}),
      })
      return benchResult(r.summary, resolved, r.numSent, benchDate(), {}, undefined) as RunResult & Record<string, unknown>
    }),
  )
}

export interface SweepOptions {
  /** The grid: a list of values per axis (`{ concurrency: [8, 16, 32], gpu: ["h100-sxm", "a800-sxm"] }`). */
  readonly axes?: Readonly<Partial<Record<AxisKey, ReadonlyArray<AxisValue>>>>
  /** Seeds per point (default 5). */
  readonly seeds?: number
  /** SLO as `--slo` writes it, e.g. "ttft:1000,tpot:50" (default that one, on means). */
  readonly slo?: string
  /** Skip points that use more GPUs. */
  readonly maxGpus?: number
  /** Worker threads (default 0: the calling thread; the results are the same). */
  readonly workers?: number
}

/** A sweep: what `servesim sweep SCENARIO --json` prints, for the axes given (or the scenario's `sweep` block). */
export const sweep = (scenario: Readonly<Record<string, unknown>> | string, options: SweepOptions = {}): Promise<SweepResult> => {
  const source = typeof scenario === "string" ? scenario : "scenario"
  return run(
    Effect.gen(function* () {
      const raw = yield* scenarioObject(scenario)
      const { sweep: block, ...base } = raw
      const blockAxes = isRecord(block) ? block : {}
      const axes: GridAxis[] = []
      for (const key of AXIS_KEYS) {
        const given = options.axes?.[key] ?? (blockAxes[key] as string | ReadonlyArray<AxisValue> | undefined)
        if (given === undefined) continue
        const parsed = parseAxis(key, given, `axes.${key}`)
        if (!parsed.ok) return yield* new InputError({ message: parsed.error })
        axes.push(parsed.value)
      }
      const sloText = options.slo ?? (typeof blockAxes.slo === "string" ? blockAxes.slo : undefined)
      const slo = sloText === undefined ? { ok: true as const, value: DEFAULT_SLO } : parseSloSpec(sloText)
      if (!slo.ok) return yield* new InputError({ message: `slo: ${slo.error}` })
      const seeds = options.seeds ?? (typeof blockAxes.seeds === "number" ? blockAxes.seeds : 5)
      if (!Number.isInteger(seeds) || seeds < 1) return yield* new InputError({ message: `seeds: ${seeds} is not a positive integer` })
      const workers = options.workers ?? 0
      if (!Number.isInteger(workers) || workers < 0) return yield* new InputError({ message: `workers: ${workers} is not an integer ≥ 0` })
      const maxGpus = options.maxGpus ?? (typeof blockAxes.maxGpus === "number" ? blockAxes.maxGpus : undefined)
      const output = yield* sweepScenario(base, axes, {
        seeds,
        workers,
        slo: slo.value,
        file: source,
        createdBy: "servesim library sweep()",
        scenario: source,
        quiet: true,
        ...(maxGpus !== undefined ? { maxGpus } : {}),
      })
      return output.result
    }),
  )
}

/**
 * Fits a step-time profile to measurements (probe run directories, vllm bench --save-result JSON files,
 * or a measurement table) of one deployment: `result.profile` is what `servesim calibrate --out` writes.
 */
export const calibrate = (sources: string | ReadonlyArray<string>, options: CalibrateOptions = {}): Promise<CalibrationResult> =>
  run(
    Effect.gen(function* () {
      const set = yield* loadMeasurements(typeof sources === "string" ? [sources] : sources)
      const points = set.points.filter((p) => p.lagged === undefined)
      if (points.length === 0) return yield* new InputError({ message: `no measured points to fit in ${String(sources)}` })
      return yield* calibratePoints(points, options)
    }),
  )
