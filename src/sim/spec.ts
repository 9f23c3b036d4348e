// The boundary of the simulation core: what `simulate` takes. Everything here is plain data or pure
// functions, so a spec can be built by the CLI, a sweep worker, the calibrator or a test.
import type { StepTimeModel } from "../hw/types.ts"
import type { EngineConfig, RequestSpec } from "./types.ts"

/**
 * An open-loop source yields requests in non-decreasing arrival order, then undefined. With
 * `maxConcurrency`, at most that many are in flight: one arriving while the cap is reached waits (FIFO)
 * for a slot and is sent when one frees — `vllm bench serve --request-rate R --max-concurrency N`, whose
 * semaphore gates sending (vllm/benchmarks/serve.py limited_request_func). Latencies count from the
 * send, as vllm's do; the wait is the request's client queue time.
 */
export interface OpenLoopWorkload {
  readonly kind: "open"
  readonly maxConcurrency?: number
  next(): RequestSpec | undefined
  /** How many requests it yields, when known in advance (the recorder sizes its columns once). */
  readonly countRequests?: number | undefined
}

/**
 * A closed loop keeps `concurrency` requests in flight until `numRequests` have been sent
 * (`vllm bench serve --max-concurrency`). `next(sendTime)` makes the request sent at that time.
 */
export interface ClosedLoopWorkload {
  readonly kind: "closed"
  readonly concurrency: number
  readonly numRequests: number
  next(sendTime: number): RequestSpec
}

export type Workload = OpenLoopWorkload | ClosedLoopWorkload

/** What a scheduling policy may look at. Read-only view of the engine's request state. */
export interface PolicyRequestView {
  readonly id: number
  readonly arrival: number
  readonly inputTokens: number
  readonly outputTokens: number
  readonly priority: number
  readonly numComputedTokens: number
  readonly numOutputTokensDone: number
}

/**
 * A scheduling policy decides the order of the waiting queue and the preemption victim; it never
 * advances time or records metrics (vllm/v1/core/sched/scheduler.py, policy fcfs | priority).
 */
export interface SchedulingPolicy {
  readonly name: string
  /** Lower runs first; ties are broken by arrival, then request id. */
  waitingKey(req: PolicyRequestView): number
  /** Index into `running` (admission order, oldest first) of the request to preempt. */
  pickVictim(running: ReadonlyArray<PolicyRequestView>): number
}

/** Load signals a router sees for one replica. */
export interface ReplicaLoad {
  readonly index: number
  readonly numRunning: number
  readonly numWaiting: number
  readonly kvCacheUsage: number // 0..1
  /** Tokens of this request's prompt already in that replica's prefix cache. */
  cachedPrefixTokens(req: RequestSpec): number
}

/** Picks the replica for a request; never advances time. */
export interface Router {
  readonly name: string
  pick(replicas: ReadonlyArray<ReplicaLoad>, req: RequestSpec): number
}

export interface GoodputSlo {
  readonly ttftMs?: number
  readonly tpotMs?: number
  readonly e2elMs?: number
}

/** One pool of a P/D-disaggregated deployment: its replicas, their engine, step time and router. */
export interface PoolSpec {
  readonly engine: EngineConfig
  readonly replicas: number
  readonly router: Router
  readonly stepTime: StepTimeModel
}

/**
 * Prefill/decode disaggregation (vLLM with a KV connector behind a P/D proxy): each request prefills on
 * a prefill replica, its KV crosses a shared link, and it decodes on a decode replica.
 */
export interface DisaggregationSpec {
  readonly prefill: PoolSpec
  readonly decode: PoolSpec
  /** KV-transfer link: bytes/s and seconds per transfer. */
  readonly kvTransfer: { readonly bandwidth: number; readonly latency: number }
  /** Bytes of KV one prompt token takes over all layers (the model's KV layout and dtype). */
  readonly kvBytesPerToken: number
}

export interface SimSpec {
  readonly engine: EngineConfig
  readonly replicas: number
  readonly router: Router
  readonly policy: SchedulingPolicy
  readonly stepTime: StepTimeModel
  readonly workload: Workload
  /** Requests sent first and left out of the metrics (vllm bench's warm-up). */
  readonly warmupRequests: number
  readonly goodput?: GoodputSlo
  /** Rate-stage boundaries (seconds), so metrics can be reported per stage. */
  readonly stageCount?: number
  /** Sample KV usage, running and waiting every this many simulated seconds (0 = off). */
  readonly timelineInterval?: number
  /** P/D disaggregation; when set, `engine`, `replicas`, `router` and `stepTime` describe the prefill pool. */
  readonly disaggregation?: DisaggregationSpec
}
