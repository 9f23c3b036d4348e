// Prediction intervals of one simulated run (simulate --report): each headline latency as a point with
// its interval as an error bar, on a log scale (the intervals are symmetric in log space), as a small
// self-contained HTML page. The layer names "estimate" and "interval" let tests count marks.
import type { TopLevelSpec } from "vega-lite"
import { escapeHtml } from "./html.ts"
import { renderSvg } from "./render-svg.ts"

export interface IntervalRow {
  /** e.g. "TTFT mean". */
  readonly metric: string
  readonly value: number
  readonly lo: number
  readonly hi: number
}

const LABELS: Readonly<Record<string, string>> = { ttft: "TTFT", tpot: "TPOT", itl: "ITL", e2el: "E2E" }

/** The latency fields of a summary that carry `<field>_interval: [lo, hi]`, as chart rows. */
export const intervalRows = (summary: Readonly<Record<string, unknown>>): IntervalRow[] =>
  Object.keys(summary).flatMap((k) => {
    const m = /^(mean|median|p99)_(ttft|tpot|itl|e2el)_ms$/.exec(k)
    const iv = summary[`${k}_interval`]
    const v = summary[k]
    if (m === null || !Array.isArray(iv) || typeof v !== "number") return []
    return [{ metric: `${LABELS[m[2]!]} ${m[1]}`, value: v, lo: iv[0] as number, hi: iv[1] as number }]
  })

export const intervalSpec = (rows: ReadonlyArray<IntervalRow>, level: number): TopLevelSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  width: 520,
  height: 24 * Math.max(rows.length, 1),
  data: { values: rows.map((r) => ({ ...r })) },
  encoding: { y: { field: "metric", type: "nominal", sort: null, title: null } },
  layer: [
    {
      name: "interval",
      mark: { type: "rule", strokeWidth: 2 },
      encoding: {
        x: { field: "lo", type: "quantitative", scale: { type: "log" }, title: `ms (log scale); bars: ${Math.round(level * 100)}% prediction interval` },
        x2: { field: "hi" },
      },
    },
    { name: "estimate", mark: { type: "point", filled: true, size: 50 }, encoding: { x: { field: "value", type: "quantitative" } } },
  ],
})

export const intervalReportHtml = async (title: string, rows: ReadonlyArray<IntervalRow>, level: number, provenance: string): Promise<string> => {
  const svg = await renderSvg(intervalSpec(rows, level), "intervals")
  const table = rows.map((r) => `<tr><td>${escapeHtml(r.metric)}</td><td>${r.value.toPrecision(4)}</td><td>${r.lo.toPrecision(4)}</td><td>${r.hi.toPrecision(4)}</td></tr>`).join("\n")
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>servesim prediction intervals: ${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:900px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(provenance)}</p>
<figure class="chart" id="chart-intervals"><h3>Latency with ${Math.round(level * 100)}% prediction intervals</h3>${svg}</figure>
<table><thead><tr><th>metric</th><th>predicted (ms)</th><th>low</th><th>high</th></tr></thead><tbody>
${table}
</tbody></table>
</body></html>
`
}
