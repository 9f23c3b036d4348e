// The paired t-test: two variants run on the same seeds (same arrivals and lengths), so each seed
// gives one difference d_i = variant_i − baseline_i and the seed-to-seed workload noise, shared by both,
// cancels. Mean difference d̄, its standard error s_d/√n, t = d̄/(s_d/√n) with n − 1 degrees of freedom;
// two-sided p-value and the (1 − α) confidence interval d̄ ± t(1 − α/2, n − 1)·s_d/√n. Pure.
import { mean, sampleStdev } from "./stats.ts"
import { studentTQuantile, studentTTwoSidedP } from "./student-t.ts"

export interface PairedTest {
  readonly n: number
  /** Mean of variant − baseline. */
  readonly meanDiff: number
  readonly sdDiff: number
  readonly df: number
  /** d̄/(s_d/√n); ±Infinity when every difference is the same non-zero value, 0 when all are 0. */
  readonly t: number
  /** Two-sided. 1 when every difference is 0, 0 when they are all the same non-zero value. */
  readonly p: number
  /** Confidence level of [ciLow, ciHigh], e.g. 0.95. */
  readonly level: number
  readonly ciLow: number
  readonly ciHigh: number
}

/** Paired t-test of `variant` against `baseline` (same length ≥ 2, paired by index). */
export const pairedTTest = (baseline: ReadonlyArray<number>, variant: ReadonlyArray<number>, level = 0.95): PairedTest | string => {
  if (baseline.length !== variant.length) return `paired samples differ in length (${baseline.length} vs ${variant.length})`
  const n = baseline.length
  if (n < 2) return `a paired t-test needs at least 2 pairs, got ${n}`
  if (!(level > 0 && level < 1)) return `confidence level must be in (0, 1), got ${level}`
  const d = baseline.map((b, i) => (variant[i] ?? Number.NaN) - b)
  if (d.some((x) => !Number.isFinite(x))) return "paired samples must be finite numbers"
  const m = mean(d)
  const sd = sampleStdev(d)
  const df = n - 1
  if (sd === 0) {
    // No spread: the difference is known exactly (identical runs give exactly 0).
    return { n, meanDiff: m, sdDiff: 0, df, t: m === 0 ? 0 : m > 0 ? Infinity : -Infinity, p: m === 0 ? 1 : 0, level, ciLow: m, ciHigh: m }
  }
  const se = sd / Math.sqrt(n)
  const t = m / se
  const half = studentTQuantile(1 - (1 - level) / 2, df) * se
  return { n, meanDiff: m, sdDiff: sd, df, t, p: studentTTwoSidedP(t, df), level, ciLow: m - half, ciHigh: m + half }
}
