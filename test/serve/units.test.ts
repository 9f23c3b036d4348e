// Pure parts of the twin: number formatting as prometheus_client writes it, the prompt-token
// approximation, request validation and error bodies, and the seeded misbehaviour decisions.
import { describe, expect, it } from "vitest"
import { parseErrorBody } from "../../src/probe/sse.ts"
import { chunkIndexAt, misbehaviourFor } from "../../src/serve/misbehaviour.ts"
import { buckets125, Histogram, promNumber, pyFloatRepr, renderLabels } from "../../src/serve/prom.ts"
import { contextLengthRejection, isRejection, parseGenerationRequest } from "../../src/serve/protocol.ts"
import { blockHashChain, countTextTokens, OUTPUT_WORDS, tokenizeChat, tokenizeText } from "../../src/serve/tokens.ts"

describe("Prometheus number formatting (prometheus_client floatToGoString)", () => {
  it("matches values seen on the captured vLLM 0.25.1 pages", () => {
    expect(promNumber(64)).toBe("64.0")
    expect(promNumber(0)).toBe("0.0")
    expect(promNumber(0.11223878211531546)).toBe("0.11223878211531546")
    expect(promNumber(10214653952)).toBe("1.0214653952e+10")
    expect(promNumber(1044070400)).toBe("1.0440704e+09")
    expect(promNumber(1786928992.76)).toBe("1.78692899276e+09")
    expect(promNumber(2022441)).toBe("2.022441e+06")
    expect(promNumber(339968)).toBe("339968.0")
    expect(promNumber(88.24499082565308)).toBe("88.24499082565308")
    expect(promNumber(Number.POSITIVE_INFINITY)).toBe("+Inf")
    expect(promNumber(0.001)).toBe("0.001")
    expect(promNumber(2560)).toBe("2560.0")
  })

  it("follows Python's repr for small and huge floats", () => {
    expect(pyFloatRepr(1e-5)).toBe("1e-05")
    expect(pyFloatRepr(0.0001)).toBe("0.0001")
    expect(pyFloatRepr(1.5e-7)).toBe("1.5e-07")
    expect(pyFloatRepr(1e16)).toBe("1e+16")
    expect(pyFloatRepr(195.53125)).toBe("195.53125")
    expect(pyFloatRepr(0.3)).toBe("0.3")
    expect(pyFloatRepr(-2.5)).toBe("-2.5")
  })

  it("sorts label names (le between engine and model_name) and builds 1-2-5 buckets", () => {
    expect(renderLabels({ model_name: "m", le: "1.0", engine: "0" })).toBe('{engine="0",le="1.0",model_name="m"}')
    expect(renderLabels({ a: 'x"y\\z' })).toBe('{a="x\\"y\\\\z"}')
    expect(buckets125(2048)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000])
    const h = new Histogram([1, 2, 5])
    for (const v of [0.5, 1, 1.5, 7]) h.observe(v)
    expect(h.cumulative()).toEqual([2, 3, 3, 4])
    expect(h.sum).toBe(10)
    expect(h.count).toBe(4)
  })
})

describe("prompt token approximation", () => {
  it("counts one token per common word, word pieces for long words, digits by 3, punctuation by 1", () => {
    expect(countTextTokens("the of and to in")).toBe(5)
    expect(tokenizeText("Hello, world!")).toEqual(["Hello", ",", " world", "!"])
    expect(countTextTokens("internationalization")).toBe(3)
    expect(countTextTokens("year 2026")).toBe(3) // " year" doesn't exist here: "year", " 202", "6"
    expect(countTextTokens("trailing  ")).toBe(2)
    expect(countTextTokens("")).toBe(0)
    expect(countTextTokens("日本語のテキスト")).toBe(8)
    expect(countTextTokens("naïve café")).toBe(2)
  })

  it("counts the probe's filler prompts exactly one token per word", () => {
    const words = [" the", " of", " and", " to", " in", " is", " that", " for", " it", " as"]
    const prompt = Array.from({ length: 300 }, (_, i) => words[i % words.length]).join("").slice(1)
    expect(countTextTokens(prompt)).toBe(300)
  })

  it("renders chat through a fixed template: 3 + Σ(content + 2)", () => {
    const t = tokenizeChat([
      { role: "system", content: "be brief" },
      { role: "user", content: "hi there" },
    ])
    expect(t.length).toBe(3 + (2 + 2) + (2 + 2))
  })

  it("makes every output word exactly one token", () => {
    for (const w of OUTPUT_WORDS) expect(countTextTokens(w)).toBe(1)
  })

  it("chains block hashes so shared leading blocks share keys and later blocks differ", () => {
    const a = tokenizeText("a b c d e f g h i j k l")
    const b = tokenizeText("a b c d e f g h x y z w")
    const ka = blockHashChain(a, 4, 100)
    const kb = blockHashChain(b, 4, 100)
    expect(ka.length).toBe(3)
    expect(ka[0]).toBe(kb[0])
    expect(ka[1]).toBe(kb[1])
    expect(ka[2]).not.toBe(kb[2])
    expect(blockHashChain(a, 4, 2).length).toBe(2)
  })
})

describe("request validation and vLLM error bodies", () => {
  const ctx = { servedModelName: "m", maxModelLen: 2048 }

  it("reproduces vLLM ≥ 0.15's over-long prompt message (capture entry 2)", () => {
    const r = contextLengthRejection(2048, 8, 2045)!
    expect(r.status).toBe(400)
    expect(r.body).toEqual({
      error: {
        message:
          "This model's maximum context length is 2048 tokens. However, your request has 8 input tokens plus 2045 'max_tokens'. Please reduce one or the other. (parameter=input_tokens, max_tokens, value=(8, 2045))",
        type: "BadRequestError",
        param: "input_tokens, max_tokens",
        code: 400,
      },
    })
    expect(contextLengthRejection(2048, 8, 2040)).toBeUndefined()
    const alone = contextLengthRejection(2048, 3000, undefined)!
    expect(alone.body.error.message).toMatch(/^This model's maximum context length is 2048 tokens\. However, your request has 3000 input tokens\./)
    expect(alone.body.error.param).toBe("input_tokens")
    // The probe's error-body reader understands it.
    expect(parseErrorBody(r.body)).toMatchObject({ type: "BadRequestError", code: 400 })
  })

  it("defaults completions to 16 tokens and chat to what the context leaves", () => {
    const c = parseGenerationRequest("completion", { prompt: "a b c" }, ctx)
    expect(isRejection(c) ? c : c.maxTokens).toBe(16)
    const ch = parseGenerationRequest("chat", { messages: [{ role: "user", content: "a b c" }] }, ctx)
    expect(isRejection(ch) ? ch : ch.maxTokens).toBe(2048 - (3 + 3 + 2))
  })

  it("rejects n > 1, a wrong model, stream_options without stream, max_tokens < 1", () => {
    const n = parseGenerationRequest("completion", { prompt: "x", n: 2 }, ctx)
    expect(isRejection(n) && n.status).toBe(400)
    const m = parseGenerationRequest("completion", { model: "other", prompt: "x" }, ctx)
    expect(isRejection(m) && m.status).toBe(404)
    expect(isRejection(m) && m.body.error).toEqual({ message: "The model `other` does not exist.", type: "NotFoundError", param: "model", code: 404 })
    const so = parseGenerationRequest("completion", { prompt: "x", stream_options: { include_usage: true } }, ctx)
    expect(isRejection(so) && so.body.error.message).toBe("Stream options can only be defined when `stream=True`.")
    const mt = parseGenerationRequest("completion", { prompt: "x", max_tokens: 0 }, ctx)
    expect(isRejection(mt) && mt.body.error.message).toBe("max_tokens must be at least 1, got 0.")
  })

  it("takes token-id prompts at their length and honours stream options", () => {
    const r = parseGenerationRequest(
      "completion",
      { prompt: [1, 2, 3, 4], stream: true, stream_options: { include_usage: true, continuous_usage_stats: true }, max_tokens: 5, ignore_eos: true },
      ctx,
    )
    if (isRejection(r)) throw new Error(r.body.error.message)
    expect(r.promptTokens.length).toBe(4)
    expect(r).toMatchObject({ stream: true, includeUsage: true, continuousUsage: true, ignoreEos: true, maxTokens: 5 })
  })
})

describe("misbehaviour decisions", () => {
  const rates = { failRate: 0.2, stallRate: 0.1, stallMs: 50, errorChunkRate: 0.05, dropRate: 0.03 }

  it("are a pure function of (seed, index)", () => {
    for (let i = 0; i < 50; i++) expect(misbehaviourFor(7, i, rates)).toEqual(misbehaviourFor(7, i, rates))
    const a = Array.from({ length: 200 }, (_, i) => misbehaviourFor(1, i, rates).fail)
    const b = Array.from({ length: 200 }, (_, i) => misbehaviourFor(2, i, rates).fail)
    expect(a).not.toEqual(b)
  })

  it("happen at the configured rates", () => {
    const n = 20_000
    let fail = 0
    let stall = 0
    let err = 0
    let drop = 0
    for (let i = 0; i < n; i++) {
      const m = misbehaviourFor("s", i, rates)
      if (m.fail) fail++
      if (m.stallAt !== undefined) stall++
      if (m.errorAt !== undefined) err++
      if (m.dropAt !== undefined) drop++
    }
    expect(Math.abs(fail / n - 0.2)).toBeLessThan(0.01)
    expect(Math.abs(stall / n - 0.1)).toBeLessThan(0.01)
    expect(Math.abs(err / n - 0.05)).toBeLessThan(0.006)
    expect(Math.abs(drop / n - 0.03)).toBeLessThan(0.005)
  })

  it("maps a fraction to a chunk index inside the output", () => {
    expect(chunkIndexAt(0, 10)).toBe(0)
    expect(chunkIndexAt(0.999, 10)).toBe(9)
    expect(chunkIndexAt(0.5, 1)).toBe(0)
  })
})
