// Reference benchmark (issue 2 §7, issue 10 §2): 1,000,000 requests of Llama-3.1-8B on one H100-SXM,
// ShareGPT-like lengths, Poisson arrivals at 90% of the engine's saturation throughput. Prints
//   1. in-process: simulate + summarize of the reference run — wall and CPU time, simulated requests
//      per wall-second and per CPU-second, peak RSS, and the load average (wall time is only the
//      engine's speed on an otherwise idle machine; CPU time is the figure to compare on a busy one);
//   2. whole process: `servesim simulate --json` of the same run, start-up included;
//   3. a scaling table — 10k, 100k, 1M, 10M requests, each in a fresh process: time per request and
//      peak RSS, so cost is seen to grow linearly.
// Usage: npm run bench [-- --requests N] [--scaling 10000,100000] [--no-scaling] [--no-whole-process]
// (bench/run.mjs bundles this file first; `npx tsx bench/simulate-1m.ts` runs it from source.)
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { buildSimSpec } from "../src/scenario/resolve.ts"
import { loadScenario } from "../src/cli/load-scenario.ts"
import { simulate } from "../src/sim/simulate.ts"
import { summarize } from "../src/sim/summary.ts"

const argv = process.argv.slice(2)
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const count = (name: string, fallback: number): number => {
  const v = arg(name)
  const n = v === undefined ? fallback : Number(v)
  if (!(Number.isInteger(n) && n > 0)) {
    console.error(`bench: ${name} expects a positive integer (got ${v})`)
    process.exit(2)
  }
  return n
}
const base = { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", isl: "sharegpt", osl: "sharegpt", seed: "1" }

interface Measured {
  readonly requests: number
  readonly completed: number
  readonly wallS: number
  readonly cpuS: number
  readonly maxRssMiB: number
}

/** simulate + summarize of `n` requests at `rate`, timed in this process. */
const measure = async (n: number, rate: number): Promise<Measured & { readonly summary: Record<string, unknown> }> => {
  const spec = buildSimSpec(await Effect.runPromise(loadScenario(undefined, { ...base, rate, numRequests: n })))
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const summary = summarize(simulate(spec))
  const wallS = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  return { requests: n, completed: summary.completed as number, wallS, cpuS: (c.user + c.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024, summary }
}

/** Saturation throughput: a closed loop far past the knee; the reference run offers 90% of it. */
const saturationThroughput = async (): Promise<number> =>
  summarize(simulate(buildSimSpec(await Effect.runPromise(loadScenario(undefined, { ...base, concurrency: 2048, numRequests: 40_000 }))))).request_throughput as number

// A child that finds the saturation throughput: run apart, because a 2048-seat closed loop makes V8
// discard and re-optimise the engine's code, which would slow the measured run after it by 0.1–0.2 s.
if (argv.includes("--saturation-child")) {
  console.log(JSON.stringify(await saturationThroughput()))
  process.exit(0)
}

// A child of the scaling table: one measurement, one JSON line.
const child = arg("--child")
if (child !== undefined) {
  const { summary: _summary, ...m } = await measure(count("--child", 1), Number(arg("--rate")))
  console.log(JSON.stringify(m))
  process.exit(0)
}

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")
const us = (s: number, n: number): string => ((s / n) * 1e6).toFixed(2)
const perSecond = (n: number, s: number): string => Math.round(n / s).toLocaleString("en-US")

// The repository root: this file is bench/simulate-1m.ts, or its bundle dist/bench/simulate-1m.mjs (bench/run.mjs).
const root = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../" : "../../", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "servesim-bench-"))
const rusageFile = join(scratch, "rusage.json")
/** Runs node with the rusage preload; returns wall time, its own CPU and peak RSS, and stdout. */
const runNode = (args: ReadonlyArray<string>): { wallS: number; cpuS: number; maxRssMiB: number; stdout: string } => {
  rmSync(rusageFile, { force: true })
  const t0 = performance.now()
  const r = spawnSync(process.execPath, ["--import", join(root, "bench/rusage.mjs"), ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 1 << 26,
    env: { ...process.env, SERVESIM_BENCH_RUSAGE: rusageFile },
  })
  const wallS = (performance.now() - t0) / 1000
  if (r.status !== 0) throw new Error(`bench: ${args.join(" ")} exited ${r.status}: ${r.stderr}`)
  const u = JSON.parse(readFileSync(rusageFile, "utf8")) as { userS: number; systemS: number; maxRssMiB: number }
  return { wallS, cpuS: u.userS + u.systemS, maxRssMiB: u.maxRssMiB, stdout: r.stdout }
}

const maxRate = JSON.parse(runNode([...process.execArgv, fileURLToPath(import.meta.url), "--saturation-child"]).stdout) as number
const rate = 0.9 * maxRate
const numRequests = count("--requests", 1_000_000)
console.log(`saturation throughput ${maxRate.toFixed(2)} req/s (closed loop, 2048 in flight); offered ${rate.toFixed(2)} req/s`)

console.log(`\n1. in-process, ${numRequests.toLocaleString("en-US")} requests (load average before: ${load()})`)
const ref = await measure(numRequests, rate)
const s = ref.summary
console.log(`simulated ${s.completed} requests, ${(s.simulated_time as number).toFixed(0)} simulated s, ${s.num_steps} engine steps`)
console.log(`mean batch ${(s.mean_batch_size as number).toFixed(1)}, mean TTFT ${(s.mean_ttft_ms as number).toFixed(1)} ms, mean TPOT ${(s.mean_tpot_ms as number).toFixed(2)} ms`)
console.log(`wall ${ref.wallS.toFixed(2)} s: ${perSecond(numRequests, ref.wallS)} simulated requests per wall-second, ${((s.simulated_time as number) / ref.wallS).toFixed(0)} simulated s per wall-second`)
console.log(`CPU ${ref.cpuS.toFixed(2)} s: ${perSecond(numRequests, ref.cpuS)} simulated requests per CPU-second (${us(ref.cpuS, numRequests)} µs a request)`)
console.log(`peak RSS ${ref.maxRssMiB.toFixed(0)} MiB (this process); load average after: ${load()}`)

if (!argv.includes("--no-whole-process")) {
  const cli = ["bin/servesim.js", "simulate", "--json", "--model", base.model, "--gpu", base.gpu, "--isl", base.isl, "--osl", base.osl, "--seed", base.seed]
  const args = [...cli, "--rate", String(rate), "--num-requests", String(numRequests)]
  console.log(`\n2. whole process: servesim simulate --json … --rate ${rate.toFixed(2)} --num-requests ${numRequests} (start-up included)`)
  const w = runNode(args)
  const out = JSON.parse(w.stdout) as Record<string, unknown>
  const same = out.completed === s.completed && out.mean_ttft_ms === s.mean_ttft_ms && out.p99_e2el_ms === s.p99_e2el_ms
  console.log(`wall ${w.wallS.toFixed(2)} s (${perSecond(numRequests, w.wallS)} requests per wall-second), CPU ${w.cpuS.toFixed(2)} s, peak RSS ${w.maxRssMiB.toFixed(0)} MiB; result ${same ? "equals" : "DIFFERS FROM"} the in-process run`)
}

if (!argv.includes("--no-scaling")) {
  const sizes = (arg("--scaling") ?? "10000,100000,1000000,10000000").split(",").map(Number)
  console.log(`\n3. scaling, each size in a fresh process (simulate + summarize; RSS includes the runtime)`)
  console.log("| requests | wall s | µs/request (wall) | CPU s | µs/request (CPU) | peak RSS MiB | load avg |")
  console.log("|---:|---:|---:|---:|---:|---:|---:|")
  for (const n of sizes) {
    const r = runNode([...process.execArgv, fileURLToPath(import.meta.url), "--child", String(n), "--rate", String(rate)])
    const m = JSON.parse(r.stdout) as Measured
    console.log(`| ${n.toLocaleString("en-US")} | ${m.wallS.toFixed(2)} | ${us(m.wallS, n)} | ${m.cpuS.toFixed(2)} | ${us(m.cpuS, n)} | ${m.maxRssMiB.toFixed(0)} | ${loadavg()[0]!.toFixed(1)} |`)
  }
}
rmSync(scratch, { recursive: true, force: true })
