// One simulation of a resolved scenario, summarised as `servesim simulate --json` prints it (vllm bench
// field names, the run's configuration, and its GPU cost). Shared by the simulate command and the
// library's `simulate()`, so both give the same result for the same scenario.
import { Effect } from "effect"
import { defaultOwnedInputs, hourlyCost, type GpuCostInputs } from "../econ/cost-model.ts"
import { runCost } from "../econ/run-cost.ts"
import { simulate } from "../sim/simulate.ts"
import type { ExtraStats } from "../sim/metrics.ts"
import { detailedArrays, summarize } from "../sim/summary.ts"
import { gpuCostsFor } from "./cost-block.ts"
import { InputError } from "./errors.ts"
import { buildSimSpec, deploymentGpus, describeRun, type ResolvedScenario } from "./resolve.ts"

export interface RunOptions {
  /** Sample KV usage and queues every this many simulated seconds. */
  readonly timelineInterval?: number
  /** USD per GPU-hour (text as given on the command line), instead of the scenario's cost block. */
  readonly cloudPrice?: string
  /** Where the scenario came from, for messages. */
  readonly source?: string
}

export type RunResult = ReturnType<typeof summarize> & { readonly cost?: ReturnType<typeof runCost> }

export interface DetailedRunOptions extends RunOptions {
  /** Statistics beyond the default set (vllm bench --metric-percentiles, client-queue metrics). */
  readonly extra?: ExtraStats
  /** Keep vllm bench's per-request arrays (--save-detailed). */
  readonly detailed?: boolean
}

/** The run, with what a vllm bench result also records: requests sent and, on request, per-request arrays. */
export interface DetailedRun {
  readonly summary: RunResult
  readonly numSent: number
  readonly detailed?: Record<string, unknown[]>
}

export const runScenario = (resolved: ResolvedScenario, o: RunOptions = {}): Effect.Effect<RunResult, InputError> =>
  Effect.map(runScenarioDetailed(resolved, o), (r) => r.summary)

export const runScenarioDetailed = (resolved: ResolvedScenario, o: DetailedRunOptions = {}): Effect.Effect<DetailedRun, InputError> =>
  Effect.gen(function* () {
    if (o.timelineInterval !== undefined && resolved.disaggregation !== undefined)
      return yield* new InputError({ message: "--timeline-interval: not available with disaggregation (the timeline samples one pool of engines)" })
    const spec = buildSimSpec(resolved)
    const withTimeline = o.timelineInterval !== undefined ? { ...spec, timelineInterval: o.timelineInterval } : spec
    const result = simulate(withTimeline, { detailed: o.detailed === true })
    const base = summarize(result, { config: { ...describeRun(resolved), seed: resolved.scenario.seed ?? 0 }, ...(o.extra !== undefined ? { extra: o.extra } : {}) })
    const detailed = o.detailed === true ? detailedArrays(result) : undefined
    const run = { numSent: result.numSent, ...(detailed !== undefined ? { detailed } : {}) }
    // GPU cost: the scenario's cost block or the cloud price, else the cited owned-cost defaults; every
    // GPU of the deployment counts (both pools when disaggregated).
    const gpus = deploymentGpus(resolved)
    const costs = yield* gpuCostsFor([...new Set(gpus.map((g) => g.gpu))], resolved.scenario.cost, o.cloudPrice !== undefined ? { cloudPrice: o.cloudPrice } : {}, o.source ?? "scenario")
    let numGpus = 0
    let usdPerHour = 0
    for (const g of gpus) {
      const owned = defaultOwnedInputs(g.gpu)
      const inputs: GpuCostInputs | undefined = costs[g.gpu] ?? (owned === undefined ? undefined : { kind: "owned", ...owned })
      if (inputs === undefined) return { ...run, summary: base }
      usdPerHour += g.count * hourlyCost(inputs).total
      numGpus += g.count
    }
    return { ...run, summary: { ...base, cost: runCost(base, numGpus, usdPerHour / numGpus, resolved.model.id) } }
  })
