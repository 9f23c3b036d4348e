// Renders a Vega-Lite spec to an SVG string in Node: vega-lite compile → vega parse → headless View
// (renderer "none") → toSVG. No browser, no network (all data is inline).
import * as vega from "vega"
import { compile, type TopLevelSpec } from "vega-lite"

/**
 * Several SVGs inlined in one page share one id namespace, so any ids vega emits (clip paths,
 * gradients) get a per-chart prefix, with their url(#…) and href="#…" references.
 */
export const prefixSvgIds = (svg: string, prefix: string): string =>
  svg
    .replace(/\sid="([^"]+)"/g, (_m, id: string) => ` id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}-${id}"`)

// Marker layers (saturation point, SLO lines) are empty when nothing saturated; vega then warns about
// an infinite extent of a scale the other layers already fix. That one warning is noise for users.
const logger = vega.logger(vega.Warn)
const warn = logger.warn.bind(logger)
logger.warn = (...args: ReadonlyArray<unknown>) => (String(args[0]).startsWith("Infinite extent") ? logger : warn(...args))

export const renderSvg = async (spec: TopLevelSpec, idPrefix: string): Promise<string> => {
  const compiled = compile(spec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger })
  try {
    const svg = await view.toSVG()
    return prefixSvgIds(svg, idPrefix)
  } finally {
    view.finalize()
  }
}

/** Number of marks in the SVG group of a named Vega-Lite layer (group class "<name>_marks"). */
export const countLayerMarks = (svg: string, layerName: string): number => {
  const open = new RegExp(`<g class="mark-[a-z]+ role-mark ${layerName}_marks"[^>]*>`, "g")
  let count = 0
  for (const m of svg.matchAll(open)) {
    const start = (m.index ?? 0) + m[0].length
    const end = svg.indexOf("</g>", start)
    const body = svg.slice(start, end < 0 ? undefined : end)
    count += (body.match(/<(path|line|rect|text)\b/g) ?? []).length
  }
  return count
}
