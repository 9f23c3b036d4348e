// calibrate as a user meets it: --model names the architecture of a checkpoint whose id is not built
// in; a fit is reported with its quality, and --strict refuses an untrustworthy one.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { fitProblems } from "../../src/calibrate/calibrate.ts"
import { runCli } from "./cli-helpers.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-cal-"))

/** A vllm bench result list for a checkpoint servesim does not know, made from simulate --json. */
const benchFile = (): string => {
  const results = [1, 4].map((c) => {
    const r = runCli(["simulate", "--json", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm", "--precision", "fp8", "--concurrency", String(c), "--num-requests", String(10 * c), "--isl", "512", "--osl", "64"])
    expect(r.status).toBe(0)
    return { ...(JSON.parse(r.stdout) as Record<string, unknown>), model_id: "neuralmagic/Meta-Llama-3.1-8B-FP8", backend: "vllm" }
  })
  const path = join(dir, "bench.json")
  writeFileSync(path, JSON.stringify(results))
  return path
}

describe("calibrate --model as the architecture", () => {
  it("fits a bench file of neuralmagic/Meta-Llama-3.1-8B-FP8 with --model meta-llama/Llama-3.1-8B-Instruct", () => {
    const bench = benchFile()
    const out = join(dir, "profile.json")
    const r = runCli(["calibrate", bench, "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm", "--precision", "fp8", "--out", out, "--no-cv"], 900_000)
    expect(r.stderr).not.toMatch(/no measured points match/)
    expect(r.stderr).toMatch(/fitting neuralmagic\/Meta-Llama-3\.1-8B-FP8 with meta-llama\/Llama-3\.1-8B-Instruct's architecture/)
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/fit quality: median \|error\| TTFT [\d.]+%/)
    const profile = JSON.parse(readFileSync(out, "utf8")) as { precision: string; fittedOn: { model: string; measuredModels: string[]; gpu: string; tp: number } }
    expect(profile.precision).toBe("fp8")
    expect(profile.fittedOn).toMatchObject({ model: "meta-llama/Llama-3.1-8B-Instruct", measuredModels: ["neuralmagic/Meta-Llama-3.1-8B-FP8"], gpu: "h100-sxm", tp: 1 })
    // The profile on another deployment: one warning line on stderr.
    const sim = runCli(["simulate", "--model", "Qwen/Qwen3-32B", "--gpu", "a800-sxm", "--tp", "2", "--profile", out, "--num-requests", "20"])
    expect(sim.status).toBe(0)
    expect(sim.stderr.split("\n").filter((l) => l.startsWith("warning: profile")).length).toBe(1)
    expect(sim.stderr).toMatch(/fitted on meta-llama\/Llama-3\.1-8B-Instruct on h100-sxm tp=1 .*applied to Qwen\/Qwen3-32B on a800-sxm tp=2/)
    // The same deployment: no warning.
    const same = runCli(["simulate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm", "--precision", "fp8", "--profile", out, "--num-requests", "20"])
    expect(same.stderr).not.toMatch(/warning: profile/)
  })

  it("--strict refuses a fit whose measurements were made up, writing nothing", () => {
    const bench = JSON.parse(readFileSync(benchFile(), "utf8")) as Array<Record<string, number>>
    // TTFT 40× the physics at c=1 and TPOT ÷ 30 at c=4: no plausible multiplier explains both.
    bench[0]!.mean_ttft_ms = bench[0]!.mean_ttft_ms! * 40
    bench[1]!.mean_tpot_ms = bench[1]!.mean_tpot_ms! / 30
    const path = join(dir, "bad.json")
    writeFileSync(path, JSON.stringify(bench))
    const out = join(dir, "bad-profile.json")
    const r = runCli(["calibrate", path, "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm", "--precision", "fp8", "--out", out, "--no-cv", "--strict"], 900_000)
    expect(r.stderr).toMatch(/warning: the fit is not trustworthy/)
    expect(r.status).toBe(2)
    expect(existsSync(out)).toBe(false)
  })

  it("fitProblems: range and error bounds", () => {
    const fit = (e: number) => [{ metric: "ttft" as const, measuredMs: 100, predictedMs: 100 + e, errorPct: e }]
    expect(fitProblems({ knobs: { compute: 1.2 }, points: [{ source: "a", load: "c=1", fit: fit(3) }] })).toEqual([])
    expect(fitProblems({ knobs: { "kv-read": 0.0025 }, points: [{ source: "a", load: "c=1", fit: fit(3) }] })[0]).toMatch(/kv-read ×0.00250 is outside/)
    expect(fitProblems({ knobs: { compute: 1 }, points: [{ source: "a", load: "c=1", fit: fit(-84) }] })[0]).toMatch(/TTFT is 84.0%/)
  })
})
