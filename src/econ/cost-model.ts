// Cost of one GPU-hour, either owner-operated (Zhuang et al., arXiv 2510.26136, Appendix A):
//   C_h = P/(Y·8760·u) + kW·PUE·E + P·m/8760
// or a cloud rental rate. Pure.
//
// The paper's own values of P, Y, u, kW, PUE, E and m are not in any stored copy (economics.md §1.2);
// only its result, ≈ $0.79/h for one A800 80G, is. The defaults below are cited one by one; the one
// free choice, m, is taken inside its cited range so that the A800 comes to the paper's $0.79 at u = 1.
import { lookupGpuPrice } from "./gpu-prices.ts"

export const HOURS_PER_YEAR = 8760

/** Inputs of the owner-operated formula, per GPU. */
export interface OwnedCostInputs {
  /** P: purchase price, USD per card. */
  readonly purchasePrice: number
  /** Y: straight-line depreciation period, years. */
  readonly years: number
  /** u: fraction of the depreciation period's hours the GPU does paid work, (0, 1]. */
  readonly utilization: number
  /** kW: average board power, kW. */
  readonly powerKw: number
  /** PUE: facility power / IT power, ≥ 1. */
  readonly pue: number
  /** E: electricity price, USD per kWh. */
  readonly electricityPrice: number
  /** m: yearly maintenance as a fraction of P. */
  readonly maintenanceRate: number
}

export type GpuCostInputs =
  | ({ readonly kind: "owned" } & OwnedCostInputs)
  | { readonly kind: "cloud"; readonly usdPerGpuHour: number }

export interface HourlyCostBreakdown {
  readonly kind: "owned" | "cloud"
  /** USD per GPU-hour; zero for cloud. */
  readonly depreciation: number
  readonly power: number
  readonly maintenance: number
  /** The rental rate; zero for owned. */
  readonly cloud: number
  readonly total: number
}

/** Generic defaults shared by every GPU; each names its source. */
export const DEFAULT_YEARS = 3 // deluair.com compute-cost-curve: 24/36/48-month base cases (middle); computetape.com: 3-year straight line
export const DEFAULT_UTILIZATION = 1 // full utilisation: the baseline at which the paper's A800 figure is quoted (per the issue brief)
export const DEFAULT_PUE = 1.58 // Uptime Institute Global Data Center Survey 2023: industry average PUE 1.58
export const DEFAULT_ELECTRICITY_PRICE = 0.088 // china-briefing.com: average industrial power rate in China ≈ US$0.088/kWh (2024); the paper's rig is in China
// Hardware service contracts run 10–25 % of the purchase price a year (hardware.wmlcloud.com forum answer;
// librarytechnology.org 10–12 %; randalleaton.com 10–30 %). 20 % lies inside that range and makes the
// A800 total ≈ $0.79/h, the paper's figure.
export const DEFAULT_MAINTENANCE_RATE = 0.2

export const COST_PARAMETER_NAMES: ReadonlyArray<keyof OwnedCostInputs> = [
  "purchasePrice",
  "years",
  "utilization",
  "powerKw",
  "pue",
  "electricityPrice",
  "maintenanceRate",
]

/** Owned-cost defaults for a GPU id from src/hw/gpus.ts, or undefined when the id has no price. */
export const defaultOwnedInputs = (gpuId: string): OwnedCostInputs | undefined => {
  const facts = lookupGpuPrice(gpuId)
  if (facts === undefined) return undefined
  return {
    purchasePrice: facts.purchasePrice.value,
    years: DEFAULT_YEARS,
    utilization: DEFAULT_UTILIZATION,
    powerKw: facts.boardPowerWatts.value / 1000,
    pue: DEFAULT_PUE,
    electricityPrice: DEFAULT_ELECTRICITY_PRICE,
    maintenanceRate: DEFAULT_MAINTENANCE_RATE,
  }
}

/** Where each default for this GPU comes from, for --json output and the report. */
export const defaultSources = (gpuId: string): Readonly<Record<keyof OwnedCostInputs, string>> | undefined => {
  const facts = lookupGpuPrice(gpuId)
  if (facts === undefined) return undefined
  return {
    purchasePrice: facts.purchasePrice.source,
    years: "deluair.com compute-cost-curve 36-month base case; computetape.com 3-year straight line",
    utilization: "full utilisation, the baseline of the paper's $0.79/h A800 figure (paper's own u not available)",
    powerKw: facts.boardPowerWatts.source,
    pue: "Uptime Institute Global Data Center Survey 2023: average PUE 1.58",
    electricityPrice: "china-briefing.com: China average industrial power rate ≈ $0.088/kWh (2024)",
    maintenanceRate: "hardware service contracts 10–25 %/yr of purchase price (wmlcloud forum, librarytechnology.org); 20 % reproduces the paper's $0.79/h A800",
  }
}

/** First invalid field as a one-line message, or undefined when all are usable. */
export const validateCostInputs = (inputs: GpuCostInputs): string | undefined => {
  const bad = (name: string, value: number, rule: string) => `${name} must be ${rule}, got ${value}`
  const finite = (x: number) => Number.isFinite(x)
  if (inputs.kind === "cloud") {
    return finite(inputs.usdPerGpuHour) && inputs.usdPerGpuHour >= 0
      ? undefined
      : bad("cloud price", inputs.usdPerGpuHour, "a number ≥ 0")
  }
  if (!finite(inputs.purchasePrice) || inputs.purchasePrice < 0) return bad("purchase price", inputs.purchasePrice, "≥ 0")
  if (!finite(inputs.years) || inputs.years <= 0) return bad("years", inputs.years, "> 0")
  if (!finite(inputs.utilization) || inputs.utilization <= 0 || inputs.utilization > 1)
    return bad("utilization", inputs.utilization, "in (0, 1]")
  if (!finite(inputs.powerKw) || inputs.powerKw < 0) return bad("power", inputs.powerKw, "≥ 0 kW")
  if (!finite(inputs.pue) || inputs.pue < 1) return bad("PUE", inputs.pue, "≥ 1")
  if (!finite(inputs.electricityPrice) || inputs.electricityPrice < 0)
    return bad("electricity price", inputs.electricityPrice, "≥ 0")
  if (!finite(inputs.maintenanceRate) || inputs.maintenanceRate < 0)
    return bad("maintenance rate", inputs.maintenanceRate, "≥ 0")
  return undefined
}

export const hourlyCost = (inputs: GpuCostInputs): HourlyCostBreakdown => {
  if (inputs.kind === "cloud") {
    const c = inputs.usdPerGpuHour
    return { kind: "cloud", depreciation: 0, power: 0, maintenance: 0, cloud: c, total: c }
  }
  const depreciation = inputs.purchasePrice / (inputs.years * HOURS_PER_YEAR * inputs.utilization)
  const power = inputs.powerKw * inputs.pue * inputs.electricityPrice
  const maintenance = (inputs.purchasePrice * inputs.maintenanceRate) / HOURS_PER_YEAR
  return { kind: "owned", depreciation, power, maintenance, cloud: 0, total: depreciation + power + maintenance }
}

/** Cost of `gpus` GPUs for `seconds` of wall time (the paper's "1.58 × T/3600" for two A800s). */
export const gpuTimeCost = (usdPerGpuHour: number, gpus: number, seconds: number): number =>
  (usdPerGpuHour * gpus * seconds) / 3600
