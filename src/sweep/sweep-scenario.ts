// A whole sweep of one base scenario over grid axes: the SLO as the goodput definition (unless the
// scenario has its own), the scenario's load as the load axis when none is given, every point planned,
// costs per GPU type from the scenario's cost block and the cost flags, then the runs and the analysis.
// Shared by `servesim sweep` and the library's `sweep()`.
import { Effect } from "effect"
import type { SloSpec } from "../econ/saturation.ts"
import { expandGrid, LOAD_AXES, orderAxes, type GridAxis } from "../econ/sweep-grid.ts"
import { isRecord } from "../format/json.ts"
import { gpuCostsFor, type CostFlagValues } from "../scenario/cost-block.ts"
import { InputError, type FileError } from "../scenario/errors.ts"
import { planSweepPoints, type SweepOutput } from "./plan.ts"
import { runSweep, type ProgressFactory } from "./run.ts"

export interface SweepScenarioOptions {
  readonly seeds: number
  readonly workers: number
  readonly slo: SloSpec
  /** Cost flags over the scenario's cost block (text as given on the command line). */
  readonly costFlags?: CostFlagValues
  /** Where the scenario came from, for messages. */
  readonly file: string
  readonly createdBy: string
  readonly scenario: string
  readonly maxGpus?: number
  readonly timelineInterval?: number
  readonly quiet?: boolean
  readonly progress?: ProgressFactory
}

export const sweepScenario = (
  merged: Readonly<Record<string, unknown>>,
  givenAxes: ReadonlyArray<GridAxis>,
  o: SweepScenarioOptions,
): Effect.Effect<SweepOutput, InputError | FileError> =>
  Effect.gen(function* () {
    const { slo } = o
    const base: Record<string, unknown> =
      merged.goodput === undefined
        ? {
            ...merged,
            goodput: {
              ...(slo.ttftMs !== undefined ? { ttftMs: slo.ttftMs } : {}),
              ...(slo.tpotMs !== undefined ? { tpotMs: slo.tpotMs } : {}),
              ...(slo.e2elMs !== undefined ? { e2elMs: slo.e2elMs } : {}),
            },
          }
        : { ...merged }
    const axes = [...givenAxes]
    if (axes.some((a) => a.key === "concurrency") && axes.some((a) => a.key === "rate"))
      return yield* new InputError({ message: "give either --concurrency or --rate (closed or open loop), not both" })
    // Without a load list, the scenario's own load is the only point of the load axis.
    if (!axes.some((a) => LOAD_AXES.includes(a.key))) {
      const w = isRecord(base.workload) ? base.workload : {}
      if (typeof w.rate === "number") axes.push({ key: "rate", values: [w.rate] })
      else if (typeof w.concurrency === "number") axes.push({ key: "concurrency", values: [w.concurrency] })
      else return yield* new InputError({ message: "sweep needs a load: --concurrency 8,16,… or --rate 1,2,… (or sweep.concurrency / sweep.rate in the scenario)" })
    }
    const ordered = orderAxes(axes)
    const swept = new Set(ordered.filter((a) => a.values.length > 1 || !LOAD_AXES.includes(a.key)).map((a) => a.key))
    const grid = expandGrid(ordered)

    const { planned, skipped } = yield* planSweepPoints(base, grid, swept, { file: o.file, ...(o.maxGpus !== undefined ? { maxGpus: o.maxGpus } : {}) })
    const gpuIds = [...new Set(planned.map((p) => p.config.gpu))]
    const costs = yield* gpuCostsFor(gpuIds, base.cost, o.costFlags ?? {}, o.file)
    return yield* runSweep(planned, skipped, {
      seeds: o.seeds,
      workers: o.workers,
      costs,
      slo,
      createdBy: o.createdBy,
      scenario: o.scenario,
      ...(typeof base.name === "string" ? { title: base.name } : {}),
      ...(o.timelineInterval !== undefined ? { timelineInterval: o.timelineInterval } : {}),
      ...(o.quiet !== undefined ? { quiet: o.quiet } : {}),
      ...(o.progress !== undefined ? { progress: o.progress } : {}),
    })
  })
