// Sharded sweeps: `servesim sweep --shard i/n` runs the i-th of n slices of a sweep's runs and writes
// a part file; `servesim merge` joins the parts (merge.ts). Shards are 0-based, as a Kubernetes Indexed
// Job's JOB_COMPLETION_INDEX and a Slurm array's SLURM_ARRAY_TASK_ID (with --array=0-(n-1)) count.
// Run k (points × seeds, point-major) belongs to shard k mod n: round-robin over the canonical order, so
// the slow points (high load, many GPUs) spread over all shards instead of piling onto the last one.
import { Schema } from "effect"
import { createHash } from "node:crypto"
import { CORE_METRIC_KEYS, OPTIONAL_METRIC_KEYS } from "../econ/point.ts"
import { GpuCostInputs, KvTimeline, PointConfig, Slo } from "./result-schema.ts"
import type { ParseResult } from "../econ/pareto.ts"
import type { SweepPlan, TaskRun } from "./plan.ts"

export const SWEEP_PART_FORMAT = "servesim-sweep-part"
export const SWEEP_PART_VERSION = 1

export interface Shard {
  /** 0-based. */
  readonly index: number
  readonly count: number
}

/** Parses "i/n" (0 ≤ i < n). */
export const parseShard = (text: string): ParseResult<Shard> => {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text)
  const index = Number(m?.[1])
  const count = Number(m?.[2])
  if (m === null || !Number.isSafeInteger(index) || !Number.isSafeInteger(count))
    return { ok: false, error: `--shard: "${text}" is not i/n (e.g. 0/4; shards count from 0, like JOB_COMPLETION_INDEX)` }
  if (count < 1) return { ok: false, error: `--shard ${text}: n must be at least 1` }
  if (index >= count) return { ok: false, error: `--shard ${text}: i counts from 0, so it must be below n (0…${count - 1})` }
  return { ok: true, value: { index, count } }
}

/** Indices (into the canonical run order) of the runs of one shard. */
export const shardRunIndices = (total: number, shard: Shard): number[] => {
  const out: number[] = []
  for (let k = shard.index; k < total; k += shard.count) out.push(k)
  return out
}

/** JSON with object keys sorted, so equal values give equal text whatever order their keys were built in. */
const canonicalJson = (x: unknown): string => {
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(",")}]`
  if (typeof x === "object" && x !== null) {
    const entries = Object.entries(x as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
  }
  return JSON.stringify(x) ?? "null"
}

/**
 * SHA-256 of the resolved sweep: the servesim version, the plan and every run's scenario object, seed
 * and timeline interval. Shards of one sweep agree on it; any change to the grid, a flag that enters a
 * scenario, the seeds, the SLOs, the costs or the servesim version changes it (another version may
 * simulate differently). Worker count, --quiet and output paths do not enter it.
 */
export const sweepFingerprint = (servesimVersion: string, plan: SweepPlan, runs: ReadonlyArray<unknown>): string =>
  createHash("sha256")
    .update(canonicalJson({ format: SWEEP_PART_FORMAT, version: SWEEP_PART_VERSION, servesimVersion, plan, runs }))
    .digest("hex")

/** A part file: one shard's runs, with the plan so that `merge` needs nothing else. */
export interface SweepPart {
  readonly format: typeof SWEEP_PART_FORMAT
  readonly version: typeof SWEEP_PART_VERSION
  readonly fingerprint: string
  readonly shard: Shard
  /** Runs of the whole sweep (all shards). */
  readonly totalRuns: number
  readonly plan: SweepPlan
  /** This shard's runs; `task` is the run's index in the canonical order. */
  readonly runs: ReadonlyArray<TaskRun & { readonly task: number }>
  /** The shard's command line (run metadata; not part of the fingerprint). */
  readonly createdBy: string
}

const Num = Schema.Finite
const Int = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const opt = Schema.optionalKey

const BenchMetrics = Schema.Struct({
  ...(Object.fromEntries(CORE_METRIC_KEYS.map((k) => [k, Num])) as { readonly [K in (typeof CORE_METRIC_KEYS)[number]]: typeof Num }),
  ...(Object.fromEntries(OPTIONAL_METRIC_KEYS.map((k) => [k, opt(Num)])) as {
    readonly [K in (typeof OPTIONAL_METRIC_KEYS)[number]]: Schema.optionalKey<typeof Num>
  }),
})

export const SweepPartSchema = Schema.Struct({
  format: Schema.Literal(SWEEP_PART_FORMAT),
  version: Schema.Literal(SWEEP_PART_VERSION),
  fingerprint: Schema.String,
  shard: Schema.Struct({ index: Int, count: Int.check(Schema.isGreaterThan(0)) }),
  totalRuns: Int,
  plan: Schema.Struct({
    points: Schema.Array(Schema.Struct({ config: PointConfig, seeds: Int })),
    skipped: Schema.Array(Schema.Struct({ point: Schema.String, reason: Schema.String })),
    costs: Schema.Record(Schema.String, GpuCostInputs),
    slo: Slo,
    scenario: Schema.String,
    title: opt(Schema.String),
  }),
  runs: Schema.Array(
    Schema.Struct({
      task: Int,
      run: Schema.Struct({
        seed: Schema.Union([Num, Schema.String]),
        metrics: BenchMetrics,
        prefillTimeFraction: opt(Num),
        timeline: opt(KvTimeline),
      }),
      extras: Schema.Struct({ num_preemptions: Num, mean_kv_cache_usage: Num, mean_batch_size: Num }),
    }),
  ),
  createdBy: Schema.String,
})

