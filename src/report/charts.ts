// Vega-Lite specifications of the report's plots, built from a SweepResult. Pure data → specs; each
// layer has a `name` so its marks can be found in the SVG (group class "<name>_marks").
import type { TopLevelSpec } from "vega-lite"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"
import { base, WIDTH, type ChartSpec, type Row } from "./chart-common.ts"
import { intervalCaption, intervalLayers, intervalRowFields } from "./interval-band.ts"
import { kvTimelineChart } from "./kv-chart.ts"
import { legendNames, legendTitle, type LegendNames } from "./legend-names.ts"
import { throughputFrontierChart } from "./throughput-frontier.ts"
import { offScaleNote, wantsLog, WIDE_RANGE, yDomain, type Reference, type YDomain } from "./y-domain.ts"

export type { ChartSpec } from "./chart-common.ts"

const SATURATION_COLOR = "#111"

const loadTitle = (r: SweepResult): string => {
  const kinds = new Set(r.points.map((p) => p.config.load.kind))
  if (kinds.size !== 1) return "load"
  return kinds.has("rate") ? "request rate (req/s)" : "max concurrency (requests in flight)"
}

export const seriesLabel = (r: SweepResult, p: SweepPoint): string => r.series.find((s) => s.id === p.series)?.label ?? p.series

/** Legend names of the result's series (shared words in the title, the rest per entry). */
export const seriesNames = (r: SweepResult): LegendNames => legendNames(r.series.map((s) => s.label))

interface Stat3 {
  readonly mean: number
  readonly lo: number
  readonly hi: number
}

/** One row per point for the load plots. */
const loadRows = (
  r: SweepResult,
  names: LegendNames,
  value: (p: SweepPoint) => Stat3,
  band?: (p: SweepPoint) => { p50: number; p99: number },
  intervalField?: string,
): Row[] =>
  r.points.map((p) => {
    const v = value(p)
    const label = seriesLabel(r, p)
    return {
      id: p.id,
      label: p.label,
      series: names.names.get(label) ?? label,
      load: p.config.load.value,
      value: v.mean,
      lo: v.lo,
      hi: v.hi,
      ...(band === undefined ? {} : band(p)),
      ...(intervalField === undefined ? {} : intervalRowFields(p, intervalField)),
      saturation: p.flags.saturation,
      optimal: p.flags.optimal,
      meetsSlo: p.flags.meetsSlo,
    }
  })

interface LoadChartInput {
  readonly id: string
  readonly title: string
  readonly yTitle: string
  readonly caption: string
  readonly value: (p: SweepPoint) => Stat3
  /** The p50–p99 band over requests drawn behind the line. */
  readonly band?: (p: SweepPoint) => { p50: number; p99: number }
  /** The summary field whose prediction intervals (point.intervals) are drawn as bars, if any. */
  readonly intervalField?: string
  readonly threshold?: Reference
  /** "auto": a log axis when the values span more than WIDE_RANGE (latencies past saturation). */
  readonly yLog?: boolean | "auto"
}


/** The SLO line (when on scale) or a note naming it (when off scale), as layers of a load plot. */
const referenceLayers = (d: YDomain): LayerSpec[] => [
  ...d.shown.map((t, i) => ({
    name: i === 0 ? "slo" : `slo${i}`,
    data: { values: [{ v: t.value, label: t.label }] },
    layer: [
      { mark: { type: "rule" as const, strokeDash: [6, 4], color: "#555" }, encoding: { y: { field: "v", type: "quantitative" as const } } },
      {
        mark: { type: "text" as const, align: "right" as const, x: WIDTH, dy: -6, color: "#555" },
        encoding: { y: { field: "v", type: "quantitative" as const }, text: { field: "label" } },
      },
    ],
  })),
  ...(d.offScale.length === 0
    ? []
    : [
        {
          name: "slo_offscale",
          data: { values: [{ note: d.offScale.map((t) => offScaleNote(t, d.domain)).join("; ") }] },
          mark: { type: "text" as const, align: "right" as const, baseline: "top" as const, x: WIDTH - 4, y: 4, color: "#555", fontStyle: "italic" },
          encoding: { text: { field: "note" } },
        },
      ]),
]

type LayerSpec = Extract<TopLevelSpec, { layer: unknown }>["layer"][number]

const loadChart = (r: SweepResult, c: LoadChartInput): ChartSpec => {
  const names = seriesNames(r)
  const rows = loadRows(r, names, c.value, c.band, c.intervalField)
  const values = rows.flatMap((row) => [row.value, row.lo, row.hi, row.p50, row.p99, row.pi_lo, row.pi_hi]).filter((v): v is number => typeof v === "number")
  const log = c.yLog === true || (c.yLog === "auto" && wantsLog(values))
  const d = yDomain(values, c.threshold === undefined ? [] : [c.threshold], { log })
  const x = { field: "load", type: "quantitative" as const, title: loadTitle(r) }
  const scale = log ? { type: "log" as const, domain: [...d.domain] } : { domain: [...d.domain], zero: false }
  const y = { field: "value", type: "quantitative" as const, title: c.yTitle, scale }
  // Opaque symbols: the faint band would otherwise set the legend's look.
  const color = { field: "series", type: "nominal" as const, title: legendTitle("configuration", names), legend: { symbolOpacity: 1 } }
  const saturated = rows.filter((row) => row.saturation === true)
  const spec: TopLevelSpec = {
    ...base(c.title, names.longest),
    data: { values: rows },
    layer: [
      ...(c.band === undefined
        ? []
        : [
            {
              name: "band",
              mark: { type: "area" as const, opacity: 0.16 },
              encoding: { x, y: { field: "p50", type: "quantitative" as const, scale }, y2: { field: "p99" }, color, detail: { field: "series" } },
            },
          ]),
      ...intervalLayers(rows, x, scale, color),
      { name: "line", mark: { type: "line", strokeWidth: 2 }, encoding: { x, y, color, detail: { field: "series" } } },
      {
        name: "ci",
        mark: { type: "rule", strokeWidth: 1.5 },
        encoding: { x, y: { field: "lo", type: "quantitative", scale }, y2: { field: "hi" }, color },
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
      ...referenceLayers(d),
    ],
  }
  const notes = [
    c.caption,
    c.band === undefined ? "" : "The shaded band spans p50 to p99 over requests.",
    c.intervalField === undefined ? "" : intervalCaption(r),
    log && c.yLog === "auto" ? `Log scale: the values span more than ${WIDE_RANGE}×.` : "",
    ...d.offScale.map((t) => `${offScaleNote(t, d.domain)}: the axis follows the data.`),
    saturated.length > 0 ? "The black diamond and dotted line mark each configuration's saturation point." : "No configuration saturated within the sweep.",
  ]
  return { id: c.id, title: c.title, caption: notes.filter((n) => n !== "").join(" "), spec, pointCount: rows.length }
}

const stat = (m: { mean: number; ciLow: number; ciHigh: number }) => ({ mean: m.mean, lo: m.ciLow, hi: m.ciHigh })

export const throughputChart = (r: SweepResult): ChartSpec =>
  loadChart(r, {
    id: "throughput-vs-load",
    title: "Output throughput vs load",
    yTitle: "output tokens/s",
    caption: `Mean over seeds with 95% confidence intervals. Saturation: the first load after which throughput grows with elasticity below ${r.saturationThreshold} (${r.throughputMetric}).`,
    value: (p) => stat(p.metrics.output_throughput),
  })

/** Latency plots: the SLO's statistic as the line, p50–p99 over requests as the band. */
const latencyChart = (r: SweepResult, metric: "ttft" | "tpot", id: string, title: string, caption: string, bound: number | undefined): ChartSpec =>
  loadChart(r, {
    id,
    title,
    yTitle: `${r.slo.stat} ${metric.toUpperCase()} (ms)`,
    caption,
    value: (p) => stat(p.metrics[`${r.slo.stat}_${metric}_ms`]),
    band: (p) => ({ p50: p.metrics[`median_${metric}_ms`].mean, p99: p.metrics[`p99_${metric}_ms`].mean }),
    intervalField: `${r.slo.stat}_${metric}_ms`,
    yLog: "auto",
    ...(bound === undefined ? {} : { threshold: { value: bound, label: `SLO ${bound} ms` } }),
  })

export const ttftChart = (r: SweepResult): ChartSpec =>
  latencyChart(
    r,
    "ttft",
    "ttft-vs-load",
    "Time to first token vs load",
    "Crosses mark points that miss the SLOs; the dashed line is the TTFT bound.",
    r.slo.ttftMs,
  )

export const tpotChart = (r: SweepResult): ChartSpec =>
  latencyChart(
    r,
    "tpot",
    "tpot-vs-load",
    "Time per output token vs load",
    "TPOT 50 ms = 20 tokens/s per request. Crosses mark points that miss the SLOs; the dashed line is the TPOT bound.",
    r.slo.tpotMs,
  )

export const costVsLoadChart = (r: SweepResult): ChartSpec =>
  loadChart(r, {
    id: "cost-vs-load",
    title: "Cost per 1M output tokens vs load",
    yTitle: "USD per 1M output tokens",
    caption: "Cost falls while added load amortises the GPU-hour and flattens once the GPU saturates.",
    value: (p) => stat(p.cost.usdPerMOutput),
  })

/** Erdil's frontier: $/1M output tokens against serial tokens/s per request. */
export const costFrontierChart = (r: SweepResult): ChartSpec => {
  const names = seriesNames(r)
  const rows: Row[] = r.points.map((p) => ({
    id: p.id,
    label: p.label,
    series: names.names.get(seriesLabel(r, p)) ?? seriesLabel(r, p),
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
    ...base("Cost per token vs per-request speed (Pareto frontier)", names.longest),
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
          color: { field: "series", type: "nominal", title: legendTitle("configuration", names) },
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

/** All charts the result supports, in page order. */
export const reportCharts = (r: SweepResult): ChartSpec[] => {
  const out: Array<ChartSpec | undefined> = [
    throughputChart(r),
    ttftChart(r),
    tpotChart(r),
    costVsLoadChart(r),
    throughputFrontierChart(r),
    costFrontierChart(r),
    qualityChart(r),
    costBreakdownChart(r),
    sensitivityChart(r),
    kvTimelineChart(r),
  ]
  return out.filter((c): c is ChartSpec => c !== undefined)
}
