// Mean and 95% confidence interval of a metric over seeds (Student t). Pure.

/** A metric summarised over seeds. With n < 2 the interval collapses to the mean (no spread to estimate). */
export interface MetricStat {
  readonly mean: number
  /** Sample standard deviation (n − 1); 0 when n < 2. */
  readonly stdev: number
  /** Bounds of the 95% confidence interval of the mean: mean ∓ t(0.975, n−1)·stdev/√n. */
  readonly ciLow: number
  readonly ciHigh: number
  readonly n: number
}

// Two-sided 95% quantiles t(0.975, df) for df = 1..30 (standard Student t table, e.g. NIST/SEMATECH
// e-Handbook §1.3.6.7.2); index = df.
const T975: ReadonlyArray<number> = [
  Number.NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
]
// Same table beyond 30: df 40, 60, 120, 1000 (≈ the normal quantile 1.96).
const T975_TAIL: ReadonlyArray<readonly [number, number]> = [
  [40, 2.021],
  [60, 2.0],
  [120, 1.98],
  [1000, 1.962],
]

/** t(0.975, df). Between table rows it takes the next smaller df's value (the wider, conservative one). */
export const tCritical95 = (df: number): number => {
  if (!Number.isFinite(df) || df < 1) return Number.NaN
  const d = Math.floor(df)
  if (d <= 30) return T975[d] ?? Number.NaN
  let value = T975[30] ?? Number.NaN
  for (const [rowDf, t] of T975_TAIL) {
    if (d >= rowDf) value = t
  }
  return value
}

export const mean = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN
  let s = 0
  for (const x of xs) s += x
  return s / xs.length
}

export const sampleStdev = (xs: ReadonlyArray<number>): number => {
  if (xs.length < 2) return 0
  const m = mean(xs)
  let ss = 0
  for (const x of xs) ss += (x - m) * (x - m)
  return Math.sqrt(ss / (xs.length - 1))
}

export const summarize = (xs: ReadonlyArray<number>): MetricStat => {
  const n = xs.length
  const m = mean(xs)
  if (n < 2) return { mean: m, stdev: 0, ciLow: m, ciHigh: m, n }
  const sd = sampleStdev(xs)
  const half = (tCritical95(n - 1) * sd) / Math.sqrt(n)
  return { mean: m, stdev: sd, ciLow: m - half, ciHigh: m + half, n }
}

/** A single value as a MetricStat (n = 1). */
export const exact = (x: number): MetricStat => summarize([x])
