// Vega-Lite specifications of the report's plots, built from a SweepResult. Pure data → specs; each
// layer has a `name` so its marks can be found in the SVG (group class "<name>_marks").
import type { Config, TopLevelSpec } from "vega-lite"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"

export interface ChartSpec {
  readonly id: string
  readonly title: string
  /** One paragraph under the plot: what it shows and how to read the markers. */
  readonly caption: string
  readonly spec: TopLevelSpec
  /** Data points drawn by the layer named "points" (for tests). */
  readonly pointCount: number
}

type Row = Record<string, string | number | boolean | null>

const WIDTH = 560
const SATURATION_COLOR = "#111"
const HEIGHT = 300
const MAX_TIMELINE_SAMPLES = 400
const MAX_TIMELINES = 8

const loadTitle = (r: SweepResult): string => {
  const kinds = new Set(r.points.map((p) => p.config.load.kind))
  if (kinds.size !== 1) return "load"
  return kinds.has("rate") ? "request rate (req/s)" : "max concurrency (requests in flight)"
}

// The page shows each chart's title above it, so the SVG carries its title only as a description.
const base = (title: string): { width: number; height: number; description: string; config: Config } => ({
  width: WIDTH,
  height: HEIGHT,
  description: title,
  config: {
    font: "sans-serif",
    legend: { orient: "bottom", direction: "vertical", columns: 2, labelLimit: 260, symbolLimit: 40 },
    axis: { labelFontSize: 11, titleFontSize: 12 },
  },
})

const seriesLabel = (r: SweepResult, p: SweepPoint): string => r.series.find((s) => s.id === p.series)?.label ?? p.series

/** One row per point for the load plots. */
const loadRows = (r: SweepResult, value: (p: SweepPoint) => { mean: number; lo: number; hi: number }): Row[] =>
  r.points.map((p) => {
    const v = value(p)
    return {
      id: p.id,
      label: p.label,
      series: seriesLabel(r, p),
      load: p.config.load.value,
      value: v.mean,
      lo: v.lo,
      hi: v.hi,
      saturation: p.flags.saturation,
      optimal: p.flags.optimal,
      meetsSlo: p.flags.meetsSlo,
    }
  })

const loadChart = (
  r: SweepResult,
  id: string,
  title: string,
  yTitle: string,
  caption: string,
  value: (p: SweepPoint) => { mean: number; lo: number; hi: number },
  threshold?: { value: number; label: string },
  yLog = false,
): ChartSpec => {
  const rows = loadRows(r, value)
  const x = { field: "load", type: "quantitative" as const, title: loadTitle(r) }
  const y = {
    field: "value",
    type: "quantitative" as const,
    title: yTitle,
    ...(yLog ? { scale: { type: "log" as const } } : {}),
  }
  const color = { field: "series", type: "nominal" as const, title: "configuration" }
  const saturated = rows.filter((row) => row.saturation === true)
  const spec: TopLevelSpec = {
    ...base(title),
    data: { values: rows },
    layer: [
      { name: "line", mark: { type: "line", strokeWidth: 2 }, encoding: { x, y, color, detail: { field: "series" } } },
      {
        name: "ci",
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color },
      },
      {
        name: "points",
        mark: { type: "point", filled: true, size: 60 },
        encoding: {
          x,
          y,
          color,
          shape: {
            field: "meetsSlo",
            type: "nominal",
            title: "meets SLOs",
            scale: { domain: [true, false], range: ["circle", "cross"] },
          },
          tooltip: [{ field: "label" }, { field: "value", format: ".4~g" }],
        },
      },
      {
        name: "saturation",
        transform: [{ filter: "datum.saturation" }],
        mark: { type: "point", shape: "diamond", size: 260, strokeWidth: 2.5, filled: false, color: SATURATION_COLOR },
        encoding: { x, y },
      },
      {
        name: "saturation_rule",
        transform: [{ filter: "datum.saturation" }],
        mark: { type: "rule", strokeDash: [2, 3], color: SATURATION_COLOR },
        encoding: { x },
      },
      {
        name: "saturation_label",
        transform: [{ filter: "datum.saturation" }],
        mark: { type: "text", align: "left", dx: 8, dy: -10, color: SATURATION_COLOR, fontWeight: "bold" },
        encoding: { x, y, text: { value: "saturation" } },
      },
      ...(threshold === undefined
        ? []
        : [
            {
              name: "slo",
              data: { values: [{ v: threshold.value, label: threshold.label }] },
              layer: [
                {
                  mark: { type: "rule" as const, strokeDash: [6, 4], color: "#555" },
                  encoding: { y: { field: "v", type: "quantitative" as const } },
                },
                {
                  mark: { type: "text" as const, align: "right" as const, x: WIDTH, dy: -6, color: "#555" },
                  encoding: { y: { field: "v", type: "quantitative" as const }, text: { field: "label" } },
                },
              ],
            },
          ]),
    ],
  }
  return {
    id,
    title,
    caption: `${caption}${saturated.length > 0 ? " The black diamond and dotted line mark each configuration's saturation point." : " No configuration saturated within the sweep."}`,
    spec,
    pointCount: rows.length,
  }
}

const stat = (m: { mean: number; ciLow: number; ciHigh: number }) => ({ mean: m.mean, lo: m.ciLow, hi: m.ciHigh })

export const throughputChart = (r: SweepResult): ChartSpec =>
  loadChart(
    r,
    "throughput-vs-load",
    "Output throughput vs load",
    "output tokens/s",
    `Mean over seeds with 95% confidence intervals. Saturation: the first load after which throughput grows with elasticity below ${r.saturationThreshold} (${r.throughputMetric}).`,
    (p) => stat(p.metrics.output_throughput),
  )

export const ttftChart = (r: SweepResult): ChartSpec =>
  loadChart(
    r,
    "ttft-vs-load",
    "Time to first token vs load",
    `${r.slo.stat} TTFT (ms)`,
    "Crosses mark points that miss the SLOs; the dashed line is the TTFT bound.",
    (p) => stat(p.metrics[`${r.slo.stat}_ttft_ms`]),
    r.slo.ttftMs === undefined ? undefined : { value: r.slo.ttftMs, label: `SLO ${r.slo.ttftMs} ms` },
  )

export const tpotChart = (r: SweepResult): ChartSpec =>
  loadChart(
    r,
    "tpot-vs-load",
    "Time per output token vs load",
    `${r.slo.stat} TPOT (ms)`,
    "TPOT 50 ms = 20 tokens/s per request. Crosses mark points that miss the SLOs; the dashed line is the TPOT bound.",
    (p) => stat(p.metrics[`${r.slo.stat}_tpot_ms`]),
    r.slo.tpotMs === undefined ? undefined : { value: r.slo.tpotMs, label: `SLO ${r.slo.tpotMs} ms` },
  )

export const costVsLoadChart = (r: SweepResult): ChartSpec =>
  loadChart(
    r,
    "cost-vs-load",
    "Cost per 1M output tokens vs load",
    "USD per 1M output tokens",
    "Cost falls while added load amortises the GPU-hour and flattens once the GPU saturates.",
    (p) => stat(p.cost.usdPerMOutput),
  )

/** Erdil's frontier: $/1M output tokens against serial tokens/s per request. */
export const costFrontierChart = (r: SweepResult): ChartSpec => {
  const rows: Row[] = r.points.map((p) => ({
    id: p.id,
    label: p.label,
    series: seriesLabel(r, p),
    speed: p.serialTokensPerSecond,
    cost: p.cost.usdPerMOutput.mean,
    pareto: p.flags.pareto,
    optimal: p.flags.optimal,
  }))
  const positive = rows.every((row) => typeof row.cost === "number" && row.cost > 0)
  const x = { field: "speed", type: "quantitative" as const, title: "serial tokens/s per request (1000 / mean TPOT)" }
  const y = {
    field: "cost",
    type: "quantitative" as const,
    title: "USD per 1M output tokens",
    ...(positive ? { scale: { type: "log" as const } } : {}),
  }
  const spec: TopLevelSpec = {
    ...base("Cost per token vs per-request speed (Pareto frontier)"),
    data: { values: rows },
    layer: [
      {
        name: "frontier",
        transform: [{ filter: "datum.pareto" }],
        // Going faster than a frontier point costs the next point's price: step up first, then across.
        mark: { type: "line", color: "#222", strokeWidth: 2, interpolate: "step-before" },
        encoding: { x, y, order: { field: "speed", type: "quantitative" } },
      },
      {
        name: "points",
        mark: { type: "point", filled: true, size: 60, opacity: 0.85 },
        encoding: {
          x,
          y,
          color: { field: "series", type: "nominal", title: "configuration" },
          tooltip: [{ field: "label" }, { field: "cost", format: ".4~g" }, { field: "speed", format: ".4~g" }],
        },
      },
      {
        name: "pareto",
        transform: [{ filter: "datum.pareto" }],
        mark: { type: "point", size: 200, strokeWidth: 2, color: "#222", filled: false },
        encoding: { x, y },
      },
      {
        name: "optimal",
        transform: [{ filter: "datum.optimal" }],
        mark: {
          type: "point",
          shape: "M0,-1L0.29,-0.4L0.95,-0.31L0.48,0.15L0.59,0.81L0,0.5L-0.59,0.81L-0.48,0.15L-0.95,-0.31L-0.29,-0.4Z",
          size: 700,
          color: "#ff7f0e",
          stroke: "#222",
          strokeWidth: 1,
          filled: true,
          opacity: 1,
        },
        encoding: { x, y },
      },
    ],
  }
  const n = rows.filter((row) => row.pareto === true).length
  return {
    id: "cost-frontier",
    title: "Cost per token vs per-request speed",
    caption: `Every simulated configuration; black rings and the step line are the ${n} Pareto-optimal points (Erdil, arXiv 2506.04645): no other point is both cheaper and faster per request. The orange star is the optimal operating point (cheapest meeting the SLOs).`,
    spec,
    pointCount: rows.length,
  }
}

/** Production frontier: quality score against the cost of running the request set. */
export const qualityChart = (r: SweepResult): ChartSpec | undefined => {
  const q = r.quality
  if (q === undefined || q.rows.length === 0) return undefined
  const rows: Row[] = q.rows.map((row) => ({
    model: row.model,
    score: row.score,
    cost: row.costUsd,
    pareto: row.pareto,
    meetsSlo: row.meetsSlo,
  }))
  const x = { field: "cost", type: "quantitative" as const, title: "USD to run the request set" }
  const y = { field: "score", type: "quantitative" as const, title: "quality score", scale: { zero: false } }
  const spec: TopLevelSpec = {
    ...base("Quality vs cost (production frontier)"),
    data: { values: rows },
    layer: [
      {
        name: "frontier",
        transform: [{ filter: "datum.pareto" }],
        mark: { type: "line", color: "#222", strokeWidth: 2, interpolate: "step-after" },
        encoding: { x, y, order: { field: "cost", type: "quantitative" } },
      },
      {
        name: "points",
        mark: { type: "point", filled: true, size: 80 },
        encoding: {
          x,
          y,
          color: {
            field: "pareto",
            type: "nominal",
            title: "on the frontier",
            scale: { domain: [true, false], range: ["#1f77b4", "#9e9e9e"] },
          },
        },
      },
      {
        name: "labels",
        mark: { type: "text", align: "left", dx: 7, dy: -7, fontSize: 11 },
        encoding: { x, y, text: { field: "model" } },
      },
    ],
  }
  return {
    id: "quality-frontier",
    title: "Quality vs cost",
    caption:
      "Each model at its cheapest configuration meeting the SLOs; blue points form the production frontier (arXiv 2510.26136): no other model is both better and cheaper.",
    spec,
    pointCount: rows.length,
  }
}

export const costBreakdownChart = (r: SweepResult): ChartSpec => {
  const rows: Row[] = []
  for (const g of r.gpuCosts) {
    const parts: Array<[string, number]> =
      g.breakdown.kind === "cloud"
        ? [["cloud rental", g.breakdown.cloud]]
        : [
            ["depreciation", g.breakdown.depreciation],
            ["power", g.breakdown.power],
            ["maintenance", g.breakdown.maintenance],
          ]
    parts.forEach(([component, usd], order) => rows.push({ gpu: g.gpu, component, usd, order, total: g.breakdown.total }))
  }
  const spec: TopLevelSpec = {
    ...base("Cost of one GPU-hour"),
    height: Math.max(60, 48 * r.gpuCosts.length),
    data: { values: rows },
    layer: [
      {
        name: "points",
        mark: { type: "bar" },
        encoding: {
          y: { field: "gpu", type: "nominal", title: null },
          x: { field: "usd", type: "quantitative", title: "USD per GPU-hour", stack: "zero" },
          color: {
            field: "component",
            type: "nominal",
            title: "component",
            scale: {
              domain: ["depreciation", "power", "maintenance", "cloud rental"],
              range: ["#4c78a8", "#f58518", "#54a24b", "#b279a2"],
            },
          },
          order: { field: "order", type: "quantitative" },
          tooltip: [{ field: "gpu" }, { field: "component" }, { field: "usd", format: ".3f" }],
        },
      },
      {
        name: "totals",
        transform: [{ filter: "datum.order == 0" }],
        mark: { type: "text", align: "left", dx: 4 },
        encoding: {
          y: { field: "gpu", type: "nominal" },
          x: { field: "total", type: "quantitative" },
          text: { field: "total", type: "quantitative", format: "$.3f" },
        },
      },
    ],
  }
  return {
    id: "cost-breakdown",
    title: "Cost of one GPU-hour",
    caption:
      "Owner-operated: depreciation P/(Y·8760·u) + power kW·PUE·E + maintenance P·m/8760 (Zhuang et al., arXiv 2510.26136, App. A); or a cloud rate.",
    spec,
    pointCount: rows.length,
  }
}

export const sensitivityChart = (r: SweepResult): ChartSpec | undefined => {
  const s = r.sensitivity
  if (s === undefined || s.rows.length === 0) return undefined
  const pct = Math.round(s.delta * 100)
  const rows: Row[] = []
  for (const row of s.rows) {
    rows.push({ label: row.label, side: `−${pct}%`, from: s.baseOutput, to: row.outputAtLow, value: row.lowValue })
    rows.push({ label: row.label, side: `+${pct}%`, from: s.baseOutput, to: row.outputAtHigh, value: row.highValue })
  }
  const order = s.rows.map((row) => row.label)
  const spec: TopLevelSpec = {
    ...base(`Sensitivity of ${s.output} (±${pct}% per parameter)`),
    height: Math.max(120, 30 * s.rows.length),
    data: { values: rows },
    layer: [
      {
        name: "points",
        mark: { type: "bar", height: 18 },
        encoding: {
          y: { field: "label", type: "nominal", title: null, sort: order },
          x: { field: "from", type: "quantitative", title: s.output, scale: { zero: false } },
          x2: { field: "to" },
          color: {
            field: "side",
            type: "nominal",
            title: "parameter moved",
            scale: { domain: [`−${pct}%`, `+${pct}%`], range: ["#4c78a8", "#e45756"] },
          },
          tooltip: [{ field: "label" }, { field: "side" }, { field: "value", format: ".4~g" }, { field: "to", format: ".4~g" }],
        },
      },
      {
        name: "base",
        data: { values: [{ v: s.baseOutput }] },
        mark: { type: "rule", color: "#222" },
        encoding: { x: { field: "v", type: "quantitative" } },
      },
    ],
  }
  return {
    id: "sensitivity",
    title: "Sensitivity (tornado)",
    caption: `How ${s.output} at point ${s.pointId} moves when one parameter moves ±${pct}% and the rest stay put; sorted by swing.`,
    spec,
    pointCount: rows.length,
  }
}

/** Evenly spaced subsample keeping the first and last sample. */
const downsample = (n: number, max: number): number[] => {
  if (n <= max) return Array.from({ length: n }, (_, i) => i)
  const out: number[] = []
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)))
  return out
}

export const kvTimelineChart = (r: SweepResult): ChartSpec | undefined => {
  const withTimeline = r.points.filter((p) => p.timeline !== undefined && p.timeline.time.length > 0)
  if (withTimeline.length === 0) return undefined
  // Prefer the marked points, then spread over load.
  const ranked = [...withTimeline].sort((a, b) => {
    const score = (p: SweepPoint) => (p.flags.optimal ? 4 : 0) + (p.flags.saturation ? 2 : 0) + (p.flags.slaBoundary ? 1 : 0)
    return score(b) - score(a) || a.config.load.value - b.config.load.value
  })
  const chosen = ranked.slice(0, MAX_TIMELINES).sort((a, b) => a.config.load.value - b.config.load.value)
  // One configuration: name the lines by load alone and put the configuration in the legend title.
  const oneSeries = new Set(chosen.map((p) => p.series)).size === 1
  const name = (p: SweepPoint) => (oneSeries ? (p.label.split(" · ").pop() ?? p.label) : p.label)
  const rows: Row[] = []
  for (const p of chosen) {
    const t = p.timeline
    if (t === undefined) continue
    for (const i of downsample(t.time.length, MAX_TIMELINE_SAMPLES)) {
      rows.push({ point: name(p), time: t.time[i] ?? 0, kv: 100 * (t.kvCacheUsage[i] ?? 0) })
    }
  }
  const legendTitle = oneSeries && chosen[0] !== undefined ? seriesLabel(r, chosen[0]) : "point"
  const spec: TopLevelSpec = {
    ...base("KV-cache usage over time"),
    data: { values: rows },
    layer: [
      {
        name: "points",
        mark: { type: "line", strokeWidth: 1.5, interpolate: "step-after" },
        encoding: {
          x: { field: "time", type: "quantitative", title: "simulated time (s)" },
          y: { field: "kv", type: "quantitative", title: "KV cache used (%)", scale: { domain: [0, 100] } },
          color: { field: "point", type: "nominal", title: legendTitle, sort: chosen.map(name) },
        },
      },
    ],
  }
  return {
    id: "kv-timeline",
    title: "KV-cache usage over time",
    caption: `First seed of ${chosen.length} point(s); mean over replicas.`,
    spec,
    pointCount: chosen.length,
  }
}

/** All charts the result supports, in page order. */
export const reportCharts = (r: SweepResult): ChartSpec[] => {
  const out: Array<ChartSpec | undefined> = [
    throughputChart(r),
    ttftChart(r),
    tpotChart(r),
    costVsLoadChart(r),
    costFrontierChart(r),
    qualityChart(r),
    costBreakdownChart(r),
    sensitivityChart(r),
    kvTimelineChart(r),
  ]
  return out.filter((c): c is ChartSpec => c !== undefined)
}
