// vllm bench's ShareGPT and custom dataset files: parsing (with one-line reasons for bad input), the
// length estimate, vllm's ShareGPT filter and its sampling (shuffle, take, oversample).
import { describe, expect, it } from "vitest"
import { estimateTokens, isValidSequence, parseCustomJsonl, parseShareGpt, sampleDataset } from "../../../src/sim/workload/vllm-datasets.ts"

const conv = (...values: string[]) => ({ conversations: values.map((value, i) => ({ from: i % 2 === 0 ? "human" : "gpt", value })) })

describe("ShareGPT files", () => {
  it("takes turn 0 as the prompt and turn 1 as the reply; skips entries with fewer than two turns", () => {
    const pairs = parseShareGpt(JSON.stringify([conv("a", "b", "c"), conv("only"), { id: "x" }, conv("d", "e")]))
    expect(pairs).toEqual([
      { prompt: "a", completion: "b" },
      { prompt: "d", completion: "e" },
    ])
  })

  it("names the problem of a bad file", () => {
    expect(parseShareGpt("{")).toMatch(/^not valid JSON/)
    expect(parseShareGpt("{}")).toMatch(/expected a JSON list/)
    expect(parseShareGpt(JSON.stringify([1]))).toBe("entry 0: expected an object with a conversations list")
    expect(parseShareGpt(JSON.stringify([conv("a", "b"), { conversations: [{ value: 3 }, { value: "x" }] }]))).toBe("entry 1: conversations[0].value is not a string")
    expect(parseShareGpt(JSON.stringify([conv("a")]))).toMatch(/no entry has two/)
  })
})

describe("custom JSONL files", () => {
  it("reads one prompt per line, blank lines skipped, output_tokens optional", () => {
    expect(parseCustomJsonl('{"prompt":"p1"}\n\n{"prompt":"p2","output_tokens":7}\n')).toEqual([
      { prompt: "p1", completion: undefined },
      { prompt: "p2", completion: 7 },
    ])
  })

  it("names the line of a bad row", () => {
    expect(parseCustomJsonl('{"prompt":"p"}\nnot json')).toMatch(/^line 2: not valid JSON/)
    expect(parseCustomJsonl('{"text":"p"}')).toBe('line 1: expected an object with a "prompt" string')
    expect(parseCustomJsonl('{"prompt":"p","output_tokens":0}')).toBe("line 1: output_tokens must be a positive integer")
    expect(parseCustomJsonl("\n")).toMatch(/^no lines/)
  })
})

describe("lengths and sampling", () => {
  it("estimates ceil(characters / 4) tokens, at least 1", () => {
    expect([estimateTokens(""), estimateTokens("abc"), estimateTokens("abcd"), estimateTokens("abcde")]).toEqual([1, 1, 1, 2])
  })

  it("applies vllm's is_valid_sequence: prompt 4–1024, output ≥ 4 unless fixed, total ≤ 2048", () => {
    expect([isValidSequence(3, 10, false), isValidSequence(4, 3, false), isValidSequence(4, 3, true), isValidSequence(1025, 4, false), isValidSequence(1024, 1025, false), isValidSequence(1024, 1024, false)]).toEqual([
      false, false, true, false, false, true,
    ])
  })

  it("takes each valid entry once in a seeded order before oversampling, and is reproducible", () => {
    const pairs = Array.from({ length: 50 }, (_, i) => ({ prompt: "x".repeat(4 * (i + 4)), completion: "y".repeat(40) }))
    const a = sampleDataset(pairs, { seed: 1, numRequests: 50, kind: "sharegpt" })
    const b = sampleDataset(pairs, { seed: 1, numRequests: 50, kind: "sharegpt" })
    const c = sampleDataset(pairs, { seed: 2, numRequests: 50, kind: "sharegpt" })
    if (typeof a === "string" || typeof c === "string") throw new Error(String(a))
    expect(a).toEqual(b)
    expect(a.input).not.toEqual(c.input)
    expect([...a.input].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 4))
    const over = sampleDataset(pairs.slice(0, 3), { seed: 1, numRequests: 10, kind: "custom", outputLen: 9 })
    if (typeof over === "string") throw new Error(over)
    expect(over.input).toHaveLength(10)
    expect(new Set(over.input.slice(0, 3))).toEqual(new Set([4, 5, 6]))
    expect(over.output.every((o) => o === 9)).toBe(true)
    expect(sampleDataset([{ prompt: "hi", completion: "there" }], { seed: 0, numRequests: 5, kind: "sharegpt" })).toMatch(/length filter/)
  })
})
