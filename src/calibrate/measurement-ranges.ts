// The allowed range of every field of a measured point, checked before validate or calibrate compare
// anything against it: a row with isl −256 or a TTFT of 0 is a broken measurement, not a data point.
// One line per problem: where (file:line, file[index], RUN_DIR#point), field, value, allowed range.
import { LATENCY_METRICS, MEASURED_STATS, measuredKey } from "../sim/bench-summary.ts"
import type { MeasuredMetrics, MeasuredPoint } from "./measurements.ts"

interface Range {
  readonly min: number
  /** min itself allowed (≥) or not (>). */
  readonly minInclusive: boolean
  readonly max: number
  readonly integer: boolean
  readonly text: string
}

const range = (min: number, minInclusive: boolean, max: number, integer: boolean): Range => ({
  min,
  minInclusive,
  max,
  integer,
  text: `${integer ? "an integer" : "a number"} ${minInclusive ? "≥" : ">"} ${min}${Number.isFinite(max) ? ` and ≤ ${max.toLocaleString("en-US")}` : ""}`,
})

const TOKENS = range(1, true, 10_000_000, false)
const DEGREE = range(1, true, 1024, true)
const COUNT = range(1, true, 1_000_000_000, true)
const COUNT0 = range(0, true, 1_000_000_000, true)
const POSITIVE = range(0, false, Number.POSITIVE_INFINITY, false)
/** Latencies in ms: TTFT and E2E take time; TPOT and ITL may be 0 (one-token outputs). */
const LATENCY = range(0, false, 1e9, false)
const GAP = range(0, true, 1e9, false)

const SCALARS: ReadonlyArray<readonly [keyof MeasuredPoint, string, Range]> = [
  ["isl", "isl", TOKENS],
  ["osl", "osl", TOKENS],
  ["tp", "tp", DEGREE],
  ["pp", "pp", DEGREE],
  ["concurrency", "concurrency", COUNT],
  ["requestRate", "request_rate", POSITIVE],
  ["numRequests", "num_requests", COUNT],
  ["completed", "completed", COUNT0],
  ["failed", "failed", COUNT0],
  ["durationS", "duration", POSITIVE],
  ["warmup", "warmup", COUNT0],
  ["numGpuBlocks", "num_gpu_blocks", COUNT],
  ["blockSize", "block_size", range(1, true, 1024, true)],
  ["maxNumSeqs", "max_num_seqs", COUNT],
  ["maxNumBatchedTokens", "max_num_batched_tokens", COUNT],
  ["maxModelLen", "max_model_len", COUNT],
]

const problem = (field: string, v: number, r: Range): string | undefined => {
  if (!Number.isFinite(v)) return `field ${field}: ${v} is not a finite number (expected ${r.text})`
  const low = r.minInclusive ? v < r.min : v <= r.min
  if (low || v > r.max || (r.integer && !Number.isInteger(v))) return `field ${field}: ${v} is out of range (expected ${r.text})`
  return undefined
}

/** TTFT and E2EL are latencies (> 0); TPOT and ITL gaps (≥ 0). */
const statProblems = (m: MeasuredMetrics): string[] => {
  const out: string[] = []
  for (const metric of LATENCY_METRICS)
    for (const stat of MEASURED_STATS) {
      const key = measuredKey(stat, metric)
      const v = m[key]
      if (v === undefined) continue
      const p = problem(key, v, metric === "ttft" || metric === "e2el" ? LATENCY : GAP)
      if (p !== undefined) out.push(p)
    }
  return out
}

/** Every out-of-range field of a point, as "field …: value … (expected …)"; empty when it is sound. */
export const measuredPointProblems = (p: MeasuredPoint): string[] => {
  const out: string[] = []
  for (const [key, field, r] of SCALARS) {
    const v = p[key]
    if (typeof v !== "number") continue
    const issue = problem(field, v, r)
    if (issue !== undefined) out.push(issue)
  }
  const m = p.metrics
  out.push(...statProblems(m))
  for (const [v, field] of [
    [m.request_throughput, "request_throughput"],
    [m.output_throughput, "output_throughput"],
    [m.input_throughput, "input_throughput"],
  ] as const) {
    if (v === undefined) continue
    const issue = problem(field, v, POSITIVE)
    if (issue !== undefined) out.push(issue)
  }
  return out
}

/** The first point with a problem, as one line "source: field …", or undefined. */
export const firstRangeError = (points: ReadonlyArray<MeasuredPoint>): string | undefined => {
  for (const p of points) {
    const issues = measuredPointProblems(p)
    if (issues.length > 0) return `${p.source}: ${issues.join("; ")}`
  }
  return undefined
}
