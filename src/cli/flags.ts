// Command-line flags shared by simulate, sweep, validate and serve: parsers that reject bad values
// with one line naming the flag, and the mapping from flags to scenario fields (flags override files).
import { Command, InvalidArgumentError, Option } from "commander"
import { parsePool } from "../econ/search.ts"
import { isRecord } from "../format/json.ts"
import { FLAG_FIELDS, flagName } from "../scenario/flag-fields.ts"

/** A decimal number as written ("12", "0.5", "1e3"); NaN for anything else: Number("") is 0, never a value. */
export const decimal = (v: string): number => (/^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v) ? Number(v) : Number.NaN)

export const positiveInt = (v: string): number => {
  const n = decimal(v)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer")
  return n
}

export const nonNegativeInt = (v: string): number => {
  const n = decimal(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected an integer ≥ 0")
  return n
}

export const positiveNumber = (v: string): number => {
  const n = decimal(v)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number > 0")
  return n
}

/** A fraction in [0, 1]. */
export const unitFraction = (v: string): number => {
  const n = decimal(v)
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("expected a number in [0, 1]")
  return n
}

export const rateValue = (v: string): number | "inf" => (v === "inf" ? "inf" : positiveNumber(v))

/** A length: "1024" (fixed), "sharegpt", "uniform:MIN:MAX", "normal:MEAN:SD", "lognormal:MEAN:SD". */
export const lengthSpec = (v: string): unknown => {
  if (/^\d+$/.test(v)) return positiveInt(v)
  if (v === "sharegpt") return "sharegpt"
  const [kind, a, b] = v.split(":")
  const x = Number(a)
  const y = Number(b)
  if (!Number.isFinite(x) || !Number.isFinite(y)) throw new InvalidArgumentError('expected N, "sharegpt", uniform:MIN:MAX, normal:MEAN:SD or lognormal:MEAN:SD')
  if (kind === "uniform") return { kind, min: x, max: y }
  if (kind === "normal" || kind === "lognormal") return { kind, mean: x, sd: y }
  throw new InvalidArgumentError('expected N, "sharegpt", uniform:MIN:MAX, normal:MEAN:SD or lognormal:MEAN:SD')
}

/** Rate stages "RATE:SECONDS,RATE:SECONDS" (requests/s for that many seconds, back to back). */
export const stagesSpec = (v: string): Array<{ rate: number; duration: number }> =>
  v.split(",").map((part) => {
    const fields = part.split(":")
    const rate = fields.length === 2 ? decimal(fields[0]!) : Number.NaN
    const duration = fields.length === 2 ? decimal(fields[1]!) : Number.NaN
    if (!Number.isFinite(rate) || rate <= 0 || !Number.isFinite(duration) || duration <= 0)
      throw new InvalidArgumentError("expected RATE:SECONDS pairs with positive numbers, e.g. 5:600,10:600")
    return { rate, duration }
  })

/** vllm bench's --goodput KEY:VALUE pairs (ttft, tpot, e2el in ms). */
export const goodputSpec = (v: string, previous: Record<string, number> | undefined): Record<string, number> => {
  const out = { ...previous }
  for (const part of v.split(/[\s,]+/).filter((p) => p !== "")) {
    const fields = part.split(":")
    const [k, val] = fields
    const n = fields.length === 2 && val !== undefined ? decimal(val) : Number.NaN
    const key = k === "ttft" ? "ttftMs" : k === "tpot" ? "tpotMs" : k === "e2el" ? "e2elMs" : undefined
    if (key === undefined || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected ttft:MS tpot:MS e2el:MS")
    out[key] = n
  }
  return out
}

/** One pool of --disagg: replicas, tp and optionally a GPU type. */
export interface PoolFlag {
  readonly replicas: number
  readonly tp: number
  readonly gpu?: string
}

const POOL_SYNTAX = "expected prefill=NxtpT,decode=NxtpT (optionally @gpu per pool), e.g. prefill=2xtp2,decode=4xtp1"

/** --disagg prefill=2xtp2,decode=4xtp1: both pools of a P/D-disaggregated deployment. */
export const disaggSpec = (v: string): { prefill: PoolFlag; decode: PoolFlag } => {
  const pools: Record<string, PoolFlag> = {}
  for (const part of v.split(",")) {
    const [name, value, extra] = part.split("=")
    const key = name?.trim()
    const pool = value === undefined || extra !== undefined ? undefined : parsePool(value)
    if ((key !== "prefill" && key !== "decode") || pool === undefined || pools[key] !== undefined) throw new InvalidArgumentError(POOL_SYNTAX)
    pools[key] = pool
  }
  const { prefill, decode } = pools
  if (prefill === undefined || decode === undefined) throw new InvalidArgumentError(POOL_SYNTAX)
  return { prefill, decode }
}

/** A non-negative number (a latency of 0 is allowed). */
export const nonNegativeNumber = (v: string): number => {
  const n = decimal(v)
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number ≥ 0")
  return n
}

export interface ScenarioFlags {
  model?: string
  gpu?: string
  tp?: number
  pp?: number
  ep?: number
  replicas?: number
  precision?: string
  kvCacheDtype?: string
  maxNumSeqs?: number
  maxNumBatchedTokens?: number
  maxModelLen?: number
  gpuMemoryUtilization?: number
  numGpuBlocks?: number
  blockSize?: number
  enablePrefixCaching?: boolean
  enableChunkedPrefill?: boolean
  longPrefillTokenThreshold?: number
  asyncScheduling?: boolean
  concurrency?: number
  rate?: number | "inf"
  burstiness?: number
  stages?: ReadonlyArray<{ rate: number; duration: number }>
  isl?: unknown
  osl?: unknown
  oslMultiplier?: number
  prefixShare?: number
  prefixGroups?: number
  specMethod?: string
  specTokens?: number
  specAcceptance?: number
  draftModel?: string
  workload?: string
  trace?: string
  numRequests?: number
  maxRequests?: number
  warmup?: number
  seed?: string
  policy?: string
  router?: string
  goodput?: Record<string, number>
  profile?: string
  disagg?: { prefill: PoolFlag; decode: PoolFlag }
  kvTransferGbps?: number
  kvTransferLatencyMs?: number
  kvOffloadingSize?: number
}

/** vllm bench's --burstiness (one definition: simulate, sweep, search and probe). */
export const burstinessOption = (): Option =>
  new Option("--burstiness <k>", "vllm bench: gamma shape of the arrival gaps with a request rate (1 = Poisson; < 1 burstier, > 1 more regular)").argParser(positiveNumber)

/** vllm bench's --goodput (one definition: simulate, sweep, search and probe). */
export const goodputOption = (): Option =>
  new Option("--goodput <slo...>", "vllm bench: SLOs for goodput, e.g. ttft:500 tpot:50 (ms)").argParser((v: string, prev: Record<string, number> | undefined) => goodputSpec(v, prev))

/** Adds the scenario flags (vLLM's names) to a command. */
export const addScenarioFlags = (cmd: Command): Command =>
  cmd
    .option("--model <id|config.json>", "Hugging Face id of a built-in model, or a path to a config.json")
    .option("--gpu <id|gpu.json>", "GPU: a800-sxm, a800-pcie, a100-sxm, h100-sxm, h100-pcie, h800-sxm, h200-sxm, l40s, b200-sxm, … or a JSON file")
    .option("--tp <n>", "tensor parallel size", positiveInt)
    .option("--pp <n>", "pipeline parallel size", positiveInt)
    .option("--ep <n>", "expert parallel size (MoE)", positiveInt)
    .option("--replicas <n>", "data-parallel engines behind the router", positiveInt)
    .addOption(new Option("--precision <p>", "weight precision").choices(["bf16", "fp16", "fp8", "fp4", "int4"]))
    .addOption(new Option("--kv-cache-dtype <d>", "KV cache dtype").choices(["auto", "fp8"]))
    .option("--max-num-seqs <n>", "vLLM max_num_seqs", positiveInt)
    .option("--max-num-batched-tokens <n>", "vLLM max_num_batched_tokens", positiveInt)
    .option("--max-model-len <n>", "vLLM max_model_len", positiveInt)
    .option("--gpu-memory-utilization <f>", "vLLM gpu_memory_utilization", positiveNumber)
    .option("--num-gpu-blocks <n>", "KV blocks, as vLLM logs them at start-up (overrides the derivation)", positiveInt)
    .option("--block-size <n>", "KV block size in tokens", positiveInt)
    .option("--enable-prefix-caching", "prefix caching on (vLLM's default)")
    .option("--no-enable-prefix-caching", "prefix caching off")
    .option("--enable-chunked-prefill", "chunked prefill on (vLLM's default)")
    .option("--no-enable-chunked-prefill", "chunked prefill off")
    .option("--async-scheduling", "async scheduling on: step N+1 is scheduled while step N runs (vLLM ≥ 0.14 default without PP)")
    .option("--no-async-scheduling", "async scheduling off (vLLM before 0.14, or pipeline parallel)")
    .option("--long-prefill-token-threshold <n>", "cap on one request's prefill chunk per step", nonNegativeInt)
    .option("--concurrency <n>", "requests in flight: alone a closed loop; with --rate/--stages a cap on the open loop (vllm bench --max-concurrency)", positiveInt)
    .option("--rate <r>", "open loop: requests/s, or inf", rateValue)
    .addOption(burstinessOption())
    .option("--stages <rate:seconds,...>", "open loop in rate stages, e.g. 5:600,10:600 (inference-perf's constant load)", stagesSpec)
    .option("--isl <len>", 'input length: N, "sharegpt", uniform:MIN:MAX, normal:MEAN:SD, lognormal:MEAN:SD', lengthSpec)
    .option("--osl <len>", "output length (same forms as --isl)", lengthSpec)
    .option("--osl-multiplier <f>", "scales output lengths (reasoning models)", positiveNumber)
    .option("--prefix-share <f>", "what-if: fraction of each prompt that is a shared, cacheable prefix [0, 1)", unitFraction)
    .option("--prefix-groups <n>", "distinct shared prefixes for --prefix-share (default 1)", positiveInt)
    .addOption(new Option("--spec-method <m>", "what-if: speculative decoding with a draft model or n-gram lookup").choices(["draft", "ngram"]))
    .option("--spec-tokens <k>", "speculative tokens proposed per step", positiveInt)
    .option("--spec-acceptance <a>", "per-token acceptance rate of the proposals, [0, 1]", unitFraction)
    .option("--draft-model <id|config.json>", "draft model for --spec-method draft")
    .option("--workload <file>", "shared-prefix workload spec (inference-perf JSON)")
    .option("--trace <file>", "replay a request trace (JSONL or CSV)")
    .option("--num-requests <n>", "requests to send", positiveInt)
    .option("--max-requests <n>", "refuse runs of more requests than this (default 20,000,000)", positiveInt)
    .option("--warmup <n>", "first requests left out of the metrics", nonNegativeInt)
    .option("--seed <s>", "random seed")
    .option("--policy <name|module>", "fcfs, priority, spf, or a .ts/.js module exporting a SchedulingPolicy (loading a module runs its code: use only modules you trust; a scenario's module path is relative to the scenario file)")
    .addOption(new Option("--router <name>", "replica router").choices(["round-robin", "least-outstanding-requests", "least-kv-usage", "prefix-affinity"]))
    .addOption(goodputOption())
    .option("--profile <profile.json>", "calibrated step-time profile (servesim calibrate)")
    .option("--disagg <pools>", "P/D disaggregation: prefill=NxtpT,decode=NxtpT[@gpu], e.g. prefill=2xtp2,decode=4xtp1", disaggSpec)
    .option("--kv-transfer-gbps <GB/s>", "P/D: bandwidth of the KV-transfer link every transfer shares (default 50)", positiveNumber)
    .option("--kv-transfer-latency-ms <ms>", "P/D: latency added to each KV transfer (default 1)", nonNegativeNumber)
    .option("--kv-offloading-size <GiB>", "vLLM's KV offloading: GiB of host memory for a CPU KV tier (summed over TP ranks)", positiveNumber)

const seedValue = (s: string): string | number => (/^-?\d+$/.test(s) ? Number(s) : s)

/** The scenario fields the given flags set, with their flags: what error messages name instead of the file. */
export const flaggedFields = (f: ScenarioFlags): Map<string, string> =>
  new Map(FLAG_FIELDS.filter(([attr]) => f[attr as keyof ScenarioFlags] !== undefined).map(([attr, path]) => [path, flagName(attr)]))

/** The scenario fields the flags set (absent where a flag is absent). */
export const flagsToScenario = (f: ScenarioFlags): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [attr, path] of FLAG_FIELDS) {
    const v = f[attr as keyof ScenarioFlags]
    if (v === undefined) continue
    const keys = path.split(".")
    let node = out
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>
    // A parsed object (--disagg's pools) is copied: later paths (the KV link) add fields under it.
    node[keys[keys.length - 1]!] = attr === "seed" ? seedValue(v as string) : isRecord(v) ? { ...v } : v
  }
  return out
}

/** Drops the workload-shape fields of a base scenario when a flag picks another kind of workload. */
export const workloadKindOverride = (base: Record<string, unknown>, f: ScenarioFlags): Record<string, unknown> => {
  const w = base.workload
  if (typeof w !== "object" || w === null) return base
  const wl = { ...(w as Record<string, unknown>) }
  // A concurrency flag with a rate (or stages) flag is a capped open loop (vllm bench's --max-concurrency
  // with --request-rate): each keeps the other; alone, each replaces the file's other kind of load.
  const openFlag = f.rate !== undefined || f.stages !== undefined
  if (f.concurrency !== undefined) for (const k of [...(openFlag ? [] : ["rate", "burstiness", "stages"]), "arrival", "file", "trace"]) delete wl[k]
  if (f.rate !== undefined) for (const k of [...(f.concurrency === undefined ? ["concurrency"] : []), "stages", "arrival", "file", "trace"]) delete wl[k]
  if (f.stages !== undefined) for (const k of [...(f.concurrency === undefined ? ["concurrency"] : []), "rate", "arrival", "file", "trace"]) delete wl[k]
  if (f.workload !== undefined) for (const k of ["concurrency", "rate", "stages", "arrival", "trace", "input", "output"]) delete wl[k]
  if (f.trace !== undefined) for (const k of ["concurrency", "rate", "stages", "arrival", "file", "input", "output"]) delete wl[k]
  if (f.prefixShare !== undefined) delete wl.prefix
  // Stages, a workload file and a trace decide their own request count: a base scenario's numRequests
  // (the default scenario's 1000) must not cut them; only --num-requests does, and the result says so.
  if (f.numRequests === undefined && (f.stages !== undefined || f.workload !== undefined || f.trace !== undefined)) delete wl.numRequests
  return { ...base, workload: wl }
}
