// Prediction intervals for each point of a sweep whose --profile carries an uncertainty block
// (servesim calibrate writes one): src/calibrate/intervals.ts per point, on the main thread after the
// runs. Each point costs 1 + draws extra simulations (17 at the default 16 draws), done in order, so a
// sweep with intervals takes about (1 + draws) / seeds times longer than without, single-threaded.
import { Effect } from "effect"
import { predictionIntervals } from "../calibrate/intervals.ts"
import type { PointIntervals, SweepPoint } from "../econ/sweep-result.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { buildSimSpec, type ResolvedScenario } from "../scenario/resolve.ts"
import { simulate } from "../sim/simulate.ts"
import { summarize } from "../sim/summary.ts"

export interface IntervalOptions {
  readonly draws: number
  readonly level: number
}

/**
 * The intervals of each point (`resolved[i]` is point i of the plan), or undefined where the point's
 * profile has no uncertainty block. The centre is a fresh run of the resolved point at its own seed:
 * that is the point's first seed (src/sweep/run.ts seedList), so it equals the first-seed run, and it
 * shares its workload with the parameter draws, which rerun that same seed; the spread is then the
 * parameters' alone, not the seeds'. (The runs' summaries stay in the workers, which post back only
 * the SeedRun fields.)
 */
export const sweepPointIntervals = (
  resolved: ReadonlyArray<ResolvedScenario>,
  o: IntervalOptions,
): Effect.Effect<Array<PointIntervals | undefined>, InputError | FileError> =>
  Effect.gen(function* () {
    const out: Array<PointIntervals | undefined> = []
    for (const r of resolved) {
      if (r.scenario.profile === undefined || o.draws === 0) {
        out.push(undefined)
        continue
      }
      // The centre is asked for only once the profile is known to carry uncertainty.
      const pi = yield* predictionIntervals(r, () => summarize(simulate(buildSimSpec(r))), o)
      if (pi !== undefined && pi.draws < 2) return yield* new InputError({ message: `--interval-draws: ${pi.draws} draw gives no spread; use at least 2 (or 0 for none)` })
      out.push(
        pi === undefined
          ? undefined
          : {
              level: pi.level,
              draws: pi.draws,
              method: pi.method,
              profile: pi.profile,
              seed: pi.seed,
              metrics: Object.fromEntries(Object.entries(pi.metrics).map(([k, m]) => [k, [Number(m.lo.toPrecision(6)), Number(m.hi.toPrecision(6))] as const])),
            },
      )
    }
    return out
  })

/** The points with their intervals attached (points without keep their exact shape). */
export const withPointIntervals = (points: ReadonlyArray<SweepPoint>, intervals: ReadonlyArray<PointIntervals | undefined>): SweepPoint[] =>
  points.map((p, i) => {
    const pi = intervals[i]
    return pi === undefined ? p : { ...p, intervals: pi }
  })
