// A sweep in two halves: the plan (every grid point that can run, its seeds, costs and SLOs, decided
// before any simulation) and the analysis of the runs (points × seeds, in plan order) into RESULTS.json.
// `servesim sweep` does both in one process; a sharded sweep runs slices of the plan's runs on several
// machines and `servesim merge` does the analysis (shard.ts, merge.ts). Pure.
import { analyzeSweep, type SweepPointInput } from "../econ/analyze-sweep.ts"
import type { GpuCostInputs } from "../econ/cost-model.ts"
import type { ParseResult } from "../econ/pareto.ts"
import type { PointConfig, SeedRun } from "../econ/point.ts"
import type { SloSpec } from "../econ/saturation.ts"
import type { SweepResult } from "../econ/sweep-result.ts"

/** Counters of a run beyond the vllm-bench metrics, for tables. */
export interface RunExtras {
  readonly num_preemptions: number
  readonly mean_kv_cache_usage: number
  readonly mean_batch_size: number
}

/** A grid point that could not run, and why. */
export interface SkippedPoint {
  readonly point: string
  readonly reason: string
}

/** Everything the analysis needs besides the runs; identical on every shard of one sweep. */
export interface SweepPlan {
  /** Points in grid order; each runs `seeds` seeds, so the runs are points × seeds, point-major. */
  readonly points: ReadonlyArray<{ readonly config: PointConfig; readonly seeds: number }>
  readonly skipped: ReadonlyArray<SkippedPoint>
  readonly costs: Readonly<Record<string, GpuCostInputs>>
  readonly slo: SloSpec
  /** Scenario file or name, as RESULTS.json records it. */
  readonly scenario: string
  readonly title?: string
}

/** One simulated run of the plan. */
export interface TaskRun {
  readonly run: SeedRun
  readonly extras: RunExtras
}

export interface SweepOutput {
  readonly result: SweepResult
  readonly skipped: ReadonlyArray<SkippedPoint>
  /** Extra counters per point id (means over seeds). */
  readonly extras: Readonly<Record<string, RunExtras>>
}

/** Runs in the plan: Σ seeds over points. */
export const planRunCount = (plan: SweepPlan): number => plan.points.reduce((s, p) => s + p.seeds, 0)

const meanExtras = (xs: ReadonlyArray<RunExtras>): RunExtras => {
  const m = (get: (e: RunExtras) => number) => (xs.length === 0 ? 0 : xs.reduce((s, e) => s + get(e), 0) / xs.length)
  return {
    num_preemptions: m((e) => e.num_preemptions),
    mean_kv_cache_usage: m((e) => e.mean_kv_cache_usage),
    mean_batch_size: m((e) => e.mean_batch_size),
  }
}

/**
 * Analyses the runs of a plan (`runs[k]` is run k in point-major, seed-minor order) into RESULTS.json.
 * `createdBy` is the only input that is not part of the plan: the command line, run metadata.
 */
export const analysePlan = (plan: SweepPlan, runs: ReadonlyArray<TaskRun | undefined>, createdBy: string): ParseResult<SweepOutput> => {
  const inputs: SweepPointInput[] = []
  const extrasPerPoint: RunExtras[] = []
  let k = 0
  for (const p of plan.points) {
    const seedRuns: SeedRun[] = []
    const ex: RunExtras[] = []
    for (let i = 0; i < p.seeds; i++) {
      const r = runs[k++]
      if (r === undefined) continue
      seedRuns.push(r.run)
      ex.push(r.extras)
    }
    inputs.push({ config: p.config, runs: seedRuns })
    extrasPerPoint.push(meanExtras(ex))
  }
  const analysed = analyzeSweep(inputs, {
    costs: plan.costs,
    slo: plan.slo,
    createdBy,
    scenario: plan.scenario,
    ...(plan.title === undefined ? {} : { title: plan.title }),
  })
  if (!analysed.ok) return analysed
  const result = analysed.value
  const extras = Object.fromEntries(result.points.map((pt, i) => [pt.id, extrasPerPoint[i] ?? meanExtras([])]))
  return { ok: true, value: { result, skipped: plan.skipped, extras } }
}
