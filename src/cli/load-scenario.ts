// The scenario a command runs: the file named (or scenarios/default.json), flags merged over it,
// decoded, then resolved into profiles and a spec factory.
import { Effect } from "effect"
import { fileURLToPath } from "node:url"
import { resolveScenario, type ResolvedScenario } from "../scenario/resolve.ts"
import { InputError, type FileError } from "../scenario/errors.ts"
import { flaggedFields, flagsToScenario, workloadKindOverride, type ScenarioFlags } from "./flags.ts"
import { decodeScenario, mergeScenario, readScenarioFile, withFlagNames } from "../scenario/schema.ts"

export const defaultScenarioPath = fileURLToPath(new URL("../../scenarios/default.json", import.meta.url))

export const loadScenario = (path: string | undefined, flags: ScenarioFlags): Effect.Effect<ResolvedScenario, InputError | FileError> =>
  Effect.gen(function* () {
    const file = path ?? defaultScenarioPath
    const base = workloadKindOverride(yield* readScenarioFile(file), flags)
    const merged = mergeScenario(base, flagsToScenario(flags))
    const flagged = flaggedFields(flags)
    const scenario = yield* decodeScenario(merged, file, flagged)
    const resolved = yield* resolveScenario(scenario).pipe(
      Effect.mapError((e) => (e._tag === "InputError" ? new InputError({ message: withFlagNames(e.message, flagged) }) : e)),
    )
    if (path !== undefined) return resolved
    const defaults = defaultsUsed(base, flagsToScenario(flags))
    return defaults.length === 0 ? resolved : { ...resolved, notes: [...resolved.notes, `defaults from scenarios/default.json: ${defaults.join(", ")}`] }
  })

/** The leaf fields of the default scenario that no flag replaced ("workload.numRequests=1000", …). */
const defaultsUsed = (base: Record<string, unknown>, given: Record<string, unknown>): string[] => {
  const out: string[] = []
  const walk = (b: unknown, g: unknown, prefix: string): void => {
    if (typeof b !== "object" || b === null || Array.isArray(b)) {
      if (g === undefined) out.push(`${prefix}=${JSON.stringify(b)}`)
      return
    }
    for (const [k, v] of Object.entries(b)) {
      if (k === "name") continue
      const gv = typeof g === "object" && g !== null ? (g as Record<string, unknown>)[k] : undefined
      walk(v, gv, prefix === "" ? k : `${prefix}.${k}`)
    }
  }
  walk(base, given, "")
  return out
}
