// The capacity plan (servesim plan --report) as a self-contained HTML page: monthly cost of each
// option (rented, owned, API) on a log scale with the months the cheapest choice flips marked, the
// GPUs needed per month, and the table. Layers are named so tests can count their marks.
import type { TopLevelSpec } from "vega-lite"
import type { CapacityPlan } from "../econ/capacity-plan.ts"
import { escapeHtml } from "./html.ts"
import { renderSvg } from "./render-svg.ts"

/** What the page needs of a plan report (src/cli/plan.ts builds it). */
export interface PlanPageInput {
  readonly model: string
  readonly gpu: string
  readonly gpusPerReplica: number
  readonly capacity: { readonly requestsPerSecond: number }
  readonly assumptions: Readonly<Record<string, { readonly value: number | string; readonly source: string }>>
  readonly plan: CapacityPlan
}

const LABEL = { cloud: "cloud (rented)", owned: "self-hosted (owned)", api: "API (per token)" } as const

export const planCostSpec = (plan: CapacityPlan): TopLevelSpec => {
  const rows = plan.months.flatMap((m) => (["cloud", "owned", "api"] as const).map((o) => ({ month: m.month, option: LABEL[o], usd: Math.max(m.cost[o], 1e-2) })))
  const flips = plan.flips.map((f) => ({ month: f.month, label: `${f.from} → ${f.to}` }))
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 560,
    height: 300,
    layer: [
      {
        name: "costs",
        data: { values: rows },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "month", type: "quantitative", title: "month" },
          y: { field: "usd", type: "quantitative", scale: { type: "log" }, title: "cost per month (USD, log scale)" },
          color: { field: "option", type: "nominal", title: null },
        },
      },
      {
        name: "flips",
        data: { values: flips },
        mark: { type: "rule", strokeDash: [4, 3], color: "#111" },
        encoding: { x: { field: "month", type: "quantitative" } },
      },
      {
        name: "flipLabels",
        data: { values: flips },
        mark: { type: "text", align: "left", dx: 3, dy: -4, baseline: "top", fontSize: 10 },
        encoding: { x: { field: "month", type: "quantitative" }, y: { value: 0 }, text: { field: "label" } },
      },
    ],
  }
}

export const planGpuSpec = (plan: CapacityPlan): TopLevelSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v6.json",
  width: 560,
  height: 160,
  layer: [
    {
      name: "gpus",
      data: { values: plan.months.map((m) => ({ month: m.month, gpus: m.gpus })) },
      mark: { type: "bar" },
      encoding: { x: { field: "month", type: "ordinal", title: "month" }, y: { field: "gpus", type: "quantitative", title: "GPUs needed" } },
    },
  ],
})

const usd = (x: number): string => `$${x.toLocaleString("en-US", { maximumFractionDigits: 0 })}`

export const planReportHtml = async (r: PlanPageInput): Promise<string> => {
  const costs = await renderSvg(planCostSpec(r.plan), "plan-cost")
  const gpus = await renderSvg(planGpuSpec(r.plan), "plan-gpus")
  const flips = r.plan.flips.length === 0 ? `<p>The cheapest choice is ${escapeHtml(r.plan.months[0]?.cheapest ?? "-")} in every month.</p>` : `<ul>${r.plan.flips.map((f) => `<li>month ${f.month}: ${escapeHtml(f.from)} → ${escapeHtml(f.to)}</li>`).join("")}</ul>`
  const rows = r.plan.months
    .map((m) => `<tr><td>${m.month}</td><td>${m.demand.toPrecision(4)}</td><td>${m.replicas}</td><td>${m.gpus}</td><td>${usd(m.cost.cloud)}</td><td>${usd(m.cost.owned)}</td><td>${usd(m.cost.api)}</td><td>${escapeHtml(m.cheapest)}</td></tr>`)
    .join("\n")
  const assumptions = Object.entries(r.assumptions).map(([k, a]) => `<li><b>${escapeHtml(k)}</b> = ${escapeHtml(String(a.value))}: ${escapeHtml(a.source)}</li>`).join("\n")
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>servesim capacity plan: ${escapeHtml(r.model)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:900px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd}</style></head>
<body>
<h1>Capacity plan: ${escapeHtml(r.model)} on ${r.gpusPerReplica}× ${escapeHtml(r.gpu)} per replica</h1>
<p>One replica meets the SLOs up to ${r.capacity.requestsPerSecond.toPrecision(4)} req/s (simulated).</p>
<figure class="chart" id="chart-plan-cost"><h3>Monthly cost by option</h3>${costs}<figcaption>Dashed lines: months where the cheapest option changes.</figcaption></figure>
${flips}
<figure class="chart" id="chart-plan-gpus"><h3>GPUs needed</h3>${gpus}</figure>
<h2>Months</h2>
<table><thead><tr><th>month</th><th>req/s</th><th>replicas</th><th>GPUs</th><th>cloud</th><th>owned</th><th>API</th><th>cheapest</th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Assumptions</h2><ul>${assumptions}</ul>
</body></html>
`
}
