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
export const timeUnit = (maxSeconds: number): { readonly divisor: number; readonly title: string } =>
  maxSeconds > 600 ? { divisor: 60, title: "simulated time (min)" } : { divisor: 1, title: "simulated time (s)" }

/** Up to MAX_TIMELINES points with a timeline: the marked ones first, then spread over load; in load order. */
export const chooseTimelines = (r: SweepResult): SweepPoint[] => {
  const withTimeline = r.points.filter((p) => p.timeline !== undefined && p.timeline.time.length > 0)
  const score = (p: SweepPoint) => (p.flags.optimal ? 4 : 0) + (p.flags.saturation ? 2 : 0) + (p.flags.slaBoundary ? 1 : 0)
  const ranked = [...withTimeline].sort((a, b) => score(b) - score(a) || a.config.load.value - b.config.load.value)
  return ranked.slice(0, MAX_TIMELINES).sort((a, b) => a.config.load.value - b.config.load.value)
}

export interface KvRows {
  readonly rows: ReadonlyArray<Row>
  readonly names: ReturnType<typeof legendNames>
  readonly unit: ReturnType<typeof timeUnit>
  readonly peakPct: number
}

/** Rows (point, time in the chosen unit, % of KV blocks) of the chosen points. */
export const kvRows = (chosen: ReadonlyArray<SweepPoint>): KvRows => {
  const names = legendNames(chosen.map((p) => p.label))
  const unit = timeUnit(Math.max(0, ...chosen.map((p) => p.timeline?.time.at(-1) ?? 0)))
  const rows: Row[] = []
  let peakPct = 0
  for (const p of chosen) {
    const t = p.timeline
    if (t === undefined) continue
    for (const i of downsample(t.time.length, MAX_TIMELINE_SAMPLES)) {
      const kv = 100 * (t.kvCacheUsage[i] ?? 0)
      peakPct = Math.max(peakPct, kv)
      rows.push({ point: names.names.get(p.label) ?? p.label, time: (t.time[i] ?? 0) / unit.divisor, kv })
    }
  }
  return { rows, names, unit, peakPct }
}

export const kvTimelineChart = (r: SweepResult): ChartSpec | undefined => {
  const chosen = chooseTimelines(r)
  if (chosen.length === 0) return undefined
  const { rows, names, unit, peakPct } = kvRows(chosen)
  // Full cache (100%) is drawn when the data come near it; the axis never goes past it.
  const d = yDomain([peakPct], [{ value: 100, label: "all KV blocks" }], { ceiling: 100 })
  const y = { field: "kv", type: "quantitative" as const, title: "KV blocks in use (% of num_gpu_blocks)", scale: { domain: [...d.domain] } }
  const spec: TopLevelSpec = {
    ...base("KV-cache usage over time", names.longest),
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
            sort: chosen.map((p) => names.names.get(p.label) ?? p.label),
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
    id: "kv-timeline",
    title: "KV-cache usage over time",
    caption: `Share of the KV-cache blocks in use (mean over replicas), first seed of ${chosen.length} point(s); peak ${peakPct.toFixed(1)}%.${
      d.shown.length === 0 ? " The axis ends near the peak; 100% (every block in use) is off the scale." : " The dashed line is 100% (every block in use)."
    }`,
    spec,
    pointCount: chosen.length,
  }
}
