// A probe point as a vllm bench result: the goodput, per-second peaks and client queueing vllm bench
// computes (vllm/benchmarks/serve.py calculate_metrics), on hand-made records with known answers, and
// the result file names.
import { describe, expect, it } from "vitest"
import { detailedArrays, probeBenchResult, requestGoodput, resultFilenames } from "../../src/probe/bench-file.ts"
import { peakPerSecond } from "../../src/probe/summary.ts"
import type { RequestRecord } from "../../src/probe/types.ts"

/** A request sent at `sentAt` (ms) whose tokens arrive at `tokens` (ms after the send), one per chunk. */
const rec = (index: number, sentAt: number, tokens: number[], over: Partial<RequestRecord> = {}): RequestRecord => ({
  point: "rate-2",
  index,
  warmup: false,
  session: 0,
  intendedAt: sentAt,
  sentAt,
  firstTokenMs: tokens[0]!,
  lastChunkMs: tokens[tokens.length - 1]!,
  endMs: tokens[tokens.length - 1]! + 1,
  chunks: tokens.map((t) => [t, 1] as const),
  ok: true,
  continuousUsage: true,
  done: true,
  usage: { prompt_tokens: 100, completion_tokens: tokens.length, total_tokens: 100 + tokens.length },
  promptTokensRequested: 100,
  promptWords: 100,
  maxTokens: tokens.length,
  ...over
})

const head = { backend: "servesim-probe", endpoint_type: "openai", model_id: "org/M-8B", tokenizer_id: null, num_prompts: 3, request_rate: 2, burstiness: 1, max_concurrency: 2, duration: 2 }

describe("probe bench result", () => {
  it("goodput counts completed requests meeting every SLO, per second (TPOT 0 for one token)", () => {
    // TTFT 100/300/50 ms; TPOT (E2EL − TTFT)/(n − 1) = 50, 100, and 0 for the one-token request.
    const records = [rec(0, 0, [100, 150, 200]), rec(1, 500, [300, 400, 500]), rec(2, 900, [50])]
    expect(requestGoodput(records, { ttftMs: 200 }, 2)).toBe(1) // 2 good / 2 s
    expect(requestGoodput(records, { ttftMs: 400, tpotMs: 60 }, 2)).toBe(1)
    expect(requestGoodput(records, { e2elMs: 200 }, 4)).toBe(0.5)
  })

  it("per-second peaks: tokens by arrival second, a request in every second it spans", () => {
    // Request 0: tokens at 0.1, 0.2, 1.1 s; request 1 sent at 0.9 s: tokens at 1.0, 1.2, 2.5 s.
    const records = [rec(0, 0, [100, 200, 1100]), rec(1, 900, [100, 300, 1600])]
    // Second 0: 2 tokens; second 1: 1 + 2 = 3; second 2: 1. Both requests are live in seconds 0 and 1.
    expect(peakPerSecond(records)).toEqual({ max_output_tokens_per_s: 3, max_concurrent_requests: 2 })
    expect(peakPerSecond([])).toEqual({ max_output_tokens_per_s: 0, max_concurrent_requests: 0 })
  })

  it("selected percentiles, client queueing of a capped open loop, and vllm's per-request arrays", () => {
    const failed = rec(2, 1000, [10], { ok: false, errorClass: "http_5xx", error: "boom", firstTokenMs: undefined, lastChunkMs: undefined, chunks: [], usage: undefined })
    // Request 1 was due at 400 ms and sent at 500 ms: 100 ms in the client's queue.
    const records = [rec(0, 0, [100, 150, 200]), rec(1, 500, [300, 400, 500], { intendedAt: 400 }), failed]
    const b = probeBenchResult({ ...head, mean_ttft_ms: -1 }, records, {
      date: "20260101-000000",
      percentileMetrics: ["ttft", "client_queue_time", "e2el_including_client_queue"],
      metricPercentiles: [50, 75],
      detailed: true,
    })
    expect(b.mean_ttft_ms).toBe(200)
    expect(b.p75_ttft_ms).toBe(250)
    expect(b.mean_client_queue_time_ms).toBe(50)
    expect(b.p50_e2el_including_client_queue_ms).toBe(400) // (200 + 600) / 2
    expect(b).not.toHaveProperty("p75_tpot_ms")
    expect(b.ttfts).toEqual([0.1, 0.3, 0])
    expect(b.itls).toEqual([[0.05, 0.05], [0.1, 0.1], []])
    expect(b.output_lens).toEqual([3, 3, 0])
    expect(b.start_times).toEqual([0, 0.5, 1])
    expect(b.errors).toEqual(["", "", "http_5xx: boom"])
    expect(Object.keys(b).slice(0, 3)).toEqual(["date", "endpoint_type", "backend"])
    // Without a cap, vllm writes no client queueing.
    const open = probeBenchResult({ ...head, max_concurrency: null }, records, { date: "d", percentileMetrics: ["client_queue_time"] })
    expect(open).not.toHaveProperty("mean_client_queue_time_ms")
    expect(detailedArrays([]).ttfts).toEqual([])
  })

  it("file names: vllm's per point, the point id where names would clash", () => {
    const bench = (rate: number | "inf", conc: number | null) => ({ backend: "servesim-probe", request_rate: rate, max_concurrency: conc, model_id: "org/M-8B" })
    const results = [{ id: "concurrency-2", bench: bench("inf", 2) }, { id: "rate-0.5", bench: bench(0.5, null) }, { id: "rate-4", bench: bench(4, null) }]
    expect(resultFilenames(results, "20260101-000000")).toEqual([
      "servesim-probe-infqps-concurrency2-M-8B-20260101-000000.json",
      "servesim-probe-0.5qps-M-8B-20260101-000000.json",
      "servesim-probe-4.0qps-M-8B-20260101-000000.json",
    ])
    expect(resultFilenames(results.slice(1), "d", "res.json")).toEqual(["res-rate-0.5.json", "res-rate-4.json"])
    expect(resultFilenames(results.slice(0, 1), "d", "res.json")).toEqual(["res.json"])
    // --label names the file in the backend's place, as vllm's compute_result_filename does.
    expect(resultFilenames([{ id: "rate-4", bench: { ...bench(4, null), label: "nightly" } }], "d")).toEqual(["nightly-4.0qps-M-8B-d.json"])
    // Two workload stages at one rate would share vllm's name.
    expect(resultFilenames([{ id: "stage-0", bench: bench(2, null) }, { id: "stage-1", bench: bench(2, null) }], "d")).toEqual([
      "servesim-probe-2.0qps-M-8B-d-stage-0.json",
      "servesim-probe-2.0qps-M-8B-d-stage-1.json",
    ])
  })
})
