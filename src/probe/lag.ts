// Honest timings against a servesim twin (or any server on a loaded host): a twin runs its simulated
// engine in scaled real time, so the client's wall-clock timings are simulated times ÷ time scale, and
// any wall-clock lag — the twin's event loop behind its scaled clock, or the probe's own event loop —
// is multiplied by the time scale in what the probe reports. This module converts scaled timings back
// and decides whether a point lagged too much to be measured. Pure.
import type { RequestRecord } from "./types.ts"
import { minOf } from "../sim/stats.ts"

/** Default bound: a point whose lags could shift its mean TTFT or E2EL by more than 10% is marked lagged. */
export const DEFAULT_MAX_LAG_FRACTION = 0.1

/** The twin's lag counters from /metrics (servesim:* families). */
export interface TwinLagCounters {
  readonly timeScale: number
  readonly lagSumS: number
  readonly events: number
  readonly lagMaxS: number
}

/** servesim:* lag families of a /metrics page, or undefined when the server is not a twin. */
export const twinLagCounters = (text: string): TwinLagCounters | undefined => {
  const value = (name: string): number | undefined => {
    const m = new RegExp(`^${name.replace(/[:]/g, "\\:")} (\\S+)$`, "m").exec(text)
    const v = m === null ? Number.NaN : Number(m[1])
    return Number.isFinite(v) ? v : undefined
  }
  const timeScale = value("servesim:time_scale")
  const lagSumS = value("servesim:event_lag_seconds_total")
  const events = value("servesim:events_total")
  const lagMaxS = value("servesim:event_lag_max_seconds")
  if (timeScale === undefined || lagSumS === undefined || events === undefined || lagMaxS === undefined) return undefined
  return { timeScale, lagSumS, events, lagMaxS }
}

/** What a point summary records about lag (ms; "_sim" = multiplied by the time scale). */
export interface PointLag {
  readonly time_scale: number
  /** Twin event lag over the point, wall ms (null: not a twin or no scrape). */
  readonly server_lag_mean_ms: number | null
  /** Largest twin event lag, wall ms, when it was reached during the point. */
  readonly server_lag_max_ms: number | null
  readonly client_lag_mean_ms: number | null
  readonly client_lag_p99_ms: number | null
  /** (server + client mean lag) × time scale ÷ mean TTFT: the bias lag could put on TTFT. */
  readonly ttft_bias: number | null
  /** (server max + client p99 lag) × time scale ÷ mean E2EL. */
  readonly e2el_bias: number | null
  readonly bound: number
  readonly lagged: boolean
  /** Why it lagged, one line (absent when not lagged). */
  readonly reason?: string
}

/** The twin's mean and (when reached during the interval) max lag between two reads, wall ms. */
export const serverLagBetween = (
  before: TwinLagCounters | undefined,
  after: TwinLagCounters | undefined
): { meanMs: number; maxMs: number | null } | null => {
  if (before === undefined || after === undefined) return null
  const events = after.events - before.events
  if (events <= 0) return null
  return { meanMs: ((after.lagSumS - before.lagSumS) / events) * 1000, maxMs: after.lagMaxS > before.lagMaxS ? after.lagMaxS * 1000 : null }
}

/** Marks a point lagged when its lags, scaled to simulated time, could bias mean TTFT or E2EL beyond `bound`. */
export const judgeLag = (o: {
  readonly timeScale: number
  readonly server: { meanMs: number; maxMs: number | null } | null
  readonly client: { mean: number; p99: number } | null
  readonly meanTtftMs: number | null
  readonly meanE2elMs: number | null
  readonly bound: number
}): PointLag => {
  const s = o.timeScale
  const sMean = o.server?.meanMs ?? 0
  const cMean = o.client?.mean ?? 0
  const ttftBias = o.meanTtftMs !== null && o.meanTtftMs > 0 ? ((sMean + cMean) * s) / o.meanTtftMs : null
  const e2elBias = o.meanE2elMs !== null && o.meanE2elMs > 0 ? (((o.server?.maxMs ?? sMean) + (o.client?.p99 ?? 0)) * s) / o.meanE2elMs : null
  const reasons: string[] = []
  if (ttftBias !== null && ttftBias > o.bound) {
    reasons.push(`mean lag (server ${sMean.toFixed(2)} ms + client ${cMean.toFixed(2)} ms wall, × time scale ${s}) is ${(ttftBias * 100).toFixed(0)}% of the mean TTFT`)
  }
  if (e2elBias !== null && e2elBias > o.bound) reasons.push(`peak lag × time scale ${s} is ${(e2elBias * 100).toFixed(0)}% of the mean E2EL`)
  return {
    time_scale: s,
    server_lag_mean_ms: o.server?.meanMs ?? null,
    server_lag_max_ms: o.server?.maxMs ?? null,
    client_lag_mean_ms: o.client?.mean ?? null,
    client_lag_p99_ms: o.client?.p99 ?? null,
    ttft_bias: ttftBias,
    e2el_bias: e2elBias,
    bound: o.bound,
    lagged: reasons.length > 0,
    ...(reasons.length > 0 ? { reason: `${reasons.join("; ")} (bound ${(o.bound * 100).toFixed(0)}%)` } : {})
  }
}

/** A record's timings in simulated time: durations × scale, absolute times scaled about `origin` (epoch ms). */
export const toSimulatedTime = (r: RequestRecord, scale: number, origin: number): RequestRecord => {
  if (scale === 1) return r
  const ms = (v: number | undefined) => (v === undefined ? undefined : v * scale)
  const out: Record<string, unknown> = {
    ...r,
    intendedAt: origin + (r.intendedAt - origin) * scale,
    sentAt: origin + (r.sentAt - origin) * scale,
    endMs: r.endMs * scale,
    chunks: r.chunks.map(([t, n]) => [t * scale, n] as const)
  }
  for (const k of ["headersMs", "firstChunkMs", "firstTokenMs", "lastChunkMs"] as const) {
    const v = ms(r[k])
    if (v !== undefined) out[k] = v
  }
  return out as unknown as RequestRecord
}

/** Records of one run in simulated time (origin: the earliest send). */
export const recordsInSimulatedTime = (records: ReadonlyArray<RequestRecord>, scale: number): ReadonlyArray<RequestRecord> => {
  if (scale === 1 || records.length === 0) return records
  const origin = minOf(records.map((r) => r.sentAt))
  return records.map((r) => toSimulatedTime(r, scale, origin))
}
