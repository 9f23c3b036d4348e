// The KV-transfer link between the prefill and decode pools of a P/D-disaggregated deployment (vLLM's
// KV connectors: NIXL over RDMA, P2P NCCL, LMCache). One link shared by every transfer: transfers are
// sent first come, first served, each occupying it for bytes / bandwidth, and each arrives a fixed
// latency after its last byte left (per-transfer setup and propagation, pipelined with later sends).
// So n transfers of b bytes offered together complete at k·b/bandwidth + latency, k = 1 … n.
export class KvTransferLink {
  /** Bytes per second. */
  readonly bandwidth: number
  /** Seconds added to every transfer. */
  readonly latency: number
  private freeAt = 0
  numTransfers = 0
  bytes = 0
  busyTime = 0
  /** Σ and max of the time transfers waited for the link before their first byte went. */
  waitSum = 0
  waitMax = 0

  constructor(bandwidth: number, latency: number) {
    this.bandwidth = bandwidth
    this.latency = latency
  }

  /** Queues a transfer of `bytes` offered at `now`; returns when it has fully arrived. */
  send(now: number, bytes: number): number {
    const start = this.freeAt > now ? this.freeAt : now
    const duration = bytes / this.bandwidth
    this.freeAt = start + duration
    const wait = start - now
    this.waitSum += wait
    if (wait > this.waitMax) this.waitMax = wait
    this.busyTime += duration
    this.bytes += bytes
    this.numTransfers++
    return this.freeAt + this.latency
  }
}
