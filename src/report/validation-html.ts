// The page of a validate result (or of a probe run directory validated on the fly): what was compared,
// median |error| per metric, the parity and error plots, and every point's measured, predicted and
// signed error. Static HTML; every user string (sources, labels, models, reasons) goes through escapeHtml.
import { escapeHtml, fmt, pageTop, plotsSection, type RenderedChart } from "./html.ts"
import { METRIC_NAMES } from "./parity-chart.ts"
import type { ValidationMetric, ValidationResult } from "./validation-result.ts"

const METRICS: ReadonlyArray<ValidationMetric> = ["ttft", "tpot", "itl", "e2el"]

const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${x.toFixed(1)}%` : "–")

/** Metrics the result compares at least once, in a fixed order. */
export const comparedMetrics = (v: ValidationResult): ValidationMetric[] =>
  METRICS.filter((m) => v.rows.some((r) => r.comparisons.some((c) => c.metric === m)))

/** Points whose measured times carry the host's lag: named, so their errors are not read as the simulator's. */
const lagNote = (v: ValidationResult): string => {
  const n = v.rows.filter((r) => r.lagged !== undefined).length
  return n === 0
    ? ""
    : `<dt>lagged</dt><dd class="warn">${fmt(n)} of ${fmt(v.rows.length)} points were marked lagged by the probe: their measured times include the server's or the client's lag (badge in the table; hover for the reason), so their errors are not the simulator's alone.</dd>`
}

const summarySection = (v: ValidationResult, title: string): string => {
  const medians = comparedMetrics(v)
    .map((m) => {
      const s = v.medianAbsErrorPct[m]
      return s === undefined ? "" : `<tr><td>${METRIC_NAMES[m]}</td><td>${s.medianAbsPct.toFixed(1)}%</td><td>${fmt(s.n)}</td></tr>`
    })
    .join("\n")
  return `<section id="summary">
<h2>Summary</h2>
<dl class="kv">
<dt>measurements</dt><dd>${v.sources.map((s) => `<code>${escapeHtml(s)}</code>`).join(", ")}</dd>
<dt>step-time profile</dt><dd>${escapeHtml(v.profile)}</dd>
<dt>engine</dt><dd>${escapeHtml(v.engine)}</dd>
<dt>points</dt><dd>${fmt(v.points)} simulated, ${fmt(v.skipped.length)} skipped</dd>
${lagNote(v)}
</dl>
<table class="num" aria-label="${escapeHtml(title)}">
<thead><tr><th>metric (means)</th><th>median |error|</th><th>points</th></tr></thead>
<tbody>
${medians}
</tbody>
</table>
</section>`
}

const pointsTable = (v: ValidationResult): string => {
  const metrics = comparedMetrics(v)
  const head = metrics.map((m) => `<th>${METRIC_NAMES[m]} measured ms</th><th>predicted ms</th><th>error</th>`).join("")
  const rows = v.rows
    .map((r) => {
      const cells = metrics
        .map((m) => {
          const c = r.comparisons.find((x) => x.metric === m)
          if (c === undefined) return "<td>–</td><td>–</td><td>–</td>"
          const cls = Math.abs(c.errorPct) > 20 ? ' class="bad"' : ""
          return `<td>${fmt(c.measuredMs)}</td><td>${fmt(c.predictedMs)}</td><td${cls}>${signed(c.errorPct)}</td>`
        })
        .join("")
      const lag = r.lagged === undefined ? "" : ` <span class="badge miss" title="${escapeHtml(r.lagged)}">lagged</span>`
      return `<tr><td class="label">${escapeHtml(r.label)}${lag}</td><td>${escapeHtml(r.model)}</td><td>${escapeHtml(r.gpu)}</td><td>${fmt(r.tp)}</td><td>${escapeHtml(r.load)}</td><td>${fmt(
        Math.round(r.isl),
      )}/${fmt(Math.round(r.osl))}</td>${cells}</tr>`
    })
    .join("\n")
  return `<section id="points">
<h2>Every point</h2>
<div class="scroll">
<table class="num">
<thead><tr><th>point</th><th>model</th><th>GPU</th><th>tp</th><th>load</th><th>isl/osl</th>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>
<p class="muted">error = (predicted − measured) / measured; beyond ±20% in bold red.</p>
</section>`
}

const skippedSection = (v: ValidationResult): string => {
  if (v.skipped.length === 0 && v.warnings.length === 0) return ""
  const skipped = v.skipped.map((s) => `<li><code>${escapeHtml(s.source)}</code>: ${escapeHtml(s.reason)}</li>`).join("\n")
  const warnings = v.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join("\n")
  return `<section id="skipped">
<h2>Not compared</h2>
${skipped === "" ? "" : `<ul>\n${skipped}\n</ul>`}
${warnings === "" ? "" : `<p>Read with warnings:</p><ul>\n${warnings}\n</ul>`}
</section>`
}

export const validationHtml = (v: ValidationResult, charts: ReadonlyArray<RenderedChart>, title: string): string => `${pageTop(
  title,
  "td.bad{color:#b00020;font-weight:600}.scroll{overflow-x:auto}td.label{word-break:break-all;min-width:14em;max-width:24em}",
)}
${summarySection(v, title)}
${plotsSection(charts)}
${pointsTable(v)}
${skippedSection(v)}
<footer class="muted">
<h2>Method</h2>
<p>Each measured point's setting (model, GPU, TP, load, input/output lengths, client) is simulated and its mean TTFT, TPOT, ITL and E2E latency compared with the measurement, on <code>vllm bench serve</code> definitions. Plots: Vega-Lite rendered to SVG at build time.</p>
</footer>
</body>
</html>
`
