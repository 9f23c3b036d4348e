// Prefill/decode disaggregation: two pools of engines joined by a KV-transfer link, as vLLM runs it
// behind a P/D proxy with a KV connector (examples/online_serving/disaggregated_serving,
// vllm/distributed/kv_transfer/kv_connector/v1/nixl_connector.py, p2p/p2p_nccl_connector.py):
//
// 1. The proxy sends the request to a prefill replica with max_tokens=1 (kv_transfer_params
//    do_remote_decode). It prefills, samples one token and finishes; its blocks stay allocated
//    (request_finished → delay_free_blocks) until the connector has sent them.
// 2. The KV of the prompt's full blocks (NIXL's get_num_new_matched_tokens: round_down(prompt,
//    block_size), less what the decode replica already caches) crosses the shared link; then the
//    prefill side frees its blocks (finished_sending).
// 3. The decode replica takes the request with those tokens computed (do_remote_prefill; when they
//    cover the whole prompt the scheduler recomputes the last one, _update_waiting_for_remote_kv),
//    computes the rest of the prompt, samples the first token and decodes. The client's stream is the
//    decode replica's: the proxy drops the prefill response (disagg_proxy_demo.py
//    D_first_token_generator, the default), so TTFT is the decode replica's first token.
//
// Simplification: the transfer starts when the prefill finishes and the request enters the decode
// replica's queue when its KV has arrived (a push, as P2pNcclConnector sends); NIXL's decode side
// instead allocates its blocks first and pulls. Ingress (API server) is counted once, at the proxy.
import { Engine, type EngineListener } from "./engine.ts"
import { EventQueue } from "./event-queue.ts"
import { KvTransferLink } from "./kv-link.ts"
import { MetricsRecorder } from "./metrics.ts"
import type { ScheduledBatch } from "./batch-formation.ts"
import { RequestState } from "./request-state.ts"
import { ConservationError, type SimResult, type SimulateHooks } from "./simulate.ts"
import type { DisaggregationSpec, PoolSpec, ReplicaLoad, SimSpec } from "./spec.ts"
import { floatColumn } from "./stats.ts"
import type { RequestSpec } from "./types.ts"

/** Step counters of one pool (the totals are the recorder's). */
export class PoolStats {
  numSteps = 0
  busyTime = 0
  numPreemptions = 0
  batchSizeSum = 0
  batchSizeMax = 0
  batchedTokensSum = 0
  prefillTokensSum = 0
  kvUsageTimeSum = 0
  kvUsageMax = 0

  onStep(engine: Engine, start: number, end: number, batch: ScheduledBatch): void {
    const dt = end - start
    const shape = batch.shape
    this.numSteps++
    this.busyTime += dt
    this.batchSizeSum += shape.numReqs
    if (shape.numReqs > this.batchSizeMax) this.batchSizeMax = shape.numReqs
    this.batchedTokensSum += shape.numTokens
    this.prefillTokensSum += shape.prefillTokens
    const usage = engine.kv.usage
    this.kvUsageTimeSum += usage * dt
    if (usage > this.kvUsageMax) this.kvUsageMax = usage
  }
}

export interface DisaggregatedRun {
  readonly prefillEngines: ReadonlyArray<Engine>
  readonly decodeEngines: ReadonlyArray<Engine>
  readonly prefill: PoolStats
  readonly decode: PoolStats
  readonly link: KvTransferLink
  /** Σ over finished requests of seconds from reaching a prefill replica to its KV arriving at decode. */
  readonly prefillPhaseSum: number
  readonly numTransferred: number
}

/** A transfer on the link, in completion order. */
interface Transfer {
  readonly leg: RequestState
  readonly spec: RequestSpec
  readonly from: number
  readonly to: number
  readonly externalTokens: number
}

const KICK = 1

const makeEngines = (pool: PoolSpec, policy: SimSpec["policy"], listener: EngineListener, lazyDecode: boolean): Engine[] => {
  const out: Engine[] = []
  for (let r = 0; r < pool.replicas; r++) out.push(new Engine(r, pool.engine, policy, pool.stepTime, listener, { lazyDecode }))
  return out
}

export const simulateDisaggregated = (spec: SimSpec, pd: DisaggregationSpec, hooks: SimulateHooks = {}): SimResult => {
  const overheads = spec.stepTime.overheads
  const recorder = new MetricsRecorder(overheads, spec.warmupRequests)
  const prefillStats = new PoolStats()
  const decodeStats = new PoolStats()
  const link = new KvTransferLink(pd.kvTransfer.bandwidth, pd.kvTransfer.latency)
  const queue = new EventQueue()
  const transfers: Transfer[] = []
  let transferHead = 0
  const originals = new Map<number, RequestSpec>()
  const prefillQueueTime = floatColumn()
  const prefillStart = floatColumn()
  const prefillReplica = floatColumn()
  let prefillPhaseSum = 0
  let numTransferred = 0

  const prefillListener: EngineListener = {
    // The prefill replica's sampled token never reaches the client (the proxy drops that response).
    onToken: () => {},
    onGroupTokens: () => {},
    isMeasured: () => false,
    onFinish: (leg, time) => startTransfer(leg, time),
    onPreempt: () => {
      recorder.onPreempt()
      prefillStats.numPreemptions++
    },
    onReject: (leg, time, reason) => {
      originals.delete(leg.id)
      recorder.onReject(leg, time, reason)
    },
    onStep: (engine, start, end, batch) => {
      recorder.onStep(engine, start, end, batch)
      prefillStats.onStep(engine, start, end, batch)
    },
  }
  const decodeListener: EngineListener = {
    onToken: (req, time, first) => recorder.onToken(req, time, first),
    onGroupTokens: (gap, measured) => recorder.onGroupTokens(gap, measured),
    isMeasured: (req) => recorder.isMeasured(req),
    onFinish: (req, time) => {
      recorder.onFinish(req, time)
      // Queueing is the prefill replica's: the decode leg enters with its prompt already computed.
      recorder.queueTime.set(req.id, prefillQueueTime.get(req.id))
    },
    onPreempt: () => {
      recorder.onPreempt()
      decodeStats.numPreemptions++
    },
    onReject: (req, time, reason) => recorder.onReject(req, time, reason),
    onStep: (engine, start, end, batch) => {
      recorder.onStep(engine, start, end, batch)
      decodeStats.onStep(engine, start, end, batch)
    },
  }

  const lazyDecode = hooks.eagerDecode !== true
  const prefillEngines = makeEngines(pd.prefill, spec.policy, prefillListener, lazyDecode)
  const decodeEngines = makeEngines(pd.decode, spec.policy, decodeListener, lazyDecode)
  const all = [...prefillEngines, ...decodeEngines]
  // The decode router sees requests whose KV is still on the link as waiting there, so a burst of
  // prefills finishing together spreads over the decode replicas.
  const inbound = new Int32Array(decodeEngines.length)
  const decodeLoads: ReplicaLoad[] = decodeEngines.map((e, j) => ({
    index: j,
    get numRunning() {
      return e.numRunning
    },
    get numWaiting() {
      return e.numWaiting + inbound[j]!
    },
    get kvCacheUsage() {
      return e.kvCacheUsage
    },
    cachedPrefixTokens: (req: RequestSpec) => e.cachedPrefixTokens(req),
  }))
  const numPrefill = prefillEngines.length
  const LINK = all.length * 2 // payload of a transfer completing (engine payloads are g·2 and g·2 + 1)
  const kickPending = new Uint8Array(all.length)
  const maxModelLen = Math.min(pd.prefill.engine.maxModelLen, pd.decode.engine.maxModelLen)
  const decodeBlockSize = pd.decode.engine.blockSize

  const kick = (g: number, t: number): void => {
    if (all[g]!.busy || kickPending[g] === 1) return
    kickPending[g] = 1
    queue.push(t, g * 2 + KICK)
  }

  const startTransfer = (leg: RequestState, time: number): void => {
    const original = originals.get(leg.id)!
    originals.delete(leg.id)
    prefillQueueTime.set(leg.id, leg.firstScheduled - leg.engineArrival)
    const to = pd.decode.replicas === 1 ? 0 : pd.decode.router.pick(decodeLoads, original)
    inbound[to]!++
    const prompt = original.inputTokens
    // NIXL moves the prompt's full blocks that the decode replica does not already cache.
    const fullTokens = Math.floor(prompt / decodeBlockSize) * decodeBlockSize
    const cached = Math.min(fullTokens, decodeEngines[to]!.cachedPrefixTokens(original))
    const arrival = link.send(time, (fullTokens - cached) * pd.kvBytesPerToken)
    transfers.push({ leg, spec: original, from: prefillReplica.get(leg.id), to, externalTokens: Math.min(fullTokens, prompt - 1) })
    queue.push(arrival, LINK)
  }

  const completeTransfer = (t: number): void => {
    const x = transfers[transferHead++]!
    if (transferHead > 1024 && transferHead * 2 > transfers.length) {
      transfers.splice(0, transferHead)
      transferHead = 0
    }
    prefillEngines[x.from]!.releaseHeld(x.leg)
    if (prefillEngines[x.from]!.hasWork()) kick(x.from, t)
    prefillPhaseSum += t - prefillStart.get(x.leg.id)
    numTransferred++
    const req = new RequestState(x.leg.id, x.spec)
    req.numExternalTokens = x.externalTokens
    inbound[x.to]!--
    decodeEngines[x.to]!.enqueue(req, t)
    kick(numPrefill + x.to, t)
  }

  // Arrivals: client sends, the proxy's API server ingress, then a prefill replica.
  const workload = spec.workload
  const inFlight = new Map<number, RequestState>()
  let numSent = 0
  let now = 0
  let apiServerFreeAt = 0
  const send = (reqSpec: RequestSpec): void => {
    const id = numSent++
    const leg = new RequestState(id, { ...reqSpec, outputTokens: 1 })
    leg.holdKvOnFinish = true
    recorder.onSend(leg)
    if (reqSpec.inputTokens + reqSpec.outputTokens > maxModelLen) {
      recorder.onReject(leg, leg.arrival, "prompt + max_tokens exceeds max_model_len")
      return
    }
    originals.set(id, reqSpec)
    inFlight.set(id, leg)
    const start = Math.max(leg.arrival, apiServerFreeAt)
    apiServerFreeAt = start + overheads.ingressBase + overheads.ingressPerInputToken * leg.inputTokens
    queue.push(apiServerFreeAt, -(id + 1))
  }
  let nextOpen = workload.kind === "open" ? workload.next() : undefined
  const freedSlots: number[] = []
  if (workload.kind === "closed") {
    recorder.onClientDone = (time) => {
      freedSlots.push(time)
    }
    for (let i = 0; i < workload.concurrency; i++) freedSlots.push(0)
  }

  const afterStep = hooks.afterStep
  /** Sends what the client has due before the next event: freed closed-loop slots, or open-loop arrivals. */
  const sendDue = (): void => {
    if (workload.kind === "closed") {
      for (let k = 0; k < freedSlots.length && numSent < workload.numRequests; k++) send(workload.next(freedSlots[k]!))
      freedSlots.length = 0
    } else
      for (; nextOpen !== undefined && (nextOpen.arrival <= queue.peekTime() || queue.size === 0); nextOpen = workload.next()) send(nextOpen)
  }
  for (;;) {
    sendDue()
    if (queue.size === 0) break
    const t = queue.peekTime()
    const payload = queue.pop()
    now = t
    if (payload < 0) {
      const leg = inFlight.get(-payload - 1)!
      inFlight.delete(leg.id)
      const r = pd.prefill.replicas === 1 ? 0 : pd.prefill.router.pick(prefillEngines, leg.spec)
      prefillReplica.set(leg.id, r)
      prefillStart.set(leg.id, t)
      prefillEngines[r]!.enqueue(leg, t)
      kick(r, t)
    } else if (payload === LINK) completeTransfer(t)
    else {
      const g = payload >> 1
      const e = all[g]!
      if ((payload & KICK) !== 0) kickPending[g] = 0
      else {
        e.endStep(t)
        if (afterStep !== undefined) afterStep(e, t)
      }
      if (!e.busy && e.hasWork()) {
        const d = e.beginStep(t)
        if (d >= 0) queue.push(t + d, g * 2)
      }
    }
  }

  if (workload.kind === "closed" && numSent !== workload.numRequests)
    throw new ConservationError(`the closed-loop client sent ${numSent} of its ${workload.numRequests} requests`)
  const acc = recorder.accounting(spec.stageCount ?? 1)
  const pending = acc.pending.reduce((a, b) => a + b, 0)
  if (pending > 0) throw new ConservationError(`${pending} of ${numSent} requests neither finished nor were rejected (stages: ${acc.pending.join(", ")})`)
  for (const e of prefillEngines)
    if (e.numHeld !== 0) throw new ConservationError(`prefill replica ${e.index} still holds the KV of ${e.numHeld} sent requests`)
  const disaggregated: DisaggregatedRun = { prefillEngines, decodeEngines, prefill: prefillStats, decode: decodeStats, link, prefillPhaseSum, numTransferred }
  return { spec, recorder, engines: all, endTime: now, timeline: undefined, numSent, disaggregated }
}
