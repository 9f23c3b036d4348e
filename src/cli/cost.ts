// `servesim cost --gpu G [owned-cost flags | --cloud-price X] [--count N] [--json]`: the hourly cost of
// one GPU (depreciation, power, maintenance; or a cloud rate) with the sources of the defaults.
import type { Command } from "commander"
import { Console, Effect } from "effect"
import {
  defaultOwnedInputs,
  defaultSources,
  hourlyCost,
  validateCostInputs,
  type GpuCostInputs,
  type HourlyCostBreakdown,
  type OwnedCostInputs,
} from "../econ/cost-model.ts"
import { GPU_PRICE_IDS, lookupGpuPrice } from "../econ/gpu-prices.ts"
import { InputError } from "./errors.ts"
import { runCommand } from "./run-effect.ts"

export interface CostFlags {
  readonly gpu?: string
  readonly purchasePrice?: string
  readonly years?: string
  readonly utilization?: string
  readonly powerKw?: string
  readonly pue?: string
  readonly electricityPrice?: string
  readonly maintenanceRate?: string
  readonly cloudPrice?: string
  readonly count?: string
  readonly json?: boolean
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/** One owned-cost flag: its name, the input it sets, and its domain. */
const OWNED_FLAGS: ReadonlyArray<{
  readonly key: keyof OwnedCostInputs & keyof CostFlags
  readonly flag: string
  readonly ok: (x: number) => boolean
  readonly rule: string
}> = [
  { key: "purchasePrice", flag: "--purchase-price", ok: (x) => x >= 0, rule: "a price in USD ≥ 0" },
  { key: "years", flag: "--years", ok: (x) => x > 0, rule: "a number of years > 0" },
  { key: "utilization", flag: "--utilization", ok: (x) => x > 0 && x <= 1, rule: "a fraction in (0, 1]" },
  { key: "powerKw", flag: "--power-kw", ok: (x) => x >= 0, rule: "a power in kW ≥ 0" },
  { key: "pue", flag: "--pue", ok: (x) => x >= 1, rule: "a PUE ≥ 1" },
  { key: "electricityPrice", flag: "--electricity-price", ok: (x) => x >= 0, rule: "USD per kWh ≥ 0" },
  { key: "maintenanceRate", flag: "--maintenance-rate", ok: (x) => x >= 0, rule: "a yearly fraction ≥ 0 (0.2 = 20 %)" },
]

const parseNumber = (flag: string, text: string, ok: (x: number) => boolean, rule: string) =>
  NUMBER.test(text.trim()) && ok(Number(text))
    ? Effect.succeed(Number(text))
    : Effect.fail(new InputError({ message: `${flag} must be ${rule}, got "${text}"` }))

export interface CostReport {
  readonly gpu: string
  readonly name?: string
  readonly inputs: GpuCostInputs
  readonly breakdown: HourlyCostBreakdown
  readonly count: number
  /** USD per hour for `count` GPUs. */
  readonly totalPerHour: number
  /** Sources of the defaults that were used (owned cost only). */
  readonly sources: Readonly<Partial<Record<keyof OwnedCostInputs, string>>>
  readonly cloudReference?: { readonly usdPerGpuHour: number; readonly source: string }
}

/** Validates the flags and computes the breakdown. */
export const costReport = (flags: CostFlags): Effect.Effect<CostReport, InputError> =>
  Effect.gen(function* () {
    const gpu = flags.gpu?.trim()
    if (gpu === undefined || gpu === "")
      return yield* new InputError({ message: `--gpu is required (one of ${GPU_PRICE_IDS.join(", ")})` })
    const facts = lookupGpuPrice(gpu)
    const count = flags.count === undefined ? 1 : yield* parseNumber("--count", flags.count, (x) => Number.isInteger(x) && x >= 1, "an integer ≥ 1")
    const given = OWNED_FLAGS.filter((f) => flags[f.key] !== undefined)
    let inputs: GpuCostInputs
    const sources: Partial<Record<keyof OwnedCostInputs, string>> = {}
    if (flags.cloudPrice !== undefined) {
      if (given.length > 0)
        return yield* new InputError({
          message: `--cloud-price replaces the owned-cost flags; drop ${given.map((f) => f.flag).join(", ")}`,
        })
      inputs = { kind: "cloud", usdPerGpuHour: yield* parseNumber("--cloud-price", flags.cloudPrice, (x) => x >= 0, "USD per GPU-hour ≥ 0") }
    } else {
      const defaults = defaultOwnedInputs(gpu)
      if (defaults === undefined && given.length < OWNED_FLAGS.length)
        return yield* new InputError({
          message: `no default price for GPU "${gpu}" (known: ${GPU_PRICE_IDS.join(", ")}); give --cloud-price or all of ${OWNED_FLAGS.map((f) => f.flag).join(" ")}`,
        })
      const values: Record<keyof OwnedCostInputs, number> = {
        purchasePrice: defaults?.purchasePrice ?? 0,
        years: defaults?.years ?? 0,
        utilization: defaults?.utilization ?? 0,
        powerKw: defaults?.powerKw ?? 0,
        pue: defaults?.pue ?? 0,
        electricityPrice: defaults?.electricityPrice ?? 0,
        maintenanceRate: defaults?.maintenanceRate ?? 0,
      }
      const defaultSource = defaultSources(gpu)
      for (const f of OWNED_FLAGS) {
        const text = flags[f.key]
        if (text !== undefined) values[f.key] = yield* parseNumber(f.flag, text, f.ok, f.rule)
        else if (defaultSource !== undefined) sources[f.key] = defaultSource[f.key]
      }
      inputs = { kind: "owned", ...values }
    }
    const invalid = validateCostInputs(inputs)
    if (invalid !== undefined) return yield* new InputError({ message: invalid })
    const breakdown = hourlyCost(inputs)
    return {
      gpu: facts?.id ?? gpu,
      ...(facts === undefined ? {} : { name: facts.name }),
      inputs,
      breakdown,
      count,
      totalPerHour: breakdown.total * count,
      sources,
      ...(facts?.cloudReference === undefined
        ? {}
        : { cloudReference: { usdPerGpuHour: facts.cloudReference.value, source: facts.cloudReference.source } }),
    }
  })

const money = (x: number) => `$${x.toFixed(4)}`
const num = (x: number) => String(Number(x.toPrecision(6)))

export const formatCostReport = (r: CostReport): string => {
  const lines: string[] = []
  const b = r.breakdown
  const head = `${r.gpu}${r.name === undefined ? "" : ` (${r.name})`}`
  if (r.inputs.kind === "cloud") {
    lines.push(`${head}: cloud rate, per GPU-hour`)
    lines.push(`  cloud         ${money(b.cloud)}`)
  } else {
    const i = r.inputs
    lines.push(`${head}: owner-operated, per GPU-hour (arXiv 2510.26136 App. A)`)
    lines.push(`  depreciation  ${money(b.depreciation)}   P/(Y·8760·u) = ${num(i.purchasePrice)}/(${num(i.years)}·8760·${num(i.utilization)})`)
    lines.push(`  power         ${money(b.power)}   kW·PUE·E = ${num(i.powerKw)}·${num(i.pue)}·${num(i.electricityPrice)}`)
    lines.push(`  maintenance   ${money(b.maintenance)}   P·m/8760 = ${num(i.purchasePrice)}·${num(i.maintenanceRate)}/8760`)
  }
  lines.push(`  total         ${money(b.total)} per GPU-hour`)
  if (r.count > 1) lines.push(`  ${`×${r.count} GPUs`.padEnd(14)}${money(r.totalPerHour)} per hour`)
  if (r.cloudReference !== undefined)
    lines.push(`  cloud reference: $${r.cloudReference.usdPerGpuHour}/GPU-h (${r.cloudReference.source})`)
  const sourceEntries = Object.entries(r.sources)
  if (sourceEntries.length > 0) {
    lines.push("defaults:")
    for (const [k, v] of sourceEntries) lines.push(`  ${k}: ${v}`)
  }
  return lines.join("\n")
}

export const costProgram = (flags: CostFlags): Effect.Effect<void, InputError> =>
  costReport(flags).pipe(
    Effect.flatMap((r) => Console.log(flags.json === true ? JSON.stringify(r, null, 2) : formatCostReport(r))),
  )

export const register = (program: Command): void => {
  program
    .command("cost")
    .description("Hourly cost of one GPU: depreciation + power + maintenance (owner-operated) or a cloud rate")
    .option("--gpu <id>", `GPU id (${GPU_PRICE_IDS.join(", ")})`)
    .option("--purchase-price <usd>", "P: purchase price per card, USD")
    .option("--years <n>", "Y: depreciation period, years")
    .option("--utilization <u>", "u: fraction of hours in paid use, (0, 1]")
    .option("--power-kw <kw>", "average board power, kW (default: TDP)")
    .option("--pue <x>", "data-centre PUE, ≥ 1")
    .option("--electricity-price <usd>", "E: USD per kWh")
    .option("--maintenance-rate <m>", "m: yearly maintenance as a fraction of P")
    .option("--cloud-price <usd>", "cloud USD per GPU-hour instead of the owned-cost model")
    .option("--count <n>", "number of GPUs for the total", "1")
    .option("--json", "print JSON")
    .action((flags: CostFlags) => runCommand(costProgram(flags)))
}
