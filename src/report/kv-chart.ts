// KV-cache usage over time: the share of the engine's KV blocks (num_gpu_blocks) in use, as vLLM's
// vllm:kv_cache_usage_perc reports it (vllm/v1/core/kv_cache_manager.py usage), for a few marked points.
// The y axis follows the data (a run that peaks at 6% is not drawn as a flat line under a 0–100 axis)
// and the time axis switches to minutes for long runs.
import type { TopLevelSpec } from "vega-lite"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"
import { base, type ChartSpec, type Row } from "./chart-common.ts"
import { legendNames, legendTitle } from "./legend-names.ts"
import { yDomain } from "./y-domain.ts"

const MAX_TIMELINE_SAMPLES = 400
const MAX_TIMELINES = 8

/** Evenly spaced subsample keeping the first and last sample. */
export const downsample = (n: number, max: number): number[] => {
  if (n <= max) return Array.from({ length: n }, (_, i) => i)
  const out: number[] = []
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)))
  return out
}

/** Seconds up to 10 minutes, minutes beyond (a 40-minute run reads 0–40, not 0–2,400). */
export const timeUnit = (maxSeconds: number, clock = "simulated time"): { readonly divisor: number; readonly title: string } =>
  maxSeconds > 600 ? { divisor: 60, title: `${clock} (min)` } : { divisor: 1, title: `${clock} (s)` }

/** Up to MAX_TIMELINES points with a timeline: the marked ones first, then spread over load; in load order. */
export const chooseTimelines = (r: SweepResult): SweepPoint[] => {
  const withTimeline = r.points.filter((p) => p.timeline !== undefined && p.timeline.time.length > 0)
  const score = (p: SweepPoint) => (p.flags.optimal ? 4 : 0) + (p.flags.saturation ? 2 : 0) + (p.flags.slaBoundary ? 1 : 0)
  const ranked = [...withTimeline].sort((a, b) => score(b) - score(a) || a.config.load.value - b.config.load.value)
  return ranked.slice(0, MAX_TIMELINES).sort((a, b) => a.config.load.value - b.config.load.value)
}

/** One line of the plot: KV usage (fraction of num_gpu_blocks, 0–1) at times in seconds. */
export interface KvLine {
  readonly label: string
  readonly time: ReadonlyArray<number>
  readonly usage: ReadonlyArray<number>
}

export interface KvRows {
  readonly rows: ReadonlyArray<Row>
  readonly names: ReturnType<typeof legendNames>
  readonly unit: ReturnType<typeof timeUnit>
  readonly peakPct: number
}

/** Rows (line, time in the chosen unit, % of KV blocks) of the lines. */
export const kvRows = (lines: ReadonlyArray<KvLine>, clock?: string): KvRows => {
  const names = legendNames(lines.map((l) => l.label))
  const unit = timeUnit(Math.max(0, ...lines.map((l) => l.time.at(-1) ?? 0)), clock)
  const rows: Row[] = []
  let peakPct = 0
  for (const l of lines) {
    for (const i of downsample(l.time.length, MAX_TIMELINE_SAMPLES)) {
      const kv = 100 * (l.usage[i] ?? 0)
      peakPct = Math.max(peakPct, kv)
      rows.push({ point: names.names.get(l.label) ?? l.label, time: (l.time[i] ?? 0) / unit.divisor, kv })
    }
  }
  return { rows, names, unit, peakPct }
}

export interface KvChartOptions {
  readonly id: string
  readonly title: string
  /** What the time axis counts ("simulated time", "time into the point"). */
  readonly clock: string
  /** The caption's first sentence: where the samples come from. */
  readonly source: string
}

export const kvUsageChart = (lines: ReadonlyArray<KvLine>, o: KvChartOptions): ChartSpec | undefined => {
  const drawn = lines.filter((l) => l.time.length > 0)
  if (drawn.length === 0) return undefined
  const { rows, names, unit, peakPct } = kvRows(drawn, o.clock)
  // Full cache (100%) is drawn when the data come near it; the axis never goes past it.
  const d = yDomain([peakPct], [{ value: 100, label: "all KV blocks" }], { ceiling: 100 })
  const y = { field: "kv", type: "quantitative" as const, title: "KV blocks in use (% of num_gpu_blocks)", scale: { domain: [...d.domain] } }
  const spec: TopLevelSpec = {
    ...base(o.title, names.longest),
    data: { values: rows },
    layer: [
      {
        name: "points",
        mark: { type: "line", strokeWidth: 1.5, interpolate: "step-after" },
        encoding: {
          x: { field: "time", type: "quantitative", title: unit.title },
          y,
          color: {
            field: "point",
            type: "nominal",
            title: legendTitle("point", names),
            sort: drawn.map((l) => names.names.get(l.label) ?? l.label),
          },
        },
      },
      ...(d.shown.length === 0
        ? []
        : [
            {
              name: "kv_full",
              data: { values: [{ v: 100 }] },
              mark: { type: "rule" as const, strokeDash: [6, 4], color: "#555" },
              encoding: { y: { field: "v", type: "quantitative" as const } },
            },
          ]),
    ],
  }
  return {
    id: o.id,
    title: o.title,
    caption: `${o.source} Peak ${peakPct.toFixed(1)}%.${
      d.shown.length === 0 ? " The axis ends near the peak; 100% (every block in use) is off the scale." : " The dashed line is 100% (every block in use)."
    }`,
    spec,
    pointCount: drawn.length,
  }
}

export const kvTimelineChart = (r: SweepResult): ChartSpec | undefined => {
  const chosen = chooseTimelines(r)
  return kvUsageChart(
    chosen.map((p) => ({ label: p.label, time: p.timeline?.time ?? [], usage: p.timeline?.kvCacheUsage ?? [] })),
    {
      id: "kv-timeline",
      title: "KV-cache usage over time",
      clock: "simulated time",
      source: `Share of the KV-cache blocks in use (mean over replicas), first seed of ${chosen.length} point(s).`,
    },
  )
}
