// Running requests in steady decode, advanced implicitly. Every step of a vLLM engine gives each
// decoding request one token, so instead of touching each request per step the engine keeps a step
// counter and per-request offsets; per-step work is O(1) and a request is touched only when it joins,
// finishes, or the group is dissolved for an exact scheduling pass (budget or KV pressure).
//
// For a member synced at step `syncStep` with `c` computed tokens, after step G it has
// c + (G − syncStep) computed tokens. The step after G computes token position c(G), which needs a new
// KV block iff c(G) ≡ 0 (mod blockSize), i.e. iff G ≡ syncStep − c (mod blockSize): members are
// counted by that residue, so the blocks the next step needs are one array read.
import type { RequestState } from "./request-state.ts"

export class DecodeGroup {
  private readonly blockSize: number
  /** Members by residue (syncStep − computed) mod blockSize. */
  private readonly byResidue: Int32Array
  /** Σ over members of (computed − syncStep): context tokens at step G are this + size·(G + 1). */
  private contextBase = 0
  /** Members whose inter-token latencies count, by rate stage. */
  readonly measuredByStage: number[] = []
  size = 0
  /** Largest admission sequence number among members (monotone until cleared). */
  maxAdmittedSeq = -1
  // Min-heap of members by the step that samples their last token.
  private heapReq: RequestState[] = []
  private heapKey: number[] = []
  /** Admission order of each heap entry (the tie-break), kept beside the key to avoid object reads. */
  private heapSeq: number[] = []

  constructor(blockSize: number) {
    this.blockSize = blockSize
    this.byResidue = new Int32Array(blockSize)
  }

  private residue(req: RequestState): number {
    const r = (req.syncStep - req.numComputedTokens) % this.blockSize
    return r < 0 ? r + this.blockSize : r
  }

  /** KV blocks the members need for the step after step `g`. */
  blocksNeeded(g: number): number {
    return this.byResidue[g % this.blockSize]!
  }

  /** Σ context over members during the step after step `g` (each attends over computed + 1 tokens). */
  contextTokens(g: number): number {
    return this.contextBase + this.size * (g + 1)
  }

  /** Adds a decoding request whose fields are current as of step `g`. */
  join(req: RequestState, g: number, measured: boolean): void {
    req.syncStep = g
    req.inDecodeGroup = true
    this.byResidue[this.residue(req)]!++
    this.contextBase += req.numComputedTokens - g
    this.size++
    if (measured) this.measuredByStage[req.spec.stage] = (this.measuredByStage[req.spec.stage] ?? 0) + 1
    req.countsItl = measured
    if (req.admittedSeq > this.maxAdmittedSeq) this.maxAdmittedSeq = req.admittedSeq
    // The step that samples the last token.
    this.heapPush(req, g + (req.outputTokens - req.numOutputTokensDone))
  }

  /** Brings a member's fields up to step `g` (idempotent; leaves the aggregates unchanged). */
  static sync(req: RequestState, g: number, lastStepEnd: number, blockSize: number): void {
    const d = g - req.syncStep
    if (d === 0) return
    req.numComputedTokens += d
    req.numOutputTokensDone += d
    req.numBlocks = Math.ceil(req.numComputedTokens / blockSize)
    req.lastTokenStep = lastStepEnd
    req.syncStep = g
  }

  private leave(req: RequestState): void {
    this.byResidue[this.residue(req)]!--
    this.contextBase -= req.numComputedTokens - req.syncStep
    this.size--
    if (req.countsItl) this.measuredByStage[req.spec.stage]!--
    req.inDecodeGroup = false
  }

  /** Removes and returns the next member finishing at step `g`, synced, or undefined. */
  popFinished(g: number, lastStepEnd: number): RequestState | undefined {
    if (this.heapReq.length === 0 || this.heapKey[0]! > g) return undefined
    const req = this.heapPop()
    DecodeGroup.sync(req, g, lastStepEnd, this.blockSize)
    this.leave(req)
    if (this.size === 0) this.maxAdmittedSeq = -1
    return req
  }

  /** Syncs every member to step `g` and empties the group; returns the members. */
  dissolve(g: number, lastStepEnd: number): void {
    for (const req of this.heapReq) {
      DecodeGroup.sync(req, g, lastStepEnd, this.blockSize)
      req.inDecodeGroup = false
    }
    this.heapReq = []
    this.heapKey = []
    this.heapSeq = []
    this.byResidue.fill(0)
    this.contextBase = 0
    this.size = 0
    this.measuredByStage.length = 0
    this.maxAdmittedSeq = -1
  }

  /** Syncs members' fields without leaving the group (for inspection). */
  syncAll(g: number, lastStepEnd: number): void {
    for (const req of this.heapReq) DecodeGroup.sync(req, g, lastStepEnd, this.blockSize)
  }

  // Sift with a hole (one write per level instead of a three-array swap): a pop per finishing request.
  private heapPush(req: RequestState, key: number): void {
    const reqs = this.heapReq
    const keys = this.heapKey
    const seqs = this.heapSeq
    const seq = req.admittedSeq
    let i = reqs.length
    reqs.push(req)
    keys.push(key)
    seqs.push(seq)
    while (i > 0) {
      const p = (i - 1) >> 1
      const pk = keys[p]!
      if (!(key < pk || (key === pk && seq < seqs[p]!))) break
      reqs[i] = reqs[p]!
      keys[i] = pk
      seqs[i] = seqs[p]!
      i = p
    }
    reqs[i] = req
    keys[i] = key
    seqs[i] = seq
  }

  private heapPop(): RequestState {
    const reqs = this.heapReq
    const keys = this.heapKey
    const seqs = this.heapSeq
    const top = reqs[0]!
    const lastReq = reqs.pop()!
    const lastKey = keys.pop()!
    const lastSeq = seqs.pop()!
    const n = reqs.length
    if (n > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        let m = l
        if (r < n && (keys[r]! < keys[l]! || (keys[r] === keys[l] && seqs[r]! < seqs[l]!))) m = r
        const mk = keys[m]!
        if (!(mk < lastKey || (mk === lastKey && seqs[m]! < lastSeq))) break
        reqs[i] = reqs[m]!
        keys[i] = mk
        seqs[i] = seqs[m]!
        i = m
      }
      reqs[i] = lastReq
      keys[i] = lastKey
      seqs[i] = lastSeq
    }
    return top
  }
}
