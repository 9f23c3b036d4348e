// Open loop with a concurrency cap (vllm bench --request-rate R --max-concurrency N): arrivals at the
// rate, at most N in flight, a request arriving at the cap waits for a slot and its latencies count
// from the send. Checked against the two limits with known answers and one hand-computed case.
import { describe, expect, it } from "vitest"
import { DONE } from "../../src/sim/metrics.ts"
import { simulate } from "../../src/sim/simulate.ts"
import type { OpenLoopWorkload } from "../../src/sim/spec.ts"
import { summarize } from "../../src/sim/summary.ts"
import { closedLoopWorkload, openLoopWorkload } from "../../src/sim/workload/synthetic.ts"
import { linearStepTime, request, spec } from "./helpers.ts"

const input = { kind: "uniform", min: 100, max: 900 } as const
const output = { kind: "uniform", min: 20, max: 200 } as const
const KEYS = ["completed", "duration", "mean_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "mean_itl_ms", "mean_e2el_ms", "output_throughput"] as const

const pick = (s: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(KEYS.map((k) => [k, s[k]]))

/** A fixed list of requests, sent at most `cap` at a time. */
const cappedList = (times: ReadonlyArray<number>, isl: number, osl: number, cap: number): OpenLoopWorkload => {
  let i = 0
  return { kind: "open", maxConcurrency: cap, next: () => (i < times.length ? request(times[i++]!, isl, osl) : undefined) }
}

describe("open loop with a concurrency cap", () => {
  it("rate inf with a cap of N is the closed loop at concurrency N, request for request", () => {
    const closed = summarize(simulate(spec({ workload: closedLoopWorkload({ seed: 3, concurrency: 8, numRequests: 300, input, output }) })))
    const capped = summarize(simulate(spec({ workload: openLoopWorkload({ seed: 3, numRequests: 300, arrival: { kind: "rate", rate: "inf" }, maxConcurrency: 8, input, output }) })))
    expect(pick(capped)).toEqual(pick(closed))
  })

  it("a cap of 1 with a rate far above the service rate degenerates to the closed loop of 1", () => {
    const closed = summarize(simulate(spec({ workload: closedLoopWorkload({ seed: 5, concurrency: 1, numRequests: 100, input, output }) })))
    const capped = summarize(simulate(spec({ workload: openLoopWorkload({ seed: 5, numRequests: 100, arrival: { kind: "rate", rate: 1e6 }, maxConcurrency: 1, input, output }) })))
    for (const k of KEYS) expect(capped[k] as number).toBeCloseTo(closed[k] as number, 6)
  })

  it("a cap above the load is the open loop, unchanged", () => {
    const open = (cap?: number) =>
      summarize(simulate(spec({ workload: openLoopWorkload({ seed: 9, numRequests: 400, arrival: { kind: "rate", rate: 20 }, ...(cap !== undefined ? { maxConcurrency: cap } : {}), input, output }) })))
    expect(pick(open(100_000))).toEqual(pick(open()))
  })

  it("a request arriving at the cap waits for a slot; TTFT and E2EL count from the send", () => {
    // Step time 10 ms flat; 1 prompt token, 5 output tokens: alone, a request takes 5 steps = 50 ms.
    const st = linearStepTime(0.01, 0)
    const times = [0, 0.001, 0.002, 0.003]
    const sim = simulate(spec({ stepTime: st, workload: cappedList(times, 1, 5, 1) }))
    const rec = sim.recorder
    for (let i = 0; i < times.length; i++) {
      expect(rec.status.get(i)).toBe(DONE)
      // Request i is sent when request i−1 finishes: at 50 ms × i, after waiting 50i − 1i ms.
      expect(rec.send.get(i)).toBeCloseTo(0.05 * i, 12)
      expect(rec.clientQueueTime.get(i)).toBeCloseTo(i === 0 ? 0 : 0.05 * i - times[i]!, 12)
      expect(rec.ttft.get(i)).toBeCloseTo(0.01, 12)
      expect(rec.e2el.get(i)).toBeCloseTo(0.05, 12)
    }
  })

  it("never has more than the cap in the engines", () => {
    let most = 0
    const workload = openLoopWorkload({ seed: 2, numRequests: 500, arrival: { kind: "rate", rate: 200, burstiness: 0.3 }, maxConcurrency: 6, input, output })
    simulate(spec({ workload }), {
      afterStep: (e) => {
        most = Math.max(most, e.numRunning + e.numWaiting)
      },
    })
    expect(most).toBeGreaterThan(1)
    expect(most).toBeLessThanOrEqual(6)
  })

  it("rejects a cap that is not a positive integer", () => {
    expect(() => openLoopWorkload({ seed: 0, numRequests: 1, arrival: { kind: "rate", rate: 1 }, maxConcurrency: 0, input, output })).toThrow(/maxConcurrency/)
  })
})
