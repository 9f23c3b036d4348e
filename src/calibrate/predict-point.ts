// Simulates the setting of one measured point (validate, calibrate): scenario from the point,
// resolved like any scenario file, run, summarised.
import { Effect } from "effect"
import { buildSimSpec, resolveScenario, type ResolvedScenario } from "../scenario/resolve.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { decodeScenario, parseStructured, readText } from "../scenario/schema.ts"
import { physicsStepTime, type StepTimeCoefficients } from "../hw/physics-step-time.ts"
import type { RequestOverheads, StepTimeModel } from "../hw/types.ts"
import { simulate } from "../sim/simulate.ts"
import { summarize, type SimSummary } from "../sim/summary.ts"
import { parseSharedPrefixSpec, type SharedPrefixSpec } from "../sim/workload/shared-prefix.ts"
import type { MeasuredPoint } from "./measurements.ts"
import { scenarioForPoint, workloadSpecPath, type PointScenarioOptions } from "./point-scenario.ts"

const specCache = new Map<string, SharedPrefixSpec>()

const readSpec = (path: string): Effect.Effect<SharedPrefixSpec, InputError | FileError> =>
  Effect.gen(function* () {
    const cached = specCache.get(path)
    if (cached !== undefined) return cached
    const spec = parseSharedPrefixSpec(yield* parseStructured(yield* readText(path), path))
    if (typeof spec === "string") return yield* new InputError({ message: `${path}: ${spec}` })
    specCache.set(path, spec)
    return spec
  })

/** The scenario object for a point, reading its workload spec when it names one. */
export const pointScenario = (p: MeasuredPoint, o: PointScenarioOptions): Effect.Effect<Record<string, unknown>, InputError | FileError> =>
  Effect.gen(function* () {
    const specPath = workloadSpecPath(p)
    const spec = specPath === undefined ? undefined : yield* readSpec(specPath)
    const s = scenarioForPoint(p, { ...o, ...(spec !== undefined ? { spec } : {}) })
    if (typeof s === "string") return yield* new InputError({ message: `${p.source}: ${s}` })
    return s
  })

/** Runs a resolved scenario: with its own step-time model by default, with other coefficients in fits. */
export type RunResolved = (r: ResolvedScenario) => SimSummary

const runResolved: RunResolved = (r) => summarize(simulate(buildSimSpec(r)))

/** Simulates a scenario object (as built by pointScenario, possibly edited). */
export const simulateScenarioObject = (raw: Record<string, unknown>, source: string, run: RunResolved = runResolved): Effect.Effect<SimSummary, InputError | FileError> =>
  Effect.gen(function* () {
    const scenario = yield* decodeScenario(raw, source)
    const resolved = yield* resolveScenario(scenario)
    return run(resolved)
  })

/** The physics step time of a resolved scenario's deployment with other coefficients and overheads. */
export const stepTimeWithCoefficients = (r: ResolvedScenario, coefficients: StepTimeCoefficients, overheads: RequestOverheads, name?: string): StepTimeModel =>
  physicsStepTime({
    model: r.model,
    gpu: r.gpu,
    precision: r.precision,
    kvCacheDtype: r.kvCacheDtype,
    par: r.par,
    asyncScheduling: r.engine.asyncScheduling === true,
    topKTopPSampling: r.topKTopPSampling,
    samplingPenalties: r.samplingPenalties,
    coefficients,
    overheads,
    ...(name !== undefined ? { name } : {}),
  })

/** Simulates a resolved scenario with other step-time coefficients and request overheads (fits). */
export const simulateWithCoefficients = (r: ResolvedScenario, coefficients: StepTimeCoefficients, overheads: RequestOverheads, name?: string): SimSummary =>
  summarize(simulate(buildSimSpec({ ...r, stepTime: stepTimeWithCoefficients(r, coefficients, overheads, name) })))

export const predictPoint = (p: MeasuredPoint, o: PointScenarioOptions = {}): Effect.Effect<SimSummary, InputError | FileError> =>
  Effect.flatMap(pointScenario(p, o), (s) => simulateScenarioObject(s, p.source))
