// Pure readers of vLLM's /v1/models and /version bodies, and the per-point digest of /metrics samples.
import { histogramQuantile } from "./metrics-parser.ts"
import type { Histogram, VllmSnapshot } from "./metrics-parser.ts"
import type { ScrapeRecord } from "./types.ts"
import { maxOf } from "../sim/stats.ts"
import { isRecord } from "../format/json.ts"

export interface ModelCard {
  readonly id: string
  readonly root?: string
  readonly max_model_len?: number
}


/** `{"object":"list","data":[{id, root, max_model_len, ...}]}` → model cards. */
export const parseModels = (text: string): ReadonlyArray<ModelCard> | string => {
  let u: unknown
  try {
    u = JSON.parse(text)
  } catch (e) {
    return `/v1/models: not JSON (${e instanceof Error ? e.message : String(e)})`
  }
  if (!isRecord(u) || !Array.isArray(u.data)) return "/v1/models: expected {\"data\": [...]}"
  const out: ModelCard[] = []
  for (const m of u.data) {
    if (!isRecord(m) || typeof m.id !== "string") continue
    out.push({
      id: m.id,
      ...(typeof m.root === "string" ? { root: m.root } : {}),
      ...(typeof m.max_model_len === "number" ? { max_model_len: m.max_model_len } : {})
    })
  }
  return out
}

/** `{"version": "0.25.1"}` → "0.25.1". */
export const parseVersion = (text: string): string | undefined => {
  try {
    const u: unknown = JSON.parse(text)
    return isRecord(u) && typeof u.version === "string" ? u.version : undefined
  } catch {
    return undefined
  }
}

/** A VllmSnapshot in the compact form stored per scrape. */
export const toScrapeRecord = (point: string, session: number, at: number, s: VllmSnapshot): ScrapeRecord => {
  const iter = s.iterationTokens
  return {
    point,
    session,
    at,
    ...(s.running === undefined ? {} : { running: s.running }),
    ...(s.waiting === undefined ? {} : { waiting: s.waiting }),
    ...(s.kvCacheUsage === undefined ? {} : { kvCacheUsage: s.kvCacheUsage }),
    ...(s.preemptions === undefined ? {} : { preemptions: s.preemptions }),
    ...(s.promptTokens === undefined ? {} : { promptTokens: s.promptTokens }),
    ...(s.generationTokens === undefined ? {} : { generationTokens: s.generationTokens }),
    ...(s.promptTokensCached === undefined ? {} : { promptTokensCached: s.promptTokensCached }),
    ...(s.prefixCacheQueries === undefined ? {} : { prefixCacheQueries: s.prefixCacheQueries }),
    ...(s.prefixCacheHits === undefined ? {} : { prefixCacheHits: s.prefixCacheHits }),
    ...(s.requestSuccess === undefined ? {} : { requestSuccess: s.requestSuccess }),
    ...(iter === undefined ? {} : {
      iterationTokens: {
        buckets: iter.buckets.map((b) => [Number.isFinite(b.le) ? b.le : "+Inf", b.count] as const),
        sum: iter.sum,
        count: iter.count
      }
    }),
    ...(s.latencySums === undefined ? {} : { latencySums: s.latencySums })
  }
}

const histFromRecord = (h: NonNullable<ScrapeRecord["iterationTokens"]>): Histogram => ({
  buckets: h.buckets.map(([le, count]) => ({ le: le === "+Inf" ? Number.POSITIVE_INFINITY : le, count })),
  sum: h.sum,
  count: h.count
})

export interface GaugeDigest {
  readonly mean: number
  readonly max: number
}

export interface ServerMetricsDigest {
  readonly scrapes: number
  readonly window_s: number
  readonly running?: GaugeDigest
  readonly waiting?: GaugeDigest
  readonly kv_cache_usage?: GaugeDigest
  readonly preemptions?: number
  readonly prompt_tokens?: number
  readonly generation_tokens?: number
  readonly prompt_tokens_cached?: number
  readonly request_success?: Readonly<Record<string, number>>
  readonly iteration_tokens?: {
    readonly steps: number
    readonly tokens: number
    readonly mean: number | null
    readonly p50: number | null
    readonly p90: number | null
    readonly p99: number | null
  }
  /** Engine-side mean of each latency histogram over the window, seconds. */
  readonly latency_mean_s?: Readonly<Record<string, number>>
}

const gauge = (values: ReadonlyArray<number | undefined>): GaugeDigest | undefined => {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x))
  if (v.length === 0) return undefined
  let sum = 0
  for (const x of v) sum += x
  return { mean: sum / v.length, max: maxOf(v) }
}

const delta = (first: number | undefined, last: number | undefined): number | undefined =>
  first === undefined || last === undefined || last < first ? undefined : last - first

/**
 * Digest of one point's scrapes (error-free ones, in time order): gauges as mean/max, counters and
 * histograms as last − first (undefined across a counter reset).
 */
export const digestScrapes = (scrapes: ReadonlyArray<ScrapeRecord>): ServerMetricsDigest | undefined => {
  const ok = scrapes.filter((s) => s.error === undefined).sort((a, b) => a.at - b.at)
  if (ok.length === 0) return undefined
  const first = ok[0]!
  const last = ok[ok.length - 1]!
  const out: { -readonly [K in keyof ServerMetricsDigest]: ServerMetricsDigest[K] } = {
    scrapes: ok.length,
    window_s: (last.at - first.at) / 1000
  }
  const running = gauge(ok.map((s) => s.running))
  if (running !== undefined) out.running = running
  const waiting = gauge(ok.map((s) => s.waiting))
  if (waiting !== undefined) out.waiting = waiting
  const kv = gauge(ok.map((s) => s.kvCacheUsage))
  if (kv !== undefined) out.kv_cache_usage = kv
  const pre = delta(first.preemptions, last.preemptions)
  if (pre !== undefined) out.preemptions = pre
  const pt = delta(first.promptTokens, last.promptTokens)
  if (pt !== undefined) out.prompt_tokens = pt
  const gt = delta(first.generationTokens, last.generationTokens)
  if (gt !== undefined) out.generation_tokens = gt
  const ptc = delta(first.promptTokensCached, last.promptTokensCached)
  if (ptc !== undefined) out.prompt_tokens_cached = ptc
  if (first.requestSuccess !== undefined && last.requestSuccess !== undefined) {
    const rs: Record<string, number> = {}
    for (const [k, v] of Object.entries(last.requestSuccess)) {
      const d = delta(first.requestSuccess[k] ?? 0, v)
      if (d !== undefined) rs[k] = d
    }
    out.request_success = rs
  }
  if (first.iterationTokens !== undefined && last.iterationTokens !== undefined) {
    const a = histFromRecord(first.iterationTokens)
    const b = histFromRecord(last.iterationTokens)
    const prev = new Map(a.buckets.map((x) => [x.le, x.count]))
    const buckets = b.buckets.map((x) => ({ le: x.le, count: x.count - (prev.get(x.le) ?? 0) }))
    if (buckets.every((x) => x.count >= 0) && b.count >= a.count) {
      const h: Histogram = { buckets, sum: b.sum - a.sum, count: b.count - a.count }
      out.iteration_tokens = {
        steps: h.count,
        tokens: h.sum,
        mean: h.count > 0 ? h.sum / h.count : null,
        p50: histogramQuantile(h, 0.5) ?? null,
        p90: histogramQuantile(h, 0.9) ?? null,
        p99: histogramQuantile(h, 0.99) ?? null
      }
    }
  }
  if (first.latencySums !== undefined && last.latencySums !== undefined) {
    const lat: Record<string, number> = {}
    for (const [name, v] of Object.entries(last.latencySums)) {
      const f = first.latencySums[name]
      if (f === undefined) continue
      const dc = v.count - f.count
      if (dc > 0) lat[name] = (v.sum - f.sum) / dc
    }
    if (Object.keys(lat).length > 0) out.latency_mean_s = lat
  }
  return out
}
