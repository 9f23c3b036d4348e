// Running requests in steady decode, advanced implicitly. Every step of a vLLM engine gives each
// decoding request one token, so instead of touching each request per step the engine keeps a step
// counter and per-request offsets; per-step work is O(1) and a request is touched only when it joins,
// finishes, or the group is dissolved for an exact scheduling pass (budget or KV pressure).
//
// For a member synced at step `syncStep` with `c` computed tokens, after step G it has
// c + (G − syncStep) computed tokens. The step after G computes token position c(G), which needs a new
// KV block iff c(G) ≡ 0 (mod blockSize), i.e. iff G ≡ syncStep − c (mod blockSize): members are
// counted by that residue, so the blocks the next step needs are one array read.
//
// Members wait for their last token in a ring of buckets by finishing step (mod FINISH_RING): the group
// steps one step at a time while it has members, so the step's bucket holds every member finishing now
// (and, rarely, one finishing whole laps later, which stays). Joining and finishing are O(1), where a
// heap cost O(log batch) sifts of three arrays per request. The order in which a step's finishers come
// out does not matter: the engine sorts them by admission before acting on them.
import type { RequestState } from "./request-state.ts"

/** Buckets in the ring (a power of two); ShareGPT-like outputs finish within one lap. */
const FINISH_RING = 4096

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
  /**
   * Members by finishing step mod FINISH_RING: each bucket a list linked through groupNext (arrays
   * that fill and empty every few steps cost an allocation each time V8 trims and regrows them).
   */
  private readonly finishing: Array<RequestState | undefined> = new Array<RequestState | undefined>(FINISH_RING).fill(undefined)
  /** Every member, for dissolving the group; a member's index is its groupSlot. */
  private readonly members: RequestState[] = []

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
    const finish = g + (req.outputTokens - req.numOutputTokensDone)
    req.groupFinishStep = finish
    req.groupSlot = this.members.length
    this.members.push(req)
    const k = finish & (FINISH_RING - 1)
    req.groupNext = this.finishing[k]
    this.finishing[k] = req
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
    const last = this.members.pop()!
    if (last !== req) {
      this.members[req.groupSlot] = last
      last.groupSlot = req.groupSlot
    }
  }

  /** Removes and returns a member finishing at step `g`, synced, or undefined when none is left. */
  popFinished(g: number, lastStepEnd: number): RequestState | undefined {
    const k = g & (FINISH_RING - 1)
    let prev: RequestState | undefined
    for (let req = this.finishing[k]; req !== undefined; prev = req, req = req.groupNext) {
      if (req.groupFinishStep !== g) continue // a lap or more ahead
      if (prev === undefined) this.finishing[k] = req.groupNext
      else prev.groupNext = req.groupNext
      req.groupNext = undefined
      DecodeGroup.sync(req, g, lastStepEnd, this.blockSize)
      this.leave(req)
      if (this.size === 0) this.maxAdmittedSeq = -1
      return req
    }
    return undefined
  }

  /** Syncs every member to step `g` and empties the group; returns the members. */
  dissolve(g: number, lastStepEnd: number): void {
    const members = this.members
    for (const req of members) {
      DecodeGroup.sync(req, g, lastStepEnd, this.blockSize)
      req.inDecodeGroup = false
      req.groupNext = undefined
      this.finishing[req.groupFinishStep & (FINISH_RING - 1)] = undefined
    }
    while (members.length > 0) members.pop()
    this.byResidue.fill(0)
    this.contextBase = 0
    this.size = 0
    this.measuredByStage.length = 0
    this.maxAdmittedSeq = -1
  }

  /** Syncs members' fields without leaving the group (for inspection). */
  syncAll(g: number, lastStepEnd: number): void {
    for (const req of this.members) DecodeGroup.sync(req, g, lastStepEnd, this.blockSize)
  }
}
