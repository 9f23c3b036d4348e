import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { SweepResult } from "../../src/econ/sweep-result.ts"
import { runCli, runCliAsync as runAsync } from "./cli-helpers.ts"

const tmp = mkdtempSync(join(tmpdir(), "servesim-sweep-"))

const STAT_KEYS = ["mean", "stdev", "ciLow", "ciHigh", "n"]

describe("servesim sweep", () => {
  it("runs a small grid on worker threads: mean and 95% CI over seeds, costs, flags; JSON, --out and CSV; deterministic", async () => {
    const out = join(tmp, "grid.json")
    const csv = join(tmp, "grid.csv")
    const args = ["sweep", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "a800-sxm", "--tp", "1,2", "--concurrency", "4,16", "--seeds", "3", "--num-requests", "60", "--workers", "2", "--json"]
    const [a, b] = await Promise.all([runAsync([...args, "--out", out, "--csv", csv]), runAsync(args)])
    expect(a.status).toBe(0)
    expect(a.stderr).toMatch(/4 points × 3 seeds = 12 runs on 2 worker threads/)
    const r = JSON.parse(a.stdout) as SweepResult
    expect(r.format).toBe("servesim-sweep-result")
    expect(r.points).toHaveLength(4)
    expect(r.series).toHaveLength(2)
    expect(r.points.map((p) => [p.config.tp, p.config.load.value])).toEqual([
      [1, 4],
      [1, 16],
      [2, 4],
      [2, 16],
    ])
    for (const p of r.points) {
      expect(p.seeds).toEqual([0, 1, 2])
      expect(p.config.numGpus).toBe(p.config.tp)
      expect(p.config.model).toBe("Qwen/Qwen2.5-7B-Instruct")
      for (const [key, stat] of Object.entries(p.metrics)) {
        expect(Object.keys(stat).sort(), key).toEqual([...STAT_KEYS].sort())
        expect(stat.n, key).toBe(3)
        expect(stat.ciLow, key).toBeLessThanOrEqual(stat.mean)
        expect(stat.mean, key).toBeLessThanOrEqual(stat.ciHigh)
      }
      expect(p.metrics.completed.mean).toBe(60)
      expect(p.cost.usdPerMOutput.n).toBe(3)
      expect(p.cost.usdPerMOutput.mean).toBeGreaterThan(0)
      expect(p.timeline?.time.length ?? 0).toBeGreaterThan(0)
    }
    // Owned-cost defaults for the A800 (≈ $0.79/h) when no cost is given.
    expect(r.gpuCosts[0]?.breakdown.total).toBeCloseTo(0.786, 2)
    const meeting = r.points.filter((p) => p.flags.meetsSlo)
    const optimal = r.points.filter((p) => p.flags.optimal)
    if (meeting.length > 0) {
      expect(optimal).toHaveLength(1)
      const cheapest = Math.min(...meeting.map((p) => p.cost.usdPerMOutput.mean))
      expect(optimal[0]?.cost.usdPerMOutput.mean).toBe(cheapest)
      expect(r.summary.optimalPointId).toBe(optimal[0]?.id)
    }
    expect(r.summary.paretoPointIds.length).toBeGreaterThan(0)
    // --out holds the same RESULTS.json; the CSV has one row per point.
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(r)
    const rows = readFileSync(csv, "utf8").trim().split("\n")
    expect(rows).toHaveLength(5)
    expect(rows[0]).toMatch(/^id,series,model,gpu,num_gpus,tp,pp,replicas,/)
    expect(rows[0]).toMatch(/mean_ttft_ms,mean_ttft_ms_ci_low,mean_ttft_ms_ci_high/)
    // Same inputs, same output (b ran concurrently, without --out/--csv, which do not enter the result).
    expect(b.status).toBe(0)
    const rb = JSON.parse(b.stdout) as SweepResult
    expect({ ...rb, createdBy: "" }).toEqual({ ...r, createdBy: "" })
  })

  it("runs the A800 paper scenario (its sweep block and $0.79/h) and `report` renders the result", () => {
    const out = join(tmp, "a800.json")
    const html = join(tmp, "a800.html")
    const s = runCli(["sweep", "scenarios/a800-paper.json", "--concurrency", "8,32", "--seeds", "2", "--num-requests", "120", "--out", out])
    expect(s.status).toBe(0)
    expect(s.stdout).toMatch(/arXiv 2510\.26136/)
    expect(s.stdout).toMatch(/a800-sxm: \$0\.7900 per GPU-hour/)
    expect(s.stdout).toMatch(/saturation point:/)
    expect(s.stdout).toMatch(/SLA boundary:/)
    expect(s.stdout).toMatch(/optimal operating point/)
    expect(s.stdout).toMatch(/Pareto set/)
    const r = JSON.parse(readFileSync(out, "utf8")) as SweepResult
    expect(r.points.map((p) => p.config.load.value)).toEqual([8, 32])
    expect(r.points.every((p) => p.config.tp === 2 && p.config.numGpus === 2 && p.config.gpu === "a800-sxm")).toBe(true)
    expect(r.gpuCosts[0]?.breakdown.total).toBe(0.79)
    // Run cost = $0.79 × 2 GPUs × duration / 3600 (the paper's 1.58 · T/3600).
    const p = r.points[0]!
    expect(p.cost.runCostUsd.mean).toBeCloseTo((1.58 * p.metrics.duration.mean) / 3600, 9)
    const rep = runCli(["report", out, "--out", html])
    expect(rep.status).toBe(0)
    expect(existsSync(html)).toBe(true)
    expect(readFileSync(html, "utf8")).toMatch(/<svg/)
  })

  it("sweeps what-ifs: speculative acceptance and weight precision as lists, prompt-cache share", async () => {
    const [spec, prefix] = await Promise.all([
      runAsync(["sweep", "--spec-method", "ngram", "--spec-tokens", "3", "--spec-acceptance", "0,0.8", "--precision", "bf16,fp8", "--concurrency", "8", "--seeds", "1", "--num-requests", "60", "--workers", "0", "--json", "--quiet"]),
      runAsync(["sweep", "--prefix-share", "0,0.8", "--prefix-groups", "2", "--isl", "2000", "--osl", "50", "--concurrency", "8", "--seeds", "1", "--num-requests", "60", "--workers", "0", "--json", "--quiet"]),
    ])
    expect(spec.status).toBe(0)
    expect(spec.stderr).toBe("")
    const r = JSON.parse(spec.stdout) as SweepResult
    expect(r.points).toHaveLength(4)
    const tpot = (precision: string, a: number) =>
      r.points.find((p) => p.config.extra?.precision === precision && p.config.extra?.spec === `ngram k=3 a=${a}`)?.metrics.mean_tpot_ms.mean ?? Number.NaN
    for (const precision of ["bf16", "fp8"]) expect(tpot(precision, 0.8)).toBeLessThan(0.8 * tpot(precision, 0))
    expect(tpot("fp8", 0)).toBeLessThan(tpot("bf16", 0))
    expect(new Set(r.series.map((s) => s.id)).size).toBe(4)

    expect(prefix.status).toBe(0)
    const q = JSON.parse(prefix.stdout) as SweepResult
    const [none, shared] = q.points
    expect(none?.config.extra?.prefixShare).toBe(0)
    expect(shared?.config.extra?.prefixShare).toBe(0.8)
    // Same prompt tokens, most of them cached: a shorter time to first token.
    expect(shared?.metrics.total_input_tokens.mean).toBe(none?.metrics.total_input_tokens.mean)
    expect(shared!.metrics.mean_ttft_ms.mean).toBeLessThan(0.6 * none!.metrics.mean_ttft_ms.mean)
  })

  /** Each case exits 2 with one line on stderr matching its pattern, and prints nothing on stdout. */
  const expectOneLineFailures = async (cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]>) => {
    const runs = await Promise.all(cases.map(([args]) => runAsync(["sweep", ...args, "--quiet"])))
    runs.forEach((r, i) => {
      const [args, re] = cases[i]!
      const what = args.join(" ")
      expect(r.status, what).toBe(2)
      expect(r.stdout, what).toBe("")
      expect(r.stderr.trim().split("\n"), what).toHaveLength(1)
      expect(r.stderr, what).toMatch(re)
    })
  }

  it("a grid of --max-concurrency caps × --request-rate rates: each point arrivals at its rate, at most its cap in flight", () => {
    const common = ["--dataset-name", "random", "--random-input-len", "256", "--random-output-len", "32", "--num-prompts", "80"]
    const csv = join(tmp, "caps.csv")
    const r = runCli(["sweep", "--request-rate", "2,50", "--max-concurrency", "2,64", ...common, "--seeds", "1", "--workers", "0", "--quiet", "--json", "--csv", csv])
    expect(r.status, r.stderr).toBe(0)
    const res = JSON.parse(r.stdout) as SweepResult
    // Caps outer, rates inner: one series per cap, its curve over the rates.
    expect(res.points.map((p) => [p.config.load.kind, p.config.load.value, p.config.load.maxConcurrency])).toEqual([
      ["rate", 2, 2],
      ["rate", 50, 2],
      ["rate", 2, 64],
      ["rate", 50, 64],
    ])
    expect(res.series.map((s) => s.label)).toEqual([expect.stringMatching(/c≤2$/), expect.stringMatching(/c≤64$/)])
    expect(res.points.map((p) => p.label)).toEqual([expect.stringMatching(/2 req\/s c≤2$/), expect.stringMatching(/50 req\/s c≤2$/), expect.stringMatching(/2 req\/s c≤64$/), expect.stringMatching(/50 req\/s c≤64$/)])
    // Each point is exactly simulate's run of that rate and cap.
    for (const p of res.points) {
      const sim = JSON.parse(runCli(["simulate", "--json", "--request-rate", String(p.config.load.value), "--max-concurrency", String(p.config.load.maxConcurrency), ...common]).stdout) as Record<string, number>
      expect(p.metrics.request_throughput.mean, p.label).toBeCloseTo(sim.request_throughput!, 6)
      expect(p.metrics.mean_ttft_ms.mean, p.label).toBeCloseTo(sim.mean_ttft_ms!, 6)
    }
    // The cap binds at 50 req/s (two in flight cannot keep up), not at 64 in flight.
    const tput = res.points.map((p) => p.metrics.request_throughput.mean)
    expect(tput[1]!).toBeLessThan(tput[3]! * 0.7)
    // The table labels rate and cap; the CSV has the cap as its own column.
    const table = runCli(["sweep", "--request-rate", "2,50", "--max-concurrency", "2,64", ...common, "--seeds", "1", "--workers", "0", "--quiet"]).stdout
    expect(table).toMatch(/p02\s+50\/s c≤2 /)
    expect(table).toMatch(/p04\s+50\/s c≤64 /)
    const [head, ...rows] = readFileSync(csv, "utf8").trim().split("\n")
    const col = head!.split(",").indexOf("max_concurrency")
    expect(rows.map((row) => row.split(",")[col])).toEqual(["2", "2", "64", "64"])
  })

  it("bad list flags exit 2 with one line", async () => {
    await expectOneLineFailures([
      [["--concurrency", "8,x"], /--concurrency: "x" is not a positive integer/],
      [["--rate", "1,2", "--max-concurrency", "4,x"], /--concurrency: "x" is not a positive integer/],
      [["--rate", "1,2", "--max-concurrency", "4", "--concurrency", "8"], /--max-concurrency 4 and --concurrency 8 name the same setting/],
      [["--concurrency", "8", "--seeds", "0"], /--seeds: "0" is not a positive integer/],
      [["--concurrency", "8", "--tp", "1,0"], /--tp: "0" is not a positive integer/],
      [["--concurrency", "8", "--precision", "bf16,int3"], /--precision: "int3" is not one of/],
      [["--concurrency", "8", "--num-requests", "0"], /--num-requests/],
    ])
  })

  it("bad SLOs, costs, grids and sweep blocks exit 2 with one line", async () => {
    const badBlock = join(tmp, "bad-sweep.json")
    writeFileSync(badBlock, JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", sweep: { concurrency: [8, 16], sedes: 3 } }))
    const badCost = join(tmp, "bad-cost.json")
    writeFileSync(badCost, JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", cost: { usdPerGpuHour: "cheap" } }))
    await expectOneLineFailures([
      [["--concurrency", "8", "--slo", "ttft:abc"], /SLO ttft "abc" must be a positive number/],
      [["--concurrency", "8", "--cloud-price", "-1"], /--cloud-price must be USD per GPU-hour ≥ 0/],
      [["--concurrency", "8", "--tp", "2", "--max-gpus", "1"], /no grid point can run: .*more than --max-gpus 1/],
      [["--concurrency", "8", "--gpu", "nope"], /--gpu: unknown GPU "nope" \(built-ins: /],
      [[badBlock], /sweep\.sedes/],
      [[badCost, "--concurrency", "8"], /cost\.usdPerGpuHour/],
    ])
  })
})
