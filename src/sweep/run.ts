// Running a sweep's runs: points × seeds as simulation tasks (the first seed of each point records the
// KV timeline) on the worker pool, all of them or one shard's slice, results in task order.
import { Effect } from "effect"
import type { InputError } from "../scenario/errors.ts"
import { seedList, type PlannedPoint, type TaskRun } from "./plan.ts"
import { makeSimPool } from "./pool.ts"
import type { SimTask } from "./worker.ts"

/** Reports progress of `total` runs: tick(done) as they finish, end() once. */
export type ProgressFactory = (label: string, total: number) => { readonly tick: (done: number) => void; readonly end: () => void }

/** The runs of a plan in canonical order (point-major, seed-minor); task k is run k. */
export const sweepTasks = (planned: ReadonlyArray<PlannedPoint>, seeds: number, timelineInterval?: number): SimTask[] => {
  const tasks: SimTask[] = []
  for (const p of planned) {
    const timeline = timelineInterval ?? p.resolved.scenario.timelineInterval ?? 1
    for (const [i, seed] of seedList(p.resolved.scenario.seed, seeds).entries())
      tasks.push({ id: tasks.length, scenario: p.scenario, seed, timelineInterval: i === 0 ? timeline : 0 })
  }
  return tasks
}

export interface RunTasksOptions {
  /** Worker threads (0: this thread; same results). */
  readonly workers: number
  /** Indices of the tasks to run (a shard); all of them when absent. */
  readonly selected?: ReadonlyArray<number>
  /** A line on stderr before the runs start (omitted when quiet). */
  readonly announce?: (workers: number, runs: number) => string
  readonly quiet?: boolean
  readonly progress?: ProgressFactory
}

/** Runs the (selected) tasks; their results in the order of `selected`. */
export const runTasks = (tasks: ReadonlyArray<SimTask>, o: RunTasksOptions): Effect.Effect<TaskRun[], InputError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const chosen = o.selected === undefined ? tasks : o.selected.flatMap((k, i) => (tasks[k] === undefined ? [] : [{ ...tasks[k], id: i }]))
      const quiet = o.quiet === true || o.progress === undefined
      if (!quiet && o.announce !== undefined) {
        const line = o.announce(Math.min(o.workers, chosen.length), chosen.length)
        yield* Effect.sync(() => process.stderr.write(`${line}\n`))
      }
      const bar = quiet ? undefined : o.progress?.("sweep", chosen.length)
      const pool = yield* makeSimPool(o.workers)
      const results = yield* pool.run(chosen, bar?.tick)
      bar?.end()
      return results.map((r) => ({ run: r.run, extras: r.extras }))
    }),
  )
