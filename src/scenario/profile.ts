// A calibrated step-time profile: what `servesim calibrate` writes and simulate/validate/serve read
// with --profile. Plain JSON: the deployment it was measured on, the fitted coefficients and request
// overheads, and the KV capacity the server reported.
import { COEFFICIENT_NAMES, COEFFICIENTS_ADDED_LATER, checkCoefficients, type StepTimeCoefficients } from "../hw/physics-step-time.ts"
import type { RequestOverheads } from "../hw/types.ts"

/** How a profile's parameter covariance was estimated (src/calibrate/uncertainty.ts). */
export type UncertaintyMethod = "jacobian" | "bootstrap"
export const UNCERTAINTY_METHODS: ReadonlyArray<UncertaintyMethod> = ["jacobian", "bootstrap"]

export const PROFILE_KIND = "servesim-profile"

export interface StepTimeProfile {
  readonly kind: typeof PROFILE_KIND
  readonly version: 1
  /** The deployment measured (informative; the profile can be applied to others, physics scales it). */
  readonly model: string
  readonly gpu: string
  readonly tp: number
  readonly pp: number
  readonly precision: string
  readonly coefficients: StepTimeCoefficients
  readonly overheads: RequestOverheads
  /** vLLM's num_gpu_blocks from the server's cache_config_info, when scraped. */
  readonly numGpuBlocks?: number
  readonly blockSize?: number
  /** What it was fitted on (model(s), GPU, TP, engine versions, num_gpu_blocks, sources), for people and warnings. */
  readonly fittedOn?: unknown
  /** How the fit went (per-point and cross-validated errors), for people reading the file. */
  readonly fit?: unknown
  /** How uncertain the fit is, for prediction intervals (absent in profiles written before it existed). */
  readonly uncertainty?: ProfileUncertainty
}

/**
 * The fit's uncertainty in the space it was fitted in: log-multipliers ("knobs", src/calibrate/knobs.ts)
 * applied on top of the profile's coefficients, so a shift of 0 is the profile itself.
 */
export interface ProfileUncertainty {
  /** How `covariance` was estimated (src/calibrate/uncertainty.ts). */
  readonly method: UncertaintyMethod
  /** The fitted knobs, in the order of the covariance's rows. */
  readonly knobs: ReadonlyArray<string>
  /** Covariance of the knobs' log-multipliers. */
  readonly covariance: ReadonlyArray<ReadonlyArray<number>>
  /** "bootstrap": knob shifts of bootstrap replicates, the draws prediction intervals simulate. */
  readonly samples?: ReadonlyArray<ReadonlyArray<number>>
  /** Log-scale residual standard deviation per fitted metric (ttft, tpot, e2el): the model error. */
  readonly residualSd: Readonly<Record<string, number>>
  /** Residuals the fit had (N) and knobs it fitted (p). */
  readonly residuals: number
}

const isFiniteArray = (v: unknown, length: number): v is number[] =>
  Array.isArray(v) && v.length === length && v.every((x) => typeof x === "number" && Number.isFinite(x))

/** Checks the uncertainty block; a one-line error naming the field, or undefined when it is sound. */
const uncertaintyError = (u: unknown): string | undefined => {
  if (!isObject(u)) return "uncertainty: expected an object"
  if (!UNCERTAINTY_METHODS.includes(u.method as UncertaintyMethod)) return `uncertainty.method: expected one of ${UNCERTAINTY_METHODS.join(", ")}`
  const knobs = u.knobs
  if (!Array.isArray(knobs) || knobs.length === 0 || !knobs.every((k) => typeof k === "string")) return "uncertainty.knobs: expected a non-empty list of knob names"
  const p = knobs.length
  const cov = u.covariance
  if (!Array.isArray(cov) || cov.length !== p || !cov.every((row) => isFiniteArray(row, p))) return `uncertainty.covariance: expected a ${p}×${p} matrix of numbers`
  for (let i = 0; i < p; i++) {
    if (!((cov[i] as number[])[i]! >= 0)) return `uncertainty.covariance[${i}][${i}]: a variance must be ≥ 0`
  }
  if (u.samples !== undefined && (!Array.isArray(u.samples) || !u.samples.every((row) => isFiniteArray(row, p))))
    return `uncertainty.samples: expected a list of ${p}-number rows`
  if (u.method === "bootstrap" && (u.samples === undefined || (u.samples as unknown[]).length === 0)) return "uncertainty.samples: required with method bootstrap"
  if (!isObject(u.residualSd)) return "uncertainty.residualSd: expected an object of metric: log-scale sd"
  for (const [k, v] of Object.entries(u.residualSd)) if (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v)) return `uncertainty.residualSd.${k}: expected a number ≥ 0`
  if (!Number.isInteger(u.residuals) || (u.residuals as number) <= p) return `uncertainty.residuals: expected an integer above the ${p} knobs`
  return undefined
}

/** A request overhead (ingress, per token, completion) of 10 minutes is no longer a server's latency. */
const MAX_OVERHEAD_SECONDS = 600

const OVERHEAD_NAMES: ReadonlyArray<keyof RequestOverheads> = ["ingressBase", "ingressPerInputToken", "perOutputToken", "completion"]

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Checks a parsed profile file; returns the profile or a one-line error naming the field. */
export const parseProfile = (raw: unknown): StepTimeProfile | string => {
  if (!isObject(raw)) return "expected a JSON object"
  if (raw.kind !== PROFILE_KIND) return `kind: expected "${PROFILE_KIND}"`
  if (raw.version !== 1) return "version: expected 1"
  for (const k of ["model", "gpu", "precision"] as const) if (typeof raw[k] !== "string") return `${k}: expected a string`
  for (const k of ["tp", "pp"] as const) if (!Number.isInteger(raw[k]) || (raw[k] as number) < 1) return `${k}: expected a positive integer`
  const c = raw.coefficients
  if (!isObject(c)) return "coefficients: expected an object"
  for (const k of COEFFICIENT_NAMES) {
    // Coefficients added after a profile was written default to what the model it was fitted with had.
    if (c[k] === undefined && k in COEFFICIENTS_ADDED_LATER) c[k] = COEFFICIENTS_ADDED_LATER[k]
    if (typeof c[k] !== "number") return `coefficients.${k}: expected a number`
  }
  const bad = checkCoefficients(c as unknown as StepTimeCoefficients)
  if (bad !== undefined) return `coefficients.${bad.replace(/^coefficient /, "")}`
  const o = raw.overheads
  if (!isObject(o)) return "overheads: expected an object"
  for (const k of OVERHEAD_NAMES) {
    const v = o[k]
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > MAX_OVERHEAD_SECONDS)
      return `overheads.${k}: ${JSON.stringify(v)} is outside [0, ${MAX_OVERHEAD_SECONDS}] (seconds)`
  }
  for (const [k, max] of [["numGpuBlocks", 100_000_000], ["blockSize", 1024]] as const) {
    const v = raw[k]
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max))
      return `${k}: ${JSON.stringify(v)} is outside [1, ${max.toLocaleString("en-US")}] (an integer)`
  }
  if (raw.uncertainty !== undefined) {
    const bad = uncertaintyError(raw.uncertainty)
    if (bad !== undefined) return bad
  }
  return raw as unknown as StepTimeProfile
}
