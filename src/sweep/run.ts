// Running a planned sweep: points × seeds on the simulation pool (the first seed of each point records
// the KV timeline), then the analysis into RESULTS.json (src/econ/analyze-sweep.ts).
import { Effect } from "effect"
import { analyzeSweep, type SweepPointInput } from "../econ/analyze-sweep.ts"
import type { GpuCostInputs } from "../econ/cost-model.ts"
import type { SeedRun } from "../econ/point.ts"
import type { SloSpec } from "../econ/saturation.ts"
import { InputError } from "../scenario/errors.ts"
import { seedList, type PlannedPoint, type SkippedPoint, type SweepOutput } from "./plan.ts"
import { makeSimPool } from "./pool.ts"
import type { RunExtras, SimTask } from "./worker.ts"

/** Reports progress of `total` runs: tick(done) as they finish, end() once. */
export type ProgressFactory = (label: string, total: number) => { readonly tick: (done: number) => void; readonly end: () => void }

export interface RunSweepOptions {
  readonly seeds: number
  /** Worker threads (0: this thread; same results). */
  readonly workers: number
  readonly costs: Readonly<Record<string, GpuCostInputs>>
  readonly slo: SloSpec
  /** Recorded in the result: the command (or call) that made it and the scenario's name. */
  readonly createdBy: string
  readonly scenario: string
  readonly title?: string
  /** KV timeline sampling of each point's first seed, simulated seconds (else the scenario's, else 1). */
  readonly timelineInterval?: number
  readonly quiet?: boolean
  readonly progress?: ProgressFactory
}

const meanExtras = (xs: ReadonlyArray<RunExtras>): RunExtras => {
  const m = (get: (e: RunExtras) => number) => (xs.length === 0 ? 0 : xs.reduce((s, e) => s + get(e), 0) / xs.length)
  return {
    num_preemptions: m((e) => e.num_preemptions),
    mean_kv_cache_usage: m((e) => e.mean_kv_cache_usage),
    mean_batch_size: m((e) => e.mean_batch_size),
  }
}

export const runSweep = (planned: ReadonlyArray<PlannedPoint>, skipped: ReadonlyArray<SkippedPoint>, o: RunSweepOptions): Effect.Effect<SweepOutput, InputError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { seeds, workers } = o
      const tasks: SimTask[] = []
      for (const p of planned) {
        const timeline = o.timelineInterval ?? p.resolved.scenario.timelineInterval ?? 1
        for (const [i, seed] of seedList(p.resolved.scenario.seed, seeds).entries())
          tasks.push({ id: tasks.length, scenario: p.scenario, seed, timelineInterval: i === 0 ? timeline : 0 })
      }
      const quiet = o.quiet === true || o.progress === undefined
      if (!quiet) {
        const w = Math.min(workers, tasks.length)
        yield* Effect.sync(() =>
          process.stderr.write(
            `sweep: ${planned.length} points × ${seeds} seeds = ${tasks.length} runs on ${w === 0 ? "the main thread" : `${w} worker thread${w === 1 ? "" : "s"}`}${skipped.length > 0 ? ` (${skipped.length} points skipped)` : ""}\n`,
          ),
        )
      }
      const bar = quiet ? undefined : o.progress?.("sweep", tasks.length)
      const pool = yield* makeSimPool(workers)
      const results = yield* pool.run(tasks, bar?.tick)
      bar?.end()

      const inputs: SweepPointInput[] = []
      const extrasPerPoint: RunExtras[] = []
      let k = 0
      for (const p of planned) {
        const runs: SeedRun[] = []
        const ex: RunExtras[] = []
        for (let i = 0; i < seeds; i++) {
          const r = results[k++]
          if (r === undefined) continue
          runs.push(r.run)
          ex.push(r.extras)
        }
        inputs.push({ config: p.config, runs })
        extrasPerPoint.push(meanExtras(ex))
      }
      const analysed = analyzeSweep(inputs, {
        costs: o.costs,
        slo: o.slo,
        createdBy: o.createdBy,
        scenario: o.scenario,
        ...(o.title !== undefined ? { title: o.title } : {}),
      })
      if (!analysed.ok) return yield* new InputError({ message: analysed.error })
      const result = analysed.value
      const extras = Object.fromEntries(result.points.map((pt, i) => [pt.id, extrasPerPoint[i] ?? meanExtras([])]))
      return { result, skipped, extras }
    }),
  )
