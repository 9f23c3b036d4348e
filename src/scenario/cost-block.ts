// The scenario's `cost` block and the cost flags: validated once into cost inputs per GPU (the owned-cost
// model of src/econ/cost-model.ts, or a cloud rate), for simulate, sweep, search and `servesim cost`.
import { Effect, Schema } from "effect"
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
import { formatSchemaError } from "./schema.ts"

/** Cost settings as a command line gives them (text, parsed here) or a scenario's cost block (numbers, kept as numbers). */
export interface CostFlags {
  readonly gpu?: string
  readonly purchasePrice?: string | number
  readonly years?: string | number
  readonly utilization?: string | number
  readonly powerKw?: string | number
  readonly pue?: string | number
  readonly electricityPrice?: string | number
  readonly maintenanceRate?: string | number
  readonly cloudPrice?: string | number
  readonly count?: string | number
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

const parseNumber = (flag: string, value: string | number, ok: (x: number) => boolean, rule: string) => {
  const x = typeof value === "number" ? value : NUMBER.test(value.trim()) ? Number(value) : Number.NaN
  return Number.isFinite(x) && ok(x)
    ? Effect.succeed(x)
    : Effect.fail(new InputError({ message: `${flag} must be ${rule}, got ${typeof value === "number" ? value : `"${value}"`}` }))
}

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
      inputs = { kind: "cloud", usdPerGpuHour: yield* parseNumber(typeof flags.cloudPrice === "number" ? "cost.cloudPrice" : "--cloud-price", flags.cloudPrice, (x) => x >= 0, "USD per GPU-hour ≥ 0") }
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
        // A number comes from a scenario's cost block, text from a flag: the message names its source.
        if (text !== undefined) values[f.key] = yield* parseNumber(typeof text === "number" ? `cost.${f.key}` : f.flag, text, f.ok, f.rule)
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

// ---------------------------------------------------------------------------------------------------
// Cost parameters: the scenario's `cost` block, overridden by the cost flags (as `servesim cost`).

const CostNumbers = {
  cloudPrice: Schema.optionalKey(Schema.Finite),
  /** A flat USD per GPU-hour (same as cloudPrice; e.g. the paper's owned $0.79/h). */
  usdPerGpuHour: Schema.optionalKey(Schema.Finite),
  purchasePrice: Schema.optionalKey(Schema.Finite),
  years: Schema.optionalKey(Schema.Finite),
  utilization: Schema.optionalKey(Schema.Finite),
  powerKw: Schema.optionalKey(Schema.Finite),
  pue: Schema.optionalKey(Schema.Finite),
  electricityPrice: Schema.optionalKey(Schema.Finite),
  maintenanceRate: Schema.optionalKey(Schema.Finite),
}
const CostBlock = Schema.Struct({
  ...CostNumbers,
  /** Per-GPU overrides, keyed by GPU id. */
  gpus: Schema.optionalKey(Schema.Record(Schema.String, Schema.Struct(CostNumbers))),
  note: Schema.optionalKey(Schema.String),
})
type CostNumbersType = Schema.Struct<typeof CostNumbers>["Type"]

export const COST_KEYS = ["cloudPrice", "purchasePrice", "years", "utilization", "powerKw", "pue", "electricityPrice", "maintenanceRate"] as const

export type CostFlagValues = Pick<CostFlags, (typeof COST_KEYS)[number]>

/** The cost settings of a command's flags (the other flags left out). */
export const pickCostFlags = (f: CostFlagValues): CostFlagValues => {
  const out: Record<string, string | number> = {}
  for (const k of COST_KEYS) {
    const v = f[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

const costFlagsOf = (n: CostNumbersType | undefined): CostFlagValues => {
  if (n === undefined) return {}
  const out: Record<string, number> = {}
  for (const k of COST_KEYS) {
    const v = k === "cloudPrice" ? (n.cloudPrice ?? n.usdPerGpuHour) : n[k]
    if (v !== undefined) out[k] = v
  }
  return out
}

/**
 * Cost inputs per GPU id for analyzeSweep: for each GPU the scenario's cost block (general, then its
 * `gpus` entry) with the cost flags over it. GPUs with nothing given are left out (the analysis then
 * uses the cited owned-cost defaults of src/econ/cost-model.ts).
 */
export const gpuCostsFor = (
  gpuIds: ReadonlyArray<string>,
  rawBlock: unknown,
  flags: CostFlagValues,
  source: string,
): Effect.Effect<Record<string, GpuCostInputs>, InputError> =>
  Effect.gen(function* () {
    const block =
      rawBlock === undefined
        ? undefined
        : yield* Schema.decodeUnknownEffect(CostBlock)(rawBlock, { errors: "all", onExcessProperty: "error" }).pipe(
            Effect.mapError((e) => new InputError({ message: `${source}: cost.${formatSchemaError(e)}` })),
          )
    const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as CostFlagValues
    const out: Record<string, GpuCostInputs> = {}
    for (const gpu of gpuIds) {
      const merged: CostFlagValues = { ...costFlagsOf(block), ...costFlagsOf(block?.gpus?.[gpu]) }
      // A flag of the other kind (cloud vs owned) replaces the block's settings instead of clashing.
      const flagCloud = given.cloudPrice !== undefined
      const flagOwned = Object.keys(given).some((k) => k !== "cloudPrice")
      const base: CostFlagValues = flagCloud ? {} : flagOwned ? { ...merged, cloudPrice: undefined } : merged
      const all = Object.fromEntries(Object.entries({ ...base, ...given }).filter(([, v]) => v !== undefined)) as CostFlagValues
      if (Object.keys(all).length === 0) continue
      const report = yield* costReport({ gpu, ...all }).pipe(
        Effect.mapError((e) => new InputError({ message: `cost of ${gpu}: ${e.message}` })),
      )
      out[gpu] = report.inputs
    }
    return out
  })
