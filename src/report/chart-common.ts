// What every report chart shares: the ChartSpec shape, page size, fonts and the legend style. Each chart
// is one function SweepResult (or another input) → ChartSpec, in charts.ts or a file of its own.
import type { Config, TopLevelSpec } from "vega-lite"

export interface ChartSpec {
  readonly id: string
  readonly title: string
  /** One paragraph under the plot: what it shows and how to read the markers. */
  readonly caption: string
  readonly spec: TopLevelSpec
  /** Data points drawn by the layer named "points" (for tests). */
  readonly pointCount: number
}

export type Row = Record<string, string | number | boolean | null>

export const WIDTH = 560
export const HEIGHT = 300

// labelLimit/titleLimit 0: vega truncates nothing (legend names are shortened by legendNames instead,
// so they stay whole); one column once a name is long, so two columns never overlap.
export const legendConfig = (longest = 0): NonNullable<Config["legend"]> => ({
  orient: "bottom",
  direction: "vertical",
  columns: longest > 36 ? 1 : 2,
  labelLimit: 0,
  titleLimit: 0,
  symbolLimit: 40,
})

// The page shows each chart's title above it, so the SVG carries its title only as a description.
export const base = (title: string, longestLegendName = 0): { width: number; height: number; description: string; config: Config } => ({
  width: WIDTH,
  height: HEIGHT,
  description: title,
  config: {
    font: "sans-serif",
    legend: legendConfig(longestLegendName),
    axis: { labelFontSize: 11, titleFontSize: 12 },
  },
})
