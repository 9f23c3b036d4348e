// vLLM's OpenAI-compatible wire format, as the twin speaks it: request validation with vLLM's error
// bodies, and the JSON of stream chunks and whole responses. Field sets follow
// ../shared/notes/vllm-api.md §1.3–1.6 and the captures in ../shared/data/vllm-captures/ (chat chunk
// keys from the sse_chat capture; error bodies in the nested ≥ 0.15 shape of errors_http400_bodies).
// Pure: no I/O, no clock.
import { tokenizeChat, tokenizeText, type ChatMessage } from "./tokens.ts"
import { isRecord } from "../format/json.ts"

/** vLLM's ErrorResponse: `{"error":{"message","type","param","code"}}`, code = the HTTP status. */
export interface ErrorBody {
  readonly error: { readonly message: string; readonly type: string; readonly param: string | null; readonly code: number }
}

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: "BadRequestError",
  404: "NotFoundError",
  413: "RequestEntityTooLargeError",
  422: "UnprocessableEntityError",
  431: "RequestHeaderFieldsTooLargeError",
  500: "InternalServerError",
  501: "NotImplementedError",
  503: "ServiceUnavailableError",
}

export const errorBody = (status: number, message: string, param: string | null = null): ErrorBody => ({
  error: { message, type: ERROR_TYPES[status] ?? "InternalServerError", param, code: status },
})

export interface Rejection {
  readonly status: number
  readonly body: ErrorBody
}

const reject = (status: number, message: string, param: string | null = null): Rejection => ({ status, body: errorBody(status, message, param) })

export type Endpoint = "completion" | "chat"

/** A validated generation request (n = 1). */
export interface GenerationRequest {
  readonly endpoint: Endpoint
  /** Prompt token strings under the twin's approximation (tokens.ts); their count is prompt_tokens. */
  readonly promptTokens: ReadonlyArray<string>
  /** max_tokens (completions; default 16) or max_completion_tokens / max_tokens (chat; default max_model_len − prompt). */
  readonly maxTokens: number
  readonly minTokens: number
  readonly ignoreEos: boolean
  readonly stream: boolean
  readonly includeUsage: boolean
  readonly continuousUsage: boolean
  readonly returnTokenIds: boolean
  readonly priority: number
}

export interface ValidationContext {
  readonly servedModelName: string
  readonly maxModelLen: number
}

const isInt = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u)

const intField = (body: Record<string, unknown>, key: string): number | undefined | Rejection => {
  const v = body[key]
  if (v === undefined || v === null) return undefined
  if (!isInt(v)) return reject(400, `${key} must be an integer, got ${JSON.stringify(v)}.`, key)
  return v
}

const boolField = (body: Record<string, unknown>, key: string, fallback: boolean): boolean | Rejection => {
  const v = body[key]
  if (v === undefined || v === null) return fallback
  if (typeof v !== "boolean") return reject(400, `${key} must be a boolean, got ${JSON.stringify(v)}.`, key)
  return v
}

const isRejection = (u: unknown): u is Rejection => isRecord(u) && "status" in u && "body" in u

const completionPrompt = (prompt: unknown): string[] | Rejection => {
  if (typeof prompt === "string") return tokenizeText(prompt)
  if (Array.isArray(prompt)) {
    if (prompt.length === 0) return reject(400, "Prompt cannot be empty.", "prompt")
    if (prompt.every(isInt)) return prompt.map((t) => `#${t}`)
    if (prompt.length !== 1) return reject(400, "servesim twin: a batch of prompts is not supported; send one prompt per request.", "prompt")
    return completionPrompt(prompt[0])
  }
  return reject(400, "prompt must be a string, a list of token ids, or a one-element list of either.", "prompt")
}

const messageText = (content: unknown): string | undefined => {
  if (content === null || content === undefined) return ""
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    let text = ""
    for (const part of content) {
      if (!isRecord(part)) return undefined
      if (part.type === "text" && typeof part.text === "string") text += part.text
    }
    return text
  }
  return undefined
}

const chatPrompt = (messages: unknown): string[] | Rejection => {
  if (!Array.isArray(messages) || messages.length === 0) return reject(400, "messages must be a non-empty list.", "messages")
  const out: ChatMessage[] = []
  for (const m of messages) {
    if (!isRecord(m) || typeof m.role !== "string") return reject(400, "each message needs a string role.", "messages")
    const content = messageText(m.content)
    if (content === undefined) return reject(400, "message content must be a string or a list of text parts.", "messages")
    out.push({ role: m.role, content })
  }
  return tokenizeChat(out)
}

/** The over-long prompt check and message of vLLM ≥ 0.15 (vllm-project/vllm PR #33425, capture entries 1–2). */
export const contextLengthRejection = (maxModelLen: number, promptLen: number, maxTokens: number | undefined): Rejection | undefined => {
  if (maxTokens === undefined) {
    if (promptLen < maxModelLen) return undefined
    return reject(
      400,
      `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptLen} input tokens. Please reduce the length of the input messages. (parameter=input_tokens, value=${promptLen})`,
      "input_tokens",
    )
  }
  if (promptLen + maxTokens <= maxModelLen) return undefined
  return reject(
    400,
    `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptLen} input tokens plus ${maxTokens} 'max_tokens'. Please reduce one or the other. (parameter=input_tokens, max_tokens, value=(${promptLen}, ${maxTokens}))`,
    "input_tokens, max_tokens",
  )
}

/** Validates a /v1/completions or /v1/chat/completions body; vLLM's error (status and body) otherwise. */
export const parseGenerationRequest = (endpoint: Endpoint, raw: unknown, ctx: ValidationContext): GenerationRequest | Rejection => {
  if (!isRecord(raw)) return reject(400, "The request body must be a JSON object.")
  const body = raw
  if (body.model !== undefined && body.model !== null) {
    if (typeof body.model !== "string") return reject(400, "model must be a string.", "model")
    if (body.model !== ctx.servedModelName) return reject(404, `The model \`${body.model}\` does not exist.`, "model")
  }
  const n = intField(body, "n")
  if (isRejection(n)) return n
  if (n !== undefined && n !== 1) return reject(400, `servesim twin: only n=1 is supported, got n=${n}.`, "n")
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1)
    return reject(400, "servesim twin: only best_of=1 is supported.", "best_of")
  const stream = boolField(body, "stream", false)
  if (isRejection(stream)) return stream
  const so = body.stream_options
  let includeUsage = false
  let continuousUsage = false
  if (so !== undefined && so !== null) {
    if (!stream) return reject(400, "Stream options can only be defined when `stream=True`.", "stream_options")
    if (!isRecord(so)) return reject(400, "stream_options must be an object.", "stream_options")
    includeUsage = so.include_usage === true
    continuousUsage = includeUsage && so.continuous_usage_stats === true
  }
  const prompt = endpoint === "completion" ? completionPrompt(body.prompt) : chatPrompt(body.messages)
  if (isRejection(prompt)) return prompt
  if (prompt.length === 0) return reject(400, "Prompt cannot be empty.", "prompt")
  const maxTokensRaw = intField(body, "max_tokens")
  if (isRejection(maxTokensRaw)) return maxTokensRaw
  const maxCompletion = endpoint === "chat" ? intField(body, "max_completion_tokens") : undefined
  if (isRejection(maxCompletion)) return maxCompletion
  const given = maxCompletion ?? maxTokensRaw
  if (given !== undefined && given < 1) return reject(400, `max_tokens must be at least 1, got ${given}.`, maxCompletion !== undefined ? "max_completion_tokens" : "max_tokens")
  const minTokens = intField(body, "min_tokens")
  if (isRejection(minTokens)) return minTokens
  if (minTokens !== undefined && minTokens < 0) return reject(400, `min_tokens must be greater than or equal to 0, got ${minTokens}.`, "min_tokens")
  const ignoreEos = boolField(body, "ignore_eos", false)
  if (isRejection(ignoreEos)) return ignoreEos
  const returnTokenIds = boolField(body, "return_token_ids", false)
  if (isRejection(returnTokenIds)) return returnTokenIds
  const priority = intField(body, "priority")
  if (isRejection(priority)) return priority
  // Completions default to 16 tokens (vLLM's CompletionRequest); chat to what the context leaves.
  const explicit = endpoint === "completion" ? (given ?? 16) : given
  const tooLong = contextLengthRejection(ctx.maxModelLen, prompt.length, explicit)
  if (tooLong !== undefined) return tooLong
  const maxTokens = explicit ?? ctx.maxModelLen - prompt.length
  if (minTokens !== undefined && minTokens > maxTokens)
    return reject(400, `min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`, "min_tokens")
  return {
    endpoint,
    promptTokens: prompt,
    maxTokens,
    minTokens: minTokens ?? 0,
    ignoreEos,
    stream,
    includeUsage,
    continuousUsage,
    returnTokenIds,
    priority: priority ?? 0,
  }
}

export { isRejection }

// ---------------------------------------------------------------------------------------------
// Response JSON

export interface Usage {
  readonly prompt_tokens: number
  readonly total_tokens: number
  readonly completion_tokens: number
}

export const usageOf = (prompt: number, completion: number): Usage => ({
  prompt_tokens: prompt,
  total_tokens: prompt + completion,
  completion_tokens: completion,
})

export interface ResponseHead {
  readonly id: string
  readonly created: number
  readonly model: string
}

export type FinishReason = "length" | "stop"

export interface ContentPiece {
  readonly text: string
  /** Set on the chunk that carries the request's last token. */
  readonly finishReason: FinishReason | null
  readonly tokenIds?: ReadonlyArray<number>
  /** Cumulative usage (continuous_usage_stats). */
  readonly usage?: Usage
  /** First chunk with return_token_ids: the prompt's ids. */
  readonly promptTokenIds?: ReadonlyArray<number>
}

/** A /v1/completions stream chunk (CompletionStreamResponse). */
export const completionChunk = (h: ResponseHead, p: ContentPiece): Record<string, unknown> => {
  const choice: Record<string, unknown> = { index: 0, text: p.text, logprobs: null, finish_reason: p.finishReason, stop_reason: null }
  if (p.promptTokenIds !== undefined) choice.prompt_token_ids = p.promptTokenIds
  if (p.tokenIds !== undefined) choice.token_ids = p.tokenIds
  const out: Record<string, unknown> = { id: h.id, object: "text_completion", created: h.created, model: h.model, choices: [choice] }
  if (p.usage !== undefined) out.usage = p.usage
  return out
}

/** Chat's opening role-only chunk (sent with the first engine output). */
export const chatRoleChunk = (h: ResponseHead, usage: Usage | undefined, promptTokenIds: ReadonlyArray<number> | undefined): Record<string, unknown> => {
  const out: Record<string, unknown> = {
    id: h.id,
    object: "chat.completion.chunk",
    created: h.created,
    model: h.model,
    choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }],
    prompt_token_ids: promptTokenIds ?? null,
  }
  if (usage !== undefined) out.usage = usage
  return out
}

/** A /v1/chat/completions content chunk (ChatCompletionStreamResponse). */
export const chatChunk = (h: ResponseHead, p: ContentPiece): Record<string, unknown> => {
  const choice: Record<string, unknown> = { index: 0, delta: { content: p.text }, logprobs: null, finish_reason: p.finishReason }
  if (p.finishReason !== null) choice.stop_reason = null
  choice.token_ids = p.tokenIds ?? null
  const out: Record<string, unknown> = { id: h.id, object: "chat.completion.chunk", created: h.created, model: h.model, choices: [choice] }
  if (p.usage !== undefined) out.usage = p.usage
  return out
}

/** The trailing usage chunk (include_usage): empty choices. */
export const usageChunk = (endpoint: Endpoint, h: ResponseHead, usage: Usage): Record<string, unknown> => ({
  id: h.id,
  object: endpoint === "chat" ? "chat.completion.chunk" : "text_completion",
  created: h.created,
  model: h.model,
  choices: [],
  usage,
})

/** A whole (non-streaming) response. */
export const fullResponse = (
  endpoint: Endpoint,
  h: ResponseHead,
  text: string,
  finishReason: FinishReason,
  usage: Usage,
  tokenIds: ReadonlyArray<number> | undefined,
  promptTokenIds: ReadonlyArray<number> | undefined,
): Record<string, unknown> => {
  const fullUsage = { ...usage, prompt_tokens_details: null }
  if (endpoint === "completion") {
    const choice: Record<string, unknown> = { index: 0, text, logprobs: null, finish_reason: finishReason, stop_reason: null, prompt_logprobs: null }
    if (promptTokenIds !== undefined) choice.prompt_token_ids = promptTokenIds
    if (tokenIds !== undefined) choice.token_ids = tokenIds
    return { id: h.id, object: "text_completion", created: h.created, model: h.model, choices: [choice], usage: fullUsage }
  }
  const choice: Record<string, unknown> = {
    index: 0,
    message: { role: "assistant", content: text, refusal: null, annotations: null, audio: null, function_call: null, tool_calls: [], reasoning_content: null },
    logprobs: null,
    finish_reason: finishReason,
    stop_reason: null,
  }
  if (tokenIds !== undefined) choice.token_ids = tokenIds
  return {
    id: h.id,
    object: "chat.completion",
    created: h.created,
    model: h.model,
    choices: [choice],
    usage: fullUsage,
    prompt_logprobs: null,
    ...(promptTokenIds !== undefined ? { prompt_token_ids: promptTokenIds } : {}),
  }
}
