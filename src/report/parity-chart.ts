// Measured vs predicted (validate results): a parity plot, log–log with the same range on both axes so
// the diagonal is "prediction = measurement", and a strip of signed errors per metric.
import type { TopLevelSpec } from "vega-lite"
import { base, WIDTH, type ChartSpec, type Row } from "./chart-common.ts"
import type { ValidationMetric, ValidationResult } from "./validation-result.ts"

export const METRIC_NAMES: Readonly<Record<ValidationMetric, string>> = { ttft: "TTFT", tpot: "TPOT", itl: "ITL", e2el: "E2E latency" }
const METRIC_ORDER: ReadonlyArray<ValidationMetric> = ["ttft", "tpot", "itl", "e2el"]
/** The ± band drawn around the diagonal. */
export const PARITY_BAND = 0.2

export interface ParityRow {
  readonly point: string
  readonly metric: string
  readonly measured: number
  readonly predicted: number
  readonly errorPct: number
}

export const parityRows = (v: ValidationResult): ParityRow[] =>
  v.rows.flatMap((r) =>
    r.comparisons
      .filter((c) => c.measuredMs > 0 && c.predictedMs > 0)
      .map((c) => ({ point: r.label, metric: METRIC_NAMES[c.metric], measured: c.measuredMs, predicted: c.predictedMs, errorPct: c.errorPct })),
  )

/** One log range for both axes covering every measured and predicted value, with a little room. */
export const parityDomain = (rows: ReadonlyArray<ParityRow>): readonly [number, number] => {
  const all = rows.flatMap((r) => [r.measured, r.predicted]).filter((x) => Number.isFinite(x) && x > 0)
  if (all.length === 0) return [1, 10]
  const lo = Math.min(...all)
  const hi = Math.max(...all)
  return lo === hi ? [lo / 2, hi * 2] : [lo / 1.25, hi * 1.25]
}

const metricColor = (rows: ReadonlyArray<ParityRow>) => {
  const present = METRIC_ORDER.map((m) => METRIC_NAMES[m]).filter((n) => rows.some((r) => r.metric === n))
  return { field: "metric", type: "nominal" as const, title: "metric (means)", scale: { domain: present }, sort: present }
}

export const parityChart = (v: ValidationResult): ChartSpec | undefined => {
  const rows = parityRows(v)
  if (rows.length === 0) return undefined
  const [lo, hi] = parityDomain(rows)
  const scale = { type: "log" as const, domain: [lo, hi] }
  const x = { field: "measured", type: "quantitative" as const, title: "measured (ms)", scale }
  const y = { field: "predicted", type: "quantitative" as const, title: "predicted (ms)", scale }
  const guide = (name: string, f: number, dash: number[]) => ({
    name,
    data: { values: [{ measured: lo, predicted: lo * f }, { measured: hi / Math.max(f, 1), predicted: (hi / Math.max(f, 1)) * f }] },
    mark: { type: "line" as const, color: "#777", strokeDash: dash, strokeWidth: 1, clip: true },
    encoding: { x, y },
  })
  const pct = Math.round(PARITY_BAND * 100)
  const spec: TopLevelSpec = {
    ...base("Predicted vs measured"),
    height: WIDTH * 0.75,
    data: { values: rows as unknown as Row[] },
    layer: [
      guide("diagonal", 1, []),
      guide("band_high", 1 + PARITY_BAND, [4, 4]),
      guide("band_low", 1 - PARITY_BAND, [4, 4]),
      {
        name: "points",
        mark: { type: "point", filled: true, size: 50, opacity: 0.8 },
        encoding: {
          x,
          y,
          color: metricColor(rows),
          tooltip: [{ field: "point" }, { field: "metric" }, { field: "measured", format: ".4~g" }, { field: "predicted", format: ".4~g" }, { field: "errorPct", format: "+.1f" }],
        },
      },
    ],
  }
  const within = rows.filter((r) => Math.abs(r.errorPct) <= pct).length
  return {
    id: "parity",
    title: "Predicted vs measured",
    caption: `Each measured point's mean latencies against the simulator's prediction (log scales). On the solid diagonal the prediction equals the measurement; the dashed lines are ±${pct}%. ${within} of ${rows.length} comparisons fall within ±${pct}%.`,
    spec,
    pointCount: rows.length,
  }
}

export const errorStripChart = (v: ValidationResult): ChartSpec | undefined => {
  const rows = parityRows(v)
  if (rows.length === 0) return undefined
  const color = metricColor(rows)
  const spec: TopLevelSpec = {
    ...base("Signed error per metric"),
    height: 48 * new Set(rows.map((r) => r.metric)).size + 20,
    data: { values: rows as unknown as Row[] },
    layer: [
      {
        name: "zero",
        data: { values: [{ v: 0 }] },
        mark: { type: "rule", color: "#222" },
        encoding: { x: { field: "v", type: "quantitative" } },
      },
      {
        name: "points",
        mark: { type: "tick", thickness: 2, opacity: 0.7 },
        encoding: {
          x: { field: "errorPct", type: "quantitative", title: "(predicted − measured) / measured (%)" },
          y: { field: "metric", type: "nominal", title: null, sort: color.sort },
          color: { ...color, legend: null },
          tooltip: [{ field: "point" }, { field: "metric" }, { field: "errorPct", format: "+.1f" }],
        },
      },
    ],
  }
  return {
    id: "error-strip",
    title: "Signed error per metric",
    caption: "One tick per measured point; right of the black line the simulator predicts slower than measured, left of it faster.",
    spec,
    pointCount: rows.length,
  }
}
