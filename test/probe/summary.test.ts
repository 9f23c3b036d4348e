import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { basicStats, requestMetrics, summarizeRecords } from "../../src/probe/summary.ts"
import { quantileSortedLinear } from "../../src/sim/stats.ts"
import type { RequestRecord } from "../../src/probe/types.ts"
import { distributionOf } from "../../src/sim/stats.ts"

const rec = (over: Partial<RequestRecord> & Pick<RequestRecord, "index" | "sentAt" | "endMs">): RequestRecord => ({
  point: "concurrency-2",
  warmup: false,
  session: 0,
  intendedAt: over.sentAt,
  chunks: [],
  ok: true,
  continuousUsage: true,
  done: true,
  finishReason: "length",
  promptTokensRequested: 10,
  promptWords: 9,
  maxTokens: 4,
  ...over
})

describe("quantileSortedLinear = numpy.percentile (linear)", () => {
  it("matches numpy on known values", () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    expect(quantileSortedLinear(ten, 0.99)).toBeCloseTo(9.91, 12) // np.percentile(range(1, 11), 99)
    expect(quantileSortedLinear(ten, 0.5)).toBe(5.5)
    expect(quantileSortedLinear([15, 20, 35, 40, 50], 0.4)).toBeCloseTo(29, 12) // numpy docs example
    expect(quantileSortedLinear([7], 0.9)).toBe(7)
    expect(quantileSortedLinear([1, 2, Infinity], 0.5)).toBe(2)
    expect(quantileSortedLinear([1, 2, Infinity], 0.6)).toBe(Infinity)
  })

  it("basicStats agrees with the simulator's numpy helpers (src/sim/stats.ts)", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 60 }), (xs) => {
        const a = basicStats(xs)!
        const b = distributionOf(Float64Array.from(xs))
        const close = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(y))
        return close(a.mean, b.mean) && close(a.median, b.median) && close(a.std, b.std) &&
          close(a.percentiles.get(90)!, b.p90) && close(a.percentiles.get(99)!, b.p99)
      })
    )
  })
})

describe("summarizeRecords (vllm bench calculate_metrics definitions)", () => {
  const A = rec({
    index: 0,
    sentAt: 1000,
    endMs: 135,
    firstChunkMs: 100,
    firstTokenMs: 100,
    lastChunkMs: 130,
    chunks: [[100, 1], [110, 1], [130, 2]],
    usage: { prompt_tokens: 10, completion_tokens: 4 }
  })
  const B = rec({
    index: 1,
    sentAt: 1050,
    endMs: 85,
    firstChunkMs: 50,
    firstTokenMs: 50,
    lastChunkMs: 80,
    chunks: [[50, 1], [80, 1]],
    usage: { prompt_tokens: 12, completion_tokens: 2 }
  })
  const C = rec({
    index: 2,
    sentAt: 1100,
    endMs: 210,
    firstChunkMs: 200,
    firstTokenMs: 200,
    lastChunkMs: 200,
    chunks: [[200, 1]],
    usage: { prompt_tokens: 8, completion_tokens: 1 }
  })
  const D = rec({ index: 3, sentAt: 1120, endMs: 5, ok: false, errorClass: "http_5xx", error: "HTTP 500: boom", status: 500, done: false })
  const W = rec({ index: 0, warmup: true, sentAt: 500, endMs: 2000, firstTokenMs: 1, lastChunkMs: 1900, usage: { prompt_tokens: 99, completion_tokens: 99 } })
  const s = summarizeRecords([W, A, B, C, D])

  it("per request: TTFT, E2EL, TPOT = (E2EL − TTFT)/(out − 1), ITL gaps", () => {
    expect(requestMetrics(A)).toEqual({ ttftMs: 100, e2elMs: 130, tpotMs: 10, itlMs: [10, 20], inputTokens: 10, outputTokens: 4 })
    expect(requestMetrics(C).tpotMs).toBeUndefined() // a 1-token output has no TPOT
  })

  it("counts, tokens, duration and throughputs (warm-ups excluded)", () => {
    expect(s.completed).toBe(3)
    expect(s.failed).toBe(1)
    expect(s.total_input_tokens).toBe(30)
    expect(s.total_output_tokens).toBe(7)
    expect(s.duration).toBeCloseTo(0.31, 12) // first send 1000 → last finish 1310 (C), ms
    expect(s.request_throughput).toBeCloseTo(3 / 0.31, 9)
    expect(s.output_throughput).toBeCloseTo(7 / 0.31, 9)
    expect(s.total_token_throughput).toBeCloseTo(37 / 0.31, 9)
    expect(s.max_concurrent_requests).toBe(3) // vllm bench: requests per one-second bucket (all in the first here)
    expect(s.max_output_tokens_per_s).toBe(6) // one per streamed chunk from the first token, as vllm counts ITL entries
    expect(s.errors_by_class.http_5xx).toBe(1)
    expect(s.failure_rate).toBe(0.25)
    expect(s.mean_tokens_per_chunk).toBeCloseTo(7 / 6, 12)
  })

  it("latency statistics by hand", () => {
    expect(s.mean_ttft_ms).toBeCloseTo(350 / 3, 9)
    expect(s.median_ttft_ms).toBe(100)
    expect(s.std_ttft_ms).toBeCloseTo(Math.sqrt(((50 - 350 / 3) ** 2 + (100 - 350 / 3) ** 2 + (200 - 350 / 3) ** 2) / 3), 9)
    expect(s.p90_ttft_ms).toBeCloseTo(180, 9)
    expect(s.p95_ttft_ms).toBeCloseTo(190, 9)
    expect(s.p99_ttft_ms).toBeCloseTo(198, 9)
    expect(s.mean_tpot_ms).toBe(20)
    expect(s.p90_tpot_ms).toBeCloseTo(28, 9)
    expect(s.mean_itl_ms).toBe(20)
    expect(s.p99_itl_ms).toBeCloseTo(29.8, 9)
    expect(s.mean_e2el_ms).toBeCloseTo(410 / 3, 9)
    expect(s.median_e2el_ms).toBe(130)
    expect(s.p90_e2el_ms).toBeCloseTo(186, 9)
  })

  it("error-adjusted percentiles count the failure as +infinity", () => {
    expect(s.error_adjusted.median_ttft_ms).toBe(150) // [50, 100, 200, inf]
    expect(s.error_adjusted.p90_ttft_ms).toBe("inf")
    expect(s.error_adjusted.median_tpot_ms).toBe(30) // [10, 30, inf]
    expect(s.error_adjusted.p90_tpot_ms).toBe("inf")
    expect(JSON.parse(JSON.stringify(s)).error_adjusted.p99_e2el_ms).toBe("inf")
  })

  it("no records: nulls, not zeros", () => {
    const e = summarizeRecords([])
    expect(e.completed).toBe(0)
    expect(e.mean_ttft_ms).toBeNull()
    expect(e.error_adjusted.p99_ttft_ms).toBeNull()
    expect(e.duration).toBe(0)
  })

  it("a resumed point's duration sums its sessions", () => {
    const s0 = rec({ index: 0, sentAt: 0, endMs: 100, firstTokenMs: 10, lastChunkMs: 100, chunks: [[10, 1]], usage: { prompt_tokens: 1, completion_tokens: 1 } })
    const s1 = rec({ index: 1, session: 1, sentAt: 1e6, endMs: 200, firstTokenMs: 10, lastChunkMs: 200, chunks: [[10, 1]], usage: { prompt_tokens: 1, completion_tokens: 1 } })
    expect(summarizeRecords([s0, s1]).duration).toBeCloseTo(0.3, 12)
  })
})
