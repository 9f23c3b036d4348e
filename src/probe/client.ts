// One streaming completion request against a vLLM OpenAI-compatible server, timed at the edge with
// performance.now(), and small GET helpers (/v1/models, /version, /metrics). A request never fails in
// the error channel: every failure is classified into the outcome, so a sweep counts it and goes on.
// Interruption (Ctrl-C) still propagates and aborts the fetch.
import { Data, Duration, Effect, Option, Redacted, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { makeSseParser, makeStreamAccumulator, parseErrorBody } from "./sse.ts"
import type { StreamTally } from "./sse.ts"
import type { ErrorClass, RequestRecord } from "./types.ts"

/** A server-side problem that stops the probe (nothing to measure against). */
export class ProbeError extends Data.TaggedError("ProbeError")<{ readonly message: string }> {}

/**
 * Replaces every occurrence of a secret's exact value (and its URL-encoded form) by "[REDACTED]":
 * a server that echoes the Authorization header in an error body must not put the key in a record.
 */
export const redactSecrets = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const v of secrets) {
    if (v.length === 0) continue
    for (const form of new Set([v, encodeURIComponent(v)])) out = out.split(form).join("[REDACTED]")
  }
  return out
}

const secretsOf = (key: Redacted.Redacted<string> | undefined): ReadonlyArray<string> => (key === undefined ? [] : [Redacted.value(key)])

/** A URL with its user:password@ part masked, for messages. */
export const maskUrlCredentials = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1***@")

/** Epoch milliseconds from the monotonic clock: comparable within a process, immune to clock steps. */
export const nowEpochMs = (): number => performance.timeOrigin + performance.now()

export interface StreamRequest {
  /** Server root, e.g. http://127.0.0.1:8000 (no trailing slash). */
  readonly baseUrl: string
  readonly model: string
  readonly prompt: string
  readonly maxTokens: number
  /** /v1/chat/completions instead of /v1/completions. */
  readonly chat: boolean
  /** Whole-request deadline. */
  readonly timeoutMs: number
  /**
   * Deadline for the response headers (connect + first byte), separate from the stream's deadline:
   * vLLM sends a stream's headers before its first token, so a server silent this long is not working.
   * Default: timeoutMs.
   */
  readonly firstByteTimeoutMs?: number
  readonly apiKey?: Redacted.Redacted<string>
  /** Sent as x-request-id (vLLM uses it as its request id). */
  readonly requestId?: string
  /** Keep the generated text in the outcome (`responseText`), e.g. for a conversation's next turn. */
  readonly keepText?: boolean
}

/** What the client measures; the runner adds the plan fields to make a RequestRecord. */
export type RequestOutcome = Omit<
  RequestRecord,
  "point" | "index" | "warmup" | "session" | "intendedAt" | "promptTokensRequested" | "promptWords" | "maxTokens"
>

/** The JSON body of one request: fixed output length, usage on every chunk. */
export const requestBody = (req: Pick<StreamRequest, "model" | "prompt" | "maxTokens" | "chat">): Record<string, unknown> => {
  const common = {
    model: req.model,
    stream: true,
    stream_options: { include_usage: true, continuous_usage_stats: true },
    ignore_eos: true,
    min_tokens: req.maxTokens,
    temperature: 0
  }
  return req.chat
    ? { ...common, messages: [{ role: "user", content: req.prompt }], max_completion_tokens: req.maxTokens }
    : { ...common, prompt: req.prompt, max_tokens: req.maxTokens }
}

const oneLine = (s: string, max = 300): string => {
  const flat = s.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

/** Error codes and messages along an error's `cause` chain (undici nests them). */
const causeChain = (e: unknown): { codes: string[]; messages: string[] } => {
  const codes: string[] = []
  const messages: string[] = []
  let cur: unknown = e
  for (let depth = 0; depth < 6 && cur !== undefined && cur !== null; depth++) {
    if (typeof cur === "object") {
      const o = cur as { code?: unknown; message?: unknown; cause?: unknown; reason?: unknown }
      if (typeof o.code === "string") codes.push(o.code)
      if (typeof o.message === "string" && o.message !== "") messages.push(o.message)
      cur = o.reason !== undefined && typeof o.reason === "object" && o.reason !== null && "cause" in o.reason ? o.reason : o.cause
    } else {
      messages.push(String(cur))
      break
    }
  }
  return { codes, messages }
}

/** Classifies a transport-level failure (before or during the body). */
export const classifyTransportError = (e: unknown, duringBody: boolean): { errorClass: ErrorClass; error: string } => {
  const { codes, messages } = causeChain(e)
  const detail = oneLine([...new Set([...codes, ...messages.slice(-2)])].join(": "))
  const has = (...c: string[]) => codes.some((x) => c.includes(x))
  if (has("ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT")) {
    return { errorClass: "connection_refused", error: detail }
  }
  if (has("UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT")) {
    return { errorClass: "timeout", error: `HTTP stack timeout: ${detail}` }
  }
  if (
    duringBody || has("ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED") ||
    messages.some((m) => /terminated|other side closed|socket hang up/i.test(m))
  ) {
    return { errorClass: "dropped_connection", error: detail }
  }
  return { errorClass: "bad_response", error: detail }
}

/** Decides ok / error class for a 200 stream that ended (cleanly or not). */
export const judgeStream = (
  tally: StreamTally,
  transport: { errorClass: ErrorClass; error: string } | undefined
): { ok: boolean; errorClass?: ErrorClass; error?: string } => {
  if (tally.error !== undefined) {
    const code = tally.error.code === undefined ? "" : ` (code ${tally.error.code})`
    return { ok: false, errorClass: "stream_error", error: oneLine(`${tally.error.type ?? "error"}${code}: ${tally.error.message}`) }
  }
  if (tally.finishReason === "abort" || tally.finishReason === "error") {
    return { ok: false, errorClass: "stream_error", error: `finish_reason ${tally.finishReason}` }
  }
  if (transport !== undefined) return { ok: false, ...transport }
  if (tally.firstTokenMs === undefined) {
    if (tally.invalid > 0) return { ok: false, errorClass: "bad_response", error: oneLine(`unreadable stream: ${tally.invalidReason ?? ""}`) }
    if (tally.done) return { ok: false, errorClass: "bad_response", error: "stream finished without a generated token" }
    return { ok: false, errorClass: "dropped_connection", error: "stream closed before the first token" }
  }
  if (!tally.done && tally.finishReason === null) {
    return { ok: false, errorClass: "dropped_connection", error: `stream closed after ${tally.chunks.length} chunks without finish_reason or [DONE]` }
  }
  return { ok: true }
}

const READ_ERROR_BODY_MS = 5000

/**
 * Sends one streaming request and measures it. Times in the outcome are ms after `sentAt`, which is
 * taken immediately before the request is handed to fetch.
 */
export const sendStreamingRequest = Effect.fnUntraced(function*(req: StreamRequest) {
  const client = yield* HttpClient.HttpClient
  const path = req.chat ? "/v1/chat/completions" : "/v1/completions"
  let request = HttpClientRequest.post(`${req.baseUrl}${path}`).pipe(
    HttpClientRequest.bodyJsonUnsafe(requestBody(req)),
    HttpClientRequest.setHeader("accept", "text/event-stream")
  )
  if (req.apiKey !== undefined) request = HttpClientRequest.bearerToken(request, req.apiKey)
  if (req.requestId !== undefined) request = HttpClientRequest.setHeader(request, "x-request-id", req.requestId)

  const parser = makeSseParser()
  const acc = makeStreamAccumulator({ keepText: req.keepText === true })
  const decoder = new TextDecoder()
  let headersMs: number | undefined
  let status: number | undefined
  let contentType = ""
  let nonOk: { errorClass: ErrorClass; error: string } | undefined
  let transport: { errorClass: ErrorClass; error: string } | undefined
  let inBody = false

  const sentAt = nowEpochMs()
  const t0 = performance.now()
  const elapsed = () => performance.now() - t0

  const firstByteMs = Math.min(req.firstByteTimeoutMs ?? req.timeoutMs, req.timeoutMs)
  let silent = false
  const work = Effect.gen(function*() {
    const answered = yield* Effect.timeoutOption(client.execute(request), Duration.millis(firstByteMs))
    if (Option.isNone(answered)) {
      silent = true
      return
    }
    const response = answered.value
    headersMs = elapsed()
    status = response.status
    contentType = response.headers["content-type"] ?? ""
    if (response.status !== 200) {
      const text = yield* response.text.pipe(
        Effect.timeoutOption(Duration.millis(READ_ERROR_BODY_MS)),
        Effect.map(Option.getOrElse(() => "")),
        Effect.orElseSucceed(() => "")
      )
      let message = text
      try {
        message = parseErrorBody(JSON.parse(text))?.message ?? text
      } catch {
        // not JSON: keep the raw text
      }
      const errorClass: ErrorClass = response.status >= 500
        ? "http_5xx"
        : response.status >= 400
        ? "http_4xx"
        : "bad_response"
      nonOk = { errorClass, error: oneLine(`HTTP ${response.status}: ${message === "" ? "(empty body)" : message}`) }
      return
    }
    inBody = true
    yield* Stream.runForEach(response.stream, (bytes) =>
      Effect.sync(() => {
        const t = elapsed()
        for (const ev of parser.push(decoder.decode(bytes, { stream: true }))) acc.onEvent(ev, t)
      }))
    const t = elapsed()
    for (const ev of parser.push(decoder.decode())) acc.onEvent(ev, t)
    for (const ev of parser.end()) acc.onEvent(ev, t)
  }).pipe(
    Effect.catch((e) =>
      Effect.sync(() => {
        transport = classifyTransportError(e, inBody)
      })
    ),
    Effect.provideService(HttpClient.TracerDisabledWhen, () => true)
  )

  const finished = yield* Effect.timeoutOption(work, Duration.millis(req.timeoutMs))
  const endMs = elapsed()
  const tally = acc.tally()
  let verdict: { ok: boolean; errorClass?: ErrorClass; error?: string }
  if (silent) {
    verdict = {
      ok: false,
      errorClass: "timeout",
      error: `no response headers within ${firstByteMs / 1000} s (connect/first-byte timeout): the server accepted nothing or is not answering`
    }
  } else if (Option.isNone(finished)) {
    verdict = {
      ok: false,
      errorClass: "timeout",
      error: `no complete response within ${req.timeoutMs / 1000} s (${tally.chunks.length} chunks received)`
    }
  } else if (nonOk !== undefined) verdict = { ok: false, ...nonOk }
  else if (status === undefined) verdict = { ok: false, ...(transport ?? { errorClass: "bad_response", error: "no response" }) }
  else if (
    transport === undefined && tally.chunks.length === 0 && !tally.done && tally.error === undefined &&
    !contentType.includes("event-stream")
  ) {
    verdict = { ok: false, errorClass: "bad_response", error: oneLine(`HTTP 200 with content-type "${contentType}", not an SSE stream`) }
  } else verdict = judgeStream(tally, transport)

  const outcome: RequestOutcome = {
    sentAt,
    ...(headersMs === undefined ? {} : { headersMs }),
    ...(tally.firstChunkMs === undefined ? {} : { firstChunkMs: tally.firstChunkMs }),
    ...(tally.firstTokenMs === undefined ? {} : { firstTokenMs: tally.firstTokenMs }),
    ...(tally.lastChunkMs === undefined ? {} : { lastChunkMs: tally.lastChunkMs }),
    endMs,
    chunks: tally.chunks.map((c) => [c.t, c.tokens] as const),
    ...(status === undefined ? {} : { status }),
    ok: verdict.ok,
    ...(verdict.errorClass === undefined ? {} : { errorClass: verdict.errorClass }),
    ...(verdict.error === undefined ? {} : { error: redactSecrets(verdict.error, secretsOf(req.apiKey)) }),
    finishReason: tally.finishReason,
    ...(tally.usage === undefined ? {} : { usage: tally.usage }),
    continuousUsage: tally.continuousUsage,
    done: tally.done,
    ...(tally.text === undefined ? {} : { responseText: redactSecrets(tally.text, secretsOf(req.apiKey)) })
  }
  return outcome
})

/** GET a path; non-2xx and transport failures become ProbeError naming the URL. */
export const getText = Effect.fnUntraced(function*(
  baseUrl: string,
  path: string,
  options: { readonly timeoutMs: number; readonly apiKey?: Redacted.Redacted<string> | undefined }
) {
  const client = yield* HttpClient.HttpClient
  let request = HttpClientRequest.get(`${baseUrl}${path}`)
  if (options.apiKey !== undefined) request = HttpClientRequest.bearerToken(request, options.apiKey)
  const url = `${baseUrl}${path}`
  const result = yield* client.execute(request).pipe(
    Effect.flatMap((res) => Effect.map(res.text, (text) => ({ status: res.status, text: redactSecrets(text, secretsOf(options.apiKey)) }))),
    Effect.mapError((e) => new ProbeError({ message: `GET ${url}: ${classifyTransportError(e, false).error}` })),
    Effect.timeoutOrElse({
      duration: Duration.millis(options.timeoutMs),
      orElse: () => Effect.fail(new ProbeError({ message: `GET ${url}: no response within ${options.timeoutMs / 1000} s` }))
    }),
    Effect.provideService(HttpClient.TracerDisabledWhen, () => true)
  )
  return result
})

/** Reads an API key from the named environment variable; the value is never logged. */
export const apiKeyFromEnv = (name: string | undefined): Redacted.Redacted<string> | undefined | string => {
  if (name === undefined) return undefined
  const v = process.env[name]
  if (v === undefined || v === "") return `--api-key-env ${name}: the environment variable is not set`
  return Redacted.make(v)
}
