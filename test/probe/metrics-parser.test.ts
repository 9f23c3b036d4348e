import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  counterSampleName,
  histogramDelta,
  histogramOf,
  histogramQuantile,
  parsePromNumber,
  parsePrometheusText,
  parseVllmMetrics,
  samplesNamed
} from "../../src/probe/metrics-parser.ts"
import type { Scrape, VllmSnapshot } from "../../src/probe/metrics-parser.ts"
import { IN_CI, dataPath, hasData, skipReason } from "../hw/shared-data.ts"

const CAPTURES = ["vllm-captures"] as const
const LOADED = "metrics_v1_0.25.1_loaded-64run-64wait_opt125m-tp2_2xRTX3090__er0080-vllm-benchmarking.txt"
const IDLE = "metrics_v1_0.25.1_idle_opt125m-tp2_2xRTX3090__er0080-vllm-benchmarking.txt"
const haveCaptures = hasData(...CAPTURES)

const scrape = (text: string): Scrape => {
  const s = parsePrometheusText(text)
  if (typeof s === "string") throw new Error(s)
  return s
}

const snapshot = (text: string): VllmSnapshot => {
  const s = parseVllmMetrics(text)
  if (typeof s === "string") throw new Error(s)
  return s
}

describe("parsePromNumber", () => {
  it("reads decimals, exponents, NaN and infinities", () => {
    expect(parsePromNumber("1.1701968896e+010")).toBe(11701968896)
    expect(parsePromNumber("64.0")).toBe(64)
    expect(parsePromNumber("-0.5")).toBe(-0.5)
    expect(parsePromNumber("NaN")).toBeNaN()
    expect(parsePromNumber("+Inf")).toBe(Number.POSITIVE_INFINITY)
    expect(parsePromNumber("-Inf")).toBe(Number.NEGATIVE_INFINITY)
    expect(parsePromNumber("abc")).toBeUndefined()
    expect(parsePromNumber("")).toBeUndefined()
  })
})

describe("parsePrometheusText (synthetic pages)", () => {
  it("parses label escapes, timestamps, comments, families and a page without a trailing newline", () => {
    const page = [
      "# A free comment",
      "# HELP x_total A help text with \\\\ and a\\nnewline",
      "# TYPE x_total counter",
      'x_total{path="C:\\\\dir",msg="say \\"hi\\"",nl="a\\nb",} 3 1700000000000',
      "# TYPE g gauge",
      "g NaN",
      "untyped_thing 7"
    ].join("\n")
    const s = scrape(page)
    const x = samplesNamed(s, "x_total")[0]!
    expect(x.labels).toEqual({ path: "C:\\dir", msg: 'say "hi"', nl: "a\nb" })
    expect(x.value).toBe(3)
    expect(x.timestampMs).toBe(1700000000000)
    expect(s.families.get("x_total")?.help).toBe("A help text with \\ and a\nnewline")
    expect(s.families.get("x_total")?.type).toBe("counter")
    expect(samplesNamed(s, "g")[0]!.value).toBeNaN()
    expect(s.families.get("untyped_thing")?.type).toBe("untyped")
  })

  it("groups _total/_created/_bucket samples under an OpenMetrics-style family name", () => {
    const page = [
      "# TYPE vllm:num_preemptions counter",
      'vllm:num_preemptions_total{engine="0"} 5',
      'vllm:num_preemptions_created{engine="0"} 1.7e9',
      "# TYPE h histogram",
      'h_bucket{le="1.0"} 1',
      'h_bucket{le="+Inf"} 2',
      "h_sum 3.5",
      "h_count 2",
      "# EOF"
    ].join("\n")
    const s = scrape(page)
    expect(s.families.get("vllm:num_preemptions")?.samples.map((x) => x.name)).toEqual([
      "vllm:num_preemptions_total",
      "vllm:num_preemptions_created"
    ])
    expect(counterSampleName(s, "vllm:num_preemptions")).toBe("vllm:num_preemptions_total")
    expect(s.families.get("h")?.samples.length).toBe(4)
    expect(histogramOf(s, "h")).toEqual({ buckets: [{ le: 1, count: 1 }, { le: Number.POSITIVE_INFINITY, count: 2 }], sum: 3.5, count: 2 })
  })

  it("reports a malformed line with its number", () => {
    expect(parsePrometheusText("ok 1\nbad{x=\"1\" 2\n")).toMatch(/^line 2: bad:/)
    expect(parsePrometheusText("ok one\n")).toMatch(/^line 1: ok: value "one" is not a number/)
    expect(parsePrometheusText("# TYPE a wibble\n")).toMatch(/^line 1: unknown metric type/)
  })

  it("takes kv usage from gpu_cache_usage_perc on older vLLM and averages it over engines", () => {
    const page = [
      "# TYPE vllm:gpu_cache_usage_perc gauge",
      'vllm:gpu_cache_usage_perc{engine="0"} 0.2',
      'vllm:gpu_cache_usage_perc{engine="1"} 0.4',
      "# TYPE vllm:num_requests_running gauge",
      'vllm:num_requests_running{engine="0"} 3',
      'vllm:num_requests_running{engine="1"} 4'
    ].join("\n")
    const s = snapshot(page)
    expect(s.kvCacheUsage).toBeCloseTo(0.3, 12)
    expect(s.kvCacheUsageMetric).toBe("vllm:gpu_cache_usage_perc")
    expect(s.running).toBe(7)
  })
})

describe("histograms", () => {
  it("delta and quantile follow Prometheus' histogram_quantile", () => {
    const before = { buckets: [{ le: 1, count: 2 }, { le: 2, count: 4 }, { le: Infinity, count: 4 }], sum: 5, count: 4 }
    const after = { buckets: [{ le: 1, count: 2 }, { le: 2, count: 14 }, { le: Infinity, count: 16 }], sum: 30, count: 16 }
    const d = histogramDelta(before, after)!
    expect(d).toEqual({ buckets: [{ le: 1, count: 0 }, { le: 2, count: 10 }, { le: Infinity, count: 12 }], sum: 25, count: 12 })
    // rank 6 of 12 falls in (1, 2] holding 10: 1 + (2 − 1)·6/10
    expect(histogramQuantile(d, 0.5)).toBeCloseTo(1.6, 12)
    // rank beyond the last finite bucket → its upper bound
    expect(histogramQuantile(d, 0.99)).toBe(2)
    expect(histogramDelta(after, before)).toBeUndefined() // counter reset
  })
})

describe.skipIf(!haveCaptures)(`real vLLM 0.25.1 /metrics pages ${haveCaptures ? "" : skipReason(...CAPTURES)}`, () => {
  const loadedText = haveCaptures ? readFileSync(dataPath(...CAPTURES, LOADED), "utf8") : ""
  const idleText = haveCaptures ? readFileSync(dataPath(...CAPTURES, IDLE), "utf8") : ""

  it("parse completely, with _created series and +Inf buckets", () => {
    for (const text of [loadedText, idleText]) {
      const s = scrape(text)
      const vllmSamples = s.samples.filter((x) => x.name.startsWith("vllm:"))
      const vllmLines = text.split("\n").filter((l) => l.startsWith("vllm:"))
      expect(vllmSamples.length).toBe(vllmLines.length)
      expect(s.samples.some((x) => x.name.endsWith("_created"))).toBe(true)
      expect(s.samples.some((x) => x.labels.le === "+Inf")).toBe(true)
    }
    // The same page cut just before its final newline still parses to the same samples.
    expect(scrape(idleText.trimEnd()).samples.length).toBe(scrape(idleText).samples.length)
  })

  it("extract vLLM's serving metrics by the names the page declares (loaded: 64 running, 64 waiting)", () => {
    const s = snapshot(loadedText)
    expect(s.running).toBe(64)
    expect(s.waiting).toBe(64)
    expect(s.kvCacheUsage).toBeCloseTo(0.11223878211531546, 15)
    expect(s.kvCacheUsageMetric).toBe("vllm:kv_cache_usage_perc")
    expect(s.preemptions).toBe(0)
    expect(s.promptTokens).toBe(339968)
    expect(s.generationTokens).toBe(165293)
    expect(s.promptTokensCached).toBe(2480)
    expect(s.prefixCacheQueries).toBe(339968)
    expect(s.prefixCacheHits).toBe(2480)
    expect(s.requestSuccess).toEqual({ stop: 0, length: 600, abort: 0, error: 0, repetition: 0 })
    expect(s.iterationTokens?.count).toBe(2829)
    expect(s.iterationTokens?.sum).toBe(502781)
    expect(s.iterationTokens?.buckets.map((b) => b.le)).toEqual([
      1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, Number.POSITIVE_INFINITY
    ])
    expect(s.iterationTokens?.buckets.find((b) => b.le === 64)?.count).toBe(2639)
    expect(s.latencySums?.["vllm:time_to_first_token_seconds"]).toEqual({ sum: 88.24499082565308, count: 664 })
    expect(s.cacheConfig?.numGpuBlocks).toBe(25028)
    expect(s.cacheConfig?.blockSize).toBe(16)
    expect(s.cacheConfig?.gpuMemoryUtilization).toBe(0.3)
    expect(s.cacheConfig?.enablePrefixCaching).toBe(true)
    expect(s.cacheConfig?.numCpuBlocks).toBeUndefined() // "None"
    expect(s.cacheConfig?.labels.kv_cache_size_tokens).toBe("400448")
    expect(s.vllmFamilies).toContain("vllm:iteration_tokens_total")
  })

  it("idle page: zeros, and the same cache config", () => {
    const s = snapshot(idleText)
    expect(s.running).toBe(0)
    expect(s.waiting).toBe(0)
    expect(s.generationTokens).toBe(0)
    expect(s.iterationTokens?.count).toBe(0)
    expect(s.cacheConfig?.numGpuBlocks).toBe(25028)
  })

  it("bucket deltas between two scrapes of one server", () => {
    const a = histogramOf(scrape(idleText), "vllm:iteration_tokens_total")
    const b = histogramOf(scrape(loadedText), "vllm:iteration_tokens_total")
    const d = histogramDelta(a, b)!
    expect(d.count).toBe(2829)
    expect(histogramQuantile(d, 0.5)).toBeGreaterThan(32)
    expect(histogramQuantile(d, 0.5)).toBeLessThanOrEqual(64)
  })
})

it.runIf(!haveCaptures && IN_CI)(`CI requires ${dataPath(...CAPTURES)}`, () => {
  throw new Error(`${dataPath(...CAPTURES)} is absent`)
})
