// The CPU tier of vLLM's native KV offloading (--kv-offloading-size; OffloadingConnector,
// vllm/distributed/kv_transfer/kv_connector/v1/offloading/scheduler.py with vllm/v1/kv_offload/cpu):
// host memory holding copies of full KV blocks, keyed like the GPU prefix cache, evicted least
// recently used first when a store needs room (vllm/v1/kv_offload/cpu/policies/lru.py).
//
// Stores: vLLM offloads every block as it fills (_get_reqs_to_store walks each scheduled request's
// new full blocks; prepare_store skips those already offloaded and touch refreshes recency). A block
// can only be missing from the GPU after its request has freed it, so the simulator writes a request's
// full blocks when the request frees them (finish or preemption): the same content reaches the tier;
// stores are asynchronous copies in vLLM and cost no step time here either.
// Loads: after the GPU prefix-cache hit, get_num_new_matched_tokens looks up the following blocks in
// the tier; the consecutive hits are copied back to the GPU instead of recomputed. vLLM copies them
// between steps while the request waits; here the copy time is added to the step that admits it.
export class CpuKvTier {
  readonly capacityBlocks: number
  /** Seconds to copy one block host → GPU (block bytes / host-link bandwidth). */
  readonly loadSecondsPerBlock: number
  /** Blocks in LRU order (Map iteration order: least recently stored or touched first). */
  private readonly blocks = new Map<number, true>()
  numStored = 0
  numEvicted = 0
  numLoadedBlocks = 0

  constructor(capacityBlocks: number, loadSecondsPerBlock: number) {
    this.capacityBlocks = capacityBlocks
    this.loadSecondsPerBlock = loadSecondsPerBlock
  }

  get size(): number {
    return this.blocks.size
  }

  has(key: number): boolean {
    return this.blocks.has(key)
  }

  /** Writes a block (or refreshes its recency when already there), evicting the LRU block when full. */
  store(key: number): void {
    if (this.blocks.delete(key)) {
      this.blocks.set(key, true)
      return
    }
    if (this.capacityBlocks <= 0) return
    if (this.blocks.size >= this.capacityBlocks) {
      const lru = this.blocks.keys().next()
      if (lru.done !== true) {
        this.blocks.delete(lru.value)
        this.numEvicted++
      }
    }
    this.blocks.set(key, true)
    this.numStored++
  }

  /** A block read back to the GPU counts as a use (vLLM's lookup touches the hit blocks). */
  touch(key: number): void {
    if (this.blocks.delete(key)) this.blocks.set(key, true)
  }
}
