// The probe's vllm bench load and datasets: gamma arrivals as vllm/benchmarks/serve.py get_request draws
// them, and the requests of --dataset-name random|sharegpt|prefix_repetition|custom as planFromFlags
// builds them from the flags and the file's text.
import { readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { planFromFlags } from "../../src/cli/probe.ts"
import { datasetPrompt, datasetRequests } from "../../src/probe/dataset.ts"
import { arrivalOffsetsMs } from "../../src/probe/runner.ts"
import { estimateTokens, parseShareGpt } from "../../src/sim/workload/vllm-datasets.ts"

const base = { isl: "1024", osl: "128", numRequests: "200", warmup: "0", seed: "0", scrapeInterval: "1", url: "http://h:8000", model: "m" }
const sharegptFile = path.resolve("test/fixtures/sharegpt-small.json")
const sharegptText = readFileSync(sharegptFile, "utf8")
const customText = readFileSync("test/fixtures/custom-small.jsonl", "utf8")

const gaps = (offsets: ReadonlyArray<number>): number[] => offsets.map((t, i) => t - (i === 0 ? 0 : offsets[i - 1]!))
const meanSd = (xs: ReadonlyArray<number>) => {
  const m = xs.reduce((a, x) => a + x, 0) / xs.length
  return { mean: m, sd: Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length) }
}

describe("probe arrivals: vllm bench's gamma gaps", () => {
  it.each([0.25, 0.5, 1, 4])("burstiness %s: mean gap 1/rate, coefficient of variation 1/sqrt(burstiness)", (b) => {
    const rate = 5
    const offsets = arrivalOffsetsMs("7", "rate-5", rate, 20_000, b)
    const g = gaps(offsets)
    const { mean, sd } = meanSd(g)
    // vllm rescales the cumulative gaps so the last request lands at N/rate: the mean gap is exactly 1/rate.
    expect(offsets[offsets.length - 1]).toBeCloseTo((20_000 / rate) * 1000, 6)
    expect(mean).toBeCloseTo(1000 / rate, 6)
    // CV of Gamma(k, θ) is 1/sqrt(k); 20,000 draws put the sample CV within a few percent.
    expect(sd / mean).toBeGreaterThan((1 / Math.sqrt(b)) * 0.95)
    expect(sd / mean).toBeLessThan((1 / Math.sqrt(b)) * 1.05)
    for (const x of g) expect(x).toBeGreaterThanOrEqual(0)
  })

  it("is seeded: the same seed and point give the same times, another seed or point others", () => {
    const a = arrivalOffsetsMs("1", "rate-2", 2, 50, 0.5)
    expect(arrivalOffsetsMs("1", "rate-2", 2, 50, 0.5)).toEqual(a)
    expect(arrivalOffsetsMs("2", "rate-2", 2, 50, 0.5)).not.toEqual(a)
    expect(arrivalOffsetsMs("1", "rate-2b", 2, 50, 0.5)).not.toEqual(a)
    // Poisson (burstiness 1) and gamma draw different gaps from the same stream.
    expect(arrivalOffsetsMs("1", "rate-2", 2, 50, 1)).not.toEqual(a)
  })

  it("rate inf sends every request at once", () => {
    expect(arrivalOffsetsMs("0", "rate-inf", "inf", 5, 0.5)).toEqual([0, 0, 0, 0, 0])
  })
})

describe("probe datasets", () => {
  it("sharegpt: the file's first-turn texts, verbatim, with the reply's length or --sharegpt-output-len", () => {
    const plan = planFromFlags({ ...base, rate: "4", numPrompts: undefined, numRequests: "30", datasetName: "sharegpt", datasetPath: sharegptFile }, { datasetText: sharegptText })
    if (typeof plan === "string") throw new Error(plan)
    const ds = plan.dataset!
    expect(ds.spec).toMatchObject({ name: "sharegpt", path: sharegptFile })
    expect(ds.requests).toHaveLength(30)
    const pairs = parseShareGpt(sharegptText)
    if (typeof pairs === "string") throw new Error(pairs)
    const byPrompt = new Map(pairs.map((p) => [p.prompt, p.completion as string]))
    for (const r of ds.requests) {
      expect(byPrompt.has(r.text!)).toBe(true)
      expect(r.input).toBe(estimateTokens(r.text!))
      expect(r.output).toBe(estimateTokens(byPrompt.get(r.text!)!))
      // vllm's is_valid_sequence drops prompts under 4 tokens ("hi") and one-turn entries.
      expect(r.text).not.toBe("hi")
      const p = datasetPrompt(r, { overhead: 0, perWord: 1 }, "salt", "key")
      expect([p.prompt, p.maxTokens]).toEqual([r.text, r.output])
    }
    // The plan's nominal lengths are the measured requests' means.
    expect(plan.isl).toBe(Math.round(ds.requests.reduce((a, r) => a + r.input, 0) / 30))
    const fixed = planFromFlags({ ...base, rate: "4", numRequests: "10", datasetName: "sharegpt", datasetPath: sharegptFile, sharegptOutputLen: 7 }, { datasetText: sharegptText })
    if (typeof fixed === "string") throw new Error(fixed)
    expect(fixed.dataset!.requests.map((r) => r.output)).toEqual(Array(10).fill(7))
    expect(fixed.osl).toBe(7)
  })

  it("custom JSONL: every prompt line, --custom-output-len for the outputs (default 256)", () => {
    const plan = planFromFlags({ ...base, concurrency: "2", numRequests: "6", datasetName: "custom", datasetPath: "c.jsonl", customOutputLen: 9 }, { datasetText: customText })
    if (typeof plan === "string") throw new Error(plan)
    const prompts = customText.trim().split("\n").map((l) => (JSON.parse(l) as { prompt: string }).prompt)
    expect(plan.dataset!.requests.map((r) => r.text).sort()).toEqual([...prompts].sort())
    expect(plan.dataset!.requests.every((r) => r.output === 9)).toBe(true)
    const dflt = planFromFlags({ ...base, concurrency: "2", numRequests: "3", datasetName: "custom", datasetPath: "c.jsonl" }, { datasetText: customText })
    if (typeof dflt === "string") throw new Error(dflt)
    expect(dflt.osl).toBe(256)
  })

  it("random: lengths uniform in [floor(L(1-r)), ceil(L(1+r))] after one shared prefix", () => {
    const plan = planFromFlags({ ...base, rate: "4", numRequests: "2000", randomInputLen: 101, randomOutputLen: 11, randomRangeRatio: 0.5, randomPrefixLen: 32 })
    if (typeof plan === "string") throw new Error(plan)
    const rs = plan.dataset!.requests
    const inputs = rs.map((r) => r.input - 32)
    const outputs = rs.map((r) => r.output)
    expect([Math.min(...inputs), Math.max(...inputs)]).toEqual([50, 152])
    expect([Math.min(...outputs), Math.max(...outputs)]).toEqual([5, 17])
    expect(Math.abs(meanSd(inputs).mean - 101)).toBeLessThan(3)
    // One prefix for all: its text is the same in every request of the point, and differs between points.
    const model = { overhead: 0, perWord: 1 }
    const a = datasetPrompt(rs[0]!, model, "run:rate-4", "k0").prompt.split(" ").slice(0, 32).join(" ")
    const b = datasetPrompt(rs[1]!, model, "run:rate-4", "k1").prompt.split(" ").slice(0, 32).join(" ")
    const other = datasetPrompt(rs[1]!, model, "run:rate-8", "k1").prompt.split(" ").slice(0, 32).join(" ")
    expect(a).toBe(b)
    expect(other).not.toBe(a)
    expect(datasetPrompt(rs[0]!, model, "s", "k").promptWords).toBe(rs[0]!.input)
    // Range ratio 0 and no prefix is the probe's plain fixed-length run.
    const plain = planFromFlags({ ...base, rate: "4", randomInputLen: 64, randomOutputLen: 8 })
    if (typeof plain === "string") throw new Error(plain)
    expect([plain.dataset, plain.isl, plain.osl]).toEqual([undefined, 64, 8])
  })

  it("prefix_repetition: each prefix sent by an equal share of the requests, shuffled", () => {
    const reqs = datasetRequests({ name: "prefix_repetition", prefixLen: 20, suffixLen: 10, numPrefixes: 4, outputLen: 5 }, 40, "0")
    if (typeof reqs === "string") throw new Error(reqs)
    const counts = [0, 1, 2, 3].map((g) => reqs.filter((r) => r.prefix?.group === g).length)
    expect(counts).toEqual([10, 10, 10, 10])
    expect(reqs.slice(0, 8).map((r) => r.prefix!.group)).not.toEqual([0, 1, 2, 3, 0, 1, 2, 3])
    expect(reqs.every((r) => r.input === 30 && r.output === 5)).toBe(true)
    const plan = planFromFlags({ ...base, rate: "4", numRequests: "43", datasetName: "prefix_repetition", prefixRepetitionNumPrefixes: 4 })
    if (typeof plan === "string") throw new Error(plan)
    expect(plan.numRequests).toBe(40) // vllm: num_requests // num_prefixes per prefix
  })

  it("bad input: one line naming the flag or the file's line", () => {
    expect(planFromFlags({ ...base, rate: "4", datasetName: "sharegpt" })).toMatch(/^--dataset-name sharegpt needs --dataset-path FILE/)
    expect(planFromFlags({ ...base, rate: "4", datasetName: "custom" })).toMatch(/^--dataset-name custom needs --dataset-path FILE/)
    expect(planFromFlags({ ...base, rate: "4", datasetName: "custom", datasetPath: "x.jsonl" }, { datasetText: '{"prompt":"a b c d e"}\n{"prompt": oops\n' })).toMatch(/^--dataset-path x\.jsonl: line 2: not valid JSON/)
    expect(planFromFlags({ ...base, rate: "4", datasetName: "custom", datasetPath: "x.jsonl" }, { datasetText: '{"prompt":"a"}\n{"text":"b"}\n' })).toBe('--dataset-path x.jsonl: line 2: expected an object with a "prompt" string')
    expect(planFromFlags({ ...base, rate: "4", datasetName: "sharegpt", datasetPath: "s.json" }, { datasetText: "{" })).toMatch(/^--dataset-path s\.json: not valid JSON/)
    expect(planFromFlags({ ...base, rate: "4", datasetPath: "s.json" })).toBe("--dataset-path needs --dataset-name sharegpt or custom")
    expect(planFromFlags({ ...base, rate: "4", datasetName: "random", datasetPath: "s.json" })).toMatch(/^--dataset-path: cannot be used with --dataset-name random/)
    expect(planFromFlags({ ...base, rate: "4", datasetName: "sharegpt", datasetPath: "s.json", randomRangeRatio: 0.1 }, { datasetText: sharegptText })).toMatch(/--random-\* flags belong to --dataset-name random/)
    expect(planFromFlags({ ...base, rate: "4", datasetName: "sharegpt", datasetPath: "s.json" }, { datasetText: sharegptText, given: (a) => a === "isl" })).toMatch(/--isl\/--osl.* both set the prompts/)
    expect(planFromFlags({ ...base, concurrency: "4", burstiness: 0.5 })).toMatch(/^--burstiness shapes the arrivals of a --rate/)
    expect(planFromFlags({ ...base, rate: "1,x" })).toBe('--rate 1,x: "x" is not a positive number or inf')
  })

  it("records burstiness and rate inf in the plan", () => {
    const plan = planFromFlags({ ...base, rate: "2,inf", burstiness: 0.5 })
    if (typeof plan === "string") throw new Error(plan)
    expect(plan.points.map((p) => p.id)).toEqual(["rate-2", "rate-inf"])
    expect(plan.burstiness).toBe(0.5)
  })
})
