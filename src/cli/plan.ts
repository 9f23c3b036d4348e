// `servesim plan [scenario] (--demand 10,12,15,… | --start-rate R --growth 15%/month --months 24)
// --slo ttft:1000,tpot:50 [price flags] [--json] [--out plan.json] [--report plan.html]`: a monthly
// capacity plan. One replica's capacity (the highest request rate meeting the SLOs) is found once by
// simulating the scenario at rates chosen by src/econ/capacity-plan.ts; each month then needs
// ceil(demand / ((1 − headroom) · capacity)) replicas, priced rented, owned and as API tokens.
import { writeFile } from "node:fs/promises"
import { Command, InvalidArgumentError } from "commander"
import { Console, Effect } from "effect"
import {
  capacityOf,
  capacityPlan,
  growthDemand,
  nextCapacityProbe,
  parseRate,
  type CapacityPlan,
  type CapacityProbe,
  type PlanInputs,
} from "../econ/capacity-plan.ts"
import { defaultOwnedInputs, hourlyCost } from "../econ/cost-model.ts"
import { lookupGpuPrice } from "../econ/gpu-prices.ts"
import type { BenchMetrics } from "../econ/point.ts"
import { apiPriceKey } from "../econ/run-cost.ts"
import { checkSlo, type SloSpec } from "../econ/saturation.ts"
import { API_PRICES } from "../econ/token-cost.ts"
import { simulate } from "../sim/simulate.ts"
import { summarize, type SimSummary } from "../sim/summary.ts"
import { buildSimSpec, resolveScenario } from "../scenario/resolve.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { decimal, flagsToScenario, positiveInt, positiveNumber, workloadKindOverride, type ScenarioFlags } from "./flags.ts"
import { defaultScenarioPath } from "./load-scenario.ts"
import { runCommand } from "./run-effect.ts"
import { decodeScenario, mergeScenario, readScenarioFile } from "../scenario/schema.ts"
import { addScalarScenarioFlags, sloFrom } from "./sweep.ts"
import { writeJson } from "./simulate.ts"

/** Defaults of the price trends, each with where it comes from (README "servesim plan" cites them). */
export const PLAN_DEFAULTS = {
  cloudPriceDecline: {
    value: "20%/year",
    source: "RBC Capital Markets GPU rental data via the FT (2025): H100 on-demand rates −22%, H200 −29% year to date; SemiAnalysis's index rebounded +40% Oct 2025→Mar 2026, so the trend is uncertain",
  },
  purchasePriceDecline: {
    value: "0%/year",
    source: "new H100/H200 list prices held at ~$25k–40k since launch (SemiAnalysis/eBay figures collected at neighborhoodsf.com 'H100 rental prices'); a card's price does not follow its rental rate",
  },
  apiPriceDecline: {
    value: "10x/year",
    source: "a16z 'LLMflation' (Appenzeller, Nov 2024): price at equal capability falls ~10× a year; Epoch AI 'LLM inference price trends' (Mar 2025): 9×–900× a year by benchmark. For one fixed model the fall is likely slower: set your own",
  },
  headroom: { value: 0.2, source: "an assumption, not a measurement: 20% of the SLO-limited capacity kept free for bursts above the monthly mean" },
} as const

interface PlanFlags extends ScenarioFlags {
  demand?: string
  startRate?: number
  growth?: string
  months?: number
  slo?: string
  headroom: number
  cloudPrice?: number
  cloudPriceDecline: string
  purchasePrice?: number
  purchasePriceDecline: string
  years?: number
  powerKw?: number
  pue?: number
  electricityPrice?: number
  maintenanceRate?: number
  apiPrice?: string
  apiPriceDecline: string
  json?: boolean
  out?: string
  report?: string
}

/** Flags plan sets itself (the load) or takes as lists. */
const NOT_SCENARIO = ["--rate", "--concurrency", "--stages", "--burstiness", "--trace", "--replicas", "--goodput"]
const PLAN_KEYS = [
  "demand", "startRate", "growth", "months", "slo", "headroom", "cloudPrice", "cloudPriceDecline", "purchasePrice", "purchasePriceDecline",
  "years", "powerKw", "pue", "electricityPrice", "maintenanceRate", "apiPrice", "apiPriceDecline", "json", "out", "report",
]

const fraction = (v: string): number => {
  const n = decimal(v)
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError("expected a fraction in [0, 1)")
  return n
}

const nonNegative = (v: string): number => {
  const n = decimal(v)
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError("expected a number ≥ 0")
  return n
}

const rateFlag = (flag: string, text: string, per: "month" | "year", kind: "growth" | "decline"): Effect.Effect<number, InputError> => {
  const r = parseRate(text, per, kind)
  return typeof r === "string" ? Effect.fail(new InputError({ message: `${flag}: ${r}` })) : Effect.succeed(r)
}

const demandCurve = (f: PlanFlags): Effect.Effect<number[], InputError> =>
  Effect.gen(function* () {
    if (f.demand !== undefined) {
      if (f.startRate !== undefined || f.growth !== undefined || f.months !== undefined)
        return yield* new InputError({ message: "--demand: give either a demand list or --start-rate/--growth/--months, not both" })
      const parts = f.demand.split(",").map((s) => s.trim())
      const values = parts.map(decimal)
      const bad = values.findIndex((v) => !(v >= 0) || !Number.isFinite(v))
      if (bad >= 0) return yield* new InputError({ message: `--demand: entry ${bad + 1} "${parts[bad]}" is not a request rate ≥ 0 (req/s per month, comma-separated)` })
      if (values.length > 600) return yield* new InputError({ message: `--demand: ${values.length} months; at most 600 (50 years)` })
      return values
    }
    if (f.startRate === undefined) return yield* new InputError({ message: "--demand or --start-rate: the demand curve is required (e.g. --start-rate 5 --growth 15%/month --months 24)" })
    const growth = yield* rateFlag("--growth", f.growth ?? "0%/month", "month", "growth")
    const months = f.months ?? 24
    if (months > 600) return yield* new InputError({ message: `--months: ${months}; at most 600 (50 years)` })
    return growthDemand(f.startRate, growth, months)
  })

/** API prices "IN/OUT" or "BOTH" USD per 1M tokens; default: the cheapest listed API for the model. */
const apiPrices = (f: PlanFlags, modelId: string): Effect.Effect<{ inputPerM: number; outputPerM: number; source: string }, InputError> =>
  Effect.gen(function* () {
    if (f.apiPrice !== undefined) {
      const parts = f.apiPrice.split("/").map(decimal)
      if (parts.length > 2 || parts.some((x) => !(x >= 0) || !Number.isFinite(x)))
        return yield* new InputError({ message: `--api-price: "${f.apiPrice}" is not USD per 1M tokens as IN/OUT (e.g. 0.03/0.05) or one price for both` })
      return { inputPerM: parts[0]!, outputPerM: parts[1] ?? parts[0]!, source: "--api-price" }
    }
    const listed = API_PRICES.filter((p) => p.model === apiPriceKey(modelId))
    if (listed.length === 0) return yield* new InputError({ message: `--api-price: no API price is listed for ${modelId}; give one as IN/OUT USD per 1M tokens` })
    const cheapest = listed.reduce((a, b) => (b.inputPerM + b.outputPerM < a.inputPerM + a.outputPerM ? b : a))
    return { inputPerM: cheapest.inputPerM, outputPerM: cheapest.outputPerM, source: `${cheapest.provider} (cheapest listed; ${cheapest.source ?? "src/econ/token-cost.ts"})` }
  })

export interface PlanReport {
  readonly scenario: string
  readonly model: string
  readonly gpu: string
  readonly gpusPerReplica: number
  readonly slo: SloSpec
  readonly capacity: { readonly requestsPerSecond: number; readonly probes: ReadonlyArray<CapacityProbe>; readonly numRequests: number }
  readonly assumptions: Readonly<Record<string, { readonly value: number | string; readonly source: string }>>
  readonly plan: CapacityPlan
}

const usd = (x: number): string => (x >= 1e6 ? `$${(x / 1e6).toFixed(2)}M` : x >= 1e4 ? `$${(x / 1e3).toFixed(1)}k` : `$${x.toFixed(0)}`)

export const formatPlan = (r: PlanReport): string => {
  const lines = [
    `capacity plan: ${r.model} on ${r.gpusPerReplica}× ${r.gpu} per replica; ${r.capacity.requestsPerSecond.toPrecision(4)} req/s per replica meets ${sloText(r.slo)} (${r.capacity.probes.length} simulated rates, ${r.capacity.numRequests} requests each)`,
    "",
    ["month", "req/s", "replicas", "GPUs", "owned GPUs", "cloud", "owned", "api", "cheapest"].map((h, i) => (i === 0 ? h.padEnd(5) : h.padStart(11))).join(""),
  ]
  for (const m of r.plan.months)
    lines.push(
      [String(m.month).padEnd(5), m.demand.toPrecision(4), String(m.replicas), String(m.gpus), String(m.ownedGpus), usd(m.cost.cloud), usd(m.cost.owned), usd(m.cost.api), m.cheapest]
        .map((c, i) => (i === 0 ? c : c.padStart(11)))
        .join(""),
    )
  lines.push("")
  lines.push(`total over ${r.plan.months.length} months: cloud ${usd(r.plan.total.cloud)}, owned ${usd(r.plan.total.owned)}, api ${usd(r.plan.total.api)}`)
  lines.push(
    r.plan.flips.length === 0
      ? `cheapest throughout: ${r.plan.months[0]?.cheapest ?? "-"}`
      : r.plan.flips.map((f) => `month ${f.month}: the cheapest choice flips from ${f.from} to ${f.to}`).join("\n"),
  )
  if (r.plan.flips.length > 0 && r.plan.settled !== undefined) lines.push(`from month ${r.plan.settled.month} to the end: ${r.plan.settled.option} is cheapest every month`)
  lines.push("assumptions (override with flags):")
  for (const [k, a] of Object.entries(r.assumptions)) lines.push(`  ${k} = ${a.value} — ${a.source}`)
  return lines.join("\n")
}

const sloText = (s: SloSpec): string =>
  [s.ttftMs === undefined ? "" : `TTFT ≤ ${s.ttftMs} ms`, s.tpotMs === undefined ? "" : `TPOT ≤ ${s.tpotMs} ms`, s.e2elMs === undefined ? "" : `E2E ≤ ${s.e2elMs} ms`]
    .filter((x) => x !== "")
    .join(", ") + ` (${s.stat})`

const program = (path: string | undefined, f: PlanFlags) =>
  Effect.gen(function* () {
    const file = path ?? defaultScenarioPath
    const raw = yield* readScenarioFile(file)
    const { sweep: _sweep, ...fileScenario } = raw
    const scalar: Record<string, unknown> = { ...f }
    for (const k of PLAN_KEYS) delete scalar[k]
    const merged = mergeScenario(workloadKindOverride(fileScenario, scalar as ScenarioFlags), flagsToScenario(scalar as ScenarioFlags))
    const slo = yield* sloFrom(f.slo, "--slo")
    const demand = yield* demandCurve(f)
    const w = typeof merged.workload === "object" && merged.workload !== null ? (merged.workload as Record<string, unknown>) : {}
    const { concurrency: _c, stages: _s, arrival: _a, trace: _t, rate: _r, ...shape } = w
    const at = (rate: number): Record<string, unknown> => ({ ...merged, replicas: 1, workload: { ...shape, rate } })
    const first = yield* resolveScenario(yield* decodeScenario(at(1), file))
    // One replica's capacity: the highest simulated rate meeting the SLOs.
    const probes: CapacityProbe[] = []
    let atCapacity: SimSummary | undefined
    for (let rate = nextCapacityProbe(probes); rate !== undefined; rate = nextCapacityProbe(probes)) {
      const resolved = yield* resolveScenario(yield* decodeScenario(at(rate), file))
      const summary = summarize(simulate(buildSimSpec(resolved)))
      const meets = checkSlo(summary as unknown as BenchMetrics, slo).meets
      probes.push({ rate, meets })
      if (meets && rate === capacityOf(probes)) atCapacity = summary
    }
    const capacity = capacityOf(probes)
    if (capacity === undefined || atCapacity === undefined)
      return yield* new InputError({ message: `--slo: one replica of ${first.model.id} on ${first.par.tp * first.par.pp}× ${first.gpu.id} misses ${sloText(slo)} even at ${probes.at(-1)?.rate.toPrecision(3)} req/s` })
    const m = atCapacity as unknown as BenchMetrics
    const owned = defaultOwnedInputs(first.gpu.id)
    const facts = lookupGpuPrice(first.gpu.id)
    const need = (flag: string, v: number | undefined) =>
      v === undefined ? Effect.fail(new InputError({ message: `${flag}: ${first.gpu.id} has no default price; give one` })) : Effect.succeed(v)
    const cloudPrice = yield* need("--cloud-price", f.cloudPrice ?? facts?.cloudReference?.value)
    const purchasePrice = yield* need("--purchase-price", f.purchasePrice ?? owned?.purchasePrice)
    const powerKw = f.powerKw ?? owned?.powerKw ?? 0
    const pue = f.pue ?? owned?.pue ?? 1
    const electricityPrice = f.electricityPrice ?? owned?.electricityPrice ?? 0
    const maintenanceRate = f.maintenanceRate ?? owned?.maintenanceRate ?? 0
    const years = f.years ?? owned?.years ?? 3
    if (pue < 1) return yield* new InputError({ message: `--pue: ${pue}; a PUE is ≥ 1` })
    const api = yield* apiPrices(f, first.model.id)
    const apiDecline = yield* rateFlag("--api-price-decline", f.apiPriceDecline, "year", "decline")
    const inputs: PlanInputs = {
      demand,
      capacityPerReplica: capacity,
      gpusPerReplica: first.par.tp * first.par.pp,
      headroom: f.headroom,
      inputTokensPerRequest: m.completed > 0 ? m.total_input_tokens / m.completed : 0,
      outputTokensPerRequest: m.completed > 0 ? m.total_output_tokens / m.completed : 0,
      cloudUsdPerGpuHour: cloudPrice,
      cloudYearlyDecline: yield* rateFlag("--cloud-price-decline", f.cloudPriceDecline, "year", "decline"),
      purchasePrice,
      purchaseYearlyDecline: yield* rateFlag("--purchase-price-decline", f.purchasePriceDecline, "year", "decline"),
      amortisationYears: years,
      powerUsdPerGpuHour: hourlyCost({ kind: "owned", purchasePrice, years, utilization: 1, powerKw, pue, electricityPrice, maintenanceRate }).power,
      maintenanceRate,
      apiInputPerM: api.inputPerM,
      apiOutputPerM: api.outputPerM,
      apiYearlyFactor: 1 / (1 - apiDecline),
    }
    const report: PlanReport = {
      scenario: path ?? "scenarios/default.json",
      model: first.model.id,
      gpu: first.gpu.id,
      gpusPerReplica: inputs.gpusPerReplica,
      slo,
      capacity: { requestsPerSecond: capacity, probes, numRequests: m.completed },
      assumptions: {
        headroom: { value: f.headroom, source: f.headroom === PLAN_DEFAULTS.headroom.value ? PLAN_DEFAULTS.headroom.source : "--headroom" },
        cloudUsdPerGpuHour: { value: cloudPrice, source: f.cloudPrice !== undefined ? "--cloud-price" : (facts?.cloudReference?.source ?? "") },
        cloudPriceDecline: { value: f.cloudPriceDecline, source: f.cloudPriceDecline === PLAN_DEFAULTS.cloudPriceDecline.value ? PLAN_DEFAULTS.cloudPriceDecline.source : "--cloud-price-decline" },
        purchasePrice: { value: purchasePrice, source: f.purchasePrice !== undefined ? "--purchase-price" : (facts?.purchasePrice.source ?? "") },
        purchasePriceDecline: { value: f.purchasePriceDecline, source: f.purchasePriceDecline === PLAN_DEFAULTS.purchasePriceDecline.value ? PLAN_DEFAULTS.purchasePriceDecline.source : "--purchase-price-decline" },
        amortisationYears: { value: years, source: f.years !== undefined ? "--years" : "src/econ/cost-model.ts DEFAULT_YEARS (straight line, 3 years)" },
        powerUsdPerGpuHour: { value: Number(inputs.powerUsdPerGpuHour.toPrecision(4)), source: `kW ${powerKw} × PUE ${pue} × $${electricityPrice}/kWh (src/econ/cost-model.ts defaults unless given)` },
        maintenanceRate: { value: maintenanceRate, source: f.maintenanceRate !== undefined ? "--maintenance-rate" : "src/econ/cost-model.ts DEFAULT_MAINTENANCE_RATE" },
        apiPricePerM: { value: `${api.inputPerM}/${api.outputPerM}`, source: api.source },
        apiPriceDecline: { value: f.apiPriceDecline, source: f.apiPriceDecline === PLAN_DEFAULTS.apiPriceDecline.value ? PLAN_DEFAULTS.apiPriceDecline.source : "--api-price-decline" },
        tokensPerRequest: { value: `${inputs.inputTokensPerRequest.toFixed(0)} in / ${inputs.outputTokensPerRequest.toFixed(0)} out`, source: "the scenario's workload, simulated" },
      },
      plan: capacityPlan(inputs),
    }
    if (f.out !== undefined) yield* writeJson(f.out, report)
    if (f.report !== undefined) {
      const { planReportHtml } = yield* Effect.promise(() => import("../report/plan-chart.ts"))
      const html = yield* Effect.promise(() => planReportHtml(report))
      const out = f.report
      yield* Effect.tryPromise({ try: () => writeFile(out, html), catch: (e) => new FileError({ message: `cannot write ${out}: ${e instanceof Error ? e.message : String(e)}` }) })
    }
    if (f.json === true) return yield* Console.log(JSON.stringify(report, null, 2))
    yield* Console.log(formatPlan(report))
    if (f.report !== undefined) yield* Console.log(`wrote ${f.report}`)
  })

export const register = (cli: Command): void => {
  const cmd = cli
    .command("plan")
    .description("capacity plan over months: GPUs needed for a demand curve under SLOs, and monthly cost rented vs owned vs API, with the month the cheapest choice flips")
    .argument("[scenario]", "scenario file: model, GPU, layout and request lengths (its load is replaced by the plan's rates)")
    .option("--demand <req/s,...>", "mean requests/s in each month, comma-separated (month 0 first)")
    .option("--start-rate <req/s>", "demand in month 0 (with --growth and --months)", positiveNumber)
    .option("--growth <rate>", "demand growth, e.g. 15%/month or 300%/year (default 0)")
    .option("--months <n>", "months to plan with --start-rate (default 24)", positiveInt)
    .option("--slo <spec>", "SLOs one replica must meet, e.g. ttft:1000,tpot:50[,e2el:20000][,stat:p99] (default ttft:1000,tpot:50)")
    .option("--headroom <f>", "fraction of a replica's SLO capacity kept free, [0, 1)", fraction, PLAN_DEFAULTS.headroom.value)
    .option("--cloud-price <usd>", "cloud rental, USD per GPU-hour in month 0 (default: the GPU's reference on-demand rate)", nonNegative)
    .option("--cloud-price-decline <rate>", "yearly fall of the rental rate, e.g. 20%/year", PLAN_DEFAULTS.cloudPriceDecline.value)
    .option("--purchase-price <usd>", "owned: price per card in month 0 (default: the GPU's street price)", nonNegative)
    .option("--purchase-price-decline <rate>", "yearly fall of the card price", PLAN_DEFAULTS.purchasePriceDecline.value)
    .option("--years <n>", "owned: straight-line amortisation, years (default 3)", positiveNumber)
    .option("--power-kw <kw>", "owned: average board power per GPU, kW (default: TDP)", nonNegative)
    .option("--pue <x>", "owned: data-centre PUE, ≥ 1 (default 1.58)", nonNegative)
    .option("--electricity-price <usd>", "owned: USD per kWh (default 0.088)", nonNegative)
    .option("--maintenance-rate <m>", "owned: yearly maintenance as a fraction of the price paid (default 0.2)", nonNegative)
    .option("--api-price <in/out>", "API USD per 1M input/output tokens in month 0 (default: the cheapest listed API for the model)")
    .option("--api-price-decline <rate>", "yearly fall of API prices: 10x/year or 90%/year", PLAN_DEFAULTS.apiPriceDecline.value)
    .option("--json", "print the plan as JSON")
    .option("--out <plan.json>", "write the plan JSON to a file")
    .option("--report <plan.html>", "write an HTML page with the plan's plot and table")
  addScalarScenarioFlags(cmd, new Set(NOT_SCENARIO)).action((path: string | undefined, flags: PlanFlags) => runCommand(program(path, flags)))
}
