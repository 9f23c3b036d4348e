// The throughput frontier vLLM's `vllm bench sweep plot_pareto` draws (vllm/benchmarks/sweep/plot_pareto.py)
// and AIConfigurator users read: output tokens/s per GPU (what the fleet earns) against output tokens/s
// per user (what each user sees). tokens/s/GPU = output_throughput / (tp·pp·replicas); tokens/s/user =
// output_throughput / users, with users = max_concurrency for closed loops (plot_pareto's default
// --user-count-var) and, for open loops, the mean number in flight by Little's law
// (request_throughput × mean E2E latency) rather than plot_pareto's division by the request rate.
// Pareto-optimal: no other point has both more tokens/s/GPU and more tokens/s/user.
import type { TopLevelSpec } from "vega-lite"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"
import { formatLoad } from "../econ/point.ts"
import { base, type ChartSpec, type Row } from "./chart-common.ts"
import { legendNames, legendTitle } from "./legend-names.ts"

export interface FrontierPoint {
  readonly id: string
  readonly tokensPerGpu: number
  readonly tokensPerUser: number
  readonly users: number
  readonly pareto: boolean
  /** The configuration in engine-arg terms: "tp2 ×1 c=64" (plus GPU / max_num_seqs when they vary). */
  readonly config: string
}

/** Concurrent users of a point: its concurrency cap, or Little's law for an open loop. */
export const usersOf = (p: SweepPoint): number =>
  p.config.load.kind === "concurrency" ? p.config.load.value : p.metrics.request_throughput.mean * (p.metrics.mean_e2el_ms.mean / 1000)

/**
 * Indices on the frontier maximising both x and y: sorted by x descending (ties: y descending), a point
 * is kept when its y is at least the best y seen so far (plot_pareto's _pareto_frontier, epsilon 1e-9).
 */
export const maxMaxFrontier = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): Set<number> => {
  const order = xs.map((_, i) => i).filter((i) => Number.isFinite(xs[i]) && Number.isFinite(ys[i]))
  order.sort((a, b) => xs[b]! - xs[a]! || ys[b]! - ys[a]!)
  const keep = new Set<number>()
  let best = -Infinity
  for (const i of order) {
    if (ys[i]! >= best - 1e-9) {
      keep.add(i)
      best = Math.max(best, ys[i]!)
    }
  }
  return keep
}

export const frontierPoints = (r: SweepResult): FrontierPoint[] => {
  const gpus = new Set(r.points.map((p) => p.config.gpu))
  const seqs = new Set(r.points.map((p) => p.config.maxNumSeqs))
  const models = new Set(r.points.map((p) => p.config.model))
  const base = r.points.map((p) => {
    const users = usersOf(p)
    const out = p.metrics.output_throughput.mean
    const c = p.config
    const parts = [
      ...(models.size > 1 && c.model !== undefined ? [c.model.split("/").pop() ?? c.model] : []),
      ...(gpus.size > 1 ? [c.gpu] : []),
      `tp${c.tp}${c.pp !== 1 ? ` pp${c.pp}` : ""} ×${c.replicas}`,
      ...(seqs.size > 1 && c.maxNumSeqs !== undefined ? [`seqs${c.maxNumSeqs}`] : []),
      formatLoad(c.load),
    ]
    return { id: p.id, tokensPerGpu: out / c.numGpus, tokensPerUser: users > 0 ? out / users : Number.NaN, users, config: parts.join(" ") }
  })
  const keep = maxMaxFrontier(
    base.map((b) => b.tokensPerUser),
    base.map((b) => b.tokensPerGpu),
  )
  return base.map((b, i) => ({ ...b, pareto: keep.has(i) }))
}

export const throughputFrontierChart = (r: SweepResult): ChartSpec | undefined => {
  const pts = frontierPoints(r)
  if (pts.length === 0) return undefined
  const seriesOf = new Map(r.points.map((p) => [p.id, r.series.find((s) => s.id === p.series)?.label ?? p.series]))
  const names = legendNames([...seriesOf.values()])
  const rows: Row[] = pts
    .filter((p) => Number.isFinite(p.tokensPerUser))
    .map((p) => {
      const s = seriesOf.get(p.id) ?? ""
      return { id: p.id, perUser: p.tokensPerUser, perGpu: p.tokensPerGpu, pareto: p.pareto, config: p.config, series: names.names.get(s) ?? s }
    })
  const x = { field: "perUser", type: "quantitative" as const, title: "output tokens/s per user" }
  const y = { field: "perGpu", type: "quantitative" as const, title: "output tokens/s per GPU" }
  const spec: TopLevelSpec = {
    ...base("Throughput per GPU vs per user (Pareto frontier)", names.longest),
    data: { values: rows },
    layer: [
      {
        name: "frontier",
        transform: [{ filter: "datum.pareto" }],
        mark: { type: "line", color: "#222", strokeWidth: 2 },
        encoding: { x, y, order: { field: "perUser", type: "quantitative" } },
      },
      {
        name: "points",
        mark: { type: "point", filled: true, size: 60, opacity: 0.8 },
        encoding: {
          x,
          y,
          color: { field: "series", type: "nominal", title: legendTitle("configuration", names) },
          tooltip: [{ field: "config" }, { field: "perUser", format: ".4~g" }, { field: "perGpu", format: ".4~g" }],
        },
      },
      {
        name: "pareto",
        transform: [{ filter: "datum.pareto" }],
        mark: { type: "point", size: 200, strokeWidth: 2, color: "#222", filled: false },
        encoding: { x, y },
      },
      {
        name: "pareto_labels",
        transform: [{ filter: "datum.pareto" }],
        mark: { type: "text", align: "left", dx: 9, dy: -9, fontSize: 10, color: "#222" },
        encoding: { x, y, text: { field: "config" } },
      },
    ],
  }
  const n = rows.filter((row) => row.pareto === true).length
  return {
    id: "throughput-frontier",
    title: "Tokens/s per GPU vs tokens/s per user",
    caption: `The frontier of vllm bench sweep plot_pareto: output tokens/s per GPU against output tokens/s per user (users: the concurrency cap, or request rate × mean E2E latency for open loops). Ringed and labelled: the ${n} Pareto-optimal configurations (tp, replicas, load); no other point gives both more per GPU and more per user.`,
    spec,
    pointCount: rows.length,
  }
}
