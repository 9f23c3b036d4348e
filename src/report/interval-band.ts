// Prediction intervals on the report's TTFT and TPOT vs load plots: a wide translucent bar per point
// from the sweep's point.intervals (a --profile with an uncertainty block), behind the 95% CI rule over
// seeds. The CI says how much the seeds move the mean; the interval says how far the real server may
// sit from the calibrated simulator (src/calibrate/intervals.ts).
import type { TopLevelSpec } from "vega-lite"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"
import type { Row } from "./chart-common.ts"

type LayerSpec = Extract<TopLevelSpec, { layer: unknown }>["layer"][number]

/** The row fields of a point's interval on a summary field (none when the point has no interval). */
export const intervalRowFields = (p: SweepPoint, field: string): Row => {
  const pi = p.intervals?.metrics[field]
  return pi === undefined ? {} : { pi_lo: pi[0], pi_hi: pi[1] }
}

/** The bars' layer (when any row has an interval), drawn with the chart's own x, y scale and colours. */
export const intervalLayers = (
  rows: ReadonlyArray<Row>,
  x: { readonly field: string; readonly type: "quantitative"; readonly title: string },
  scale: Readonly<Record<string, unknown>>,
  color: Readonly<Record<string, unknown>>,
): LayerSpec[] =>
  rows.some((r) => typeof r.pi_lo === "number")
    ? [
        {
          name: "prediction_interval",
          transform: [{ filter: "isValid(datum.pi_lo)" }],
          mark: { type: "rule", strokeWidth: 11, opacity: 0.35 },
          encoding: { x, y: { field: "pi_lo", type: "quantitative", scale }, y2: { field: "pi_hi" }, color, tooltip: [{ field: "label" }, { field: "pi_lo", format: ".4~g" }, { field: "pi_hi", format: ".4~g" }] },
        },
      ]
    : []

/** The caption's sentence on the bars, when the result has intervals. */
export const intervalCaption = (r: SweepResult): string => {
  const pi = r.points.find((p) => p.intervals !== undefined)?.intervals
  return pi === undefined
    ? ""
    : `The wide pale bars are ${Math.round(100 * pi.level)}% prediction intervals (${pi.draws} parameter draws (${pi.method}) of ${pi.profile}, plus the fit's residual error) about the first seed's run.`
}
