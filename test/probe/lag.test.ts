// The probe's lag arithmetic: converting a scaled twin's timings back, and the lagged verdict.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { judgeLag, recordsInSimulatedTime, serverLagBetween, twinLagCounters } from "../../src/probe/lag.ts"
import { summarizeRecords } from "../../src/probe/summary.ts"
import type { RequestRecord } from "../../src/probe/types.ts"

const record = (i: number, sentAt: number, ttft: number, gaps: ReadonlyArray<number>): RequestRecord => {
  let t = ttft
  const chunks: Array<readonly [number, number]> = [[ttft, 1]]
  for (const g of gaps) chunks.push([(t += g), 1])
  return {
    point: "concurrency-1", index: i, warmup: false, session: 0, intendedAt: sentAt, sentAt, headersMs: 1, firstChunkMs: ttft, firstTokenMs: ttft,
    lastChunkMs: t, endMs: t + 0.5, chunks, status: 200, ok: true, finishReason: "length",
    usage: { prompt_tokens: 10, completion_tokens: gaps.length + 1, total_tokens: 11 + gaps.length }, continuousUsage: true, done: true,
    promptTokensRequested: 10, promptWords: 9, maxTokens: gaps.length + 1,
  }
}

describe("recordsInSimulatedTime", () => {
  it("scales every latency and the throughput by the time scale", () => {
    fc.assert(
      fc.property(fc.double({ min: 1.5, max: 100, noNaN: true }), fc.array(fc.double({ min: 1, max: 50, noNaN: true }), { minLength: 2, maxLength: 6 }), (scale, ttfts) => {
        const recs = ttfts.map((t, i) => record(i, 1.7e12 + i * 37, t, [2, 3, 4]))
        const wall = summarizeRecords(recs)
        const sim = summarizeRecords(recordsInSimulatedTime(recs, scale))
        for (const k of ["mean_ttft_ms", "mean_tpot_ms", "mean_itl_ms", "mean_e2el_ms", "duration"] as const) {
          // Relative: epoch-ms inputs (~1.7e12) carry ~1e-4 ms of float resolution.
          expect(Math.abs(sim[k]! / (wall[k]! * scale) - 1)).toBeLessThan(1e-5)
        }
        expect(Math.abs(sim.output_throughput / (wall.output_throughput / scale) - 1)).toBeLessThan(1e-5)
      }),
      { numRuns: 50 },
    )
  })

  it("leaves a real server's records untouched", () => {
    const recs = [record(0, 1000, 5, [1])]
    expect(recordsInSimulatedTime(recs, 1)).toBe(recs)
  })
})

describe("judgeLag", () => {
  it("marks a point whose scaled lag is a large share of its TTFT or E2EL", () => {
    const base = { meanTtftMs: 50, meanE2elMs: 500, bound: 0.1 }
    // 0.5 ms of twin lag at scale 1: 1% of TTFT, fine.
    expect(judgeLag({ ...base, timeScale: 1, server: { meanMs: 0.5, maxMs: 2 }, client: { mean: 0, p99: 1 } }).lagged).toBe(false)
    // The same lag at time scale 20 is 10 simulated ms: 20% of TTFT.
    const scaled = judgeLag({ ...base, timeScale: 20, server: { meanMs: 0.5, maxMs: 2 }, client: { mean: 0, p99: 1 } })
    expect(scaled.lagged).toBe(true)
    expect(scaled.ttft_bias).toBeCloseTo(0.2, 9)
    expect(scaled.reason).toMatch(/× time scale 20\) is 20% of the mean TTFT/)
    // A busy client alone can lag a real server's measurement.
    expect(judgeLag({ ...base, timeScale: 1, server: null, client: { mean: 8, p99: 60 } }).lagged).toBe(true)
  })

  it("reads the twin's counters and their difference", () => {
    const page = (sum: number, n: number, max: number) =>
      `# TYPE servesim:time_scale gauge\nservesim:time_scale 10.0\nservesim:event_lag_max_seconds ${max}\nservesim:event_lag_seconds_total ${sum}\nservesim:events_total ${n}\n`
    const a = twinLagCounters(page(0.5, 1000, 0.01))
    const b = twinLagCounters(page(1.5, 1500, 0.04))
    expect(a?.timeScale).toBe(10)
    const d = serverLagBetween(a, b)!
    expect(d.meanMs).toBeCloseTo(2, 9)
    expect(d.maxMs).toBeCloseTo(40, 9)
    expect(twinLagCounters("vllm:num_requests_running 0.0\n")).toBeUndefined()
  })
})
