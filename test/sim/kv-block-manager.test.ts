// The paged KV cache of one engine (src/sim/kv-block-manager.ts), after vllm/v1/core/kv_cache_manager.py
// and block_pool.py: a request holds ceil(tokens / block_size) blocks; allocation fails without side
// effects when the pool is short; full blocks of shared content are published to the prefix cache; a
// prefix hit never covers the whole prompt (vLLM recomputes at least the last token).
import { describe, expect, it } from "vitest"
import { KvBlockManager, type PrefixHit } from "../../src/sim/kv-block-manager.ts"
import { RequestState } from "../../src/sim/request-state.ts"
import { request } from "./helpers.ts"

const prefixed = (id: number, input: number, prefixId: number, prefixLen: number): RequestState =>
  new RequestState(id, request(0, input, 5, { prefixes: [{ id: prefixId, length: prefixLen }] }))

/** Runs a request's prompt through: blocks for it, computed, published. */
const prefill = (kv: KvBlockManager, req: RequestState): void => {
  if (!kv.allocateSlots(req, req.numTokens)) throw new Error("prefill: pool short")
  kv.commitComputed(req, 0, req.numTokens)
  req.numComputedTokens = req.numTokens
}

describe("KvBlockManager", () => {
  it("a request holds ceil(tokens / block_size) blocks, allocated as its tokens grow", () => {
    const kv = new KvBlockManager(10, 16, false)
    const r = new RequestState(0, request(0, 40, 5))
    expect(kv.blocksFor(0)).toBe(0)
    expect(kv.blocksFor(16)).toBe(1)
    expect(kv.blocksFor(17)).toBe(2)
    expect(kv.allocateSlots(r, 40)).toBe(true)
    expect(r.numBlocks).toBe(3)
    expect(kv.allocateSlots(r, 48)).toBe(true) // still 3 blocks
    expect(r.numBlocks).toBe(3)
    expect(kv.allocateSlots(r, 49)).toBe(true)
    expect(r.numBlocks).toBe(4)
    expect(kv.numUsed).toBe(4)
    expect(kv.numFree).toBe(6)
    expect(kv.usage).toBeCloseTo(0.4, 12)
  })

  it("allocation that does not fit returns false and changes nothing", () => {
    const kv = new KvBlockManager(4, 16, false)
    const a = new RequestState(0, request(0, 48, 5))
    const b = new RequestState(1, request(0, 48, 5))
    expect(kv.allocateSlots(a, 48)).toBe(true)
    expect(kv.allocateSlots(b, 48)).toBe(false)
    expect(b.numBlocks).toBe(0)
    expect(kv.numUsed).toBe(3)
  })

  it("freeing returns every block; without prefix caching nothing stays cached", () => {
    const kv = new KvBlockManager(8, 16, false)
    const r = new RequestState(0, request(0, 100, 5))
    prefill(kv, r)
    kv.free(r, true)
    expect(kv.numUsed).toBe(0)
    expect(kv.cache.numEvictable).toBe(0)
    expect(r.numBlocks).toBe(0)
  })

  it("publishes the full blocks of a shared prefix; the partial tail block and private content stay private", () => {
    const kv = new KvBlockManager(20, 16, true)
    const r = prefixed(0, 100, 3, 40) // prefix covers blocks 0–1 fully (32 tokens), block 2 only in part
    prefill(kv, r)
    expect(r.numBlocks).toBe(7)
    expect(r.keys.length).toBe(2)
    expect(kv.cache.numReferenced).toBe(2)
    expect(kv.numPrivate).toBe(5)
    expect(kv.numUsed).toBe(7)
  })

  it("another request with the same prefix hits its full blocks, up to numTokens − 1 tokens", () => {
    const kv = new KvBlockManager(40, 16, true)
    const a = prefixed(0, 100, 3, 64)
    prefill(kv, a)
    const hit: PrefixHit = { blocks: 0, evictable: 0 }
    const b = prefixed(1, 200, 3, 64)
    kv.findCachedBlocks(b, hit)
    expect(hit).toEqual({ blocks: 4, evictable: 0 })
    // A prompt that is exactly the cached prefix still computes its last block: 64 tokens → 3 hit blocks.
    const c = prefixed(2, 64, 3, 64)
    kv.findCachedBlocks(c, hit)
    expect(hit.blocks).toBe(3)
    kv.findCachedBlocks(b, hit)
    kv.applyHits(b, hit)
    expect(b.numComputedTokens).toBe(64)
    expect(b.numBlocks).toBe(4)
    expect(kv.cache.numReferenced).toBe(4) // shared, not duplicated
    expect(kv.prefixQueries).toBe(200)
    expect(kv.prefixHits).toBe(64)
  })

  it("a finished request's cached blocks become evictable; hitting them takes them back from the free pool", () => {
    const kv = new KvBlockManager(10, 16, true)
    const a = prefixed(0, 64, 5, 64)
    prefill(kv, a) // blocks 0–3 are full prefix blocks
    kv.free(a, false)
    expect(kv.numUsed).toBe(0)
    expect(kv.cache.numEvictable).toBe(4)
    expect(kv.numFree).toBe(10) // evictable blocks count as free
    const b = prefixed(1, 80, 5, 64)
    const hit: PrefixHit = { blocks: 0, evictable: 0 }
    kv.findCachedBlocks(b, hit)
    expect(hit).toEqual({ blocks: 4, evictable: 4 })
    kv.applyHits(b, hit)
    expect(kv.cache.numEvictable).toBe(0)
    expect(kv.numUsed).toBe(4)
  })

  it("allocating past the physically free blocks evicts cached ones, least recently freed first", () => {
    const kv = new KvBlockManager(6, 16, true)
    const a = prefixed(0, 32, 1, 32) // 2 blocks of prefix 1
    const b = prefixed(1, 32, 2, 32) // 2 blocks of prefix 2
    prefill(kv, a)
    prefill(kv, b)
    kv.free(a, false) // freed first: evicted first
    kv.free(b, false)
    const big = new RequestState(2, request(0, 64, 5)) // 4 private blocks; only 2 are physically free
    expect(kv.allocateSlots(big, 64)).toBe(true)
    expect(kv.cache.numEvictable).toBe(2)
    const hit: PrefixHit = { blocks: 0, evictable: 0 }
    kv.findCachedBlocks(prefixed(3, 40, 1, 32), hit)
    expect(hit.blocks).toBe(0) // prefix 1 was evicted
    kv.findCachedBlocks(prefixed(4, 40, 2, 32), hit)
    expect(hit.blocks).toBe(2) // prefix 2 survived
  })

  it("a preempted request keeps its full computed blocks cached (its own content), so recomputation hits them", () => {
    const kv = new KvBlockManager(20, 16, true)
    const r = new RequestState(7, request(0, 50, 5))
    kv.allocateSlots(r, 50)
    r.numComputedTokens = 50
    kv.free(r, true)
    expect(kv.numUsed).toBe(0)
    expect(kv.cache.numEvictable).toBe(3) // 50 tokens: 3 full blocks
    r.numComputedTokens = 0
    const hit: PrefixHit = { blocks: 0, evictable: 0 }
    kv.findCachedBlocks(r, hit)
    expect(hit).toEqual({ blocks: 3, evictable: 3 })
    // No other request shares a unique prompt's blocks.
    kv.findCachedBlocks(new RequestState(8, request(0, 50, 5)), hit)
    expect(hit.blocks).toBe(0)
  })

  it("allocateBlocks takes aggregate private blocks (the decode group's), evicting when needed", () => {
    const kv = new KvBlockManager(4, 16, true)
    const a = prefixed(0, 32, 1, 32)
    prefill(kv, a)
    kv.free(a, false)
    kv.allocateBlocks(3)
    expect(kv.numPrivate).toBe(3)
    expect(kv.cache.numEvictable).toBe(1)
    expect(kv.numPrivate + kv.cache.numReferenced + kv.cache.numEvictable).toBeLessThanOrEqual(4)
  })
})
