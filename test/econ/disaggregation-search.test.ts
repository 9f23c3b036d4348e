// P/D units in the search (layouts priced by every GPU of both pools) and the sweep's per-load
// comparison of aggregated vs disaggregated deployments.
import { describe, expect, test } from "vitest"
import { compareDeployments, comparesDeployments } from "../../src/econ/deployment-compare.ts"
import { enumerateLayouts, gpusPerReplica, parsePdUnit, parsePool, pdUnitLabel, rankSearch, replicaUsdPerHour, sloMisses } from "../../src/econ/search.ts"
import type { SweepPoint, SweepResult } from "../../src/econ/sweep-result.ts"
import { AGGREGATED, applyPoint, gpuCountOf, parseAxis } from "../../src/econ/sweep-grid.ts"
import { benchMetrics as metrics } from "./bench-metrics.ts"

describe("P/D units", () => {
  test("parse prefill:decode pools and print them back", () => {
    expect(parsePool("2xtp4@h200-sxm")).toEqual({ replicas: 2, tp: 4, gpu: "h200-sxm" })
    expect(parsePool("2x tp4 ")).toEqual({ replicas: 2, tp: 4 })
    for (const bad of ["0xtp1", "2xtp", "tp4", "2xtp4@", ""]) expect(parsePool(bad), bad).toBeUndefined()
    const u = parsePdUnit("1xtp2:3xtp1")
    expect(u).toEqual({ prefill: { replicas: 1, tp: 2 }, decode: { replicas: 3, tp: 1 } })
    expect(pdUnitLabel(u!)).toBe("1xtp2:3xtp1")
    for (const bad of ["1xtp2", "1xtp2:1xtp1:1xtp1", "1xtp2@a:1xtp1"]) expect(parsePdUnit(bad), bad).toBeUndefined()
  })

  test("a P/D layout costs every GPU of both pools and scales both with its replicas", () => {
    const ls = enumerateLayouts({
      gpus: [{ id: "h", gpuHourUsd: 2 }],
      tps: [4],
      maxNumSeqs: [undefined],
      maxGpus: 12,
      disaggregation: [{ prefill: { replicas: 1, tp: 2 }, decode: { replicas: 1, tp: 4 } }],
    })
    const pd = ls.find((l) => l.disaggregation !== undefined)!
    expect(pd.id).toBe("h P/D 1xtp2:1xtp4")
    expect(gpusPerReplica(pd)).toBe(6)
    expect(replicaUsdPerHour(pd)).toBe(12)
    expect(pd.maxReplicas).toBe(2)
    // Cheapest replica first: tp4 ($8) before the 6-GPU unit ($12).
    expect(ls.map((l) => l.id)).toEqual(["h tp4", "h P/D 1xtp2:1xtp4"])
    // A unit wider than the GPU budget is left out.
    expect(enumerateLayouts({ gpus: [{ id: "h", gpuHourUsd: 2 }], tps: [], maxNumSeqs: [undefined], maxGpus: 4, disaggregation: [{ prefill: { replicas: 1, tp: 2 }, decode: { replicas: 1, tp: 4 } }] })).toEqual([])
  })

  test("the ranking prices a P/D answer by its GPUs and says what the aggregated layout misses", () => {
    const ls = enumerateLayouts({ gpus: [{ id: "h", gpuHourUsd: 1 }], tps: [1], maxNumSeqs: [undefined], maxGpus: 2, disaggregation: [{ prefill: { replicas: 1, tp: 1 }, decode: { replicas: 1, tp: 1 } }] })
    const m = (tpot: number) => metrics(300, tpot)
    const slo = { tpotMs: 7.4, stat: "mean" as const }
    const o = rankSearch(ls, [
      { layoutId: "h tp1", replicas: 2, misses: sloMisses(m(7.9), slo), metrics: m(7.9), usdPerMOutput: 3 },
      { layoutId: "h P/D 1xtp1:1xtp1", replicas: 1, misses: sloMisses(m(6.9), slo), metrics: m(6.9), usdPerMOutput: 3.5 },
    ])
    expect(o.best?.layout.id).toBe("h P/D 1xtp1:1xtp1")
    expect(o.best?.numGpus).toBe(2)
    expect(o.best?.usdPerHour).toBe(2)
    expect(o.others[0]?.why).toMatch(/^mean TPOT 7\.90 ms > 7\.40 ms .* with 2 replicas \(2 GPUs\)$/)
  })
})

describe("the sweep's disagg axis", () => {
  test("agg drops the pools, a unit sets them (keeping the scenario's link), and GPUs count both pools", () => {
    const base = { tp: 4, disaggregation: { prefill: { replicas: 9, tp: 9 }, decode: { replicas: 9, tp: 9 }, kvTransfer: { bandwidthGBps: 25 } } }
    expect(parseAxis("disagg", "agg,1xtp2:2xtp4")).toEqual({ ok: true, value: { key: "disagg", values: ["agg", "1xtp2:2xtp4"] } })
    expect(parseAxis("disagg", "agg,2xtp2").ok).toBe(false)
    const agg = applyPoint(base, [["disagg", AGGREGATED]])
    expect(agg.disaggregation).toBeUndefined()
    expect(gpuCountOf(agg)).toBe(4)
    const pd = applyPoint(base, [["disagg", "1xtp2:2xtp4"]])
    expect(pd.disaggregation).toEqual({ prefill: { replicas: 1, tp: 2 }, decode: { replicas: 2, tp: 4 }, kvTransfer: { bandwidthGBps: 25 } })
    expect(gpuCountOf(pd)).toBe(10)
  })

  test("at each load: the cheapest configuration meeting the SLOs, then why each other loses", () => {
    const point = (id: string, series: string, pd: string, load: number, meets: boolean, usd: number, violations: string[] = []): SweepPoint =>
      ({
        id,
        series,
        label: `${series} · ${load}/s`,
        config: { gpu: "h", numGpus: 2, tp: 1, pp: 1, replicas: 1, load: { kind: "rate", value: load }, model: "m", extra: { pd } },
        cost: { usdPerMOutput: { mean: usd } },
        flags: { meetsSlo: meets, sloViolations: violations },
      }) as unknown as SweepPoint
    const r = {
      series: [
        { id: "s1", label: "agg", loadKind: "rate", pointIds: ["p1", "p2"] },
        { id: "s2", label: "pd", loadKind: "rate", pointIds: ["p3", "p4"] },
      ],
      points: [point("p1", "s1", "agg", 1, true, 2), point("p2", "s1", "agg", 2, false, 1.5, ["mean TPOT 9 ms > 7 ms"]), point("p3", "s2", "1xtp1:1xtp1", 1, true, 3), point("p4", "s2", "1xtp1:1xtp1", 2, true, 2.5)],
    } as unknown as SweepResult
    expect(comparesDeployments(r)).toBe(true)
    const c = compareDeployments(r)
    expect(c.map((x) => [x.load.value, x.best?.pointId])).toEqual([
      [1, "p1"],
      [2, "p4"],
    ])
    expect(c[0]!.others[0]!.why).toBe("meets the SLOs but costs $1 more per 1M output tokens (+50%): $3 vs $2")
    expect(c[1]!.others[0]!.why).toBe("misses the SLOs: mean TPOT 9 ms > 7 ms")
  })
})
