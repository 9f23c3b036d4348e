// Which step-time model a scenario runs with: a calibrated profile (--profile) or the shipped defaults
// fitted on kernel timings (src/hw/coefficients.json), for the scenario's model, GPU and layout.
import { Effect } from "effect"
import { defaultStepTime } from "../hw/default-coefficients.ts"
import { physicsStepTime } from "../hw/physics-step-time.ts"
import type { HardwareSetup } from "../hw/step-time-terms.ts"
import type { StepTimeModel } from "../hw/types.ts"
import { parseProfile } from "./profile.ts"
import { FileError, InputError } from "./errors.ts"
import { parseStructured, readText, type Scenario } from "./schema.ts"

export interface StepTimeChoice {
  readonly model: StepTimeModel
  /** KV capacity measured with the profile, when it applies to this deployment. */
  readonly numGpuBlocks?: number
}

/** Profiles already warned about in this process (a sweep resolves one scenario many times). */
const warnedProfiles = new Set<string>()

export const stepTimeFor = (s: Scenario, setup: HardwareSetup): Effect.Effect<StepTimeChoice, InputError | FileError> =>
  Effect.gen(function* () {
    if (s.profile === undefined) return { model: defaultStepTime(setup) }
    const path = s.profile
    const p = parseProfile(yield* parseStructured(yield* readText(path), path))
    if (typeof p === "string") return yield* new InputError({ message: `profile ${path}: ${p}` })
    const model = physicsStepTime({ ...setup, coefficients: p.coefficients, overheads: p.overheads, name: `profile(${path})` })
    const sameDeployment =
      p.model.toLowerCase() === setup.model.id.toLowerCase() &&
      p.gpu === setup.gpu.id &&
      p.tp === setup.par.tp &&
      p.pp === setup.par.pp &&
      p.precision === setup.precision
    if (!sameDeployment && !warnedProfiles.has(path)) {
      warnedProfiles.add(path)
      process.stderr.write(
        `warning: profile ${path} was fitted on ${p.model} on ${p.gpu} tp=${p.tp} pp=${p.pp} ${p.precision}; applied to ${setup.model.id} on ${setup.gpu.id} ` +
          `tp=${setup.par.tp} pp=${setup.par.pp} ${setup.precision}, it is extrapolated by the physics model (expect larger errors)\n`,
      )
    }
    // The measured block count only holds for the deployment it was measured on.
    const same = sameDeployment && p.numGpuBlocks !== undefined && (s.engine?.blockSize === undefined || s.engine.blockSize === p.blockSize)
    return same ? { model, numGpuBlocks: p.numGpuBlocks! } : { model }
  })
