// The knobs calibrate fits: each a log-multiplier on a group of step-time coefficients, or on one
// request overhead, of the shipped defaults. Shared by the fit and by prediction intervals, which
// perturb a fitted profile along the same knobs.
import type { StepTimeCoefficients } from "../hw/physics-step-time.ts"
import type { RequestOverheads } from "../hw/types.ts"

/** |θ| a fit allows a knob (a multiplier within e^±6 ≈ ×1/400–×400): calibrate's LM bound, and the clamp of interval draws. */
export const KNOB_BOUND = 6

/** A fitted knob: a log-multiplier on a group of coefficients, or on one request overhead. */
interface Knob {
  readonly name: string
  readonly coefficients: ReadonlyArray<keyof StepTimeCoefficients>
  readonly overhead?: keyof RequestOverheads
  /** Value at θ = 0 for a knob whose default is 0 (seconds). */
  readonly floor: number
}

// Weight streaming and fixed latencies are both paid once per step whatever the batch, so one model's
// measurements cannot tell them apart: they move together as one "per-step" knob.
export const KNOBS: ReadonlyArray<Knob> = [
  {
    name: "per-step",
    coefficients: [
      "weightRead",
      "moeExpertWeight",
      "allReduceLatency",
      "allReduceRankSkew",
      "moeAllToAllLatency",
      "ppHandoffLatency",
      "gemmKernelLatency",
      "gemmKernelLatencyLowPrecision",
      "layerLaunch",
      "stepOverhead",
    ],
    floor: 0,
  },
  // Decode cost that grows with the batch's context: what separates TPOT at low and high load.
  { name: "kv-read", coefficients: ["kvRead", "attentionPerSlot"], floor: 0 },
  { name: "compute", coefficients: ["gemmCompute", "gemmComputeLowPrecision", "marlinDequant", "moeCompute", "moeDispatch", "attentionCompute", "elementwise"], floor: 0 },
  { name: "ingress", coefficients: [], overhead: "ingressBase", floor: 2e-3 },
  { name: "per-request-step", coefficients: ["perRequestStepOverhead"], floor: 2e-5 },
]

export interface Calibrated {
  readonly coefficients: StepTimeCoefficients
  readonly overheads: RequestOverheads
}

/** Coefficients and overheads at θ: each knob scales its group's defaults (or its floor when 0). */
export const applyKnobs = (theta: ReadonlyArray<number>, base: Calibrated): Calibrated => {
  const c: Record<string, number> = { ...base.coefficients }
  const o: Record<string, number> = { ...base.overheads }
  KNOBS.forEach((k, i) => {
    const m = Math.exp(theta[i]!)
    for (const name of k.coefficients) {
      const v = base.coefficients[name]
      c[name] = (v > 0 ? v : k.floor) * m
    }
    if (k.overhead !== undefined) {
      const v = base.overheads[k.overhead]
      o[k.overhead] = (v > 0 ? v : k.floor) * m
    }
  })
  return { coefficients: c as unknown as StepTimeCoefficients, overheads: o as unknown as RequestOverheads }
}

/**
 * A fitted profile moved by δ along the named knobs: each knob's group (and overhead) is multiplied by
 * e^δ. The fitted values already are (default or floor) × e^θ, so this is applyKnobs at θ + δ.
 * Unknown names are refused (a profile written by another servesim version).
 */
export const shiftKnobs = (cal: Calibrated, names: ReadonlyArray<string>, delta: ReadonlyArray<number>): Calibrated | string => {
  const c: Record<string, number> = { ...cal.coefficients }
  const o: Record<string, number> = { ...cal.overheads }
  for (let i = 0; i < names.length; i++) {
    const k = KNOBS.find((x) => x.name === names[i])
    if (k === undefined) return `unknown knob "${names[i]}" (known: ${KNOBS.map((x) => x.name).join(", ")})`
    const m = Math.exp(delta[i]!)
    for (const name of k.coefficients) c[name] = cal.coefficients[name] * m
    if (k.overhead !== undefined) o[k.overhead] = cal.overheads[k.overhead] * m
  }
  return { coefficients: c as unknown as StepTimeCoefficients, overheads: o as unknown as RequestOverheads }
}
