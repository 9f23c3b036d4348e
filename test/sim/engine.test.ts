import { describe, expect, it } from "vitest"
import { simulate } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"
import { engineConfig, fixedClosedLoop, linearStepTime, listWorkload, request, spec } from "./helpers.ts"

const num = (s: Record<string, unknown>, k: string): number => {
  const v = s[k]
  if (typeof v !== "number") throw new Error(`${k} is not a number`)
  return v
}

describe("one request on an idle engine", () => {
  it("TTFT is its prefill step plus overheads; E2E adds one decode step per further token", () => {
    const overheads = { ingressBase: 0.002, ingressPerInputToken: 1e-6, perOutputToken: 0.0005, completion: 0.001 }
    const model = linearStepTime(0.004, 0.0001, 1e-7, overheads)
    const isl = 1000
    const osl = 10
    const s = summarize(simulate(spec({ workload: listWorkload([request(1, isl, osl)]), stepTime: model })))
    const prefill = 0.004 + 0.0001 * isl
    const ingress = 0.002 + 1e-6 * isl
    const expectedTtft = ingress + prefill + 0.0005
    expect(num(s, "mean_ttft_ms")).toBeCloseTo(expectedTtft * 1000, 9)
    // Decode step k (k = 1..osl−1) computes 1 token with context isl + k.
    let decode = 0
    for (let k = 1; k < osl; k++) decode += 0.004 + 0.0001 + 1e-7 * (isl + k)
    expect(num(s, "mean_e2el_ms")).toBeCloseTo((expectedTtft + decode + 0.001) * 1000, 9)
    // vllm bench: TPOT = (latency − ttft) / (output − 1), so the completion overhead is inside it.
    expect(num(s, "mean_tpot_ms")).toBeCloseTo(((decode + 0.001) / (osl - 1)) * 1000, 9)
    expect(num(s, "completed")).toBe(1)
    expect(num(s, "total_output_tokens")).toBe(osl)
  })

  it("a prompt longer than the token budget is prefilled in chunks", () => {
    const s = summarize(simulate(spec({ workload: listWorkload([request(0, 5000, 2)]), stepTime: linearStepTime(0.01, 0.0001) })))
    // 2048 + 2048 + 904 tokens in three steps.
    expect(num(s, "mean_ttft_ms")).toBeCloseTo((3 * 0.01 + 0.0001 * 5000) * 1000, 9)
    expect(num(s, "num_steps")).toBe(4)
  })

  it("without chunked prefill a prompt longer than the budget waits for an empty budget but runs whole", () => {
    const cfg = engineConfig({ enableChunkedPrefill: false, maxNumBatchedTokens: 8192 })
    const s = summarize(simulate(spec({ engine: cfg, workload: listWorkload([request(0, 5000, 2)]), stepTime: linearStepTime(0.01, 0.0001) })))
    expect(num(s, "mean_ttft_ms")).toBeCloseTo((0.01 + 0.0001 * 5000) * 1000, 9)
  })

  it("rejects a request longer than max_model_len with a reason", () => {
    const cfg = engineConfig({ maxModelLen: 1024 })
    const s = summarize(simulate(spec({ engine: cfg, workload: listWorkload([request(0, 1000, 100), request(0, 100, 10)]) })))
    expect(num(s, "completed")).toBe(1)
    expect(num(s, "failed")).toBe(1)
    expect(s.rejected).toEqual({ "prompt + max_tokens exceeds max_model_len": 1 })
  })
})

describe("async scheduling", () => {
  // Request A (prompt 100) reaches an idle engine at t = 0; B (prompt 100) arrives during A's first
  // decode step. Steps: base 10 ms + 0.1 ms per token, so A's prefill is 20 ms, a lone decode 10.1 ms.
  const model = linearStepTime(0.01, 0.0001)
  const run = (asyncScheduling: boolean) =>
    simulate(spec({ engine: engineConfig({ asyncScheduling }), workload: listWorkload([request(0, 100, 50), request(0.025, 100, 50)]), stepTime: model }))
  const ttftOf = (asyncScheduling: boolean, id: number): number => run(asyncScheduling).recorder.ttft.get(id)

  it("an arrival at an idle engine is scheduled at once", () => {
    expect(ttftOf(true, 0)).toBeCloseTo(0.02, 12)
    expect(ttftOf(false, 0)).toBeCloseTo(0.02, 12)
  })

  it("an arrival during step N runs in step N + 2, not N + 1 (the schedule of N + 1 was formed when N began)", () => {
    const prefill = 0.02
    const decode = 0.0101 // A alone
    const mixed = 0.01 + 0.0001 * 101 // A's decode + B's prefill
    // B arrives at 25 ms, during A's first decode step [20, 30.1] ms.
    expect(ttftOf(false, 1)).toBeCloseTo(prefill + decode + mixed - 0.025, 12)
    // Async: step [30.1, 40.2] was scheduled at 20 ms without B; B prefills in the step after it.
    expect(ttftOf(true, 1)).toBeCloseTo(prefill + 2 * decode + mixed - 0.025, 12)
  })

  it("a flood of arrivals that never lets the buffer empty still reaches the scheduler in order, every request completing", () => {
    // 20,000 requests over 0.1 s: thousands arrive during every step, so the buffer of not-yet-scheduled
    // arrivals is released a prefix at a time (and compacted) rather than emptied.
    const reqs = Array.from({ length: 20_000 }, (_, i) => request(i * 5e-6, 32, 4))
    const run = (asyncScheduling: boolean) =>
      summarize(simulate(spec({ engine: engineConfig({ asyncScheduling, maxNumSeqs: 512, maxNumBatchedTokens: 16384 }), workload: listWorkload(reqs), stepTime: model })))
    const a = run(true)
    const s = run(false)
    expect(num(a, "completed")).toBe(20_000)
    expect(num(a, "total_output_tokens")).toBe(80_000)
    expect(num(a, "mean_ttft_ms")).toBeGreaterThan(num(s, "mean_ttft_ms"))
  })

  it("changes when requests start, not what they cost: every request completes with the same tokens", () => {
    const s = summarize(run(true))
    expect(num(s, "completed")).toBe(2)
    expect(num(s, "total_output_tokens")).toBe(100)
    expect(s.config).toMatchObject({ async_scheduling: true })
  })
})

describe("queueing", () => {
  it("a closed loop obeys Little's law: concurrency = throughput × mean E2E", () => {
    const s = summarize(simulate(spec({ workload: fixedClosedLoop(16, 2000, 300, 100), stepTime: linearStepTime(0.006, 0.00005, 1e-8) })))
    const little = num(s, "request_throughput") * (num(s, "mean_e2el_ms") / 1000)
    expect(Math.abs(little - 16) / 16).toBeLessThan(0.01)
  })

  it("very low Poisson-like load: TTFT ≈ prefill time", () => {
    const reqs = Array.from({ length: 50 }, (_, i) => request(i * 10, 500, 20))
    const s = summarize(simulate(spec({ workload: listWorkload(reqs), stepTime: linearStepTime(0.005, 0.0001) })))
    expect(num(s, "mean_ttft_ms")).toBeCloseTo((0.005 + 0.05) * 1000, 6)
    expect(num(s, "p99_ttft_ms")).toBeCloseTo((0.005 + 0.05) * 1000, 6)
  })

  it("a tiny KV cache forces preemptions and every request still finishes", () => {
    const cfg = engineConfig({ numGpuBlocks: 200, enablePrefixCaching: false })
    const s = summarize(simulate(spec({ engine: cfg, workload: fixedClosedLoop(32, 300, 400, 300) })))
    expect(num(s, "num_preemptions")).toBeGreaterThan(0)
    expect(num(s, "completed")).toBe(300)
    expect(num(s, "total_output_tokens")).toBe(300 * 300)
    expect(num(s, "max_kv_cache_usage")).toBeLessThanOrEqual(1)
  })

  it("a prompt that can never fit the KV cache is rejected, not left hanging", () => {
    const cfg = engineConfig({ numGpuBlocks: 10 })
    const s = summarize(simulate(spec({ engine: cfg, workload: listWorkload([request(0, 1000, 5), request(0, 50, 5)]) })))
    expect(num(s, "completed")).toBe(1)
    expect(num(s, "failed")).toBe(1)
  })

  it("max_num_seqs caps the batch", () => {
    const cfg = engineConfig({ maxNumSeqs: 4 })
    const s = summarize(simulate(spec({ engine: cfg, workload: fixedClosedLoop(16, 64, 50, 20) })))
    expect(num(s, "max_batch_size")).toBe(4)
    expect(num(s, "completed")).toBe(64)
  })
})

describe("prefix caching", () => {
  it("requests sharing a system prompt hit its cached blocks", () => {
    const shared = { prefixes: [{ id: 7, length: 1024 }] }
    const reqs = Array.from({ length: 10 }, (_, i) => request(i, 1100, 5, shared))
    const on = summarize(simulate(spec({ workload: listWorkload(reqs) })))
    const off = summarize(simulate(spec({ workload: listWorkload(reqs), engine: engineConfig({ enablePrefixCaching: false }) })))
    // 9 of 10 requests hit 1024 of 1100 tokens.
    expect(num(on, "prefix_cache_hit_rate")).toBeCloseTo((9 * 1024) / (10 * 1100), 9)
    expect(num(off, "prefix_cache_hit_rate")).toBe(0)
    expect(num(on, "mean_ttft_ms")).toBeLessThan(num(off, "mean_ttft_ms"))
  })
})

describe("abort", () => {
  it("an aborted request leaves the engine: its blocks are freed and the others run as if it never came", async () => {
    const { Engine } = await import("../../src/sim/engine.ts")
    const { RequestState } = await import("../../src/sim/request-state.ts")
    const { fcfs } = await import("../../src/sim/scheduling-policy.ts")
    const finished: number[] = []
    const listener = {
      onToken: () => {},
      onGroupTokens: () => {},
      isMeasured: () => true,
      onFinish: (r: { id: number }) => finished.push(r.id),
      onPreempt: () => {},
      onReject: () => {},
      onStep: () => {},
    }
    const e = new Engine(0, engineConfig(), fcfs, linearStepTime(0.01, 0.0001), listener)
    const a = new RequestState(0, request(0, 500, 50))
    const b = new RequestState(1, request(0, 500, 50))
    const c = new RequestState(2, request(0, 500, 50))
    e.enqueue(a, 0)
    e.enqueue(b, 0)
    let t = 0
    for (let i = 0; i < 5; i++) {
      t += e.beginStep(t)
      e.endStep(t)
    }
    e.enqueue(c, t)
    e.abort(b)
    e.abort(c)
    while (e.hasWork()) {
      const d = e.beginStep(t)
      if (d < 0) break
      t += d
      e.endStep(t)
    }
    expect(finished).toEqual([0])
    expect(e.kv.numUsed).toBe(0)
    expect(e.numRunning).toBe(0)
    expect(e.waiting.size).toBe(0)
  })
})
