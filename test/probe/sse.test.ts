import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { judgeStream } from "../../src/probe/client.ts"
import {
  interpretData,
  makeSseParser,
  makeStreamAccumulator,
  parseErrorBody,
  tallyRecordedStream
} from "../../src/probe/sse.ts"
import type { SseEvent } from "../../src/probe/sse.ts"
import { IN_CI, dataPath, hasData, skipReason } from "../hw/shared-data.ts"

const CAPTURES = ["vllm-captures"] as const
const SSE_CHAT = "sse_chat_v1_deepseek-v3.1_no-usage_sha256-verified__nearai-docs.txt"
const ERRORS = "errors_http400_bodies__vllm-issues.txt"
const haveCaptures = hasData(...CAPTURES)

/** A vLLM /v1/completions stream with continuous_usage_stats: usage on every chunk, then a usage-only chunk. */
const completionStream = (tokens: ReadonlyArray<number>, eol = "\n"): string => {
  const lines: string[] = [`: keep-alive comment${eol}${eol}`]
  let cum = 0
  tokens.forEach((n, i) => {
    cum += n
    const finish = i === tokens.length - 1 ? '"length"' : "null"
    lines.push(
      `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"${" tok".repeat(n)}","logprobs":null,"finish_reason":${finish},"stop_reason":null}],"usage":{"prompt_tokens":7,"total_tokens":${7 + cum},"completion_tokens":${cum}}}${eol}${eol}`
    )
  })
  lines.push(
    `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":7,"total_tokens":${7 + cum},"completion_tokens":${cum},"prompt_tokens_details":{"cached_tokens":3}}}${eol}${eol}`
  )
  lines.push(`data: [DONE]${eol}${eol}`)
  return lines.join("")
}

const eventsOf = (pieces: ReadonlyArray<string>): SseEvent[] => {
  const p = makeSseParser()
  const out: SseEvent[] = []
  for (const piece of pieces) out.push(...p.push(piece))
  out.push(...p.end())
  return out
}

describe("makeSseParser", () => {
  it("gives the same events however the text is split (every two-piece split, and char by char)", () => {
    for (const eol of ["\n", "\r\n", "\r"]) {
      const body = completionStream([1, 2, 1], eol)
      const whole = eventsOf([body])
      expect(whole.map((e) => (e.data === "[DONE]" ? "done" : (JSON.parse(e.data) as { choices: unknown[] }).choices.length))).toEqual([
        1,
        1,
        1,
        0,
        "done"
      ])
      expect(whole.length).toBe(5)
      for (let cut = 1; cut < body.length; cut++) expect(eventsOf([body.slice(0, cut), body.slice(cut)])).toEqual(whole)
      expect(eventsOf([...body])).toEqual(whole)
    }
  })

  it("joins multi-line data, reads event and id fields, counts comments", () => {
    const p = makeSseParser()
    const evs = p.push("event: error\nid: 7\ndata: a\ndata:b\n\n: ping\n\n")
    expect(evs).toEqual([{ event: "error", data: "a\nb", id: "7" }])
    expect(p.comments()).toBe(1)
  })

  it("flushes an event the server left without its blank line", () => {
    expect(eventsOf(["data: [DONE]"])).toEqual([{ event: "message", data: "[DONE]" }])
    expect(eventsOf(["data: x\n"])).toEqual([{ event: "message", data: "x" }])
  })
})

describe("interpretData / accumulator", () => {
  it("takes token counts from continuous usage, never from counting chunks", () => {
    const t = tallyRecordedStream(completionStream([1, 3, 2]))
    expect(t.chunks.map((c) => c.tokens)).toEqual([1, 3, 2])
    expect(t.usage).toEqual({ prompt_tokens: 7, completion_tokens: 6, total_tokens: 13, cached_tokens: 3 })
    expect(t.continuousUsage).toBe(true)
    expect(t.finishReason).toBe("length")
    expect(t.done).toBe(true)
    expect(t.firstTokenMs).toBe(0) // times are event indices; the comment is not an event
    expect(t.lastChunkMs).toBe(2) // the usage-only chunk (event 3) does not extend E2EL
    expect(judgeStream(t, undefined)).toEqual({ ok: true })
  })

  it("an error object inside a 200 stream is a stream_error; later events are ignored", () => {
    const body = [
      'data: {"id":"c","object":"text_completion","choices":[{"index":0,"text":" a","finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}',
      'data: {"error":{"message":"Engine loop has died","type":"InternalServerError","param":null,"code":500}}',
      'data: {"id":"c","object":"text_completion","choices":[{"index":0,"text":" b","finish_reason":null}]}',
      "data: [DONE]",
      ""
    ].join("\n\n")
    const t = tallyRecordedStream(body)
    expect(t.error).toEqual({ message: "Engine loop has died", type: "InternalServerError", code: 500 })
    expect(t.chunks.length).toBe(1)
    expect(t.done).toBe(false)
    expect(judgeStream(t, undefined)).toEqual({
      ok: false,
      errorClass: "stream_error",
      error: "InternalServerError (code 500): Engine loop has died"
    })
  })

  it("classifies chunks, usage-only chunks, [DONE], flat error bodies and junk", () => {
    expect(interpretData("[DONE]")).toEqual({ kind: "done" })
    expect(interpretData(' {"object":"error","message":"bad","type":"BadRequestError","param":null,"code":400}')).toEqual({
      kind: "error",
      error: { message: "bad", type: "BadRequestError", code: 400 }
    })
    expect(interpretData("{nope")).toMatchObject({ kind: "invalid" })
    expect(interpretData('{"foo":1}')).toMatchObject({ kind: "invalid" })
    expect(interpretData('{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}')).toEqual({
      kind: "chunk",
      hasChoices: false,
      text: "",
      roleOnly: false,
      finishReason: null,
      usage: { prompt_tokens: 1, completion_tokens: 2 }
    })
  })

  it("finish_reason abort is a failure; a stream cut before finish is a dropped connection", () => {
    const acc = makeStreamAccumulator()
    acc.onEvent({ event: "message", data: '{"choices":[{"index":0,"text":"x","finish_reason":"abort"}]}' }, 5)
    expect(judgeStream(acc.tally(), undefined)).toMatchObject({ ok: false, errorClass: "stream_error" })
    const cut = makeStreamAccumulator()
    cut.onEvent({ event: "message", data: '{"choices":[{"index":0,"text":"x","finish_reason":null}]}' }, 5)
    expect(judgeStream(cut.tally(), undefined)).toMatchObject({ ok: false, errorClass: "dropped_connection" })
    expect(judgeStream(makeStreamAccumulator().tally(), undefined)).toMatchObject({ ok: false, errorClass: "dropped_connection" })
  })

  it("chat: the role-only chunk is a chunk but not the first token", () => {
    const acc = makeStreamAccumulator()
    acc.onEvent({ event: "message", data: '{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":{"prompt_tokens":9,"completion_tokens":0,"total_tokens":9}}' }, 10)
    acc.onEvent({ event: "message", data: '{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}' }, 30)
    const t = acc.tally()
    expect(t.firstChunkMs).toBe(10)
    expect(t.firstTokenMs).toBe(30)
    expect(t.chunks.map((c) => c.tokens)).toEqual([0, 1])
  })
})

describe.skipIf(!haveCaptures)(`real vLLM streams and error bodies ${haveCaptures ? "" : skipReason(...CAPTURES)}`, () => {
  it("parses the captured chat stream (vLLM V1, no usage): first token after the role chunk", () => {
    const body = readFileSync(dataPath(...CAPTURES, SSE_CHAT), "utf8")
    const t = tallyRecordedStream(body)
    expect(t.chunks.length).toBe(6)
    expect(t.firstChunkMs).toBe(0) // the role-only opening delta
    expect(t.firstTokenMs).toBe(1) // "Okay"
    expect(t.lastChunkMs).toBe(5) // the empty final delta with finish_reason stop
    expect(t.finishReason).toBe("stop")
    expect(t.done).toBe(true)
    expect(t.usage).toBeUndefined()
    expect(t.continuousUsage).toBe(false)
    expect(t.chunks.every((c) => c.tokens === null)).toBe(true) // no usage: token counts are unknown, not guessed
    expect(t.invalid).toBe(0)
    expect(judgeStream(t, undefined)).toEqual({ ok: true })
  })

  it("reads every RAW HTTP 400 body in the captured error file", () => {
    const text = readFileSync(dataPath(...CAPTURES, ERRORS), "utf8")
    const raw = text.split("\n").filter((l) => l.startsWith("{\"error\""))
    expect(raw.length).toBe(3)
    for (const line of raw) {
      const e = parseErrorBody(JSON.parse(line))
      expect(e?.message).toMatch(/maximum context length/)
      expect(e?.type).toBe("BadRequestError")
      expect(e?.code).toBe(400)
    }
  })
})

it.runIf(!haveCaptures && IN_CI)(`CI requires ${dataPath(...CAPTURES)}`, () => {
  throw new Error(`${dataPath(...CAPTURES)} is absent`)
})
