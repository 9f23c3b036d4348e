// Assembles the self-contained report page: summary, inline SVG plots, tables. No scripts, no external
// resources: the file opens offline and prints as is.
import type { MetricStat } from "../econ/stats.ts"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"

export interface RenderedChart {
  readonly id: string
  readonly title: string
  readonly caption: string
  readonly svg: string
}

/** Text and attribute values (either quote) of the page; every user string goes through it. */
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** Up to 4 significant digits, no exponent for everyday magnitudes. */
export const fmt = (x: number, digits = 4): string => {
  if (!Number.isFinite(x)) return "–"
  if (x === 0) return "0"
  const a = Math.abs(x)
  if (a >= 1e6 || a < 1e-4) return x.toExponential(2)
  if (a >= 1000) return Math.round(x).toLocaleString("en-US")
  return Number(x.toPrecision(digits)).toString()
}

const usd = (x: number): string => (Number.isFinite(x) ? `$${fmt(x)}` : "–")

const withCi = (s: MetricStat, unit = ""): string => {
  const half = (s.ciHigh - s.ciLow) / 2
  // Float noise around a constant (e.g. equal token counts across seeds) is not spread.
  return s.n < 2 || !(half > 1e-9 * Math.abs(s.mean))
    ? `${fmt(s.mean)}${unit}`
    : `${fmt(s.mean)}${unit} <span class="ci">± ${fmt(half, 2)}</span>`
}

const flagBadges = (p: SweepPoint): string => {
  const b: string[] = []
  if (p.flags.optimal) b.push('<span class="badge opt">optimal</span>')
  if (p.flags.saturation) b.push('<span class="badge sat">saturation</span>')
  if (p.flags.slaBoundary) b.push('<span class="badge sla">SLA boundary</span>')
  if (p.flags.pareto) b.push('<span class="badge par">Pareto</span>')
  if (!p.flags.meetsSlo) b.push(`<span class="badge miss" title="${escapeHtml(p.flags.sloViolations.join("; "))}">misses SLO</span>`)
  return b.join(" ")
}

const sloText = (r: SweepResult): string => {
  const parts: string[] = []
  if (r.slo.ttftMs !== undefined) parts.push(`TTFT ≤ ${fmt(r.slo.ttftMs)} ms`)
  if (r.slo.tpotMs !== undefined) parts.push(`TPOT ≤ ${fmt(r.slo.tpotMs)} ms (≥ ${fmt(1000 / r.slo.tpotMs)} tok/s per request)`)
  if (r.slo.e2elMs !== undefined) parts.push(`E2E latency ≤ ${fmt(r.slo.e2elMs)} ms`)
  return parts.length === 0 ? "none" : `${parts.join(", ")}, on the ${r.slo.stat} over requests`
}

const OBJECTIVE: Readonly<Record<SweepResult["costObjective"], string>> = {
  usdPerMOutput: "cost per 1M output tokens",
  usdPerMTotal: "cost per 1M tokens",
  usdPerRequest: "cost per request",
}

const summarySection = (r: SweepResult): string => {
  const byId = new Map(r.points.map((p) => [p.id, p]))
  const opt = r.summary.optimalPointId === undefined ? undefined : byId.get(r.summary.optimalPointId)
  const optHtml =
    opt === undefined
      ? '<p class="warn">No simulated point meets the SLOs.</p>'
      : `<dl class="kv">
  <dt>optimal operating point</dt><dd><b>${escapeHtml(opt.label)}</b> (${escapeHtml(opt.id)}), lowest ${OBJECTIVE[r.costObjective]} meeting the SLOs</dd>
  <dt>cost</dt><dd>${usd(opt.cost.usdPerMOutput.mean)} per 1M output tokens, ${usd(opt.cost.usdPerMInput.mean)} per 1M input tokens, ${usd(opt.cost.usdPerRequest.mean)} per request; the request set (${fmt(opt.metrics.completed.mean)} requests) costs ${usd(opt.cost.runCostUsd.mean)}</dd>
  <dt>performance</dt><dd>${withCi(opt.metrics.output_throughput, " output tok/s")}, ${r.slo.stat} TTFT ${withCi(opt.metrics[`${r.slo.stat}_ttft_ms`], " ms")}, ${r.slo.stat} TPOT ${withCi(opt.metrics[`${r.slo.stat}_tpot_ms`], " ms")}</dd>
</dl>`
  const seriesRows = r.series
    .map((s) => {
      const sat = s.saturationPointId === undefined ? undefined : byId.get(s.saturationPointId)
      const sla = s.slaBoundaryPointId === undefined ? undefined : byId.get(s.slaBoundaryPointId)
      const best = s.optimalPointId === undefined ? undefined : byId.get(s.optimalPointId)
      const load = (p: SweepPoint | undefined, none: string) =>
        p === undefined ? `<span class="muted">${none}</span>` : escapeHtml(p.label.split(" · ").pop() ?? p.label)
      return `<tr><td>${escapeHtml(s.label)}</td><td>${load(sat, "not reached")}</td><td>${load(sla, "none meets SLOs")}</td><td>${
        best === undefined ? '<span class="muted">–</span>' : `${load(best, "")} (${usd(best.cost[r.costObjective].mean)})`
      }</td></tr>`
    })
    .join("\n")
  return `<section id="summary">
<h2>Summary</h2>
<p>SLOs: ${escapeHtml(sloText(r))}. Saturation: first load after which ${escapeHtml(r.throughputMetric)} grows with load elasticity below ${fmt(r.saturationThreshold)}. ${r.points.length} points, ${r.series.length} configuration(s), ${escapeHtml(String(r.points[0]?.seeds.length ?? 0))} seed(s) per point; ± is the 95% confidence half-width over seeds.</p>
${optHtml}
<table>
<thead><tr><th>configuration</th><th>saturation point</th><th>SLA boundary</th><th>cheapest meeting SLOs</th></tr></thead>
<tbody>
${seriesRows}
</tbody>
</table>
</section>`
}

const chartSection = (charts: ReadonlyArray<RenderedChart>): string =>
  charts
    .map(
      (c) => `<figure class="chart" id="chart-${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}">
<h3>${escapeHtml(c.title)}</h3>
<div class="plot">${c.svg}</div>
<figcaption>${escapeHtml(c.caption)}</figcaption>
</figure>`,
    )
    .join("\n")

const pointsTable = (r: SweepResult): string => {
  const rows = r.points
    .map(
      (p) => `<tr><td>${escapeHtml(p.id)}</td><td>${escapeHtml(p.label)}</td><td>${withCi(p.metrics.output_throughput)}</td><td>${withCi(
        p.metrics.request_throughput,
      )}</td><td>${withCi(p.metrics[`${r.slo.stat}_ttft_ms`])}</td><td>${withCi(p.metrics[`${r.slo.stat}_tpot_ms`])}</td><td>${fmt(
        p.serialTokensPerSecond,
      )}</td><td>${withCi(p.cost.usdPerMInput)}</td><td>${withCi(p.cost.usdPerMOutput)}</td><td>${withCi(
        p.cost.usdPerRequest,
      )}</td><td>${withCi(p.cost.runCostUsd)}</td><td>${flagBadges(p)}</td></tr>`,
    )
    .join("\n")
  return `<section id="points">
<h2>All points</h2>
<table class="num">
<thead><tr><th>id</th><th>point</th><th>output tok/s</th><th>req/s</th><th>${r.slo.stat} TTFT ms</th><th>${r.slo.stat} TPOT ms</th><th>tok/s per request</th><th>$/1M in</th><th>$/1M out</th><th>$/request</th><th>request set $</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="muted">GPU time is split between input and output tokens by ${escapeHtml(
    [...new Set(r.points.map((p) => p.cost.splitMethod))].join(", "),
  )} (step-time: measured share of step time spent on prefill tokens; roofline: FLOP/bytes estimate; token-count: equal cost per token).</p>
</section>`
}

const costSection = (r: SweepResult): string => {
  const rows = r.gpuCosts
    .map((g) => {
      const i = g.inputs
      const inputs =
        i.kind === "cloud"
          ? `cloud rate ${usd(i.usdPerGpuHour)}/GPU-h`
          : `P ${usd(i.purchasePrice)}, Y ${fmt(i.years)} y, u ${fmt(i.utilization)}, ${fmt(i.powerKw)} kW, PUE ${fmt(i.pue)}, E ${usd(i.electricityPrice)}/kWh, m ${fmt(100 * i.maintenanceRate)} %/y`
      const b = g.breakdown
      const sources =
        g.sources === undefined
          ? ""
          : `<details><summary>sources</summary><ul>${Object.entries(g.sources)
              .map(([k, v]) => `<li><b>${escapeHtml(k)}</b>: ${escapeHtml(String(v))}</li>`)
              .join("")}</ul></details>`
      return `<tr><td>${escapeHtml(g.gpu)}</td><td>${inputs}${sources}</td><td>${usd(b.depreciation)}</td><td>${usd(b.power)}</td><td>${usd(
        b.maintenance,
      )}</td><td>${usd(b.cloud)}</td><td><b>${usd(b.total)}</b></td></tr>`
    })
    .join("\n")
  return `<section id="cost-model">
<h2>Cost model</h2>
<table class="num">
<thead><tr><th>GPU</th><th>inputs</th><th>depreciation</th><th>power</th><th>maintenance</th><th>cloud</th><th>total $/GPU-h</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`
}

const sensitivityTable = (r: SweepResult): string => {
  const s = r.sensitivity
  if (s === undefined) return ""
  const pct = Math.round(s.delta * 100)
  const rows = s.rows
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.label)}</td><td>${fmt(row.baseValue)}</td><td>${fmt(row.lowValue)} → ${usd(row.outputAtLow)}</td><td>${fmt(
          row.highValue,
        )} → ${usd(row.outputAtHigh)}</td><td>${usd(row.swing)}</td><td>${escapeHtml(row.note ?? "")}</td></tr>`,
    )
    .join("\n")
  return `<section id="sensitivity-table">
<h2>Sensitivity</h2>
<p>${escapeHtml(s.output)} at point ${escapeHtml(s.pointId)}: ${usd(s.baseOutput)}. Each row moves one parameter by ±${pct}%.</p>
<table class="num">
<thead><tr><th>parameter</th><th>base</th><th>−${pct}%</th><th>+${pct}%</th><th>swing</th><th></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`
}

const apiSection = (r: SweepResult): string => {
  const id = r.summary.optimalPointId ?? r.sensitivity?.pointId
  const p = r.points.find((q) => q.id === id)
  if (p === undefined || p.cost.api.length === 0) return ""
  const rows = p.cost.api
    .map(
      (a) =>
        `<tr><td>${escapeHtml(a.provider)}${a.model === undefined ? "" : ` (${escapeHtml(a.model)})`}</td><td>${usd(a.apiRunCostUsd)}</td><td>${usd(
          a.selfHostedRunCostUsd,
        )}</td><td>${fmt(a.costRatio)}</td><td>${escapeHtml(a.cheaper)}</td><td>${usd(a.breakEvenGpuHourUsd)}</td></tr>`,
    )
    .join("\n")
  return `<section id="api">
<h2>Self-hosted vs API</h2>
<p>The request set of point ${escapeHtml(p.label)} billed at API list prices.</p>
<table class="num">
<thead><tr><th>API</th><th>API cost</th><th>self-hosted cost</th><th>self/API</th><th>cheaper</th><th>break-even $/GPU-h</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`
}

const qualitySection = (r: SweepResult): string => {
  const q = r.quality
  if (q === undefined) return ""
  const rows = q.rows
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.model)}</td><td>${fmt(row.score)}</td><td>${usd(row.costUsd)}</td><td>${escapeHtml(row.pointId)}</td><td>${
          row.meetsSlo ? "yes" : "no"
        }</td><td>${row.pareto ? "yes" : ""}</td></tr>`,
    )
    .join("\n")
  const missing =
    q.missingModels.length === 0
      ? ""
      : `<p class="warn">No simulated point for: ${q.missingModels.map(escapeHtml).join(", ")}.</p>`
  return `<section id="quality">
<h2>Quality vs cost</h2>
<table class="num">
<thead><tr><th>model</th><th>score</th><th>request set $</th><th>point</th><th>meets SLOs</th><th>frontier</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${missing}
</section>`
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1180px;padding:16px 24px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:1px solid #ddd;padding-bottom:2px;margin-top:1.6em}h3{margin:.2em 0}
.muted{color:#777}.warn{color:#b35900;font-weight:600}.ci{color:#777;font-size:.85em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}th,td{border:1px solid #ddd;padding:3px 7px;vertical-align:top}
th{background:#f4f4f4;text-align:left}table.num td{text-align:right}table.num td:nth-child(-n+2){text-align:left}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}dl.kv dt{font-weight:600;color:#555}dl.kv dd{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:18px}
figure.chart{margin:0;border:1px solid #e3e3e3;border-radius:6px;padding:10px;background:#fff;break-inside:avoid}
figure.chart .plot svg{max-width:100%;height:auto;display:block}figcaption{font-size:.85em;color:#555;margin-top:4px}
.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:.8em;color:#fff;white-space:nowrap}
.opt{background:#ff7f0e}.sat{background:#111}.sla{background:#6a3d9a}.par{background:#4c78a8}.miss{background:#999}
details{font-size:.85em}code{background:#f4f4f4;padding:0 3px}
`

/** The page from its doctype to the end of the header (title escaped here). */
export const pageTop = (title: string, extraCss = "", byline = ""): string => `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}${extraCss}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
${byline}
</header>`

export const plotsSection = (charts: ReadonlyArray<RenderedChart>): string => `<section id="plots">
<h2>Plots</h2>
<div class="charts">
${chartSection(charts)}
</div>
</section>`

export const reportHtml = (r: SweepResult, charts: ReadonlyArray<RenderedChart>): string => {
  const title = r.title ?? (r.scenario === undefined ? "servesim sweep report" : `servesim sweep report: ${r.scenario}`)
  return `${pageTop(title, "", r.createdBy === undefined ? "" : `<p class="muted">Produced by <code>${escapeHtml(r.createdBy)}</code></p>`)}
${summarySection(r)}
${plotsSection(charts)}
${pointsTable(r)}
${costSection(r)}
${sensitivityTable(r)}
${apiSection(r)}
${qualitySection(r)}
<footer class="muted">
<h2>Method</h2>
<p>Cost of a GPU-hour: C<sub>h</sub> = P/(Y·8760·u) + kW·PUE·E + P·m/8760 (Zhuang et al., “Beyond Benchmarks: The Economics of AI Inference”, arXiv 2510.26136, App. A), or a cloud rate. Cost of the request set = C<sub>h</sub> × GPUs × duration / 3600. Frontier of cost per token against serial tokens/s per request after Erdil, “Inference economics of language models”, arXiv 2506.04645. Metrics use <code>vllm bench serve</code> definitions; confidence intervals are Student-t 95% over seeds. Plots: Vega-Lite rendered to SVG at build time.</p>
</footer>
</body>
</html>
`
}
