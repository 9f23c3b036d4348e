// Access to the measured data in ../shared/data (beside the repository root; CI has it there
// too). Tests that need a file skip with the path in their title when it is absent, and a companion
// test fails instead when CI=true, so CI can never pass by silently skipping.

import { existsSync, readFileSync, readdirSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { isRecord } from "../../src/format/json.ts"

const here = path.dirname(fileURLToPath(import.meta.url))

export const SHARED_DATA = process.env["SERVESIM_SHARED_DATA"] ?? path.resolve(here, "../../../shared/data")

export const IN_CI = process.env["CI"] === "true"

export const dataPath = (...parts: ReadonlyArray<string>): string => path.join(SHARED_DATA, ...parts)

export const hasData = (...parts: ReadonlyArray<string>): boolean => existsSync(dataPath(...parts))

export const readJson = (...parts: ReadonlyArray<string>): unknown => JSON.parse(readFileSync(dataPath(...parts), "utf8"))

/** Sub-directories of a data directory (empty when it does not exist). */
export const subdirs = (...parts: ReadonlyArray<string>): string[] =>
  hasData(...parts)
    ? readdirSync(dataPath(...parts), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : []

export const skipReason = (...parts: ReadonlyArray<string>): string => `(skipped: ${dataPath(...parts)} absent)`

export type Json = Readonly<Record<string, unknown>>
export { isRecord }

/** Field access on parsed JSON that fails loudly instead of returning undefined. */
export const field = (o: unknown, key: string): unknown => {
  if (!isRecord(o) || !(key in o)) throw new Error(`expected field "${key}" in ${JSON.stringify(o)?.slice(0, 200)}`)
  return o[key]
}

export const num = (o: unknown, key: string): number => {
  const v = field(o, key)
  if (typeof v !== "number") throw new Error(`expected "${key}" to be a number, got ${JSON.stringify(v)}`)
  return v
}

export const str = (o: unknown, key: string): string => {
  const v = field(o, key)
  if (typeof v !== "string") throw new Error(`expected "${key}" to be a string, got ${JSON.stringify(v)}`)
  return v
}

export const arr = (o: unknown, key: string): ReadonlyArray<unknown> => {
  const v = field(o, key)
  if (!Array.isArray(v)) throw new Error(`expected "${key}" to be an array`)
  return v as ReadonlyArray<unknown>
}
