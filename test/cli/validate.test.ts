import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "./cli-helpers.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-validate-"))
const HEADER =
  "source,engine,engine_version,gpu,model,precision,tp,pp,mode,workload,isl,osl,concurrency,request_rate,num_requests,max_num_seqs,max_num_batched_tokens,ttft_mean_ms,ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,tpot_mean_ms,tpot_p50_ms,tpot_p90_ms,tpot_p99_ms,itl_mean_ms,e2e_mean_ms,e2e_p50_ms,e2e_p90_ms,e2e_p99_ms,request_throughput,output_throughput,input_throughput"
const row = (id: string, engine: string, c: number, ttft: number, tpot: number) =>
  `fixture:${id},${engine},0.15.1,h100-sxm,meta-llama/Llama-3.1-8B-Instruct,bf16,1,1,agg,random-fixed,512,64,${c},,80,,,${ttft},,,,${tpot},,,,,,,,,,,`

describe("servesim validate", () => {
  it("simulates each vLLM row of a measurement table and reports per-row and median errors", () => {
    const csv = join(dir, "fixture.csv")
    writeFileSync(csv, [HEADER, row("a", "vllm", 4, 40, 8), row("b", "vllm", 16, 90, 10), row("c", "sglang", 16, 50, 9)].join("\n") + "\n")
    const r = runCli(["validate", csv, "--json"])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const report = JSON.parse(r.stdout) as {
      points: number
      rows: Array<{ load: string; comparisons: Array<{ metric: string; measuredMs: number; predictedMs: number; errorPct: number }> }>
      medianAbsErrorPct: Record<string, { medianAbsPct: number; n: number }>
    }
    expect(report.points).toBe(2) // the sglang row is left out
    expect(report.rows.map((x) => x.load)).toEqual(["c=4", "c=16"])
    // The prediction is exactly what simulate gives for that setting.
    const sim = JSON.parse(runCli(["simulate", "--json", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm", "--concurrency", "4", "--num-requests", "80", "--isl", "512", "--osl", "64", "--seed", "0"]).stdout) as Record<string, number>
    const tpot = report.rows[0]!.comparisons.find((c) => c.metric === "tpot")!
    expect(tpot.measuredMs).toBe(8)
    expect(tpot.predictedMs).toBeCloseTo(sim.mean_tpot_ms!, 6)
    expect(tpot.errorPct).toBeCloseTo(((sim.mean_tpot_ms! - 8) / 8) * 100, 6)
    const errs = report.rows.map((x) => Math.abs(x.comparisons.find((c) => c.metric === "ttft")!.errorPct)).sort((a, b) => a - b)
    expect(report.medianAbsErrorPct.ttft!.medianAbsPct).toBeCloseTo((errs[0]! + errs[1]!) / 2, 9)
    expect(report.medianAbsErrorPct.ttft!.n).toBe(2)
  })

  it("simulates an InferenceX row as its client sent it unless --harness says otherwise", () => {
    const csv = join(dir, "inferencex.csv")
    const ix = `aiconfigurator-silicon:2026_04_06_llama_3_1_8b_h100_sxm_vllm_agg_512x64_c8_tp1_ep1_1,vllm,0.18.0,h100-sxm,meta-llama/Llama-3.1-8B-Instruct,bf16,1,1,agg,random-fixed,512,64,8,,,,,40,,,,8,,,,,,,,,,,`
    writeFileSync(csv, [HEADER, ix].join("\n") + "\n")
    type Report = { rows: Array<{ harness: string; comparisons: Array<{ metric: string; predictedMs: number }> }> }
    const auto = JSON.parse(runCli(["validate", csv, "--json"]).stdout) as Report
    const fixed = JSON.parse(runCli(["validate", csv, "--json", "--harness", "fixed"]).stdout) as Report
    expect(auto.rows[0]!.harness).toBe("inferencex")
    expect(fixed.rows[0]!.harness).toBe("fixed")
    const ttft = (r: Report) => r.rows[0]!.comparisons.find((c) => c.metric === "ttft")!.predictedMs
    expect(ttft(auto)).not.toBeCloseTo(ttft(fixed), 3)
    const text = runCli(["validate", csv])
    expect(text.stdout).toMatch(/1 InferenceX/)
    const bad = runCli(["validate", csv, "--harness", "genai-perf"])
    expect(bad.status).toBe(2)
    expect(bad.stderr.trim().split("\n")).toHaveLength(1)
  })

  it("a malformed table is one line naming the row and field, exit 2", () => {
    const csv = join(dir, "bad.csv")
    writeFileSync(csv, [HEADER, row("a", "vllm", 4, 40, 8).replace(",512,", ",lots,")].join("\n") + "\n")
    const r = runCli(["validate", csv])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/isl/)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
  })
})
