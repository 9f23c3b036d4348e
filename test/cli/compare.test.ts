// `servesim compare` end to end: two policies on the same seeds with verdicts, a policy against itself
// (exactly zero differences), scenario files, refusals; and the premise of pairing: the same seed gives
// every variant the same arrivals and lengths.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { resolveScenario } from "../../src/scenario/resolve.ts"
import { decodeScenario } from "../../src/scenario/schema.ts"
import type { RequestSpec } from "../../src/sim/types.ts"
import { runCliAsync as runAsync } from "./cli-helpers.ts"

const tmp = mkdtempSync(join(tmpdir(), "servesim-compare-"))


// Queueing (8 seats, 20 req/s offered) with varied prompt lengths: the waiting order matters.
const LOAD = ["--rate", "20", "--num-requests", "150", "--isl", "uniform:32:2048", "--osl", "uniform:10:300", "--max-num-seqs", "8", "--workers", "0", "--quiet"]

interface CompareJson {
  format: string
  test: string
  seeds: Array<number | string>
  sameWorkload: boolean
  variants: Array<{ label: string; kind: string }>
  comparisons: Array<{
    baseline: string
    variant: string
    metrics: Array<{ metric: string; differences: number[]; verdict: string; headline: boolean; test: { p: number; meanDiff: number; ciLow: number; ciHigh: number; n: number; t: number | null } }>
  }>
}

describe("servesim compare", () => {
  it("fcfs vs spf on 5 paired seeds: table with verdicts, --json and --out; spf lowers mean TTFT", async () => {
    const out = join(tmp, "cmp.json")
    const [text, json] = await Promise.all([
      runAsync(["compare", "--policy", "fcfs", "--policy", "spf", "--seeds", "5", ...LOAD]),
      runAsync(["compare", "--policy", "fcfs", "--policy", "spf", "--seeds", "5", ...LOAD, "--json", "--out", out]),
    ])
    expect(text.stderr).toBe("")
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(/^compare: fcfs \(baseline\) vs spf on 5 seeds \(0…4\)/)
    expect(text.stdout).toMatch(/test: paired t-test/)
    expect(text.stdout).toMatch(/workloads: every variant served the same requests on each seed/)
    expect(text.stdout).toMatch(/^ {2}spf lowers mean TTFT by [\d.]+ ms \[[\d.]+, [\d.]+\], p (<|=) 0\.\d+$/m)
    expect(json.status).toBe(0)
    const r = JSON.parse(json.stdout) as CompareJson
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(r)
    expect(r.format).toBe("servesim-compare")
    expect(r.seeds).toEqual([0, 1, 2, 3, 4])
    expect(r.sameWorkload).toBe(true)
    const [c] = r.comparisons
    expect(c?.baseline).toBe("fcfs")
    const ttft = c?.metrics.find((m) => m.metric === "mean_ttft_ms")
    expect(ttft?.differences).toHaveLength(5)
    expect(ttft?.test.meanDiff).toBeLessThan(0)
    expect(ttft?.test.p).toBeLessThan(0.05)
    expect(ttft?.test.ciHigh).toBeLessThan(0)
    // Every headline verdict of the JSON is a line of the table.
    for (const m of c?.metrics ?? []) if (m.headline) expect(text.stdout).toContain(`  ${m.verdict}\n`.trimEnd())
  })

  it("a policy against itself: exactly zero differences on every metric and seed; goodput with --slo", async () => {
    const r = await runAsync(["compare", "--policy", "spf", "--policy", "spf", "--seeds", "3", ...LOAD, "--slo", "ttft:2000,tpot:50", "--json"])
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as CompareJson
    expect(j.variants.map((v) => v.label)).toEqual(["spf", "spf#2"])
    const ms = j.comparisons[0]?.metrics ?? []
    expect(ms.map((m) => m.metric)).toContain("request_goodput")
    for (const m of ms) {
      expect(m.differences, m.metric).toEqual([0, 0, 0])
      expect(m.test, m.metric).toMatchObject({ meanDiff: 0, ciLow: 0, ciHigh: 0, p: 1, t: 0 })
      if (m.headline) expect(m.verdict).toMatch(/^no difference in .* \(identical on every seed\)$/)
    }
  })

  it("scenario files as variants, paired on the first file's seeds", async () => {
    const base = { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", workload: { rate: 40, numRequests: 120, input: 512, output: 128 } }
    const a = join(tmp, "seqs8.json")
    const b = join(tmp, "seqs64.json")
    writeFileSync(a, JSON.stringify({ ...base, seed: 7, engine: { maxNumSeqs: 8 } }))
    writeFileSync(b, JSON.stringify({ ...base, seed: 100, engine: { maxNumSeqs: 64 } }))
    const r = await runAsync(["compare", a, b, "--seeds", "3", "--workers", "0", "--quiet", "--json"])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as CompareJson
    expect(j.seeds).toEqual([7, 8, 9])
    expect(j.variants.map((v) => [v.label, v.kind])).toEqual([["seqs8", "scenario"], ["seqs64", "scenario"]])
    expect(j.sameWorkload).toBe(true)
    const ttft = j.comparisons[0]?.metrics.find((m) => m.metric === "mean_ttft_ms")
    expect(ttft?.verdict).toMatch(/^seqs64 lowers mean TTFT by/)
  })

  it("bad input: one line, exit 2", async () => {
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
      [["--policy", "fcfs", "--policy", "spf", "--seeds", "1"], /--seeds 1: a paired comparison needs at least 2 seeds/],
      [["--policy", "fcfs", "--policy", "spf", "--seeds", "0"], /--seeds: "0" is not a positive integer/],
      [["--policy", "fcfs"], /compare needs two or more variants/],
      [["--policy", "fcfs", "--policy", "spf", "--router", "round-robin", "--router", "least-kv-usage"], /varies one thing at a time/],
      [["--router", "round-robin", "--router", "least-kv-usage"], /routers only differ with several replicas/],
      [["--router", "round-robin", "--router", "nope", "--replicas", "2"], /--router: unknown router "nope"/],
      [["--policy", "fcfs", "--policy", "lifo"], /unknown policy "lifo"/],
      [[join(tmp, "missing.json"), join(tmp, "missing2.json")], /cannot read .*missing\.json/],
    ]
    const runs = await Promise.all(cases.map(([args]) => runAsync(["compare", ...args, "--quiet"])))
    runs.forEach((r, i) => {
      const [args, re] = cases[i]!
      expect(r.status, args.join(" ")).toBe(2)
      expect(r.stdout, args.join(" ")).toBe("")
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1)
      expect(r.stderr, args.join(" ")).toMatch(re)
    })
  })

  it("--help names the test", async () => {
    const r = await runAsync(["compare", "--help"])
    expect(r.stdout).toMatch(/paired t-test/)
    expect(r.stdout).toMatch(/regularized incomplete beta/)
  })
})

describe("pairing premise", () => {
  const requests = async (scenario: Record<string, unknown>, seed: number): Promise<RequestSpec[]> => {
    const r = await Effect.runPromise(decodeScenario(scenario, "test").pipe(Effect.flatMap(resolveScenario)))
    const { workload } = r.makeWorkload(seed)
    const out: RequestSpec[] = []
    if (workload.kind === "open") for (let q = workload.next(); q !== undefined; q = workload.next()) out.push(q)
    else for (let i = 0; i < workload.numRequests; i++) out.push(workload.next(0))
    return out
  }
  const base = { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", replicas: 2 }

  it("the same seed gives every policy and router the same arrivals and lengths; another seed does not", async () => {
    for (const workload of [
      { rate: 10, numRequests: 200, input: { kind: "uniform", min: 32, max: 2048 }, output: "sharegpt" },
      { concurrency: 8, numRequests: 100, input: "sharegpt", output: { kind: "uniform", min: 1, max: 500 } },
    ]) {
      const fcfs = await requests({ ...base, workload, policy: "fcfs", router: "round-robin" }, 3)
      const spf = await requests({ ...base, workload, policy: "spf", router: "least-kv-usage" }, 3)
      expect(fcfs.length).toBeGreaterThan(50)
      expect(spf).toEqual(fcfs)
      const other = await requests({ ...base, workload, policy: "fcfs" }, 4)
      expect(other.map((q) => q.inputTokens)).not.toEqual(fcfs.map((q) => q.inputTokens))
    }
  })
})
