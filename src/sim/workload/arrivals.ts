// Open-loop arrival processes. Plain JSON-able specs (scenario files embed them); times are seconds
// from the start of the run, non-decreasing, each tagged with its rate-stage index.
import { makeRng, STREAMS, type Rng } from "./random.ts"
import { isRecord } from "../../format/json.ts"

export interface RateStage {
  readonly rate: number // requests/s
  readonly duration: number // s
}

export type ArrivalSpec =
  /**
   * `vllm bench serve --request-rate R --burstiness B` (vllm/benchmarks/serve.py get_request): gaps are
   * Gamma(shape B, scale 1/(R·B)), so the mean gap is 1/R and CV² = 1/B (B = 1 is Poisson, "inf" gives
   * fixed 1/R gaps); R = "inf" sends everything at t = 0. The cumulative gaps are then rescaled so the
   * last request lands at N/R (vllm ≥ 0.10 "close the gap" normalisation; `normalize: false` keeps the
   * raw sums). The first request arrives after one gap, as in vllm.
   */
  | {
      readonly kind: "rate"
      readonly rate: number | "inf"
      readonly burstiness?: number | "inf"
      readonly normalize?: boolean
    }
  /** vllm bench's --ramp-up-strategy: request i's rate moves from startRps to endRps with i/(N-1). */
  | {
      readonly kind: "ramp"
      readonly strategy: "linear" | "exponential"
      readonly startRps: number
      readonly endRps: number
      readonly burstiness?: number | "inf"
    }
  /** Fixed gaps of 1/rate from t = 0. */
  | { readonly kind: "constant"; readonly rate: number }
  /**
   * Rate stages run back to back. timer "constant-load" (default) is inference-perf's ConstantLoadTimer
   * (inference_perf/loadgen/load_timer.py): exactly trunc(rate·duration) requests, exponential gaps
   * rescaled to sum to the duration, so the last one lands on the stage's end — a Poisson process
   * conditioned on its count. "poisson": unconditioned Poisson process cut at the stage's end. "fixed":
   * gaps of exactly 1/rate (older inference-perf constant timers), first one after one gap.
   */
  | {
      readonly kind: "stages"
      readonly stages: ReadonlyArray<RateStage>
      readonly timer?: "constant-load" | "poisson" | "fixed"
    }

export interface Arrival {
  readonly time: number
  readonly stage: number
}

export interface ArrivalStream {
  next(): Arrival | undefined
  /** How many arrivals the stream yields, when known in advance. */
  readonly count: number | undefined
}

/** Requests a stage sends under ConstantLoadTimer: Python's int(rate * duration). */
export const stageRequestCount = (s: RateStage): number => Math.trunc(s.rate * s.duration)

// Gamma(1, 1/rate) is the exponential: drawn directly (one uniform), as Poisson arrivals are the common case.
const gapSampler = (rng: Rng, burstiness: number | "inf"): ((rate: number) => number) =>
  burstiness === "inf"
    ? (rate) => 1 / rate
    : burstiness === 1
      ? (rate) => rng.exponential(1 / rate)
      : (rate) => rng.gamma(burstiness, 1 / (rate * burstiness))

// Streams are pull-based closures rather than generators: one call per request on the simulator's
// hottest path, with no iterator-result object and no generator frame to resume.

/** A stream of `n` arrivals whose i-th time is `time(i)`, at stage 0. */
const counted = (n: number, time: (i: number) => number): ArrivalStream => {
  let i = 0
  return {
    count: n,
    next: () => (i < n ? { time: time(i++), stage: 0 } : undefined),
  }
}

const rateArrivals = (seed: string | number, spec: Extract<ArrivalSpec, { kind: "rate" }>, n: number): ArrivalStream => {
  if (spec.rate === "inf") return counted(n, () => 0)
  const rate = spec.rate
  const burstiness = spec.burstiness ?? 1
  let gap: ((rate: number) => number) | undefined
  let factor = 1
  let cum = 0
  // Gaps of the first pass, replayed by the second (up to MAX_BUFFERED_GAPS of them).
  let buffered: Float64Array | undefined
  let i = 0
  return counted(n, () => {
    if (gap === undefined) {
      if (spec.normalize !== false) {
        // First pass sums the gaps. Up to a few million requests it keeps them (8 bytes each), since
        // drawing a gap costs a log and a PRNG step; longer runs redraw them from a fresh copy of the
        // same stream in the second pass, so memory stays O(1) in the request count.
        const sumGap = gapSampler(makeRng(seed, STREAMS.arrivals), burstiness)
        if (n <= MAX_BUFFERED_GAPS) buffered = new Float64Array(n)
        let total = 0
        for (let k = 0; k < n; k++) {
          const g = sumGap(rate)
          if (buffered !== undefined) buffered[k] = g
          total += g
        }
        if (total > 0) factor = n / rate / total
      }
      gap = gapSampler(makeRng(seed, STREAMS.arrivals), burstiness)
    }
    if (buffered !== undefined) {
      cum += buffered[i++]!
      if (i === n) buffered = undefined // the last one: let the buffer go
    } else cum += gap(rate)
    return cum * factor
  })
}

/** Most gaps rateArrivals keeps between its two passes (32 MiB). */
const MAX_BUFFERED_GAPS = 1 << 22

const rampArrivals = (seed: string | number, spec: Extract<ArrivalSpec, { kind: "ramp" }>, n: number): ArrivalStream => {
  const gap = gapSampler(makeRng(seed, STREAMS.arrivals), spec.burstiness ?? 1)
  let cum = 0
  return counted(n, (i) => {
    const progress = i / Math.max(n - 1, 1)
    const rate =
      spec.strategy === "linear"
        ? spec.startRps + (spec.endRps - spec.startRps) * progress
        : spec.startRps * Math.pow(spec.endRps / spec.startRps, progress)
    cum += gap(rate)
    return cum
  })
}

/** Times of one stage after `start`, or undefined when the stage is over. */
type StageTimes = () => number | undefined

const stageTimes = (seed: string | number, timer: "constant-load" | "poisson" | "fixed", stage: RateStage, s: number, start: number): StageTimes => {
  const end = start + stage.duration
  // One stream per stage: changing a later stage leaves earlier stages' arrivals unchanged.
  const stream = `${STREAMS.arrivals}/stage${s}`
  if (timer === "constant-load") {
    const n = stageRequestCount(stage)
    let total = 0
    const sumRng = makeRng(seed, stream)
    for (let i = 0; i < n; i++) total += sumRng.exponential(1 / stage.rate)
    const rng = makeRng(seed, stream)
    let cum = 0
    let i = 0
    return () => {
      if (i >= n) return undefined
      cum += rng.exponential(1 / stage.rate)
      // The last arrival is exactly the stage's end.
      return i++ === n - 1 ? end : start + stage.duration * (cum / total)
    }
  }
  if (timer === "fixed") {
    const n = stageRequestCount(stage)
    let i = 1
    return () => (i <= n ? start + i++ / stage.rate : undefined)
  }
  const rng = makeRng(seed, stream)
  let t = start + rng.exponential(1 / stage.rate)
  return () => {
    if (t > end) return undefined
    const now = t
    t += rng.exponential(1 / stage.rate)
    return now
  }
}

/** The stages back to back, at most `limit` arrivals in all. */
const stageArrivals = (seed: string | number, spec: Extract<ArrivalSpec, { kind: "stages" }>, limit: number | undefined, count: number | undefined): ArrivalStream => {
  const timer = spec.timer ?? "constant-load"
  let s = 0
  let start = 0
  let times: StageTimes | undefined
  let sent = 0
  return {
    count,
    next: () => {
      if (limit !== undefined && sent >= limit) return undefined
      while (s < spec.stages.length) {
        const stage = spec.stages[s] as RateStage
        times ??= stageTimes(seed, timer, stage, s, start)
        const t = times()
        if (t !== undefined) {
          sent++
          return { time: t, stage: s }
        }
        start += stage.duration
        s++
        times = undefined
      }
      return undefined
    },
  }
}

/**
 * The arrival times of `spec`. `numRequests` is required for rate, ramp and constant; for stages it
 * caps the count (the stages alone decide it otherwise).
 */
export const arrivalStream = (spec: ArrivalSpec, opts: { seed: string | number; numRequests?: number }): ArrivalStream => {
  const n = opts.numRequests
  if (spec.kind === "stages") {
    const timer = spec.timer ?? "constant-load"
    const known = timer === "poisson" ? undefined : spec.stages.reduce((a, s) => a + stageRequestCount(s), 0)
    const count = known === undefined ? undefined : n === undefined ? known : Math.min(n, known)
    return stageArrivals(opts.seed, spec, n, count)
  }
  if (n === undefined) throw new RangeError(`arrival kind "${spec.kind}" needs numRequests`)
  switch (spec.kind) {
    case "rate":
      return rateArrivals(opts.seed, spec, n)
    case "ramp":
      return rampArrivals(opts.seed, spec, n)
    case "constant":
      return counted(n, (i) => i / spec.rate)
  }
}

/** Number of rate stages the spec defines (1 for single-rate processes). */
export const arrivalStageCount = (spec: ArrivalSpec): number => (spec.kind === "stages" ? spec.stages.length : 1)

// ---- validation of untrusted (scenario file) input ----

const isPos = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x > 0

const parseBurstiness = (raw: Record<string, unknown>, path: string): number | "inf" | undefined | { error: string } => {
  const b = raw["burstiness"]
  if (b === undefined || b === "inf" || isPos(b)) return b
  return { error: `${path}.burstiness: expected a positive number or "inf"` }
}

/** Validates a JSON value as an ArrivalSpec; returns a one-line error naming the field path on failure. */
export const parseArrivalSpec = (raw: unknown, path = "arrival"): ArrivalSpec | string => {
  if (!isRecord(raw)) return `${path}: expected an object with a "kind"`
  switch (raw["kind"]) {
    case "rate": {
      const rate = raw["rate"]
      if (rate !== "inf" && !isPos(rate)) return `${path}.rate: expected a positive number or "inf"`
      const burstiness = parseBurstiness(raw, path)
      if (typeof burstiness === "object") return burstiness.error
      const normalize = raw["normalize"]
      if (normalize !== undefined && typeof normalize !== "boolean") return `${path}.normalize: expected a boolean`
      return {
        kind: "rate",
        rate,
        ...(burstiness !== undefined ? { burstiness } : {}),
        ...(normalize !== undefined ? { normalize } : {}),
      }
    }
    case "ramp": {
      const strategy = raw["strategy"]
      if (strategy !== "linear" && strategy !== "exponential") return `${path}.strategy: expected "linear" or "exponential"`
      const startRps = raw["startRps"]
      if (!isPos(startRps)) return `${path}.startRps: expected a positive number`
      const endRps = raw["endRps"]
      if (!isPos(endRps)) return `${path}.endRps: expected a positive number`
      const burstiness = parseBurstiness(raw, path)
      if (typeof burstiness === "object") return burstiness.error
      return { kind: "ramp", strategy, startRps, endRps, ...(burstiness !== undefined ? { burstiness } : {}) }
    }
    case "constant": {
      const rate = raw["rate"]
      if (!isPos(rate)) return `${path}.rate: expected a positive number`
      return { kind: "constant", rate }
    }
    case "stages": {
      const stages = parseStages(raw["stages"], `${path}.stages`)
      if (typeof stages === "string") return stages
      const timer = raw["timer"]
      if (timer !== undefined && timer !== "constant-load" && timer !== "poisson" && timer !== "fixed")
        return `${path}.timer: expected "constant-load", "poisson" or "fixed"`
      return { kind: "stages", stages, ...(timer !== undefined ? { timer } : {}) }
    }
    default:
      return `${path}.kind: expected one of rate, ramp, constant, stages`
  }
}

/** Validates a list of {rate, duration} stages. */
export const parseStages = (raw: unknown, path: string): RateStage[] | string => {
  if (!Array.isArray(raw) || raw.length === 0) return `${path}: expected a non-empty array of {rate, duration}`
  const out: RateStage[] = []
  for (let i = 0; i < raw.length; i++) {
    const s: unknown = raw[i]
    if (!isRecord(s)) return `${path}[${i}]: expected an object {rate, duration}`
    if (!isPos(s["rate"])) return `${path}[${i}].rate: expected a positive number`
    if (!isPos(s["duration"])) return `${path}[${i}].duration: expected a positive number`
    out.push({ rate: s["rate"], duration: s["duration"] })
  }
  return out
}
