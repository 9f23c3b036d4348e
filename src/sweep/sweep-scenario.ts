// A whole sweep of one base scenario over grid axes: the SLO as the goodput definition (unless the
// scenario has its own), the scenario's load as the load axis when none is given, every point planned,
// costs per GPU type from the scenario's cost block and the cost flags, the runs, and the analysis.
// Shared by `servesim sweep` (which may run one shard of the runs instead) and the library's `sweep()`.
import { Effect } from "effect"
import type { SloSpec } from "../econ/saturation.ts"
import { expandGrid, LOAD_AXES, orderAxes, type GridAxis } from "../econ/sweep-grid.ts"
import { isRecord } from "../format/json.ts"
import { gpuCostsFor, type CostFlagValues } from "../scenario/cost-block.ts"
import { InputError, type FileError } from "../scenario/errors.ts"
import type { ResolvedScenario } from "../scenario/resolve.ts"
import { analysePlan, planSweepPoints, type SweepOutput, type SweepPlan } from "./plan.ts"
import { runTasks, sweepTasks, type ProgressFactory } from "./run.ts"
import type { SimTask } from "./worker.ts"

export interface SweepScenarioOptions {
  readonly seeds: number
  readonly slo: SloSpec
  /** Cost flags over the scenario's cost block (text as given on the command line). */
  readonly costFlags?: CostFlagValues
  /** Where the scenario came from, for messages, and as RESULTS.json records it. */
  readonly file: string
  readonly scenario: string
  readonly maxGpus?: number
  readonly timelineInterval?: number
  /** Scenario fields set by command-line flags, with their flags: messages name the flag, not the file. */
  readonly flagged?: ReadonlyMap<string, string>
}

/** The SLO doubles as the goodput definition unless the scenario sets its own. */
export const withSloGoodput = (scenario: Readonly<Record<string, unknown>>, slo: SloSpec): Record<string, unknown> =>
  scenario.goodput === undefined
    ? {
        ...scenario,
        goodput: {
          ...(slo.ttftMs !== undefined ? { ttftMs: slo.ttftMs } : {}),
          ...(slo.tpotMs !== undefined ? { tpotMs: slo.tpotMs } : {}),
          ...(slo.e2elMs !== undefined ? { e2elMs: slo.e2elMs } : {}),
        },
      }
    : { ...scenario }

export interface PreparedSweep {
  readonly plan: SweepPlan
  /** The runs, in the plan's canonical order. */
  readonly tasks: ReadonlyArray<SimTask>
  /** Each plan point's resolved scenario (at its first seed), for the prediction intervals. */
  readonly resolved: ReadonlyArray<ResolvedScenario>
}

export const prepareSweep = (
  merged: Readonly<Record<string, unknown>>,
  givenAxes: ReadonlyArray<GridAxis>,
  o: SweepScenarioOptions,
): Effect.Effect<PreparedSweep, InputError | FileError> =>
  Effect.gen(function* () {
    const base = withSloGoodput(merged, o.slo)
    // Concurrencies with rates are vllm bench's caps (--request-rate 1,2,4 --max-concurrency 16,64): a grid
    // of caps × rates, each point arrivals at its rate with at most its cap in flight (applyPoint).
    const axes = [...givenAxes]
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

    const { planned, skipped } = yield* planSweepPoints(base, grid, swept, {
      file: o.file,
      ...(o.maxGpus !== undefined ? { maxGpus: o.maxGpus } : {}),
      ...(o.flagged !== undefined ? { flagged: o.flagged } : {}),
    })
    const gpuIds = [...new Set(planned.map((p) => p.config.gpu))]
    const costs = yield* gpuCostsFor(gpuIds, base.cost, o.costFlags ?? {}, o.file)
    const plan: SweepPlan = {
      points: planned.map((p) => ({ config: p.config, seeds: o.seeds })),
      skipped,
      costs,
      slo: o.slo,
      scenario: o.scenario,
      ...(typeof base.name === "string" ? { title: base.name } : {}),
    }
    return { plan, tasks: sweepTasks(planned, o.seeds, o.timelineInterval), resolved: planned.map((p) => p.resolved) }
  })

export interface RunSweepOptions extends SweepScenarioOptions {
  readonly workers: number
  /** The command (or call) that made the result, as RESULTS.json records it. */
  readonly createdBy: string
  readonly quiet?: boolean
  readonly progress?: ProgressFactory
}

/** The announcement before a sweep's runs. */
export const announceSweep = (plan: SweepPlan, seeds: number, total: number, share = "") => (workers: number, _runs: number) =>
  `sweep: ${share}${plan.points.length} points × ${seeds} seeds = ${total} runs on ${workers === 0 ? "the main thread" : `${workers} worker thread${workers === 1 ? "" : "s"}`}${plan.skipped.length > 0 ? ` (${plan.skipped.length} points skipped)` : ""}`

/** Plans, runs and analyses the whole sweep. */
export const sweepScenario = (
  merged: Readonly<Record<string, unknown>>,
  givenAxes: ReadonlyArray<GridAxis>,
  o: RunSweepOptions,
): Effect.Effect<SweepOutput, InputError | FileError> =>
  Effect.gen(function* () {
    const { plan, tasks } = yield* prepareSweep(merged, givenAxes, o)
    const runs = yield* runTasks(tasks, {
      workers: o.workers,
      announce: announceSweep(plan, o.seeds, tasks.length),
      ...(o.quiet !== undefined ? { quiet: o.quiet } : {}),
      ...(o.progress !== undefined ? { progress: o.progress } : {}),
    })
    const analysed = analysePlan(plan, runs, o.createdBy)
    if (!analysed.ok) return yield* new InputError({ message: analysed.error })
    return analysed.value
  })
