// sweep with a calibrated profile that carries an uncertainty block: every point of RESULTS.json gets
// prediction intervals around its metrics, the table prints them beside TTFT/TPOT, the report draws
// them as bars on the TTFT and TPOT vs load plots; a profile without the block gives none.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { countLayerMarks } from "../../src/report/render-svg.ts"
import { runCli } from "./cli-helpers.ts"
import { INTERVAL_MODEL, LONG, makeIntervalProfile } from "./interval-profile.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-sweepint-"))
const SWEEP = ["sweep", ...INTERVAL_MODEL, "--rate", "2,8", "--num-requests", "30", "--isl", "256", "--osl", "32", "--workers", "0", "--quiet"]

interface Point {
  readonly id: string
  readonly metrics: Record<string, { mean: number }>
  readonly intervals?: { level: number; draws: number; method: string; metrics: Record<string, [number, number]> }
}

describe("sweep prediction intervals", () => {
  let profile = ""
  beforeAll(() => {
    profile = makeIntervalProfile(dir).profile
  }, LONG)

  it("each point's intervals contain its mean; the table and the report show them; no block, no intervals", () => {
    const out = join(dir, "results.json")
    // One seed: the point's mean is the first-seed run the intervals are centred on.
    const r = runCli([...SWEEP, "--seeds", "1", "--profile", profile, "--interval-draws", "4", "--out", out], LONG)
    expect(r.status, r.stderr).toBe(0)
    const points = (JSON.parse(readFileSync(out, "utf8")) as { points: Point[] }).points
    expect(points).toHaveLength(2)
    for (const p of points) {
      expect(p.intervals).toMatchObject({ level: 0.9, draws: 4, method: "bootstrap" })
      for (const f of ["mean_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "mean_e2el_ms"]) {
        const [lo, hi] = p.intervals!.metrics[f]!
        expect(lo, `${p.id} ${f}`).toBeLessThanOrEqual(p.metrics[f]!.mean)
        expect(hi, `${p.id} ${f}`).toBeGreaterThanOrEqual(p.metrics[f]!.mean)
        expect(hi).toBeGreaterThan(lo)
      }
    }
    expect(r.stdout).toMatch(/90% prediction interval about the first seed's run from 4 parameter draws \(bootstrap\)/)
    expect(r.stdout.match(/\d \[[\d.]+, [\d.]+\]/g)).toHaveLength(4)

    const html = join(dir, "report.html")
    const rep = runCli(["report", out, "--out", html])
    expect(rep.status, rep.stderr).toBe(0)
    const page = readFileSync(html, "utf8")
    // One bar per point on each of the TTFT and TPOT plots.
    expect(countLayerMarks(page, "prediction_interval")).toBe(4)
    expect(page).toMatch(/90% prediction intervals \(4 parameter draws \(bootstrap\)/)

    // The same profile without its uncertainty block: no intervals, no bars.
    const { uncertainty: _u, ...plain } = JSON.parse(readFileSync(profile, "utf8")) as Record<string, unknown>
    const plainPath = join(dir, "plain.json")
    writeFileSync(plainPath, JSON.stringify(plain))
    const plainOut = join(dir, "plain-results.json")
    expect(runCli([...SWEEP, "--seeds", "1", "--profile", plainPath, "--out", plainOut], LONG).status).toBe(0)
    for (const p of (JSON.parse(readFileSync(plainOut, "utf8")) as { points: Point[] }).points) expect(p).not.toHaveProperty("intervals")
    const plainHtml = join(dir, "plain.html")
    expect(runCli(["report", plainOut, "--out", plainHtml]).status).toBe(0)
    expect(countLayerMarks(readFileSync(plainHtml, "utf8"), "prediction_interval")).toBe(0)

    // Shards carry runs, not intervals: one line, exit 2.
    const shard = runCli([...SWEEP, "--profile", profile, "--shard", "0/2", "--out", join(dir, "part.json")])
    expect(shard.status).toBe(2)
    expect(shard.stderr.trim().split("\n")).toHaveLength(1)
    expect(shard.stderr).toMatch(/--shard: prediction intervals .* are not computed for shards/)
  }, LONG)
})
