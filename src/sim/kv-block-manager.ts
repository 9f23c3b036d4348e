// Paged KV cache of one engine (vllm/v1/core/kv_cache_manager.py, block_pool.py): a fixed pool of
// numGpuBlocks blocks of blockSize tokens. A request holds ceil(computed+scheduled / blockSize) blocks;
// blocks of shareable content go through the prefix cache, the rest are private to the request.
// Invariant: numPrivate + cache.numReferenced + cache.numEvictable ≤ numGpuBlocks.
import type { CpuKvTier } from "./cpu-kv-tier.ts"
import { PrefixCache, blockKey } from "./prefix-cache.ts"
import { NO_KEYS, type RequestState } from "./request-state.ts"

export interface PrefixHit {
  /** Leading blocks found in the cache. */
  blocks: number
  /** Of those, how many are free-but-cached (taking them uses free blocks). */
  evictable: number
}

const addKey = (req: RequestState, key: number): void => {
  if (req.keys === NO_KEYS) req.keys = [key]
  else req.keys.push(key)
}

export class KvBlockManager {
  readonly numGpuBlocks: number
  readonly blockSize: number
  readonly enablePrefixCaching: boolean
  readonly cache = new PrefixCache()
  numPrivate = 0
  /** Prompt tokens looked up in the prefix cache, and how many of them hit (vLLM's prefix_cache_queries/hits). */
  prefixQueries = 0
  prefixHits = 0
  /** KV offloading's CPU tier (--kv-offloading-size), when on. */
  readonly cpu: CpuKvTier | undefined

  constructor(numGpuBlocks: number, blockSize: number, enablePrefixCaching: boolean, cpu?: CpuKvTier) {
    this.numGpuBlocks = numGpuBlocks
    this.blockSize = blockSize
    this.enablePrefixCaching = enablePrefixCaching
    this.cpu = cpu
  }

  /** Blocks read by running requests. */
  get numUsed(): number {
    return this.numPrivate + this.cache.numReferenced
  }

  /** Blocks a request could be given, counting cached-but-unreferenced ones (they are evicted on demand). */
  get numFree(): number {
    return this.numGpuBlocks - this.numUsed
  }

  /** vLLM's kv_cache_usage_perc / 100. */
  get usage(): number {
    return this.numUsed / this.numGpuBlocks
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize)
  }

  /** Longest run of leading cached blocks for a request not yet computed; at most numTokens − 1 tokens hit. */
  findCachedBlocks(req: RequestState, hit: PrefixHit): void {
    hit.blocks = 0
    hit.evictable = 0
    if (!this.enablePrefixCaching) return
    const maxBlocks = Math.floor((req.numTokens - 1) / this.blockSize)
    for (let b = 0; b < maxBlocks; b++) {
      const key = blockKey(req.spec, req.id, b, this.blockSize, true)
      if (key < 0 || !this.cache.has(key)) break
      hit.blocks++
      if (this.cache.isEvictable(key)) hit.evictable++
    }
  }

  /**
   * Blocks after the first `from` that the CPU tier holds, consecutively (the OffloadingConnector's
   * lookup after the GPU hit); at most numTokens − 1 tokens are taken, so one is computed and sampled.
   */
  findOffloadedBlocks(req: RequestState, from: number): number {
    const cpu = this.cpu
    if (cpu === undefined) return 0
    const maxBlocks = Math.floor((req.numTokens - 1) / this.blockSize)
    let b = from
    while (b < maxBlocks && cpu.has(blockKey(req.spec, req.id, b, this.blockSize, true))) b++
    return b - from
  }

  /**
   * After applyHits: the request's computed tokens grow to `tokens` with KV that arrived from outside
   * this GPU (CPU tier or a prefill replica); its blocks are allocated and full shareable ones published.
   */
  adoptExternal(req: RequestState, tokens: number, loadedFromCpu: number): void {
    const from = req.numComputedTokens
    this.allocateSlots(req, tokens)
    req.numComputedTokens = tokens
    this.commitComputed(req, from, tokens)
    const cpu = this.cpu
    if (cpu === undefined || loadedFromCpu === 0) return
    const first = Math.floor(from / this.blockSize)
    for (let b = first; b < first + loadedFromCpu; b++) cpu.touch(blockKey(req.spec, req.id, b, this.blockSize, true))
    cpu.numLoadedBlocks += loadedFromCpu
  }

  /** Takes the hit blocks for the request; its computed tokens start after them. */
  applyHits(req: RequestState, hit: PrefixHit): void {
    this.prefixQueries += req.numTokens
    if (hit.blocks === 0) return
    for (let b = 0; b < hit.blocks; b++) {
      const key = blockKey(req.spec, req.id, b, this.blockSize, true)
      this.cache.acquire(key)
      addKey(req, key)
    }
    req.numBlocks = hit.blocks
    req.numComputedTokens = hit.blocks * this.blockSize
    this.prefixHits += req.numComputedTokens
  }

  /** Ensures the request holds blocks for `tokens` tokens; false (nothing changed) when the pool is short. */
  allocateSlots(req: RequestState, tokens: number): boolean {
    const need = this.blocksFor(tokens) - req.numBlocks
    if (need <= 0) return true
    if (need > this.numFree) return false
    this.allocateBlocks(need)
    req.numBlocks += need
    return true
  }

  /** Takes `n` private blocks for requests tracked in aggregate (the decode group); the caller checked numFree. */
  allocateBlocks(n: number): void {
    if (n <= 0) return
    const physicallyFree = this.numGpuBlocks - this.numUsed - this.cache.numEvictable
    for (let shortfall = n - physicallyFree; shortfall > 0; shortfall--) this.cache.evictOne()
    this.numPrivate += n
  }

  /** After a step computed tokens [from, to): publishes newly full shareable blocks in the prefix cache. */
  commitComputed(req: RequestState, from: number, to: number): void {
    if (!this.enablePrefixCaching || req.shareable === 0) return
    const bs = this.blockSize
    for (let b = Math.max(req.keys.length, Math.floor(from / bs)); (b + 1) * bs <= to; b++) {
      // Only a contiguous run of leading blocks is shared; a block someone else published first stays private.
      if (b !== req.keys.length || (b + 1) * bs > req.shareable) return
      const key = blockKey(req.spec, req.id, b, bs, false)
      if (key < 0 || this.cache.has(key)) return
      this.cache.insertReferenced(key)
      this.numPrivate--
      addKey(req, key)
    }
  }

  /**
   * Returns all of a request's blocks. On preemption (`keepCached`) its full computed blocks stay in the
   * prefix cache as evictable, so recomputation can hit them, as vLLM does for every full block.
   */
  free(req: RequestState, keepCached: boolean): void {
    if (this.cpu !== undefined) this.offload(req, this.cpu)
    for (const key of req.keys) this.cache.release(key)
    this.numPrivate -= req.numBlocks - req.keys.length
    if (keepCached && this.enablePrefixCaching) {
      const full = Math.min(req.numBlocks, Math.floor(req.numComputedTokens / this.blockSize))
      for (let b = req.keys.length; b < full; b++) {
        const key = blockKey(req.spec, req.id, b, this.blockSize, true)
        if (!this.cache.has(key)) this.cache.insertEvictable(key)
      }
    }
    req.keys = NO_KEYS
    req.numBlocks = 0
  }

  /** Writes the request's full computed blocks to the CPU tier (see cpu-kv-tier.ts on when vLLM stores). */
  private offload(req: RequestState, cpu: CpuKvTier): void {
    const full = Math.min(req.numBlocks, Math.floor(req.numComputedTokens / this.blockSize))
    for (let b = 0; b < full; b++) cpu.store(blockKey(req.spec, req.id, b, this.blockSize, true))
  }
}
