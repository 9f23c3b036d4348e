// Worker-thread entry of `servesim sweep` and `servesim search`: receives plain data (a merged scenario
// object and a seed), rebuilds the spec itself, simulates, and posts back the run as plain data. Also
// usable in-process (runSimTask) so the main thread and the workers compute exactly the same thing.
import { Effect, Result } from "effect"
import { isMainThread, parentPort } from "node:worker_threads"
import { seedRunFromSummary } from "../econ/from-sim.ts"
import type { SeedRun } from "../econ/point.ts"
import { simulate } from "../sim/simulate.ts"
import { summarize } from "../sim/summary.ts"
import { buildSimSpec, resolveScenario } from "../scenario/resolve.ts"
import { decodeScenario } from "../scenario/schema.ts"
import type { RunExtras } from "./plan.ts"

export interface SimTask {
  /** Index of the task; results are matched back by it. */
  readonly id: number
  /** A scenario object (as decoded from a file with flags merged); decoded again here. */
  readonly scenario: Readonly<Record<string, unknown>>
  readonly seed: number | string
  /** Sample the KV timeline every this many simulated seconds (0 = off). */
  readonly timelineInterval: number
}


export type SimTaskResult =
  | { readonly id: number; readonly ok: true; readonly run: SeedRun; readonly extras: RunExtras }
  /** `defect`: the simulator threw (a bug), as opposed to a scenario it cannot run. */
  | { readonly id: number; readonly ok: false; readonly error: string; readonly defect?: boolean }

/** Runs one task: decode, resolve, build the spec for the seed, simulate, summarise. */
export const runSimTask = async (task: SimTask): Promise<SimTaskResult> => {
  const resolved = await Effect.runPromise(
    Effect.result(decodeScenario(task.scenario, "sweep point").pipe(Effect.flatMap(resolveScenario))),
  )
  if (Result.isFailure(resolved)) return { id: task.id, ok: false, error: resolved.failure.message }
  const spec = { ...buildSimSpec(resolved.success, task.seed), timelineInterval: task.timelineInterval }
  const summary = summarize(simulate(spec))
  const run = seedRunFromSummary(summary, task.seed)
  if (!run.ok) return { id: task.id, ok: false, error: run.error }
  return {
    id: task.id,
    ok: true,
    run: run.value,
    extras: {
      num_preemptions: summary.num_preemptions,
      mean_kv_cache_usage: summary.mean_kv_cache_usage,
      mean_batch_size: summary.mean_batch_size,
    },
  }
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort
  port.on("message", (task: SimTask) => {
    runSimTask(task).then(
      (r) => port.postMessage(r),
      (e: unknown) =>
        port.postMessage({ id: task.id, ok: false, defect: true, error: `simulation failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` }),
    )
  })
}
