// The scenario a command runs: the file named (or scenarios/default.json), flags merged over it,
// decoded, then resolved into profiles and a spec factory.
import { Effect } from "effect"
import { fileURLToPath } from "node:url"
import { resolveScenario, type ResolvedScenario } from "../scenario/resolve.ts"
import { InputError, type FileError } from "../scenario/errors.ts"
import { flaggedFields, flagsToScenario, type ScenarioFlags } from "./flags.ts"
import { decodeScenario, readScenarioFile, withFlagNames } from "../scenario/schema.ts"
import { scenarioWithFlags, type VllmBenchFlags } from "./vllm-bench-flags.ts"

export const defaultScenarioPath = fileURLToPath(new URL("../../scenarios/default.json", import.meta.url))

export const loadScenario = (path: string | undefined, flags: ScenarioFlags & VllmBenchFlags): Effect.Effect<ResolvedScenario, InputError | FileError> =>
  Effect.gen(function* () {
    const file = path ?? defaultScenarioPath
    const fileScenario = yield* readScenarioFile(file)
    const withFlags = scenarioWithFlags(fileScenario, flags, path !== undefined)
    if (typeof withFlags === "string") return yield* new InputError({ message: withFlags })
    // A bad value a flag gave is named by the flag, not by the file.
    const flagged = flaggedFields(withFlags.flags)
    const scenario = yield* decodeScenario(withFlags.scenario, file, flagged)
    const resolved0 = yield* resolveScenario(scenario).pipe(
      Effect.mapError((e) => (e._tag === "InputError" ? new InputError({ message: withFlagNames(e.message, flagged) }) : e)),
    )
    const resolved = withFlags.notes.length === 0 ? resolved0 : { ...resolved0, notes: [...resolved0.notes, ...withFlags.notes] }
    if (path !== undefined) return resolved
    const defaults = defaultsUsed(fileScenario, flagsToScenario(withFlags.flags), withFlags.scenario)
    return defaults.length === 0 ? resolved : { ...resolved, notes: [...resolved.notes, `defaults from scenarios/default.json: ${defaults.join(", ")}`] }
  })

/** The leaf fields of the default scenario that no flag replaced and the run kept ("workload.numRequests=1000", …). */
const defaultsUsed = (base: Record<string, unknown>, given: Record<string, unknown>, merged: Record<string, unknown>): string[] => {
  const out: string[] = []
  const child = (o: unknown, k: string): unknown => (typeof o === "object" && o !== null ? (o as Record<string, unknown>)[k] : undefined)
  const walk = (b: unknown, g: unknown, m: unknown, prefix: string): void => {
    if (typeof b !== "object" || b === null || Array.isArray(b)) {
      if (g === undefined && m !== undefined) out.push(`${prefix}=${JSON.stringify(b)}`)
      return
    }
    for (const [k, v] of Object.entries(b)) {
      if (k === "name") continue
      walk(v, child(g, k), child(m, k), prefix === "" ? k : `${prefix}.${k}`)
    }
  }
  walk(base, given, merged, "")
  return out
}
