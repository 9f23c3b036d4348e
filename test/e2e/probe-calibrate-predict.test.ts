// The whole loop, as a user runs it: a twin server with a hidden "true" profile unlike the shipped
// defaults; probe a concurrency sweep; calibrate on it; predict a concurrency that was not probed;
// probe that concurrency too and compare. Every step is the real CLI in its own process.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { defaultCoefficients, defaultOverheads } from "../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { runCli } from "../cli/cli-helpers.ts"
import { startTwinProcess } from "./twin-process.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-loop-"))
const MODEL = "meta-llama/Llama-3.1-70B-Instruct"
const DEPLOYMENT = ["--model", MODEL, "--gpu", "h100-sxm", "--tp", "4", "--num-gpu-blocks", "6000", "--max-num-seqs", "64", "--max-model-len", "4096"]
const ISL = "2048"
const OSL = "32"

/** A "true" deployment unlike the defaults: slower weight streaming, faster GEMMs, more fixed latency and API time. */
const writeTrueProfile = (): string => {
  const c: Record<string, number> = { ...defaultCoefficients(lookupGpu("h100-sxm")!) }
  c.weightRead = c.weightRead! * 1.5
  c.moeExpertWeight = c.moeExpertWeight! * 1.5
  for (const k of ["gemmCompute", "gemmComputeLowPrecision", "attentionCompute", "elementwise", "moeCompute"]) c[k] = c[k]! * 0.8
  for (const k of ["layerLaunch", "stepOverhead", "gemmKernelLatency", "allReduceLatency"]) c[k] = c[k]! * 1.6
  const path = join(dir, "true-profile.json")
  writeFileSync(
    path,
    JSON.stringify({
      kind: "servesim-profile",
      version: 1,
      model: MODEL,
      gpu: "h100-sxm",
      tp: 4,
      pp: 1,
      precision: "bf16",
      coefficients: c,
      overheads: { ...defaultOverheads, ingressBase: 0.006 },
    }),
  )
  return path
}

const probe = (url: string, concurrency: number, numRequests: number): Record<string, number> => {
  const out = join(dir, `run-c${concurrency}`)
  const r = runCli(["probe", "--url", url, "--model", MODEL, "--concurrency", String(concurrency), "--isl", ISL, "--osl", OSL, "--num-requests", String(numRequests), "--scrape-interval", "0", "--out", out], 600_000)
  if (r.status !== 0) throw new Error(`probe c=${concurrency} failed: ${r.stderr}`)
  const summaries = readdirSync(join(out, "points"))
  return JSON.parse(readFileSync(join(out, "points", summaries[0]!), "utf8")) as Record<string, number>
}

const relErr = (predicted: number, measured: number): number => Math.abs(predicted - measured) / measured

describe("probe → calibrate → predict against the twin", () => {
  it("predicts an unprobed concurrency within 5% (throughput, TPOT) and 10% (TTFT)", async () => {
    const truth = writeTrueProfile()
    const { url, proc: twin } = await startTwinProcess([...DEPLOYMENT, "--profile", truth, "--time-scale", "1"])
    try {
      for (const [c, n] of [[2, 16], [4, 24], [16, 64]] as const) probe(url, c, n)
      const profile = join(dir, "calibrated.json")
      const cal = runCli(["calibrate", join(dir, "run-c2"), join(dir, "run-c4"), join(dir, "run-c16"), "--gpu", "h100-sxm", "--tp", "4", "--model", MODEL, "--out", profile], 900_000)
      expect(cal.stderr.replace(/^warning: .*\n/gm, "")).toBe("")
      expect(cal.status).toBe(0)
      const measured = probe(url, 8, 40)
      const sim = runCli(["simulate", "--json", ...DEPLOYMENT, "--profile", profile, "--concurrency", "8", "--num-requests", "40", "--isl", ISL, "--osl", OSL])
      expect(sim.status).toBe(0)
      const predicted = JSON.parse(sim.stdout) as Record<string, number>
      const errors = {
        output_throughput: relErr(predicted.output_throughput!, measured.output_throughput!),
        mean_tpot_ms: relErr(predicted.mean_tpot_ms!, measured.mean_tpot_ms!),
        mean_ttft_ms: relErr(predicted.mean_ttft_ms!, measured.mean_ttft_ms!),
      }
      console.log("loop errors at c=8:", JSON.stringify(errors), "predicted", predicted.mean_ttft_ms, predicted.mean_tpot_ms, "measured", measured.mean_ttft_ms, measured.mean_tpot_ms)
      expect(errors.output_throughput).toBeLessThan(0.05)
      expect(errors.mean_tpot_ms).toBeLessThan(0.05)
      expect(errors.mean_ttft_ms).toBeLessThan(0.1)
      // The defaults alone would miss the hidden profile: the loop is doing the work.
      const uncalibrated = JSON.parse(runCli(["simulate", "--json", ...DEPLOYMENT, "--concurrency", "8", "--num-requests", "40", "--isl", ISL, "--osl", OSL]).stdout) as Record<string, number>
      const uncalibratedTpotErr = relErr(uncalibrated.mean_tpot_ms!, measured.mean_tpot_ms!)
      console.log(`uncalibrated TPOT error ${(uncalibratedTpotErr * 100).toFixed(1)}%`)
      expect(uncalibratedTpotErr).toBeGreaterThan(0.1)
    } finally {
      twin.kill("SIGTERM")
    }
  }, 1_800_000)
})

