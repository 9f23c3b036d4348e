// The twin's /metrics page: vLLM 0.25.1's families, HELP texts, label sets and histogram buckets, in
// the order of the captured page (../shared/data/vllm-captures/metrics_v1_0.25.1_loaded-…txt).
// Semantics follow vllm/v1/metrics (see ../shared/notes/vllm-api.md §2.2) and the captured page's own
// arithmetic: prompt_tokens_total adds a request's whole prompt when its first token is sampled;
// iteration_tokens_total observes, per engine step, the computed (non-cached) prompt tokens of the
// requests whose prefill completed plus the tokens sampled.
// Every duration is in SIMULATED seconds (what the simulated vLLM would report), not wall seconds.
import { PromWriter, buckets125, Histogram, HTTP_HANDLER_BUCKETS, HTTP_HIGHR_BUCKETS, ITERATION_TOKEN_BUCKETS, ITL_BUCKETS, PARAMS_N_BUCKETS, pyFloatRepr, REQUEST_LATENCY_BUCKETS, TTFT_BUCKETS, type Labels } from "./prom.ts"

export type FinishedReason = "stop" | "length" | "abort" | "error" | "repetition"
export const FINISHED_REASONS: ReadonlyArray<FinishedReason> = ["stop", "length", "abort", "error", "repetition"]

/** Live engine state read at scrape time. */
export interface EngineGauges {
  readonly numRunning: number
  readonly numWaiting: number
  readonly kvCacheUsage: number
  readonly prefixQueries: number
  readonly prefixHits: number
}

export interface CacheConfigInput {
  readonly blockSize: number
  readonly numGpuBlocks: number
  /** Set when num_gpu_blocks was given rather than profiled (vLLM's --num-gpu-blocks-override). */
  readonly numGpuBlocksOverride?: number
  readonly enablePrefixCaching: boolean
  readonly gpuMemoryUtilization: number
  readonly cacheDtype: string
  readonly maxModelLen: number
  readonly slidingWindow?: number
}

const pyBool = (b: boolean): string => (b ? "True" : "False")

/** vllm:cache_config_info's labels (CacheConfig.metrics_info() of vLLM 0.25.1, same 29 keys + engine). */
export const cacheConfigLabels = (c: CacheConfigInput): Record<string, string> => {
  const tokens = c.numGpuBlocks * c.blockSize
  return {
    _block_size_resolved: "True",
    block_size: String(c.blockSize),
    cache_dtype: c.cacheDtype,
    calculate_kv_scales: "False",
    enable_prefix_caching: pyBool(c.enablePrefixCaching),
    gpu_memory_utilization: pyFloatRepr(c.gpuMemoryUtilization),
    hash_block_size: "None",
    is_attention_free: "False",
    kv_cache_dtype_skip_layers: "[]",
    kv_cache_max_concurrency: pyFloatRepr(tokens / c.maxModelLen),
    kv_cache_memory_bytes: "None",
    kv_cache_size_tokens: String(tokens),
    kv_offloading_backend: "native",
    kv_offloading_size: "None",
    kv_sharing_fast_prefill: "False",
    mamba_block_size: "None",
    mamba_cache_dtype: "auto",
    mamba_cache_mode: "none",
    mamba_page_size_padded: "None",
    mamba_ssm_cache_dtype: "auto",
    num_cpu_blocks: "None",
    num_gpu_blocks: String(c.numGpuBlocks),
    num_gpu_blocks_override: c.numGpuBlocksOverride === undefined ? "None" : String(c.numGpuBlocksOverride),
    prefix_caching_hash_algo: "sha256",
    skip_page_size_padded: "None",
    sliding_window: c.slidingWindow === undefined || c.slidingWindow <= 0 ? "None" : String(c.slidingWindow),
    user_specified_block_size: "False",
    user_specified_mamba_block_size: "False",
  }
}

/** What a finished request contributes (all times in simulated seconds). */
export interface FinishedRequest {
  readonly reason: FinishedReason
  readonly promptTokens: number
  readonly generationTokens: number
  readonly maxTokens: number
  readonly prefillComputedTokens: number
  readonly e2e: number
  readonly queue: number
  readonly prefill: number
  readonly decode: number
  readonly inference: number
}

class EngineStats {
  preemptions = 0
  promptTokens = 0
  promptLocalCompute = 0
  promptCacheHit = 0
  generationTokens = 0
  readonly success: Record<FinishedReason, number> = { stop: 0, length: 0, abort: 0, error: 0, repetition: 0 }
  readonly requestPromptTokens: Histogram
  readonly requestGenerationTokens: Histogram
  readonly iterationTokens = new Histogram(ITERATION_TOKEN_BUCKETS)
  readonly maxNumGenerationTokens: Histogram
  readonly paramsN = new Histogram(PARAMS_N_BUCKETS)
  readonly paramsMaxTokens: Histogram
  readonly ttft = new Histogram(TTFT_BUCKETS)
  readonly itl = new Histogram(ITL_BUCKETS)
  readonly tpot = new Histogram(ITL_BUCKETS)
  readonly e2e = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly queue = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly inference = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly prefill = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly decode = new Histogram(REQUEST_LATENCY_BUCKETS)
  readonly prefillKvComputed: Histogram

  constructor(maxModelLen: number) {
    const b = buckets125(maxModelLen)
    this.requestPromptTokens = new Histogram(b)
    this.requestGenerationTokens = new Histogram(b)
    this.maxNumGenerationTokens = new Histogram(b)
    this.paramsMaxTokens = new Histogram(b)
    this.prefillKvComputed = new Histogram(b)
  }
}

interface HttpSeries {
  readonly handler: string
  readonly method: string
  readonly status: string
  count: number
}

interface HttpHandler {
  readonly handler: string
  readonly method: string
  readonly duration: Histogram
  requestBytes: { count: number; sum: number }
  responseBytes: { count: number; sum: number }
}

export interface MetricsOptions {
  readonly modelName: string
  readonly maxModelLen: number
  readonly numEngines: number
  readonly cacheConfig: CacheConfigInput
  /** Unix seconds the server started (written in `_created` series and process_start_time_seconds). */
  readonly startUnix: number
}

/** Handlers prometheus_fastapi_instrumentator leaves out in vLLM (vllm/v1/metrics/prometheus.py). */
const UNINSTRUMENTED: ReadonlySet<string> = new Set(["/metrics", "/health", "/load", "/ping", "/version", "/server_info"])

export class VllmMetrics {
  readonly options: MetricsOptions
  private readonly engines: EngineStats[] = []
  private readonly http = new Map<string, HttpSeries>()
  private readonly handlers = new Map<string, HttpHandler>()
  private readonly highr = new Histogram(HTTP_HIGHR_BUCKETS)

  constructor(options: MetricsOptions) {
    this.options = options
    for (let e = 0; e < options.numEngines; e++) this.engines.push(new EngineStats(options.maxModelLen))
  }

  private e(engine: number): EngineStats {
    return this.engines[engine] ?? this.engines[0]!
  }

  onPreempt(engine: number): void {
    this.e(engine).preemptions++
  }

  /** The request's first token: its prompt counts as processed (cached part by source). */
  onFirstToken(engine: number, promptTokens: number, cachedTokens: number, ttft: number): void {
    const s = this.e(engine)
    s.promptTokens += promptTokens
    s.promptCacheHit += cachedTokens
    s.promptLocalCompute += promptTokens - cachedTokens
    s.ttft.observe(ttft)
  }

  /** One sampled token; `itl` is the gap since the request's previous token (undefined for the first). */
  onToken(engine: number, itl: number | undefined): void {
    const s = this.e(engine)
    s.generationTokens++
    if (itl !== undefined) s.itl.observe(itl)
  }

  onStep(engine: number, iterationTokens: number): void {
    if (iterationTokens > 0) this.e(engine).iterationTokens.observe(iterationTokens)
  }

  onFinished(engine: number, r: FinishedRequest): void {
    const s = this.e(engine)
    s.success[r.reason]++
    s.requestPromptTokens.observe(r.promptTokens)
    s.requestGenerationTokens.observe(r.generationTokens)
    s.maxNumGenerationTokens.observe(r.generationTokens)
    s.paramsN.observe(1)
    s.paramsMaxTokens.observe(r.maxTokens)
    s.prefillKvComputed.observe(r.prefillComputedTokens)
    s.e2e.observe(r.e2e)
    s.queue.observe(r.queue)
    s.prefill.observe(r.prefill)
    s.decode.observe(r.decode)
    s.inference.observe(r.inference)
    s.tpot.observe(r.generationTokens > 1 ? r.decode / (r.generationTokens - 1) : 0)
  }

  /** A request that ended without finishing in the engine's eyes (client gone, injected error). */
  onEnded(engine: number, reason: FinishedReason): void {
    this.e(engine).success[reason]++
  }

  /** One HTTP request as prometheus_fastapi_instrumentator counts it (duration in simulated seconds). */
  onHttp(handler: string, method: string, status: number, duration: number, requestBytes: number, responseBytes: number): void {
    if (UNINSTRUMENTED.has(handler)) return
    const statusClass = `${Math.floor(status / 100)}xx`
    const key = `${handler} ${method} ${statusClass}`
    const series = this.http.get(key) ?? { handler, method, status: statusClass, count: 0 }
    series.count++
    this.http.set(key, series)
    const hk = `${handler} ${method}`
    const h = this.handlers.get(hk) ?? {
      handler,
      method,
      duration: new Histogram(HTTP_HANDLER_BUCKETS),
      requestBytes: { count: 0, sum: 0 },
      responseBytes: { count: 0, sum: 0 },
    }
    h.duration.observe(duration)
    h.requestBytes.count++
    h.requestBytes.sum += requestBytes
    h.responseBytes.count++
    h.responseBytes.sum += responseBytes
    this.handlers.set(hk, h)
    this.highr.observe(duration)
  }

  /** Totals over engines, for logs and tests. */
  totals(): { promptTokens: number; generationTokens: number; success: Record<FinishedReason, number>; preemptions: number } {
    const success: Record<FinishedReason, number> = { stop: 0, length: 0, abort: 0, error: 0, repetition: 0 }
    let promptTokens = 0
    let generationTokens = 0
    let preemptions = 0
    for (const s of this.engines) {
      promptTokens += s.promptTokens
      generationTokens += s.generationTokens
      preemptions += s.preemptions
      for (const r of FINISHED_REASONS) success[r] += s.success[r]
    }
    return { promptTokens, generationTokens, success, preemptions }
  }

  render(gauges: ReadonlyArray<EngineGauges>): string {
    const o = this.options
    const w = new PromWriter(o.startUnix)
    const ids = this.engines.map((_, i) => String(i))
    const base = (i: number): Labels => ({ engine: ids[i]!, model_name: o.modelName })
    const per = (f: (s: EngineStats, i: number) => number): Array<readonly [Labels, number]> => this.engines.map((s, i) => [base(i), f(s, i)] as const)
    const gauge = (i: number): EngineGauges => gauges[i] ?? { numRunning: 0, numWaiting: 0, kvCacheUsage: 0, prefixQueries: 0, prefixHits: 0 }
    const hist = (f: (s: EngineStats) => Histogram): Array<readonly [Labels, Histogram]> => this.engines.map((s, i) => [base(i), f(s)] as const)

    const mem = process.memoryUsage()
    const cpu = process.cpuUsage()
    w.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", [[{}, mem.rss]])
    w.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", [[{}, Math.round(o.startUnix * 100) / 100]])
    w.counter("process_cpu_seconds", "Total user and system CPU time spent in seconds.", [[{}, (cpu.user + cpu.system) / 1e6]], false)

    const mfu = "(for Model Flops Utilization calculations)."
    w.counter("vllm:estimated_flops_per_gpu", `Estimated number of floating point operations per GPU ${mfu}`, per(() => 0))
    w.counter("vllm:estimated_read_bytes_per_gpu", `Estimated number of bytes read from memory per GPU ${mfu}`, per(() => 0))
    w.counter("vllm:estimated_write_bytes_per_gpu", `Estimated number of bytes written to memory per GPU ${mfu}`, per(() => 0))
    w.gauge("vllm:num_requests_running", "Number of requests in model execution batches.", per((_, i) => gauge(i).numRunning))
    w.gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", per((_, i) => gauge(i).numWaiting))
    w.gauge(
      "vllm:num_requests_waiting_by_reason",
      "Number of waiting requests by reason. Reason labels: 'capacity' = waiting for scheduling capacity; 'deferred' = deferred by transient constraints (LoRA budget, KV transfer, blocked status). Sum of all reasons equals vllm:num_requests_waiting.",
      this.engines.flatMap((_, i) => [
        [{ ...base(i), reason: "capacity" }, gauge(i).numWaiting] as const,
        [{ ...base(i), reason: "deferred" }, 0] as const,
      ]),
    )
    w.gauge(
      "vllm:engine_sleep_state",
      "Engine sleep state; awake = 0 means engine is sleeping; awake = 1 means engine is awake; weights_offloaded = 1 means sleep level 1; discard_all = 1 means sleep level 2.",
      this.engines.flatMap((_, i) => [
        [{ ...base(i), sleep_state: "awake" }, 1] as const,
        [{ ...base(i), sleep_state: "weights_offloaded" }, 0] as const,
        [{ ...base(i), sleep_state: "discard_all" }, 0] as const,
      ]),
    )
    w.gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", per((_, i) => gauge(i).kvCacheUsage))
    w.counter("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.", per((_, i) => gauge(i).prefixQueries))
    w.counter("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", per((_, i) => gauge(i).prefixHits))
    w.counter(
      "vllm:external_prefix_cache_queries",
      "External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.",
      per(() => 0),
    )
    w.counter(
      "vllm:external_prefix_cache_hits",
      "External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.",
      per(() => 0),
    )
    w.counter("vllm:mm_cache_queries", "Multi-modal cache queries, in terms of number of queried items.", per(() => 0))
    w.counter("vllm:mm_cache_hits", "Multi-modal cache hits, in terms of number of cached items.", per(() => 0))
    w.counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.", per((s) => s.preemptions))
    w.counter("vllm:prompt_tokens", "Number of prefill tokens processed.", per((s) => s.promptTokens))
    w.counter(
      "vllm:prompt_tokens_by_source",
      "Number of prompt tokens by source.",
      this.engines.flatMap((s, i) => [
        [{ ...base(i), source: "local_compute" }, s.promptLocalCompute] as const,
        [{ ...base(i), source: "local_cache_hit" }, s.promptCacheHit] as const,
        [{ ...base(i), source: "external_kv_transfer" }, 0] as const,
      ]),
    )
    w.counter("vllm:prompt_tokens_cached", "Number of cached prompt tokens (local + external).", per((s) => s.promptCacheHit))
    w.counter("vllm:generation_tokens", "Number of generation tokens processed.", per((s) => s.generationTokens))
    w.counter(
      "vllm:request_success",
      "Count of successfully processed requests.",
      this.engines.flatMap((s, i) => FINISHED_REASONS.map((r) => [{ ...base(i), finished_reason: r }, s.success[r]] as const)),
    )
    w.histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", hist((s) => s.requestPromptTokens))
    w.histogram("vllm:request_generation_tokens", "Number of generation tokens processed.", hist((s) => s.requestGenerationTokens))
    w.histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.", hist((s) => s.iterationTokens))
    w.histogram(
      "vllm:request_max_num_generation_tokens",
      "Histogram of maximum number of requested generation tokens.",
      hist((s) => s.maxNumGenerationTokens),
    )
    w.histogram("vllm:request_params_n", "Histogram of the n request parameter.", hist((s) => s.paramsN))
    w.histogram("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.", hist((s) => s.paramsMaxTokens))
    w.histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", hist((s) => s.ttft))
    w.histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", hist((s) => s.itl))
    w.histogram(
      "vllm:request_time_per_output_token_seconds",
      "Histogram of time_per_output_token_seconds per request.",
      hist((s) => s.tpot),
    )
    w.histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", hist((s) => s.e2e))
    w.histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", hist((s) => s.queue))
    w.histogram("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", hist((s) => s.inference))
    w.histogram("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", hist((s) => s.prefill))
    w.histogram("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", hist((s) => s.decode))
    w.histogram(
      "vllm:request_prefill_kv_computed_tokens",
      "Histogram of new KV tokens computed during prefill (excluding cached tokens).",
      hist((s) => s.prefillKvComputed),
    )
    const info = cacheConfigLabels(o.cacheConfig)
    w.gauge(
      "vllm:cache_config_info",
      "Information of the LLMEngine CacheConfig",
      this.engines.map((_, i) => [{ ...info, engine: ids[i]! }, 1] as const),
    )

    const httpSeries = [...this.http.values()]
    if (httpSeries.length > 0) {
      w.counter(
        "http_requests",
        "Total number of requests by method, status and handler.",
        httpSeries.map((s) => [{ handler: s.handler, method: s.method, status: s.status }, s.count] as const),
      )
      const handlers = [...this.handlers.values()]
      w.summary(
        "http_request_size_bytes",
        "Content length of incoming requests by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
        handlers.map((h) => [{ handler: h.handler }, h.requestBytes] as const),
      )
      w.summary(
        "http_response_size_bytes",
        "Content length of outgoing responses by handler. Only value of header is respected. Otherwise ignored. No percentile calculated. ",
        handlers.map((h) => [{ handler: h.handler }, h.responseBytes] as const),
      )
      w.histogram(
        "http_request_duration_highr_seconds",
        "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
        [[{}, this.highr]],
      )
      w.histogram(
        "http_request_duration_seconds",
        "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
        handlers.map((h) => [{ handler: h.handler, method: h.method }, h.duration] as const),
      )
    }
    return w.text()
  }
}
