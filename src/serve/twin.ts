// The twin: an HTTP server speaking vLLM's OpenAI-compatible API and /metrics, whose every request
// runs through the simulated engines in scaled real time (twin-sim.ts). Plain node:http.
//
// Time: simulated seconds = wall seconds × timeScale. Tokens reach the client at the wall time of
// their simulated delivery, so a client measuring wall latencies must multiply them by the time scale
// to get what the simulated vLLM would show. The scale is on every response as the header
// `x-servesim-time-scale` and in /version (`servesim.time_scale`). /metrics reports every duration in
// simulated seconds (directly comparable with vLLM's own pages and with `servesim simulate`).
//
// Output length: with `ignore_eos` a request generates exactly max_tokens (finish_reason "length").
// Without it, the length is the scenario's output-length draw for that request index (the i-th request
// of the scenario's workload, seeded), clamped to [min_tokens, max_tokens]; shorter than max_tokens
// finishes with "stop" (the last token is the EOS, sent as empty text). Without a scenario draw it is
// max_tokens.
import { createHash, randomUUID, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Data, Effect, type Scope } from "effect"
import type { StepTimeModel } from "../hw/types.ts"
import { builtinRouters } from "../sim/router.ts"
import { builtinPolicies } from "../sim/scheduling-policy.ts"
import type { Router, SchedulingPolicy } from "../sim/spec.ts"
import type { EngineConfig, SharedPrefix } from "../sim/types.ts"
import { VllmMetrics, type FinishedReason } from "./metrics.ts"
import { chunkIndexAt, misbehaviourFor, noMisbehaviour, type Misbehaviour, type MisbehaviourRates } from "./misbehaviour.ts"
import {
  chatChunk,
  chatRoleChunk,
  completionChunk,
  errorBody,
  fullResponse,
  isRejection,
  parseGenerationRequest,
  usageChunk,
  usageOf,
  type ContentPiece,
  type FinishReason,
  type GenerationRequest,
  type ResponseHead,
} from "./protocol.ts"
import { blockHashChain, outputToken, outputTokenId, promptTokenId, tokenizeChat, tokenizeText } from "./tokens.ts"
import { promNumber } from "./prom.ts"
import { TwinSim, type WallClock } from "./twin-sim.ts"

export const TIME_SCALE_HEADER = "x-servesim-time-scale"
/** The twin's own lag when the response started: largest event lag (wall ms) of the last 1–2 s. */
export const LAG_HEADER = "x-servesim-lag-ms"
/** The vLLM release whose API and /metrics page the twin reproduces. */
export const MIMICKED_VLLM_VERSION = "0.25.1"
/** Full prompt blocks that can be shared through the prefix cache (longer prompts share their first 256 blocks). */
export const MAX_PREFIX_BLOCKS = 256
const MAX_BODY_BYTES = 64 * 1024 * 1024
/** Node's default --max-http-header-size: larger header blocks are answered 431. */
const MAX_HEADER_BYTES = 16 * 1024
const MAX_INTERNED_BLOCKS = 1_000_000
const ROUTES: ReadonlySet<string> = new Set(["/health", "/ping", "/version", "/v1/models", "/metrics", "/v1/completions", "/v1/chat/completions", "/tokenize"])

export interface TwinOptions {
  readonly engine: EngineConfig
  readonly stepTime: StepTimeModel
  /** Default fcfs. */
  readonly policy?: SchedulingPolicy
  /** Data-parallel engines (each is one `engine` label on /metrics). Default 1. */
  readonly replicas?: number
  /** Default round-robin. */
  readonly router?: Router
  /** Hugging Face id of the model (`root` in /v1/models). */
  readonly model: string
  /** The name clients must send as `model` (vLLM's --served-model-name). Default: `model`. */
  readonly servedModelName?: string
  /** Simulated seconds per wall second. Default 1. */
  readonly timeScale?: number
  /** Default 127.0.0.1. */
  readonly host?: string
  /** Default 0 (a free port). */
  readonly port?: number
  /** Seed of the misbehaviour decisions. Default 0. */
  readonly seed?: string | number
  readonly misbehaviour?: Partial<MisbehaviourRates>
  /** Output length of the request with this index when ignore_eos is off (undefined = max_tokens). */
  readonly outputLength?: (index: number) => number | undefined
  /** For vllm:cache_config_info. */
  readonly gpuMemoryUtilization?: number
  readonly cacheDtype?: string
  readonly numGpuBlocksOverride?: number
  /** Monotonic wall clock in ms (tests may pass a fake). Default performance.now. */
  readonly clock?: WallClock
  /**
   * API keys (vLLM's --api-key / VLLM_API_KEY): /v1/* then needs `Authorization: Bearer <key>` and
   * answers 401 otherwise; /health, /metrics, /version and /tokenize stay open, as in vLLM.
   */
  readonly apiKeys?: ReadonlyArray<string>
  /** Largest request body accepted (default 64 MiB); larger ones are answered 413. */
  readonly maxBodyBytes?: number
  /** One line per notable event (start-up is printed by the CLI). */
  readonly log?: (line: string) => void
}

export interface Twin {
  /** http://host:port */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly timeScale: number
  readonly servedModelName: string
  readonly sim: TwinSim
  readonly metrics: VllmMetrics
  /** Generation requests accepted so far (the misbehaviour index of the next one). */
  readonly accepted: () => number
  close(): Promise<void>
}

export class ServeError extends Data.TaggedError("ServeError")<{ readonly message: string }> {}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" }
const JSON_TYPE = "application/json"
const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** Interns prefix-block hashes into SharedPrefix ids (vLLM's block hash chain). */
class PrefixInterner {
  private ids = new Map<string, number>()
  private next = 0

  levels(tokens: ReadonlyArray<string>, blockSize: number): SharedPrefix[] {
    const chain = blockHashChain(tokens, blockSize, MAX_PREFIX_BLOCKS)
    if (this.ids.size + chain.length > MAX_INTERNED_BLOCKS) this.ids = new Map() // forget old content (cache misses only)
    const out: SharedPrefix[] = []
    for (let b = 0; b < chain.length; b++) {
      const key = chain[b]!
      let id = this.ids.get(key)
      if (id === undefined) {
        id = this.next++
        this.ids.set(key, id)
      }
      out.push({ id, length: (b + 1) * blockSize })
    }
    return out
  }
}

class BodyTooLarge extends Error {}

const readBody = (req: IncomingMessage, maxBytes: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on("data", (c: Buffer) => {
      if (over) return // drain the rest so the 413 reaches the client
      size += c.length
      if (size > maxBytes) {
        over = true
        chunks.length = 0
        reject(new BodyTooLarge(`request body larger than ${maxBytes} bytes`))
        return
      }
      chunks.push(c)
    })
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

/**
 * The twin's honesty gauges after vLLM's families: its time scale and how far its scaled wall clock fell
 * behind the simulated engine (wall seconds; a client's timings are off by up to lag × time scale).
 */
export const twinLagMetrics = (sim: TwinSim): string =>
  [
    "# HELP servesim:time_scale Simulated seconds per wall second of this twin.",
    "# TYPE servesim:time_scale gauge",
    `servesim:time_scale ${promNumber(sim.timeScale)}`,
    "# HELP servesim:event_lag_max_seconds Largest wall-clock lag of an engine event behind its scaled time, since start.",
    "# TYPE servesim:event_lag_max_seconds gauge",
    `servesim:event_lag_max_seconds ${promNumber(Math.max(0, sim.maxLagMs) / 1000)}`,
    "# HELP servesim:event_lag_seconds_total Sum of the wall-clock lags of engine events behind their scaled times.",
    "# TYPE servesim:event_lag_seconds_total counter",
    `servesim:event_lag_seconds_total ${promNumber(sim.lagSumMs / 1000)}`,
    "# HELP servesim:events_total Engine events processed.",
    "# TYPE servesim:events_total counter",
    `servesim:events_total ${promNumber(sim.events)}`,
    "",
  ].join("\n")

/** Starts the twin; resolves once it listens. */
export const startTwin = async (o: TwinOptions): Promise<Twin> => {
  const timeScale = o.timeScale ?? 1
  if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new Error(`time scale must be a positive number, got ${timeScale}`)
  const host = o.host ?? "127.0.0.1"
  const servedModelName = o.servedModelName ?? o.model
  const replicas = o.replicas ?? 1
  const rates: MisbehaviourRates = { ...noMisbehaviour, ...o.misbehaviour }
  const seed = o.seed ?? 0
  const clock: WallClock = o.clock ?? (() => performance.now())
  const engineCfg = o.engine
  const startUnix = Date.now() / 1000
  const metrics = new VllmMetrics({
    modelName: servedModelName,
    maxModelLen: engineCfg.maxModelLen,
    numEngines: replicas,
    startUnix,
    cacheConfig: {
      blockSize: engineCfg.blockSize,
      numGpuBlocks: engineCfg.numGpuBlocks,
      ...(o.numGpuBlocksOverride !== undefined ? { numGpuBlocksOverride: o.numGpuBlocksOverride } : {}),
      enablePrefixCaching: engineCfg.enablePrefixCaching,
      gpuMemoryUtilization: o.gpuMemoryUtilization ?? 0.9,
      cacheDtype: o.cacheDtype ?? "auto",
      maxModelLen: engineCfg.maxModelLen,
    },
  })
  const sim = new TwinSim(
    {
      engine: engineCfg,
      stepTime: o.stepTime,
      policy: o.policy ?? builtinPolicies.fcfs!,
      replicas,
      router: o.router ?? builtinRouters["round-robin"]!(),
    },
    timeScale,
    metrics,
    clock,
  )
  const interner = new PrefixInterner()
  let nextIndex = 0
  const createdAt = Math.floor(startUnix)
  const log = o.log ?? (() => {})

  const baseHeaders = (): Record<string, string> => ({ [TIME_SCALE_HEADER]: String(timeScale), [LAG_HEADER]: sim.recentLagMs().toFixed(2) })

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(status, { ...baseHeaders(), "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(text)) })
    res.end(text)
  }

  const models = () => ({
    object: "list",
    data: [
      {
        id: servedModelName,
        object: "model",
        created: createdAt,
        owned_by: "vllm",
        root: o.model,
        parent: null,
        max_model_len: engineCfg.maxModelLen,
        permission: [
          {
            id: `modelperm-${randomUUID().replace(/-/g, "")}`,
            object: "model_permission",
            created: createdAt,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: "*",
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  })

  const outputLengthFor = (g: GenerationRequest, index: number): { n: number; finish: FinishReason } => {
    if (g.ignoreEos) return { n: g.maxTokens, finish: "length" }
    const drawn = o.outputLength?.(index)
    if (drawn === undefined || drawn >= g.maxTokens) return { n: g.maxTokens, finish: "length" }
    const n = Math.max(1, g.minTokens, Math.round(drawn))
    return n >= g.maxTokens ? { n: g.maxTokens, finish: "length" } : { n, finish: "stop" }
  }

  const handleGeneration = (req: IncomingMessage, res: ServerResponse, endpoint: "completion" | "chat", text: string): void => {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (e) {
      sendJson(res, 400, errorBody(400, `Invalid JSON in the request body: ${e instanceof Error ? e.message : String(e)}`))
      return
    }
    const g = parseGenerationRequest(endpoint, raw, { servedModelName, maxModelLen: engineCfg.maxModelLen })
    if (isRejection(g)) {
      sendJson(res, g.status, g.body)
      return
    }
    const index = nextIndex++
    const mis: Misbehaviour = misbehaviourFor(seed, index, rates)
    if (mis.fail) {
      sendJson(res, 500, errorBody(500, `servesim twin: injected failure for request ${index} (--fail-rate)`))
      return
    }
    const { n, finish } = outputLengthFor(g, index)
    const promptLen = g.promptTokens.length
    const headerId = req.headers["x-request-id"]
    const baseId = typeof headerId === "string" && headerId !== "" ? headerId : randomUUID().replace(/-/g, "")
    const head: ResponseHead = {
      id: `${endpoint === "chat" ? "chatcmpl" : "cmpl"}-${baseId}`,
      created: Math.floor(Date.now() / 1000),
      model: servedModelName,
    }
    const prefixes = engineCfg.enablePrefixCaching ? interner.levels(g.promptTokens, engineCfg.blockSize) : []
    const promptIds = g.returnTokenIds ? g.promptTokens.map(promptTokenId) : undefined
    const stallIdx = mis.stallAt === undefined ? -1 : chunkIndexAt(mis.stallAt, n)
    const errorIdx = mis.errorAt === undefined ? -1 : chunkIndexAt(mis.errorAt, n)
    const dropIdx = mis.dropAt === undefined ? -1 : chunkIndexAt(mis.dropAt, n)

    let id = -1
    let done = false // the response ended (normally or by injection); a later close is not a client abort
    let sent = 0 // tokens written (or accumulated, non-streaming)
    let pending = 0 // tokens delivered by the engine, not written yet
    let completePending = false
    let stallUntil = -1
    let stalled = false
    let stallTimer: ReturnType<typeof setTimeout> | undefined
    let roleSent = false

    const endEarly = (reason: FinishedReason): void => {
      done = true
      if (stallTimer !== undefined) clearTimeout(stallTimer)
      const engine = sim.abandon(id)
      metrics.onEnded(engine, reason)
    }

    const write = (payload: unknown): void => {
      if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(payload)}\n\n`)
    }

    const piece = (from: number, count: number): ContentPiece => {
      const last = from + count >= n
      let t = ""
      const ids: number[] = []
      for (let j = from; j < from + count; j++) {
        t += last && j === n - 1 && finish === "stop" ? "" : outputToken(j)
        ids.push(outputTokenId(j))
      }
      return {
        text: t,
        finishReason: last ? finish : null,
        ...(g.returnTokenIds ? { tokenIds: ids } : {}),
        ...(g.continuousUsage ? { usage: usageOf(promptLen, from + count) } : {}),
        ...(g.returnTokenIds && from === 0 && endpoint === "completion" ? { promptTokenIds: promptIds } : {}),
      }
    }

    const fullText = (): string => {
      let t = ""
      for (let j = 0; j < n; j++) t += j === n - 1 && finish === "stop" ? "" : outputToken(j)
      return t
    }

    const complete = (): void => {
      if (done) return
      done = true
      const usage = usageOf(promptLen, n)
      if (g.stream) {
        if (g.includeUsage) write(usageChunk(endpoint, head, usage))
        if (!res.writableEnded && !res.destroyed) res.end("data: [DONE]\n\n")
      } else {
        const ids = g.returnTokenIds ? Array.from({ length: n }, (_, j) => outputTokenId(j)) : undefined
        sendJson(res, 200, fullResponse(endpoint, head, fullText(), finish, usage, ids, promptIds))
      }
    }

    /** Writes what the engine delivered, applying the request's injected stall, error or drop. */
    const flush = (): void => {
      if (done) return
      if (stallUntil >= 0) {
        if (performance.now() < stallUntil) return
        stallUntil = -1
      }
      if (pending > 0) {
        const from = sent
        const to = sent + pending
        if (!stalled && stallIdx >= from && stallIdx < to) {
          stalled = true
          stallUntil = performance.now() + rates.stallMs
          stallTimer = setTimeout(() => {
            // Timers can fire a little early against performance.now(): the stall is over when it fires.
            stallTimer = undefined
            stallUntil = -1
            flush()
          }, rates.stallMs)
          return
        }
        if (dropIdx >= from && dropIdx < to) {
          endEarly("abort")
          res.destroy()
          return
        }
        if (errorIdx >= from && errorIdx < to) {
          endEarly("error")
          const err = errorBody(500, `servesim twin: injected error for request ${index} at output token ${errorIdx} (--error-chunk-rate)`)
          if (g.stream) {
            write(err)
            if (!res.writableEnded && !res.destroyed) res.end("data: [DONE]\n\n")
          } else sendJson(res, 500, err)
          return
        }
        if (g.stream) {
          if (endpoint === "chat" && !roleSent) {
            roleSent = true
            write(chatRoleChunk(head, g.continuousUsage ? usageOf(promptLen, 0) : undefined, promptIds))
          }
          const p = piece(from, pending)
          write(endpoint === "chat" ? chatChunk(head, p) : completionChunk(head, p))
        }
        sent = to
        pending = 0
      }
      if (completePending) complete()
    }

    if (g.stream) {
      // Headers go out now, as vLLM's StreamingResponse sends them before the first token.
      res.writeHead(200, { ...baseHeaders(), ...SSE_HEADERS })
      res.flushHeaders()
    }
    res.on("close", () => {
      if (!done && id >= 0) {
        log(`request ${index}: client closed the connection before the response ended`)
        endEarly("abort")
      }
    })
    id = sim.submit(
      { inputTokens: promptLen, outputTokens: n, maxTokens: g.maxTokens, prefixes, priority: g.priority, finishReason: finish },
      {
        onToken: () => {
          pending++
          flush()
        },
        onComplete: () => {
          completePending = true
          flush()
        },
        onReject: (reason) => {
          if (done) return
          done = true
          const err = errorBody(400, `servesim twin: the engine cannot run this request: ${reason}`)
          if (g.stream) {
            write(err)
            if (!res.writableEnded && !res.destroyed) res.end("data: [DONE]\n\n")
          } else sendJson(res, 400, err)
        },
      },
    )
  }

  const handleTokenize = (res: ServerResponse, text: string): void => {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (e) {
      sendJson(res, 400, errorBody(400, `Invalid JSON in the request body: ${e instanceof Error ? e.message : String(e)}`))
      return
    }
    const body = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {}
    let tokens: string[]
    if (typeof body.prompt === "string") tokens = tokenizeText(body.prompt)
    else if (Array.isArray(body.messages)) {
      const msgs = body.messages.flatMap((m: unknown) =>
        typeof m === "object" && m !== null && typeof (m as Record<string, unknown>).role === "string"
          ? [{ role: (m as Record<string, unknown>).role as string, content: typeof (m as Record<string, unknown>).content === "string" ? ((m as Record<string, unknown>).content as string) : "" }]
          : [],
      )
      tokens = tokenizeChat(msgs)
    } else {
      sendJson(res, 400, errorBody(400, "tokenize: give a prompt string or chat messages."))
      return
    }
    sendJson(res, 200, { count: tokens.length, max_model_len: engineCfg.maxModelLen, tokens: tokens.map(promptTokenId), token_strs: null })
  }

  // vLLM's AuthenticationMiddleware (vllm/entrypoints/openai/server_utils.py): OPTIONS and paths outside
  // /v1 pass; otherwise the Bearer token's SHA-256 must equal a key's (constant-time), else 401.
  const keyHashes = (o.apiKeys ?? []).filter((k) => k !== "").map((k) => createHash("sha256").update(k).digest())
  const authorized = (req: IncomingMessage, path: string): boolean => {
    if (keyHashes.length === 0 || req.method === "OPTIONS" || !path.startsWith("/v1")) return true
    const h = req.headers.authorization ?? ""
    if (!h.startsWith("Bearer ")) return false
    const got = createHash("sha256").update(h.slice(7)).digest()
    return keyHashes.some((k) => timingSafeEqual(k, got))
  }
  const maxBodyBytes = o.maxBodyBytes ?? MAX_BODY_BYTES

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://twin")
    const path = url.pathname
    const method = req.method ?? "GET"
    if (!authorized(req, path)) {
      sendJson(res, 401, { error: "Unauthorized" })
      return
    }
    const get = method === "GET" || method === "HEAD"
    switch (path) {
      case "/health":
      case "/ping":
        if (!get && !(path === "/ping" && method === "POST")) break
        res.writeHead(200, { ...baseHeaders(), "content-length": "0" })
        res.end()
        return
      case "/version":
        if (!get) break
        sendJson(res, 200, {
          version: MIMICKED_VLLM_VERSION,
          servesim: {
            twin: true,
            time_scale: timeScale,
            metrics_time_unit: "simulated_seconds",
            // How far behind scaled real time the twin has run (wall ms): client timings are off by up to this × time_scale.
            max_event_lag_ms: Math.round(sim.maxLagMs * 100) / 100,
            late_events: sim.lateEvents,
            events: sim.events,
          },
        })
        return
      case "/v1/models":
        if (!get) break
        sendJson(res, 200, models())
        return
      case "/metrics": {
        if (!get) break
        const text = metrics.render(sim.gauges()) + twinLagMetrics(sim)
        res.writeHead(200, { ...baseHeaders(), "content-type": METRICS_TYPE, "content-length": String(Buffer.byteLength(text)) })
        res.end(text)
        return
      }
      case "/v1/completions":
      case "/v1/chat/completions":
      case "/tokenize": {
        if (method !== "POST") break
        // vLLM's validate_json_request: a body that is not application/json is a RequestValidationError (400).
        const mediaType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
        if (mediaType !== "application/json") {
          req.resume()
          sendJson(res, 400, errorBody(400, `["Unsupported Media Type: Only 'application/json' is allowed"]`))
          return
        }
        const declared = Number(req.headers["content-length"] ?? 0)
        if (declared > maxBodyBytes) {
          req.resume()
          sendJson(res, 413, errorBody(413, `request body of ${declared} bytes is larger than ${maxBodyBytes} bytes`))
          return
        }
        let text: string
        try {
          text = await readBody(req, maxBodyBytes)
        } catch (e) {
          const status = e instanceof BodyTooLarge ? 413 : 400
          sendJson(res, status, errorBody(status, e instanceof Error ? e.message : String(e)))
          return
        }
        if (path === "/tokenize") handleTokenize(res, text)
        else handleGeneration(req, res, path === "/v1/completions" ? "completion" : "chat", text)
        return
      }
      default: {
        const body = JSON.stringify({ detail: "Not Found" })
        res.writeHead(404, { ...baseHeaders(), "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(body)) })
        res.end(body)
        return
      }
    }
    const body = JSON.stringify({ detail: "Method Not Allowed" })
    res.writeHead(405, { ...baseHeaders(), "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(body)) })
    res.end(body)
  }

  const server: Server = createServer({ noDelay: true, keepAliveTimeout: 65_000, maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    const t0 = performance.now()
    const requestBytes = Number(req.headers["content-length"] ?? 0) || 0
    const path = new URL(req.url ?? "/", "http://twin").pathname
    // prometheus_fastapi_instrumentator groups unknown routes as "none".
    const handler = ROUTES.has(path) ? path : "none"
    res.on("close", () => {
      const len = Number(res.getHeader("content-length") ?? 0) || 0
      metrics.onHttp(handler, req.method ?? "GET", res.statusCode, ((performance.now() - t0) / 1000) * timeScale, requestBytes, len)
    })
    route(req, res).then(
      () => {},
      (e: unknown) => {
        log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
        if (!res.headersSent) sendJson(res, 500, errorBody(500, `servesim twin: internal error: ${e instanceof Error ? e.message : String(e)}`))
        else res.destroy()
      },
    )
  })

  // Unparsable requests (a header flood, malformed HTTP) get a status and an error body, like uvicorn
  // behind vLLM, instead of a reset connection; the server goes on serving others.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy()
      return
    }
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400
    const reason = status === 431 ? "Request Header Fields Too Large" : "Bad Request"
    const body = JSON.stringify(errorBody(status, status === 431 ? `request headers larger than ${MAX_HEADER_BYTES} bytes` : "Invalid HTTP request received."))
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  })

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e)
    server.once("error", onError)
    server.listen(o.port ?? 0, host, () => {
      server.off("error", onError)
      resolve()
    })
  })
  const addr = server.address() as AddressInfo
  const urlHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address
  let closing: Promise<void> | undefined
  return {
    url: `http://${urlHost}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    timeScale,
    servedModelName,
    sim,
    metrics,
    accepted: () => nextIndex,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        sim.close()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

/** The twin as a scoped resource: listening while the scope is open, closed when it closes. */
export const twinResource = (o: TwinOptions): Effect.Effect<Twin, ServeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => startTwin(o),
      catch: (e) => new ServeError({ message: `cannot start the twin on ${o.host ?? "127.0.0.1"}:${o.port ?? 0}: ${e instanceof Error ? e.message : String(e)}` }),
    }),
    (twin) => Effect.promise(() => twin.close()),
  )
