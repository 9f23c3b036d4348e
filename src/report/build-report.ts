// SweepResult / validate result → self-contained HTML report (plots rendered to inline SVG).
import type { SweepResult } from "../econ/sweep-result.ts"
import type { ChartSpec } from "./chart-common.ts"
import { reportCharts } from "./charts.ts"
import { reportHtml, type RenderedChart } from "./html.ts"
import { measuredVsLoadChart } from "./measured-vs-load-chart.ts"
import { errorStripChart, parityChart } from "./parity-chart.ts"
import { renderSvg } from "./render-svg.ts"
import { validationHtml } from "./validation-html.ts"
import type { ValidationResult } from "./validation-result.ts"

export interface BuiltReport {
  readonly html: string
  readonly charts: ReadonlyArray<RenderedChart & { readonly pointCount: number }>
}

const render = async (specs: ReadonlyArray<ChartSpec>): Promise<Array<RenderedChart & { pointCount: number }>> => {
  const charts: Array<RenderedChart & { pointCount: number }> = []
  for (const c of specs) {
    charts.push({ id: c.id, title: c.title, caption: c.caption, pointCount: c.pointCount, svg: await renderSvg(c.spec, c.id) })
  }
  return charts
}

export const buildReport = async (result: SweepResult): Promise<BuiltReport> => {
  const charts = await render(reportCharts(result))
  return { html: reportHtml(result, charts), charts }
}

/** The charts a validate result supports, in page order. */
export const validationCharts = (v: ValidationResult): ChartSpec[] =>
  [parityChart(v), errorStripChart(v), measuredVsLoadChart(v, "ttft"), measuredVsLoadChart(v, "tpot")].filter((c): c is ChartSpec => c !== undefined)

/** `extra`: charts of what only the input knows (a run directory's measured KV usage), after the others. */
export const buildValidationReport = async (v: ValidationResult, title: string, extra: ReadonlyArray<ChartSpec> = []): Promise<BuiltReport> => {
  const charts = await render([...validationCharts(v), ...extra])
  return { html: validationHtml(v, charts, title), charts }
}
