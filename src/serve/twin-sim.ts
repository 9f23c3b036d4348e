// The simulator driven by a wall clock: the same engines, router and overheads as the batch simulator
// (src/sim/simulate.ts), but events run when their time comes in scaled real time:
//   sim seconds = (wall − start) × timeScale.
// Events are processed in (time, seq) order exactly as in a discrete-event run; a late timer only
// delays when they are processed, never their simulated times, so the engine's timeline is exact given
// the arrival times. Arrivals are stamped with the simulated "now" at which the HTTP body was read.
// Per request: ingress overhead before the engine sees it, each token delivered perOutputToken after
// its step ends, the response completed `completion` after the last token (RequestOverheads).
import type { StepTimeModel } from "../hw/types.ts"
import { Engine, type EngineListener } from "../sim/engine.ts"
import { RequestState } from "../sim/request-state.ts"
import type { Router, SchedulingPolicy } from "../sim/spec.ts"
import type { EngineConfig, RequestSpec, SharedPrefix } from "../sim/types.ts"
import type { VllmMetrics } from "./metrics.ts"

/** Callbacks of one request; called at the request's delivery times (simulated). */
export interface RequestHooks {
  /** Output token `index` (0-based) reached the client side at simulated time `time`. */
  onToken(index: number, time: number): void
  /** The response is complete (after the last token and the completion overhead). */
  onComplete(time: number): void
  /** The engine can never run the request (e.g. it needs more KV blocks than exist). */
  onReject(reason: string, time: number): void
}

export interface SubmitSpec {
  readonly inputTokens: number
  readonly outputTokens: number
  readonly maxTokens: number
  readonly prefixes: ReadonlyArray<SharedPrefix>
  readonly priority: number
  readonly finishReason: "length" | "stop"
}

export interface TwinEngines {
  readonly engine: EngineConfig
  readonly stepTime: StepTimeModel
  readonly policy: SchedulingPolicy
  readonly replicas: number
  readonly router: Router
}

/** Monotonic wall clock in milliseconds (performance.now in production; a fake in tests). */
export type WallClock = () => number

interface Pending {
  readonly t: number
  readonly seq: number
  readonly run: () => void
}

/** Binary min-heap of closures by (time, seq). */
class ClosureHeap {
  private readonly items: Pending[] = []
  private seq = 0

  get size(): number {
    return this.items.length
  }

  peekTime(): number {
    return this.items.length > 0 ? this.items[0]!.t : Number.POSITIVE_INFINITY
  }

  private less(a: Pending, b: Pending): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq)
  }

  push(t: number, run: () => void): void {
    const items = this.items
    items.push({ t, seq: this.seq++, run })
    let i = items.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(items[i]!, items[p]!)) break
      ;[items[i], items[p]] = [items[p]!, items[i]!]
      i = p
    }
  }

  pop(): Pending | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    items[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && this.less(items[l]!, items[m]!)) m = l
      if (r < items.length && this.less(items[r]!, items[m]!)) m = r
      if (m === i) break
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
    return top
  }
}

interface Tracked {
  readonly state: RequestState
  readonly spec: SubmitSpec
  hooks: RequestHooks
  /** Simulated time the HTTP request was read (vLLM's arrival_time). */
  readonly arrival: number
  engine: number
  /** Prompt tokens found in the prefix cache when first scheduled. */
  cached: number
  cachedKnown: boolean
  sampled: number
  lastTokenTime: number
  /** The client went away or the twin ended the response early: no request-level metrics at finish. */
  ended: boolean
}

/** An event handled this late (wall ms) distorts what clients measure by LATE_MS × timeScale simulated ms. */
export const LATE_MS = 5

const silentHooks: RequestHooks = { onToken: () => {}, onComplete: () => {}, onReject: () => {} }

export class TwinSim {
  readonly timeScale: number
  readonly engines: ReadonlyArray<Engine>
  private readonly setup: TwinEngines
  private readonly metrics: VllmMetrics
  private readonly clock: WallClock
  private readonly startMs: number
  private readonly heap = new ClosureHeap()
  private readonly tracked = new Map<number, Tracked>()
  private readonly kickPending: boolean[]
  private readonly stepIterationTokens: number[]
  private nextId = 0
  /** Latest simulated time processed (events never go back before it). */
  private simTime = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = Number.POSITIVE_INFINITY
  private closed = false
  private pumping = false
  /** Wall milliseconds by which the latest-processed event was late, at most (event-loop lag). */
  maxLagMs = 0
  /** Events processed more than LATE_MS after their time, and all events. */
  lateEvents = 0
  events = 0
  /** Sum of event lags (wall ms), for the mean lag over an interval (differences of two reads). */
  lagSumMs = 0
  /** Largest lag in the current and the previous one-second wall window (the "lag now" of a response header). */
  private windowStart = 0
  private windowMax = 0
  private prevWindowMax = 0

  constructor(setup: TwinEngines, timeScale: number, metrics: VllmMetrics, clock: WallClock) {
    this.setup = setup
    this.timeScale = timeScale
    this.metrics = metrics
    this.clock = clock
    this.startMs = clock()
    const engines: Engine[] = []
    for (let i = 0; i < setup.replicas; i++) engines.push(new Engine(i, setup.engine, setup.policy, setup.stepTime, this.listenerFor(i), { lazyDecode: false }))
    this.engines = engines
    this.kickPending = engines.map(() => false)
    this.stepIterationTokens = engines.map(() => 0)
  }

  /** Simulated seconds now. */
  simNow(): number {
    return ((this.clock() - this.startMs) / 1000) * this.timeScale
  }

  /** Wall milliseconds (on the clock's scale) of a simulated time. */
  wallMsOf(simTime: number): number {
    return this.startMs + (simTime / this.timeScale) * 1000
  }

  /** Requests inside the twin (sent to an engine or in ingress, response not complete). */
  get inFlight(): number {
    return this.tracked.size
  }

  private listenerFor(index: number): EngineListener {
    return {
      onToken: (req, time, first) => {
        const r = this.tracked.get(req.id)
        if (r === undefined) return
        if (first) {
          const cached = r.cachedKnown ? r.cached : 0
          this.metrics.onFirstToken(index, r.spec.inputTokens, cached, time - r.arrival)
          this.stepIterationTokens[index]! += r.spec.inputTokens - cached
        }
        this.metrics.onToken(index, first ? undefined : time - r.lastTokenTime)
        this.stepIterationTokens[index]! += 1
        r.lastTokenTime = time
        const j = r.sampled++
        this.at(time + this.setup.stepTime.overheads.perOutputToken, () => r.hooks.onToken(j, time + this.setup.stepTime.overheads.perOutputToken))
      },
      onGroupTokens: () => {},
      isMeasured: () => true,
      onFinish: (req, time) => {
        const r = this.tracked.get(req.id)
        if (r === undefined) return
        const s = req
        if (!r.ended) {
          this.metrics.onFinished(index, {
            reason: r.spec.finishReason,
            promptTokens: r.spec.inputTokens,
            generationTokens: s.numOutputTokensDone,
            maxTokens: r.spec.maxTokens,
            prefillComputedTokens: r.spec.inputTokens - (r.cachedKnown ? r.cached : 0),
            e2e: time - r.arrival,
            queue: s.firstScheduled - s.engineArrival,
            prefill: s.firstTokenStep - s.firstScheduled,
            decode: s.lastTokenStep - s.firstTokenStep,
            inference: s.lastTokenStep - s.firstScheduled,
          })
        }
        const o = this.setup.stepTime.overheads
        const done = time + o.perOutputToken + o.completion
        this.at(done, () => {
          this.tracked.delete(req.id)
          r.hooks.onComplete(done)
        })
      },
      onPreempt: () => this.metrics.onPreempt(index),
      onReject: (req, time, reason) => {
        const r = this.tracked.get(req.id)
        if (r === undefined) return
        this.tracked.delete(req.id)
        if (!r.ended) this.metrics.onEnded(index, "error")
        r.hooks.onReject(reason, time)
      },
      onStep: () => {
        this.metrics.onStep(index, this.stepIterationTokens[index]!)
        this.stepIterationTokens[index] = 0
      },
    }
  }

  private at(t: number, run: () => void): void {
    this.heap.push(t, run)
    if (!this.pumping) this.arm()
  }

  private startStep(e: Engine, t: number): void {
    const d = e.beginStep(t)
    if (d < 0) return
    // Prefix-cache hits are applied at admission: a new request's computed tokens are its hits.
    const b = e.batch
    for (let k = 0; k < b.count; k++) {
      const r = this.tracked.get(b.reqs[k]!.id)
      if (r !== undefined && !r.cachedKnown) {
        r.cachedKnown = true
        r.cached = b.reqs[k]!.numComputedTokens
      }
    }
    const end = t + d
    this.heap.push(end, () => {
      e.endStep(end)
      if (e.hasWork()) this.startStep(e, end)
    })
  }

  private arrive(r: Tracked, t: number): void {
    if (r.ended) return // the client left before the request reached the engine
    const target = this.engines.length === 1 ? 0 : this.setup.router.pick(this.engines, r.state.spec)
    r.engine = target
    const e = this.engines[target]!
    e.enqueue(r.state, t)
    if (!e.busy && !this.kickPending[target]) {
      this.kickPending[target] = true
      this.heap.push(t, () => {
        this.kickPending[target] = false
        if (!e.busy) this.startStep(e, t)
      })
    }
  }

  /** A request read at the current wall time enters the twin. Returns its id. */
  submit(spec: SubmitSpec, hooks: RequestHooks): number {
    this.pump()
    const now = Math.max(this.simNow(), this.simTime)
    const id = this.nextId++
    const reqSpec: RequestSpec = {
      arrival: now,
      inputTokens: spec.inputTokens,
      outputTokens: spec.outputTokens,
      prefixes: spec.prefixes,
      contentId: -1,
      priority: spec.priority,
      stage: 0,
    }
    const r: Tracked = {
      state: new RequestState(id, reqSpec),
      spec,
      hooks,
      arrival: now,
      engine: 0,
      cached: 0,
      cachedKnown: false,
      sampled: 0,
      lastTokenTime: now,
      ended: false,
    }
    this.tracked.set(id, r)
    const o = this.setup.stepTime.overheads
    const ingress = o.ingressBase + o.ingressPerInputToken * spec.inputTokens
    this.heap.push(now + ingress, () => this.arrive(r, now + ingress))
    this.pump()
    return id
  }

  /**
   * The response of request `id` ended early (client gone, injected error or drop): the engine aborts
   * it, as vLLM does, freeing its KV blocks and batch slot before the next step.
   * Returns the engine index it ran on, for the finished_reason count.
   */
  abandon(id: number): number {
    const r = this.tracked.get(id)
    if (r === undefined) return 0
    r.ended = true
    r.hooks = silentHooks
    const e = this.engines[r.engine]
    if (e !== undefined) {
      e.abort(r.state)
      if (!e.busy && e.hasWork()) this.startStep(e, Math.max(this.simNow(), this.simTime))
    }
    return r.engine
  }

  /** Runs every event due by now, then arms the timer for the next one. */
  pump(): void {
    if (this.closed || this.pumping) return
    this.pumping = true
    try {
      const now = this.simNow()
      const wallNow = this.clock()
      while (this.heap.size > 0 && this.heap.peekTime() <= now) {
        const ev = this.heap.pop()!
        if (ev.t > this.simTime) this.simTime = ev.t
        const lag = wallNow - this.wallMsOf(ev.t)
        if (lag > this.maxLagMs) this.maxLagMs = lag
        if (lag > LATE_MS) this.lateEvents++
        this.events++
        const l = Math.max(0, lag)
        this.lagSumMs += l
        if (wallNow - this.windowStart >= 1000) {
          this.prevWindowMax = wallNow - this.windowStart >= 2000 ? 0 : this.windowMax
          this.windowMax = 0
          this.windowStart = wallNow
        }
        if (l > this.windowMax) this.windowMax = l
        ev.run()
      }
    } finally {
      this.pumping = false
    }
    this.arm()
  }

  private arm(): void {
    if (this.closed) return
    const next = this.heap.peekTime()
    if (next === this.timerAt && this.timer !== undefined) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = next
    if (!Number.isFinite(next)) return
    const delay = Math.max(0, this.wallMsOf(next) - this.clock())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.timerAt = Number.POSITIVE_INFINITY
      this.pump()
    }, Math.ceil(delay))
  }

  /** Largest event lag (wall ms) in the last one to two seconds. */
  recentLagMs(): number {
    this.pump()
    const age = this.clock() - this.windowStart
    return age >= 2000 ? 0 : age >= 1000 ? this.windowMax : Math.max(this.windowMax, this.prevWindowMax)
  }

  /** Engine state for /metrics, brought up to the current time first. */
  gauges(): Array<{ numRunning: number; numWaiting: number; kvCacheUsage: number; prefixQueries: number; prefixHits: number }> {
    this.pump()
    return this.engines.map((e) => ({
      numRunning: e.numRunning,
      numWaiting: e.numWaiting,
      kvCacheUsage: e.kvCacheUsage,
      prefixQueries: e.kv.prefixQueries,
      prefixHits: e.kv.prefixHits,
    }))
  }

  close(): void {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }
}
