// Prefix caching's block identity and bookkeeping (src/sim/prefix-cache.ts), after
// vllm/v1/core/block_pool.py and kv_cache_utils.py: a block's identity chains over everything before
// it, so it is shared only by prompts agreeing up to its end; a cached block is free when no running
// request reads it, and free cached blocks are evicted least recently freed first.
import { describe, expect, it } from "vitest"
import { PrefixCache, blockKey, shareableTokens } from "../../src/sim/prefix-cache.ts"
import { request } from "./helpers.ts"

const system = { id: 1, length: 64 }
const user = { id: 2, length: 160 } // a conversation that starts with the system prompt

describe("block keys (the hash chain)", () => {
  it("blocks inside a shared prefix have the prefix's identity; two prompts agree exactly there", () => {
    const a = request(0, 300, 5, { prefixes: [system] })
    const b = request(0, 500, 5, { prefixes: [system] })
    for (let blk = 0; blk < 4; blk++) expect(blockKey(a, 0, blk, 16, false)).toBe(blockKey(b, 1, blk, 16, false))
    // Block 4 (tokens 64–79) is past the prefix: unique content, never shared.
    expect(blockKey(a, 0, 4, 16, false)).toBe(-1)
  })

  it("a block straddling the end of a prefix is not the prefix's (its content differs between prompts)", () => {
    const a = request(0, 300, 5, { prefixes: [{ id: 1, length: 70 }] })
    expect(blockKey(a, 0, 3, 16, false)).toBeGreaterThanOrEqual(0) // tokens 48–63
    expect(blockKey(a, 0, 4, 16, false)).toBe(-1) // tokens 64–79 straddle 70
  })

  it("the key of a block is the narrowest prefix level covering it: a longer level shares the shorter one's blocks", () => {
    const a = request(0, 300, 5, { prefixes: [system, user] })
    const sysOnly = request(0, 300, 5, { prefixes: [system] })
    expect(blockKey(a, 0, 1, 16, false)).toBe(blockKey(sysOnly, 1, 1, 16, false))
    // Blocks 4–9 are the user's own level: not the system prompt's, not another user's.
    const other = request(0, 300, 5, { prefixes: [system, { id: 3, length: 160 }] })
    expect(blockKey(a, 0, 5, 16, false)).not.toBe(blockKey(other, 1, 5, 16, false))
    expect(blockKey(a, 0, 5, 16, false)).not.toBe(blockKey(sysOnly, 1, 5, 16, false))
  })

  it("a conversation's content id continues past its prefixes, so later turns share earlier ones' blocks", () => {
    const turn1 = request(0, 100, 50, { prefixes: [system], contentId: 9 })
    const turn2 = request(5, 250, 50, { prefixes: [system], contentId: 9 })
    expect(blockKey(turn1, 0, 5, 16, false)).toBe(blockKey(turn2, 1, 5, 16, false))
    expect(blockKey(turn1, 0, 5, 16, false)).not.toBe(-1)
    expect(shareableTokens(turn1)).toBe(Number.POSITIVE_INFINITY)
  })

  it("a unique prompt's own blocks have a key only when asked for (self-hits after preemption), distinct per request", () => {
    const r = request(0, 100, 5)
    expect(blockKey(r, 3, 0, 16, false)).toBe(-1)
    const own = blockKey(r, 3, 0, 16, true)
    expect(own).toBeGreaterThanOrEqual(0)
    expect(blockKey(r, 4, 0, 16, true)).not.toBe(own)
    expect(blockKey(r, 3, 1, 16, true)).not.toBe(own)
  })

  it("shareableTokens is the longest prefix level, 0 without any", () => {
    expect(shareableTokens(request(0, 300, 5, { prefixes: [system, user] }))).toBe(160)
    expect(shareableTokens(request(0, 300, 5))).toBe(0)
  })
})

describe("PrefixCache", () => {
  it("counts readers: a block is referenced while anyone reads it and evictable after the last release", () => {
    const c = new PrefixCache()
    c.insertReferenced(10)
    expect(c.numReferenced).toBe(1)
    c.acquire(10)
    c.release(10)
    expect(c.isEvictable(10)).toBe(false)
    expect(c.numReferenced).toBe(1)
    c.release(10)
    expect(c.isEvictable(10)).toBe(true)
    expect(c.numReferenced).toBe(0)
    expect(c.numEvictable).toBe(1)
    expect(c.has(10)).toBe(true)
    // A hit on a free cached block takes it out of the evictable set.
    c.acquire(10)
    expect(c.isEvictable(10)).toBe(false)
    expect(c.numReferenced).toBe(1)
    expect(c.numEvictable).toBe(0)
  })

  it("refuses to release a block nobody reads or to acquire an unknown one (a bookkeeping bug, not input)", () => {
    const c = new PrefixCache()
    expect(() => c.acquire(1)).toThrow(/unknown block/)
    c.insertEvictable(1)
    expect(() => c.release(1)).toThrow(/unreferenced/)
  })

  it("evicts the least recently freed block first; a block re-acquired and freed again moves to the back", () => {
    const c = new PrefixCache()
    for (const k of [1, 2, 3]) c.insertReferenced(k)
    c.release(2)
    c.release(1)
    c.release(3)
    c.acquire(2)
    c.release(2) // order now 1, 3, 2
    const evicted: number[] = []
    while (c.numEvictable > 0) {
      const before = [1, 2, 3].filter((k) => c.has(k))
      expect(c.evictOne()).toBe(true)
      evicted.push(before.find((k) => !c.has(k))!)
    }
    expect(evicted).toEqual([1, 3, 2])
    expect(c.evictOne()).toBe(false)
  })

  it("never evicts a referenced block", () => {
    const c = new PrefixCache()
    c.insertReferenced(1)
    c.insertEvictable(2)
    expect(c.evictOne()).toBe(true)
    expect(c.has(1)).toBe(true)
    expect(c.has(2)).toBe(false)
    expect(c.evictOne()).toBe(false)
  })
})
