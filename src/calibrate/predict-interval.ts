// Prediction intervals of a simulation run with a calibrated profile: the run is repeated at a few
// parameter draws from the profile's uncertainty (same workload seed, so only the parameters differ),
// the spread of each headline metric across draws gives the parameter part, the profile's residual sd
// (the model error the fit showed) the rest; both add in log space, and the interval takes Student t's
// quantile with the fit's residual degrees of freedom (its sd is estimated from few residuals). Pure.
import type { SimSummary } from "../sim/summary.ts"
import { KNOB_BOUND } from "./knobs.ts"
import type { ProfileUncertainty } from "../scenario/profile.ts"
import { gaussianDraws, logInterval } from "./quantiles.ts"

/** The metrics that get an interval: vllm-bench field names. */
export const INTERVAL_FIELDS: ReadonlyArray<string> = [
  ...["ttft", "tpot", "itl", "e2el"].flatMap((m) => ["mean", "median", "p99"].map((s) => `${s}_${m}_ms`)),
  "output_throughput",
  "request_throughput",
]

export const DEFAULT_INTERVAL_DRAWS = 16
export const DEFAULT_INTERVAL_LEVEL = 0.9

/**
 * Which fitted metric's residual sd a field carries. ITL is TPOT's per-token counterpart. Throughput
 * under a closed loop is concurrency / E2E, so it carries E2E's; at a fixed arrival rate throughput is
 * set by the rate, so it has no residual part (only what the draws show, e.g. when a draw saturates).
 */
export const residualMetricOf = (field: string, closedLoop: boolean): string | undefined => {
  if (field.endsWith("_throughput")) return closedLoop ? "e2el" : undefined
  const m = /_(ttft|tpot|itl|e2el)_ms$/.exec(field)?.[1]
  return m === "itl" ? "tpot" : m
}

/**
 * Knob shifts to simulate: the bootstrap's own replicates, or seeded draws of N(0, covariance). Each
 * is clamped to the fit's own bound on a knob (±KNOB_BOUND), so a fit that barely pins a
 * knob (a huge variance) gives wide but finite intervals rather than infinite coefficients.
 */
export const intervalShifts = (u: ProfileUncertainty, count: number, seed: string): number[][] => {
  const b = KNOB_BOUND
  const raw = u.method === "bootstrap" && u.samples !== undefined ? u.samples.slice(0, count).map((s: ReadonlyArray<number>) => [...s]) : gaussianDraws(u.covariance, count, seed)
  return raw.map((s: ReadonlyArray<number>) => s.map((x: number) => Math.max(-b, Math.min(b, x))))
}

export interface MetricInterval {
  readonly lo: number
  readonly hi: number
  /** Log-scale sd across parameter draws (about the profile's own prediction). */
  readonly parameterLogSd: number
  /** Log-scale residual sd added (0 when the field carries none). */
  readonly residualLogSd: number
}

/** Log-scale sd of positive values about a centre (root mean square of log ratios). */
export const logSpread = (center: number, values: ReadonlyArray<number>): number =>
  values.length === 0 ? 0 : Math.sqrt(values.reduce((a, v) => a + Math.log(v / center) ** 2, 0) / values.length)

/** A summary field by name (the summary's type lists its fields; intervals pick them by name). */
const fieldOf = (s: SimSummary, k: string): unknown => (s as unknown as Readonly<Record<string, unknown>>)[k]

/** One interval per headline field the centre run has (positive, finite values only). */
export const metricIntervals = (
  center: SimSummary,
  draws: ReadonlyArray<SimSummary>,
  residualSd: Readonly<Record<string, number>>,
  level: number,
  closedLoop: boolean,
  dof?: number,
): Record<string, MetricInterval> => {
  const out: Record<string, MetricInterval> = {}
  for (const field of INTERVAL_FIELDS) {
    const c = fieldOf(center, field)
    if (typeof c !== "number" || !(c > 0) || !Number.isFinite(c)) continue
    const values = draws.map((d) => fieldOf(d, field)).filter((v): v is number => typeof v === "number" && v > 0 && Number.isFinite(v))
    const parameterLogSd = logSpread(c, values)
    const m = residualMetricOf(field, closedLoop)
    const residualLogSd = m === undefined ? 0 : (residualSd[m] ?? 0)
    const [lo, hi] = logInterval(c, Math.hypot(parameterLogSd, residualLogSd), level, dof)
    out[field] = { lo, hi, parameterLogSd, residualLogSd }
  }
  return out
}
