// Prefix caching as in vLLM V1 (vllm/v1/core/block_pool.py, kv_cache_utils.py): a full block is
// identified by a hash chain over its content, so two requests with the same leading tokens share the
// block. Here a block's identity is (the widest shared content covering it, block index): content is
// named by the workload (SharedPrefix ids, conversation contentIds) instead of hashed token ids.
// Cached blocks with no reader are free but evictable; eviction is least-recently-freed first.
import type { RequestSpec } from "./types.ts"

const BLOCK_BITS = 2 ** 22 // block index < 4M blocks (64M tokens at block size 16)
const SPACE_BITS = 2 ** 28 // ids < 268M per space
const SPACE_PREFIX = 0
const SPACE_CONTENT = 1
const SPACE_REQUEST = 2

const keyOf = (space: number, id: number, block: number): number => (space * SPACE_BITS + id) * BLOCK_BITS + block

/**
 * The cache key of block `block` (tokens [block·B, (block+1)·B)) of a request, or -1 when the block
 * can never be shared with another request. `requestId` names the request's own content for
 * self-hits after a preemption.
 */
export const blockKey = (req: RequestSpec, requestId: number, block: number, blockSize: number, includeOwn: boolean): number => {
  const end = (block + 1) * blockSize
  for (const p of req.prefixes) if (p.length >= end) return keyOf(SPACE_PREFIX, p.id, block)
  if (req.contentId >= 0) return keyOf(SPACE_CONTENT, req.contentId, block)
  return includeOwn ? keyOf(SPACE_REQUEST, requestId, block) : -1
}

/** Tokens from the start of the prompt whose blocks another request could share (Infinity = all). */
export const shareableTokens = (req: RequestSpec): number => {
  if (req.contentId >= 0) return Number.POSITIVE_INFINITY
  let longest = 0
  for (const p of req.prefixes) if (p.length > longest) longest = p.length
  return longest
}

export class PrefixCache {
  /** key → number of running requests reading the block (0 = cached, free, evictable). */
  private readonly refs = new Map<number, number>()
  /** Evictable keys in the order they became free (Map iteration order = LRU first). */
  private readonly evictable = new Map<number, true>()

  get numEvictable(): number {
    return this.evictable.size
  }

  /** Blocks with at least one reader. */
  numReferenced = 0

  has(key: number): boolean {
    return this.refs.has(key)
  }

  isEvictable(key: number): boolean {
    return this.evictable.has(key)
  }

  /** Adds a reader to a cached block (a prefix hit). */
  acquire(key: number): void {
    const r = this.refs.get(key)
    if (r === undefined) throw new Error(`prefix cache: acquire of unknown block ${key}`)
    if (r === 0) {
      this.evictable.delete(key)
      this.numReferenced++
    }
    this.refs.set(key, r + 1)
  }

  /** Registers a block just filled by a request, with that request as its reader. */
  insertReferenced(key: number): void {
    this.refs.set(key, 1)
    this.numReferenced++
  }

  /** Registers a block as cached and free (a preempted request's own blocks). */
  insertEvictable(key: number): void {
    this.refs.set(key, 0)
    this.evictable.set(key, true)
  }

  release(key: number): void {
    const r = this.refs.get(key)
    if (r === undefined || r === 0) throw new Error(`prefix cache: release of unreferenced block ${key}`)
    if (r === 1) {
      this.numReferenced--
      this.evictable.set(key, true)
    }
    this.refs.set(key, r - 1)
  }

  /** Drops the least recently freed cached block; returns false when none is evictable. */
  evictOne(): boolean {
    const first = this.evictable.keys().next()
    if (first.done === true) return false
    this.evictable.delete(first.value)
    this.refs.delete(first.value)
    return true
  }
}
