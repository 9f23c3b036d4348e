// A request inside one engine: the workload's spec plus the progress the scheduler and KV cache track.
// Follows vllm/v1/request.py: num_tokens = prompt + generated; num_computed_tokens = tokens whose KV is
// in the cache. A step computes num_tokens − num_computed_tokens (or a chunk of it); when nothing is
// left to compute, one token is sampled.
import type { PolicyRequestView } from "./spec.ts"
import type { RequestSpec } from "./types.ts"
import { shareableTokens } from "./prefix-cache.ts"

/** Shared empty key list: most requests never hold a prefix-cache block, so they allocate none. */
export const NO_KEYS: number[] = []

export class RequestState implements PolicyRequestView {
  readonly id: number
  readonly spec: RequestSpec
  readonly arrival: number // client send time
  readonly inputTokens: number
  readonly outputTokens: number
  readonly priority: number
  /** Tokens from the prompt start whose blocks may be shared (prefix caching). */
  readonly shareable: number

  numComputedTokens = 0
  numOutputTokensDone = 0
  /** Blocks this request holds; the first `keys.length` of them are prefix-cache blocks. */
  numBlocks = 0
  keys: number[] = NO_KEYS
  /** Engine time the request entered the waiting queue (after API ingress). */
  engineArrival = 0
  firstScheduled = -1
  firstTokenStep = -1 // engine time of the step that sampled the first token
  lastTokenStep = -1
  numPreemptions = 0
  /** Position in admission order, for FCFS preemption (the newest admitted is preempted first). */
  admittedSeq = 0
  /** Decode-group bookkeeping (decode-group.ts): fields are current as of engine step syncStep. */
  inDecodeGroup = false
  finished = false
  /** The client went away; the engine drops the request before its next step. */
  aborted = false
  syncStep = 0
  countsItl = false
  /** The engine step that samples the last token, and the index among the members (decode-group.ts). */
  groupFinishStep = 0
  groupSlot = 0
  /** The next member in this one's finishing bucket (decode-group.ts). */
  groupNext: RequestState | undefined = undefined
  /**
   * P/D disaggregation: prompt tokens whose KV came from a prefill replica over the KV connector
   * (vLLM's num_external_computed_tokens); taken at admission, then 0.
   */
  numExternalTokens = 0
  /**
   * P/D disaggregation, prefill side: the blocks outlive the request until the connector has sent them
   * (vLLM's request_finished → delay_free_blocks, freed on finished_sending).
   */
  holdKvOnFinish = false

  constructor(id: number, spec: RequestSpec) {
    this.id = id
    this.spec = spec
    this.arrival = spec.arrival
    this.inputTokens = spec.inputTokens
    this.outputTokens = spec.outputTokens
    this.priority = spec.priority
    this.shareable = shareableTokens(spec)
  }

  get numTokens(): number {
    return this.inputTokens + this.numOutputTokensDone
  }
}
