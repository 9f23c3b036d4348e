// The shipped step-time coefficients (coefficients.json, written by `npm run fit-defaults`) and the
// default step-time model built from them. A GPU of a generation without kernel data borrows another
// generation's coefficients but keeps its own datasheet figures: an A800 is predicted with the A100
// (ampere) efficiencies and its own 400 GB/s NVLink, so only its all-reduce payload time differs.
import data from "./coefficients.json" with { type: "json" }
import { checkCoefficients, COEFFICIENTS_ADDED_LATER, physicsStepTime, type StepTimeCoefficients } from "./physics-step-time.ts"
import type { HardwareSetup } from "./step-time-terms.ts"
import type { GpuProfile, KvCacheDtype, ModelProfile, Parallelism, Precision, RequestOverheads, StepTimeModel } from "./types.ts"

export interface DatasetFitError {
  readonly dataset: string
  readonly generation: string
  readonly points: number
  /** Median |predicted − measured| / measured, %. */
  readonly medianAbsPercentError: number
  /** "fit": the dataset set coefficients; "held out": a check it did not see; "comparison": an alternative rule's fit. */
  readonly role: "fit" | "held out" | "comparison"
}

export interface GenerationCoefficients {
  /** GPUs whose kernel timings the coefficients were fitted on. */
  readonly fittedOn: ReadonlyArray<string>
  readonly coefficients: StepTimeCoefficients
}

/** Shape of coefficients.json. */
export interface CoefficientsFile {
  readonly kind: "servesim-default-coefficients"
  readonly version: 1
  readonly generated: string
  readonly generations: Readonly<Record<string, GenerationCoefficients>>
  /** Generations without kernel data → the generation whose coefficients they use. */
  readonly generationFallback: Readonly<Record<string, string>>
  /**
   * Per-GPU memory efficiencies where a GPU has its own kernel tables (H100's HBM3 reaches a larger
   * share of its datasheet bandwidth than H200's HBM3e); other GPUs use their generation's pooled value.
   */
  readonly gpuOverrides?: Readonly<Record<string, Partial<StepTimeCoefficients>>>
  /**
   * Fused-MoE coefficients of an expert shape ("hidden x width x experts x topk") on a GPU, fitted on that
   * shape's own bf16 kernel rows: used for a model with exactly those experts served in bf16.
   */
  readonly moeShapeOverrides?: Readonly<Record<string, Readonly<Record<string, Partial<StepTimeCoefficients>>>>>
  readonly overheads: RequestOverheads
  readonly fit: ReadonlyArray<DatasetFitError>
}

const load = (raw: unknown): CoefficientsFile => {
  const f = raw as CoefficientsFile
  if (f.kind !== "servesim-default-coefficients" || f.version !== 1) throw new Error("coefficients.json: unexpected kind or version")
  for (const [g, c] of Object.entries(f.generations)) {
    const coefficients = c.coefficients as unknown as Record<string, number>
    for (const [k, v] of Object.entries(COEFFICIENTS_ADDED_LATER)) if (coefficients[k] === undefined) coefficients[k] = v
    const bad = checkCoefficients(c.coefficients)
    if (bad !== undefined) throw new Error(`coefficients.json ${g}: ${bad}`)
  }
  for (const [gpu, o] of Object.entries(f.gpuOverrides ?? {}))
    for (const [k, v] of Object.entries(o)) if (typeof v !== "number" || !(v >= 0)) throw new Error(`coefficients.json gpuOverrides.${gpu}.${k}: expected a number ≥ 0`)
  return f
}

export const defaultCoefficientsFile: CoefficientsFile = load(data)

/** The generation whose fitted coefficients a GPU uses. */
export const coefficientGeneration = (gpu: GpuProfile, file: CoefficientsFile = defaultCoefficientsFile): string => {
  if (file.generations[gpu.generation] !== undefined) return gpu.generation
  const fallback = file.generationFallback[gpu.generation]
  if (fallback !== undefined && file.generations[fallback] !== undefined) return fallback
  const first = Object.keys(file.generations).sort()[0]
  if (first === undefined) throw new Error("coefficients.json has no generations")
  return first
}

export const defaultCoefficients = (gpu: GpuProfile, file: CoefficientsFile = defaultCoefficientsFile): StepTimeCoefficients => {
  const base = (file.generations[coefficientGeneration(gpu, file)] as GenerationCoefficients).coefficients
  const own = file.gpuOverrides?.[gpu.id]
  return own === undefined ? base : { ...base, ...own }
}

export const defaultOverheads: RequestOverheads = defaultCoefficientsFile.overheads

/** The expert-shape key of a MoE model (moeShapeOverrides). */
export const expertShapeKey = (m: ModelProfile): string => `${m.hiddenSize}x${m.moeIntermediateSize}x${m.numExperts}x${m.numExpertsPerTok}`

/**
 * The shipped coefficients for a setup: its GPU's, with its expert shape's own fused-MoE fit when the
 * table timed those experts and they are served in bf16 (quantized experts run other kernels).
 */
export const coefficientsFor = (setup: HardwareSetup, file: CoefficientsFile = defaultCoefficientsFile): StepTimeCoefficients => {
  const base = defaultCoefficients(setup.gpu, file)
  const m = setup.model
  const bf16Experts = m.numExperts > 0 && m.expertBytesPerWeight === undefined && (setup.precision === "bf16" || setup.precision === "fp16")
  const own = bf16Experts ? file.moeShapeOverrides?.[expertShapeKey(m)]?.[setup.gpu.id] : undefined
  return own === undefined ? base : { ...base, ...own }
}

/** The physics step-time model with the shipped coefficients of the GPU's generation. */
export function defaultStepTime(setup: HardwareSetup): StepTimeModel
export function defaultStepTime(model: ModelProfile, gpu: GpuProfile, precision: Precision, kvCacheDtype: KvCacheDtype, par: Parallelism): StepTimeModel
export function defaultStepTime(
  a: HardwareSetup | ModelProfile,
  gpu?: GpuProfile,
  precision?: Precision,
  kvCacheDtype?: KvCacheDtype,
  par?: Parallelism,
): StepTimeModel {
  const setup: HardwareSetup =
    "model" in a ? a : { model: a, gpu: gpu as GpuProfile, precision: precision as Precision, kvCacheDtype: kvCacheDtype as KvCacheDtype, par: par as Parallelism }
  const gen = coefficientGeneration(setup.gpu)
  const s = setup
  return physicsStepTime({
    ...setup,
    coefficients: coefficientsFor(setup),
    overheads: defaultOverheads,
    name: `default-${gen}(${s.model.id} on ${s.par.tp * s.par.pp}x${s.gpu.id} ${s.precision} kv=${s.kvCacheDtype} tp=${s.par.tp} pp=${s.par.pp} ep=${s.par.ep})`,
  })
}
