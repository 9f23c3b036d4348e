// Shapes shared by the probe's client, run directory, runner and summaries. A RequestRecord is one line
// of RUN_DIR/requests.jsonl; its field names are part of the run-directory format.
import type { Usage } from "./sse.ts"

/** Why a request failed. */
export type ErrorClass =
  | "connection_refused" // nothing listening / DNS / host unreachable
  | "timeout" // the probe's per-request deadline (--timeout) or the HTTP stack's own timeouts
  | "http_4xx" // non-200 status 400–499; message from vLLM's error body
  | "http_5xx" // status ≥ 500
  | "stream_error" // an error object inside a 200 stream, or finish_reason error/abort
  | "dropped_connection" // the connection closed before the stream finished
  | "bad_response" // 200 that is not an SSE completion stream, unparsable chunks, other statuses

export const ERROR_CLASSES: ReadonlyArray<ErrorClass> = [
  "connection_refused",
  "timeout",
  "http_4xx",
  "http_5xx",
  "stream_error",
  "dropped_connection",
  "bad_response"
]

/**
 * One finished request. Absolute times are epoch milliseconds derived from the monotonic clock
 * (performance.timeOrigin + performance.now()); the other times are milliseconds after `sentAt`.
 */
export interface RequestRecord {
  /** Point id, e.g. "concurrency-4" or "rate-2". */
  readonly point: string
  /** Index within the point: 0..numRequests-1 for measured requests, 0..warmup-1 for warm-ups. */
  readonly index: number
  readonly warmup: boolean
  /** 0 for the first run of the directory, +1 per --resume. */
  readonly session: number
  /** When the request should have been sent (open loop: the Poisson schedule; closed loop: slot free). */
  readonly intendedAt: number
  /** When the request was handed to the HTTP client. */
  readonly sentAt: number
  readonly headersMs?: number
  /** First content chunk of any kind (chat's role-only chunk included). */
  readonly firstChunkMs?: number
  /** First chunk carrying a generated token: the TTFT. */
  readonly firstTokenMs?: number
  /** Last content chunk: the E2EL. */
  readonly lastChunkMs?: number
  /** When the request was over (stream end, error or deadline). */
  readonly endMs: number
  /** Content chunks as [ms after sentAt, generated tokens in the chunk (null: server sent no usage)]. */
  readonly chunks: ReadonlyArray<readonly [number, number | null]>
  readonly status?: number
  readonly ok: boolean
  readonly errorClass?: ErrorClass
  /** One line; vLLM's error message when it sent one. Never contains the API key. */
  readonly error?: string
  readonly finishReason?: string | null
  /** Final usage as the server reported it (prompt_tokens is the real prompt length). */
  readonly usage?: Usage
  /** Whether usage rode on every chunk (continuous_usage_stats honoured). */
  readonly continuousUsage: boolean
  /** Whether `data: [DONE]` arrived. */
  readonly done: boolean
  /** Requested prompt tokens (isl) and the number of filler words sent for it. */
  readonly promptTokensRequested: number
  readonly promptWords: number
  readonly maxTokens: number
  /**
   * Multi-turn workload points only: the generated text, kept so that a resumed run can rebuild the
   * conversation history the next turns of this conversation send.
   */
  readonly responseText?: string
}

/** One /metrics sample as stored in RUN_DIR/metrics/<point>.jsonl. */
export interface ScrapeRecord {
  readonly point: string
  readonly session: number
  /** Epoch ms (monotonic-derived) when the scrape's response arrived. */
  readonly at: number
  readonly error?: string
  readonly running?: number
  readonly waiting?: number
  readonly kvCacheUsage?: number
  readonly preemptions?: number
  readonly promptTokens?: number
  readonly generationTokens?: number
  readonly promptTokensCached?: number
  readonly prefixCacheQueries?: number
  readonly prefixCacheHits?: number
  readonly requestSuccess?: Readonly<Record<string, number>>
  readonly iterationTokens?: {
    readonly buckets: ReadonlyArray<readonly [number | "+Inf", number]>
    readonly sum: number
    readonly count: number
  }
  readonly latencySums?: Readonly<Record<string, { readonly sum: number; readonly count: number }>>
}

/**
 * One rate stage of a shared-prefix workload spec (--workload): its requests follow the spec's
 * arrivals (ConstantLoadTimer: exactly numRequests = trunc(rate · duration) in `duration` seconds).
 */
export interface StagePointSpec {
  readonly id: string
  readonly kind: "stage"
  /** Index of the stage in the spec's load.stages. */
  readonly stage: number
  readonly rate: number
  readonly duration: number
  readonly numRequests: number
}

/** A sweep point: closed loop at a concurrency, open loop (Poisson) at a rate, or a workload-spec stage. */
export type PointSpec =
  | { readonly id: string; readonly kind: "concurrency"; readonly concurrency: number }
  /** Open loop at `rate` requests/s (vllm bench --request-rate; "inf": every request at once). */
  | { readonly id: string; readonly kind: "rate"; readonly rate: number | "inf" }
  | StagePointSpec

export const pointId = (
  p:
    | { readonly kind: "concurrency"; readonly concurrency: number }
    | { readonly kind: "rate"; readonly rate: number | "inf" }
    | { readonly kind: "stage"; readonly stage: number }
): string => (p.kind === "concurrency" ? `concurrency-${p.concurrency}` : p.kind === "rate" ? `rate-${p.rate}` : `stage-${p.stage}`)

/** Measured requests of a point: the plan's --num-requests, or a workload stage's own count. */
export const requestsInPoint = (point: PointSpec, planNumRequests: number): number =>
  point.kind === "stage" ? point.numRequests : planNumRequests
