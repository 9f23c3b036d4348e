// A sweep in two halves. The plan: every grid point of the base scenario decoded and resolved up front
// (a point the hardware cannot run is skipped with its reason before any simulation starts), with its
// seeds, costs and SLOs. The analysis: the runs (points × seeds, in plan order) into RESULTS.json.
// `servesim sweep` does both in one process; a sharded sweep runs slices of the plan's runs on several
// machines and `servesim merge` does the analysis (shard.ts, merge.ts).
import { Effect, Result } from "effect"
import { analyzeSweep, type SweepPointInput } from "../econ/analyze-sweep.ts"
import type { GpuCostInputs } from "../econ/cost-model.ts"
import type { ParseResult } from "../econ/pareto.ts"
import type { LoadSpec, PointConfig, SeedRun } from "../econ/point.ts"
import type { SloSpec } from "../econ/saturation.ts"
import { pdUnitLabel } from "../econ/search.ts"
import { AGGREGATED, applyPoint, gpuCountOf, type AxisKey, type GridPoint } from "../econ/sweep-grid.ts"
import type { SweepResult } from "../econ/sweep-result.ts"
import { InputError, type FileError } from "../scenario/errors.ts"
import { deploymentGpus, resolveScenario, type ResolvedScenario } from "../scenario/resolve.ts"
import { decodeScenario, withFlagNames, type Scenario } from "../scenario/schema.ts"

/** Counters of a run beyond the vllm-bench metrics, for tables. */
export interface RunExtras {
  readonly num_preemptions: number
  readonly mean_kv_cache_usage: number
  readonly mean_batch_size: number
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

/** A grid point that could not run, and why. */
export interface SkippedPoint {
  readonly point: string
  readonly reason: string
}

export interface PlannedPoint {
  readonly grid: GridPoint
  readonly scenario: Record<string, unknown>
  readonly resolved: ResolvedScenario
  readonly config: PointConfig
}

const describePoint = (grid: GridPoint): string => grid.map(([k, v]) => `${k}=${v}`).join(" ") || "(the scenario)"

/** The knobs of a point that PointConfig has no field for, shown in labels and the report. */
const extrasOf = (s: Scenario, swept: ReadonlySet<AxisKey>): Record<string, string | number> => {
  const out: Record<string, string | number> = {}
  const precision = s.precision ?? "bf16"
  if (precision !== "bf16" || swept.has("precision")) out.precision = precision
  const kv = s.kvCacheDtype ?? "auto"
  if (kv !== "auto" || swept.has("kvCacheDtype")) out.kv = kv
  const w = s.workload
  if (w?.oslMultiplier !== undefined) out.oslx = w.oslMultiplier
  if (w?.prefixShare !== undefined) out.prefixShare = w.prefixShare
  const sp = s.speculative
  if (sp !== undefined) out.spec = `${sp.method} k=${sp.numTokens} a=${sp.acceptance}${sp.draftModel === undefined ? "" : ` ${sp.draftModel}`}`
  return out
}

export const pointConfigOf = (r: ResolvedScenario, load: LoadSpec, swept: ReadonlySet<AxisKey>): PointConfig => {
  const s = r.scenario
  const replicas = s.replicas ?? 1
  const extra = extrasOf(s, swept)
  const pd = r.disaggregation
  if (pd !== undefined || swept.has("disagg"))
    extra.pd = pd === undefined ? AGGREGATED : pdUnitLabel({ prefill: { replicas: pd.prefill.scenario.replicas ?? 1, tp: pd.prefill.par.tp }, decode: { replicas: pd.decode.scenario.replicas ?? 1, tp: pd.decode.par.tp } })
  return {
    gpu: r.gpu.id,
    numGpus: deploymentGpus(r).reduce((a, g) => a + g.count, 0),
    tp: r.par.tp,
    pp: r.par.pp,
    replicas,
    load,
    model: r.model.id,
    ...(swept.has("maxNumSeqs") || s.engine?.maxNumSeqs !== undefined ? { maxNumSeqs: r.engine.maxNumSeqs } : {}),
    ...(swept.has("maxNumBatchedTokens") || s.engine?.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: r.engine.maxNumBatchedTokens } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  }
}

/** Seeds of a point: the scenario's seed and the next ones (or "seed-1", … for a string seed). */
export const seedList = (base: number | string | undefined, n: number): Array<number | string> =>
  Array.from({ length: n }, (_, i) => (typeof base === "string" ? (i === 0 ? base : `${base}-${i}`) : (base ?? 0) + i))


export interface PlanOptions {
  /** Where the scenario came from, for messages. */
  readonly file: string
  /** Points that use more GPUs are skipped. */
  readonly maxGpus?: number
  /** Scenario fields set by command-line flags, with their flags (schema.ts decodeScenario). */
  readonly flagged?: ReadonlyMap<string, string>
}

/** A grid point's load: its rate (capped by its concurrency when it has both, as vllm bench) or its concurrency. */
export const gridLoad = (g: GridPoint): LoadSpec => {
  const rate = g.find(([k]) => k === "rate")
  const concurrency = g.find(([k]) => k === "concurrency")
  if (rate !== undefined)
    return { kind: "rate", value: Number(rate[1]), ...(concurrency !== undefined ? { maxConcurrency: Number(concurrency[1]) } : {}) }
  return { kind: "concurrency", value: Number(concurrency?.[1] ?? 1) }
}

/** Decodes and resolves every grid point; fails when none can run. */
export const planSweepPoints = (
  base: Record<string, unknown>,
  grid: ReadonlyArray<GridPoint>,
  swept: ReadonlySet<AxisKey>,
  o: PlanOptions,
): Effect.Effect<{ readonly planned: PlannedPoint[]; readonly skipped: SkippedPoint[] }, InputError | FileError> =>
  Effect.gen(function* () {
    const { file, maxGpus } = o
    const flagged = o.flagged ?? new Map<string, string>()
    // Check every point here (decode, resolve); points the hardware cannot run are skipped with the reason.
    const planned: PlannedPoint[] = []
    const skipped: SkippedPoint[] = []
    for (const g of grid) {
      const scenarioObj = applyPoint(base, g)
      const gpus = gpuCountOf(scenarioObj)
      if (maxGpus !== undefined && gpus > maxGpus) {
        skipped.push({ point: describePoint(g), reason: `uses ${gpus} GPUs, more than --max-gpus ${maxGpus}` })
        continue
      }
      const decoded = yield* decodeScenario(scenarioObj, file, flagged)
      const resolved = yield* Effect.result(resolveScenario(decoded))
      if (Result.isFailure(resolved)) {
        if (resolved.failure._tag === "FileError") return yield* resolved.failure
        skipped.push({ point: describePoint(g), reason: withFlagNames(resolved.failure.message, flagged) })
        continue
      }
      // A point is priced at one GPU type: P/D pools on different types would be priced wrong.
      const types = new Set(deploymentGpus(resolved.success).map((x) => x.gpu))
      if (types.size > 1) {
        skipped.push({ point: describePoint(g), reason: `the P/D pools run on different GPU types (${[...types].join(", ")}); the sweep prices one type per point (simulate prices each pool)` })
        continue
      }
      planned.push({ grid: g, scenario: scenarioObj, resolved: resolved.success, config: pointConfigOf(resolved.success, gridLoad(g), swept) })
    }
    if (planned.length === 0)
      return yield* new InputError({ message: `no grid point can run: ${skipped[0]?.point ?? ""}: ${skipped[0]?.reason ?? "empty grid"}` })
    return { planned, skipped }
  })
