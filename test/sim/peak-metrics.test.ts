// vllm bench's max_output_tokens_per_s and max_concurrent_requests, on runs whose token times are
// known exactly (a flat 1/8 s step: binary-exact times).
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DONE, peakFields } from "../../src/sim/metrics.ts"
import { simulate } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"
import { linearStepTime, listWorkload, request, spec } from "./helpers.ts"

const flat = linearStepTime(0.125, 0)

describe("peak metrics", () => {
  it("one request: tokens at k/8 s land 7, 8, 5 per one-second bucket; one request in flight", () => {
    const s = summarize(simulate(spec({ stepTime: flat, workload: listWorkload([request(0, 1, 20)]) })))
    expect(s.max_output_tokens_per_s).toBe(8)
    expect(s.max_concurrent_requests).toBe(1)
  })

  it("two requests side by side double the tokens per second and the concurrency", () => {
    const s = summarize(simulate(spec({ stepTime: flat, workload: listWorkload([request(0, 1, 20), request(0, 1, 20)]) })))
    expect(s.max_output_tokens_per_s).toBe(16)
    expect(s.max_concurrent_requests).toBe(2)
  })

  it("back-to-back requests share the bucket where one ends and the next starts (vllm counts both)", () => {
    // Request 1 arrives at 4 s, after request 0 (2.5 s long) is done: buckets 0–2 and 4–6, never together.
    const apart = summarize(simulate(spec({ stepTime: flat, workload: listWorkload([request(0, 1, 20), request(4, 1, 20)]) })))
    expect(apart.max_concurrent_requests).toBe(1)
    const touching = summarize(simulate(spec({ stepTime: flat, workload: listWorkload([request(0, 1, 20), request(2.75, 1, 20)]) })))
    expect(touching.max_concurrent_requests).toBe(2)
  })

  it("dense and sparse buckets give the same peaks (the sparse path serves runs spanning years)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 30, noNaN: true }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 12 }), (reqs) => {
        const result = simulate(spec({ stepTime: linearStepTime(0.05, 1e-4), workload: listWorkload(reqs.map(([t, osl]) => request(t, 16, osl))) }))
        const done = result.recorder.select(DONE)
        const offset = result.spec.stepTime.overheads.perOutputToken
        expect(peakFields(result.recorder, done, offset, 0)).toEqual(peakFields(result.recorder, done, offset))
      }),
      { seed: 11, numRuns: 60 },
    )
  })
})
