// The waiting queue ordered by a policy key, then arrival, then id (a binary min-heap), so FCFS,
// priority and user policies share one structure. Keys are read once at insertion: a request's key
// must not change while it waits (true of all built-ins; preempted requests are re-inserted).
import type { RequestState } from "./request-state.ts"
import type { SchedulingPolicy } from "./spec.ts"

export class WaitingQueue {
  private readonly heap: RequestState[] = []
  private readonly keys: number[] = []
  private readonly policy: SchedulingPolicy

  constructor(policy: SchedulingPolicy) {
    this.policy = policy
  }

  get size(): number {
    return this.heap.length
  }

  peek(): RequestState | undefined {
    return this.heap[0]
  }

  private less(i: number, j: number): boolean {
    const ki = this.keys[i]!
    const kj = this.keys[j]!
    if (ki !== kj) return ki < kj
    const a = this.heap[i]!
    const b = this.heap[j]!
    if (a.arrival !== b.arrival) return a.arrival < b.arrival
    return a.id < b.id
  }

  private swap(i: number, j: number): void {
    const h = this.heap[i]!
    this.heap[i] = this.heap[j]!
    this.heap[j] = h
    const k = this.keys[i]!
    this.keys[i] = this.keys[j]!
    this.keys[j] = k
  }

  push(req: RequestState): void {
    this.heap.push(req)
    this.keys.push(this.policy.waitingKey(req))
    let i = this.heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  /** Removes every request matching `drop` (O(n): rebuilds the heap). */
  removeIf(drop: (req: RequestState) => boolean): void {
    const reqs = this.heap.splice(0)
    this.keys.length = 0
    for (const r of reqs) if (!drop(r)) this.push(r)
  }

  pop(): RequestState | undefined {
    const top = this.heap[0]
    if (top === undefined) return undefined
    const lastReq = this.heap.pop()!
    const lastKey = this.keys.pop()!
    if (this.heap.length > 0) {
      this.heap[0] = lastReq
      this.keys[0] = lastKey
      let i = 0
      const n = this.heap.length
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < n && this.less(l, m)) m = l
        if (r < n && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }
}
