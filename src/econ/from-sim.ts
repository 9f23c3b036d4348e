// Adapter from the engine's summary (src/sim/summary.ts `summarize(result)`: vllm-bench fields plus
// prefill_time_fraction and an optional timeline) to the econ layer's SeedRun. Checks the fields at
// runtime because the summary is typed as an open record. Pure.
import type { ParseResult } from "./pareto.ts"
import { CORE_METRIC_KEYS, OPTIONAL_METRIC_KEYS, type BenchMetrics, type KvTimeline, type SeedRun } from "./point.ts"

const isNumberArray = (x: unknown): x is number[] => Array.isArray(x) && x.every((v) => typeof v === "number")

const timelineOf = (x: unknown): KvTimeline | undefined => {
  if (typeof x !== "object" || x === null) return undefined
  const time: unknown = Reflect.get(x, "time")
  const kv: unknown = Reflect.get(x, "kvCacheUsage")
  if (!isNumberArray(time) || !isNumberArray(kv) || time.length !== kv.length) return undefined
  const running: unknown = Reflect.get(x, "numRunning")
  const waiting: unknown = Reflect.get(x, "numWaiting")
  return {
    time,
    kvCacheUsage: kv,
    ...(isNumberArray(running) && running.length === time.length ? { numRunning: running } : {}),
    ...(isNumberArray(waiting) && waiting.length === time.length ? { numWaiting: waiting } : {}),
  }
}

export const seedRunFromSummary = (
  summary: Readonly<Record<string, unknown>>,
  seed: number | string,
): ParseResult<SeedRun> => {
  const metrics: Record<string, number> = {}
  for (const key of CORE_METRIC_KEYS) {
    const v = summary[key]
    if (typeof v !== "number" || !Number.isFinite(v))
      return { ok: false, error: `simulation summary (seed ${seed}): ${key} is missing or not a finite number` }
    metrics[key] = v
  }
  for (const key of OPTIONAL_METRIC_KEYS) {
    const v = summary[key]
    if (typeof v === "number" && Number.isFinite(v)) metrics[key] = v
  }
  const fraction = summary.prefill_time_fraction
  const timeline = timelineOf(summary.timeline)
  return {
    ok: true,
    value: {
      seed,
      // Every core key was checked above.
      metrics: metrics as unknown as BenchMetrics,
      ...(typeof fraction === "number" && Number.isFinite(fraction) ? { prefillTimeFraction: fraction } : {}),
      ...(timeline === undefined ? {} : { timeline }),
    },
  }
}
