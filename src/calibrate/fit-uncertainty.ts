// From a fit's Jacobian and residuals to the profile's uncertainty block, and the leave-one-out check
// of it: fitted without a point, does the interval predicted for that point hold its measurement?
// Pure (the caller evaluates the Jacobian, which costs simulations).
import type { ProfileUncertainty } from "../scenario/profile.ts"
import {
  bootstrapShifts,
  coverage,
  jacobianCovariance,
  quadraticForm,
  residualSds,
  shiftCovariance,
  UNCERTAINTY_METHODS,
  type UncertaintyMethod,
} from "./uncertainty.ts"

/** Which point and metric a residual row belongs to. */
export interface ResidualLabel {
  readonly point: number
  readonly metric: string
}

/** Bootstrap replicates estimating the covariance; the profile keeps the first SAMPLES_KEPT as draws. */
const BOOTSTRAP_REPLICATES = 200
export const SAMPLES_KEPT = 32

interface Estimate {
  readonly covariance: number[][]
  readonly samples?: number[][]
}

/** How each fit is summarised: a prior sd on every knob (undefined: none), bootstrap replicates. */
export interface EstimateOptions {
  readonly priorSd?: number
  readonly replicates?: number
}

const estimate = (method: UncertaintyMethod, jac: number[][], r: number[], labels: ReadonlyArray<ResidualLabel>, seed: string, o: EstimateOptions): Estimate | undefined => {
  if (method === "jacobian") {
    const covariance = jacobianCovariance(jac, r, o.priorSd)
    return covariance === undefined ? undefined : { covariance }
  }
  const samples = bootstrapShifts(jac, r, labels.map((l) => l.point), o.replicates ?? BOOTSTRAP_REPLICATES, seed, o.priorSd)
  const covariance = shiftCovariance(samples)
  return covariance === undefined ? undefined : { covariance, samples }
}

/** The profile's uncertainty block, or undefined when the fit has no residual degrees of freedom. */
export const profileUncertainty = (
  jac: number[][],
  r: number[],
  labels: ReadonlyArray<ResidualLabel>,
  knobs: ReadonlyArray<string>,
  method: UncertaintyMethod,
  seed: string,
  o: EstimateOptions = {},
): ProfileUncertainty | undefined => {
  const est = estimate(method, jac, r, labels, seed, o)
  const residualSd = residualSds(labels.map((l, k) => ({ metric: l.metric, value: r[k]! })), knobs.length)
  if (est === undefined || residualSd === undefined) return undefined
  return {
    method,
    knobs: [...knobs],
    covariance: est.covariance,
    ...(est.samples !== undefined ? { samples: est.samples.slice(0, SAMPLES_KEPT) } : {}),
    residualSd,
    residuals: r.length,
  }
}

/** Interval widths compared on held-out points: each method's parameter part plus the residual sd, and the residual sd alone. */
export type CoverageBasis = UncertaintyMethod | "residual-only"
export const COVERAGE_BASES: ReadonlyArray<CoverageBasis> = [...UNCERTAINTY_METHODS, "residual-only"]

export interface CoverageCase {
  readonly point: number
  readonly metric: string
  /** log(measured / predicted), predicted by the fit without this point. */
  readonly logError: number
  /** The predictive log-scale sd each basis gives. */
  readonly logSd: Readonly<Record<CoverageBasis, number>>
  /** Residual degrees of freedom of the fold's fit (N − p): the interval uses t with these. */
  readonly dof: number
}

/**
 * Held-out cases of one leave-one-out fold: `jac`/`r` are evaluated at the fold's θ over ALL points;
 * the rows of `held` are the predictions, the others are the fit the interval is estimated from.
 */
export const heldOutCases = (jac: number[][], r: number[], labels: ReadonlyArray<ResidualLabel>, held: number, seed: string, o: EstimateOptions = {}): CoverageCase[] => {
  const p = jac[0]?.length ?? 0
  const keep = labels.flatMap((l, k) => (l.point === held ? [] : [k]))
  const jo = keep.map((k) => jac[k]!)
  const ro = keep.map((k) => r[k]!)
  const lo = keep.map((k) => labels[k]!)
  const sds = residualSds(lo.map((l, i) => ({ metric: l.metric, value: ro[i]! })), p)
  const est = Object.fromEntries(UNCERTAINTY_METHODS.map((m) => [m, estimate(m, jo, ro, lo, seed, o)])) as Record<UncertaintyMethod, Estimate | undefined>
  if (sds === undefined || UNCERTAINTY_METHODS.some((m) => est[m] === undefined)) return []
  return labels.flatMap((l, k) => {
    const s = sds[l.metric]
    if (l.point !== held || s === undefined) return []
    const g = jac[k]!
    const withParams = (m: UncertaintyMethod) => Math.sqrt(quadraticForm(g, est[m]!.covariance) + s * s)
    return [{ point: held, metric: l.metric, logError: -r[k]!, logSd: { jacobian: withParams("jacobian"), bootstrap: withParams("bootstrap"), "residual-only": s }, dof: ro.length - p }]
  })
}

export interface CoverageSummary {
  readonly level: number
  readonly cases: number
  /** Fraction of cases inside the level interval (t quantile with the fold's dof), per basis. */
  readonly coverage: Readonly<Record<CoverageBasis, number>>
  /** The same with the normal quantile: what ignoring the uncertainty of the residual sd gives. */
  readonly coverageNormal: Readonly<Record<CoverageBasis, number>>
  /** Median predictive log sd per basis (how wide the intervals are). */
  readonly medianLogSd: Readonly<Record<CoverageBasis, number>>
  /** Coverage per metric, per basis. */
  readonly byMetric: Readonly<Record<string, { readonly cases: number; readonly coverage: Readonly<Record<CoverageBasis, number>> }>>
}

const median = (xs: ReadonlyArray<number>): number => {
  const a = [...xs].sort((x, y) => x - y)
  const m = a.length >> 1
  return a.length === 0 ? Number.NaN : a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2
}

const coverageBy = (cases: ReadonlyArray<CoverageCase>, level: number, t = true): Record<CoverageBasis, number> =>
  Object.fromEntries(
    COVERAGE_BASES.map((b) => [b, coverage(cases.map((c) => ({ logError: c.logError, logSd: c.logSd[b], ...(t ? { dof: c.dof } : {}) })), level)]),
  ) as Record<CoverageBasis, number>

export const summarizeCoverage = (cases: ReadonlyArray<CoverageCase>, level: number): CoverageSummary => ({
  level,
  cases: cases.length,
  coverage: coverageBy(cases, level),
  coverageNormal: coverageBy(cases, level, false),
  medianLogSd: Object.fromEntries(COVERAGE_BASES.map((b) => [b, median(cases.map((c) => c.logSd[b]))])) as Record<CoverageBasis, number>,
  byMetric: Object.fromEntries(
    [...new Set(cases.map((c) => c.metric))].map((m) => {
      const mine = cases.filter((c) => c.metric === m)
      return [m, { cases: mine.length, coverage: coverageBy(mine, level) }]
    }),
  ),
})
