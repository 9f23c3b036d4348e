import { openLoopWorkload } from "../src/sim/workload/synthetic.ts"
import { sharegptInput, sharegptOutput } from "../src/sim/workload/lengths.ts"
import { simulate } from "../src/sim/simulate.ts"
import { summarize } from "../src/sim/summary.ts"
import { fcfs } from "../src/sim/scheduling-policy.ts"
import { roundRobin } from "../src/sim/router.ts"
import { zeroOverheads, type BatchShape } from "../src/hw/types.ts"
const n = Number(process.argv[2] ?? 100000)
const rate = Number(process.argv[3] ?? 40)
const stepTime = { name: "t", overheads: zeroOverheads, stepTime: (b: BatchShape) => Math.max(0.006 + 2.5e-9 * b.decodeContextTokens*131072/1e6*1000 , 16e9*b.numTokens/0.7e15) + 0.002 + 1e-5*b.numReqs }
const wl = openLoopWorkload({ seed: 1, arrival: { kind: "rate", rate }, numRequests: n, input: sharegptInput, output: sharegptOutput })
const t0 = performance.now()
const r = simulate({ engine: { maxNumSeqs: 1024, maxNumBatchedTokens: 8192, maxModelLen: 131072, blockSize: 16, numGpuBlocks: 30000, enableChunkedPrefill: true, enablePrefixCaching: true, longPrefillTokenThreshold: 0 }, replicas: 1, router: roundRobin(), policy: fcfs, stepTime, workload: wl, warmupRequests: 0 })
const t1 = performance.now()
const s = summarize(r)
const t2 = performance.now()
console.log({ wall: (t1 - t0) / 1000, summarize: (t2 - t1) / 1000, reqPerSec: n / ((t2 - t0) / 1000), simTime: s.duration, steps: s.num_steps, batch: s.mean_batch_size, ttft: s.mean_ttft_ms, tpot: s.mean_tpot_ms, thr: s.request_throughput, rss: process.memoryUsage().rss / 1e6 })
