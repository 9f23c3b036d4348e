import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "./cli-helpers.ts"

const dataDir = join(import.meta.dirname, "../../../shared/data")
const haveData = existsSync(dataDir)
if (!haveData && process.env.CI === "true") throw new Error(`../shared/data is missing at ${dataDir}: CI must have it`)
const tmp = mkdtempSync(join(tmpdir(), "servesim-cli-"))

describe("servesim simulate", () => {
  it("runs the default scenario and prints a readable table", () => {
    const r = runCli(["simulate"])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/Llama-3.1-8B/)
    expect(r.stdout).toMatch(/TTFT/)
    expect(r.stdout).toMatch(/TPOT/)
    expect(r.stdout).toMatch(/\b1000\b/) // completed requests
  })

  it("--json prints vllm-bench fields; the same seed gives byte-identical output, another seed differs", () => {
    const args = ["simulate", "--json", "--num-requests", "300", "--concurrency", "16"]
    const a = runCli([...args, "--seed", "5"])
    const b = runCli([...args, "--seed", "5"])
    const c = runCli([...args, "--seed", "6"])
    expect(a.status).toBe(0)
    // The result's date is the run's wall-clock time (vllm's metadata); everything else is the seed's.
    const undated = (s: string) => s.replace(/"date": "\d{8}-\d{6}"/, '"date": ""')
    expect(undated(a.stdout)).toBe(undated(b.stdout))
    expect(undated(a.stdout)).not.toBe(undated(c.stdout))
    const j = JSON.parse(a.stdout) as Record<string, unknown>
    for (const k of ["completed", "duration", "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput", "total_token_throughput"])
      expect(typeof j[k]).toBe("number")
    for (const m of ["ttft", "tpot", "itl", "e2el"])
      for (const s of ["mean", "median", "std", "p50", "p90", "p95", "p99"]) expect(typeof j[`${s}_${m}_ms`]).toBe("number")
    expect(j.completed).toBe(300)
  })

  it("flags override the scenario file, and --out writes the JSON result", () => {
    const out = join(tmp, "result.json")
    const r = runCli(["simulate", "--gpu", "a800-sxm", "--model", "Qwen/Qwen2.5-7B-Instruct", "--tp", "2", "--rate", "5", "--num-requests", "200", "--isl", "512", "--osl", "128", "--goodput", "ttft:500", "tpot:50", "--out", out])
    expect(r.status).toBe(0)
    expect(existsSync(out)).toBe(true)
    const j = JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>
    const cfg = j.config as Record<string, unknown>
    expect(cfg.gpu).toBe("a800-sxm")
    expect(cfg.tp).toBe(2)
    expect(j.total_input_tokens).toBe(200 * 512)
    expect(typeof j.request_goodput).toBe("number")
  })

  it("prices the run: GPU time split into $/1M input and output tokens, proportional to the GPU-hour price", () => {
    const args = ["simulate", "--json", "--num-requests", "200", "--concurrency", "8"]
    const a = JSON.parse(runCli([...args, "--cloud-price", "2"]).stdout) as { cost: Record<string, number>; duration: number; total_output_tokens: number }
    const b = JSON.parse(runCli([...args, "--cloud-price", "4"]).stdout) as { cost: Record<string, number> }
    expect(a.cost.runCostUsd).toBeCloseTo((2 * a.duration) / 3600, 9)
    expect(b.cost.runCostUsd).toBeCloseTo(2 * a.cost.runCostUsd!, 9)
    expect(a.cost.usdPerMOutput).toBeGreaterThan(0)
    // Input and output shares add back up to the whole run.
    const inTok = (a as unknown as Record<string, number>).total_input_tokens!
    expect((a.cost.usdPerMInput! * inTok + a.cost.usdPerMOutput! * a.total_output_tokens) / 1e6).toBeCloseTo(a.cost.runCostUsd!, 9)
    expect(runCli([...args, "--cloud-price", "abc"]).status).toBe(2)
  })

  it("--stages runs rate stages back to back and reports each (inference-perf's constant load)", () => {
    const r = runCli(["simulate", "--json", "--stages", "4:10,12:10", "--isl", "128", "--osl", "32"])
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as { completed: number; stages: Array<{ stage: number; completed: number }> }
    expect(j.stages.map((s) => s.completed)).toEqual([40, 120])
    expect(j.completed).toBe(160)
    const bad = runCli(["simulate", "--stages", "4:x"])
    expect(bad.status).toBe(2)
    expect(bad.stderr.trim().split("\n")).toHaveLength(1)
    expect(bad.stderr).toMatch(/--stages/)
  })

  it("a bad scenario file gets one clear line per problem, exit code 2 and no stack trace", () => {
    const bad = join(tmp, "bad.json")
    writeFileSync(bad, JSON.stringify({ model: "meta-llama/Llama-3.1-8B", gpu: "h100-sxm", tp: 0, engine: { maxNumSeqs: "many" }, workload: { concurrency: -1 }, typo: 1 }))
    const r = runCli(["simulate", bad])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/tp/)
    expect(r.stderr).toMatch(/engine\.maxNumSeqs/)
    expect(r.stderr).toMatch(/workload\.concurrency/)
    expect(r.stderr).toMatch(/typo/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
  })

  it("malformed JSON and unknown models or GPUs exit 2 with the cause", () => {
    const broken = join(tmp, "broken.json")
    writeFileSync(broken, '{ "model": ')
    expect(runCli(["simulate", broken]).status).toBe(2)
    const m = runCli(["simulate", "--model", "nobody/NoSuchModel-1B"])
    expect(m.status).toBe(2)
    expect(m.stderr).toMatch(/unknown model/)
    const g = runCli(["simulate", "--gpu", "tpu-v9"])
    expect(g.status).toBe(2)
    expect(g.stderr).toMatch(/unknown GPU/)
    const f = runCli(["simulate", "--tp", "zero"])
    expect(f.status).toBe(2)
  })

  it.skipIf(!haveData)("replays a per-request vLLM trace (RTX 4090, Llama-3.1-8B)", () => {
    const trace = join(dataDir, "serving/per-request-replays/RTX4090/Llama-3.1-8B/requests.jsonl")
    const r = runCli(["simulate", "--json", "--trace", trace, "--model", "meta-llama/Llama-3.1-8B", "--gpu", "rtx-4090", "--max-num-seqs", "256", "--max-num-batched-tokens", "2048", "--max-model-len", "32768", "--num-gpu-blocks", "2588"])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as Record<string, number>
    expect(j.completed).toBe(300)
    expect(j.failed).toBe(0)
  })
})
