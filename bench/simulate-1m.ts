// Reference benchmark (issue 2 §7): 1,000,000 requests of Llama-3.1-8B on one H100-SXM, ShareGPT-like
// lengths, Poisson arrivals at ~90% of the engine's saturation throughput. Prints simulated requests
// per wall-second, simulated seconds per wall-second and peak RSS. Usage:
//   npm run bench [-- --requests N]
import { Effect } from "effect"
import { buildSimSpec } from "../src/scenario/resolve.ts"
import { loadScenario } from "../src/cli/load-scenario.ts"
import { simulate } from "../src/sim/simulate.ts"
import { summarize } from "../src/sim/summary.ts"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const numRequests = arg("--requests", 1_000_000)
const base = { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", isl: "sharegpt", osl: "sharegpt", seed: "1" }

let peakRss = 0
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}
const timer = setInterval(sampleRss, 50)

// 1. Saturation throughput: a closed loop far past the knee.
const saturation = await Effect.runPromise(loadScenario(undefined, { ...base, concurrency: 2048, numRequests: 40_000 }))
const sat = summarize(simulate(buildSimSpec(saturation)))
const maxRate = sat.request_throughput as number
const rate = 0.9 * maxRate

// 2. The reference run.
const resolved = await Effect.runPromise(loadScenario(undefined, { ...base, rate, numRequests }))
const spec = buildSimSpec(resolved)
const t0 = performance.now()
const result = simulate(spec)
const t1 = performance.now()
const s = summarize(result)
const t2 = performance.now()
sampleRss()
clearInterval(timer)

const wall = (t2 - t0) / 1000
console.log(`saturation throughput ${maxRate.toFixed(2)} req/s (closed loop, 2048 in flight); offered ${rate.toFixed(2)} req/s`)
console.log(`simulated ${s.completed} requests, ${(s.simulated_time as number).toFixed(0)} simulated s, ${s.num_steps} engine steps`)
console.log(`mean batch ${(s.mean_batch_size as number).toFixed(1)}, mean TTFT ${(s.mean_ttft_ms as number).toFixed(1)} ms, mean TPOT ${(s.mean_tpot_ms as number).toFixed(2)} ms`)
console.log(`wall ${wall.toFixed(2)} s (simulate ${((t1 - t0) / 1000).toFixed(2)} s + summarize ${((t2 - t1) / 1000).toFixed(2)} s)`)
console.log(`simulated requests per wall-second: ${(numRequests / wall).toFixed(0)}`)
console.log(`simulated seconds per wall-second: ${((s.simulated_time as number) / wall).toFixed(0)}`)
console.log(`peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB`)
