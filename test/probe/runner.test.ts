// End to end: the probe against a tiny fake vLLM written here with node:http on 127.0.0.1 (ephemeral
// port, bounded request count). It streams SSE with continuous usage and misbehaves on purpose for some
// request indices: HTTP 500 with vLLM's error body, an error chunk inside a 200 stream, a dropped
// connection. (The full twin server is a separate piece of work.)
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, appendFileSync } from "node:fs"
import http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { Effect, Exit, Fiber, Redacted } from "effect"
import { FetchHttpClient } from "effect/http"
import { afterEach, describe, expect, it } from "vitest"
import { measuredPointsFromRunDir } from "../../src/calibrate/measurements.ts"
import { readRunDir, requestKey, requestsPath, summaryPath } from "../../src/probe/run-dir.ts"
import { sendStreamingRequest } from "../../src/probe/client.ts"
import { arrivalOffsetsMs, remainingTasks, resumeProbe, startProbe } from "../../src/probe/runner.ts"
import { isTransient } from "../../src/probe/server-setup.ts"
import { ERROR_CLASSES } from "../../src/probe/types.ts"
import type { ProbePlan } from "../../src/probe/runner.ts"

type Behaviour = "ok" | "500" | "errchunk" | "drop" | "dropnow" | "echo500"

interface Fake {
  readonly url: string
  /** x-request-id of every completion request received (undefined for the probe's calibration requests). */
  readonly completions: Array<string | undefined>
  readonly authHeaders: Array<string | undefined>
  connections: number
  readonly close: () => Promise<void>
}

/** Index and warm-up flag from the probe's request id `servesim-<tag>-s<session>-<point>-<w?><index>`. */
const parseId = (id: string | undefined) => {
  const m = id === undefined ? null : /-s(\d+)-(.+)-(w?)(\d+)$/.exec(id)
  return m === null ? undefined : { session: Number(m[1]), point: m[2]!, warmup: m[3] === "w", index: Number(m[4]) }
}

/** Measured requests misbehave by index: 3 → HTTP 500, 5 → error chunk, 7 → dropped connection (mod 10). */
const byIndex = (id: string | undefined): Behaviour => {
  const p = parseId(id)
  if (p === undefined || p.warmup) return "ok"
  return p.index % 10 === 3 ? "500" : p.index % 10 === 5 ? "errchunk" : p.index % 10 === 7 ? "drop" : "ok"
}

const startFake = (options: {
  readonly behaviour?: (id: string | undefined) => Behaviour
  readonly tokenDelayMs?: number
  readonly maxRequests?: number
  readonly apiKey?: string
}): Promise<Fake> => {
  const behaviour = options.behaviour ?? (() => "ok")
  const delay = options.tokenDelayMs ?? 2
  const maxRequests = options.maxRequests ?? 500
  let running = 0
  let promptTotal = 0
  let genTotal = 0
  let steps = 0
  const fake: Fake = {
    url: "",
    completions: [],
    authHeaders: [],
    connections: 0,
    close: async () => undefined
  }
  const metricsPage = () =>
    [
      "# HELP vllm:num_requests_running Number of requests in model execution batches.",
      "# TYPE vllm:num_requests_running gauge",
      `vllm:num_requests_running{engine="0",model_name="fake"} ${running}.0`,
      "# TYPE vllm:num_requests_waiting gauge",
      `vllm:num_requests_waiting{engine="0",model_name="fake"} 0.0`,
      "# TYPE vllm:kv_cache_usage_perc gauge",
      `vllm:kv_cache_usage_perc{engine="0",model_name="fake"} ${running / 100}`,
      "# TYPE vllm:prompt_tokens_total counter",
      `vllm:prompt_tokens_total{engine="0",model_name="fake"} ${promptTotal}.0`,
      "# TYPE vllm:generation_tokens_total counter",
      `vllm:generation_tokens_total{engine="0",model_name="fake"} ${genTotal}.0`,
      "# TYPE vllm:num_preemptions_total counter",
      `vllm:num_preemptions_total{engine="0",model_name="fake"} 0.0`,
      "# TYPE vllm:iteration_tokens_total histogram",
      `vllm:iteration_tokens_total_bucket{engine="0",le="1.0",model_name="fake"} ${steps}.0`,
      `vllm:iteration_tokens_total_bucket{engine="0",le="+Inf",model_name="fake"} ${steps}.0`,
      `vllm:iteration_tokens_total_count{engine="0",model_name="fake"} ${steps}.0`,
      `vllm:iteration_tokens_total_sum{engine="0",model_name="fake"} ${steps}.0`,
      "# TYPE vllm:cache_config_info gauge",
      `vllm:cache_config_info{block_size="16",engine="0",num_cpu_blocks="None",num_gpu_blocks="1234"} 1.0`
    ].join("\n")

  const server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => (body += c.toString("utf8")))
    req.on("end", () => {
      if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        res.writeHead(401, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: "Unauthorized", type: "AuthenticationError", param: null, code: 401 } }))
        return
      }
      if (req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", root: "fake-model", max_model_len: 4096 }] }))
        return
      }
      if (req.method === "GET" && req.url === "/version") {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ version: "0.0.0-fake" }))
        return
      }
      if (req.method === "GET" && req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
        res.end(metricsPage())
        return
      }
      const chat = req.url === "/v1/chat/completions"
      if (req.method !== "POST" || (req.url !== "/v1/completions" && !chat)) {
        res.writeHead(404)
        res.end()
        return
      }
      const id = req.headers["x-request-id"]
      const rid = Array.isArray(id) ? id[0] : id
      fake.completions.push(rid)
      fake.authHeaders.push(req.headers.authorization)
      if (fake.completions.length > maxRequests) {
        res.writeHead(503, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: "fake server request budget exhausted", type: "ServiceUnavailable", param: null, code: 503 } }))
        return
      }
      const b = JSON.parse(body) as { prompt?: string; messages?: Array<{ content: string }>; max_tokens?: number; max_completion_tokens?: number }
      const text = chat ? b.messages![0]!.content : b.prompt!
      const promptTokens = text.split(" ").length + 1 + (chat ? 5 : 0)
      const n = (chat ? b.max_completion_tokens : b.max_tokens) ?? 16
      const mode = behaviour(rid)
      if (mode === "echo500") {
        // A misconfigured proxy that echoes the request's headers in its error body.
        res.writeHead(500, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: `upstream failed for headers ${JSON.stringify(req.headers)}`, type: "InternalServerError", param: null, code: 500 } }))
        return
      }
      if (mode === "500") {
        res.writeHead(500, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: "EngineCore encountered an issue", type: "InternalServerError", param: null, code: 500 } }))
        return
      }
      running++
      promptTotal += promptTokens
      res.writeHead(200, { "content-type": "text/event-stream" })
      let sent = 0
      let closed = false
      const finish = () => {
        if (!closed) {
          closed = true
          running--
        }
      }
      res.on("close", finish)
      const chunk = (delta: string, k: number, finishReason: string | null) =>
        chat
          ? `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"fake-model","choices":[{"index":0,"delta":{"content":"${delta}"},"finish_reason":${finishReason === null ? "null" : `"${finishReason}"`}}],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${k},"total_tokens":${promptTokens + k}}}\n\n`
          : `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"fake-model","choices":[{"index":0,"text":"${delta}","logprobs":null,"finish_reason":${finishReason === null ? "null" : `"${finishReason}"`},"stop_reason":null}],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${k},"total_tokens":${promptTokens + k}}}\n\n`
      if (chat) {
        res.write(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"fake-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":0,"total_tokens":${promptTokens}}}\n\n`)
      }
      const tick = () => {
        if (closed) return
        if (mode === "dropnow") {
          req.socket.destroy()
          return
        }
        if (mode === "drop" && sent === 2) {
          req.socket.destroy()
          return
        }
        if (mode === "errchunk" && sent === 2) {
          res.write(`data: {"error":{"message":"KV cache transfer failed","type":"InternalServerError","param":null,"code":500}}\n\n`)
          res.end("data: [DONE]\n\n")
          return
        }
        if (sent < n) {
          sent++
          genTotal++
          steps++
          res.write(chunk(" tok", sent, sent === n ? "length" : null))
          setTimeout(tick, delay)
          return
        }
        res.write(`data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"fake-model","choices":[],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${n},"total_tokens":${promptTokens + n}}}\n\n`)
        res.end("data: [DONE]\n\n")
      }
      setTimeout(tick, delay)
    })
  })
  server.on("connection", () => {
    fake.connections++
  })
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      resolve(Object.assign(fake, {
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections()
            server.close(() => r())
          })
      }))
    })
  })
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const tempDir = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), "servesim-probe-"))
  cleanups.push(() => rmSync(d, { recursive: true, force: true }))
  return d
}

const fake = async (opts: Parameters<typeof startFake>[0]): Promise<Fake> => {
  const f = await startFake(opts)
  cleanups.push(() => f.close())
  return f
}

const plan = (url: string, over: Partial<ProbePlan> = {}): ProbePlan => ({
  url,
  model: "fake-model",
  endpoint: "completions",
  mode: "concurrency",
  points: [
    { id: "concurrency-1", kind: "concurrency", concurrency: 1 },
    { id: "concurrency-4", kind: "concurrency", concurrency: 4 }
  ],
  isl: 16,
  osl: 8,
  numRequests: 20,
  warmup: 2,
  timeoutS: 10,
  seed: "7",
  ...over
})

const provide = <A, E>(eff: Effect.Effect<A, E, import("effect/http").HttpClient.HttpClient>) => eff.pipe(Effect.provide(FetchHttpClient.layer))

describe("probe end to end against a fake vLLM", () => {
  it("closed-loop sweep: every request recorded once, failures classified and counted", async () => {
    const f = await fake({ behaviour: byIndex, tokenDelayMs: 2 })
    const dir = path.join(tempDir(), "run")
    const result = await Effect.runPromise(provide(startProbe(plan(f.url), { outDir: dir, scrapeIntervalMs: 50 })))

    expect(result.points.map((p) => p.id)).toEqual(["concurrency-1", "concurrency-4"])
    for (const { summary } of result.points) {
      expect(summary.completed).toBe(14)
      expect(summary.failed).toBe(6)
      expect(summary.errors_by_class).toEqual({
        connection_refused: 0,
        timeout: 0,
        http_4xx: 0,
        http_5xx: 2,
        stream_error: 2,
        dropped_connection: 2,
        bad_response: 0
      })
      expect(summary.total_output_tokens).toBe(14 * 8)
      expect(summary.total_input_tokens).toBe(14 * 16) // the prompt calibration hit the requested length
      expect(summary.warmup_requests).toBe(2)
      expect(summary.mean_tpot_ms).toBeGreaterThan(1)
      expect(summary.mean_ttft_ms).toBeGreaterThan(0)
      expect(summary.error_adjusted.p99_ttft_ms).toBe("inf")
      expect(summary.server_metrics?.generation_tokens).toBeGreaterThan(0)
      expect(summary.server_metrics?.scrapes).toBeGreaterThanOrEqual(2)
    }
    const run = await Effect.runPromise(readRunDir(dir))
    expect(run.duplicates).toBe(0)
    expect(run.requests.length).toBe(2 * 22)
    const keys = new Set(run.requests.map(requestKey))
    for (const p of ["concurrency-1", "concurrency-4"]) {
      for (let i = 0; i < 20; i++) expect(keys.has(`${p}#${i}`)).toBe(true)
      for (let i = 0; i < 2; i++) expect(keys.has(`${p}#w${i}@0`)).toBe(true)
    }
    const failed = run.requests.filter((r) => !r.ok)
    expect(failed.find((r) => r.errorClass === "http_5xx")?.error).toBe("HTTP 500: EngineCore encountered an issue")
    expect(failed.find((r) => r.errorClass === "stream_error")?.error).toMatch(/KV cache transfer failed/)
    // The server saw each planned request exactly once (+ the two prompt-calibration requests).
    expect(f.completions.length).toBe(2 + 2 * 22)
    expect(new Set(f.completions.filter((c) => c !== undefined)).size).toBe(2 * 22)
    // One keep-alive pool: connections are reused (dropped ones are replaced). On an idle host that is
    // ≤ 4 + 4 + 4; on a loaded one, connections idle past the keep-alive timeout (the pause between
    // points, slow scrapes) are reopened too. A client with a connection per request opens ≥ 46.
    expect(f.connections).toBeLessThan(22)
    // Manifest and server facts.
    expect(run.manifest.server.numGpuBlocks).toBe(1234)
    expect(run.manifest.server.blockSize).toBe(16)
    expect(run.manifest.server.version).toBe("0.0.0-fake")
    expect(run.manifest.server.maxModelLen).toBe(4096)
    expect(run.manifest.prompt.words).toBe(15) // 16 tokens = 15 words + BOS on this server
    expect(existsSync(summaryPath(dir, "concurrency-4"))).toBe(true)
    expect(readdirSync(path.join(dir, "metrics")).sort()).toEqual(["concurrency-1.jsonl", "concurrency-4.jsonl"])
    // The loader turns the run into measured points.
    const set = measuredPointsFromRunDir(run)
    expect(set.points.map((p) => [p.concurrency, p.isl, p.osl, p.completed, p.numGpuBlocks])).toEqual([
      [1, 16, 8, 14, 1234],
      [4, 16, 8, 14, 1234]
    ])
  })

  it("open loop (Poisson) and chat: intended vs actual send times, role chunk not counted as a token", async () => {
    const f = await fake({ tokenDelayMs: 1 })
    const dir = path.join(tempDir(), "run")
    const p = plan(f.url, { mode: "rate", endpoint: "chat", points: [{ id: "rate-40", kind: "rate", rate: 40 }], numRequests: 12, warmup: 0 })
    const result = await Effect.runPromise(provide(startProbe(p, { outDir: dir, scrapeIntervalMs: 0 })))
    const s = result.points[0]!.summary
    expect(s.completed).toBe(12)
    expect(s.request_rate).toBe(40)
    expect(s.endpoint_type).toBe("openai-chat")
    expect(s.total_output_tokens).toBe(12 * 8)
    const run = await Effect.runPromise(readRunDir(dir))
    const offsets = arrivalOffsetsMs("7", "rate-40", 40, 12)
    const t0 = Math.min(...run.requests.map((r) => r.intendedAt))
    const intended = run.requests.map((r) => [r.index, r.intendedAt - t0] as const).sort((a, b) => a[0] - b[0])
    // vllm bench's get_request: the first request arrives after one gap, so times are relative to request 0's.
    for (const [i, t] of intended) expect(t).toBeCloseTo(offsets[i]! - offsets[0]!, 2) // epoch ms: ~0.2 µs resolution
    for (const r of run.requests) {
      expect(r.sentAt).toBeGreaterThanOrEqual(r.intendedAt)
      expect(r.chunks[0]![1]).toBe(0) // the role-only chunk carries no token
      expect(r.firstTokenMs!).toBeGreaterThan(r.firstChunkMs! - 1e-9)
      expect(r.usage?.prompt_tokens).toBe(16)
    }
  })

  it("interrupted mid-point, then a half-written line (kill -9), then --resume: nothing lost, nothing repeated", async () => {
    const f = await fake({ tokenDelayMs: 4 })
    const dir = path.join(tempDir(), "run")
    const p = plan(f.url, { points: [{ id: "concurrency-2", kind: "concurrency", concurrency: 2 }], numRequests: 30, warmup: 1 })
    const fiber = Effect.runFork(provide(startProbe(p, { outDir: dir, scrapeIntervalMs: 20 })))
    const lines = () => (existsSync(requestsPath(dir)) ? readFileSync(requestsPath(dir), "utf8").split("\n").length - 1 : 0)
    for (let i = 0; i < 400 && lines() < 9; i++) await new Promise((r) => setTimeout(r, 10))
    const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
    expect(Exit.hasInterrupts(exit)).toBe(true)
    const first = await Effect.runPromise(readRunDir(dir))
    const recorded = first.requests.filter((r) => !r.warmup)
    expect(recorded.length).toBeGreaterThanOrEqual(8)
    expect(recorded.length).toBeLessThan(30)
    expect(existsSync(summaryPath(dir, "concurrency-2"))).toBe(false)
    // Simulate a kill -9 in the middle of the next append.
    appendFileSync(requestsPath(dir), '{"point":"concurrency-2","index":29,"warmup":fal')
    const sentBefore = f.completions.length

    const resumed = await Effect.runPromise(provide(resumeProbe({}, { outDir: dir, scrapeIntervalMs: 20 })))
    expect(resumed.session).toBe(1)
    const final = await Effect.runPromise(readRunDir(dir))
    expect(final.duplicates).toBe(0)
    expect(final.discardedTail).toBe(false)
    const measured = final.requests.filter((r) => !r.warmup)
    expect(measured.map((r) => r.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    // Records of the first session are kept as they were.
    for (const r of recorded) expect(measured.find((m) => m.index === r.index)).toEqual(r)
    // The resumed session asked the server only for what was missing (plus its warm-up).
    const resumedIds = f.completions.slice(sentBefore).map(parseId).filter((x) => x !== undefined)
    const resumedMeasured = resumedIds.filter((x) => !x.warmup).map((x) => x.index)
    expect(resumedMeasured.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i).filter((i) => !recorded.some((r) => r.index === i))
    )
    expect(resumedIds.every((x) => x.session === 1)).toBe(true)
    expect(resumed.points[0]!.summary.completed).toBe(30)
    expect(resumed.points[0]!.summary.sessions).toEqual([0, 1])
    const manifest = JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as { sessions: unknown[] }
    expect(manifest.sessions.length).toBe(2)
    // A second resume finds nothing to do.
    const before2 = f.completions.length
    const again = await Effect.runPromise(provide(resumeProbe({}, { outDir: dir })))
    expect(again.points[0]!.ran).toBe(false)
    expect(f.completions.length).toBe(before2)
  })

  it("the API key goes out as a Bearer token and is never written", async () => {
    const f = await fake({ apiKey: "s3cret-key-value" })
    const dir = path.join(tempDir(), "run")
    const p = plan(f.url, { points: [{ id: "concurrency-2", kind: "concurrency", concurrency: 2 }], numRequests: 4, warmup: 0, apiKeyEnv: "FAKE_KEY" })
    const noKey = await Effect.runPromiseExit(provide(startProbe(p, { outDir: path.join(tempDir(), "nokey") })))
    expect(JSON.stringify(noKey)).toMatch(/HTTP 401/)
    await Effect.runPromise(provide(startProbe(p, { outDir: dir, apiKey: Redacted.make("s3cret-key-value") })))
    expect(f.authHeaders.every((h) => h === "Bearer s3cret-key-value")).toBe(true)
    for (const file of ["manifest.json", "requests.jsonl", "points/concurrency-2.summary.json", "metrics/concurrency-2.jsonl"]) {
      expect(readFileSync(path.join(dir, file), "utf8")).not.toContain("s3cret")
    }
    expect(readFileSync(path.join(dir, "manifest.json"), "utf8")).toContain("FAKE_KEY")
  })

  it("a server that echoes the Authorization header: the key's value is redacted from every record", async () => {
    const key = "s3cret-echo-key-value"
    const f = await fake({ apiKey: key, behaviour: (id) => (parseId(id)?.index === 1 ? "echo500" : "ok") })
    const dir = path.join(tempDir(), "run")
    const p = plan(f.url, { points: [{ id: "concurrency-1", kind: "concurrency", concurrency: 1 }], numRequests: 3, warmup: 0 })
    const result = await Effect.runPromise(provide(startProbe(p, { outDir: dir, apiKey: Redacted.make(key) })))
    expect(result.points[0]!.summary.failed).toBe(1)
    const records = readFileSync(requestsPath(dir), "utf8")
    expect(records).toContain("Bearer [REDACTED]")
    for (const file of ["manifest.json", "requests.jsonl", "points/concurrency-1.summary.json"]) {
      expect(readFileSync(path.join(dir, file), "utf8")).not.toContain(key)
    }
  })

  it("a --url with user:password@ is refused without printing the password", async () => {
    const exit = await Effect.runPromiseExit(provide(startProbe(plan("http://alice:hunter2pw@127.0.0.1:9"), { outDir: path.join(tempDir(), "run") })))
    const text = JSON.stringify(exit)
    expect(text).toMatch(/credentials in the URL are not supported/)
    expect(text).not.toContain("hunter2pw")
    expect(text).not.toContain("alice")
  })

  it("a server that is not there fails the command with a one-line reason", async () => {
    const f = await startFake({})
    const url = f.url
    await f.close()
    const exit = await Effect.runPromiseExit(provide(startProbe(plan(url), { outDir: path.join(tempDir(), "run") })))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toMatch(/cannot reach the server.*ECONNREFUSED/)
  })

  it("refuses a model the server does not serve and a length beyond max_model_len", async () => {
    const f = await fake({})
    const wrongModel = await Effect.runPromiseExit(provide(startProbe(plan(f.url, { model: "other" }), { outDir: path.join(tempDir(), "a") })))
    expect(JSON.stringify(wrongModel)).toMatch(/--model other: the server serves fake-model/)
    const tooLong = await Effect.runPromiseExit(provide(startProbe(plan(f.url, { isl: 4000, osl: 200 }), { outDir: path.join(tempDir(), "b") })))
    expect(JSON.stringify(tooLong)).toMatch(/exceeds the server's max_model_len 4096/)
  })
})

describe("transient failures and silent servers", () => {
  it("the prompt calibration retries a dropped connection (the class is dropped_connection)", async () => {
    let calibrationCalls = 0
    // The first prompt-calibration request (no x-request-id) loses its connection after the headers.
    const f = await fake({ behaviour: (id) => (id === undefined && calibrationCalls++ === 0 ? "dropnow" : "ok") })
    const dir = path.join(tempDir(), "run")
    const p = plan(f.url, { points: [{ id: "concurrency-1", kind: "concurrency", concurrency: 1 }], numRequests: 2, warmup: 0 })
    const result = await Effect.runPromise(provide(startProbe(p, { outDir: dir, scrapeIntervalMs: 0 })))
    expect(result.points[0]!.summary.completed).toBe(2)
    expect(calibrationCalls).toBe(3) // dropped, retried, then the second length
    expect(isTransient("dropped_connection")).toBe(true)
    expect(ERROR_CLASSES.filter(isTransient).sort()).toEqual(["bad_response", "dropped_connection", "http_5xx", "stream_error", "timeout"])
  })

  const silentServer = async (answerGets: boolean): Promise<{ url: string; posts: () => number }> => {
    let posts = 0
    // Accepts every connection and never answers (optionally answers the discovery GETs like vLLM).
    const server = http.createServer((req, res) => {
      if (req.method === "POST") posts++
      if (answerGets && req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", root: "fake-model", max_model_len: 4096 }] }))
      } else if (answerGets && req.method === "GET") {
        res.writeHead(404)
        res.end()
      }
    })
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
    cleanups.push(() => new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, posts: () => posts }
  }

  it("a server that never answers the discovery GET is given up after the connect timeout", async () => {
    const s = await silentServer(false)
    const t0 = performance.now()
    const exit = await Effect.runPromiseExit(provide(startProbe(plan(s.url), { outDir: path.join(tempDir(), "run"), connectTimeoutMs: 300 })))
    const elapsed = performance.now() - t0
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toMatch(/no response within 0\.3 s/)
    expect(elapsed).toBeGreaterThanOrEqual(290)
    // The stream deadline (plan timeout 10 s) is not what ended it.
    expect(elapsed).toBeLessThan(9_000)
  })

  it("a server that lists its models and then never answers a completion: one calibration try, no retries", async () => {
    const s = await silentServer(true)
    const exit = await Effect.runPromiseExit(provide(startProbe(plan(s.url, { timeoutS: 600 }), { outDir: path.join(tempDir(), "run"), connectTimeoutMs: 300 })))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(JSON.stringify(exit)).toMatch(/calibration request failed: timeout: no response headers within 0\.3 s/)
    expect(s.posts()).toBe(1)
  })

  it("sendStreamingRequest: the first-byte deadline is separate from the stream deadline", async () => {
    const s = await silentServer(false)
    const r = await Effect.runPromise(provide(sendStreamingRequest({ baseUrl: s.url, model: "m", prompt: "hi", maxTokens: 2, chat: false, timeoutMs: 600_000, firstByteTimeoutMs: 200 })))
    expect(r).toMatchObject({ ok: false, errorClass: "timeout" })
    expect(r.status).toBeUndefined()
    expect(r.error).toMatch(/no response headers within 0\.2 s/)
    expect(r.endMs).toBeGreaterThanOrEqual(190)
    expect(r.endMs).toBeLessThan(600_000)
  })
})

describe("remainingTasks", () => {
  it("re-runs warm-ups, skips recorded measured requests, keeps the Poisson gaps", () => {
    const p = { seed: "1", warmup: 2, numRequests: 5 }
    const point = { id: "rate-10", kind: "rate" as const, rate: 10 }
    const offsets = arrivalOffsetsMs("1", "rate-10", 10, 7)
    const tasks = remainingTasks(p, point, new Set([0, 1]))
    expect(tasks.map((t) => [t.warmup, t.index])).toEqual([[true, 0], [true, 1], [false, 2], [false, 3], [false, 4]])
    expect(tasks[0]!.offsetMs).toBe(offsets[0]) // warm-ups keep their schedule
    expect(tasks[2]!.offsetMs).toBeCloseTo(offsets[2]!, 9) // measured 2 takes measured 0's slot
    expect(tasks[3]!.offsetMs - tasks[2]!.offsetMs).toBeCloseTo(offsets[5]! - offsets[4]!, 9)
    expect(remainingTasks(p, point, new Set([0, 1, 2, 3, 4]))).toEqual([])
  })
})

describe("sendStreamingRequest: failure classes at the edge", () => {
  const serve = async (handler: http.RequestListener): Promise<string> => {
    const server = http.createServer(handler)
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
    cleanups.push(() => new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  const send = (baseUrl: string, timeoutMs = 5000) =>
    Effect.runPromise(provide(sendStreamingRequest({ baseUrl, model: "m", prompt: "hi", maxTokens: 2, chat: false, timeoutMs })))

  it("a JSON 200 instead of a stream is a bad_response", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ id: "x", choices: [{ text: "hi" }] }))
    })
    expect(await send(url)).toMatchObject({ ok: false, status: 200, errorClass: "bad_response" })
  })

  it("FastAPI's 404 body is read into an http_4xx", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" })
      res.end(JSON.stringify({ detail: "Not Found" }))
    })
    expect(await send(url)).toMatchObject({ ok: false, status: 404, errorClass: "http_4xx", error: "HTTP 404: Not Found" })
  })

  it("the per-request deadline is a timeout, keeping what arrived", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" })
      res.write('data: {"choices":[{"index":0,"text":"a","finish_reason":null}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n')
      // ...and then nothing.
    })
    const r = await send(url, 150)
    expect(r).toMatchObject({ ok: false, errorClass: "timeout", firstTokenMs: expect.any(Number) })
    expect(r.chunks.length).toBe(1)
    expect(r.endMs).toBeGreaterThanOrEqual(140)
  })

  it("nothing listening is connection_refused", async () => {
    const url = await serve((_req, res) => res.end())
    await cleanups.pop()!()
    expect(await send(url)).toMatchObject({ ok: false, errorClass: "connection_refused" })
  })
})
