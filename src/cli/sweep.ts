// `servesim sweep [scenario] --concurrency 8,16,32 | --rate 1,2,4 [--gpu a,b] [--tp 1,2] [--replicas 1,2]
// [--max-num-seqs …] [--seeds 5] [--slo ttft:1000,tpot:50] [cost flags] [--json] [--out FILE] [--csv FILE]`:
// the cartesian grid of the list flags (or of the scenario's `sweep` block), every point run over
// several seeds on worker threads, analysed into RESULTS.json (src/econ/analyze-sweep.ts): metrics with
// 95% CIs, costs, saturation point, SLA boundary, optimal operating point and the Pareto set.
import { Command, Option } from "commander"
import { Console, Effect, Result, Schema, Scope } from "effect"
import { writeFile } from "node:fs/promises"
import { availableParallelism } from "node:os"
import { Worker } from "node:worker_threads"
import { analyzeSweep, type SweepPointInput } from "../econ/analyze-sweep.ts"
import type { GpuCostInputs } from "../econ/cost-model.ts"
import type { PointConfig, SeedRun } from "../econ/point.ts"
import { DEFAULT_SLO, parseSloSpec, type SloSpec } from "../econ/saturation.ts"
import type { MetricStat } from "../econ/stats.ts"
import {
  applyPoint,
  AXIS_KEYS,
  expandGrid,
  gpuCountOf,
  LOAD_AXES,
  orderAxes,
  parseAxis,
  type AxisKey,
  type AxisValue,
  type GridAxis,
  type GridPoint,
} from "../econ/sweep-grid.ts"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"
import { resolveScenario, type ResolvedScenario } from "./build-spec.ts"
import { costReport, type CostFlags } from "./cost.ts"
import { FileError, InputError } from "./errors.ts"
import { addScenarioFlags, type ScenarioFlags } from "./flags.ts"
import { progress } from "./progress.ts"
import { addVllmBenchLoadFlags, listAliases, scenarioWithFlags, type VllmBenchFlags } from "./vllm-bench-flags.ts"
import { defaultScenarioPath } from "./load-scenario.ts"
import { runCommand } from "./run-effect.ts"
import { decodeScenario, formatSchemaError, readScenarioFile, type Scenario } from "./scenario.ts"
import { runSimTask, type RunExtras, type SimTask, type SimTaskResult } from "./sweep-worker.ts"

// ---------------------------------------------------------------------------------------------------
// Worker pool

/** Bundled (scripts/build.mjs), this module is a chunk in dist/cli/ beside the worker entry sweep-worker.js. */
const BUNDLED = !import.meta.url.endsWith(".ts")
const WORKER_URL = new URL(BUNDLED ? "./sweep-worker.js" : "./sweep-worker.ts", import.meta.url)

/** Under tsx the worker runs TypeScript: it registers tsx's loader before importing the worker module. */
const spawnWorker = (): Worker => {
  if (BUNDLED) return new Worker(WORKER_URL)
  const tsx = import.meta.resolve("tsx/esm/api")
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(code, { eval: true })
}

type OkResult = Extract<SimTaskResult, { ok: true }>

/** Simulation tasks on a fixed set of worker threads, reused across calls (the search runs rounds). */
export interface SimPool {
  /**
   * Runs the tasks and returns their results in task order (so the output does not depend on which
   * worker finished first). A task the scenario cannot run fails with its message; a crash is a defect.
   */
  readonly run: (tasks: ReadonlyArray<SimTask>, onProgress?: (done: number) => void) => Effect.Effect<OkResult[], InputError>
}

interface Job {
  readonly tasks: ReadonlyArray<SimTask>
  readonly results: Array<SimTaskResult | undefined>
  next: number
  done: number
  /** Message id → task index (ids are unique over the pool's life, so a late reply of a failed job is ignored). */
  readonly index: Map<number, number>
  readonly onProgress: ((done: number) => void) | undefined
  readonly finish: (e: Effect.Effect<void>) => void
}

const collect = (results: ReadonlyArray<SimTaskResult | undefined>): Effect.Effect<OkResult[], InputError> =>
  Effect.gen(function* () {
    const out: OkResult[] = []
    for (const r of results) {
      if (r === undefined) continue
      if (!r.ok) {
        if (r.defect === true) return yield* Effect.die(new Error(r.error))
        return yield* new InputError({ message: r.error })
      }
      out.push(r)
    }
    return out
  })

/**
 * A pool of `workers` threads (0: run in this thread, same results), started on first use and
 * terminated when the scope closes (or at once when a run is interrupted).
 */
export const makeSimPool = (workers: number): Effect.Effect<SimPool, never, Scope.Scope> =>
  Effect.gen(function* () {
    const threads: Worker[] = []
    const idle: Worker[] = []
    let job: Job | undefined
    let seq = 0
    const terminate = () => {
      for (const w of threads) void w.terminate()
      threads.length = 0
      idle.length = 0
    }
    yield* Effect.addFinalizer(() => Effect.sync(terminate))
    const feed = (w: Worker) => {
      const j = job
      const task = j?.tasks[j.next]
      if (j === undefined || task === undefined) {
        idle.push(w)
        return
      }
      const id = seq++
      j.index.set(id, j.next)
      j.next++
      w.postMessage({ ...task, id })
    }
    const spawn = () => {
      const w = spawnWorker()
      threads.push(w)
      w.on("message", (r: SimTaskResult) => {
        const j = job
        const i = j?.index.get(r.id)
        if (j === undefined || i === undefined) {
          feed(w)
          return
        }
        j.results[i] = { ...r, id: i }
        j.done++
        j.onProgress?.(j.done)
        if (!r.ok || j.done === j.tasks.length) {
          job = undefined
          idle.push(w)
          j.finish(Effect.void)
        } else feed(w)
      })
      w.on("error", (e: Error) => {
        const j = job
        job = undefined
        terminate()
        j?.finish(Effect.die(e))
      })
      return w
    }
    const run = (tasks: ReadonlyArray<SimTask>, onProgress?: (done: number) => void): Effect.Effect<OkResult[], InputError> =>
      Effect.gen(function* () {
        const results = new Array<SimTaskResult | undefined>(tasks.length)
        if (tasks.length === 0) return []
        if (workers <= 0) {
          for (const [i, task] of tasks.entries()) {
            results[i] = yield* Effect.promise(() => runSimTask({ ...task, id: i }))
            onProgress?.(i + 1)
            if (results[i]?.ok === false) break
          }
          return yield* collect(results)
        }
        yield* Effect.callback<void>((resume) => {
          job = { tasks, results, next: 0, done: 0, index: new Map(), onProgress, finish: resume }
          while (threads.length < Math.min(workers, tasks.length)) idle.push(spawn())
          for (const w of idle.splice(0)) feed(w)
          return Effect.sync(() => {
            job = undefined
            terminate()
          })
        })
        return yield* collect(results)
      })
    return { run }
  })

// ---------------------------------------------------------------------------------------------------
// Cost parameters: the scenario's `cost` block, overridden by the cost flags (as `servesim cost`).

const CostNumbers = {
  cloudPrice: Schema.optionalKey(Schema.Finite),
  /** A flat USD per GPU-hour (same as cloudPrice; e.g. the paper's owned $0.79/h). */
  usdPerGpuHour: Schema.optionalKey(Schema.Finite),
  purchasePrice: Schema.optionalKey(Schema.Finite),
  years: Schema.optionalKey(Schema.Finite),
  utilization: Schema.optionalKey(Schema.Finite),
  powerKw: Schema.optionalKey(Schema.Finite),
  pue: Schema.optionalKey(Schema.Finite),
  electricityPrice: Schema.optionalKey(Schema.Finite),
  maintenanceRate: Schema.optionalKey(Schema.Finite),
}
const CostBlock = Schema.Struct({
  ...CostNumbers,
  /** Per-GPU overrides, keyed by GPU id. */
  gpus: Schema.optionalKey(Schema.Record(Schema.String, Schema.Struct(CostNumbers))),
  note: Schema.optionalKey(Schema.String),
})
type CostNumbersType = Schema.Struct<typeof CostNumbers>["Type"]

const COST_KEYS = ["cloudPrice", "purchasePrice", "years", "utilization", "powerKw", "pue", "electricityPrice", "maintenanceRate"] as const

export type CostFlagValues = Pick<CostFlags, (typeof COST_KEYS)[number]>

const costFlagsOf = (n: CostNumbersType | undefined): CostFlagValues => {
  if (n === undefined) return {}
  const out: Record<string, string> = {}
  for (const k of COST_KEYS) {
    const v = k === "cloudPrice" ? (n.cloudPrice ?? n.usdPerGpuHour) : n[k]
    if (v !== undefined) out[k] = String(v)
  }
  return out
}

/**
 * Cost inputs per GPU id for analyzeSweep: for each GPU the scenario's cost block (general, then its
 * `gpus` entry) with the cost flags over it. GPUs with nothing given are left out (the analysis then
 * uses the cited owned-cost defaults of src/econ/cost-model.ts).
 */
export const gpuCostsFor = (
  gpuIds: ReadonlyArray<string>,
  rawBlock: unknown,
  flags: CostFlagValues,
  source: string,
): Effect.Effect<Record<string, GpuCostInputs>, InputError> =>
  Effect.gen(function* () {
    const block =
      rawBlock === undefined
        ? undefined
        : yield* Schema.decodeUnknownEffect(CostBlock)(rawBlock, { errors: "all", onExcessProperty: "error" }).pipe(
            Effect.mapError((e) => new InputError({ message: `${source}: cost.${formatSchemaError(e)}` })),
          )
    const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as CostFlagValues
    const out: Record<string, GpuCostInputs> = {}
    for (const gpu of gpuIds) {
      const merged: CostFlagValues = { ...costFlagsOf(block), ...costFlagsOf(block?.gpus?.[gpu]) }
      // A flag of the other kind (cloud vs owned) replaces the block's settings instead of clashing.
      const flagCloud = given.cloudPrice !== undefined
      const flagOwned = Object.keys(given).some((k) => k !== "cloudPrice")
      const base: CostFlagValues = flagCloud ? {} : flagOwned ? { ...merged, cloudPrice: undefined } : merged
      const all = Object.fromEntries(Object.entries({ ...base, ...given }).filter(([, v]) => v !== undefined)) as CostFlagValues
      if (Object.keys(all).length === 0) continue
      const report = yield* costReport({ gpu, ...all }).pipe(
        Effect.mapError((e) => new InputError({ message: `cost of ${gpu}: ${e.message}` })),
      )
      out[gpu] = report.inputs
    }
    return out
  })

export const COST_FLAG_HELP: ReadonlyArray<readonly [string, string]> = [
  ["--purchase-price <usd>", "P: purchase price per card, USD (owned-cost model)"],
  ["--years <n>", "Y: depreciation period, years"],
  ["--utilization <u>", "u: fraction of hours in paid use, (0, 1]"],
  ["--power-kw <kw>", "average board power, kW"],
  ["--pue <x>", "data-centre PUE, ≥ 1"],
  ["--electricity-price <usd>", "E: USD per kWh"],
  ["--maintenance-rate <m>", "m: yearly maintenance as a fraction of P"],
  ["--cloud-price <usd>", "a flat USD per GPU-hour for every GPU, instead of the owned-cost model"],
]

// ---------------------------------------------------------------------------------------------------
// The scenario's `sweep` block

const AxisList = Schema.Union([Schema.String, Schema.Array(Schema.Union([Schema.String, Schema.Finite]))])
const axisFields = Object.fromEntries(AXIS_KEYS.map((k) => [k, Schema.optionalKey(AxisList)])) as Record<AxisKey, Schema.optionalKey<typeof AxisList>>
const SweepBlock = Schema.Struct({
  ...axisFields,
  seeds: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
  slo: Schema.optionalKey(Schema.String),
  maxGpus: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThan(0))),
  timelineInterval: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
})
type SweepBlockType = Schema.Struct<typeof SweepBlock.fields>["Type"]

// ---------------------------------------------------------------------------------------------------
// Flags

/** Scenario flags that the sweep takes as comma-separated lists. */
const LIST_FLAGS: ReadonlyArray<readonly [AxisKey, string, string]> = [
  ["concurrency", "--concurrency <list>", "closed-loop loads, e.g. 8,16,32,48,64,96,128"],
  ["rate", "--rate <list>", "open-loop loads in requests/s, e.g. 1,2,4"],
  ["model", "--model <list>", "models (Hugging Face ids or config.json paths)"],
  ["gpu", "--gpu <list>", "GPU types, e.g. a800-sxm,h100-sxm"],
  ["tp", "--tp <list>", "tensor parallel sizes"],
  ["pp", "--pp <list>", "pipeline parallel sizes"],
  ["replicas", "--replicas <list>", "data-parallel replicas"],
  ["maxNumSeqs", "--max-num-seqs <list>", "vLLM max_num_seqs caps"],
  ["maxNumBatchedTokens", "--max-num-batched-tokens <list>", "vLLM max_num_batched_tokens"],
  ["precision", "--precision <list>", "weight precisions (bf16, fp16, fp8, fp4, int4)"],
  ["kvCacheDtype", "--kv-cache-dtype <list>", "KV cache dtypes (auto, fp8)"],
  ["oslMultiplier", "--osl-multiplier <list>", "output-length multipliers (reasoning models)"],
  ["prefixShare", "--prefix-share <list>", "shared-prefix fractions of the prompt, [0, 1)"],
  ["specTokens", "--spec-tokens <list>", "speculative tokens per step (with --spec-method)"],
  ["specAcceptance", "--spec-acceptance <list>", "speculative acceptance rates, [0, 1]"],
]

const listFlagLongs = new Set(LIST_FLAGS.map(([, flag]) => flag.split(" ")[0] ?? ""))

/** Adds the scenario flags that stay scalar (workload shape, engine knobs, …), as `simulate` has them. */
export const addScalarScenarioFlags = (cmd: Command, except: ReadonlySet<string>): Command => {
  const all = addScenarioFlags(new Command())
  for (const opt of all.options) if (opt.long === undefined || !except.has(opt.long)) cmd.addOption(opt)
  return cmd
}

type ListFlagValues = { [K in AxisKey]?: string }

interface SweepFlags extends Omit<ScenarioFlags, AxisKey>, Omit<VllmBenchFlags, "maxConcurrency" | "requestRate" | "tensorParallelSize">, ListFlagValues, CostFlagValues {
  maxConcurrency?: string
  requestRate?: string
  tensorParallelSize?: string
  seeds?: string
  slo?: string
  maxGpus?: string
  workers?: string
  timelineInterval?: string
  json?: boolean
  out?: string
  csv?: string
  quiet?: boolean
}

const positiveIntFlag = (flag: string, text: string | undefined): Effect.Effect<number | undefined, InputError> => {
  if (text === undefined) return Effect.succeed(undefined)
  const n = Number(text)
  return /^\d+$/.test(text.trim()) && Number.isSafeInteger(n) && n >= 1
    ? Effect.succeed(n)
    : Effect.fail(new InputError({ message: `${flag}: "${text}" is not a positive integer` }))
}

const nonNegativeFlag = (flag: string, text: string | undefined): Effect.Effect<number | undefined, InputError> => {
  if (text === undefined) return Effect.succeed(undefined)
  const n = Number(text)
  return text.trim() !== "" && Number.isFinite(n) && n >= 0
    ? Effect.succeed(n)
    : Effect.fail(new InputError({ message: `${flag}: "${text}" is not a number ≥ 0` }))
}

export const sloFrom = (text: string | undefined, where: string): Effect.Effect<SloSpec, InputError> => {
  if (text === undefined) return Effect.succeed(DEFAULT_SLO)
  const r = parseSloSpec(text)
  return r.ok ? Effect.succeed(r.value) : Effect.fail(new InputError({ message: `${where}: ${r.error}` }))
}

/** The scenario flags of a command's flag object, without the ones the command takes as lists. */
export const scalarScenarioFlags = (flags: Readonly<Record<string, unknown>>, listKeys: ReadonlyArray<string>): ScenarioFlags => {
  const out: Record<string, unknown> = { ...flags }
  for (const k of listKeys) delete out[k]
  return out as ScenarioFlags
}

// ---------------------------------------------------------------------------------------------------
// The sweep

/** A grid point that could not run, and why. */
export interface SkippedPoint {
  readonly point: string
  readonly reason: string
}

interface PlannedPoint {
  readonly grid: GridPoint
  readonly scenario: Record<string, unknown>
  readonly resolved: ResolvedScenario
  readonly config: PointConfig
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x)

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

export const pointConfigOf = (r: ResolvedScenario, load: { kind: "concurrency" | "rate"; value: number }, swept: ReadonlySet<AxisKey>): PointConfig => {
  const s = r.scenario
  const replicas = s.replicas ?? 1
  const extra = extrasOf(s, swept)
  return {
    gpu: r.gpu.id,
    numGpus: r.par.tp * r.par.pp * replicas,
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

export interface SweepOutput {
  readonly result: SweepResult
  readonly skipped: ReadonlyArray<SkippedPoint>
  /** Extra counters per point id (means over seeds). */
  readonly extras: Readonly<Record<string, RunExtras>>
}

/** A point's scenario with at most `cap` requests in flight (its open loop's concurrency cap). */
const withCap = (scenario: Record<string, unknown>, cap: number): Record<string, unknown> => ({
  ...scenario,
  workload: { ...(isRecord(scenario.workload) ? scenario.workload : {}), concurrency: cap },
})

const sweepProgram = (path: string | undefined, given: SweepFlags) =>
  Effect.gen(function* () {
    const flags = listAliases(given, [
      ["concurrency", "maxConcurrency", "--concurrency", "--max-concurrency"],
      ["rate", "requestRate", "--rate", "--request-rate"],
      ["tp", "tensorParallelSize", "--tp", "--tensor-parallel-size"],
    ])
    if (typeof flags === "string") return yield* new InputError({ message: flags })
    const file = path ?? defaultScenarioPath
    const raw = yield* readScenarioFile(file)
    const block: SweepBlockType =
      raw.sweep === undefined
        ? {}
        : yield* Schema.decodeUnknownEffect(SweepBlock)(raw.sweep, { errors: "all", onExcessProperty: "error" }).pipe(
            Effect.mapError((e) => new InputError({ message: `${file}: sweep.${formatSchemaError(e)}` })),
          )

    // Axes: a list flag replaces the block's list; a load flag replaces the block's loads of both kinds.
    const loadFlagGiven = LOAD_AXES.some((k) => flags[k] !== undefined)
    const axes: GridAxis[] = []
    for (const key of AXIS_KEYS) {
      const flagText = flags[key]
      const blockValue = LOAD_AXES.includes(key) && loadFlagGiven ? undefined : block[key]
      const parsed =
        flagText !== undefined
          ? parseAxis(key, flagText)
          : blockValue !== undefined
            ? parseAxis(key, blockValue as string | ReadonlyArray<AxisValue>, `${file}: sweep.${key}`)
            : undefined
      if (parsed === undefined) continue
      if (!parsed.ok) return yield* new InputError({ message: parsed.error })
      axes.push(parsed.value)
    }
    // One concurrency with rates is vllm bench's cap on each rate (--request-rate 1,2,4 --max-concurrency 64).
    let cap: number | undefined
    const concurrencyAxis = axes.find((a) => a.key === "concurrency")
    if (concurrencyAxis !== undefined && axes.some((a) => a.key === "rate")) {
      if (concurrencyAxis.values.length !== 1)
        return yield* new InputError({ message: "give either --concurrency or --rate (closed or open loop), not both lists (one --concurrency/--max-concurrency value with --rate caps each rate)" })
      cap = Number(concurrencyAxis.values[0])
      axes.splice(axes.indexOf(concurrencyAxis), 1)
    }

    const seeds = (yield* positiveIntFlag("--seeds", flags.seeds)) ?? block.seeds ?? 5
    const maxGpus = (yield* positiveIntFlag("--max-gpus", flags.maxGpus)) ?? block.maxGpus
    const workers = (yield* nonNegativeFlag("--workers", flags.workers)) ?? availableParallelism()
    if (!Number.isInteger(workers)) return yield* new InputError({ message: `--workers: "${flags.workers}" is not an integer` })
    const timelineFlag = yield* nonNegativeFlag("--timeline-interval", flags.timelineInterval)
    const slo = yield* sloFrom(flags.slo ?? block.slo, flags.slo !== undefined ? "--slo" : `${file}: sweep.slo`)

    // The base scenario: the file (without its sweep block) with the scalar flags merged over it.
    const scalar = scalarScenarioFlags(flags as Record<string, unknown>, AXIS_KEYS)
    const { sweep: _sweep, ...fileScenario } = raw
    const withFlags = scenarioWithFlags(fileScenario, scalar, path !== undefined, given.maxConcurrency !== undefined || given.requestRate !== undefined)
    if (typeof withFlags === "string") return yield* new InputError({ message: withFlags })
    const merged = withFlags.scenario
    // The SLO doubles as the goodput definition unless the scenario sets its own.
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
        : merged

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

    // Check every point here (decode, resolve); points the hardware cannot run are skipped with the reason.
    const planned: PlannedPoint[] = []
    const skipped: SkippedPoint[] = []
    for (const g of grid) {
      const scenarioObj = cap === undefined ? applyPoint(base, g) : withCap(applyPoint(base, g), cap)
      const gpus = gpuCountOf(scenarioObj)
      if (maxGpus !== undefined && gpus > maxGpus) {
        skipped.push({ point: describePoint(g), reason: `uses ${gpus} GPUs, more than --max-gpus ${maxGpus}` })
        continue
      }
      const decoded = yield* decodeScenario(scenarioObj, file)
      const resolved = yield* Effect.result(resolveScenario(decoded))
      if (Result.isFailure(resolved)) {
        if (resolved.failure._tag === "FileError") return yield* resolved.failure
        skipped.push({ point: describePoint(g), reason: resolved.failure.message })
        continue
      }
      const loadEntry = g.find(([k]) => LOAD_AXES.includes(k))
      const load = { kind: loadEntry?.[0] === "rate" ? ("rate" as const) : ("concurrency" as const), value: Number(loadEntry?.[1] ?? 1) }
      planned.push({ grid: g, scenario: scenarioObj, resolved: resolved.success, config: pointConfigOf(resolved.success, load, swept) })
    }
    if (planned.length === 0)
      return yield* new InputError({ message: `no grid point can run: ${skipped[0]?.point ?? ""}: ${skipped[0]?.reason ?? "empty grid"}` })

    // Cost model per GPU type.
    const gpuIds = [...new Set(planned.map((p) => p.config.gpu))]
    const costs = yield* gpuCostsFor(gpuIds, raw.cost, pickCostFlags(flags), file)

    // Tasks: points × seeds; the first seed of each point records the KV timeline.
    const tasks: SimTask[] = []
    for (const p of planned) {
      const timeline = timelineFlag ?? block.timelineInterval ?? p.resolved.scenario.timelineInterval ?? 1
      for (const [i, seed] of seedList(p.resolved.scenario.seed, seeds).entries())
        tasks.push({ id: tasks.length, scenario: p.scenario, seed, timelineInterval: i === 0 ? timeline : 0 })
    }
    const quiet = flags.quiet === true
    if (!quiet) {
      const w = Math.min(workers, tasks.length)
      yield* Effect.sync(() =>
        process.stderr.write(
          `sweep: ${planned.length} points × ${seeds} seeds = ${tasks.length} runs on ${w === 0 ? "the main thread" : `${w} worker thread${w === 1 ? "" : "s"}`}${skipped.length > 0 ? ` (${skipped.length} points skipped)` : ""}\n`,
        ),
      )
    }
    if (!quiet && cap !== undefined) yield* Effect.sync(() => process.stderr.write(`sweep: each rate capped at ${cap} requests in flight (vllm bench --max-concurrency)\n`))
    const bar = progress("sweep", tasks.length, { quiet, json: flags.json === true, unit: "runs" })
    const pool = yield* makeSimPool(workers)
    const results = yield* pool.run(tasks, (done) => bar.tick(done))
    bar.end()

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
      costs,
      slo,
      createdBy: `servesim ${process.argv.slice(2).join(" ")}`,
      scenario: path ?? "scenarios/default.json",
      ...(typeof base.name === "string" ? { title: base.name } : {}),
    })
    if (!analysed.ok) return yield* new InputError({ message: analysed.error })
    const result = analysed.value
    const extras = Object.fromEntries(result.points.map((pt, i) => [pt.id, extrasPerPoint[i] ?? meanExtras([])]))
    const output: SweepOutput = { result, skipped, extras }

    if (flags.out !== undefined) yield* writeText(flags.out, `${JSON.stringify(result, null, 2)}\n`)
    if (flags.csv !== undefined) yield* writeText(flags.csv, formatSweepCsv(result))
    if (flags.json === true) yield* Console.log(JSON.stringify(result, null, 2))
    else yield* Console.log(formatSweepTable(output))
  })

const pickCostFlags = (f: SweepFlags): CostFlagValues => {
  const out: Record<string, string> = {}
  for (const k of COST_KEYS) {
    const v = f[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

const meanExtras = (xs: ReadonlyArray<RunExtras>): RunExtras => {
  const m = (get: (e: RunExtras) => number) => (xs.length === 0 ? 0 : xs.reduce((s, e) => s + get(e), 0) / xs.length)
  return {
    num_preemptions: m((e) => e.num_preemptions),
    mean_kv_cache_usage: m((e) => e.mean_kv_cache_usage),
    mean_batch_size: m((e) => e.mean_batch_size),
  }
}

export const writeText = (path: string, text: string): Effect.Effect<void, FileError> =>
  Effect.tryPromise({
    try: () => writeFile(path, text),
    catch: (e) => new FileError({ message: `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}` }),
  })

// ---------------------------------------------------------------------------------------------------
// Output

const sig = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return "–"
  const a = Math.abs(x)
  if (a >= 10 ** digits) return x.toFixed(0)
  if (a === 0) return "0"
  return Number(x.toPrecision(digits)).toString()
}

/** "mean ±half-width" of a 95% CI (the half-width omitted with one seed). */
const withCi = (s: MetricStat, digits = 3): string => (s.n < 2 ? sig(s.mean, digits) : `${sig(s.mean, digits)} ±${sig(s.ciHigh - s.mean, 2)}`)

const loadText = (p: SweepPoint): string => (p.config.load.kind === "concurrency" ? `c=${p.config.load.value}` : `${p.config.load.value}/s`)

const marks = (p: SweepPoint): string =>
  [p.flags.saturation ? "S" : "", p.flags.slaBoundary ? "B" : "", p.flags.optimal ? "O" : "", p.flags.pareto ? "P" : ""].join("")

const pad = (s: string, n: number, right = false): string => (right ? s.padStart(n) : s.padEnd(n))

const sloText = (slo: SloSpec): string => {
  const parts: string[] = []
  if (slo.ttftMs !== undefined) parts.push(`TTFT ≤ ${slo.ttftMs} ms`)
  if (slo.tpotMs !== undefined) parts.push(`TPOT ≤ ${slo.tpotMs} ms (≥ ${sig(1000 / slo.tpotMs)} tok/s per request)`)
  if (slo.e2elMs !== undefined) parts.push(`E2E ≤ ${slo.e2elMs} ms`)
  return `${parts.join(", ")} (${slo.stat})`
}

const describe = (p: SweepPoint | undefined): string => {
  if (p === undefined) return "none"
  return `${p.id} ${p.label}: ${sig(p.metrics.output_throughput.mean)} out tok/s, TTFT ${sig(p.metrics.mean_ttft_ms.mean)} ms, TPOT ${sig(p.metrics.mean_tpot_ms.mean)} ms, $${sig(p.cost.usdPerMOutput.mean)}/1M output tokens`
}

export const formatSweepTable = (o: SweepOutput): string => {
  const r = o.result
  const byId = new Map(r.points.map((p) => [p.id, p]))
  const lines: string[] = []
  if (r.title !== undefined) lines.push(r.title)
  const seeds = r.points[0]?.seeds.length ?? 0
  lines.push(`${r.points.length} point${r.points.length === 1 ? "" : "s"} × ${seeds} seed${seeds === 1 ? "" : "s"}; mean ±95% CI half-width over seeds; SLO ${sloText(r.slo)}`)
  for (const g of r.gpuCosts) {
    const b = g.breakdown
    const how =
      b.kind === "cloud"
        ? "flat rate"
        : `owned: depreciation $${b.depreciation.toFixed(4)} + power $${b.power.toFixed(4)} + maintenance $${b.maintenance.toFixed(4)}`
    lines.push(`  ${g.gpu}: $${b.total.toFixed(4)} per GPU-hour (${how})`)
  }
  const head = [
    pad("id", 4),
    pad("load", 8),
    pad("req/s", 14, true),
    pad("out tok/s", 16, true),
    pad("TTFT ms", 16, true),
    pad("TPOT ms", 14, true),
    pad("tok/s/req", 10, true),
    pad("$/1M out", 16, true),
    pad("$/1M in", 9, true),
    pad("KV %", 6, true),
    pad("SLO", 5, true),
    "  marks",
  ].join(" ")
  for (const s of r.series) {
    lines.push("")
    lines.push(s.label)
    lines.push(head)
    for (const id of s.pointIds) {
      const p = byId.get(id)
      if (p === undefined) continue
      const ex = o.extras[id]
      lines.push(
        [
          pad(p.id, 4),
          pad(loadText(p), 8),
          pad(withCi(p.metrics.request_throughput), 14, true),
          pad(withCi(p.metrics.output_throughput, 4), 16, true),
          pad(withCi(p.metrics.mean_ttft_ms), 16, true),
          pad(withCi(p.metrics.mean_tpot_ms), 14, true),
          pad(sig(p.serialTokensPerSecond), 10, true),
          pad(withCi(p.cost.usdPerMOutput), 16, true),
          pad(sig(p.cost.usdPerMInput.mean), 9, true),
          pad(ex === undefined ? "–" : (100 * ex.mean_kv_cache_usage).toFixed(1), 6, true),
          pad(p.flags.meetsSlo ? "ok" : "miss", 5, true),
          `  ${marks(p)}`,
        ].join(" "),
      )
    }
    lines.push(`  saturation point: ${s.saturationPointId === undefined ? "not reached (throughput still grows at the highest load)" : describe(byId.get(s.saturationPointId))}`)
    lines.push(`  SLA boundary: ${s.slaBoundaryPointId === undefined ? "none (the lowest load already misses the SLOs)" : describe(byId.get(s.slaBoundaryPointId))}`)
    const over = s.pointIds.map((id) => byId.get(id)).find((p) => p !== undefined && !p.flags.meetsSlo)
    if (over !== undefined) lines.push(`  first miss: ${over.id} ${loadText(over)}: ${over.flags.sloViolations.join("; ")}`)
  }
  lines.push("")
  const opt = r.summary.optimalPointId === undefined ? undefined : byId.get(r.summary.optimalPointId)
  lines.push(`optimal operating point (lowest $/1M output tokens meeting the SLOs): ${opt === undefined ? "none — no point meets the SLOs" : describe(opt)}`)
  lines.push("Pareto set ($/1M output tokens vs tokens/s per request):")
  for (const id of r.summary.paretoPointIds) {
    const p = byId.get(id)
    if (p !== undefined) lines.push(`  ${p.id} ${p.label}: ${sig(p.serialTokensPerSecond)} tok/s/request at $${sig(p.cost.usdPerMOutput.mean)}/1M`)
  }
  if (o.skipped.length > 0) {
    // One line per configuration and reason, with the loads it covers.
    const groups = new Map<string, { config: string; reason: string; loads: string[] }>()
    for (const s of o.skipped) {
      const parts = s.point.split(" ")
      const loads = parts.filter((x) => /^(concurrency|rate)=/.test(x))
      const config = parts.filter((x) => !/^(concurrency|rate)=/.test(x)).join(" ") || "(the scenario)"
      const key = `${config}\u0000${s.reason}`
      const g = groups.get(key) ?? { config, reason: s.reason, loads: [] }
      g.loads.push(...loads.map((x) => x.replace(/^concurrency=/, "c=").replace(/^rate=(.*)$/, "$1/s")))
      groups.set(key, g)
    }
    lines.push("skipped:")
    for (const g of groups.values()) lines.push(`  ${g.config}${g.loads.length > 0 ? ` (${g.loads.join(", ")})` : ""}: ${g.reason}`)
  }
  lines.push("marks: S saturation point · B SLA boundary · O optimal operating point · P Pareto set")
  return lines.join("\n")
}

const csvField = (v: string | number | boolean | undefined): string => {
  if (v === undefined) return ""
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

const CSV_METRICS = [
  "request_throughput",
  "output_throughput",
  "mean_ttft_ms",
  "median_ttft_ms",
  "p99_ttft_ms",
  "mean_tpot_ms",
  "p99_tpot_ms",
  "mean_itl_ms",
  "p99_itl_ms",
  "mean_e2el_ms",
  "p99_e2el_ms",
] as const

/** One row per point: configuration, metrics (mean and CI bounds), costs, flags. */
export const formatSweepCsv = (r: SweepResult): string => {
  const header = [
    "id",
    "series",
    "model",
    "gpu",
    "num_gpus",
    "tp",
    "pp",
    "replicas",
    "max_num_seqs",
    "extra",
    "load_kind",
    "load",
    "seeds",
    ...CSV_METRICS.flatMap((m) => [`${m}`, `${m}_ci_low`, `${m}_ci_high`]),
    "serial_tok_s_per_request",
    "usd_per_m_output",
    "usd_per_m_output_ci_low",
    "usd_per_m_output_ci_high",
    "usd_per_m_input",
    "usd_per_m_total",
    "usd_per_request",
    "run_cost_usd",
    "gpu_hour_usd",
    "meets_slo",
    "slo_violations",
    "saturation",
    "sla_boundary",
    "optimal",
    "pareto",
  ]
  const rows = r.points.map((p) => {
    const c = p.config
    const extra = Object.entries(c.extra ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")
    return [
      p.id,
      p.series,
      c.model,
      c.gpu,
      c.numGpus,
      c.tp,
      c.pp,
      c.replicas,
      c.maxNumSeqs,
      extra,
      c.load.kind,
      c.load.value,
      p.seeds.length,
      ...CSV_METRICS.flatMap((m) => [p.metrics[m].mean, p.metrics[m].ciLow, p.metrics[m].ciHigh]),
      p.serialTokensPerSecond,
      p.cost.usdPerMOutput.mean,
      p.cost.usdPerMOutput.ciLow,
      p.cost.usdPerMOutput.ciHigh,
      p.cost.usdPerMInput.mean,
      p.cost.usdPerMTotal.mean,
      p.cost.usdPerRequest.mean,
      p.cost.runCostUsd.mean,
      p.cost.gpuHourUsd,
      p.flags.meetsSlo,
      p.flags.sloViolations.join("; "),
      p.flags.saturation,
      p.flags.slaBoundary,
      p.flags.optimal,
      p.flags.pareto,
    ]
      .map(csvField)
      .join(",")
  })
  return `${[header.join(","), ...rows].join("\n")}\n`
}

// ---------------------------------------------------------------------------------------------------

export const register = (cli: Command): void => {
  const cmd = cli
    .command("sweep")
    .description("run a grid of loads × configurations over several seeds in parallel: metrics with 95% CIs, cost, saturation point, SLA boundary, optimal point, Pareto set")
    .argument("[scenario]", "scenario file (JSON or YAML), optionally with a `sweep` block; default scenarios/default.json")
    .showHelpAfterError(false)
  for (const [, flag, help] of LIST_FLAGS) cmd.option(flag, `${help} (comma-separated)`)
  addScalarScenarioFlags(cmd, listFlagLongs)
  addVllmBenchLoadFlags(cmd, { listLoad: true, listTp: true })
  cmd
    .option("--seeds <n>", "seeds per point (default 5, or sweep.seeds)")
    .option("--slo <spec>", "SLOs, e.g. ttft:1000,tpot:50[,e2el:MS][,stat:mean|median|p99] (default ttft:1000,tpot:50)")
    .option("--max-gpus <n>", "leave out grid points that use more GPUs (tp × pp × replicas)")
    .option("--workers <n>", "worker threads (default: CPU count; 0 = run in this thread)")
    .option("--timeline-interval <s>", "KV-usage sample interval of each point's first seed, simulated seconds (default 1; 0 = off)")
  for (const [flag, help] of COST_FLAG_HELP) cmd.addOption(new Option(flag, help))
  cmd
    .option("--json", "print RESULTS.json (what `servesim report` reads) instead of the table")
    .option("--out <file>", "write RESULTS.json")
    .option("--csv <file>", "write one CSV row per point")
    .option("--quiet", "no progress on stderr")
    .action((path: string | undefined, flags: SweepFlags) => runCommand(Effect.scoped(sweepProgram(path, flags))))
}
