import { describe, expect, it } from "vitest"
import {
  capacityOf,
  capacityPlan,
  declined,
  growthDemand,
  HOURS_PER_MONTH,
  nextCapacityProbe,
  parseRate,
  replicasFor,
  type CapacityProbe,
  type PlanInputs,
} from "../../src/econ/capacity-plan.ts"

const base: PlanInputs = {
  demand: [1, 2, 4, 8],
  capacityPerReplica: 2,
  gpusPerReplica: 1,
  headroom: 0,
  inputTokensPerRequest: 100,
  outputTokensPerRequest: 0,
  cloudUsdPerGpuHour: 1,
  cloudYearlyDecline: 0,
  purchasePrice: 7300,
  purchaseYearlyDecline: 0,
  amortisationYears: 1,
  powerUsdPerGpuHour: 0,
  maintenanceRate: 0,
  apiInputPerM: 2,
  apiOutputPerM: 0,
  apiYearlyFactor: 1,
}

describe("capacity plan arithmetic", () => {
  it("a hand-computed case: replicas, the three costs, and the month the cheapest choice flips", () => {
    const p = capacityPlan(base)
    expect(p.months.map((m) => m.replicas)).toEqual([1, 1, 2, 4])
    // cloud: GPUs × $1 × 730 h
    expect(p.months.map((m) => m.cost.cloud)).toEqual([730, 730, 1460, 2920])
    // owned: $7300 over 12 months per GPU bought
    p.months.forEach((m, i) => expect(m.cost.owned).toBeCloseTo([608.333, 608.333, 1216.667, 2433.333][i]!, 2))
    // API: req/s × 2,628,000 s × 100 tokens × $2/1M = 525.6 × req/s
    p.months.forEach((m, i) => expect(m.cost.api).toBeCloseTo(525.6 * base.demand[i]!, 6))
    expect(p.months.map((m) => m.cheapest)).toEqual(["api", "owned", "owned", "owned"])
    expect(p.flips).toEqual([{ month: 1, from: "api", to: "owned" }])
    expect(p.settled).toEqual({ month: 1, option: "owned" })
    expect(p.total.cloud).toBe(5840)
  })

  it("headroom adds replicas; an owned fleet is kept when demand falls and stops costing capex once amortised", () => {
    expect(replicasFor(4, 2, 0)).toBe(2)
    expect(replicasFor(4, 2, 0.2)).toBe(3)
    expect(replicasFor(0, 2, 0.2)).toBe(0)
    const p = capacityPlan({ ...base, demand: [4, 1, 1], amortisationYears: 1 / 12, maintenanceRate: 0.12 })
    expect(p.months.map((m) => m.ownedGpus)).toEqual([2, 2, 2])
    expect(p.months.map((m) => m.gpus)).toEqual([2, 1, 1])
    // month 0: 2 × $7300 capex + maintenance 2 × 7300 × 0.12 / 12; afterwards maintenance only
    expect(p.months[0]!.cost.owned).toBeCloseTo(14600 + 146, 6)
    expect(p.months[1]!.cost.owned).toBeCloseTo(146, 6)
  })

  it("prices decline at their yearly rates; cards bought later cost the declined price", () => {
    expect(declined(100, 0.2, 12)).toBeCloseTo(80, 10)
    expect(declined(100, 0.2, 6)).toBeCloseTo(100 * Math.sqrt(0.8), 10)
    const demand = Array.from({ length: 13 }, (_, m) => (m === 12 ? 4 : 2))
    const p = capacityPlan({ ...base, demand, cloudYearlyDecline: 0.5, purchaseYearlyDecline: 0.5, apiYearlyFactor: 10, amortisationYears: 10 })
    expect(p.months[12]!.cloudUsdPerGpuHour).toBeCloseTo(0.5, 10)
    expect(p.months[12]!.cost.cloud).toBeCloseTo(2 * 0.5 * HOURS_PER_MONTH, 6)
    expect(p.months[12]!.apiInputPerM).toBeCloseTo(0.2, 10)
    // one card from month 0 at $7300 and one from month 12 at $3650, each over 120 months
    expect(p.months[12]!.cost.owned).toBeCloseTo((7300 + 3650) / 120, 6)
  })

  it("growth and rate strings", () => {
    expect(growthDemand(10, 0.1, 3)).toEqual([10, 11, 10 * 1.1 * 1.1])
    expect(parseRate("15%/month", "month", "growth")).toBeCloseTo(0.15, 12)
    expect(parseRate("300%/year", "month", "growth")).toBeCloseTo(4 ** (1 / 12) - 1, 12)
    expect(parseRate("10x/year", "year", "decline")).toBeCloseTo(0.9, 12)
    expect(parseRate("90%/year", "year", "decline")).toBeCloseTo(0.9, 12)
    expect(parseRate("20%", "year", "decline")).toBeCloseTo(0.2, 12)
    expect(parseRate("2%/month", "year", "decline")).toBeCloseTo(1 - 0.98 ** 12, 12)
    expect(parseRate("fast", "month", "growth")).toBe('"fast" is not a rate; expected e.g. 15%/month')
    expect(parseRate("100%/year", "year", "decline")).toBe('"100%/year": a decline must be below 100%')
  })
})

describe("per-replica capacity search", () => {
  const search = (meets: (r: number) => boolean): { capacity: number | undefined; probes: CapacityProbe[] } => {
    const probes: CapacityProbe[] = []
    for (let r = nextCapacityProbe(probes); r !== undefined; r = nextCapacityProbe(probes)) probes.push({ rate: r, meets: meets(r) })
    return { capacity: capacityOf(probes), probes }
  }

  it("brackets a threshold to within the tolerance, from below", () => {
    for (const t of [0.3, 1, 37.3, 900]) {
      const { capacity, probes } = search((r) => r <= t)
      expect(capacity).toBeLessThanOrEqual(t)
      expect(capacity!).toBeGreaterThan(t / 1.021)
      expect(probes.length).toBeLessThanOrEqual(24)
    }
  })

  it("reports no capacity when even the lowest rate misses", () => {
    expect(search(() => false).capacity).toBeUndefined()
  })
})
