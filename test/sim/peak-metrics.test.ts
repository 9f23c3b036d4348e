// vllm bench's max_output_tokens_per_s and max_concurrent_requests, on runs whose token times are
// known exactly (a flat 1/8 s step: binary-exact times).
import { describe, expect, it } from "vitest"
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
})
