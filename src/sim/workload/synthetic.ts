// Synthetic workloads: lengths from distributions, arrivals from an arrival process (open loop) or from
// the engine's completions (closed loop, `vllm bench serve --max-concurrency`).
import type { ClosedLoopWorkload, OpenLoopWorkload } from "../spec.ts"
import type { RequestSpec, SharedPrefix } from "../types.ts"
import { arrivalStageCount, arrivalStream, type ArrivalSpec } from "./arrivals.ts"
import { lengthSampler, type LengthDist } from "./lengths.ts"
import { makeRng, STREAMS, type Rng } from "./random.ts"

/** An open-loop workload that also says how many requests and rate stages it has, where known. */
export interface CountedOpenLoopWorkload extends OpenLoopWorkload {
  readonly countRequests: number | undefined
  readonly stageCount: number
}

export interface CountedClosedLoopWorkload extends ClosedLoopWorkload {
  readonly countRequests: number
}

/** Discrete priority distribution (lower runs first under the priority policy); weights default equal. */
export interface PriorityDist {
  readonly values: ReadonlyArray<number>
  readonly weights?: ReadonlyArray<number>
}

export interface SyntheticOptions {
  readonly seed: string | number
  readonly input: LengthDist
  readonly output: LengthDist
  /** Scales output lengths (reasoning models think longer: --osl-multiplier). */
  readonly outputMultiplier?: number
  /**
   * Like vllm bench's --random-prefix-len: each prompt starts with one of `numGroups` shared prefixes
   * of `length` tokens (chosen uniformly), followed by the sampled input length.
   */
  readonly prefix?: { readonly numGroups: number; readonly length: number }
  readonly priority?: PriorityDist
  /**
   * Lengths read from a dataset file (ShareGPT, vllm's custom JSONL), already sampled in vllm's order:
   * request i gets input[i] and output[i] (before the prefix and multiplier); `input`/`output` are then
   * not drawn from.
   */
  readonly sampled?: { readonly input: ReadonlyArray<number>; readonly output: ReadonlyArray<number> }
}

export interface OpenLoopOptions extends SyntheticOptions {
  readonly arrival: ArrivalSpec
  /** Required unless the arrival spec is "stages" (where it caps the count). */
  readonly numRequests?: number
  /** At most this many requests in flight (vllm bench --max-concurrency with --request-rate). */
  readonly maxConcurrency?: number
}

export interface ClosedLoopOptions extends SyntheticOptions {
  readonly concurrency: number
  readonly numRequests: number
}

/** Makes request specs; each aspect draws from its own stream so they stay independent. */
const bodyMaker = (o: SyntheticOptions): ((arrival: number, stage: number) => RequestSpec) => {
  const rIn = makeRng(o.seed, STREAMS.input)
  const rOut = makeRng(o.seed, STREAMS.output)
  const rPrefix = makeRng(o.seed, STREAMS.prefix)
  const rPrio = makeRng(o.seed, STREAMS.priority)
  const sampleIn = lengthSampler(o.input)
  const sampleOut = lengthSampler(o.output)
  const mult = o.outputMultiplier ?? 1
  if (!(mult > 0)) throw new RangeError(`outputMultiplier must be > 0 (got ${mult})`)
  const prefix = o.prefix
  if (prefix !== undefined && !(Number.isInteger(prefix.numGroups) && prefix.numGroups >= 1 && Number.isInteger(prefix.length) && prefix.length >= 1))
    throw new RangeError("prefix: numGroups and length must be positive integers")
  const pickPriority = prioritySampler(o.priority)
  // One SharedPrefix object per group, shared by all its requests.
  const groups: SharedPrefix[] = prefix === undefined ? [] : Array.from({ length: prefix.numGroups }, (_, id) => ({ id, length: prefix.length }))
  const none: ReadonlyArray<SharedPrefix> = []
  const sampled = o.sampled
  if (sampled !== undefined && (sampled.input.length === 0 || sampled.input.length !== sampled.output.length))
    throw new RangeError("sampled: expected as many (≥ 1) output lengths as input lengths")
  let index = 0
  return (arrival, stage) => {
    const k = index++
    const input = sampled === undefined ? sampleIn(rIn) : sampled.input[k % sampled.input.length]!
    const output = Math.max(1, Math.round((sampled === undefined ? sampleOut(rOut) : sampled.output[k % sampled.output.length]!) * mult))
    let prefixes = none
    let prefixLen = 0
    if (prefix !== undefined) {
      prefixes = [groups[rPrefix.int(0, prefix.numGroups - 1)] as SharedPrefix]
      prefixLen = prefix.length
    }
    return { arrival, inputTokens: prefixLen + input, outputTokens: output, prefixes, contentId: -1, priority: pickPriority(rPrio), stage }
  }
}

const prioritySampler = (p: PriorityDist | undefined): ((rng: Rng) => number) => {
  if (p === undefined) return () => 0
  if (p.values.length === 0 || p.values.some((v) => !Number.isInteger(v))) throw new RangeError("priority.values: expected a non-empty list of integers")
  const w = p.weights ?? p.values.map(() => 1)
  if (w.length !== p.values.length || w.some((x) => !(x >= 0))) throw new RangeError("priority.weights: expected one weight >= 0 per value")
  const total = w.reduce((a, b) => a + b, 0)
  if (!(total > 0)) throw new RangeError("priority.weights: must not all be 0")
  if (p.values.length === 1) {
    const v = p.values[0] as number
    return () => v
  }
  return (rng) => {
    let u = rng.uniform() * total
    for (let i = 0; i < w.length; i++) {
      u -= w[i] as number
      if (u < 0) return p.values[i] as number
    }
    return p.values[p.values.length - 1] as number
  }
}

export const openLoopWorkload = (o: OpenLoopOptions): CountedOpenLoopWorkload => {
  const arrivals = arrivalStream(o.arrival, { seed: o.seed, ...(o.numRequests !== undefined ? { numRequests: o.numRequests } : {}) })
  const body = bodyMaker(o)
  const cap = o.maxConcurrency
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`maxConcurrency must be a positive integer (got ${cap})`)
  return {
    kind: "open",
    ...(cap !== undefined ? { maxConcurrency: cap } : {}),
    countRequests: arrivals.count,
    stageCount: arrivalStageCount(o.arrival),
    next: () => {
      const a = arrivals.next()
      if (a === undefined) return undefined
      return body(a.time, a.stage)
    },
  }
}

export const closedLoopWorkload = (o: ClosedLoopOptions): CountedClosedLoopWorkload => {
  if (!(Number.isInteger(o.concurrency) && o.concurrency >= 1)) throw new RangeError(`concurrency must be a positive integer (got ${o.concurrency})`)
  if (!(Number.isInteger(o.numRequests) && o.numRequests >= 0)) throw new RangeError(`numRequests must be an integer >= 0 (got ${o.numRequests})`)
  const body = bodyMaker(o)
  return {
    kind: "closed",
    concurrency: o.concurrency,
    numRequests: o.numRequests,
    countRequests: o.numRequests,
    next: (sendTime) => body(sendTime, 0),
  }
}
