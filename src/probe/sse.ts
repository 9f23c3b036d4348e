// Incremental parsing of an OpenAI-style /v1/completions or /v1/chat/completions SSE stream as vLLM
// sends it: `data: {json}\n\n` events, `data: [DONE]` at the end, an error object inside a 200 stream
// on failure, and (with stream_options.continuous_usage_stats) a cumulative `usage` on every chunk.
// Pure: the caller stamps time; this file only turns text into events and events into a tally.
import { isRecord } from "../format/json.ts"

/** One dispatched SSE event (the WHATWG event-stream grammar). */
export interface SseEvent {
  readonly event: string
  readonly data: string
  readonly id?: string
}

/**
 * Incremental event-stream parser. Feed decoded text in arbitrary pieces (split anywhere, even inside a
 * CRLF); `push` returns the events completed by that piece; `end` flushes an event that the server left
 * without its terminating blank line.
 */
export interface SseParser {
  readonly push: (text: string) => ReadonlyArray<SseEvent>
  readonly end: () => ReadonlyArray<SseEvent>
  /** Number of comment lines (`: ping`) seen so far. */
  readonly comments: () => number
}

export const makeSseParser = (): SseParser => {
  let buffer = ""
  let data: string[] = []
  let hasData = false
  let eventType = ""
  let lastId: string | undefined
  let comments = 0

  const dispatch = (out: SseEvent[]): void => {
    if (hasData) {
      const ev: SseEvent = lastId === undefined
        ? { event: eventType === "" ? "message" : eventType, data: data.join("\n") }
        : { event: eventType === "" ? "message" : eventType, data: data.join("\n"), id: lastId }
      out.push(ev)
    }
    data = []
    hasData = false
    eventType = ""
  }

  const processLine = (line: string, out: SseEvent[]): void => {
    if (line === "") {
      dispatch(out)
      return
    }
    if (line.startsWith(":")) {
      comments++
      return
    }
    const colon = line.indexOf(":")
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? "" : line.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    switch (field) {
      case "data":
        data.push(value)
        hasData = true
        break
      case "event":
        eventType = value
        break
      case "id":
        if (!value.includes("\u0000")) lastId = value
        break
      default:
        break // retry and unknown fields are ignored
    }
  }

  const drain = (final: boolean): SseEvent[] => {
    const out: SseEvent[] = []
    let start = 0
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i)
      if (c === 10 /* \n */ || c === 13 /* \r */) {
        if (c === 13) {
          if (i + 1 >= buffer.length && !final) break // a lone \r at the end may be half of \r\n
          processLine(buffer.slice(start, i), out)
          if (buffer.charCodeAt(i + 1) === 10) i++
        } else processLine(buffer.slice(start, i), out)
        start = i + 1
      }
    }
    buffer = buffer.slice(start)
    if (final) {
      if (buffer !== "") processLine(buffer, out)
      buffer = ""
      dispatch(out)
    }
    return out
  }

  return {
    push: (text) => {
      buffer += text
      return drain(false)
    },
    end: () => drain(true),
    comments: () => comments
  }
}

// ---------------------------------------------------------------------------------------------
// Interpreting one event's data

export interface Usage {
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly total_tokens?: number
  /** prompt_tokens_details.cached_tokens (only with --enable-prompt-tokens-details). */
  readonly cached_tokens?: number
}

export interface StreamErrorInfo {
  readonly message: string
  readonly type?: string
  readonly code?: number | string
}

export type StreamMessage =
  | { readonly kind: "done" }
  | {
    readonly kind: "chunk"
    /** The chunk has a non-empty `choices` array (a content chunk, not the trailing usage chunk). */
    readonly hasChoices: boolean
    /** Text of choice 0: `text` (completions) or `delta.content` (chat); "" when none. */
    readonly text: string
    /** Chat: the role-only opening delta. */
    readonly roleOnly: boolean
    readonly finishReason: string | null
    readonly usage?: Usage
  }
  | { readonly kind: "error"; readonly error: StreamErrorInfo }
  | { readonly kind: "invalid"; readonly reason: string }


const num = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)

export const parseUsage = (u: unknown): Usage | undefined => {
  if (!isRecord(u)) return undefined
  const prompt = num(u.prompt_tokens)
  const completion = num(u.completion_tokens)
  if (prompt === undefined || completion === undefined) return undefined
  const total = num(u.total_tokens)
  const details = u.prompt_tokens_details
  const cached = isRecord(details) ? num(details.cached_tokens) : undefined
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    ...(total === undefined ? {} : { total_tokens: total }),
    ...(cached === undefined ? {} : { cached_tokens: cached })
  }
}

/**
 * vLLM's error body in either shape: nested `{"error":{message,type,param,code}}` (≥ 0.15, and inside
 * streams) or the older flat `{"object":"error","message":...}`; also FastAPI's `{"detail": ...}`.
 */
export const parseErrorBody = (u: unknown): StreamErrorInfo | undefined => {
  if (!isRecord(u)) return undefined
  const pick = (o: Record<string, unknown>): StreamErrorInfo | undefined => {
    const message = typeof o.message === "string" ? o.message : undefined
    if (message === undefined) return undefined
    const code = typeof o.code === "number" || typeof o.code === "string" ? o.code : undefined
    return {
      message,
      ...(typeof o.type === "string" ? { type: o.type } : {}),
      ...(code === undefined ? {} : { code })
    }
  }
  if (isRecord(u.error)) return pick(u.error) ?? { message: JSON.stringify(u.error) }
  if (typeof u.error === "string") return { message: u.error }
  if (u.object === "error") return pick(u) ?? { message: JSON.stringify(u) }
  if (u.detail !== undefined) return { message: typeof u.detail === "string" ? u.detail : JSON.stringify(u.detail) }
  return undefined
}

/** Classifies one SSE `data` payload. */
export const interpretData = (data: string): StreamMessage => {
  const trimmed = data.trim()
  if (trimmed === "[DONE]") return { kind: "done" }
  let parsed: unknown
  try {
    parsed = JSON.parse(trimmed)
  } catch (e) {
    return { kind: "invalid", reason: `not JSON: ${e instanceof Error ? e.message : String(e)}` }
  }
  const err = parseErrorBody(parsed)
  if (err !== undefined) return { kind: "error", error: err }
  if (!isRecord(parsed)) return { kind: "invalid", reason: "data is not a JSON object" }
  const usage = parseUsage(parsed.usage)
  const choices = Array.isArray(parsed.choices) ? parsed.choices : undefined
  if (choices === undefined && usage === undefined) return { kind: "invalid", reason: "chunk has neither choices nor usage" }
  const first: unknown = choices?.[0]
  let text = ""
  let roleOnly = false
  let finishReason: string | null = null
  if (isRecord(first)) {
    if (typeof first.text === "string") text = first.text
    else if (isRecord(first.delta)) {
      const d = first.delta
      if (typeof d.content === "string") text = d.content
      if (typeof d.reasoning === "string" && text === "") text = d.reasoning
      if (typeof d.reasoning_content === "string" && text === "") text = d.reasoning_content
      roleOnly = typeof d.role === "string" && text === ""
    }
    if (typeof first.finish_reason === "string") finishReason = first.finish_reason
  }
  return {
    kind: "chunk",
    hasChoices: choices !== undefined && choices.length > 0,
    text,
    roleOnly,
    finishReason,
    ...(usage === undefined ? {} : { usage })
  }
}

// ---------------------------------------------------------------------------------------------
// Tallying a stream

/** One content chunk: time (ms after the request was sent) and generated tokens it carried. */
export interface ChunkTiming {
  readonly t: number
  /** Δ usage.completion_tokens; null when the server sent no per-chunk usage. */
  readonly tokens: number | null
}

export interface StreamTally {
  /** Content chunks (non-empty `choices`), in arrival order. */
  readonly chunks: ReadonlyArray<ChunkTiming>
  /** First content chunk of any kind (incl. chat's role-only chunk). */
  readonly firstChunkMs?: number
  /** First chunk that carried a generated token: TTFT. */
  readonly firstTokenMs?: number
  /** Last content chunk: E2EL (the usage-only chunk does not extend it, as in vllm bench). */
  readonly lastChunkMs?: number
  /** Final usage: the last usage seen (the trailing usage chunk, or the last continuous one). */
  readonly usage?: Usage
  /** Whether any content chunk carried usage (continuous_usage_stats honoured). */
  readonly continuousUsage: boolean
  readonly finishReason: string | null
  readonly done: boolean
  readonly error?: StreamErrorInfo
  /** Events whose data was not understood (counted, first reason kept). */
  readonly invalid: number
  readonly invalidReason?: string
  readonly textChars: number
  /** The generated text, joined (only when the accumulator was made with keepText). */
  readonly text?: string
}

export interface StreamAccumulator {
  /** Feed one SSE event observed at `t` ms after send. Events after [DONE] or an error are ignored. */
  readonly onEvent: (ev: SseEvent, t: number) => void
  readonly tally: () => StreamTally
}

export const makeStreamAccumulator = (options: { readonly keepText?: boolean } = {}): StreamAccumulator => {
  const texts: string[] | undefined = options.keepText === true ? [] : undefined
  const chunks: ChunkTiming[] = []
  let firstChunkMs: number | undefined
  let firstTokenMs: number | undefined
  let lastChunkMs: number | undefined
  let usage: Usage | undefined
  let continuousUsage = false
  let prevCompletion = 0
  let finishReason: string | null = null
  let done = false
  let error: StreamErrorInfo | undefined
  let invalid = 0
  let invalidReason: string | undefined
  let textChars = 0

  const onEvent = (ev: SseEvent, t: number): void => {
    if (done || error !== undefined) return
    if (ev.event === "error") {
      const parsed = interpretData(ev.data)
      error = parsed.kind === "error" ? parsed.error : { message: ev.data }
      return
    }
    const msg = interpretData(ev.data)
    switch (msg.kind) {
      case "done":
        done = true
        return
      case "error":
        error = msg.error
        return
      case "invalid":
        invalid++
        invalidReason ??= msg.reason
        return
      case "chunk": {
        if (msg.usage !== undefined) usage = msg.usage
        if (!msg.hasChoices) return
        let tokens: number | null = null
        if (msg.usage !== undefined) {
          continuousUsage = true
          tokens = Math.max(0, msg.usage.completion_tokens - prevCompletion)
          prevCompletion = Math.max(prevCompletion, msg.usage.completion_tokens)
        }
        chunks.push({ t, tokens })
        textChars += msg.text.length
        texts?.push(msg.text)
        firstChunkMs ??= t
        const carriesToken = tokens !== null ? tokens > 0 : msg.text !== ""
        if (firstTokenMs === undefined && carriesToken) firstTokenMs = t
        lastChunkMs = t
        if (msg.finishReason !== null) finishReason = msg.finishReason
        return
      }
    }
  }

  const tally = (): StreamTally => ({
    chunks,
    ...(firstChunkMs === undefined ? {} : { firstChunkMs }),
    ...(firstTokenMs === undefined ? {} : { firstTokenMs }),
    ...(lastChunkMs === undefined ? {} : { lastChunkMs }),
    ...(usage === undefined ? {} : { usage }),
    continuousUsage,
    finishReason,
    done,
    ...(error === undefined ? {} : { error }),
    invalid,
    ...(invalidReason === undefined ? {} : { invalidReason }),
    textChars,
    ...(texts === undefined ? {} : { text: texts.join("") })
  })

  return { onEvent, tally }
}

/** Parses a whole recorded stream body (a fixture) into its tally; chunk times are the event indices. */
export const tallyRecordedStream = (body: string): StreamTally => {
  const parser = makeSseParser()
  const acc = makeStreamAccumulator()
  let i = 0
  for (const ev of [...parser.push(body), ...parser.end()]) acc.onEvent(ev, i++)
  return acc.tally()
}
