import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { benchMetrics } from "./bench-metrics.ts"
import {
  enumerateLayouts,
  formatMiss,
  planProbes,
  rankSearch,
  replicaUsdPerHour,
  sloMisses,
  type ProbeResult,
  type SearchLayout,
} from "../../src/econ/search.ts"

const metrics = benchMetrics

const SLO = { ttftMs: 1000, tpotMs: 50, stat: "mean" as const }

/** Runs the planner against an oracle: layout id → smallest replicas meeting the SLOs (Infinity = never). */
const search = (layouts: ReadonlyArray<SearchLayout>, threshold: (l: SearchLayout) => number, perRound = 4, tokenCost?: (l: SearchLayout, r: number) => number) => {
  const results: ProbeResult[] = []
  let rounds = 0
  for (;;) {
    const probes = planProbes(layouts, results, perRound)
    if (probes.length === 0) break
    rounds++
    if (rounds > 1000) throw new Error("planner does not terminate")
    for (const p of probes) {
      const l = layouts.find((x) => x.id === p.layoutId)!
      expect(results.some((r) => r.layoutId === p.layoutId && r.replicas === p.replicas)).toBe(false) // never probes twice
      expect(p.replicas).toBeGreaterThanOrEqual(1)
      expect(p.replicas).toBeLessThanOrEqual(l.maxReplicas)
      const ok = p.replicas >= threshold(l)
      const m = ok ? metrics(200, 30) : metrics(200 + 1000 / p.replicas, 60)
      results.push({ layoutId: p.layoutId, replicas: p.replicas, misses: sloMisses(m, SLO), metrics: m, usdPerMOutput: tokenCost?.(l, p.replicas) ?? 1 })
    }
  }
  return { outcome: rankSearch(layouts, results), results }
}

describe("enumerateLayouts", () => {
  test("every GPU × TP × max_num_seqs within the GPU budget, cheapest replica first", () => {
    const ls = enumerateLayouts({
      gpus: [
        { id: "b", gpuHourUsd: 3 },
        { id: "a", gpuHourUsd: 1 },
      ],
      tps: [4, 1, 2, 8],
      maxNumSeqs: [undefined, 64],
      maxGpus: 4,
    })
    expect(ls).toHaveLength(2 * 3 * 2)
    expect(ls.map((l) => replicaUsdPerHour(l))).toEqual([...ls.map((l) => replicaUsdPerHour(l))].sort((x, y) => x - y))
    expect(ls[0]).toEqual({ id: "a tp1", gpu: "a", tp: 1, gpuHourUsd: 1, maxReplicas: 4 })
    expect(ls[1]?.id).toBe("a tp1 seqs64")
    // Equal $/h: the GPU list order, then TP, then the max_num_seqs list order.
    const tied = enumerateLayouts({
      gpus: [
        { id: "b", gpuHourUsd: 2 },
        { id: "a", gpuHourUsd: 1 },
      ],
      tps: [1, 2],
      maxNumSeqs: [undefined],
      maxGpus: 2,
    })
    expect(tied.map((l) => l.id)).toEqual(["a tp1", "b tp1", "a tp2", "b tp2"])
    expect(ls.find((l) => l.id === "b tp4")?.maxReplicas).toBe(1)
  })
})

describe("the search", () => {
  const layouts = enumerateLayouts({
    gpus: [
      { id: "cheap", gpuHourUsd: 1 },
      { id: "fast", gpuHourUsd: 3 },
    ],
    tps: [1, 2],
    maxNumSeqs: [undefined],
    maxGpus: 8,
  })
  // cheap tp1 needs 5 replicas ($5), cheap tp2 needs 2 ($4), fast tp1 needs 1 ($3), fast tp2 1 ($6).
  const need: Record<string, number> = { "cheap tp1": 5, "cheap tp2": 2, "fast tp1": 1, "fast tp2": 1 }

  test("finds the cheapest SLO-meeting candidate and says why the others lose", () => {
    const { outcome, results } = search(layouts, (l) => need[l.id]!)
    expect(outcome.best?.layout.id).toBe("fast tp1")
    expect(outcome.best?.replicas).toBe(1)
    expect(outcome.best?.usdPerHour).toBe(3)
    const why = Object.fromEntries(outcome.others.map((v) => [v.layout.id, v]))
    expect(why["cheap tp2"]?.kind).toBe("meets")
    expect(why["cheap tp2"]?.why).toMatch(/meets the SLOs with 2 replicas but costs \$1\.00\/h more \(\+33\.3%\)/)
    expect(why["cheap tp2"]?.why).toMatch(/with 1 replica: mean TTFT 1200 ms > 1000 ms/)
    // Probed at 8 replicas (meets) and 4 (misses); 5–7 would cost more than the answer, so not simulated.
    expect(why["cheap tp1"]?.kind).toBe("meets")
    expect(why["cheap tp1"]?.why).toBe(
      "meets the SLOs with 8 replicas ($8.00/h); with 4 replicas: mean TPOT 60.0 ms > 50.0 ms (+10.0 ms, +20.0%); 5–7 replicas would cost $5.00/h or more, $2.00/h more than the answer; not simulated",
    )
    expect(why["fast tp2"]?.why).toBe("meets the SLOs with 1 replica but costs $3.00/h more (+100%)")
    // Bounded: far fewer probes than the 8 + 4 + 8 + 4 candidates.
    expect(results.length).toBeLessThanOrEqual(10)
  })

  test("one probe per round: a layout dearer than the answer even with one replica is not simulated", () => {
    const { outcome, results } = search(layouts, (l) => need[l.id]!, 1)
    expect(outcome.best?.layout.id).toBe("fast tp1")
    const fast2 = outcome.others.find((v) => v.layout.id === "fast tp2")
    expect(fast2?.kind).toBe("pricier")
    expect(fast2?.why).toBe("one replica already costs $6.00/h, $3.00/h more (+100%) than the answer; not simulated")
    expect(results.some((r) => r.layoutId === "fast tp2")).toBe(false)
    expect(results).toHaveLength(7)
  })

  test("no candidate meets the SLOs: every layout is probed at its most replicas and reported as missing", () => {
    const { outcome, results } = search(layouts, () => Number.POSITIVE_INFINITY)
    expect(outcome.best).toBeUndefined()
    expect(outcome.others.every((v) => v.kind === "misses" && v.replicas === v.layout.maxReplicas)).toBe(true)
    expect(results).toHaveLength(layouts.length)
  })

  test("equal $/h: the lower simulated $/1M output tokens wins", () => {
    const twins = enumerateLayouts({
      gpus: [{ id: "g", gpuHourUsd: 1 }],
      tps: [1, 2],
      maxNumSeqs: [undefined],
      maxGpus: 2,
    })
    // g tp1 needs 2 replicas ($2), g tp2 needs 1 ($2); tp2 produces tokens more cheaply.
    const { outcome } = search(twins, (l) => (l.tp === 1 ? 2 : 1), 4, (l) => (l.tp === 2 ? 0.5 : 0.8))
    expect(outcome.best?.layout.id).toBe("g tp2")
    expect(outcome.others[0]?.why).toMatch(/same \$2\.00\/h; loses the tie-break/)
  })

  test("the answer is the brute-force cheapest for any monotone oracle, whatever the round size", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 2 }),
        fc.integer({ min: 1, max: 5 }),
        (needs, prices, perRound) => {
          const ls = enumerateLayouts({
            gpus: prices.map((p, i) => ({ id: `g${i}`, gpuHourUsd: p })),
            tps: [1, 2, 4],
            maxNumSeqs: [undefined],
            maxGpus: 8,
          })
          const th = (l: SearchLayout) => needs[ls.findIndex((x) => x.id === l.id)]!
          const { outcome, results } = search(ls, th, perRound)
          let brute = Number.POSITIVE_INFINITY
          for (const l of ls) if (th(l) <= l.maxReplicas) brute = Math.min(brute, th(l) * replicaUsdPerHour(l))
          if (!Number.isFinite(brute)) expect(outcome.best).toBeUndefined()
          else {
            expect(outcome.best?.usdPerHour).toBeCloseTo(brute, 9)
            expect(outcome.best?.replicas).toBe(th(outcome.best!.layout))
          }
          // At most one probe at the cap plus a bisection per layout.
          expect(results.length).toBeLessThanOrEqual(ls.length * 5)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe("SLO misses", () => {
  test("name the bound, the statistic and by how much", () => {
    const m = sloMisses(metrics(1500, 40), SLO)
    expect(m).toEqual([{ metric: "TTFT", stat: "mean", valueMs: 1500, limitMs: 1000 }])
    expect(formatMiss(m[0]!)).toBe("mean TTFT 1500 ms > 1000 ms (+500 ms, +50.0%)")
    expect(sloMisses(metrics(100, 40), SLO)).toEqual([])
    expect(sloMisses(metrics(100, 40), { tpotMs: 30, stat: "p99" })[0]).toEqual({ metric: "TPOT", stat: "p99", valueMs: 80, limitMs: 30 })
  })
})
