// SweepResult → self-contained HTML report (plots rendered to inline SVG).
import type { SweepResult } from "../econ/sweep-result.ts"
import { reportCharts } from "./charts.ts"
import { reportHtml, type RenderedChart } from "./html.ts"
import { renderSvg } from "./render-svg.ts"

export interface BuiltReport {
  readonly html: string
  readonly charts: ReadonlyArray<RenderedChart & { readonly pointCount: number }>
}

export const buildReport = async (result: SweepResult): Promise<BuiltReport> => {
  const charts: Array<RenderedChart & { pointCount: number }> = []
  for (const c of reportCharts(result)) {
    charts.push({ id: c.id, title: c.title, caption: c.caption, pointCount: c.pointCount, svg: await renderSvg(c.spec, c.id) })
  }
  return { html: reportHtml(result, charts), charts }
}
