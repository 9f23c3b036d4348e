// `servesim sweep [scenario] --concurrency 8,16,32 | --rate 1,2,4 [--gpu a,b] [--tp 1,2] [--replicas 1,2]
// [--max-num-seqs …] [--seeds 5] [--slo ttft:1000,tpot:50] [cost flags] [--json] [--out FILE] [--csv FILE]`:
// the cartesian grid of the list flags (or of the scenario's `sweep` block), every point run over
// several seeds on worker threads, analysed into RESULTS.json (src/econ/analyze-sweep.ts): metrics with
// 95% CIs, costs, saturation point, SLA boundary, optimal operating point and the Pareto set.
import { Command, Option } from "commander"
import { Console, Effect, Schema } from "effect"
import { writeFile } from "node:fs/promises"
import { availableParallelism } from "node:os"
import { DEFAULT_SLO, parseSloSpec, type SloSpec } from "../econ/saturation.ts"
import { AXES, AXIS_KEYS, LOAD_AXES, parseAxis, type AxisKey, type AxisValue, type GridAxis } from "../econ/sweep-grid.ts"
import { formatSweepCsv, formatSweepTable } from "../report/sweep-table.ts"
import { pickCostFlags, type CostFlagValues } from "../scenario/cost-block.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { resolveGpu, resolveModel } from "../scenario/resolve.ts"
import { formatSchemaError, readScenarioFile } from "../scenario/schema.ts"
import pkg from "../../package.json" with { type: "json" }
import { analysePlan, type SweepOutput } from "../sweep/plan.ts"
import { runTasks } from "../sweep/run.ts"
import { parseShard, shardRunIndices, sweepFingerprint, SWEEP_PART_FORMAT, SWEEP_PART_VERSION, type Shard, type SweepPart } from "../sweep/shard.ts"
import { announceSweep, prepareSweep } from "../sweep/sweep-scenario.ts"
import { sweepPointIntervals, withPointIntervals } from "../sweep/intervals.ts"
import { hasUncertainty } from "../calibrate/intervals.ts"
import { DEFAULT_INTERVAL_DRAWS, DEFAULT_INTERVAL_LEVEL } from "../calibrate/predict-interval.ts"
import { addScenarioFlags, flaggedFields, type ScenarioFlags } from "./flags.ts"
import { addIntervalFlags } from "./intervals.ts"
import { progress, type Progress } from "./progress.ts"
import { addVllmBenchLoadFlags, listAliases, scenarioWithFlags, type VllmBenchFlags } from "./vllm-bench-flags.ts"
import { defaultScenarioPath } from "./load-scenario.ts"
import { runCommand } from "./run-effect.ts"

/** The sweep's progress on stderr (src/cli/progress.ts): a line with an ETA after 2 s. */
export const progressReporter = (label: string, total: number): Progress => progress(label, total, { unit: "runs" })

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
  ["disagg", "--disagg <list>", "aggregated vs P/D disaggregated: agg and/or prefill:decode pools, e.g. agg,1xtp4:1xtp4,1xtp2:2xtp2"],
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
  shard?: string
  /** Commander's defaults (addIntervalFlags) fill these in. */
  intervalDraws?: number
  intervalLevel?: number
}

export const positiveIntFlag = (flag: string, text: string | undefined): Effect.Effect<number | undefined, InputError> => {
  if (text === undefined) return Effect.succeed(undefined)
  const n = Number(text)
  return /^\d+$/.test(text.trim()) && Number.isSafeInteger(n) && n >= 1
    ? Effect.succeed(n)
    : Effect.fail(new InputError({ message: `${flag}: "${text}" is not a positive integer` }))
}

export const nonNegativeFlag = (flag: string, text: string | undefined): Effect.Effect<number | undefined, InputError> => {
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
      // A model or GPU that does not exist is a typo, not a point the hardware cannot run: refuse it
      // up front instead of skipping its points.
      const where = flagText !== undefined ? AXES[key].flag : `${file}: sweep.${key}`
      if (key === "model") for (const v of parsed.value.values) yield* resolveModel(String(v), where)
      if (key === "gpu") for (const v of parsed.value.values) yield* resolveGpu(String(v), where)
      axes.push(parsed.value)
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
    // Fields set by flags (scalar or list), so that a bad value is reported as its flag.
    const flagged = flaggedFields(withFlags.flags)
    for (const key of AXIS_KEYS) if (flags[key] !== undefined) flagged.set(AXES[key].path.join("."), AXES[key].flag)
    const timelineInterval = timelineFlag ?? block.timelineInterval
    const { plan, tasks, resolved } = yield* prepareSweep(merged, axes, {
      seeds,
      slo,
      costFlags: pickCostFlags(flags),
      file,
      flagged,
      scenario: path ?? "scenarios/default.json",
      ...(maxGpus !== undefined ? { maxGpus } : {}),
      ...(timelineInterval !== undefined ? { timelineInterval } : {}),
    })
    const shard = yield* shardFrom(flags)
    const intervalOptions = { draws: flags.intervalDraws ?? DEFAULT_INTERVAL_DRAWS, level: flags.intervalLevel ?? DEFAULT_INTERVAL_LEVEL }
    if (shard !== undefined && intervalOptions.draws > 0)
      for (const r of resolved)
        if (yield* hasUncertainty(r))
          return yield* new InputError({ message: `--shard: prediction intervals (profile ${r.scenario.profile ?? ""} has an uncertainty block) are not computed for shards; run the sweep unsharded, or pass --interval-draws 0` })
    const selected = shard === undefined ? undefined : shardRunIndices(tasks.length, shard)
    const runs = yield* runTasks(tasks, {
      workers,
      ...(selected !== undefined ? { selected } : {}),
      announce: announceSweep(plan, seeds, tasks.length, shard === undefined ? "" : `shard ${shard.index}/${shard.count}: ${selected?.length ?? 0} of `),
      quiet: flags.quiet === true,
      progress: (label, total) => progress(label, total, { json: flags.json === true, unit: "runs" }),
    })
    const createdBy = `servesim ${process.argv.slice(2).join(" ")}`

    if (shard !== undefined && selected !== undefined) {
      const fingerprint = sweepFingerprint(pkg.version, plan, tasks.map(({ id: _id, ...t }) => t))
      const part: SweepPart = {
        format: SWEEP_PART_FORMAT,
        version: SWEEP_PART_VERSION,
        fingerprint,
        shard,
        totalRuns: tasks.length,
        plan,
        runs: runs.map((r, i) => ({ task: selected[i] ?? -1, run: r.run, extras: r.extras })),
        createdBy,
      }
      yield* writeText(flags.out ?? "", `${JSON.stringify(part)}\n`)
      yield* Console.log(`shard ${shard.index}/${shard.count}: ${runs.length} of ${tasks.length} runs written to ${flags.out ?? ""} (sweep ${fingerprint.slice(0, 12)}…); join the parts with servesim merge`)
      return
    }
    const analysed = analysePlan(plan, runs, createdBy)
    if (!analysed.ok) return yield* new InputError({ message: analysed.error })
    // analyzeSweep keeps the plan's point order (plan.ts matches extras by index the same way).
    const intervals = yield* sweepPointIntervals(resolved, intervalOptions)
    const output = intervals.every((pi) => pi === undefined)
      ? analysed.value
      : { ...analysed.value, result: { ...analysed.value.result, points: withPointIntervals(analysed.value.result.points, intervals) } }
    yield* emitSweep(output, flags)
  })

/** --shard i/n, which needs --out for the part file and writes no CSV (merge writes it). */
const shardFrom = (flags: SweepFlags): Effect.Effect<Shard | undefined, InputError> => {
  if (flags.shard === undefined) return Effect.succeed(undefined)
  const parsed = parseShard(flags.shard)
  if (!parsed.ok) return Effect.fail(new InputError({ message: parsed.error }))
  if (flags.out === undefined) return Effect.fail(new InputError({ message: "--shard needs --out PART.json: the shard's runs go to a part file for servesim merge" }))
  if (flags.csv !== undefined || flags.json === true)
    return Effect.fail(new InputError({ message: "--shard writes a part file only; --csv and --json belong to servesim merge, which analyses the whole sweep" }))
  return Effect.succeed(parsed.value)
}

/** Output of a whole sweep (unsharded or merged): --out RESULTS.json, --csv, and --json or the table. */
export const emitSweep = (output: SweepOutput, flags: { readonly out?: string; readonly csv?: string; readonly json?: boolean }) =>
  Effect.gen(function* () {
    const result = output.result
    if (flags.out !== undefined) yield* writeText(flags.out, `${JSON.stringify(result, null, 2)}\n`)
    if (flags.csv !== undefined) yield* writeText(flags.csv, formatSweepCsv(result))
    if (flags.json === true) yield* Console.log(JSON.stringify(result, null, 2))
    else yield* Console.log(formatSweepTable(output))
  })


export const writeText = (path: string, text: string): Effect.Effect<void, FileError> =>
  Effect.tryPromise({
    try: () => writeFile(path, text),
    catch: (e) => new FileError({ message: `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}` }),
  })

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
  addIntervalFlags(cmd)
  cmd
    .option("--json", "print RESULTS.json (what `servesim report` reads) instead of the table")
    .option("--out <file>", "write RESULTS.json")
    .option("--csv <file>", "write one CSV row per point")
    .option("--quiet", "no progress on stderr")
    .option("--shard <i/n>", "run only shard i of n (0-based, as JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID): every n-th run from run i; writes a part file to --out for `servesim merge`")
    .action((path: string | undefined, flags: SweepFlags) => runCommand(Effect.scoped(sweepProgram(path, flags))))
}
