// `simulate`'s result as a `vllm bench serve --save-result` file: vllm's metadata and benchmark fields
// in vllm's order (vllm/benchmarks/serve.py main_async and benchmark), the percentile keys selected by
// --percentile-metrics/--metric-percentiles, then servesim's own fields (all kept, so every consumer of
// the summary still finds its keys). Also vllm's default result filename and a title naming the run.
// Shared by the simulate command and the library's simulate(); the flag parsers are in src/cli/vllm-bench-flags.ts.
import { deploymentGpus, type ResolvedScenario } from "./resolve.ts"

export const PERCENTILE_METRICS = ["ttft", "tpot", "itl", "e2el", "client_queue_time", "e2el_including_client_queue"] as const
export type PercentileMetric = (typeof PERCENTILE_METRICS)[number]

export interface BenchOutputOptions {
  readonly metadata?: Readonly<Record<string, string>>
  readonly percentileMetrics?: ReadonlyArray<PercentileMetric>
  readonly metricPercentiles?: ReadonlyArray<number>
  readonly backend?: string
  readonly label?: string
}

/** The load vllm bench records: request_rate ("inf" or a number), burstiness, max_concurrency. */
export const loadOf = (r: ResolvedScenario): { request_rate: number | "inf" | null; burstiness: number; max_concurrency: number | null } => {
  const w = r.scenario.workload ?? {}
  const open = w.rate !== undefined || w.stages !== undefined || w.arrival !== undefined
  // Stages, ramps and traces have no single vllm request rate: null rather than a made-up number.
  const rate = w.rate ?? (open || w.trace !== undefined || w.file !== undefined ? null : "inf")
  return { request_rate: rate, burstiness: w.burstiness ?? 1, max_concurrency: w.concurrency ?? (open || w.trace !== undefined || w.file !== undefined ? null : 32) }
}

/** vllm's date stamp (YYYYmmdd-HHMMSS, local time); SOURCE_DATE_EPOCH (seconds, UTC) makes it reproducible. */
export const benchDate = (env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): string => {
  const epoch = env.SOURCE_DATE_EPOCH
  const fixed = epoch !== undefined && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : undefined
  const d = fixed ?? now
  const two = (n: number) => String(n).padStart(2, "0")
  const [y, mo, da, h, mi, s] =
    fixed !== undefined
      ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
      : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]
  return `${y}${two(mo)}${two(da)}-${two(h)}${two(mi)}${two(s)}`
}

/** Python's str() of a float request rate as vllm's filename prints it: 4 → "4.0", 0.5 → "0.5". */
const pyFloat = (x: number): string => (Number.isInteger(x) ? `${x}.0` : String(x))

/** vllm's default result filename (compute_result_filename): {label}-{rate}qps[-concurrency{N}]-{model}-{date}.json. */
export const benchResultFilename = (o: {
  readonly label: string
  readonly requestRate: number | "inf" | null
  readonly maxConcurrency: number | undefined
  readonly model: string
  readonly date: string
}): string => {
  const rate = o.requestRate === null ? "stages" : o.requestRate === "inf" ? "inf" : pyFloat(o.requestRate)
  const model = o.model.split("/").pop() ?? o.model
  return `${o.label}-${rate}qps${o.maxConcurrency !== undefined ? `-concurrency${o.maxConcurrency}` : ""}-${model}-${o.date}.json`
}

/** A scenario run's default result filename. */
export const defaultResultFilename = (r: ResolvedScenario, date: string, o: { readonly label?: string; readonly backend?: string }): string =>
  benchResultFilename({
    label: o.label ?? o.backend ?? "servesim",
    requestRate: loadOf(r).request_rate,
    maxConcurrency: r.scenario.workload?.concurrency,
    model: r.scenario.model,
    date,
  })

/** The statistics the selection asks for beyond servesim's default set. */
export const extraStatsFor = (r: ResolvedScenario, o: BenchOutputOptions) => {
  const metrics = o.percentileMetrics ?? ["ttft", "tpot", "itl"]
  const load = loadOf(r)
  const capped = r.scenario.workload?.concurrency !== undefined
  return {
    percentiles: o.metricPercentiles ?? [99],
    // vllm writes these only with --max-concurrency (and the second only with a finite rate too).
    clientQueue: metrics.includes("client_queue_time") && capped,
    e2elIncludingClientQueue: metrics.includes("e2el_including_client_queue") && capped && typeof load.request_rate === "number",
  }
}

/**
 * The vllm bench result: metadata, benchmark fields, the selected percentile keys, per-request arrays
 * (--save-detailed), then the rest of servesim's summary.
 */
export const benchResult = (
  summary: Record<string, unknown>,
  r: ResolvedScenario,
  numPrompts: number,
  date: string,
  o: BenchOutputOptions,
  detailed: Record<string, unknown[]> | undefined,
): Record<string, unknown> => {
  const backend = o.backend ?? "servesim"
  const load = loadOf(r)
  const extra = extraStatsFor(r, o)
  const metrics = (o.percentileMetrics ?? ["ttft", "tpot", "itl"]).filter(
    (m) => (m !== "client_queue_time" || extra.clientQueue) && (m !== "e2el_including_client_queue" || extra.e2elIncludingClientQueue),
  )
  return benchResultFields(
    {
      date,
      backend,
      label: o.label ?? null,
      model: r.scenario.model,
      numPrompts,
      ...(o.metadata !== undefined ? { metadata: o.metadata } : {}),
      ...load,
    },
    summary,
    selectedStatKeys(metrics, extra.percentiles),
    detailed,
  )
}

/** What a vllm bench result records about the run besides its metrics. */
export interface BenchHead {
  readonly date: string
  readonly backend: string
  readonly endpointType?: string
  readonly label: string | null
  readonly model: string
  readonly tokenizer?: string | null
  readonly numPrompts: number
  readonly metadata?: Readonly<Record<string, string>>
  readonly request_rate: number | "inf" | null
  readonly burstiness: number
  readonly max_concurrency: number | null
}

/** The percentile keys of the selected metrics, in vllm's order: mean, median, std, then each percentile. */
export const selectedStatKeys = (metrics: ReadonlyArray<PercentileMetric>, percentiles: ReadonlyArray<number>): string[] => {
  const keys: string[] = []
  for (const m of PERCENTILE_METRICS) {
    if (!metrics.includes(m)) continue
    keys.push(`mean_${m}_ms`, `median_${m}_ms`, `std_${m}_ms`, ...percentiles.map((p) => `p${String(p)}_${m}_ms`))
  }
  return keys
}

/**
 * A vllm bench result in vllm's field order (vllm/benchmarks/serve.py main_async and benchmark): the
 * head, the benchmark fields, the per-request arrays, the `selected` statistic keys, then every other
 * field of `summary` (a key the head already holds is not repeated). One layout for simulate and probe.
 */
export const benchResultFields = (
  head: BenchHead,
  summary: Record<string, unknown>,
  selected: ReadonlyArray<string>,
  detailed: Record<string, unknown[]> | undefined,
): Record<string, unknown> => {
  const pick = (k: string): unknown => summary[k]
  const out: Record<string, unknown> = {
    date: head.date,
    endpoint_type: head.endpointType ?? head.backend,
    backend: head.backend,
    label: head.label,
    model_id: head.model,
    tokenizer_id: head.tokenizer === undefined ? head.model : head.tokenizer,
    num_prompts: head.numPrompts,
    ...head.metadata,
    request_rate: head.request_rate,
    burstiness: head.burstiness,
    max_concurrency: head.max_concurrency,
    duration: pick("duration"),
    completed: pick("completed"),
    failed: pick("failed"),
    total_input_tokens: pick("total_input_tokens"),
    total_output_tokens: pick("total_output_tokens"),
    request_throughput: pick("request_throughput"),
    request_goodput: pick("request_goodput") ?? null,
    output_throughput: pick("output_throughput"),
    total_token_throughput: pick("total_token_throughput"),
    ...detailed,
    max_output_tokens_per_s: pick("max_output_tokens_per_s"),
    max_concurrent_requests: pick("max_concurrent_requests"),
    rtfx: 0,
  }
  for (const k of selected) out[k] = summary[k]
  for (const [k, v] of Object.entries(summary)) if (!(k in out)) out[k] = v
  return out
}

const lengthText = (v: unknown): string => {
  if (v === undefined || v === "sharegpt") return "ShareGPT-like"
  if (typeof v === "number") return String(v)
  if (typeof v === "object" && v !== null) {
    const d = v as Record<string, unknown>
    if (d.kind === "uniform") return `${String(d.min)}–${String(d.max)}`
    if (d.kind === "fixed") return String(d.value)
    if (d.kind === "normal" || d.kind === "lognormal") return `${d.kind} mean ${String(d.mean)}`
    if (d.kind === "preset") return String(d.name)
    return String(d.kind)
  }
  return String(v)
}

/** One line naming what was simulated: model, GPUs, parallelism, load shape, lengths, requests. */
export const runTitle = (r: ResolvedScenario, numPrompts: number): string => {
  const s = r.scenario
  const w = s.workload ?? {}
  const replicas = s.replicas ?? 1
  // Every GPU of the deployment: both pools when prefill and decode are disaggregated.
  const gpus = deploymentGpus(r).reduce((n, g) => n + g.count, 0)
  const pool = (x: ResolvedScenario, name: string) => `${name} ${x.scenario.replicas ?? 1}× tp ${x.par.tp}`
  const par =
    r.disaggregation !== undefined
      ? `${pool(r.disaggregation.prefill, "prefill")}, ${pool(r.disaggregation.decode, "decode")}`
      : [`tp ${r.par.tp}`, ...(r.par.pp > 1 ? [`pp ${r.par.pp}`] : []), ...(replicas > 1 ? [`${replicas} replicas`] : [])].join(", ")
  let load: string
  if (w.trace !== undefined) load = `trace ${w.trace}`
  else if (w.file !== undefined) load = `workload spec ${w.file}`
  else if (w.stages !== undefined) load = `rate stages ${w.stages.map((st) => `${st.rate}/s×${st.duration}s`).join(", ")}`
  else if (w.arrival !== undefined) load = "custom arrivals"
  else if (w.rate !== undefined)
    load = w.rate === "inf" ? "all requests at once" : `${w.rate} req/s ${(w.burstiness ?? 1) === 1 ? "Poisson" : `gamma (burstiness ${w.burstiness})`}`
  else load = `closed loop, ${w.concurrency ?? 32} in flight`
  if (w.concurrency !== undefined && (w.rate !== undefined || w.stages !== undefined || w.arrival !== undefined)) load += `, at most ${w.concurrency} in flight`
  const prefix = w.prefix !== undefined ? ` after a ${w.prefix.length}-token shared prefix${w.prefix.numGroups > 1 ? ` (${w.prefix.numGroups} distinct)` : ""}` : ""
  const lengths =
    w.dataset !== undefined
      ? `${w.dataset.name} dataset ${w.dataset.path}`
      : w.trace !== undefined || w.file !== undefined
        ? ""
        : `prompts ${lengthText(w.input)} tokens${prefix}, outputs ${lengthText(w.output)}`
  return `${r.model.id} on ${gpus}× ${r.gpu.id} (${par}, ${r.precision}): ${load}${lengths === "" ? "" : `; ${lengths}`}; ${numPrompts} requests`
}
