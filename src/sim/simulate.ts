// The discrete-event loop: requests reach the engines (after API ingress), engines step, tokens are
// sampled. One event per engine step, never per token. Deterministic: float time with (time, seq)
// ordering and all randomness inside the workload's seeded streams.
import { simulateDisaggregated, type DisaggregatedRun } from "./disaggregated.ts"
import { Engine } from "./engine.ts"
import { EventQueue } from "./event-queue.ts"
import { MetricsRecorder } from "./metrics.ts"
import { RequestState } from "./request-state.ts"
import type { SimSpec } from "./spec.ts"
import type { RequestSpec } from "./types.ts"

/** Samples of engine state over time (for KV-usage-over-time plots). */
export interface Timeline {
  time: number[]
  kvCacheUsage: number[] // mean over replicas, 0..1
  numRunning: number[]
  numWaiting: number[]
}

export interface SimResult {
  readonly spec: SimSpec
  readonly recorder: MetricsRecorder
  readonly engines: ReadonlyArray<Engine>
  readonly endTime: number
  readonly timeline: Timeline | undefined
  readonly numSent: number
  /** Pools, link and per-pool counters of a P/D-disaggregated run. */
  readonly disaggregated?: DisaggregatedRun
}

const MAX_TIMELINE_SAMPLES = 100_000
const KICK = 1 // payload bit: start a step on an idle engine after same-instant arrivals

export interface SimulateHooks {
  /** Called after every engine step is applied (tests check invariants here). */
  readonly afterStep?: (engine: Engine, time: number) => void
  /** Track every decoding request per step instead of implicitly (the reference path; default false). */
  readonly eagerDecode?: boolean
  /** Keep every request's token times (vllm bench --save-detailed); implies eagerDecode. */
  readonly detailed?: boolean
}

export const simulate = (spec: SimSpec, hooks: SimulateHooks = {}): SimResult => {
  if (spec.disaggregation !== undefined) return simulateDisaggregated(spec, spec.disaggregation, hooks)
  const afterStep = hooks.afterStep
  const overheads = spec.stepTime.overheads
  const workload = spec.workload
  const recorder = new MetricsRecorder(overheads, spec.warmupRequests, (workload.kind === "closed" ? workload.numRequests : workload.countRequests) ?? 0)
  if (hooks.detailed === true) recorder.tokenTimes = []
  const engines: Engine[] = []
  const engineOptions = { lazyDecode: hooks.eagerDecode !== true && hooks.detailed !== true }
  for (let r = 0; r < spec.replicas; r++) engines.push(new Engine(r, spec.engine, spec.policy, spec.stepTime, recorder, engineOptions))
  const queue = new EventQueue()
  // Sent, not yet at an engine, in send order: the API server hands requests over one at a time, so
  // their arrival events come in send order (non-decreasing times, ties in insertion order) — a FIFO.
  let inFlight: RequestState[] = []
  let inFlightHead = 0
  const kickPending = new Uint8Array(spec.replicas)
  let numSent = 0
  let now = 0
  let apiServerFreeAt = 0

  const send = (reqSpec: RequestSpec, clientQueueTime = 0): void => {
    const req = new RequestState(numSent++, reqSpec)
    recorder.onSend(req, clientQueueTime)
    if (req.inputTokens + req.outputTokens > spec.engine.maxModelLen) {
      // vLLM's OpenAI server answers 400 before the engine sees the request.
      recorder.onReject(req, req.arrival, "prompt + max_tokens exceeds max_model_len")
      return
    }
    inFlight.push(req)
    // vLLM's API server handles requests one at a time on its event loop (parse, tokenize, hand to
    // the engine core), so requests sent together reach the engine staggered, not in one lump.
    const start = Math.max(req.arrival, apiServerFreeAt)
    apiServerFreeAt = start + overheads.ingressBase + overheads.ingressPerInputToken * req.inputTokens
    queue.push(apiServerFreeAt, -(req.id + 1))
  }

  let nextOpen: RequestSpec | undefined
  // Closed loop: each finished (or refused) request frees a client slot at that time.
  const freedSlots: number[] = []
  // Open loop with a concurrency cap: a freed slot is an event (payload SLOT) at the client's time. The
  // requests waiting for a slot are exactly the arrivals not yet sent (FIFO, like asyncio.Semaphore), so
  // nothing is buffered: the next arrival is sent at max(its arrival, the time a slot frees).
  const cap = workload.kind === "open" ? workload.maxConcurrency : undefined
  const SLOT = spec.replicas * 2
  let outstanding = 0
  if (workload.kind === "open") {
    nextOpen = workload.next()
    if (cap !== undefined) {
      if (!(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`maxConcurrency must be a positive integer (got ${cap})`)
      recorder.onClientDone = (time) => {
        queue.push(time, SLOT)
      }
    }
  } else {
    recorder.onClientDone = (time) => {
      freedSlots.push(time)
    }
    for (let i = 0; i < workload.concurrency; i++) freedSlots.push(0)
  }
  const sendClosed = (): void => {
    if (workload.kind !== "closed") return
    // Slots free in time order; a refused request frees its slot at once, so keep draining.
    for (let k = 0; k < freedSlots.length; k++) {
      if (numSent >= workload.numRequests) break
      send(workload.next(freedSlots[k]!))
    }
    if (freedSlots.length > 0) freedSlots.length = 0
  }

  const interval = spec.timelineInterval ?? 0
  const timeline: Timeline | undefined = interval > 0 ? { time: [], kvCacheUsage: [], numRunning: [], numWaiting: [] } : undefined
  let nextSample = 0
  const sample = (t: number): void => {
    if (timeline === undefined || timeline.time.length >= MAX_TIMELINE_SAMPLES) return
    let kv = 0
    let running = 0
    let waiting = 0
    for (const e of engines) {
      kv += e.kv.usage
      running += e.numRunning
      waiting += e.numWaiting
    }
    timeline.time.push(t)
    timeline.kvCacheUsage.push(kv / engines.length)
    timeline.numRunning.push(running)
    timeline.numWaiting.push(waiting)
  }

  const startStep = (e: Engine, t: number): void => {
    const d = e.beginStep(t)
    if (d >= 0) queue.push(t + d, e.index * 2)
  }

  const closed = workload.kind === "closed"
  for (;;) {
    if (closed) sendClosed()
    // Send every open-loop request due before the next event (ingress only delays, never reorders sends).
    while (nextOpen !== undefined && (cap === undefined || outstanding < cap) && (nextOpen.arrival <= queue.peekTime() || queue.size === 0)) {
      if (cap === undefined) send(nextOpen)
      else {
        outstanding++
        // It waited for a slot when it arrived before the last event (the slot freeing): sent now.
        if (nextOpen.arrival < now) send({ ...nextOpen, arrival: now }, now - nextOpen.arrival)
        else send(nextOpen)
      }
      nextOpen = workload.kind === "open" ? workload.next() : undefined
    }
    if (queue.size === 0) break
    const t = queue.peekTime()
    const payload = queue.pop()
    if (timeline !== undefined) {
      // Once the sample cap is reached, stop stepping the sample clock (a tiny interval must not spin).
      while (nextSample <= t && timeline.time.length < MAX_TIMELINE_SAMPLES) {
        sample(nextSample)
        nextSample += interval
      }
    }
    now = t
    if (payload === SLOT && cap !== undefined) outstanding--
    else if (payload < 0) {
      const req = inFlight[inFlightHead++]!
      if (req.id !== -payload - 1) throw new ConservationError(`request ${-payload - 1} reached an engine out of send order`)
      if (inFlightHead === inFlight.length && inFlightHead >= 64) {
        // Emptied: start over (every 64 deliveries at most, since truncating an array is a runtime call).
        inFlight.length = 0
        inFlightHead = 0
      } else if (inFlightHead > 1024 && inFlightHead * 2 > inFlight.length) {
        // Under a standing backlog the FIFO never empties: drop the delivered prefix now and then.
        inFlight = inFlight.slice(inFlightHead)
        inFlightHead = 0
      }
      const target = spec.replicas === 1 ? 0 : spec.router.pick(engines, req.spec)
      const e = engines[target]!
      e.enqueue(req, t)
      if (!e.busy && kickPending[target] === 0) {
        kickPending[target] = 1
        queue.push(t, target * 2 + KICK)
      }
    } else {
      const e = engines[payload >> 1]!
      if ((payload & KICK) !== 0) {
        kickPending[e.index] = 0
        if (!e.busy) startStep(e, t)
      } else {
        e.endStep(t)
        if (afterStep !== undefined) afterStep(e, t)
        if (e.hasWork()) startStep(e, t)
      }
    }
  }
  // Conservation, checked on every run: each request the workload generated was sent, and each sent
  // request finished or was rejected with a reason. A run that cannot account for one is an error.
  if (workload.kind === "closed" && numSent !== workload.numRequests)
    throw new ConservationError(`the closed-loop client sent ${numSent} of its ${workload.numRequests} requests`)
  const acc = recorder.accounting(spec.stageCount ?? 1)
  const pending = acc.pending.reduce((a, b) => a + b, 0)
  if (pending > 0) throw new ConservationError(`${pending} of ${numSent} requests neither finished nor were rejected (stages: ${acc.pending.join(", ")})`)
  return { spec, recorder, engines, endTime: now, timeline, numSent }
}

/** The simulator lost track of a request: a bug in the engine, never an input problem. */
export class ConservationError extends Error {
  override readonly name = "ConservationError"
  constructor(detail: string) {
    super(`request conservation violated: ${detail}`)
  }
}
