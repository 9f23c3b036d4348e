// Predicted vs measured, field by field, on the vllm-bench metric names. Pure.
import type { BenchSummary } from "../sim/bench-summary.ts"
import type { MeasuredPoint } from "./measurements.ts"

export type CompareMetric = "ttft" | "tpot" | "e2el" | "itl"
export const COMPARE_METRICS: ReadonlyArray<CompareMetric> = ["ttft", "tpot", "e2el", "itl"]

export interface MetricComparison {
  readonly metric: CompareMetric
  readonly measuredMs: number
  readonly predictedMs: number
  /** (predicted − measured) / measured × 100. */
  readonly errorPct: number
}

/** Mean-latency comparisons for the metrics the measurement has. */
export const compareMeans = (predicted: BenchSummary, p: MeasuredPoint): MetricComparison[] => {
  const out: MetricComparison[] = []
  for (const metric of COMPARE_METRICS) {
    const measured = p.metrics[`mean_${metric}_ms`]
    const pred = predicted[`mean_${metric}_ms`]
    if (measured === undefined || measured <= 0) continue
    out.push({ metric, measuredMs: measured, predictedMs: pred, errorPct: ((pred - measured) / measured) * 100 })
  }
  return out
}

/** Median of |x| (NaN for an empty list: no comparison, no error figure). */
export const medianAbs = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN
  const a = xs.map(Math.abs).sort((x, y) => x - y)
  const m = a.length >> 1
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2
}

/** Median absolute % error per metric over a set of comparisons. */
export const medianAbsErrorByMetric = (rows: ReadonlyArray<ReadonlyArray<MetricComparison>>): Partial<Record<CompareMetric, { medianAbsPct: number; n: number }>> => {
  const out: Partial<Record<CompareMetric, { medianAbsPct: number; n: number }>> = {}
  for (const metric of COMPARE_METRICS) {
    const errs = rows.flatMap((r) => r.filter((c) => c.metric === metric).map((c) => c.errorPct))
    if (errs.length > 0) out[metric] = { medianAbsPct: medianAbs(errs), n: errs.length }
  }
  return out
}
