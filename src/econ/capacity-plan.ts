// A capacity plan over months: for a demand curve (requests/s per month), the replicas (and GPUs) a
// deployment needs at a per-replica capacity that meets the SLOs, and what a month costs rented in the
// cloud, owned (capex amortised straight-line plus power and maintenance), or bought from an API per
// token, with each price moving at its own yearly rate. Pure arithmetic; the capacity comes from
// simulation (src/cli/plan.ts), the prices from flags with cited defaults (README "servesim plan").
import { HOURS_PER_YEAR } from "./cost-model.ts"

export const HOURS_PER_MONTH = HOURS_PER_YEAR / 12
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600

export type PlanOption = "cloud" | "owned" | "api"
export const PLAN_OPTIONS: ReadonlyArray<PlanOption> = ["cloud", "owned", "api"]

export interface PlanInputs {
  /** Mean requests/s in each month (month 0 first). */
  readonly demand: ReadonlyArray<number>
  /** Requests/s one replica serves while meeting the SLOs. */
  readonly capacityPerReplica: number
  readonly gpusPerReplica: number
  /** Fraction of each replica's capacity kept free for bursts, [0, 1): replicas run at ≤ (1 − headroom) × capacity. */
  readonly headroom: number
  readonly inputTokensPerRequest: number
  readonly outputTokensPerRequest: number
  /** Cloud rental: USD per GPU-hour in month 0, and the fraction it falls per year. */
  readonly cloudUsdPerGpuHour: number
  readonly cloudYearlyDecline: number
  /** Owned: purchase price per card in month 0 and its yearly decline; straight-line amortisation years. */
  readonly purchasePrice: number
  readonly purchaseYearlyDecline: number
  readonly amortisationYears: number
  /** Owned running costs: power (USD per GPU-hour, kW·PUE·E) and yearly maintenance as a fraction of the price paid. */
  readonly powerUsdPerGpuHour: number
  readonly maintenanceRate: number
  /** API list prices, USD per 1M tokens in month 0, each divided by this factor per year (10 = 10× cheaper a year). */
  readonly apiInputPerM: number
  readonly apiOutputPerM: number
  readonly apiYearlyFactor: number
}

export interface PlanMonth {
  readonly month: number
  readonly demand: number
  readonly replicas: number
  readonly gpus: number
  /** Owned fleet size: GPUs bought so far (an owned fleet is not sold when demand falls). */
  readonly ownedGpus: number
  readonly cloudUsdPerGpuHour: number
  readonly apiInputPerM: number
  readonly apiOutputPerM: number
  readonly cost: Readonly<Record<PlanOption, number>>
  readonly cheapest: PlanOption
}

export interface PlanFlip {
  readonly month: number
  readonly from: PlanOption
  readonly to: PlanOption
}

export interface CapacityPlan {
  readonly months: ReadonlyArray<PlanMonth>
  /** Months where the cheapest option changes from the month before. */
  readonly flips: ReadonlyArray<PlanFlip>
  /** From this month to the end the cheapest option does not change (month 0 when it never does). */
  readonly settled: { readonly month: number; readonly option: PlanOption } | undefined
  readonly total: Readonly<Record<PlanOption, number>>
}

/** A price after `month` months of a yearly fractional decline d: p·(1 − d)^(month/12). */
export const declined = (price: number, yearlyDecline: number, month: number): number => price * (1 - yearlyDecline) ** (month / 12)

/** Replicas to serve `demand` req/s at ≤ (1 − headroom) of each replica's capacity. */
export const replicasFor = (demand: number, capacity: number, headroom: number): number =>
  demand <= 0 ? 0 : Math.ceil(demand / (capacity * (1 - headroom)) - 1e-9)

const cheapestOf = (cost: Readonly<Record<PlanOption, number>>): PlanOption =>
  PLAN_OPTIONS.reduce((best, o) => (cost[o] < cost[best] ? o : best), PLAN_OPTIONS[0]!)

export const capacityPlan = (p: PlanInputs): CapacityPlan => {
  const months: PlanMonth[] = []
  // Owned cohorts: how many cards bought in which month at what price; each is amortised over Y years.
  const cohorts: Array<{ month: number; gpus: number; price: number }> = []
  let owned = 0
  const amortMonths = p.amortisationYears * 12
  for (let m = 0; m < p.demand.length; m++) {
    const demand = p.demand[m]!
    const replicas = replicasFor(demand, p.capacityPerReplica, p.headroom)
    const gpus = replicas * p.gpusPerReplica
    if (gpus > owned) {
      cohorts.push({ month: m, gpus: gpus - owned, price: declined(p.purchasePrice, p.purchaseYearlyDecline, m) })
      owned = gpus
    }
    const cloudRate = declined(p.cloudUsdPerGpuHour, p.cloudYearlyDecline, m)
    let ownedCost = owned * p.powerUsdPerGpuHour * HOURS_PER_MONTH
    for (const c of cohorts) {
      if (m - c.month < amortMonths) ownedCost += (c.gpus * c.price) / amortMonths
      ownedCost += (c.gpus * c.price * p.maintenanceRate) / 12
    }
    const apiFactor = p.apiYearlyFactor ** (m / 12)
    const apiIn = p.apiInputPerM / apiFactor
    const apiOut = p.apiOutputPerM / apiFactor
    const requests = demand * SECONDS_PER_MONTH
    const cost = {
      cloud: gpus * cloudRate * HOURS_PER_MONTH,
      owned: ownedCost,
      api: (requests * (p.inputTokensPerRequest * apiIn + p.outputTokensPerRequest * apiOut)) / 1e6,
    }
    months.push({ month: m, demand, replicas, gpus, ownedGpus: owned, cloudUsdPerGpuHour: cloudRate, apiInputPerM: apiIn, apiOutputPerM: apiOut, cost, cheapest: cheapestOf(cost) })
  }
  const flips: PlanFlip[] = []
  for (let m = 1; m < months.length; m++) {
    const [a, b] = [months[m - 1]!.cheapest, months[m]!.cheapest]
    if (a !== b) flips.push({ month: m, from: a, to: b })
  }
  const total = Object.fromEntries(PLAN_OPTIONS.map((o) => [o, months.reduce((s, x) => s + x.cost[o], 0)])) as Record<PlanOption, number>
  const last = months.at(-1)
  const settled = last === undefined ? undefined : { month: flips.at(-1)?.month ?? 0, option: last.cheapest }
  return { months, flips, settled, total }
}

/** Demand from a start rate growing by a monthly fraction: start·(1 + g)^m for m < months. */
export const growthDemand = (start: number, monthlyGrowth: number, months: number): number[] =>
  Array.from({ length: months }, (_, m) => start * (1 + monthlyGrowth) ** m)

/**
 * Parses a rate of change: "15%/month", "15%" (per month unless `per` says otherwise), "80%/year",
 * "10x/year" (a factor). Returns the fraction per `per` period (a factor f per year is 1 − 1/f of
 * decline, or f − 1 of growth, as `kind` says), or a one-line error.
 */
export const parseRate = (text: string, per: "month" | "year", kind: "growth" | "decline"): number | string => {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*(%|x)\s*(?:\/\s*(month|year))?\s*$/i.exec(text)
  if (m === null) return `"${text}" is not a rate; expected e.g. 15%/${per}${kind === "decline" ? " or 10x/year" : ""}`
  const value = Number(m[1])
  const unit = m[2]!.toLowerCase()
  const period = (m[3]?.toLowerCase() as "month" | "year" | undefined) ?? per
  // As a per-period factor: growth 15% → 1.15; decline 20% → 0.8; a factor "10x" is growth ×10 or decline ÷10.
  let factor: number
  if (unit === "x") {
    if (!(value > 0)) return `"${text}": a factor must be > 0`
    factor = kind === "growth" ? value : 1 / value
  } else {
    if (kind === "decline" && value >= 100) return `"${text}": a decline must be below 100%`
    factor = kind === "growth" ? 1 + value / 100 : 1 - value / 100
  }
  const perWanted = period === per ? factor : period === "year" ? factor ** (1 / 12) : factor ** 12
  return kind === "growth" ? perWanted - 1 : 1 - perWanted
}

/** One simulated load: did a replica meet the SLOs at this request rate? */
export interface CapacityProbe {
  readonly rate: number
  readonly meets: boolean
}

export interface CapacitySearch {
  /** First rate tried, req/s. */
  readonly start: number
  /** Search range, req/s: below `min` the deployment is called unable to meet the SLOs; above `max` the search stops doubling. */
  readonly min: number
  readonly max: number
  /** Stop bisecting when the bracket is this narrow relative to its lower end. */
  readonly tolerance: number
  readonly maxProbes: number
}

export const DEFAULT_CAPACITY_SEARCH: CapacitySearch = { start: 1, min: 1 / 64, max: 4096, tolerance: 0.02, maxProbes: 24 }

/** The bracket so far: the highest meeting rate below the lowest failing one. */
const bracket = (h: ReadonlyArray<CapacityProbe>): { lo?: number; hi?: number } => {
  const fails = h.filter((p) => !p.meets).map((p) => p.rate)
  const hi = fails.length === 0 ? undefined : Math.min(...fails)
  const meets = h.filter((p) => p.meets && (hi === undefined || p.rate < hi)).map((p) => p.rate)
  return { ...(meets.length > 0 ? { lo: Math.max(...meets) } : {}), ...(hi !== undefined ? { hi } : {}) }
}

/**
 * The next rate to simulate, or undefined when the search is done: double from `start` until a rate
 * misses (halve until one meets), then bisect the bracket. The SLO check need not be exactly monotone
 * in rate (simulated noise): the bracket always uses the lowest failing rate.
 */
export const nextCapacityProbe = (h: ReadonlyArray<CapacityProbe>, s: CapacitySearch = DEFAULT_CAPACITY_SEARCH): number | undefined => {
  if (h.length >= s.maxProbes) return undefined
  if (h.length === 0) return s.start
  const { lo, hi } = bracket(h)
  if (hi === undefined) return lo! * 2 <= s.max ? lo! * 2 : undefined
  if (lo === undefined) return hi / 2 >= s.min ? hi / 2 : undefined
  return (hi - lo) / lo <= s.tolerance ? undefined : (lo + hi) / 2
}

/** The capacity found: the highest rate meeting the SLOs below the lowest missing one (undefined: none met). */
export const capacityOf = (h: ReadonlyArray<CapacityProbe>): number | undefined => bracket(h).lo
