// Calibration: fit the step-time coefficients and request overheads of one deployment to measured
// points by simulating every point's setting and minimising the log-ratio error of mean TTFT, TPOT and
// E2E (Levenberg–Marquardt over a few grouped log-multipliers of the shipped coefficients, so a handful
// of points suffice). Reports per-point errors and leave-one-point-out cross-validated errors.
import { Effect } from "effect"
import { resolveScenario, type ResolvedScenario } from "../scenario/resolve.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { decodeScenario } from "../scenario/schema.ts"
import { coefficientsFor, defaultOverheads } from "../hw/default-coefficients.ts"
import { compareMeans, medianAbsErrorByMetric, type CompareMetric, type MetricComparison } from "./compare.ts"
import { heldOutCases, profileUncertainty, type CoverageCase, type ResidualLabel } from "./fit-uncertainty.ts"
import { defaultLmOptions, levenbergMarquardt, maxEvaluations } from "./levenberg-marquardt.ts"
import { loadOf, type MeasuredPoint } from "./measurements.ts"
import { pointScenario, simulateWithCoefficients } from "./predict-point.ts"
import { PROFILE_KIND, type StepTimeProfile } from "../scenario/profile.ts"
import { applyKnobs, KNOB_BOUND, KNOBS, type Calibrated } from "./knobs.ts"
import { jacobianAt, type UncertaintyMethod } from "./uncertainty.ts"

/**
 * Knobs fitted given the residuals the smallest fit has (a leave-one-out fit: the other points'
 * measured metrics): fewer residuals, fewer knobs, so cross-validation stays an honest prediction.
 */
export const knobsFor = (numResiduals: number): number[] => {
  const n = numResiduals >= 12 ? 5 : numResiduals >= 8 ? 4 : numResiduals >= 4 ? 3 : 2
  return KNOBS.slice(0, n).map((_, i) => i)
}

interface PreparedPoint {
  readonly point: MeasuredPoint
  readonly resolved: ResolvedScenario
}

const predict = (pp: PreparedPoint, cal: Calibrated): MetricComparison[] =>
  compareMeans(simulateWithCoefficients(pp.resolved, cal.coefficients, cal.overheads, "calibrating"), pp.point)

const FITTED: ReadonlyArray<CompareMetric> = ["ttft", "tpot", "e2el"]

const residualsOf = (comparisons: ReadonlyArray<MetricComparison>): number[] =>
  comparisons.filter((c) => FITTED.includes(c.metric)).map((c) => Math.log(c.predictedMs / c.measuredMs))

export interface PointFit {
  readonly source: string
  readonly load: string
  readonly fit: ReadonlyArray<MetricComparison>
  /** Errors predicting this point from a fit on the other points (absent with fewer than 3 points). */
  readonly crossValidated?: ReadonlyArray<MetricComparison>
}

export interface CalibrationResult {
  readonly profile: StepTimeProfile
  readonly points: ReadonlyArray<PointFit>
  readonly knobs: Readonly<Record<string, number>>
  readonly evaluations: number
  /** With `coverage`: every held-out point's log error and predictive sds (src/calibrate/fit-uncertainty.ts). */
  readonly coverageCases?: ReadonlyArray<CoverageCase>
}

export interface CalibrateOptions {
  readonly model?: string
  readonly gpu?: string
  readonly tp?: number
  readonly precision?: string
  /** Leave-one-point-out cross-validation (default on with ≥ 3 points). */
  readonly crossValidate?: boolean
  /** How the profile's uncertainty block is estimated (default DEFAULT_UNCERTAINTY). */
  readonly uncertainty?: UncertaintyMethod
  /** Also check prediction intervals on the leave-one-out folds (costs p + 1 more sweeps per fold). */
  readonly coverage?: boolean
  /** Called after each simulated evaluation: `done` so far of at most `bound` (the fits may stop early). */
  readonly onEvaluation?: (done: number, bound: number) => void
}

/**
 * The uncertainty method written into profiles unless told otherwise. On held-out points of 12 silicon
 * groups (README "Prediction intervals") the bootstrap's 90% intervals held 92% of the measurements, the
 * Jacobian's 95% with intervals a fifth wider: the bootstrap is the closer to its stated level.
 */
export const DEFAULT_UNCERTAINTY: UncertaintyMethod = "bootstrap"

/**
 * Closed-loop points without a recorded request count, whose client's count is not known either, are
 * simulated with 5 × concurrency requests (validate uses 10×): the fit runs hundreds of simulations per
 * point, and the first wave's share of the mean is what the count trades off. Known clients (InferenceX:
 * 10 × concurrency) keep their count.
 */
export const calibrationClosedLoopRequests = (concurrency: number): number => Math.max(5 * concurrency, 50)

/** Multipliers outside this range are not a plausible deviation of real hardware from the shipped defaults. */
export const PHYSICAL_MULTIPLIER_RANGE = [0.25, 4] as const
/**
 * Prior sd of a knob about the fit, for the uncertainty a profile keeps: the physical range as a 90%
 * interval (±ln 4 = 1.645 τ). It only matters for knobs the measurements barely pin (e.g. KV-read cost
 * at short contexts), which would otherwise get unbounded variance.
 */
export const KNOB_PRIOR_SD = Math.log(PHYSICAL_MULTIPLIER_RANGE[1]) / 1.6448536
/** A median |fit error| above this (percent) means the model does not describe the measurements. */
export const MAX_FIT_ERROR_PCT = 20

/** Why a fit should not be trusted, one line each (empty when it looks sound). */
export const fitProblems = (r: Pick<CalibrationResult, "knobs" | "points">): string[] => {
  const out: string[] = []
  const [lo, hi] = PHYSICAL_MULTIPLIER_RANGE
  for (const [k, v] of Object.entries(r.knobs)) {
    if (!(v >= lo && v <= hi)) out.push(`multiplier ${k} ×${v.toPrecision(3)} is outside the physical range ×${lo}–×${hi}`)
  }
  const fit = medianAbsErrorByMetric(r.points.map((p) => p.fit))
  for (const m of FITTED) {
    const e = fit[m]
    if (e !== undefined && e.medianAbsPct > MAX_FIT_ERROR_PCT) out.push(`median |fit error| of ${m.toUpperCase()} is ${e.medianAbsPct.toFixed(1)}% (above ${MAX_FIT_ERROR_PCT}%)`)
  }
  return out
}

export const calibrate = (points: ReadonlyArray<MeasuredPoint>, o: CalibrateOptions = {}): Effect.Effect<CalibrationResult, InputError | FileError> =>
  Effect.gen(function* () {
    if (points.length === 0) return yield* new InputError({ message: "no measured points to calibrate on" })
    const prepared: PreparedPoint[] = []
    for (const point of points) {
      const raw = yield* pointScenario(point, {
        closedLoopRequests: calibrationClosedLoopRequests,
        ...(o.model !== undefined ? { model: o.model } : {}),
        ...(o.gpu !== undefined ? { gpu: o.gpu } : {}),
        ...(o.tp !== undefined ? { tp: o.tp } : {}),
        ...(o.precision !== undefined ? { precision: o.precision } : {}),
      })
      const resolved = yield* resolveScenario(yield* decodeScenario(raw, point.source))
      prepared.push({ point, resolved })
    }
    const first = prepared[0]!.resolved
    for (const pp of prepared) {
      const r = pp.resolved
      if (r.model.id !== first.model.id || r.gpu.id !== first.gpu.id || r.par.tp !== first.par.tp || r.par.pp !== first.par.pp || r.precision !== first.precision)
        return yield* new InputError({
          message: `calibrate fits one deployment: ${pp.point.source} is ${r.model.id} on ${r.gpu.id} tp=${r.par.tp} ${r.precision}, the first point is ${first.model.id} on ${first.gpu.id} tp=${first.par.tp} ${first.precision} (filter with --model/--gpu/--tp or use --per-group)`,
        })
    }
    const base: Calibrated = {
      coefficients: coefficientsFor({ model: first.model, gpu: first.gpu, precision: first.precision, kvCacheDtype: first.kvCacheDtype, par: first.par }),
      overheads: defaultOverheads,
    }
    let evaluations = 0
    // θ over the active knobs only; the others stay at the shipped defaults (θ = 0).
    const residualCounts = prepared.map((pp) => FITTED.filter((m) => (pp.point.metrics[`mean_${m}_ms`] ?? 0) > 0).length)
    const total = residualCounts.reduce((a, b) => a + b, 0)
    const active = knobsFor(prepared.length >= 3 ? total - Math.max(...residualCounts) : total)
    const expand = (t: ReadonlyArray<number>): number[] => {
      const all = KNOBS.map(() => 0)
      active.forEach((k, i) => (all[k] = t[i]!))
      return all
    }
    const crossValidate = (o.crossValidate ?? true) && prepared.length >= 3
    // Progress in evaluations against the most the fits can take; the bound tightens as each fit ends.
    const looBound = crossValidate ? prepared.length * maxEvaluations(active.length, 3) : 0
    let bound = maxEvaluations(active.length, 8) + looBound
    let done = 0
    const residualsFor = (subset: ReadonlyArray<PreparedPoint>) => (theta: ReadonlyArray<number>): number[] => {
      const cal = applyKnobs(expand(theta), base)
      const r = subset.flatMap((pp) => residualsOf(predict(pp, cal)))
      o.onEvaluation?.(++done, bound)
      return r
    }
    const full = levenbergMarquardt(residualsFor(prepared), active.map(() => 0), { maxIterations: 8, bound: KNOB_BOUND })
    evaluations += full.evaluations
    bound = done + looBound
    const fullTheta = expand(full.theta)
    const fitted = applyKnobs(fullTheta, base)
    // The residual rows' points and metrics, in residualsFor's order (compareMeans keeps FITTED's order).
    const labels: ResidualLabel[] = prepared.flatMap((pp, k) => FITTED.filter((m) => (pp.point.metrics[`mean_${m}_ms`] ?? 0) > 0).map((metric) => ({ point: k, metric })))
    const jacobianOver = (theta: ReadonlyArray<number>) => {
      const j = jacobianAt(residualsFor(prepared), theta, defaultLmOptions.step)
      evaluations += theta.length + 1
      if (j.residuals.length !== labels.length) throw new Error(`calibrate: ${j.residuals.length} residuals for ${labels.length} labels`)
      return j
    }
    const atFit = jacobianOver(full.theta)
    const knobNames = active.map((k) => KNOBS[k]!.name)
    const uncertainty = profileUncertainty(atFit.jacobian, atFit.residuals, labels, knobNames, o.uncertainty ?? DEFAULT_UNCERTAINTY, "profile", { priorSd: KNOB_PRIOR_SD })
    const coverageCases: CoverageCase[] = []
    const pointFits: PointFit[] = []
    for (let k = 0; k < prepared.length; k++) {
      const pp = prepared[k]!
      const fit = predict(pp, fitted)
      let crossValidated: MetricComparison[] | undefined
      if (crossValidate) {
        const others = prepared.filter((_, i) => i !== k)
        const loo = levenbergMarquardt(residualsFor(others), full.theta, { maxIterations: 3, bound: KNOB_BOUND })
        evaluations += loo.evaluations
        bound = done + (prepared.length - 1 - k) * maxEvaluations(active.length, 3)
        crossValidated = predict(pp, applyKnobs(expand(loo.theta), base))
        if (o.coverage === true) {
          const j = jacobianOver(loo.theta)
          coverageCases.push(...heldOutCases(j.jacobian, j.residuals, labels, k, `fold-${k}`, { priorSd: KNOB_PRIOR_SD }))
        }
      }
      pointFits.push({ source: pp.point.source, load: loadOf(pp.point), fit, ...(crossValidated !== undefined ? { crossValidated } : {}) })
    }
    const withBlocks = points.find((p) => p.numGpuBlocks !== undefined)
    const engineVersions = [...new Set(points.flatMap((p) => (p.engineVersion === undefined ? [] : [p.engineVersion])))]
    const measuredModels = [...new Set(points.flatMap((p) => (p.model === undefined ? [] : [p.model])))]
    const profile: StepTimeProfile = {
      kind: PROFILE_KIND,
      version: 1,
      model: first.model.id,
      gpu: first.gpu.id,
      tp: first.par.tp,
      pp: first.par.pp,
      precision: first.precision,
      coefficients: fitted.coefficients,
      overheads: fitted.overheads,
      ...(withBlocks?.numGpuBlocks !== undefined ? { numGpuBlocks: withBlocks.numGpuBlocks } : {}),
      ...(withBlocks?.blockSize !== undefined ? { blockSize: withBlocks.blockSize } : {}),
      fittedOn: {
        model: first.model.id,
        ...(measuredModels.length > 0 ? { measuredModels } : {}),
        gpu: first.gpu.id,
        tp: first.par.tp,
        pp: first.par.pp,
        precision: first.precision,
        ...(engineVersions.length > 0 ? { engineVersions } : {}),
        ...(withBlocks?.numGpuBlocks !== undefined ? { numGpuBlocks: withBlocks.numGpuBlocks } : {}),
        sources: points.map((p) => p.source),
      },
      fit: {
        points: points.length,
        knobs: Object.fromEntries(active.map((k) => [KNOBS[k]!.name, Math.exp(fullTheta[k]!)])),
        medianAbsErrorPct: medianAbsErrorByMetric(pointFits.map((p) => p.fit)),
        ...(crossValidate ? { leaveOneOutMedianAbsErrorPct: medianAbsErrorByMetric(pointFits.map((p) => p.crossValidated ?? [])) } : {}),
      },
      ...(uncertainty !== undefined ? { uncertainty } : {}),
    }
    return {
      profile,
      points: pointFits,
      knobs: Object.fromEntries(active.map((k) => [KNOBS[k]!.name, Math.exp(fullTheta[k]!)])),
      evaluations,
      ...(o.coverage === true && crossValidate ? { coverageCases } : {}),
    }
  })
