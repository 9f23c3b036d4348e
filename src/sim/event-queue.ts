// A min-heap of (time, seq) events in struct-of-arrays form: no allocation per event, and ties in
// time are broken by insertion order, so runs are reproducible bit for bit.
export class EventQueue {
  private times = new Float64Array(64)
  private seqs = new Float64Array(64)
  private payloads = new Int32Array(64)
  private n = 0
  private nextSeq = 0

  get size(): number {
    return this.n
  }

  peekTime(): number {
    return this.n > 0 ? this.times[0]! : Number.POSITIVE_INFINITY
  }

  private less(i: number, j: number): boolean {
    const ti = this.times[i]!
    const tj = this.times[j]!
    return ti < tj || (ti === tj && this.seqs[i]! < this.seqs[j]!)
  }

  private swap(i: number, j: number): void {
    const t = this.times[i]!
    this.times[i] = this.times[j]!
    this.times[j] = t
    const s = this.seqs[i]!
    this.seqs[i] = this.seqs[j]!
    this.seqs[j] = s
    const p = this.payloads[i]!
    this.payloads[i] = this.payloads[j]!
    this.payloads[j] = p
  }

  push(time: number, payload: number): void {
    if (this.n === this.times.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2)
        b.set(a)
        return b
      }
      this.times = grow(this.times, (k) => new Float64Array(k))
      this.seqs = grow(this.seqs, (k) => new Float64Array(k))
      this.payloads = grow(this.payloads, (k) => new Int32Array(k))
    }
    let i = this.n++
    this.times[i] = time
    this.seqs[i] = this.nextSeq++
    this.payloads[i] = payload
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  /** Removes the earliest event and returns its payload (time via peekTime before the call). */
  pop(): number {
    const top = this.payloads[0]!
    const last = --this.n
    if (last > 0) {
      this.times[0] = this.times[last]!
      this.seqs[0] = this.seqs[last]!
      this.payloads[0] = this.payloads[last]!
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < last && this.less(l, m)) m = l
        if (r < last && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }
}
