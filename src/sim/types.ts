// Shapes of the simulation core: requests as the workload produces them and the engine's configuration.

/**
 * A prefix shared with other requests: the first `length` tokens of every request naming `id` are
 * identical. Levels are ordered by length; a longer level implies the shorter ones (a user's
 * conversation contains its system prompt).
 */
export interface SharedPrefix {
  readonly id: number
  readonly length: number
}

/** One request as a workload emits it. Times are seconds from the start of the run. */
export interface RequestSpec {
  readonly arrival: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** Shared prefixes, shortest first; empty when the prompt shares nothing. */
  readonly prefixes: ReadonlyArray<SharedPrefix>
  /**
   * Identity of the content after the shared prefixes. Requests with the same contentId continue the
   * same token stream (turns of one conversation, whose earlier outputs are in later prompts); -1 means
   * unique to this request.
   */
  readonly contentId: number
  readonly priority: number // lower runs first under the priority policy (vLLM's convention)
  /** Index of the rate stage this request belongs to (0 without stages). */
  readonly stage: number
}

/** vLLM engine limits and cache layout for one replica. */
export interface EngineConfig {
  readonly maxNumSeqs: number
  readonly maxNumBatchedTokens: number
  readonly maxModelLen: number
  readonly blockSize: number
  readonly numGpuBlocks: number
  readonly enableChunkedPrefill: boolean
  readonly enablePrefixCaching: boolean
  /** vLLM's long_prefill_token_threshold: cap on one request's prefill chunk per step (0 = none). */
  readonly longPrefillTokenThreshold: number
  /**
   * vLLM's async scheduling (--async-scheduling): the scheduler forms step N+1 while step N runs, so a
   * request reaching a busy engine first runs one step later than it would synchronously. Off when absent.
   */
  readonly asyncScheduling?: boolean
  /**
   * vLLM's --kv-offloading-size as CPU KV blocks of this engine (absent or 0 = no CPU tier), and the
   * seconds one block takes to come back over the host link (src/sim/cpu-kv-tier.ts).
   */
  readonly cpuOffloadBlocks?: number
  readonly cpuLoadSecondsPerBlock?: number
}
