// `servesim compare`'s analysis: variants (policies, routers, scenario files) run on the same seeds;
// for each metric the paired t-test of every variant against the first (the baseline), and a verdict
// line per headline metric ("spf lowers p99 TTFT by 31 ms [24, 38], p < 0.001"). Pure.
import type { BenchMetrics } from "./point.ts"
import { pairedTTest, type PairedTest } from "./paired.ts"
import { mean } from "./stats.ts"

export interface CompareMetric {
  readonly key: keyof BenchMetrics
  readonly label: string
  readonly unit: "ms" | "tok/s" | "req/s"
  /** Which direction is an improvement. */
  readonly better: "lower" | "higher"
  /** Gets a verdict line. */
  readonly headline: boolean
}

export const COMPARE_METRICS: ReadonlyArray<CompareMetric> = [
  { key: "mean_ttft_ms", label: "mean TTFT", unit: "ms", better: "lower", headline: true },
  { key: "p99_ttft_ms", label: "p99 TTFT", unit: "ms", better: "lower", headline: true },
  { key: "mean_tpot_ms", label: "mean TPOT", unit: "ms", better: "lower", headline: true },
  { key: "p99_tpot_ms", label: "p99 TPOT", unit: "ms", better: "lower", headline: true },
  { key: "mean_itl_ms", label: "mean ITL", unit: "ms", better: "lower", headline: false },
  { key: "p99_itl_ms", label: "p99 ITL", unit: "ms", better: "lower", headline: false },
  { key: "mean_e2el_ms", label: "mean E2E", unit: "ms", better: "lower", headline: true },
  { key: "p99_e2el_ms", label: "p99 E2E", unit: "ms", better: "lower", headline: true },
  { key: "output_throughput", label: "output throughput", unit: "tok/s", better: "higher", headline: true },
  { key: "request_throughput", label: "request throughput", unit: "req/s", better: "higher", headline: false },
  { key: "request_goodput", label: "goodput", unit: "req/s", better: "higher", headline: true },
]

/** Significance level of the verdicts (two-sided). */
export const COMPARE_ALPHA = 0.05

export interface VariantRuns {
  readonly label: string
  /** runs[i]: the run on seed i (the same seeds, in the same order, for every variant). */
  readonly runs: ReadonlyArray<BenchMetrics>
}

export interface MetricComparison {
  readonly metric: keyof BenchMetrics
  readonly label: string
  readonly unit: CompareMetric["unit"]
  readonly better: CompareMetric["better"]
  readonly baselineMean: number
  readonly variantMean: number
  /** Paired differences variant − baseline, one per seed. */
  readonly differences: ReadonlyArray<number>
  readonly test: PairedTest
  /** variant mean / baseline mean − 1 (undefined when the baseline mean is 0). */
  readonly relative?: number
  readonly verdict: string
  readonly headline: boolean
}

export interface Comparison {
  readonly baseline: string
  readonly variant: string
  readonly metrics: ReadonlyArray<MetricComparison>
}

const sig = (x: number): string => {
  if (x === 0) return "0"
  const a = Math.abs(x)
  return a >= 1000 ? x.toFixed(0) : Number(x.toPrecision(3)).toString()
}

export const formatP = (p: number): string => (p < 0.001 ? "p < 0.001" : `p = ${Number(p.toPrecision(2))}`)

/** One verdict line for a metric of `variant` against the baseline. */
export const verdictOf = (variant: string, m: CompareMetric, t: PairedTest): string => {
  if (t.sdDiff === 0 && t.meanDiff === 0) return `no difference in ${m.label} (identical on every seed)`
  if (!(t.p < COMPARE_ALPHA)) return `no significant difference in ${m.label} (${formatP(t.p)})`
  const down = t.meanDiff < 0
  const unit = m.unit === "ms" ? " ms" : ` ${m.unit}`
  // The interval of the magnitude: [|hi|, |lo|] for a decrease.
  const [lo, hi] = down ? [-t.ciHigh, -t.ciLow] : [t.ciLow, t.ciHigh]
  return `${variant} ${down ? "lowers" : "raises"} ${m.label} by ${sig(Math.abs(t.meanDiff))}${unit} [${sig(lo)}, ${sig(hi)}], ${formatP(t.p)}`
}

/**
 * Every variant after the first against the first, on each metric all runs have. Fails (a message)
 * when the variants have different numbers of runs or fewer than 2.
 */
export const compareVariants = (variants: ReadonlyArray<VariantRuns>, level = 0.95): { ok: true; value: Comparison[] } | { ok: false; error: string } => {
  const base = variants[0]
  if (base === undefined || variants.length < 2) return { ok: false, error: "compare needs at least two variants" }
  const out: Comparison[] = []
  for (const v of variants.slice(1)) {
    const metrics: MetricComparison[] = []
    for (const m of COMPARE_METRICS) {
      const a = base.runs.map((r) => r[m.key])
      const b = v.runs.map((r) => r[m.key])
      if (a.some((x) => x === undefined) || b.some((x) => x === undefined)) continue
      const av = a as number[]
      const bv = b as number[]
      const test = pairedTTest(av, bv, level)
      if (typeof test === "string") return { ok: false, error: `${m.label}: ${test}` }
      const baselineMean = mean(av)
      const variantMean = mean(bv)
      metrics.push({
        metric: m.key,
        label: m.label,
        unit: m.unit,
        better: m.better,
        baselineMean,
        variantMean,
        differences: bv.map((x, i) => x - (av[i] ?? Number.NaN)),
        test,
        ...(baselineMean === 0 ? {} : { relative: variantMean / baselineMean - 1 }),
        verdict: verdictOf(v.label, m, test),
        headline: m.headline,
      })
    }
    out.push({ baseline: base.label, variant: v.label, metrics })
  }
  return { ok: true, value: out }
}
