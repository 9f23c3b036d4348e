// The whole loop, as a user runs it: a twin server with a hidden "true" profile unlike the shipped
// defaults; probe a concurrency sweep; calibrate on it; predict a concurrency that was not probed;
// probe that concurrency too and compare. Every step is the real CLI in its own process.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs"
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

interface Lag {
  readonly lagged: boolean
  readonly reason?: string
  readonly ttft_bias: number | null
  readonly e2el_bias: number | null
}
type Point = Record<string, number> & { readonly lag: Lag }

const probe = (url: string, concurrency: number, numRequests: number): Point => {
  const out = join(dir, `run-c${concurrency}`)
  const r = runCli(["probe", "--url", url, "--model", MODEL, "--concurrency", String(concurrency), "--isl", ISL, "--osl", OSL, "--num-requests", String(numRequests), "--scrape-interval", "0", "--out", out], 600_000)
  if (r.status !== 0) throw new Error(`probe c=${concurrency} failed: ${r.stderr}`)
  const summaries = readdirSync(join(out, "points"))
  return JSON.parse(readFileSync(join(out, "points", summaries[0]!), "utf8")) as Point
}

const relErr = (predicted: number, measured: number): number => Math.abs(predicted - measured) / measured

/** What the probe measured lag could have done to a point's metrics (fractions; 0 when not measured). */
const lagBias = (p: Point) => ({ ttft: p.lag.ttft_bias ?? 0, e2el: p.lag.e2el_bias ?? 0 })

describe("probe → calibrate → predict against the twin", () => {
  it("predicts an unprobed concurrency within 5% (throughput, TPOT) and 10% (TTFT)", async () => {
    const truth = writeTrueProfile()
    const { url, proc: twin } = await startTwinProcess([...DEPLOYMENT, "--profile", truth, "--time-scale", "1"])
    try {
      const fitted = ([[2, 16], [4, 24], [16, 64]] as const).map(([c, n]) => probe(url, c, n))
      const profile = join(dir, "calibrated.json")
      const cal = runCli(["calibrate", join(dir, "run-c2"), join(dir, "run-c4"), join(dir, "run-c16"), "--gpu", "h100-sxm", "--tp", "4", "--model", MODEL, "--out", profile], 600_000)
      const lagged = fitted.filter((p) => p.lag.lagged)
      console.log(`lag of the calibration points: ${fitted.map((p) => `ttft ${p.lag.ttft_bias?.toFixed(3)} e2el ${p.lag.e2el_bias?.toFixed(3)} lagged ${p.lag.lagged}`).join("; ")}`)
      if (lagged.length > 0) {
        // A host too busy to time the twin (the probe measured lag beyond its 10% bound): the loop's
        // accuracy cannot be measured here; what must hold is that calibrate does not fit those points —
        // it names each, and refuses with one line when none is left.
        for (const p of lagged) expect(p.lag.reason).toMatch(/lag/)
        expect(cal.stderr.match(/not fitted, lagged/g)?.length ?? 0).toBe(lagged.length)
        if (lagged.length === fitted.length) {
          expect(cal.status).toBe(2)
          expect(cal.stderr).toMatch(/all 3 measured points lagged/)
          expect(existsSync(profile)).toBe(false)
        } else expect(cal.status).toBe(0)
        console.log(`host too loaded to check the loop's accuracy: ${lagged.length} of 3 points lagged`)
        return
      }
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
      console.log("loop errors at c=8:", JSON.stringify(errors), "predicted", predicted.mean_ttft_ms, predicted.mean_tpot_ms, "measured", measured.mean_ttft_ms, measured.mean_tpot_ms, "lag", JSON.stringify(measured.lag))
      // The tolerances widen by the bias the probe measured: the lag in the c=8 measurement plus the most
      // any calibration point carried into the profile (each under the probe's 10% bound, or it would
      // not have been fitted). On an idle host that is well under 1%; a fit that is wrong by the
      // hidden profile's 50% still fails.
      const extra = {
        ttft: lagBias(measured).ttft + Math.max(...fitted.map((p) => lagBias(p).ttft)),
        e2el: lagBias(measured).e2el + Math.max(...fitted.map((p) => lagBias(p).e2el)),
      }
      // TTFT also gets one engine step (≈ the measured TPOT): a twin's arrival comes an HTTP round trip
      // after the response that freed its seat, and with async scheduling a request that misses the step
      // being formed joins the next one — a step the simulator's closed loop (next arrival at the same
      // instant) does not pay. Requests of one length then drift into other waves: on a slow CI host
      // (client lag p99 17 ms against 3 ms here) the c=8 TTFT rose 13% with the lag bias at 0.4%.
      const stepOfTtft = measured.mean_tpot_ms! / measured.mean_ttft_ms!
      const within = (base: number, bias: number, what: string) => [base + bias, `${what}: ${base * 100}% + ${(bias * 100).toFixed(1)}% (measured lag bias; for TTFT one step more)`] as const
      for (const [metric, base, bias] of [["output_throughput", 0.05, extra.e2el], ["mean_tpot_ms", 0.05, extra.e2el], ["mean_ttft_ms", 0.1, extra.ttft + stepOfTtft]] as const) {
        const [tol, msg] = within(base, bias, metric)
        expect(errors[metric], msg).toBeLessThan(tol)
      }
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
