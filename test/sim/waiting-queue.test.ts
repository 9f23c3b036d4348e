// The waiting queue (src/sim/waiting-queue.ts): a min-heap on (policy key, arrival, id), so every policy
// pops in a total, reproducible order (vLLM's FCFS deque and priority heap, vllm/v1/core/sched/request_queue.py).
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { RequestState } from "../../src/sim/request-state.ts"
import { fcfs, priority, shortestPromptFirst } from "../../src/sim/scheduling-policy.ts"
import type { SchedulingPolicy } from "../../src/sim/spec.ts"
import { WaitingQueue } from "../../src/sim/waiting-queue.ts"
import { request } from "./helpers.ts"

const drain = (q: WaitingQueue): number[] => {
  const ids: number[] = []
  for (let r = q.pop(); r !== undefined; r = q.pop()) ids.push(r.id)
  return ids
}

describe("WaitingQueue", () => {
  it("FCFS pops by arrival, then by id for equal arrivals", () => {
    const q = new WaitingQueue(fcfs)
    const arrivals = [3, 1, 2, 1, 0]
    arrivals.forEach((a, id) => q.push(new RequestState(id, request(a, 10, 1))))
    expect(q.size).toBe(5)
    expect(q.peek()?.id).toBe(4)
    expect(drain(q)).toEqual([4, 1, 3, 2, 0])
    expect(q.size).toBe(0)
    expect(q.peek()).toBeUndefined()
    expect(q.pop()).toBeUndefined()
  })

  it("priority pops the lowest priority value first (vLLM's convention), then by arrival", () => {
    const q = new WaitingQueue(priority)
    const reqs: Array<[number, number]> = [
      [0, 2],
      [1, 0],
      [2, 1],
      [3, 0],
    ]
    for (const [a, p] of reqs) q.push(new RequestState(a, request(a, 10, 1, { priority: p })))
    expect(drain(q)).toEqual([1, 3, 2, 0])
  })

  it("shortest-prompt-first pops by tokens left to prefill", () => {
    const q = new WaitingQueue(shortestPromptFirst)
    ;[500, 20, 300].forEach((n, id) => q.push(new RequestState(id, request(0, n, 1))))
    expect(drain(q)).toEqual([1, 2, 0])
  })

  it("reads a request's key once, at insertion", () => {
    let calls = 0
    const counting: SchedulingPolicy = { ...fcfs, waitingKey: (r) => (calls++, r.arrival) }
    const q = new WaitingQueue(counting)
    for (let i = 0; i < 50; i++) q.push(new RequestState(i, request(50 - i, 1, 1)))
    drain(q)
    expect(calls).toBe(50)
  })

  it("removeIf drops exactly the matching requests and keeps the order of the rest", () => {
    const q = new WaitingQueue(fcfs)
    for (let i = 0; i < 20; i++) q.push(new RequestState(i, request((i * 7) % 20, 1, 1)))
    q.removeIf((r) => r.id % 3 === 0)
    const ids = drain(q)
    expect(ids.some((id) => id % 3 === 0)).toBe(false)
    expect(ids.length).toBe(13)
    const arrivals = ids.map((id) => (id * 7) % 20)
    expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b))
  })

  it("pops in the order of a stable sort on (key, arrival, id) for any pushes and pops interleaved", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.boolean()), { maxLength: 200 }), (ops) => {
        const q = new WaitingQueue(priority)
        const model: RequestState[] = []
        ops.forEach(([arrival, prio, pop], id) => {
          const r = new RequestState(id, request(arrival, 1, 1, { priority: prio }))
          q.push(r)
          model.push(r)
          if (pop) {
            model.sort((a, b) => a.priority - b.priority || a.arrival - b.arrival || a.id - b.id)
            expect(q.pop()).toBe(model.shift())
          }
        })
        model.sort((a, b) => a.priority - b.priority || a.arrival - b.arrival || a.id - b.id)
        expect(drain(q)).toEqual(model.map((r) => r.id))
      }),
      { numRuns: 100, seed: 12 },
    )
  })
})
