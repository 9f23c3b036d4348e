// Measured and predicted latency against load for each measured setting (model, GPU, TP, lengths): the
// curve a probe sweep draws, with the simulator's prediction dashed beside it. Rows whose load is not a
// concurrency or a rate ("burst") are left out of this plot (they are in the parity plot and the table).
import type { TopLevelSpec } from "vega-lite"
import { base, type ChartSpec, type Row } from "./chart-common.ts"
import { legendNames, legendTitle } from "./legend-names.ts"
import { METRIC_NAMES } from "./parity-chart.ts"
import type { ValidationMetric, ValidationResult, ValidationRow } from "./validation-result.ts"
import { wantsLog, WIDE_RANGE, yDomain } from "./y-domain.ts"

/** Most settings drawn (colours stay distinguishable). */
const MAX_SETTINGS = 8

/** The numeric load of validate's load text: "c=16" → concurrency 16, "2.5 req/s" → rate 2.5. */
export const parseLoad = (load: string): { readonly kind: "concurrency" | "rate"; readonly value: number } | undefined => {
  const c = /^c=(\d+(?:\.\d+)?)$/.exec(load.trim())
  if (c !== null) return { kind: "concurrency", value: Number(c[1]) }
  const r = /^(\d+(?:\.\d+)?) req\/s$/.exec(load.trim())
  return r === null ? undefined : { kind: "rate", value: Number(r[1]) }
}

/** What a row was measured in, apart from its load. */
export const settingOf = (r: ValidationRow, kind: string): string =>
  `${r.model.split("/").pop() ?? r.model} ${r.gpu} tp${r.tp} ${Math.round(r.isl)}/${Math.round(r.osl)} ${kind}`

export interface LoadCurveRow {
  readonly setting: string
  readonly load: number
  readonly kind: "concurrency" | "rate"
  readonly source: "measured" | "predicted"
  readonly ms: number
}

/** Rows of the settings with at least two loads (a curve), the first MAX_SETTINGS of them. */
export const loadCurveRows = (v: ValidationResult, metric: ValidationMetric): LoadCurveRow[] => {
  const rows: LoadCurveRow[] = []
  for (const r of v.rows) {
    const load = parseLoad(r.load)
    const c = r.comparisons.find((x) => x.metric === metric)
    if (load === undefined || c === undefined) continue
    const setting = settingOf(r, load.kind)
    rows.push({ setting, load: load.value, kind: load.kind, source: "measured", ms: c.measuredMs })
    rows.push({ setting, load: load.value, kind: load.kind, source: "predicted", ms: c.predictedMs })
  }
  const loads = new Map<string, Set<number>>()
  for (const r of rows) loads.set(r.setting, (loads.get(r.setting) ?? new Set()).add(r.load))
  const curves = [...loads].filter(([, l]) => l.size >= 2).map(([s]) => s).slice(0, MAX_SETTINGS)
  return rows.filter((r) => curves.includes(r.setting))
}

export const measuredVsLoadChart = (v: ValidationResult, metric: ValidationMetric): ChartSpec | undefined => {
  const curve = loadCurveRows(v, metric)
  if (curve.length === 0) return undefined
  const kinds = new Set(curve.map((r) => r.kind))
  const names = legendNames([...new Set(curve.map((r) => r.setting))])
  const rows: Row[] = curve.map((r) => ({ ...r, setting: names.names.get(r.setting) ?? r.setting }))
  const log = wantsLog(curve.map((r) => r.ms))
  const d = yDomain(curve.map((r) => r.ms), [], { log })
  const x = {
    field: "load",
    type: "quantitative" as const,
    title: kinds.size > 1 ? "load (concurrency or req/s)" : kinds.has("rate") ? "request rate (req/s)" : "max concurrency (requests in flight)",
  }
  const y = { field: "ms", type: "quantitative" as const, title: `mean ${METRIC_NAMES[metric]} (ms)`, scale: log ? { type: "log" as const, domain: [...d.domain] } : { domain: [...d.domain] } }
  const color = { field: "setting", type: "nominal" as const, title: legendTitle("setting", names) }
  const dash = {
    field: "source",
    type: "nominal" as const,
    title: null,
    scale: { domain: ["measured", "predicted"], range: [[1, 0], [5, 3]] },
  }
  const spec: TopLevelSpec = {
    ...base(`${METRIC_NAMES[metric]}: measured and predicted vs load`, names.longest),
    data: { values: rows },
    layer: [
      { name: "line", mark: { type: "line", strokeWidth: 2 }, encoding: { x, y, color, strokeDash: dash, detail: [{ field: "setting" }, { field: "source" }] } },
      {
        name: "points",
        transform: [{ filter: "datum.source == 'measured'" }],
        mark: { type: "point", filled: true, size: 50 },
        encoding: { x, y, color, tooltip: [{ field: "setting" }, { field: "load" }, { field: "ms", format: ".4~g" }] },
      },
    ],
  }
  const n = rows.filter((r) => r.source === "measured").length
  return {
    id: `${metric}-measured-vs-load`,
    title: `${METRIC_NAMES[metric]}: measured and predicted vs load`,
    caption: `Solid with dots: measured means; dashed: the simulator's prediction of the same points (${n} points in ${names.names.size} setting(s) measured at two loads or more).${
      log ? ` Log scale: the values span more than ${WIDE_RANGE}×.` : ""
    }`,
    spec,
    pointCount: n,
  }
}
