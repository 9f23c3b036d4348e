// `vllm bench serve`'s own flags, accepted as aliases of servesim's so a benchmark command line runs
// with its host flags (--host/--port/--base-url) swapped for --model/--gpu. Names, defaults and meaning
// follow vllm/benchmarks/serve.py and vllm/benchmarks/datasets/arg_utils.py; each maps onto a scenario
// flag or field, and giving both spellings with different values is refused.
import { Command, InvalidArgumentError, Option } from "commander"
import { PERCENTILE_METRICS, type PercentileMetric } from "../scenario/bench-result.ts"
import { burstinessOption, decimal, flagsToScenario, nonNegativeInt, positiveInt, rateValue, workloadKindOverride, type ScenarioFlags } from "./flags.ts"
import { mergeScenario } from "../scenario/schema.ts"

export interface VllmBenchFlags {
  maxConcurrency?: number
  requestRate?: number | "inf"
  numPrompts?: number
  tensorParallelSize?: number
  datasetName?: "random" | "sharegpt" | "prefix_repetition" | "custom"
  datasetPath?: string
  inputLen?: number
  outputLen?: number
  randomInputLen?: number
  randomOutputLen?: number
  randomRangeRatio?: number
  randomPrefixLen?: number
  prefixRepetitionPrefixLen?: number
  prefixRepetitionSuffixLen?: number
  prefixRepetitionNumPrefixes?: number
  prefixRepetitionOutputLen?: number
  sharegptOutputLen?: number
  customOutputLen?: number
}

/** --percentile-metrics: comma-separated names from vllm's list (default ttft,tpot,itl). */
export const percentileMetricsSpec = (v: string): PercentileMetric[] => {
  const names = v.split(",").map((s) => s.trim())
  for (const n of names)
    if (!(PERCENTILE_METRICS as ReadonlyArray<string>).includes(n)) throw new InvalidArgumentError(`"${n}" is not one of ${PERCENTILE_METRICS.join(", ")}`)
  return names as PercentileMetric[]
}

/** --metric-percentiles: comma-separated percentiles in [0, 100] (default 99). */
export const metricPercentilesSpec = (v: string): number[] =>
  v.split(",").map((s) => {
    const n = decimal(s)
    if (!Number.isFinite(n) || n < 0 || n > 100) throw new InvalidArgumentError("expected comma-separated percentiles in [0, 100], e.g. 50,90,99")
    return n
  })

/** vllm bench's --metadata KEY=VALUE pairs (recorded after num_prompts, values as strings). */
export const metadataSpec = (v: string, previous: Record<string, string> | undefined): Record<string, string> => {
  const i = v.indexOf("=")
  if (i <= 0) throw new InvalidArgumentError("expected KEY=VALUE pairs, e.g. version=0.11.0 tp=1")
  return { ...previous, [v.slice(0, i).trim()]: v.slice(i + 1).trim() }
}

/** What addVllmBenchResultFlags (and --goodput, flags.ts goodputOption) parse. */
export interface VllmBenchResultFlags {
  readonly percentileMetrics?: ReadonlyArray<PercentileMetric>
  readonly metricPercentiles?: ReadonlyArray<number>
  readonly saveResult?: boolean
  readonly saveDetailed?: boolean
  readonly resultDir?: string
  readonly resultFilename?: string
  readonly label?: string
  readonly metadata?: Record<string, string>
}

/** The help texts that differ between simulate and probe. */
export interface ResultFlagHelp {
  readonly saveResult: string
  readonly saveDetailed: string
  readonly resultDir: string
}

/** vllm bench's result flags (one definition: simulate and probe). */
export const addVllmBenchResultFlags = (cmd: Command, help: ResultFlagHelp): Command =>
  cmd
    .option("--percentile-metrics <list>", "vllm bench: metrics whose percentiles the result lists (ttft,tpot,itl,e2el,client_queue_time,e2el_including_client_queue; default ttft,tpot,itl)", percentileMetricsSpec)
    .option("--metric-percentiles <list>", "vllm bench: percentiles to list, e.g. 50,90,99.9 (default 99; p50/p90/p95/p99 are always there)", metricPercentilesSpec)
    .option("--save-result", help.saveResult)
    .option("--save-detailed", help.saveDetailed)
    .option("--result-dir <dir>", help.resultDir)
    .option("--result-filename <name>", "vllm bench: file name for --save-result")
    .option("--label <label>", "vllm bench: the result's label and filename prefix (default the backend)")
    .option("--metadata <KEY=VALUE...>", "vllm bench: fields recorded in the result (e.g. version=0.11.0 gpu=h100)", metadataSpec)

/** The statistics --percentile-metrics/--metric-percentiles asked for, as vllm bench prints them (none when neither was given). */
export const selectedStatLines = (bench: Record<string, unknown>, o: { readonly percentileMetrics?: ReadonlyArray<PercentileMetric>; readonly metricPercentiles?: ReadonlyArray<number> }): string[] => {
  if (o.percentileMetrics === undefined && o.metricPercentiles === undefined) return []
  const out: string[] = []
  const line = (name: string, v: unknown) => {
    if (typeof v === "number") out.push(`${`${name} (ms):`.padEnd(40)} ${v.toFixed(2)}`)
  }
  for (const m of o.percentileMetrics ?? ["ttft", "tpot", "itl"]) {
    const label = m.toUpperCase()
    line(`Mean ${label}`, bench[`mean_${m}_ms`])
    line(`Median ${label}`, bench[`median_${m}_ms`])
    for (const p of o.metricPercentiles ?? [99]) line(`P${String(p)} ${label}`, bench[`p${String(p)}_${m}_ms`])
  }
  return out
}

/** vllm's --random-range-ratio: a number in [0, 1). */
const rangeRatio = (v: string): number => {
  const n = decimal(v)
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError("expected a number in [0, 1)")
  return n
}

/** The load and dataset flags of vllm bench (scalar values: simulate, search, validate's scenario). */
export const addVllmBenchLoadFlags = (cmd: Command, o: { readonly listLoad?: boolean; readonly listTp?: boolean } = {}): Command => {
  // sweep's loads and search's/sweep's TPs are lists, like their --concurrency/--rate/--tp.
  if (o.listLoad === true)
    cmd
      .option("--max-concurrency <list>", "vllm bench's name for --concurrency (comma-separated)")
      .option("--request-rate <list>", "vllm bench's name for --rate (comma-separated)")
  else
    cmd
      .option("--max-concurrency <n>", "vllm bench: at most N requests in flight; alone a closed loop, with --request-rate a cap on it (alias of --concurrency)", positiveInt)
      .option("--request-rate <r>", "vllm bench: requests/s (gamma arrivals with --burstiness), or inf = all at once (alias of --rate)", rateValue)
  if (o.listTp === true) cmd.option("--tensor-parallel-size <list>", "vLLM's name for --tp (comma-separated)")
  else cmd.option("--tensor-parallel-size <n>", "vLLM's name for --tp", positiveInt)
  return addVllmBenchDatasetFlags(cmd.option("--num-prompts <n>", "vllm bench: requests to send (alias of --num-requests; default 1000)", positiveInt))
}

/** vllm bench's dataset flags (one definition: simulate, sweep, search, validate's scenario and probe). */
export const addVllmBenchDatasetFlags = (cmd: Command): Command =>
  cmd
    .addOption(
      new Option("--dataset-name <name>", "vllm bench dataset: random (default when other vllm bench flags are given), sharegpt, prefix_repetition, custom").choices([
        "random",
        "sharegpt",
        "prefix_repetition",
        "custom",
      ]),
    )
    .option("--dataset-path <file>", "vllm bench: the ShareGPT JSON or custom JSONL file (tokens estimated as characters / 4)")
    .option("--input-len <n>", "vllm bench: maps to --random-input-len", positiveInt)
    .option("--output-len <n>", "vllm bench: maps to the dataset's output length", positiveInt)
    .option("--random-input-len <n>", "vllm bench random dataset: prompt tokens (default 1024)", positiveInt)
    .option("--random-output-len <n>", "vllm bench random dataset: output tokens (default 128)", positiveInt)
    .option("--random-range-ratio <r>", "vllm bench random dataset: lengths uniform in [L·(1−r), L·(1+r)] (default 0)", rangeRatio)
    .option("--random-prefix-len <n>", "vllm bench random dataset: one shared prefix of N tokens before each prompt (default 0)", nonNegativeInt)
    .option("--prefix-repetition-prefix-len <n>", "vllm bench prefix_repetition: prefix tokens (default 256)", positiveInt)
    .option("--prefix-repetition-suffix-len <n>", "vllm bench prefix_repetition: suffix tokens (default 256)", positiveInt)
    .option("--prefix-repetition-num-prefixes <n>", "vllm bench prefix_repetition: distinct prefixes (default 10)", positiveInt)
    .option("--prefix-repetition-output-len <n>", "vllm bench prefix_repetition: output tokens (default 128)", positiveInt)
    .option("--sharegpt-output-len <n>", "vllm bench sharegpt: every request's output tokens (default: the reply's)", positiveInt)
    .option("--custom-output-len <n>", "vllm bench custom: output tokens per request (default 256)", positiveInt)

/** What the vllm bench flags amount to: our flags, plus workload fields no flag of ours sets. */
export interface VllmBenchMapping {
  readonly flags: ScenarioFlags
  /** Merged over the scenario's workload (prefix, dataset). */
  readonly workload: Record<string, unknown>
  /** Workload fields of the scenario file that the dataset replaces. */
  readonly dropWorkload: ReadonlyArray<string>
  /** What was assumed, for the result's notes. */
  readonly notes: ReadonlyArray<string>
}

const RANDOM_KEYS = ["randomInputLen", "randomOutputLen", "randomRangeRatio", "randomPrefixLen", "inputLen"] as const
const PREFIX_KEYS = ["prefixRepetitionPrefixLen", "prefixRepetitionSuffixLen", "prefixRepetitionNumPrefixes", "prefixRepetitionOutputLen"] as const

/** Both spellings of one setting: the value, or an error when they disagree. */
const alias = <T>(ours: T | undefined, theirs: T | undefined, ourFlag: string, theirFlag: string): T | undefined | { error: string } => {
  if (ours !== undefined && theirs !== undefined && ours !== theirs) return { error: `${theirFlag} ${String(theirs)} and ${ourFlag} ${String(ours)} name the same setting: give one` }
  return ours ?? theirs
}

const isError = (v: unknown): v is { error: string } => typeof v === "object" && v !== null && "error" in v

/** vllm's random-dataset length bounds: integers in [floor(L·(1−r)), ceil(L·(1+r))] (at least 1). */
const randomLength = (len: number, r: number): unknown => {
  if (r === 0) return len
  return { kind: "uniform", min: Math.max(1, Math.floor(len * (1 - r))), max: Math.max(1, Math.ceil(len * (1 + r))) }
}

/**
 * Maps vllm bench flags onto ours. `scenarioFile`: a scenario file was named (its lengths stay unless a
 * dataset flag is given); without one, any vllm bench flag selects vllm's default dataset, random 1024/128.
 */
export const vllmBenchMapping = (
  f: ScenarioFlags & VllmBenchFlags,
  scenarioFile: boolean,
  benchLoad: boolean = f.maxConcurrency !== undefined || f.requestRate !== undefined,
): VllmBenchMapping | string => {
  const concurrency = alias(f.concurrency, f.maxConcurrency, "--concurrency", "--max-concurrency")
  if (isError(concurrency)) return concurrency.error
  const rate = alias(f.rate, f.requestRate, "--rate", "--request-rate")
  if (isError(rate)) return rate.error
  const numRequests = alias(f.numRequests, f.numPrompts, "--num-requests", "--num-prompts")
  if (isError(numRequests)) return numRequests.error
  const tp = alias(f.tp, f.tensorParallelSize, "--tp", "--tensor-parallel-size")
  if (isError(tp)) return tp.error
  const flags: ScenarioFlags = {
    ...f,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(rate !== undefined ? { rate } : {}),
    ...(numRequests !== undefined ? { numRequests } : {}),
    ...(tp !== undefined ? { tp } : {}),
  }
  const notes: string[] = []
  const usedRandom = RANDOM_KEYS.some((k) => f[k] !== undefined)
  const usedPrefix = PREFIX_KEYS.some((k) => f[k] !== undefined)
  const anyBench =
    benchLoad || f.numPrompts !== undefined || f.datasetName !== undefined || f.outputLen !== undefined || usedRandom || usedPrefix
  const ourLengths = f.isl !== undefined || f.osl !== undefined || f.workload !== undefined || f.trace !== undefined
  let name = f.datasetName
  if (name === undefined && usedPrefix) name = "prefix_repetition"
  if (name === undefined && (usedRandom || (anyBench && !scenarioFile && !ourLengths))) name = "random"
  if (name === undefined) return { flags, workload: {}, dropWorkload: [], notes }
  if (ourLengths) return `--dataset-name ${name} (or its length flags) and --isl/--osl/--workload/--trace both set the prompts: give one`
  if (usedRandom && name !== "random") return `--random-* flags belong to --dataset-name random, not ${name}`
  if (usedPrefix && name !== "prefix_repetition") return `--prefix-repetition-* flags belong to --dataset-name prefix_repetition, not ${name}`
  if ((name === "random" || name === "prefix_repetition") && f.datasetPath !== undefined)
    return `--dataset-path: cannot be used with --dataset-name ${name} (vllm bench refuses it too; use sharegpt or custom for a file)`
  const drop = ["input", "output", "prefix", "prefixShare", "prefixGroups", "file", "trace", "dataset"]
  if (name === "random") {
    const r = f.randomRangeRatio ?? 0
    const prefixLen = f.randomPrefixLen ?? 0
    if (f.datasetName === undefined && !usedRandom) notes.push("dataset: vllm bench's default, random 1024/128 (give --dataset-name to change it)")
    // vllm samples len − (tokenizer's special tokens) and the server adds them back: the engine sees L at r = 0.
    return {
      flags: { ...flags, isl: randomLength(f.randomInputLen ?? f.inputLen ?? 1024, r), osl: randomLength(f.randomOutputLen ?? f.outputLen ?? 128, r) },
      workload: prefixLen > 0 ? { prefix: { numGroups: 1, length: prefixLen } } : {},
      dropWorkload: drop,
      notes,
    }
  }
  if (name === "prefix_repetition") {
    const numPrefixes = f.prefixRepetitionNumPrefixes ?? 10
    const n = flags.numRequests ?? 1000
    // vllm/benchmarks/datasets/prefix_repetition.py: num_requests // num_prefixes prompts per prefix.
    const perPrefix = Math.floor(n / numPrefixes)
    if (perPrefix === 0) return `--num-prompts ${n} must be at least --prefix-repetition-num-prefixes ${numPrefixes} (vllm bench refuses it too)`
    if (perPrefix * numPrefixes !== n) notes.push(`prefix_repetition sends ${perPrefix * numPrefixes} requests (${numPrefixes} prefixes × ${perPrefix}), as vllm bench does for --num-prompts ${n}`)
    return {
      flags: { ...flags, numRequests: perPrefix * numPrefixes, isl: f.prefixRepetitionSuffixLen ?? 256, osl: f.prefixRepetitionOutputLen ?? f.outputLen ?? 128 },
      workload: { prefix: { numGroups: numPrefixes, length: f.prefixRepetitionPrefixLen ?? 256 } },
      dropWorkload: drop,
      notes,
    }
  }
  if (name === "sharegpt" && f.datasetPath === undefined) {
    notes.push("dataset: ShareGPT without --dataset-path uses servesim's fitted ShareGPT length distributions")
    const out = f.sharegptOutputLen ?? f.outputLen
    return { flags: { ...flags, isl: "sharegpt", osl: out ?? "sharegpt" }, workload: {}, dropWorkload: drop, notes }
  }
  if (f.datasetPath === undefined) return `--dataset-name ${name} needs --dataset-path FILE (vllm's custom JSONL: one {"prompt": ...} per line)`
  const outputLen = name === "sharegpt" ? (f.sharegptOutputLen ?? f.outputLen) : (f.customOutputLen ?? f.outputLen)
  notes.push(`dataset: ${f.datasetPath}, prompt tokens estimated as characters / 4 (servesim has no tokenizer)`)
  if (name === "custom") notes.push("custom dataset: the chat template vllm bench applies to each prompt is not counted")
  return {
    flags,
    workload: { dataset: { name, path: f.datasetPath, ...(outputLen !== undefined ? { outputLen } : {}) } },
    dropWorkload: drop,
    notes,
  }
}

/** Applies a mapping to a scenario object read from a file: drops what the dataset replaces, merges its fields. */
export const applyVllmBenchWorkload = (base: Record<string, unknown>, m: VllmBenchMapping): Record<string, unknown> => {
  if (m.dropWorkload.length === 0 && Object.keys(m.workload).length === 0) return base
  const w = typeof base.workload === "object" && base.workload !== null ? { ...(base.workload as Record<string, unknown>) } : {}
  for (const k of m.dropWorkload) delete w[k]
  return { ...base, workload: { ...w, ...m.workload } }
}

/**
 * The scenario object for a command: the file's scenario with the flags (ours and vllm bench's) merged
 * over it, or a one-line reason. `scenarioFile`: the user named the file (not the default scenario);
 * `benchLoad`: the load was given in vllm's spelling (sweep and search read their list flags first).
 */
export const scenarioWithFlags = (
  file: Record<string, unknown>,
  flags: ScenarioFlags & VllmBenchFlags,
  scenarioFile: boolean,
  benchLoad?: boolean,
): { readonly scenario: Record<string, unknown>; readonly flags: ScenarioFlags; readonly notes: ReadonlyArray<string> } | string => {
  const m = vllmBenchMapping(flags, scenarioFile, benchLoad)
  if (typeof m === "string") return m
  const base = applyVllmBenchWorkload(workloadKindOverride(file, m.flags), m)
  return { scenario: mergeScenario(base, flagsToScenario(m.flags)), flags: m.flags, notes: m.notes }
}

/** List-valued aliases (sweep, search): copies vllm's spelling onto ours, refusing two different lists. */
export const listAliases = <F extends object>(flags: F, pairs: ReadonlyArray<readonly [ours: keyof F & string, theirs: keyof F & string, ourFlag: string, theirFlag: string]>): F | string => {
  const out = { ...flags } as Record<string, unknown>
  for (const [ours, theirs, ourFlag, theirFlag] of pairs) {
    const v = alias(out[ours] as string | undefined, out[theirs] as string | undefined, ourFlag, theirFlag)
    if (isError(v)) return v.error
    if (v !== undefined) out[ours] = v
    delete out[theirs]
  }
  return out as F
}

/** probe's vllm bench spellings: the load's (lists and numbers stay text, as probe's own flags are), the dataset's and --burstiness. */
export const addVllmBenchProbeFlags = (cmd: Command): Command =>
  addVllmBenchDatasetFlags(
    cmd
      .option("--request-rate <list>", "vllm bench's name for --rate")
      .option("--num-prompts <n>", "vllm bench's name for --num-requests")
      .addOption(burstinessOption()),
  )

interface ProbeAliasFlags {
  readonly concurrency?: string
  readonly rate?: string
  readonly maxConcurrency?: string
  readonly numRequests?: string
  readonly requestRate?: string
  readonly numPrompts?: string
}

/**
 * Applies probe's vllm bench spellings of the load. `fromCommandLine(key)`: whether our flag was typed
 * (not its default), so `--num-prompts 50` replaces the default --num-requests but not a typed one that
 * differs. `--max-concurrency N` alone is vllm bench's closed loop at N. The dataset flags are mapped by
 * vllmBenchMapping (src/cli/probe.ts probeDataset).
 */
export const probeVllmAliases = <F extends ProbeAliasFlags>(f: F, fromCommandLine: (key: string) => boolean): F | string => {
  const out = { ...f } as Record<string, unknown>
  const pairs: ReadonlyArray<readonly [keyof ProbeAliasFlags, keyof ProbeAliasFlags, string, string]> = [
    ["rate", "requestRate", "--rate", "--request-rate"],
    ["numRequests", "numPrompts", "--num-requests", "--num-prompts"],
  ]
  for (const [ours, theirs, ourFlag, theirFlag] of pairs) {
    const v = f[theirs]
    delete out[theirs]
    if (v === undefined) continue
    if (fromCommandLine(ours) && f[ours] !== v) return `${theirFlag} ${v} and ${ourFlag} ${String(f[ours])} name the same setting: give one`
    out[ours] = v
  }
  if (out.maxConcurrency !== undefined && out.rate === undefined && out.concurrency === undefined && f.concurrency === undefined) {
    out.concurrency = out.maxConcurrency
    delete out.maxConcurrency
  }
  return out as F
}
