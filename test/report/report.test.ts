import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { beforeAll, describe, expect, test } from "vitest"
import { costReport } from "../../src/scenario/cost-block.ts"
import { formatCostReport } from "../../src/cli/cost.ts"
import { buildReportFor, reportProgram } from "../../src/cli/report.ts"
import type { SweepResult } from "../../src/econ/sweep-result.ts"
import { buildReport, type BuiltReport } from "../../src/report/build-report.ts"
import { countLayerMarks, prefixSvgIds } from "../../src/report/render-svg.ts"
import { sampleSweepResult } from "../../src/report/sample-sweep.ts"
import { failure } from "./effect-failure.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-report-"))
const resultsPath = join(dir, "RESULTS.json")
const outPath = join(dir, "report.html")
let fixture: SweepResult
let built: BuiltReport
let html: string


beforeAll(async () => {
  fixture = sampleSweepResult()
  writeFileSync(resultsPath, JSON.stringify(fixture, null, 2))
  await Effect.runPromise(reportProgram(resultsPath, { out: outPath }))
  html = readFileSync(outPath, "utf8")
  built = await buildReport(fixture)
})

const svgOf = (id: string): string => {
  const m = new RegExp(`<figure class="chart" id="chart-${id}"[\\s\\S]*?(<svg[\\s\\S]*?</svg>)`).exec(html)
  return m?.[1] ?? ""
}

describe("servesim report", () => {
  test("writes one self-contained page with every plot as inline SVG", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true)
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!www\.w3\.org)/)
    const ids = [...html.matchAll(/<figure class="chart" id="chart-([a-z-]+)"/g)].map((m) => m[1])
    expect(ids).toEqual([
      "throughput-vs-load",
      "ttft-vs-load",
      "tpot-vs-load",
      "cost-vs-load",
      "throughput-frontier",
      "cost-frontier",
      "quality-frontier",
      "cost-breakdown",
      "sensitivity",
      "kv-timeline",
    ])
    for (const id of ids) expect(svgOf(id ?? "")).toMatch(/^<svg[^>]*width="\d+"[^>]*height="\d+"/)
  })

  test("load plots: one symbol per point, a saturation marker per saturated series, SLO lines", () => {
    const n = fixture.points.length
    const saturated = fixture.series.filter((s) => s.saturationPointId !== undefined).length
    for (const id of ["throughput-vs-load", "ttft-vs-load", "tpot-vs-load", "cost-vs-load"]) {
      const svg = svgOf(id)
      expect(countLayerMarks(svg, "points")).toBe(n)
      expect(countLayerMarks(svg, "ci")).toBe(n)
      expect(countLayerMarks(svg, "line")).toBe(fixture.series.length)
      expect(countLayerMarks(svg, "saturation")).toBe(saturated)
    }
    expect(saturated).toBe(3)
    expect(svgOf("ttft-vs-load")).toContain(`SLO ${fixture.slo.ttftMs} ms`)
    expect(svgOf("tpot-vs-load")).toContain(`SLO ${fixture.slo.tpotMs} ms`)
  })

  test("cost frontier: every point, the Pareto set ringed, the optimal point starred", () => {
    const svg = svgOf("cost-frontier")
    expect(countLayerMarks(svg, "points")).toBe(fixture.points.length)
    expect(countLayerMarks(svg, "pareto")).toBe(fixture.summary.paretoPointIds.length)
    expect(countLayerMarks(svg, "optimal")).toBe(1)
    expect(countLayerMarks(svg, "frontier")).toBe(1)
  })

  test("quality frontier, cost breakdown, tornado and KV timeline", () => {
    const q = fixture.quality?.rows ?? []
    expect(countLayerMarks(svgOf("quality-frontier"), "points")).toBe(q.length)
    expect(countLayerMarks(svgOf("quality-frontier"), "labels")).toBe(q.length)
    // Owned GPUs: three stacked segments each.
    expect(countLayerMarks(svgOf("cost-breakdown"), "points")).toBe(3 * fixture.gpuCosts.length)
    const rows = fixture.sensitivity?.rows.length ?? 0
    expect(rows).toBe(8) // seven cost parameters + simulated throughput
    expect(countLayerMarks(svgOf("sensitivity"), "points")).toBe(2 * rows)
    const timelines = fixture.points.filter((p) => p.timeline !== undefined).length
    expect(countLayerMarks(svgOf("kv-timeline"), "points")).toBe(timelines)
    for (const c of built.charts) expect(c.pointCount).toBeGreaterThan(0)
  })

  test("summary and tables name the optimal, saturation and SLA-boundary points", () => {
    const opt = fixture.points.find((p) => p.id === fixture.summary.optimalPointId)
    expect(opt).toBeDefined()
    expect(html).toContain(`<b>${opt?.label.replace(/&/g, "&amp;")}</b> (${opt?.id})`)
    expect((html.match(/class="badge sat"/g) ?? []).length).toBe(3)
    expect((html.match(/class="badge sla"/g) ?? []).length).toBe(3)
    expect(html).toContain("toy-70b") // missing from the simulation, reported
  })

  test("optional plots disappear when their data is absent", async () => {
    const { quality: _q, sensitivity: _s, ...rest } = fixture
    const bare: SweepResult = { ...rest, points: fixture.points.map(({ timeline: _t, ...p }) => p) }
    const r = await buildReport(bare)
    expect(r.charts.map((c) => c.id)).toEqual([
      "throughput-vs-load",
      "ttft-vs-load",
      "tpot-vs-load",
      "cost-vs-load",
      "throughput-frontier",
      "cost-frontier",
      "cost-breakdown",
    ])
  })

  test("--quality adds the production frontier from a CSV", async () => {
    const { quality: _q, ...rest } = fixture
    writeFileSync(resultsPath + ".noq.json", JSON.stringify(rest))
    const csv = join(dir, "q.csv")
    writeFileSync(csv, "model,score\ntoy-7b,50\ntoy-32b,40\n")
    const out = join(dir, "q.html")
    await Effect.runPromise(reportProgram(resultsPath + ".noq.json", { out, quality: csv }))
    const page = readFileSync(out, "utf8")
    expect(page).toContain('id="chart-quality-frontier"')
    writeFileSync(csv, "model,score\ntoy-7b,fifty\n")
    expect(await failure(reportProgram(resultsPath + ".noq.json", { out, quality: csv }))).toBe(
      `${csv} line 2: field 2 (score) "fifty" is not a number`,
    )
  })

  test("bad input files fail with one line naming the field", async () => {
    const bad = join(dir, "bad.json")
    writeFileSync(bad, "{ not json")
    expect(await failure(buildReportFor(bad, {}))).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: invalid JSON \\(`))
    const broken = JSON.parse(JSON.stringify(fixture)) as { points: Array<{ metrics: { mean_ttft_ms: { mean: unknown } } }> }
    const p2 = broken.points[2]
    if (p2 !== undefined) p2.metrics.mean_ttft_ms.mean = "slow"
    writeFileSync(bad, JSON.stringify(broken))
    const msg = await failure(buildReportFor(bad, {}))
    expect(msg).toContain("points[2].metrics.mean_ttft_ms.mean")
    expect(msg).not.toContain("\n")
    writeFileSync(bad, JSON.stringify({ format: "something-else" }))
    expect(await failure(buildReportFor(bad, {}))).toContain("format")
    expect(await failure(buildReportFor(join(dir, "missing.json"), {}))).toMatch(/^cannot read .*missing\.json/)
  })

  test("SVG ids are prefixed per chart so inline plots do not clash", () => {
    expect(prefixSvgIds('<clipPath id="clip1"/><g clip-path="url(#clip1)"/><use href="#clip1"/>', "c")).toBe(
      '<clipPath id="c-clip1"/><g clip-path="url(#c-clip1)"/><use href="#c-clip1"/>',
    )
  })
})

describe("servesim cost", () => {
  test("A800 defaults: ≈ $0.79 per GPU-hour, $1.57 for the paper's two cards", async () => {
    const r = await Effect.runPromise(costReport({ gpu: "a800-sxm", count: "2" }))
    expect(r.breakdown.total).toBeCloseTo(0.786, 3)
    expect(r.totalPerHour).toBeCloseTo(1.572, 3)
    expect(Object.keys(r.sources)).toHaveLength(7)
    const text = formatCostReport(r)
    expect(text).toContain("depreciation  $0.4566")
    expect(text).toContain("total         $0.7862 per GPU-hour")
    expect(text).toContain("×2 GPUs")
  })

  test("flags override defaults; overridden inputs carry no default source", async () => {
    const r = await Effect.runPromise(costReport({ gpu: "h100-sxm", utilization: "0.5", electricityPrice: "0.12" }))
    expect(r.inputs).toMatchObject({ kind: "owned", utilization: 0.5, electricityPrice: 0.12 })
    expect(r.sources.utilization).toBeUndefined()
    expect(r.sources.purchasePrice).toBeDefined()
    const cloud = await Effect.runPromise(costReport({ gpu: "h100-sxm", cloudPrice: "2.49" }))
    expect(cloud.breakdown).toMatchObject({ kind: "cloud", total: 2.49 })
    const custom = await Effect.runPromise(
      costReport({
        gpu: "mi300x",
        purchasePrice: "15000",
        years: "4",
        utilization: "0.8",
        powerKw: "0.75",
        pue: "1.2",
        electricityPrice: "0.1",
        maintenanceRate: "0.1",
      }),
    )
    expect(custom.breakdown.total).toBeCloseTo(15000 / (4 * 8760 * 0.8) + 0.75 * 1.2 * 0.1 + 1500 / 8760, 12)
  })

  test("bad values fail with one line", async () => {
    expect(await failure(costReport({ gpu: "a800-sxm", utilization: "1.5" }))).toBe(
      '--utilization must be a fraction in (0, 1], got "1.5"',
    )
    expect(await failure(costReport({ gpu: "a800-sxm", years: "three" }))).toBe(
      '--years must be a number of years > 0, got "three"',
    )
    expect(await failure(costReport({ gpu: "a800-sxm", pue: "0.9" }))).toBe('--pue must be a PUE ≥ 1, got "0.9"')
    expect(await failure(costReport({ gpu: "a800-sxm", cloudPrice: "2", years: "4" }))).toBe(
      "--cloud-price replaces the owned-cost flags; drop --years",
    )
    expect(await failure(costReport({}))).toMatch(/^--gpu is required \(one of a800-sxm, /)
    expect(await failure(costReport({ gpu: "tpu" }))).toMatch(/^no default price for GPU "tpu" \(known: /)
    expect(await failure(costReport({ gpu: "l40s", count: "1.5" }))).toBe('--count must be an integer ≥ 1, got "1.5"')
  })
})
