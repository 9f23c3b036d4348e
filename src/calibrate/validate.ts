// validate's loop: every measured point's setting simulated and compared with its measurement (means
// of TTFT, TPOT, ITL and E2E), with the median absolute % error per metric. A point that cannot be
// simulated is skipped with its reason; a validation that compares nothing is an error.
import { Effect, Exit } from "effect"
import { InputError, type FileError } from "../scenario/errors.ts"
import { HARNESSES, harnessOf, type HarnessName } from "./client-harness.ts"
import { compareMeans, medianAbsErrorByMetric, type CompareMetric, type MetricComparison } from "./compare.ts"
import { loadOf, type MeasuredSet } from "./measurements.ts"
import { workloadSpecPath } from "./point-scenario.ts"
import { predictPoint } from "./predict-point.ts"

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
  /** Why the probe marked the point lagged (its measured times carry the host's lag). */
  readonly lagged?: string
}

export interface ValidateOptions {
  /** Only points of this engine ("all": every point). */
  readonly engine: string
  readonly profile?: string
  /** Model and GPU for measurements that do not say. */
  readonly model?: string
  readonly gpu?: string
  /** Only the first N points. */
  readonly limit?: number
  /** How closed-loop clients drew requests ("auto": from each point's provenance). */
  readonly harness: "auto" | HarnessName
  /** Called after each point with (points done, points in all). */
  readonly onProgress?: (done: number, total: number) => void
  /** The one-line message of a failed prediction. */
  readonly describeFailure: (exit: Exit.Failure<unknown, unknown>) => string
}

export interface ValidationReport {
  readonly points: number
  readonly skipped: ReadonlyArray<{ readonly source: string; readonly reason: string }>
  readonly medianAbsErrorPct: Partial<Record<CompareMetric, { medianAbsPct: number; n: number }>>
  readonly rows: ReadonlyArray<ValidatedRow>
  readonly warnings: ReadonlyArray<string>
}

export const validatePoints = (set: MeasuredSet, o: ValidateOptions): Effect.Effect<ValidationReport, InputError | FileError> =>
  Effect.gen(function* () {
    const points = set.points.filter((p) => o.engine === "all" || (p.engine ?? "vllm") === o.engine)
    const chosen = o.limit !== undefined ? points.slice(0, o.limit) : points
    // A validation that compared nothing is a failure, never a table of zero rows with exit 0.
    if (chosen.length === 0)
      return yield* new InputError({ message: `no measured points to validate: ${set.points.length} read, none of engine ${o.engine}${set.warnings.length > 0 ? `; ${set.warnings.length} skipped while reading (${set.warnings[0]})` : ""}` })
    const rows: ValidatedRow[] = []
    const skipped: Array<{ source: string; reason: string }> = []
    for (const [i, p] of chosen.entries()) {
      const harness = o.harness === "auto" ? harnessOf(p) : HARNESSES[o.harness]
      const exit = yield* Effect.exit(
        predictPoint(p, {
          harness,
          ...(o.profile !== undefined ? { profile: o.profile } : {}),
          ...(o.model !== undefined ? { model: o.model } : {}),
          ...(o.gpu !== undefined ? { gpu: o.gpu } : {}),
        }),
      )
      o.onProgress?.(i + 1, chosen.length)
      if (Exit.isFailure(exit)) {
        skipped.push({ source: p.source, reason: o.describeFailure(exit) })
        continue
      }
      rows.push({
        source: p.source,
        label: p.label ?? p.source,
        // What was simulated: the option overrides the measurement (point-scenario.ts).
        model: o.model ?? p.model ?? "?",
        gpu: o.gpu ?? p.gpu ?? "?",
        tp: p.tp ?? 1,
        load: loadOf(p),
        isl: p.isl,
        osl: p.osl,
        // A capped open loop (rate and concurrency) is simulated at its rate, not as a client harness's closed loop.
        ...(p.concurrency !== undefined && p.requestRate === undefined && workloadSpecPath(p) === undefined ? { harness: harness.name } : {}),
        comparisons: compareMeans(exit.value, p),
        ...(p.lagged !== undefined ? { lagged: p.lagged } : {}),
      })
    }
    if (rows.length === 0)
      return yield* new InputError({ message: `0 of ${chosen.length} measured points could be simulated (first: ${skipped[0]!.source}: ${skipped[0]!.reason})` })
    return { points: rows.length, skipped, medianAbsErrorPct: medianAbsErrorByMetric(rows.map((r) => r.comparisons)), rows, warnings: set.warnings }
  })
