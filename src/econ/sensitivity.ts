// One-at-a-time sensitivity of $/token to the cost parameters (a tornado): each parameter moves ±20 %
// while the others stay at their base values. The simulated throughput does not depend on the cost
// parameters, so $/token scales with the GPU-hour cost: y' = y · C_h(inputs') / C_h(inputs). Pure.
import { hourlyCost, type GpuCostInputs, type OwnedCostInputs } from "./cost-model.ts"

export const DEFAULT_SENSITIVITY_DELTA = 0.2

export interface TornadoRow {
  readonly parameter: string
  readonly label: string
  readonly baseValue: number
  readonly lowValue: number
  readonly highValue: number
  /** The output with the parameter at lowValue / highValue. */
  readonly outputAtLow: number
  readonly outputAtHigh: number
  /** |outputAtHigh − outputAtLow| */
  readonly swing: number
  /** Set when a bound was clamped to the parameter's domain (utilisation cannot exceed 1). */
  readonly note?: string
}

export interface Tornado {
  /** What the output is, e.g. "USD per 1M output tokens". */
  readonly output: string
  readonly baseOutput: number
  readonly delta: number
  /** Sorted by swing, largest first. */
  readonly rows: ReadonlyArray<TornadoRow>
}

export interface TornadoParameter {
  readonly parameter: string
  readonly label: string
  readonly baseValue: number
  readonly evaluate: (value: number) => number
  /** Largest allowed value (bounds are clamped to it). */
  readonly max?: number
}

export const tornado = (
  output: string,
  baseOutput: number,
  parameters: ReadonlyArray<TornadoParameter>,
  delta: number = DEFAULT_SENSITIVITY_DELTA,
): Tornado => {
  const rows = parameters.map((p): TornadoRow => {
    const rawLow = p.baseValue * (1 - delta)
    const rawHigh = p.baseValue * (1 + delta)
    const lowValue = p.max === undefined ? rawLow : Math.min(rawLow, p.max)
    const highValue = p.max === undefined ? rawHigh : Math.min(rawHigh, p.max)
    const outputAtLow = p.evaluate(lowValue)
    const outputAtHigh = p.evaluate(highValue)
    const clamped = highValue !== rawHigh || lowValue !== rawLow
    return {
      parameter: p.parameter,
      label: p.label,
      baseValue: p.baseValue,
      lowValue,
      highValue,
      outputAtLow,
      outputAtHigh,
      swing: Math.abs(outputAtHigh - outputAtLow),
      ...(clamped ? { note: `capped at ${p.max}` } : {}),
    }
  })
  rows.sort((a, b) => b.swing - a.swing || a.parameter.localeCompare(b.parameter))
  return { output, baseOutput, delta, rows }
}

const LABELS: Readonly<Record<keyof OwnedCostInputs, string>> = {
  purchasePrice: "purchase price P",
  years: "depreciation years Y",
  utilization: "utilisation u",
  powerKw: "board power kW",
  pue: "PUE",
  electricityPrice: "electricity price E",
  maintenanceRate: "maintenance rate m",
}

/**
 * Tornado of a $/token figure over the cost parameters. `baseOutput` is the figure at `inputs`.
 * With `includeThroughput`, adds a row for the simulated throughput moving ±20 % ($/token ∝ 1/throughput),
 * to set the cost inputs against the simulator's own uncertainty.
 */
export const costTornado = (
  inputs: GpuCostInputs,
  baseOutput: number,
  output = "USD per 1M output tokens",
  options: { readonly delta?: number; readonly includeThroughput?: boolean } = {},
): Tornado => {
  const delta = options.delta ?? DEFAULT_SENSITIVITY_DELTA
  const baseHourly = hourlyCost(inputs).total
  const scale = (alt: GpuCostInputs) => (baseHourly > 0 ? (baseOutput * hourlyCost(alt).total) / baseHourly : 0)
  const params: TornadoParameter[] = []
  if (inputs.kind === "cloud") {
    params.push({
      parameter: "usdPerGpuHour",
      label: "cloud price per GPU-hour",
      baseValue: inputs.usdPerGpuHour,
      evaluate: (v) => scale({ kind: "cloud", usdPerGpuHour: v }),
    })
  } else {
    for (const key of Object.keys(LABELS) as Array<keyof OwnedCostInputs>) {
      params.push({
        parameter: key,
        label: LABELS[key],
        baseValue: inputs[key],
        evaluate: (v) => scale({ ...inputs, [key]: v }),
        ...(key === "utilization" ? { max: 1 } : {}),
      })
    }
  }
  if (options.includeThroughput === true) {
    params.push({
      parameter: "throughput",
      label: "simulated throughput",
      baseValue: 1,
      evaluate: (v) => baseOutput / v,
    })
  }
  return tornado(output, baseOutput, params, delta)
}
