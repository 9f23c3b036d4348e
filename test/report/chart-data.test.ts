// The data and axis logic behind each report chart, on cases with known answers.
import { describe, expect, test } from "vitest"
import type { SweepResult } from "../../src/econ/sweep-result.ts"
import { costFrontierChart, throughputChart, tpotChart, ttftChart } from "../../src/report/charts.ts"
import { chooseTimelines, kvRows, kvTimelineChart, timeUnit } from "../../src/report/kv-chart.ts"
import { legendNames, legendTitle } from "../../src/report/legend-names.ts"
import { renderSvg, countLayerMarks } from "../../src/report/render-svg.ts"
import { sampleSweepResult } from "../../src/report/sample-sweep.ts"
import { frontierPoints, maxMaxFrontier, throughputFrontierChart, usersOf } from "../../src/report/throughput-frontier.ts"
import { offScaleNote, wantsLog, yDomain } from "../../src/report/y-domain.ts"

const sample = sampleSweepResult()

/** The y scale domain a layered spec gives its first layer. */
const yScaleDomain = (spec: unknown): unknown => {
  const layers = (spec as { layer: Array<{ encoding?: { y?: { scale?: { domain?: unknown } } } }> }).layer
  return layers.find((l) => l.encoding?.y?.scale?.domain !== undefined)?.encoding?.y?.scale?.domain
}

describe("yDomain", () => {
  test("an SLO far above the data is reported off scale; the axis follows the data", () => {
    const d = yDomain([20, 50, 80], [{ value: 1000, label: "SLO 1000 ms" }])
    expect(d.domain[0]).toBe(0)
    expect(d.domain[1]).toBeCloseTo(84, 9) // 80 + 5% of the span 0–80
    expect(d.shown).toEqual([])
    expect(d.offScale).toEqual([{ value: 1000, label: "SLO 1000 ms", side: "above" }])
    expect(offScaleNote(d.offScale[0]!, d.domain)).toBe("SLO 1000 ms above the scale (12× the axis top)")
  })

  test("an SLO within 1.5× of the highest value stretches the axis to it; one inside the data is just drawn", () => {
    const near = yDomain([20, 50, 80], [{ value: 110, label: "SLO" }])
    expect(near.shown.map((r) => r.value)).toEqual([110])
    expect(near.offScale).toEqual([])
    expect(near.domain[1]).toBeCloseTo(110 * 1.05, 9)
    const edge = yDomain([80], [{ value: 120, label: "SLO" }])
    expect(edge.shown).toHaveLength(1) // exactly 1.5×
    expect(yDomain([80], [{ value: 120.1, label: "SLO" }]).offScale).toHaveLength(1)
    const inside = yDomain([20, 50, 80], [{ value: 40, label: "SLO" }])
    expect(inside.shown).toHaveLength(1)
    expect(inside.domain[1]).toBeCloseTo(84, 9)
  })

  test("log scales work in ratios; negative data keep their own bottom; a ceiling caps percentages", () => {
    const log = yDomain([10, 100], [{ value: 140, label: "a" }, { value: 5, label: "b" }, { value: 1, label: "c" }], { log: true })
    expect(log.shown.map((r) => r.label)).toEqual(["a"])
    expect(log.offScale.map((r) => [r.label, r.side])).toEqual([
      ["b", "below"],
      ["c", "below"],
    ])
    expect(log.domain[0]).toBeLessThan(10)
    expect(log.domain[1]).toBeGreaterThan(140)
    const neg = yDomain([-30, 10])
    expect(neg.domain[0]).toBeCloseTo(-32, 9)
    expect(neg.domain[1]).toBeCloseTo(12, 9)
    expect(yDomain([0, 99], [], { ceiling: 100 }).domain[1]).toBe(100)
    expect(yDomain([0, 0]).domain).toEqual([0, 1])
    expect(yDomain([]).domain).toEqual([0, 1.05])
  })
})

describe("legend names", () => {
  test("shared words go to the title once; entries keep what tells them apart, whole", () => {
    const n = legendNames(["h100-sxm×1 tp1 meta-llama/Llama-3.1-8B-Instruct", "h100-sxm×2 tp2 meta-llama/Llama-3.1-8B-Instruct"])
    expect(n.shared).toBe("meta-llama/Llama-3.1-8B-Instruct")
    expect([...n.names.values()]).toEqual(["h100-sxm×1 tp1", "h100-sxm×2 tp2"])
    expect(legendTitle("configuration", n)).toBe("configuration: meta-llama/Llama-3.1-8B-Instruct")
    // Separators are not "shared words".
    const pts = legendNames(["a800 tp1 · c=4", "a800 tp1 · c=16"])
    expect(pts.shared).toBe("a800 tp1")
    expect([...pts.names.values()]).toEqual(["· c=4", "· c=16"])
  })

  test("one label stays whole; labels that shortening would merge stay whole", () => {
    expect([...legendNames(["only one label here"]).names.values()]).toEqual(["only one label here"])
    const subset = legendNames(["x", "x tp2"])
    expect(subset.shared).toBe("")
    expect([...subset.names.values()]).toEqual(["x", "x tp2"])
    const dup = legendNames(["a b", "b a"])
    expect(dup.shared).toBe("")
    expect([...dup.names.values()]).toEqual(["a b", "b a"])
  })

  test("the sample sweep's legends hold every series' full distinguishing text", () => {
    const spec = ttftChart(sample).spec as { config?: { legend?: { labelLimit?: number } } }
    expect(spec.config?.legend?.labelLimit).toBe(0)
  })
})

describe("load plots", () => {
  const withSlo = (ttftMs: number): SweepResult => ({ ...sample, slo: { ...sample.slo, ttftMs } })
  const maxP99 = Math.max(...sample.points.map((p) => p.metrics.p99_ttft_ms.mean))

  test("a TTFT SLO far above every curve leaves the axis on the data and says so", async () => {
    const c = ttftChart(withSlo(maxP99 * 20))
    const domain = yScaleDomain(c.spec) as number[]
    expect(domain[1]).toBeLessThan(maxP99 * 2) // the data (with a little room), nowhere near the 20× SLO
    expect(c.caption).toMatch(/SLO \d+(\.\d+)? ms above the scale .*: the axis follows the data/)
    const svg = await renderSvg(c.spec, "t")
    expect(countLayerMarks(svg, "slo_offscale")).toBe(1)
    expect(svg).not.toMatch(/class="[^"]*\bslo_marks/)
  })

  test("a TTFT SLO near the curves is drawn and the axis reaches it", async () => {
    const c = ttftChart(withSlo(maxP99 * 1.2))
    const domain = yScaleDomain(c.spec) as number[]
    expect(domain[1]).toBeGreaterThanOrEqual(maxP99 * 1.2)
    const svg = await renderSvg(c.spec, "t")
    expect(svg).toContain(`SLO ${maxP99 * 1.2} ms`)
    expect(countLayerMarks(svg, "slo_offscale")).toBe(0)
  })

  test("p50–p99 bands: one area per series, spanning the medians and p99s", async () => {
    const c = tpotChart(sample)
    const rows = (c.spec as { data: { values: Array<{ p50: number; p99: number; id: string }> } }).data.values
    for (const p of sample.points) {
      const row = rows.find((r) => r.id === p.id)
      expect(row?.p50).toBe(p.metrics.median_tpot_ms.mean)
      expect(row?.p99).toBe(p.metrics.p99_tpot_ms.mean)
    }
    const svg = await renderSvg(c.spec, "b")
    expect(countLayerMarks(svg, "band")).toBe(sample.series.length)
    expect(c.caption).toContain("p50 to p99")
  })

  test("latencies spanning more than 100× get a log axis; throughput stays linear", () => {
    expect(wantsLog([10, 999])).toBe(false)
    expect(wantsLog([10, 1001])).toBe(true)
    expect(wantsLog([0, 5000])).toBe(false) // a zero cannot go on a log axis
    const yScale = (spec: unknown) =>
      (spec as { layer: Array<{ name?: string; encoding?: { y?: { scale?: { type?: string } } } }> }).layer.find((l) => l.name === "line")?.encoding?.y?.scale
    const ttft = ttftChart(sample)
    const values = sample.points.flatMap((p) => [p.metrics.median_ttft_ms.mean, p.metrics.p99_ttft_ms.mean])
    expect(Math.max(...values) / Math.min(...values)).toBeGreaterThan(100)
    expect(yScale(ttft.spec)?.type).toBe("log")
    expect(ttft.caption).toContain("Log scale")
    expect(yScale(throughputChart(sample).spec)?.type).toBeUndefined()
  })

  test("the cost frontier's legend uses the shortened names too", () => {
    const rows = (costFrontierChart(sample).spec as { data: { values: Array<{ series: string }> } }).data.values
    const names = legendNames(sample.series.map((s) => s.label))
    expect(new Set(rows.map((r) => r.series))).toEqual(new Set(names.names.values()))
  })
})

describe("tokens/s/GPU vs tokens/s/user frontier", () => {
  test("maximises both axes (plot_pareto's rule)", () => {
    // (1,10) (2,8) (3,3) on the frontier; (1.5,5) is beaten by (2,8); (3,2) by (3,3).
    expect([...maxMaxFrontier([1, 2, 3, 1.5, 3], [10, 8, 3, 5, 2])].sort()).toEqual([0, 1, 2])
  })

  test("per GPU = output tok/s / GPUs; per user = output tok/s / concurrency, or / (rate × E2E) in an open loop", () => {
    const pts = frontierPoints(sample)
    for (const p of sample.points) {
      const f = pts.find((x) => x.id === p.id)!
      expect(f.tokensPerGpu).toBeCloseTo(p.metrics.output_throughput.mean / p.config.numGpus, 9)
      expect(f.tokensPerUser).toBeCloseTo(p.metrics.output_throughput.mean / p.config.load.value, 9)
      expect(f.config).toMatch(new RegExp(`tp${p.config.tp} ×${p.config.replicas}( seqs${p.config.maxNumSeqs})? c=${p.config.load.value}$`))
    }
    const p0 = sample.points[0]!
    const open = { ...p0, config: { ...p0.config, load: { kind: "rate" as const, value: 3 } } }
    expect(usersOf(open)).toBeCloseTo(p0.metrics.request_throughput.mean * (p0.metrics.mean_e2el_ms.mean / 1000), 12)
  })

  test("the chart rings and labels exactly the Pareto points", async () => {
    const c = throughputFrontierChart(sample)!
    const n = frontierPoints(sample).filter((p) => p.pareto).length
    expect(n).toBeGreaterThan(1)
    const svg = await renderSvg(c.spec, "f")
    expect(countLayerMarks(svg, "points")).toBe(sample.points.length)
    expect(countLayerMarks(svg, "pareto")).toBe(n)
    expect(countLayerMarks(svg, "pareto_labels")).toBe(n)
    expect(c.caption).toContain(`the ${n} Pareto-optimal`)
  })
})

describe("KV-usage plot", () => {
  test("minutes beyond 10 minutes of simulated time", () => {
    expect(timeUnit(599)).toEqual({ divisor: 1, title: "simulated time (s)" })
    expect(timeUnit(2400)).toEqual({ divisor: 60, title: "simulated time (min)" })
    expect(timeUnit(30, "time into the point")).toEqual({ divisor: 1, title: "time into the point (s)" })
  })

  test("percent of blocks, axis scaled to the peak, not to 100%", () => {
    const chosen = chooseTimelines(sample)
    const { rows, peakPct } = kvRows(chosen.map((p) => ({ label: p.label, time: p.timeline!.time, usage: p.timeline!.kvCacheUsage })))
    expect(peakPct).toBeCloseTo(100 * Math.max(...chosen.flatMap((p) => p.timeline!.kvCacheUsage)), 9)
    expect(rows.every((r) => typeof r.kv === "number" && r.kv >= 0 && r.kv <= 100)).toBe(true)
    const c = kvTimelineChart(sample)!
    const domain = yScaleDomain(c.spec) as number[]
    if (peakPct < 100 / 1.5) {
      expect(domain[1]).toBeLessThan(100)
      expect(c.caption).toContain("100% (every block in use) is off the scale")
    } else expect(domain[1]).toBe(100)
    expect(domain[1]).toBeGreaterThanOrEqual(peakPct)
  })

  test("a low-usage run reads 0–~6%, not a flat line under 0–100%", () => {
    const p0 = sample.points[0]!
    const low: SweepResult = {
      ...sample,
      points: [{ ...p0, timeline: { time: [0, 1, 2, 3], kvCacheUsage: [0, 0.04, 0.06, 0.02] } }, ...sample.points.slice(1).map(({ timeline: _t, ...p }) => p)],
    }
    const c = kvTimelineChart(low)!
    const domain = yScaleDomain(c.spec) as number[]
    expect(domain[0]).toBe(0)
    expect(domain[1]).toBeCloseTo(6.3, 9)
    expect(c.caption).toContain("Peak 6.0%")
  })
})
