// Resolves a decoded scenario into the kernel's SimSpec: model and GPU profiles, vLLM's defaults,
// KV capacity, the step-time model, the workload, policy and router. Reads the files a scenario
// names (model config, GPU JSON, workload spec, trace, policy module, calibrated profile).
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { resolve as resolvePath } from "node:path"
import { builtinGpuIds, lookupGpu, parseGpuJson } from "../hw/gpus.ts"
import { builtinModelNames, lookupModel, modelFromHfConfig, samplingDefaults, usesPenalties, usesTopKTopP } from "../hw/models.ts"
import { kvOffloadTier, kvShortfall, numGpuBlocksFor } from "../hw/kv-capacity.ts"
import { kvBytesPerElement, kvBytesPerToken } from "../hw/model-costs.ts"
import { defaultCoefficients } from "../hw/default-coefficients.ts"
import { physicsStepTime } from "../hw/physics-step-time.ts"
import { speculativeStepTime } from "../hw/speculative-decoding.ts"
import { prefixShareSplit } from "../econ/sweep-grid.ts"
import { asyncSchedulingDefault, vllmDefaultMaxModelLen, vllmDefaults } from "../hw/vllm-defaults.ts"
import type { GpuProfile, KvCacheDtype, ModelProfile, Parallelism, Precision, StepTimeModel } from "../hw/types.ts"
import { builtinPolicies, policyShapeError } from "../sim/scheduling-policy.ts"
import { builtinRouters } from "../sim/router.ts"
import type { GoodputSlo, PoolSpec, SchedulingPolicy, SimSpec, Workload } from "../sim/spec.ts"
import type { EngineConfig } from "../sim/types.ts"
import { arrivalStageCount, parseArrivalSpec, stageRequestCount, type ArrivalSpec } from "../sim/workload/arrivals.ts"
import { parseLengthDist, sharegptInput, sharegptOutput, type LengthDist } from "../sim/workload/lengths.ts"
import { asRunByInferencePerf, parseSharedPrefixSpec, sharedPrefixWorkload } from "../sim/workload/shared-prefix.ts"
import { closedLoopWorkload, openLoopWorkload } from "../sim/workload/synthetic.ts"
import { parseTrace, traceWorkload } from "../sim/workload/trace.ts"
import { parseDatasetFile, sampleDataset, type SampledLengths } from "../sim/workload/vllm-datasets.ts"
import { FileError, InputError } from "./errors.ts"
import { parseStructured, readText, type Scenario } from "./schema.ts"
import { stepTimeFor } from "./step-time-source.ts"
import { isRecord } from "../format/json.ts"

/** Everything resolved from a scenario, for reports and for building specs again (sweeps, seeds). */
export interface ResolvedScenario {
  readonly scenario: Scenario
  readonly model: ModelProfile
  readonly gpu: GpuProfile
  readonly precision: Precision
  readonly kvCacheDtype: KvCacheDtype
  readonly par: Parallelism
  readonly engine: EngineConfig
  readonly stepTime: StepTimeModel
  /** The requests sample with top-k/top-p, so every step runs vLLM's sampler filter (workload.sampling). */
  readonly topKTopPSampling: boolean
  /** The requests sample with penalties (the checkpoint's repetition_penalty), so every step runs vLLM's penalties. */
  readonly samplingPenalties: boolean
  readonly policy: SchedulingPolicy
  /** How num_gpu_blocks was obtained: "given", "profile" or "derived". */
  readonly numGpuBlocksSource: string
  readonly notes: ReadonlyArray<string>
  /** Makes a fresh workload (workloads are single-use streams). */
  readonly makeWorkload: (seed: string | number) => { workload: Workload; stageCount: number }
  /** P/D disaggregation: each pool resolved as a scenario of its own, and the link. */
  readonly disaggregation?: ResolvedDisaggregation
}

export interface ResolvedDisaggregation {
  readonly prefill: ResolvedScenario
  readonly decode: ResolvedScenario
  /** Bytes/s and seconds per transfer. */
  readonly bandwidth: number
  readonly latency: number
  readonly connector: string
  readonly kvBytesPerToken: number
}

/**
 * Default link: one 400 Gb/s RDMA NIC (NVIDIA ConnectX-7 NDR, 50 GB/s), the per-GPU NIC of a DGX
 * H100 that NIXL uses; the per-transfer latency default (1 ms) is an assumption, said in the notes.
 */
const DEFAULT_KV_TRANSFER_GBPS = 50
const DEFAULT_KV_TRANSFER_LATENCY_MS = 1

type Pool = NonNullable<Scenario["disaggregation"]>["prefill"]

/** One pool as a scenario of its own: its replicas, and its GPU, TP and engine fields over the scenario's. */
const resolvePool = (s: Scenario, pool: Pool, name: string): Effect.Effect<ResolvedScenario, InputError | FileError> => {
  const { disaggregation: _pd, ...rest } = s
  const engine = s.engine === undefined && pool.engine === undefined ? {} : { engine: { ...s.engine, ...pool.engine } }
  const variant: Scenario = { ...rest, replicas: pool.replicas, ...(pool.tp !== undefined ? { tp: pool.tp } : {}), ...(pool.gpu !== undefined ? { gpu: pool.gpu } : {}), ...engine }
  return resolveScenario(variant).pipe(
    Effect.mapError((e) => (e._tag === "InputError" ? new InputError({ message: `disaggregation.${name}: ${e.message}` }) : e)),
  )
}

const resolveDisaggregated = (s: Scenario, pd: NonNullable<Scenario["disaggregation"]>): Effect.Effect<ResolvedScenario, InputError | FileError> =>
  Effect.gen(function* () {
    if (s.timelineInterval !== undefined && s.timelineInterval > 0)
      return yield* new InputError({ message: "timelineInterval: not available with disaggregation (the timeline samples one pool of engines)" })
    const prefill = yield* resolvePool(s, pd.prefill, "prefill")
    const decode = yield* resolvePool(s, pd.decode, "decode")
    const notes = [...prefill.notes.map((n) => `prefill: ${n}`), ...decode.notes.map((n) => `decode: ${n}`)]
    if (s.replicas !== undefined && s.replicas !== 1) notes.push(`replicas ${s.replicas} ignored: the pools' replicas apply (disaggregation.prefill/decode.replicas)`)
    const link = pd.kvTransfer ?? {}
    if (link.bandwidthGBps === undefined) notes.push(`kvTransfer.bandwidthGBps defaulted to ${DEFAULT_KV_TRANSFER_GBPS} (one 400 Gb/s RDMA NIC)`)
    if (link.latencyMs === undefined) notes.push(`kvTransfer.latencyMs defaulted to ${DEFAULT_KV_TRANSFER_LATENCY_MS} (assumed)`)
    return {
      ...prefill,
      scenario: s,
      notes,
      disaggregation: {
        prefill,
        decode,
        bandwidth: (link.bandwidthGBps ?? DEFAULT_KV_TRANSFER_GBPS) * 1e9,
        latency: (link.latencyMs ?? DEFAULT_KV_TRANSFER_LATENCY_MS) / 1000,
        connector: link.connector ?? "nixl",
        kvBytesPerToken: kvBytesPerToken(prefill.model, kvBytesPerElement(prefill.kvCacheDtype, prefill.precision)),
      },
    }
  })

/** A model or GPU argument names a file when it ends in .json or exists on disk (HF ids contain "/"). */
const isFile = (s: string): boolean => s.endsWith(".json") || existsSync(s)

/**
 * A built-in model or a config.json. `field` names where the id came from in errors ("model",
 * "--model", "scenario.json: sweep.model").
 */
export const resolveModel = (id: string, field = "model"): Effect.Effect<ModelProfile, InputError | FileError> =>
  Effect.gen(function* () {
    const builtin = lookupModel(id)
    if (builtin !== undefined) return builtin
    if (!isFile(id))
      return yield* new InputError({ message: `${field}: unknown model "${id}" (built-ins: ${builtinModelNames().join(", ")}; or a path to a config.json)` })
    const raw = yield* parseStructured(yield* readText(id), id)
    const m = modelFromHfConfig(raw, id)
    if (typeof m === "string") return yield* new InputError({ message: `${field} ${id}: ${m}` })
    return m
  })

/** A built-in GPU or a GPU JSON file; `field` as for resolveModel. */
export const resolveGpu = (id: string, field = "gpu"): Effect.Effect<GpuProfile, InputError | FileError> =>
  Effect.gen(function* () {
    const builtin = lookupGpu(id)
    if (builtin !== undefined) return builtin
    if (!isFile(id)) return yield* new InputError({ message: `${field}: unknown GPU "${id}" (built-ins: ${builtinGpuIds().join(", ")}; or a path to a GPU JSON file)` })
    const raw = yield* parseStructured(yield* readText(id), id)
    const g = parseGpuJson(raw)
    if (typeof g === "string") return yield* new InputError({ message: `${field} ${id}: ${g}` })
    return g
  })

const resolvePolicy = (name: string | undefined): Effect.Effect<SchedulingPolicy, InputError> =>
  Effect.gen(function* () {
    if (name === undefined) return builtinPolicies.fcfs!
    const builtin = builtinPolicies[name]
    if (builtin !== undefined) return builtin
    if (!/\.(ts|js|mjs)$/.test(name)) return yield* new InputError({ message: `policy: unknown policy "${name}" (fcfs, priority, spf, or a path to a .ts/.js module)` })
    const mod = yield* Effect.tryPromise({
      try: async () => {
        const url = pathToFileURL(resolvePath(name)).href
        if (!name.endsWith(".ts")) return (await import(url)) as Record<string, unknown>
        // The compiled CLI has no TypeScript loader: tsx's tsImport loads the module on its own. Outside
        // a "type": "module" package tsx compiles it as CommonJS, and the import's default is then the
        // whole exports object, whose own default is the policy.
        const mod = (await (await import("tsx/esm/api")).tsImport(url, import.meta.url)) as Record<string, unknown>
        const inner = mod.default
        return policyShapeError(inner) !== undefined && isRecord(inner) && "default" in inner ? inner : mod
      },
      catch: (e) => new InputError({ message: `policy ${name}: cannot load module: ${e instanceof Error ? e.message : String(e)}` }),
    })
    const policy = mod.default
    const err = policyShapeError(policy)
    if (err !== undefined) return yield* new InputError({ message: `policy ${name}: ${err}` })
    return policy as SchedulingPolicy
  })

/** A length given as a number (fixed), a preset name, or a distribution object. */
const lengthOf = (raw: unknown, path: string, fallback: LengthDist): LengthDist | string => {
  if (raw === undefined) return fallback
  if (typeof raw === "number")
    return Number.isInteger(raw) && raw >= 1 && raw <= 10_000_000 ? { kind: "fixed", value: raw } : `${path}: ${raw} is not a token count in [1, 10,000,000]`
  if (raw === "sharegpt") return fallback
  return parseLengthDist(raw, path)
}

/** A vllm bench dataset file's sampled lengths (one per request), or an InputError naming the file. */
const readDataset = (
  d: { readonly name: "sharegpt" | "custom"; readonly path: string; readonly outputLen?: number },
  numRequests: number,
  seed: string | number,
): Effect.Effect<SampledLengths, InputError | FileError> =>
  Effect.gen(function* () {
    const text = yield* readText(d.path)
    const pairs = parseDatasetFile(d.name, text)
    if (typeof pairs === "string") return yield* new InputError({ message: `workload.dataset ${d.path}: ${pairs}` })
    const lengths = sampleDataset(pairs, { seed, numRequests, kind: d.name, ...(d.outputLen !== undefined ? { outputLen: d.outputLen } : {}) })
    if (typeof lengths === "string") return yield* new InputError({ message: `workload.dataset ${d.path}: ${lengths}` })
    return lengths
  })

/** The workload factory for a scenario; every problem is an InputError naming the field. */
const workloadFactory = (
  s: Scenario,
  engine: EngineConfig,
  notes: string[],
): Effect.Effect<(seed: string | number) => { workload: Workload; stageCount: number }, InputError | FileError> =>
  Effect.gen(function* () {
    const w = s.workload ?? {}
    const numRequests = w.numRequests
    if (w.trace !== undefined) {
      const path = w.trace
      const specs = parseTrace(yield* readText(path), /\.csv$/i.test(path) ? "csv" : "jsonl")
      // "line 17: stage …" reads as file:line, like a compiler's.
      if (typeof specs === "string") return yield* new InputError({ message: `workload.trace ${specs.replace(/^line (\d+): /, `${path}:$1: `).replace(/^trace: /, `${path}: `)}` })
      const used = numRequests === undefined ? specs : specs.slice(0, numRequests)
      // A cap is the user's own (flag or scenario field) and the result says what it cut.
      const max = s.maxRequests ?? DEFAULT_MAX_REQUESTS
      if (used.length > max)
        return yield* new InputError({ message: `workload.trace ${path}: ${used.length} requests exceed the limit of ${max.toLocaleString("en-US")} per run (--max-requests N raises it)` })
      const warm = warmupError(w.warmup, used.length)
      if (warm !== undefined) return yield* new InputError({ message: warm })
      if (used.length < specs.length) notes.push(`workload.numRequests ${numRequests} replays the first ${used.length} of the trace's ${specs.length} requests`)
      return () => ({ workload: traceWorkload(used), stageCount: 1 })
    }
    if (w.file !== undefined) {
      const path = w.file
      const parsed = parseSharedPrefixSpec(yield* parseStructured(yield* readText(path), path))
      if (typeof parsed === "string") return yield* new InputError({ message: `workload.file ${path}: ${parsed}` })
      const spec = w.inferencePerfDefaults === true ? asRunByInferencePerf(parsed) : parsed
      const stages = w.fileStages
      return (seed: string | number) => {
        const wl = sharedPrefixWorkload(spec, {
          seed,
          ...(numRequests !== undefined ? { numRequests } : {}),
          ...(stages !== undefined ? { stages } : {}),
          ...(w.inputScale !== undefined ? { inputScale: w.inputScale } : {}),
          maxModelLen: engine.maxModelLen,
        })
        return { workload: wl, stageCount: wl.stageCount }
      }
    }
    const dataset = w.dataset === undefined ? undefined : yield* readDataset(w.dataset, numRequests ?? 1000, s.seed ?? 0)
    const sampled = lengthOf(w.input, "workload.input", sharegptInput)
    if (typeof sampled === "string") return yield* new InputError({ message: sampled })
    const output = lengthOf(w.output, "workload.output", sharegptOutput)
    if (typeof output === "string") return yield* new InputError({ message: output })
    // What-if: a share of each prompt is a shared prefix (mean prompt length unchanged).
    if (w.prefixShare !== undefined && w.prefix !== undefined)
      return yield* new InputError({ message: "workload: give either prefix or prefixShare, not both" })
    const split = w.prefixShare === undefined ? undefined : prefixShareSplit(sampled, w.prefixShare, w.prefixGroups ?? 1)
    const input = split?.input ?? sampled
    const prefix = split?.prefix ?? w.prefix
    if (w.priority?.weights !== undefined && w.priority.weights.length !== w.priority.values.length)
      return yield* new InputError({ message: `workload.priority.weights: ${w.priority.weights.length} weights for ${w.priority.values.length} values (give one weight per value)` })
    const common = {
      input,
      output,
      ...(w.oslMultiplier !== undefined ? { outputMultiplier: w.oslMultiplier } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
      ...(w.priority !== undefined ? { priority: w.priority } : {}),
      ...(dataset !== undefined ? { sampled: dataset } : {}),
    }
    const openLoop = w.rate !== undefined || w.stages !== undefined || w.arrival !== undefined
    // concurrency with a rate caps the open loop (vllm bench --request-rate R --max-concurrency N).
    const maxConcurrency = openLoop ? w.concurrency : undefined
    if (!openLoop) {
      const concurrency = w.concurrency ?? 32
      const n = numRequests ?? 1000
      return (seed: string | number) => ({ workload: closedLoopWorkload({ seed, concurrency, numRequests: n, ...common }), stageCount: 1 })
    }
    let arrival: ArrivalSpec
    if (w.arrival !== undefined) {
      const a = parseArrivalSpec(w.arrival, "workload.arrival")
      if (typeof a === "string") return yield* new InputError({ message: a })
      arrival = a
    } else if (w.stages !== undefined) arrival = { kind: "stages", stages: w.stages }
    else arrival = { kind: "rate", rate: w.rate ?? "inf", ...(w.burstiness !== undefined ? { burstiness: w.burstiness } : {}) }
    const stageCount = arrivalStageCount(arrival)
    if (arrival.kind === "stages" && numRequests !== undefined && arrival.timer !== "poisson") {
      const staged = arrival.stages.reduce((a, st) => a + stageRequestCount(st), 0)
      if (numRequests < staged) notes.push(`workload.numRequests ${numRequests} cuts the stages' ${staged} requests: later stages send fewer or none`)
    }
    if (arrival.kind !== "stages" && numRequests === undefined && w.rate === undefined)
      return yield* new InputError({ message: "workload.numRequests: required for this arrival process" })
    const n = arrival.kind === "stages" ? numRequests : (numRequests ?? 1000)
    return (seed: string | number) => ({
      workload: openLoopWorkload({ seed, arrival, ...(n !== undefined ? { numRequests: n } : {}), ...(maxConcurrency !== undefined ? { maxConcurrency } : {}), ...common }),
      stageCount,
    })
  })

/** What-if: wraps the step time with speculative decoding; the draft runs on the target's GPUs. */
export const withSpeculative = (
  s: Scenario,
  target: StepTimeModel,
  hw: { gpu: GpuProfile; precision: Precision; kvCacheDtype: KvCacheDtype; par: Parallelism; asyncScheduling: boolean },
): Effect.Effect<StepTimeModel, InputError | FileError> =>
  Effect.gen(function* () {
    const sp = s.speculative
    if (sp === undefined) return target
    if (sp.method === "ngram" && sp.draftModel !== undefined)
      return yield* new InputError({ message: "speculative.draftModel: only used with method draft (n-gram needs no draft model)" })
    if (sp.method === "draft" && sp.draftModel === undefined)
      return yield* new InputError({ message: "speculative.draftModel: required with method draft (--draft-model)" })
    let draft: StepTimeModel | undefined
    if (sp.draftModel !== undefined) {
      const dm = yield* resolveModel(sp.draftModel)
      // vLLM runs the draft with the target's TP unless its heads do not split that way.
      const tp = dm.numAttentionHeads % hw.par.tp === 0 ? hw.par.tp : 1
      // The draft's passes run inside the target's engine step: their CPU work is the step's, counted once (by the target).
      draft = physicsStepTime({
        model: dm,
        gpu: hw.gpu,
        precision: hw.precision,
        kvCacheDtype: hw.kvCacheDtype,
        par: { tp, pp: 1, ep: 1 },
        coefficients: { ...defaultCoefficients(hw.gpu), stepOverhead: 0, perRequestStepOverhead: 0 },
        name: `draft(${dm.id})`,
      })
    }
    return speculativeStepTime(target, { method: sp.method, numTokens: sp.numTokens, acceptance: sp.acceptance, ...(draft !== undefined ? { draft } : {}) })
  })

/**
 * Whether the scenario's requests sample with top-k/top-p: asked for ("top-p"), or left to the server
 * ("model-defaults": inference-perf sends no sampling parameters) whose checkpoint's generation_config
 * sets top_p < 1 or top_k > 0. vllm bench serve sends temperature 0 (greedy), the default otherwise.
 */
const samplingModeOf = (s: Scenario): "greedy" | "model-defaults" | "top-p" => {
  const w = s.workload
  return w?.sampling ?? (w?.inferencePerfDefaults === true ? "model-defaults" : "greedy")
}

export const topKTopPSamplingOf = (s: Scenario, model: ModelProfile): boolean => {
  const mode = samplingModeOf(s)
  return mode === "top-p" || (mode === "model-defaults" && usesTopKTopP(samplingDefaults(model.id)))
}

/**
 * Whether the scenario's requests sample with penalties: only "model-defaults" on a checkpoint whose
 * generation_config sets repetition_penalty ≠ 1 (Qwen2.5-Instruct: 1.05). Greedy requests keep their
 * penalties in vLLM, but vllm bench serve sends none, and "top-p" asks for the filter alone.
 */
export const samplingPenaltiesOf = (s: Scenario, model: ModelProfile): boolean =>
  samplingModeOf(s) === "model-defaults" && usesPenalties(samplingDefaults(model.id))

export const resolveScenario = (s: Scenario): Effect.Effect<ResolvedScenario, InputError | FileError> =>
  Effect.gen(function* () {
    if (s.disaggregation !== undefined) return yield* resolveDisaggregated(s, s.disaggregation)
    const model = yield* resolveModel(s.model)
    const gpu = yield* resolveGpu(s.gpu)
    const precision: Precision = s.precision ?? "bf16"
    const kvCacheDtype: KvCacheDtype = s.kvCacheDtype ?? "auto"
    const par: Parallelism = { tp: s.tp ?? 1, pp: s.pp ?? 1, ep: s.ep ?? 1 }
    if (par.ep > 1 && model.numExperts === 0) return yield* new InputError({ message: `ep: ${model.id} is not a mixture-of-experts model` })
    if (par.ep > par.tp * par.pp) return yield* new InputError({ message: `ep: expert parallel degree ${par.ep} exceeds tp × pp = ${par.tp * par.pp}` })
    if (par.pp > model.numLayers) return yield* new InputError({ message: `pp: pipeline degree ${par.pp} exceeds the ${model.numLayers} layers of ${model.id}` })
    const limit = requestLimitError(s)
    if (limit !== undefined) return yield* new InputError({ message: limit })
    // vllm/config/model.py verify_with_parallel_config: attention heads must split evenly over TP ranks.
    if (model.numAttentionHeads % par.tp !== 0)
      return yield* new InputError({ message: `tp: ${model.numAttentionHeads} attention heads of ${model.id} are not divisible by tp ${par.tp}` })
    // vllm/model_executor/models/llama.py (LlamaAttention, and the other GQA models alike): KV heads are
    // split over the ranks when there are at least tp of them, else replicated, tp a multiple of them.
    const kvHeads = model.numKeyValueHeads
    if (model.mlaKvDim === 0 && (kvHeads >= par.tp ? kvHeads % par.tp !== 0 : par.tp % kvHeads !== 0))
      return yield* new InputError({
        message: `tp: ${kvHeads} KV heads of ${model.id} ${kvHeads >= par.tp ? "are not divisible by" : "do not divide"} tp ${par.tp} (vLLM splits KV heads evenly over the ranks, or replicates them when tp is a multiple)`,
      })
    const e = s.engine ?? {}
    const defaults = vllmDefaults(gpu, "openai-api-server", model)
    const notes: string[] = []
    const maxNumBatchedTokensGiven = e.maxNumBatchedTokens
    const chunked = e.enableChunkedPrefill ?? true
    const blockSize = e.blockSize ?? defaults.blockSize
    const maxNumSeqs = e.maxNumSeqs ?? defaults.maxNumSeqs
    const modelMax = vllmDefaultMaxModelLen(model)
    const asyncScheduling = e.asyncScheduling ?? asyncSchedulingDefault(par.pp)
    const topKTopPSampling = topKTopPSamplingOf(s, model)
    const samplingPenalties = samplingPenaltiesOf(s, model)
    const stepTime = yield* stepTimeFor(s, { model, gpu, precision, kvCacheDtype, par, asyncScheduling, topKTopPSampling, samplingPenalties })
    const stepTimeModel = yield* withSpeculative(s, stepTime.model, { gpu, precision, kvCacheDtype, par, asyncScheduling })
    let maxModelLen = e.maxModelLen ?? modelMax
    // vllm/config/scheduler.py: without chunked prefill the budget must hold a whole prompt.
    let maxNumBatchedTokens = maxNumBatchedTokensGiven ?? defaults.maxNumBatchedTokens
    if (!chunked && maxNumBatchedTokens < maxModelLen) {
      if (maxNumBatchedTokensGiven !== undefined)
        return yield* new InputError({
          message: `engine.maxNumBatchedTokens: ${maxNumBatchedTokens} is smaller than max_model_len ${maxModelLen} with chunked prefill off (vLLM refuses this)`,
        })
      maxNumBatchedTokens = maxModelLen
    }
    let numGpuBlocks: number
    let numGpuBlocksSource: string
    if (e.numGpuBlocks !== undefined) {
      numGpuBlocks = e.numGpuBlocks
      numGpuBlocksSource = "given"
    } else if (stepTime.numGpuBlocks !== undefined) {
      numGpuBlocks = stepTime.numGpuBlocks
      numGpuBlocksSource = "profile"
    } else {
      const gpuMemoryUtilization = e.gpuMemoryUtilization ?? defaults.gpuMemoryUtilization
      const cap = numGpuBlocksFor({
        gpu,
        model,
        precision,
        kvCacheDtype,
        par,
        gpuMemoryUtilization,
        blockSize,
        maxNumBatchedTokens,
        maxNumSeqs,
      })
      numGpuBlocks = cap.numGpuBlocks
      numGpuBlocksSource = "derived"
      const shortfall = kvShortfall(cap, gpuMemoryUtilization)
      if (shortfall !== undefined)
        return yield* new InputError({ message: `${model.id} (${precision}) does not fit on ${par.tp * par.pp}× ${gpu.id}, per GPU: ${shortfall}` })
    }
    const kvTokens = numGpuBlocks * blockSize
    if (maxModelLen > kvTokens) {
      // vLLM refuses to start when one max_model_len request cannot fit the KV cache.
      if (e.maxModelLen !== undefined)
        return yield* new InputError({
          message: `engine.maxModelLen: ${maxModelLen} tokens exceed the KV cache (${kvTokens} tokens in ${numGpuBlocks} blocks); lower max_model_len or raise gpu_memory_utilization`,
        })
      maxModelLen = kvTokens
      notes.push(`max_model_len lowered from the model's ${modelMax} to ${kvTokens}, what the KV cache holds`)
      if (!chunked && maxNumBatchedTokensGiven === undefined) maxNumBatchedTokens = maxModelLen
    }
    let offload: { cpuOffloadBlocks: number; cpuLoadSecondsPerBlock: number } | undefined
    if (e.kvOffloadingSize !== undefined) {
      const tier = kvOffloadTier({ gpu, model, precision, kvCacheDtype, par, blockSize, sizeGiB: e.kvOffloadingSize })
      if (tier.cpuBlocks < 1)
        return yield* new InputError({ message: `engine.kvOffloadingSize: ${e.kvOffloadingSize} GiB holds no KV block of ${model.id} (block size ${blockSize}, tp ${par.tp})` })
      offload = { cpuOffloadBlocks: tier.cpuBlocks, cpuLoadSecondsPerBlock: tier.loadSecondsPerBlock }
    }
    const engine: EngineConfig = {
      ...offload,
      maxNumSeqs,
      maxNumBatchedTokens,
      maxModelLen,
      blockSize,
      numGpuBlocks,
      enableChunkedPrefill: chunked,
      enablePrefixCaching: e.enablePrefixCaching ?? true,
      longPrefillTokenThreshold: e.longPrefillTokenThreshold ?? 0,
      asyncScheduling,
    }
    const policy = yield* resolvePolicy(s.policy)
    const makeWorkload = yield* workloadFactory(s, engine, notes)
    return { scenario: s, model, gpu, precision, kvCacheDtype, par, engine, stepTime: stepTimeModel, topKTopPSampling, samplingPenalties, policy, numGpuBlocksSource, notes, makeWorkload }
  })

/** Default bound on the requests one run simulates (each costs ~100 B of typed columns). */
export const DEFAULT_MAX_REQUESTS = 20_000_000

/** Warm-up requests are left out of the metrics: as many as the run sends would leave nothing measured. */
const warmupError = (warmup: number | undefined, requests: number): string | undefined =>
  warmup !== undefined && warmup >= requests
    ? `workload.warmup: ${warmup} warm-up requests leave none of the run's ${requests} to measure (give fewer than ${requests})`
    : undefined

/** The workload's request count when it is known before generating it, checked against maxRequests (and the warm-up). */
const requestLimitError = (s: Scenario): string | undefined => {
    const w = s.workload ?? {}
    const max = s.maxRequests ?? DEFAULT_MAX_REQUESTS
    const staged = w.stages?.reduce((a, st) => a + stageRequestCount(st), 0)
    const n = w.numRequests !== undefined && staged !== undefined ? Math.min(w.numRequests, staged) : (w.numRequests ?? staged)
    if (n !== undefined) {
      const warm = warmupError(w.warmup, n)
      if (warm !== undefined) return warm
    }
    if (n === undefined || n <= max) return undefined
    const field = w.numRequests !== undefined && (staged === undefined || w.numRequests <= staged) ? "workload.numRequests" : "workload.stages"
    return `${field}: ${n.toExponential(3)} requests exceed the limit of ${max.toLocaleString("en-US")} per run (--max-requests N, or maxRequests in the scenario, raises it)`
}

/** A pool of a P/D deployment, with a fresh router. */
const poolSpec = (r: ResolvedScenario, router: string): PoolSpec => ({
  engine: r.engine,
  replicas: r.scenario.replicas ?? 1,
  router: builtinRouters[router]!(),
  stepTime: r.stepTime,
})

/** GPUs of the deployment by type: tp × pp × replicas, over both pools when disaggregated. */
export const deploymentGpus = (r: ResolvedScenario): Array<{ readonly gpu: string; readonly count: number }> => {
  const one = (x: ResolvedScenario) => ({ gpu: x.gpu.id, count: x.par.tp * x.par.pp * (x.scenario.replicas ?? 1) })
  const pd = r.disaggregation
  return pd === undefined ? [one(r)] : [one(pd.prefill), one(pd.decode)]
}

/** A fresh SimSpec for one run (router and workload are stateful). */
export const buildSimSpec = (r: ResolvedScenario, seed: string | number = r.scenario.seed ?? 0): SimSpec => {
  const s = r.scenario
  const { workload, stageCount } = r.makeWorkload(seed)
  const goodput: GoodputSlo | undefined = s.goodput
  const pd = r.disaggregation
  if (pd !== undefined) {
    const router = s.router ?? "round-robin"
    const prefill = poolSpec(pd.prefill, router)
    return {
      engine: prefill.engine,
      replicas: prefill.replicas,
      router: prefill.router,
      policy: r.policy,
      stepTime: prefill.stepTime,
      workload,
      warmupRequests: s.workload?.warmup ?? 0,
      stageCount,
      ...(goodput !== undefined ? { goodput } : {}),
      disaggregation: {
        prefill,
        decode: poolSpec(pd.decode, router),
        kvTransfer: { bandwidth: pd.bandwidth, latency: pd.latency },
        kvBytesPerToken: pd.kvBytesPerToken,
      },
    }
  }
  return {
    engine: r.engine,
    replicas: s.replicas ?? 1,
    router: builtinRouters[s.router ?? "round-robin"]!(),
    policy: r.policy,
    stepTime: r.stepTime,
    workload,
    warmupRequests: s.workload?.warmup ?? 0,
    stageCount,
    ...(goodput !== undefined ? { goodput } : {}),
    ...(s.timelineInterval !== undefined ? { timelineInterval: s.timelineInterval } : {}),
  }
}

/** Describes the run for the result's `config` block. */
export const describeRun = (r: ResolvedScenario): Record<string, unknown> => ({
  model: r.model.id,
  gpu: r.gpu.id,
  tp: r.par.tp,
  pp: r.par.pp,
  ep: r.par.ep,
  precision: r.precision,
  kv_cache_dtype: r.kvCacheDtype,
  num_gpu_blocks_source: r.numGpuBlocksSource,
  ...(r.engine.cpuOffloadBlocks !== undefined ? { kv_offloading_size_gib: r.scenario.engine?.kvOffloadingSize } : {}),
  ...(r.disaggregation !== undefined ? { disaggregation: describeDisaggregation(r.disaggregation) } : {}),
  ...(r.notes.length > 0 ? { notes: r.notes } : {}),
})

const describeDisaggregation = (pd: ResolvedDisaggregation): Record<string, unknown> => {
  const pool = (x: ResolvedScenario) => ({
    gpu: x.gpu.id,
    tp: x.par.tp,
    pp: x.par.pp,
    replicas: x.scenario.replicas ?? 1,
    num_gpu_blocks: x.engine.numGpuBlocks,
    max_num_seqs: x.engine.maxNumSeqs,
    max_num_batched_tokens: x.engine.maxNumBatchedTokens,
    step_time_model: x.stepTime.name,
  })
  return {
    prefill: pool(pd.prefill),
    decode: pool(pd.decode),
    kv_transfer: { connector: pd.connector, bandwidth_gbps: pd.bandwidth / 1e9, latency_ms: pd.latency * 1000, kv_bytes_per_token: pd.kvBytesPerToken },
  }
}
