// The scenario a command runs: the file named (or scenarios/default.json), flags merged over it,
// decoded, then resolved into profiles and a spec factory.
import { Effect } from "effect"
import { fileURLToPath } from "node:url"
import { resolveScenario, type ResolvedScenario } from "./build-spec.ts"
import type { FileError, InputError } from "./errors.ts"
import { flagsToScenario, workloadKindOverride, type ScenarioFlags } from "./flags.ts"
import { decodeScenario, mergeScenario, readScenarioFile } from "./scenario.ts"

export const defaultScenarioPath = fileURLToPath(new URL("../../scenarios/default.json", import.meta.url))

export const loadScenario = (path: string | undefined, flags: ScenarioFlags): Effect.Effect<ResolvedScenario, InputError | FileError> =>
  Effect.gen(function* () {
    const file = path ?? defaultScenarioPath
    const base = workloadKindOverride(yield* readScenarioFile(file), flags)
    const merged = mergeScenario(base, flagsToScenario(flags))
    const scenario = yield* decodeScenario(merged, file)
    return yield* resolveScenario(scenario)
  })
