// servesim plan and prediction intervals as a user meets them: calibrate writes the uncertainty, simulate
// with that profile prints intervals, plan prints a monthly table with its flip month; bad input is one
// line and exit 2.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { countLayerMarks, renderSvg } from "../../src/report/render-svg.ts"
import { planCostSpec } from "../../src/report/plan-chart.ts"
import { capacityPlan } from "../../src/econ/capacity-plan.ts"
import { runCli } from "./cli-helpers.ts"
import { INTERVAL_MODEL, LONG, makeIntervalProfile } from "./interval-profile.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-plan-"))
const MODEL = INTERVAL_MODEL

const oneLine = (r: { status: number | null; stderr: string }, pattern: RegExp) => {
  expect(r.status).toBe(2)
  expect(r.stderr.trim().split("\n")).toHaveLength(1)
  expect(r.stderr).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

const LOAD = ["--rate", "4", "--num-requests", "40", "--isl", "256", "--osl", "32", "--interval-draws", "4"]

describe("prediction intervals end to end", () => {
  const bench = join(dir, "bench.json")
  const profilePath = join(dir, "profile.json")

  beforeAll(() => {
    makeIntervalProfile(dir)
  }, LONG)

  it("calibrate writes an uncertainty block; simulate --json puts an interval around each headline metric", () => {
    const profile = JSON.parse(readFileSync(profilePath, "utf8")) as { uncertainty: { method: string; knobs: string[]; covariance: number[][]; residualSd: Record<string, number> } }
    expect(profile.uncertainty.method).toBe("bootstrap")
    expect(profile.uncertainty.covariance).toHaveLength(profile.uncertainty.knobs.length)
    expect(profile.uncertainty.residualSd.ttft).toBeGreaterThan(0)
    const sim = runCli(["simulate", "--json", ...MODEL, "--profile", profilePath, ...LOAD])
    expect(sim.status).toBe(0)
    const s = JSON.parse(sim.stdout) as Record<string, unknown>
    expect(s.prediction_interval).toMatchObject({ level: 0.9, draws: 4, method: "bootstrap" })
    for (const f of ["mean_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "mean_e2el_ms", "output_throughput"]) {
      const [lo, hi] = s[`${f}_interval`] as [number, number]
      expect(lo).toBeLessThanOrEqual(s[f] as number)
      expect(hi).toBeGreaterThanOrEqual(s[f] as number)
    }
    const [lo, hi] = s.mean_ttft_ms_interval as [number, number]
    expect(hi).toBeGreaterThan(lo)
    // A wider level gives a wider interval.
    const wide = JSON.parse(runCli(["simulate", "--json", ...MODEL, "--profile", profilePath, ...LOAD, "--interval-level", "0.99"]).stdout) as Record<string, unknown>
    const [wlo, whi] = wide.mean_ttft_ms_interval as [number, number]
    expect(wlo).toBeLessThan(lo)
    expect(whi).toBeGreaterThan(hi)
  }, LONG)

  it("the table prints the intervals and --report draws one error bar per latency metric; a profile without the block still loads", () => {
    const html = join(dir, "intervals.html")
    const table = runCli(["simulate", ...MODEL, "--profile", profilePath, ...LOAD, "--report", html])
    expect(table.status).toBe(0)
    expect(table.stdout).toMatch(/prediction intervals \(90%, 4 parameter draws \(bootstrap\)/)
    expect(table.stdout).toMatch(/TTFT mean\s+[\d.]+ ms \[[\d.]+, [\d.]+\]/)
    expect(countLayerMarks(readFileSync(html, "utf8"), "interval")).toBe(12)

    const { uncertainty: _u, ...plain } = JSON.parse(readFileSync(profilePath, "utf8")) as Record<string, unknown>
    const plainPath = join(dir, "plain.json")
    writeFileSync(plainPath, JSON.stringify(plain))
    const none = runCli(["simulate", "--json", ...MODEL, "--profile", plainPath, "--num-requests", "20"])
    expect(none.status).toBe(0)
    expect(JSON.parse(none.stdout)).not.toHaveProperty("mean_ttft_ms_interval")
    oneLine(runCli(["simulate", ...MODEL, "--profile", plainPath, "--num-requests", "20", "--report", join(dir, "x.html")]), /--report: draws the prediction intervals, which need a --profile with an uncertainty block/)
    oneLine(runCli(["simulate", ...MODEL, "--profile", profilePath, "--num-requests", "20", "--interval-draws", "1"]), /--interval-draws: 1 draw gives no spread/)
    oneLine(runCli(["simulate", ...MODEL, "--interval-level", "1.5"]), /interval-level/)
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ ...plain, uncertainty: { method: "jacobian", knobs: ["per-step"], covariance: [[-1]], residualSd: {}, residuals: 3 } }))
    oneLine(runCli(["simulate", ...MODEL, "--profile", join(dir, "bad.json"), "--num-requests", "20"]), /uncertainty\.covariance\[0\]\[0\]: a variance must be ≥ 0/)
  }, LONG)

  it("calibrate --uncertainty jacobian --coverage: a covariance without samples, every held-out point-metric a case", () => {
    const boot = runCli(["calibrate", bench, ...MODEL, "--out", join(dir, "jac.json"), "--uncertainty", "jacobian", "--coverage", "--json"], LONG)
    expect(boot.status).toBe(0)
    const bj = JSON.parse(boot.stdout) as { profile: { uncertainty: { method: string; samples?: number[][]; covariance: number[][] } }; coverage: { cases: number; coverage: Record<string, number> } }
    expect(bj.profile.uncertainty.method).toBe("jacobian")
    expect(bj.profile.uncertainty.samples).toBeUndefined()
    expect(bj.profile.uncertainty.covariance.length).toBeGreaterThan(1)
    expect(bj.coverage.cases).toBe(9)
    for (const b of ["jacobian", "bootstrap", "residual-only"]) expect(bj.coverage.coverage[b]).toBeGreaterThanOrEqual(0)
    oneLine(runCli(["calibrate", bench, ...MODEL, "--out", join(dir, "x.json"), "--coverage", "--no-cv"]), /--coverage: checks intervals on the leave-one-out fits/)
    oneLine(runCli(["calibrate", bench, ...MODEL, "--out", join(dir, "x.json"), "--uncertainty", "guess"]), /--uncertainty/)
  }, LONG)
})

describe("servesim plan", () => {
  it("plans months from a growth curve: GPUs grow with demand, the flip month is printed and in the JSON", () => {
    const args = ["plan", ...MODEL, "--isl", "256", "--osl", "64", "--num-requests", "200", "--start-rate", "2", "--growth", "60%/month", "--months", "8"]
    const r = runCli([...args, "--json", "--api-price", "0.2/0.2", "--api-price-decline", "0%/year", "--report", join(dir, "plan.html")], 300_000)
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as {
      capacity: { requestsPerSecond: number }
      plan: { months: Array<{ gpus: number; demand: number; cheapest: string; cost: Record<string, number> }>; flips: Array<{ month: number; from: string; to: string }> }
    }
    expect(j.capacity.requestsPerSecond).toBeGreaterThan(1)
    const gpus = j.plan.months.map((m) => m.gpus)
    expect([...gpus].sort((a, b) => a - b)).toEqual(gpus)
    for (const m of j.plan.months) expect(m.gpus).toBe(Math.ceil(m.demand / (0.8 * j.capacity.requestsPerSecond) - 1e-9))
    // API cost grows with demand at a fixed price, the owned fleet by whole GPUs: the API stops being cheapest.
    expect(j.plan.months[0]!.cheapest).toBe("api")
    expect(j.plan.flips.length).toBeGreaterThan(0)
    expect(j.plan.flips[0]!.from).toBe("api")
    expect(readFileSync(join(dir, "plan.html"), "utf8")).toMatch(/<svg/)
    const table = runCli([...args, "--api-price", "0.2/0.2", "--api-price-decline", "0%/year"], 300_000)
    expect(table.stdout).toMatch(/month \d+: the cheapest choice flips from api to (owned|cloud)/)
    expect(table.stdout).toMatch(/apiPriceDecline = 0%\/year — --api-price-decline/)
  }, LONG)

  it("bad input is one line and exit 2", () => {
    oneLine(runCli(["plan", ...MODEL, "--start-rate", "1", "--growth", "fast"]), /--growth: "fast" is not a rate/)
    oneLine(runCli(["plan", ...MODEL, "--demand", "1,x,3"]), /--demand: entry 2 "x" is not a request rate/)
    oneLine(runCli(["plan", ...MODEL]), /--demand or --start-rate/)
    oneLine(runCli(["plan", ...MODEL, "--demand", "1", "--headroom", "1"]), /headroom/)
    oneLine(runCli(["plan", ...MODEL, "--demand", "1", "--api-price-decline", "100%/year", "--num-requests", "50"]), /--api-price-decline: "100%\/year": a decline must be below 100%/)
  }, LONG)

  it("the cost chart draws one line per option and a rule per flip month", async () => {
    const plan = capacityPlan({
      demand: [1, 2, 4, 8], capacityPerReplica: 2, gpusPerReplica: 1, headroom: 0, inputTokensPerRequest: 100, outputTokensPerRequest: 0,
      cloudUsdPerGpuHour: 1, cloudYearlyDecline: 0, purchasePrice: 7300, purchaseYearlyDecline: 0, amortisationYears: 1, powerUsdPerGpuHour: 0,
      maintenanceRate: 0, apiInputPerM: 2, apiOutputPerM: 0, apiYearlyFactor: 1,
    })
    const svg = await renderSvg(planCostSpec(plan), "t")
    expect(countLayerMarks(svg, "flips")).toBe(1)
    expect(svg).toMatch(/self-hosted \(owned\)/)
  })
})
