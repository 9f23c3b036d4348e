// Prometheus text exposition (0.0.4, and the OpenMetrics subset vLLM emits) → samples grouped into
// metric families, then vLLM's serving metrics picked out by the names the scrape itself declares.
// Pure: no I/O, no clock. Every failure is a one-line string naming the line.

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped" | "info" | "stateset" | "gaugehistogram" | "unknown"

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
  readonly timestampMs?: number
}

export interface MetricFamily {
  readonly name: string
  readonly type: MetricType
  readonly help?: string
  readonly samples: ReadonlyArray<Sample>
}

export interface Scrape {
  /** Families by declared name (a `# TYPE` line), plus one untyped family per undeclared sample name. */
  readonly families: ReadonlyMap<string, MetricFamily>
  /** Every sample in page order. */
  readonly samples: ReadonlyArray<Sample>
}

const KNOWN_TYPES: ReadonlySet<string> = new Set([
  "counter",
  "gauge",
  "histogram",
  "summary",
  "untyped",
  "info",
  "stateset",
  "gaugehistogram",
  "unknown"
])

/** Suffixes by which a sample belongs to a family of another name. */
const FAMILY_SUFFIXES = ["_bucket", "_sum", "_count", "_created", "_total", "_gsum", "_gcount", "_info"] as const

/** Parses a Prometheus float: decimals, exponents, NaN, ±Inf (any case, as Go's parser does). */
export const parsePromNumber = (raw: string): number | undefined => {
  const s = raw.trim()
  const lower = s.toLowerCase()
  if (lower === "nan") return Number.NaN
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY
  if (lower === "-inf") return Number.NEGATIVE_INFINITY
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined
  return Number(s)
}

const unescapeHelp = (s: string): string => s.replace(/\\(\\|n)/g, (_m, c: string) => (c === "n" ? "\n" : "\\"))

interface Cursor {
  pos: number
}

const isNameStart = (c: string): boolean => /[a-zA-Z_:]/.test(c)
const isNameChar = (c: string): boolean => /[a-zA-Z0-9_:]/.test(c)

const readName = (line: string, cur: Cursor): string => {
  const start = cur.pos
  if (cur.pos < line.length && isNameStart(line[cur.pos]!)) {
    cur.pos++
    while (cur.pos < line.length && isNameChar(line[cur.pos]!)) cur.pos++
  }
  return line.slice(start, cur.pos)
}

const skipSpaces = (line: string, cur: Cursor): void => {
  while (cur.pos < line.length && (line[cur.pos] === " " || line[cur.pos] === "\t")) cur.pos++
}

/** Reads `{a="x",b="y\"z"}` starting at `{`; returns the labels or an error string. */
const readLabels = (line: string, cur: Cursor): Record<string, string> | string => {
  const labels: Record<string, string> = {}
  cur.pos++ // {
  for (;;) {
    skipSpaces(line, cur)
    if (cur.pos >= line.length) return "unterminated label set"
    if (line[cur.pos] === "}") {
      cur.pos++
      return labels
    }
    const key = readName(line, cur)
    if (key === "") return `bad label name at column ${cur.pos + 1}`
    skipSpaces(line, cur)
    if (line[cur.pos] !== "=") return `expected '=' after label ${key}`
    cur.pos++
    skipSpaces(line, cur)
    if (line[cur.pos] !== '"') return `expected '"' to open the value of label ${key}`
    const value = readQuoted(line, cur)
    if (value.startsWith("\u0000")) return `${value.slice(1)} in the value of label ${key}`
    labels[key] = value
    skipSpaces(line, cur)
    if (line[cur.pos] === ",") {
      cur.pos++
      continue
    }
    if (line[cur.pos] === "}") {
      cur.pos++
      return labels
    }
    return `expected ',' or '}' after label ${key}`
  }
}

/** Reads a double-quoted string with \\ \" \n escapes; an error comes back prefixed with NUL. */
const readQuoted = (line: string, cur: Cursor): string => {
  cur.pos++ // opening quote
  let out = ""
  while (cur.pos < line.length) {
    const c = line[cur.pos]!
    if (c === "\\") {
      const next = line[cur.pos + 1]
      if (next === "n") out += "\n"
      else if (next === "\\") out += "\\"
      else if (next === '"') out += '"'
      else if (next === undefined) return "\u0000dangling escape"
      else out += "\\" + next // unknown escapes are kept verbatim, as the Go parser does
      cur.pos += 2
      continue
    }
    if (c === '"') {
      cur.pos++
      return out
    }
    out += c
    cur.pos++
  }
  return "\u0000unterminated string"
}

const familyOf = (sampleName: string, declared: ReadonlyMap<string, { type: MetricType }>): string | undefined => {
  if (declared.has(sampleName)) return sampleName
  for (const suffix of FAMILY_SUFFIXES) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length)
      if (declared.has(base)) return base
    }
  }
  return undefined
}

/**
 * Parses a whole /metrics page. Tolerates: no trailing newline, CRLF, blank lines, comments other than
 * HELP/TYPE, `_created` series, OpenMetrics `# EOF` and exemplars, optional timestamps.
 */
export const parsePrometheusText = (text: string): Scrape | string => {
  const declared = new Map<string, { type: MetricType; help?: string; samples: Sample[] }>()
  const undeclared = new Map<string, Sample[]>()
  const samples: Sample[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    const where = `line ${i + 1}`
    if (line === "") continue
    if (line.startsWith("#")) {
      const m = /^#\s*(HELP|TYPE|UNIT)\s+(\S+)\s*(.*)$/.exec(line)
      if (m === null) continue // free comment, or "# EOF"
      const kind = m[1]!
      const name = m[2]!
      const rest = m[3] ?? ""
      const fam = declared.get(name) ?? { type: "untyped" as MetricType, samples: [] }
      if (kind === "TYPE") {
        const t = rest.trim().toLowerCase()
        if (!KNOWN_TYPES.has(t)) return `${where}: unknown metric type "${rest.trim()}" for ${name}`
        fam.type = t as MetricType
      } else if (kind === "HELP") {
        fam.help = unescapeHelp(rest)
      }
      declared.set(name, fam)
      continue
    }
    const cur: Cursor = { pos: 0 }
    const name = readName(line, cur)
    if (name === "") return `${where}: expected a metric name, got "${line.slice(0, 40)}"`
    let labels: Record<string, string> = {}
    skipSpaces(line, cur)
    if (line[cur.pos] === "{") {
      const parsed = readLabels(line, cur)
      if (typeof parsed === "string") return `${where}: ${name}: ${parsed}`
      labels = parsed
    }
    skipSpaces(line, cur)
    let rest = line.slice(cur.pos)
    const exemplar = rest.indexOf(" # ")
    if (exemplar >= 0) rest = rest.slice(0, exemplar)
    const parts = rest.trim().split(/\s+/)
    if (parts.length === 0 || parts[0] === "") return `${where}: ${name}: missing value`
    const value = parsePromNumber(parts[0]!)
    if (value === undefined) return `${where}: ${name}: value "${parts[0]}" is not a number`
    let timestampMs: number | undefined
    if (parts.length > 1) {
      const ts = parsePromNumber(parts[1]!)
      if (ts === undefined || !Number.isFinite(ts)) return `${where}: ${name}: timestamp "${parts[1]}" is not a number`
      // Prometheus text timestamps are integer milliseconds; OpenMetrics uses float seconds.
      timestampMs = parts[1]!.includes(".") ? ts * 1000 : ts
    }
    const sample: Sample = timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs }
    samples.push(sample)
    const fam = familyOf(name, declared)
    if (fam !== undefined) declared.get(fam)!.samples.push(sample)
    else {
      const list = undeclared.get(name) ?? []
      list.push(sample)
      undeclared.set(name, list)
    }
  }
  const families = new Map<string, MetricFamily>()
  for (const [name, f] of declared) {
    families.set(name, f.help === undefined ? { name, type: f.type, samples: f.samples } : { name, type: f.type, help: f.help, samples: f.samples })
  }
  for (const [name, list] of undeclared) if (!families.has(name)) families.set(name, { name, type: "untyped", samples: list })
  return { families, samples }
}

// ---------------------------------------------------------------------------------------------
// Generic accessors

const labelsMatch = (labels: Readonly<Record<string, string>>, filter: Readonly<Record<string, string>> | undefined): boolean => {
  if (filter === undefined) return true
  for (const k of Object.keys(filter)) if (labels[k] !== filter[k]) return false
  return true
}

/** Samples named exactly `name` (after label filtering). */
export const samplesNamed = (scrape: Scrape, name: string, filter?: Readonly<Record<string, string>>): ReadonlyArray<Sample> =>
  scrape.samples.filter((s) => s.name === name && labelsMatch(s.labels, filter))

/** Whether any sample of that exact name exists. */
export const hasSample = (scrape: Scrape, name: string): boolean => scrape.samples.some((s) => s.name === name)

/** Sum over label sets (e.g. over `engine` for data-parallel ranks); undefined when absent. */
export const sumOf = (scrape: Scrape, name: string, filter?: Readonly<Record<string, string>>): number | undefined => {
  const list = samplesNamed(scrape, name, filter)
  if (list.length === 0) return undefined
  let total = 0
  for (const s of list) total += s.value
  return total
}

/** Mean over label sets; undefined when absent. */
export const meanOf = (scrape: Scrape, name: string, filter?: Readonly<Record<string, string>>): number | undefined => {
  const list = samplesNamed(scrape, name, filter)
  if (list.length === 0) return undefined
  let total = 0
  for (const s of list) total += s.value
  return total / list.length
}

/**
 * The exposed sample name of a counter whose code name is `base`: prometheus_client exposes `base_total`
 * (declared either as `base` in OpenMetrics or `base_total` in the classic format). Read from the scrape.
 */
export const counterSampleName = (scrape: Scrape, base: string): string | undefined => {
  const stem = base.endsWith("_total") ? base.slice(0, -"_total".length) : base
  for (const candidate of [`${stem}_total`, stem]) {
    if (hasSample(scrape, candidate)) return candidate
  }
  return undefined
}

export interface HistogramBucket {
  /** Upper bound; +Infinity for the last bucket. */
  readonly le: number
  /** Cumulative count of observations ≤ le. */
  readonly count: number
}

export interface Histogram {
  readonly buckets: ReadonlyArray<HistogramBucket>
  readonly sum: number
  readonly count: number
}

/**
 * A histogram family summed over its label sets (buckets matched by `le`). Bucket bounds come from the
 * scrape. Undefined when the page has no `<name>_bucket` samples.
 */
export const histogramOf = (scrape: Scrape, name: string, filter?: Readonly<Record<string, string>>): Histogram | undefined => {
  const buckets = samplesNamed(scrape, `${name}_bucket`).filter((s) => {
    const { le: _le, ...rest } = s.labels
    return labelsMatch(rest, filter)
  })
  if (buckets.length === 0) return undefined
  const byLe = new Map<number, number>()
  for (const b of buckets) {
    const le = parsePromNumber(b.labels.le ?? "")
    if (le === undefined) continue
    byLe.set(le, (byLe.get(le) ?? 0) + b.value)
  }
  const sorted = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }))
  const sum = sumOf(scrape, `${name}_sum`, filter) ?? Number.NaN
  const count = sumOf(scrape, `${name}_count`, filter) ?? (sorted.length > 0 ? sorted[sorted.length - 1]!.count : 0)
  return { buckets: sorted, sum, count }
}

/** Bucket-wise difference `after − before` (for a measurement window); negative → counter reset, undefined. */
export const histogramDelta = (before: Histogram | undefined, after: Histogram | undefined): Histogram | undefined => {
  if (after === undefined) return undefined
  if (before === undefined) return after
  const prev = new Map(before.buckets.map((b) => [b.le, b.count]))
  const buckets: HistogramBucket[] = []
  for (const b of after.buckets) {
    const d = b.count - (prev.get(b.le) ?? 0)
    if (d < 0) return undefined
    buckets.push({ le: b.le, count: d })
  }
  const count = after.count - before.count
  if (count < 0) return undefined
  return { buckets, sum: after.sum - before.sum, count }
}

/** Quantile estimate from cumulative buckets, linear within a bucket (Prometheus' histogram_quantile). */
export const histogramQuantile = (h: Histogram, q: number): number | undefined => {
  if (h.buckets.length === 0) return undefined
  const total = h.buckets[h.buckets.length - 1]!.count
  if (total <= 0) return undefined
  const rank = q * total
  let prevLe = 0
  let prevCount = 0
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe
      const inBucket = b.count - prevCount
      if (inBucket <= 0) return b.le
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket
    }
    prevLe = b.le
    prevCount = b.count
  }
  return prevLe
}

// ---------------------------------------------------------------------------------------------
// vLLM's serving metrics

export interface VllmCacheConfig {
  readonly numGpuBlocks?: number
  readonly blockSize?: number
  readonly numCpuBlocks?: number
  readonly gpuMemoryUtilization?: number
  readonly enablePrefixCaching?: boolean
  /** Every label of `vllm:cache_config_info`, verbatim. */
  readonly labels: Readonly<Record<string, string>>
}

export interface VllmSnapshot {
  readonly running?: number
  readonly waiting?: number
  /** KV-cache usage as a fraction 0–1, averaged over engines. */
  readonly kvCacheUsage?: number
  /** Which gauge the usage came from (renamed in vLLM 0.9). */
  readonly kvCacheUsageMetric?: string
  readonly preemptions?: number
  readonly promptTokens?: number
  readonly generationTokens?: number
  readonly promptTokensCached?: number
  readonly prefixCacheQueries?: number
  readonly prefixCacheHits?: number
  /** Finished requests by finished_reason (stop, length, abort, error, ...). */
  readonly requestSuccess?: Readonly<Record<string, number>>
  /** Tokens per engine step; buckets as the server declares them. */
  readonly iterationTokens?: Histogram
  /** sum/count of the engine's latency histograms present on the page, by exposed name. */
  readonly latencySums?: Readonly<Record<string, { readonly sum: number; readonly count: number }>>
  readonly cacheConfig?: VllmCacheConfig
  /** Names of the vllm:* families the page declares (what this server version exposes). */
  readonly vllmFamilies: ReadonlyArray<string>
}

const LATENCY_HISTOGRAMS = [
  "vllm:time_to_first_token_seconds",
  "vllm:inter_token_latency_seconds",
  "vllm:time_per_output_token_seconds",
  "vllm:e2e_request_latency_seconds",
  "vllm:request_queue_time_seconds",
  "vllm:request_prefill_time_seconds",
  "vllm:request_decode_time_seconds",
  "vllm:request_inference_time_seconds"
] as const

const numLabel = (v: string | undefined): number | undefined => {
  if (v === undefined || v === "None" || v === "") return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** `vllm:cache_config_info` labels (num_gpu_blocks, block_size, ...) from the first engine that has them. */
export const cacheConfigOf = (scrape: Scrape): VllmCacheConfig | undefined => {
  const info = samplesNamed(scrape, "vllm:cache_config_info")
  if (info.length === 0) return undefined
  const labels = info[0]!.labels
  const out: {
    numGpuBlocks?: number
    blockSize?: number
    numCpuBlocks?: number
    gpuMemoryUtilization?: number
    enablePrefixCaching?: boolean
    labels: Readonly<Record<string, string>>
  } = { labels }
  const g = numLabel(labels.num_gpu_blocks)
  if (g !== undefined) out.numGpuBlocks = g
  const b = numLabel(labels.block_size)
  if (b !== undefined) out.blockSize = b
  const c = numLabel(labels.num_cpu_blocks)
  if (c !== undefined) out.numCpuBlocks = c
  const u = numLabel(labels.gpu_memory_utilization)
  if (u !== undefined) out.gpuMemoryUtilization = u
  if (labels.enable_prefix_caching === "True" || labels.enable_prefix_caching === "False") {
    out.enablePrefixCaching = labels.enable_prefix_caching === "True"
  }
  return out
}

/** Picks vLLM's serving metrics out of a parsed scrape, using whichever names this page exposes. */
export const vllmSnapshot = (scrape: Scrape): VllmSnapshot => {
  const out: { -readonly [K in keyof VllmSnapshot]: VllmSnapshot[K] } = {
    vllmFamilies: [...scrape.families.keys()].filter((n) => n.startsWith("vllm:")).sort()
  }
  const running = sumOf(scrape, "vllm:num_requests_running")
  if (running !== undefined) out.running = running
  const waiting = sumOf(scrape, "vllm:num_requests_waiting")
  if (waiting !== undefined) out.waiting = waiting
  for (const name of ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"]) {
    const v = meanOf(scrape, name)
    if (v !== undefined) {
      out.kvCacheUsage = v
      out.kvCacheUsageMetric = name
      break
    }
  }
  const counters: ReadonlyArray<readonly [keyof VllmSnapshot, string]> = [
    ["preemptions", "vllm:num_preemptions"],
    ["promptTokens", "vllm:prompt_tokens"],
    ["generationTokens", "vllm:generation_tokens"],
    ["promptTokensCached", "vllm:prompt_tokens_cached"]
  ]
  for (const [key, base] of counters) {
    const name = counterSampleName(scrape, base)
    if (name === undefined) continue
    const v = sumOf(scrape, name)
    if (v !== undefined) (out as Record<string, unknown>)[key] = v
  }
  const queries = counterSampleName(scrape, "vllm:prefix_cache_queries") ?? counterSampleName(scrape, "vllm:gpu_prefix_cache_queries")
  if (queries !== undefined) out.prefixCacheQueries = sumOf(scrape, queries)!
  const hits = counterSampleName(scrape, "vllm:prefix_cache_hits") ?? counterSampleName(scrape, "vllm:gpu_prefix_cache_hits")
  if (hits !== undefined) out.prefixCacheHits = sumOf(scrape, hits)!
  const success = counterSampleName(scrape, "vllm:request_success")
  if (success !== undefined) {
    const byReason: Record<string, number> = {}
    for (const s of samplesNamed(scrape, success)) {
      const reason = s.labels.finished_reason ?? "unknown"
      byReason[reason] = (byReason[reason] ?? 0) + s.value
    }
    out.requestSuccess = byReason
  }
  const iter = histogramOf(scrape, "vllm:iteration_tokens_total")
  if (iter !== undefined) out.iterationTokens = iter
  const sums: Record<string, { sum: number; count: number }> = {}
  for (const name of LATENCY_HISTOGRAMS) {
    const sum = sumOf(scrape, `${name}_sum`)
    const count = sumOf(scrape, `${name}_count`)
    if (sum !== undefined && count !== undefined) sums[name] = { sum, count }
  }
  if (Object.keys(sums).length > 0) out.latencySums = sums
  const cache = cacheConfigOf(scrape)
  if (cache !== undefined) out.cacheConfig = cache
  return out
}

/** Parse + extract in one step. */
export const parseVllmMetrics = (text: string): VllmSnapshot | string => {
  const scrape = parsePrometheusText(text)
  return typeof scrape === "string" ? scrape : vllmSnapshot(scrape)
}
