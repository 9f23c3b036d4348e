// `servesim validate <folder>`: a synthetic benchmark folder whose actuals are the simulation itself
// (errors 0) or the simulation +10% (errors −9.09%), the error paths, and the real sim2real folder.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { benchmarkItl, countedOutputFraction, parseActuals, stageSummary } from "../../src/calibrate/benchmark-folder.ts"
import { runCli } from "../cli/cli-helpers.ts"
import { IN_CI, dataPath, hasData, skipReason } from "../hw/shared-data.ts"
import { LATENCY_METRICS } from "../../src/sim/bench-summary.ts"
import type { BenchFields } from "../../src/sim/metrics.ts"

const METRICS = ["e2e_mean", "e2e_p90", "e2e_p99", "itl_mean", "ttft_mean", "ttft_p90", "ttft_p99"] as const
const HEADER = "experiment,model,stage_index,e2e_mean_ms,e2e_p90_ms,e2e_p99_ms,itl_mean_ms,ttft_mean_ms,ttft_p90_ms,ttft_p99_ms"
const MODEL = "meta-llama/Llama-3.1-8B-Instruct"

interface Report {
  rows: Array<{ experiment: string; stage: number; errorPct: Record<string, number>; predicted: Record<string, number> }>
  overall: Record<string, { medianAbsPct: number; n: number }>
  byModel: Record<string, Record<string, { medianAbsPct: number; n: number }>>
  duplicatesDropped: number
  unmatched: string[]
}

/** A summary with every vllm bench field 0 but the ones given. */
const benchSummary = (o: Partial<BenchFields>): BenchFields => {
  const zero: Record<string, number> = { completed: 0, failed: 0, duration: 0, total_input_tokens: 0, total_output_tokens: 0, request_throughput: 0, output_throughput: 0, total_token_throughput: 0, mean_queue_time_ms: 0, median_queue_time_ms: 0, p99_queue_time_ms: 0 }
  for (const m of LATENCY_METRICS) for (const p of ["mean", "median", "std", "p50", "p90", "p95", "p99"]) zero[`${p}_${m}_ms`] = 0
  return { ...(zero as BenchFields), ...o }
}

describe("benchmark-folder pieces", () => {
  it("benchmark ITL divides the decode span by the counted output tokens less one", () => {
    const s = { mean_e2el_ms: 2600, mean_ttft_ms: 100, completed: 10, total_output_tokens: 2470 }
    expect(benchmarkItl(s, 1)).toBeCloseTo(2500 / 246, 9)
    // Llama-2's client counted 195 of 247 generated tokens (the folder README).
    expect(countedOutputFraction("meta-llama/Llama-2-7b-hf")).toBeCloseTo(195 / 247, 12)
    expect(countedOutputFraction("codellama/CodeLlama-34b-Instruct-hf")).toBeCloseTo(195 / 247, 12)
    expect(countedOutputFraction(MODEL)).toBe(1)
    expect(benchmarkItl(s, 195 / 247)).toBeCloseTo(2500 / 194, 9)
  })

  it("stage −1 is the whole run; a single-stage run's stage 0 is the whole run", () => {
    const whole = { ...benchSummary({ mean_e2el_ms: 1 }), stages: [{ ...benchSummary({ mean_e2el_ms: 2 }), stage: 0, requests_generated: 1 }, { ...benchSummary({ mean_e2el_ms: 3 }), stage: 1, requests_generated: 1 }] }
    expect(stageSummary(whole, -1)).toBe(whole)
    expect(stageSummary(whole, 1)?.["mean_e2el_ms"]).toBe(3)
    expect(stageSummary(whole, 2)).toBeUndefined()
    const single = benchSummary({ mean_e2el_ms: 1 })
    expect(stageSummary(single, 0)).toBe(single)
    expect(stageSummary(single, 1)).toBeUndefined()
  })

  it("actuals: repeated experiment/stage rows count once; a bad cell names row and column", () => {
    const row = "x,m,0,1,2,3,4,5,6,7"
    const ok = parseActuals([HEADER, row, row, "x,m,-1,1,2,3,4,5,6,7"].join("\n"), "a.csv")
    expect(typeof ok).not.toBe("string")
    if (typeof ok === "string") return
    expect(ok.rows.map((r) => r.stage)).toEqual([0, -1])
    expect(ok.duplicatesDropped).toBe(1)
    expect(parseActuals([HEADER, "x,m,0,1,2,3,abc,5,6,7"].join("\n"), "a.csv")).toBe('a.csv:2: itl_mean_ms "abc" is not a positive number')
    expect(parseActuals("experiment,model\nx,m\n", "a.csv")).toMatch(/^a\.csv: missing column stage_index/)
  })
})

describe("servesim validate <folder>", () => {
  const root = mkdtempSync(join(tmpdir(), "servesim-benchfolder-"))
  const folder = join(root, "tiny-bench")
  mkdirSync(join(folder, "scenarios"), { recursive: true })
  mkdirSync(join(folder, "workloads"), { recursive: true })
  const workload = {
    data: { type: "shared_prefix", shared_prefix: { num_unique_system_prompts: 2, num_users_per_system_prompt: 2, system_prompt_len: 64, question_len: 128, output_len: 24 } },
    load: { type: "constant", stages: [{ rate: 2, duration: 8 }, { rate: 4, duration: 8 }] },
    api: { streaming: true, type: "completion" },
    ignore_eos: true,
  }
  writeFileSync(join(folder, "workloads", "w.json"), JSON.stringify(workload))
  const scenario = (file: string) => ({ model: MODEL, gpu: "h100-sxm", tp: 1, precision: "bf16", workload: { file, inferencePerfDefaults: true }, seed: 0 })
  // "exact" names the workload by absolute path; "plus10" as the folder's own scenarios do, by a path
  // through the folder's name that only exists once rebased onto the folder.
  const exactPath = join(folder, "scenarios", "exact.json")
  writeFileSync(exactPath, JSON.stringify(scenario(join(folder, "workloads", "w.json"))))
  writeFileSync(join(folder, "scenarios", "plus10.json"), JSON.stringify(scenario("../elsewhere/tiny-bench/workloads/w.json")))
  const sim = JSON.parse(runCli(["simulate", exactPath, "--json"]).stdout) as Record<string, unknown> & { stages: Array<Record<string, number>> }
  const line = (experiment: string, stage: number, s: Record<string, unknown>, scale: number): string => {
    const v = (k: string) => Number(s[k]) * scale
    return [experiment, MODEL, stage, v("mean_e2el_ms"), v("p90_e2el_ms"), v("p99_e2el_ms"), benchmarkItl(s, 1) * scale, v("mean_ttft_ms"), v("p90_ttft_ms"), v("p99_ttft_ms")].join(",")
  }
  const rows = (experiment: string, scale: number) => [line(experiment, -1, sim, scale), line(experiment, 0, sim.stages[0]!, scale), line(experiment, 1, sim.stages[1]!, scale)]
  writeFileSync(join(folder, "actuals.csv"), [HEADER, ...rows("exact", 1), rows("exact", 1)[0]!, ...rows("plus10", 1.1), line("ghost", -1, sim, 1)].join("\n") + "\n")

  it("joins every stage; actuals from the simulation give 0 error, actuals +10% give −9.09%", () => {
    expect(sim.stages).toHaveLength(2)
    const r = runCli(["validate", folder, "--json"])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const report = JSON.parse(r.stdout) as Report
    expect(report.rows.map((x) => `${x.experiment}#${x.stage}`)).toEqual(["exact#-1", "exact#0", "exact#1", "plus10#-1", "plus10#0", "plus10#1"])
    for (const row of report.rows)
      for (const m of METRICS) expect(row.errorPct[m]!, `${row.experiment}#${row.stage} ${m}`).toBeCloseTo(row.experiment === "exact" ? 0 : (1 / 1.1 - 1) * 100, 6)
    expect(report.rows[1]!.predicted["e2e_mean"]).toBeCloseTo(sim.stages[0]!["mean_e2el_ms"]!, 6)
    // Median of three 0s and three 9.09s.
    for (const m of METRICS) expect(report.overall[m]).toEqual({ medianAbsPct: expect.closeTo(((1 - 1 / 1.1) * 100) / 2, 6), n: 6 })
    expect(Object.keys(report.byModel)).toEqual([MODEL])
    expect(report.duplicatesDropped).toBe(1)
    expect(report.unmatched).toEqual(["ghost: actuals without a scenario"])
  })

  it("prints the signed table and the median table", () => {
    const r = runCli(["validate", folder])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^plus10\s+1\s+-9\.1\s+-9\.1/m)
    expect(r.stdout).toMatch(/^overall\s+6\s+4\.5\s/m)
    expect(r.stdout).toMatch(/not compared: ghost: actuals without a scenario/)
  })

  it("a folder without actuals.csv and scenarios/ is one line, exit 2", () => {
    const empty = mkdtempSync(join(tmpdir(), "servesim-notbench-"))
    const r = runCli(["validate", empty])
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(/needs actuals\.csv and scenarios\//)
  })
})

const TRAINVAL = ["serving", "sim2real-trainval"] as const
const haveTrainval = hasData(...TRAINVAL, "actuals.csv")

describe.skipIf(!haveTrainval)(`the sim2real trainval folder ${haveTrainval ? "" : skipReason(...TRAINVAL)}`, () => {
  // ≈ 9 CPU-s, 150 s of wall time at load 20 on 2 cores: the limit is for a hung run, not a busy host.
  it("simulates all 13 experiments and joins their 34 distinct stage rows", () => {
    const r = runCli(["validate", dataPath(...TRAINVAL), "--json"], 600_000)
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const report = JSON.parse(r.stdout) as Report
    expect(new Set(report.rows.map((x) => x.experiment)).size).toBe(13)
    expect(report.rows).toHaveLength(34)
    expect(report.duplicatesDropped).toBe(6) // the Llama-2-7B codegen run, listed under three labels
    expect(report.unmatched).toEqual([])
    expect(Object.keys(report.byModel)).toHaveLength(6)
    for (const row of report.rows) for (const m of METRICS) expect(Number.isFinite(row.errorPct[m]), `${row.experiment}#${row.stage} ${m}`).toBe(true)
    for (const m of METRICS) expect(report.overall[m]!.n).toBe(34)
  }, 300_000) // ~10 CPU-s; the child process's own limit governs, not vitest's 60 s default on a loaded machine
})

it.runIf(!haveTrainval && IN_CI)(`CI requires ${dataPath(...TRAINVAL)}`, () => {
  expect(haveTrainval).toBe(true)
})
