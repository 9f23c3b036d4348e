// Prediction intervals for `simulate` and `sweep` (anything that runs one resolved scenario): when the
// scenario's --profile carries an uncertainty block (servesim calibrate), rerun the scenario at a few
// seeded parameter draws and attach a level interval to each headline metric
// (src/calibrate/predict-interval.ts). Profiles without the block give no interval.
import { Effect } from "effect"
import { shiftKnobs } from "./knobs.ts"
import { metricIntervals, intervalShifts, type MetricInterval } from "./predict-interval.ts"
import { parseProfile } from "../scenario/profile.ts"
import type { StepTimeProfile, UncertaintyMethod } from "../scenario/profile.ts"
import { stepTimeWithCoefficients } from "./predict-point.ts"
import { simulate } from "../sim/simulate.ts"
import { summarize, type SimSummary } from "../sim/summary.ts"
import { buildSimSpec, withSpeculative, type ResolvedScenario } from "../scenario/resolve.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { parseStructured, readText } from "../scenario/schema.ts"

export interface PredictionIntervals {
  readonly level: number
  readonly draws: number
  readonly method: UncertaintyMethod
  readonly profile: string
  readonly seed: string
  readonly metrics: Readonly<Record<string, MetricInterval>>
}

const DRAW_SEED = "servesim-interval"

const readProfile = (path: string): Effect.Effect<StepTimeProfile, InputError | FileError> =>
  Effect.gen(function* () {
    const p = parseProfile(yield* parseStructured(yield* readText(path), path))
    if (typeof p === "string") return yield* new InputError({ message: `profile ${path}: ${p}` })
    return p
  })

/** Whether the scenario's --profile carries an uncertainty block (so it would get intervals). */
export const hasUncertainty = (r: ResolvedScenario): Effect.Effect<boolean, InputError | FileError> =>
  r.scenario.profile === undefined ? Effect.succeed(false) : Effect.map(readProfile(r.scenario.profile), (p) => p.uncertainty !== undefined)

export const predictionIntervals = (
  r: ResolvedScenario,
  /** The run the intervals are centred on; called once, only when the profile has uncertainty. */
  center: () => SimSummary,
  o: { readonly draws: number; readonly level: number },
): Effect.Effect<PredictionIntervals | undefined, InputError | FileError> =>
  Effect.gen(function* () {
    const path = r.scenario.profile
    if (path === undefined || o.draws === 0) return undefined
    const p = yield* readProfile(path)
    const u = p.uncertainty
    if (u === undefined) return undefined
    const draws: SimSummary[] = []
    for (const shift of intervalShifts(u, o.draws, DRAW_SEED)) {
      const cal = shiftKnobs({ coefficients: p.coefficients, overheads: p.overheads }, u.knobs, shift)
      if (typeof cal === "string") return yield* new InputError({ message: `profile ${path}: uncertainty.knobs: ${cal}` })
      const target = stepTimeWithCoefficients(r, cal.coefficients, cal.overheads, `profile(${path}) draw`)
      const stepTime = yield* withSpeculative(r.scenario, target, { gpu: r.gpu, precision: r.precision, kvCacheDtype: r.kvCacheDtype, par: r.par, asyncScheduling: r.engine.asyncScheduling === true })
      draws.push(summarize(simulate(buildSimSpec({ ...r, stepTime }))))
    }
    const closedLoop = r.scenario.workload?.concurrency !== undefined
    return { level: o.level, draws: draws.length, method: u.method, profile: path, seed: DRAW_SEED, metrics: metricIntervals(center(), draws, u.residualSd, o.level, closedLoop, u.residuals - u.knobs.length) }
  })

/** The summary with `<field>_interval: [lo, hi]` beside each field and the interval's provenance. */
export const withIntervals = <T extends SimSummary>(summary: T, pi: PredictionIntervals): T => {
  const out: Record<string, unknown> = { ...summary }
  for (const [field, m] of Object.entries(pi.metrics)) out[`${field}_interval`] = [Number(m.lo.toPrecision(6)), Number(m.hi.toPrecision(6))]
  out.prediction_interval = { level: pi.level, draws: pi.draws, method: pi.method, profile: pi.profile, seed: pi.seed }
  return out as T
}
