// A calibrated step-time profile: what `servesim calibrate` writes and simulate/validate/serve read
// with --profile. Plain JSON: the deployment it was measured on, the fitted coefficients and request
// overheads, and the KV capacity the server reported.
import { COEFFICIENT_NAMES, COEFFICIENTS_ADDED_LATER, checkCoefficients, type StepTimeCoefficients } from "../hw/physics-step-time.ts"
import type { RequestOverheads } from "../hw/types.ts"

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
}

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
  if (bad !== undefined) return `coefficients: ${bad}`
  const o = raw.overheads
  if (!isObject(o)) return "overheads: expected an object"
  for (const k of OVERHEAD_NAMES) {
    const v = o[k]
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return `overheads.${k}: expected a number ≥ 0`
  }
  for (const k of ["numGpuBlocks", "blockSize"] as const) {
    const v = raw[k]
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) return `${k}: expected a positive integer`
  }
  return raw as unknown as StepTimeProfile
}
