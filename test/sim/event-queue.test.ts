// The event queue (src/sim/event-queue.ts): events pop by time, and events at the same time in the order
// they were pushed — the tie rule that makes runs reproducible bit for bit.
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { EventQueue } from "../../src/sim/event-queue.ts"

const drain = (q: EventQueue): Array<[number, number]> => {
  const out: Array<[number, number]> = []
  while (q.size > 0) {
    const t = q.peekTime()
    out.push([t, q.pop()])
  }
  return out
}

describe("EventQueue", () => {
  it("is empty with peekTime = Infinity", () => {
    const q = new EventQueue()
    expect(q.size).toBe(0)
    expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY)
  })

  it("pops the earliest time first", () => {
    const q = new EventQueue()
    q.push(3, 30)
    q.push(1, 10)
    q.push(2, 20)
    expect(drain(q)).toEqual([
      [1, 10],
      [2, 20],
      [3, 30],
    ])
  })

  it("pops events at the same time in insertion order, also after others were popped in between", () => {
    const q = new EventQueue()
    for (let p = 0; p < 10; p++) q.push(5, p)
    q.push(1, 100)
    expect(q.pop()).toBe(100)
    for (let p = 10; p < 20; p++) q.push(5, p)
    expect(drain(q).map(([, p]) => p)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  it("grows past its initial capacity without losing or reordering events", () => {
    const q = new EventQueue()
    const n = 1000
    for (let i = 0; i < n; i++) q.push((i * 37) % 101, i)
    const out = drain(q)
    expect(out.length).toBe(n)
    const expected = Array.from({ length: n }, (_, i) => [(i * 37) % 101, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1])
    expect(out).toEqual(expected)
  })

  it("equals a stable sort by time for any interleaving of pushes and pops", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.boolean()), { maxLength: 300 }), (ops) => {
        const q = new EventQueue()
        let model: Array<[number, number]> = []
        ops.forEach(([t, pop], payload) => {
          q.push(t, payload)
          model.push([t, payload])
          if (pop) {
            model = model.sort((a, b) => a[0] - b[0] || a[1] - b[1])
            const head = model.shift()!
            expect(q.peekTime()).toBe(head[0])
            expect(q.pop()).toBe(head[1])
          }
        })
        expect(drain(q)).toEqual(model.sort((a, b) => a[0] - b[0] || a[1] - b[1]))
      }),
      { numRuns: 100, seed: 3 },
    )
  })
})
