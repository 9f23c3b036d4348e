// Where a load sweep stops paying off: saturation point, SLO check, optimal operating point and SLA
// boundary (the paper's "diminishing returns to scale" and "optimal cost-effectiveness zone",
// arXiv 2510.26136). Pure.
import type { BenchMetrics } from "./point.ts"

/**
 * Saturation: the first point (in load order) after which added load stops adding throughput. Gains
 * are measured as the load elasticity of throughput between two points,
 *   e(i, j) = ln(T_j / T_i) / ln(L_j / L_i),
 * which is 1 while throughput grows in proportion to load and 0 once it is flat. Point i is the
 * saturation point when e(i, j) < threshold for every later point j, i.e. no later load buys a
 * proportionate gain. Requiring it against every later point, not only the next one, keeps one noisy
 * step from ending the sweep early. With the default 0.2, doubling load yields < 15 % more throughput.
 */
export const DEFAULT_SATURATION_ELASTICITY = 0.2

export interface LoadThroughput {
  readonly load: number
  readonly throughput: number
}

/** Indices of `points` in ascending load order (ties keep input order). */
export const loadOrder = (points: ReadonlyArray<{ readonly load: number }>): number[] =>
  points.map((_, i) => i).sort((a, b) => (points[a]?.load ?? 0) - (points[b]?.load ?? 0) || a - b)

const elasticity = (from: LoadThroughput, to: LoadThroughput): number => {
  if (to.load <= from.load) return Number.NaN
  if (from.throughput <= 0) return to.throughput > 0 ? Number.POSITIVE_INFINITY : 0
  if (to.throughput <= 0) return Number.NEGATIVE_INFINITY
  return Math.log(to.throughput / from.throughput) / Math.log(to.load / from.load)
}

/** Index (into `points`) of the saturation point, or undefined when throughput still grows at the top load. */
export const saturationIndex = (
  points: ReadonlyArray<LoadThroughput>,
  threshold: number = DEFAULT_SATURATION_ELASTICITY,
): number | undefined => {
  const order = loadOrder(points)
  for (let a = 0; a < order.length - 1; a++) {
    const i = order[a]
    const pi = i === undefined ? undefined : points[i]
    if (i === undefined || pi === undefined) continue
    let saturated = true
    let compared = 0
    for (let b = a + 1; b < order.length; b++) {
      const pj = points[order[b] ?? -1]
      if (pj === undefined || pj.load <= pi.load) continue
      compared++
      if (!(elasticity(pi, pj) < threshold)) {
        saturated = false
        break
      }
    }
    if (saturated && compared > 0) return i
  }
  return undefined
}

/** Latency SLOs; a point meets them when every given bound holds for the chosen statistic. */
export interface SloSpec {
  readonly ttftMs?: number
  /** TPOT bound; 50 ms ⇔ at least 20 tok/s per request during decode. */
  readonly tpotMs?: number
  readonly e2elMs?: number
  /** Which statistic of the per-request distribution is compared (vllm bench serve's mean/median/p99). */
  readonly stat: "mean" | "median" | "p99"
}

// TTFT ≤ 1 s and ≥ 20 tok/s per request: the SLA of arXiv 2510.26136 as summarised in the issue and in
// secondary notes ("minimizing cost at ≥20 tokens/s throughput and <1s latency"); the paper reports averages.
export const DEFAULT_SLO: SloSpec = { ttftMs: 1000, tpotMs: 50, stat: "mean" }

export interface SloCheck {
  readonly meets: boolean
  /** One line per violated bound, e.g. "mean TTFT 1234 ms > 1000 ms". */
  readonly violations: ReadonlyArray<string>
}

type LatencyMetrics = Pick<
  BenchMetrics,
  | "mean_ttft_ms"
  | "median_ttft_ms"
  | "p99_ttft_ms"
  | "mean_tpot_ms"
  | "median_tpot_ms"
  | "p99_tpot_ms"
  | "mean_e2el_ms"
  | "median_e2el_ms"
  | "p99_e2el_ms"
>

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3))

export const checkSlo = (m: LatencyMetrics, slo: SloSpec): SloCheck => {
  const violations: string[] = []
  const pick = {
    mean: { ttft: m.mean_ttft_ms, tpot: m.mean_tpot_ms, e2el: m.mean_e2el_ms },
    median: { ttft: m.median_ttft_ms, tpot: m.median_tpot_ms, e2el: m.median_e2el_ms },
    p99: { ttft: m.p99_ttft_ms, tpot: m.p99_tpot_ms, e2el: m.p99_e2el_ms },
  }[slo.stat]
  const bound = (label: string, value: number, limit: number | undefined) => {
    if (limit === undefined) return
    if (!(value <= limit)) violations.push(`${slo.stat} ${label} ${fmt(value)} ms > ${fmt(limit)} ms`)
  }
  bound("TTFT", pick.ttft, slo.ttftMs)
  bound("TPOT", pick.tpot, slo.tpotMs)
  bound("E2EL", pick.e2el, slo.e2elMs)
  return { meets: violations.length === 0, violations }
}

/** Parses "ttft:1000,tpot:50[,e2el:20000][,stat:p99]"; missing keys are unbounded, stat defaults to mean. */
export const parseSloSpec = (text: string): { ok: true; value: SloSpec } | { ok: false; error: string } => {
  let ttftMs: number | undefined
  let tpotMs: number | undefined
  let e2elMs: number | undefined
  let stat: SloSpec["stat"] = "mean"
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
  if (parts.length === 0) return { ok: false, error: `SLO "${text}" is empty; expected e.g. ttft:1000,tpot:50` }
  for (const part of parts) {
    const [key, value, ...rest] = part.split(":").map((s) => s.trim())
    if (key === undefined || value === undefined || rest.length > 0)
      return { ok: false, error: `SLO term "${part}" is not key:value` }
    if (key === "stat") {
      if (value !== "mean" && value !== "median" && value !== "p99")
        return { ok: false, error: `SLO stat "${value}" must be mean, median or p99` }
      stat = value
      continue
    }
    const n = Number(value)
    if (value === "" || !Number.isFinite(n) || n <= 0)
      return { ok: false, error: `SLO ${key} "${value}" must be a positive number of ms` }
    if (key === "ttft") ttftMs = n
    else if (key === "tpot") tpotMs = n
    else if (key === "e2el") e2elMs = n
    else return { ok: false, error: `SLO key "${key}" must be ttft, tpot, e2el or stat` }
  }
  return {
    ok: true,
    value: {
      stat,
      ...(ttftMs === undefined ? {} : { ttftMs }),
      ...(tpotMs === undefined ? {} : { tpotMs }),
      ...(e2elMs === undefined ? {} : { e2elMs }),
    },
  }
}

/** Index of the cheapest point meeting the SLOs (lowest `cost`), or undefined when none meets them. */
export const optimalIndex = (
  points: ReadonlyArray<{ readonly meetsSlo: boolean; readonly cost: number }>,
): number | undefined => {
  let best: number | undefined
  points.forEach((p, i) => {
    if (!p.meetsSlo || !Number.isFinite(p.cost)) return
    const b = best === undefined ? undefined : points[best]
    if (b === undefined || p.cost < b.cost) best = i
  })
  return best
}

/**
 * SLA boundary of one load sweep: the highest load reached before the first SLO violation, walking up
 * in load order. A point that meets the SLOs again above a violation (noise, or a different regime)
 * does not move the boundary. Undefined when the lowest load already violates them.
 */
export const slaBoundaryIndex = (
  points: ReadonlyArray<{ readonly load: number; readonly meetsSlo: boolean }>,
): number | undefined => {
  let boundary: number | undefined
  for (const i of loadOrder(points)) {
    if (!points[i]?.meetsSlo) break
    boundary = i
  }
  return boundary
}
