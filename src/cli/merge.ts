// `servesim merge part-*.json [--out RESULTS.json] [--csv FILE] [--json]`: joins the part files of a
// sharded sweep (`servesim sweep --shard i/n --out part-i.json`) and analyses the whole sweep, writing
// exactly what the unsharded sweep writes (only createdBy, the command line, differs).
import { Command } from "commander"
import { Effect, Schema } from "effect"
import { mergeParts, type NamedPart } from "../sweep/merge.ts"
import { analysePlan } from "../sweep/plan.ts"
import { SweepPartSchema, type SweepPart } from "../sweep/shard.ts"
import { InputError } from "../scenario/errors.ts"
import { runCommand } from "./run-effect.ts"
import { formatSchemaError, parseStructured, readText } from "../scenario/schema.ts"
import { emitSweep } from "./sweep.ts"

interface MergeFlags {
  out?: string
  csv?: string
  json?: boolean
}

/**
 * Checks a parsed part file against the schema and returns the parsed value itself, not the decoded
 * copy: decoding rebuilds objects in the schema's key order, and RESULTS.json must keep the key order
 * the shard wrote (the sweep's own) to be byte-identical. The schema has no transformations and refuses
 * excess keys, so the accepted value has exactly the schema's type.
 */
const decodePart = (raw: unknown, name: string): Effect.Effect<SweepPart, InputError> =>
  Schema.decodeUnknownEffect(SweepPartSchema)(raw, { errors: "all", onExcessProperty: "error" }).pipe(
    // The annotation checks at compile time that what the schema accepts is a SweepPart.
    Effect.map((decoded: SweepPart) => raw as typeof decoded),
    Effect.mapError((e) => new InputError({ message: `${name}: not a sweep part file (servesim sweep --shard): ${formatSchemaError(e)}` })),
  )

const program = (files: ReadonlyArray<string>, flags: MergeFlags) =>
  Effect.gen(function* () {
    const parts: NamedPart[] = []
    for (const name of files) {
      const raw = yield* parseStructured(yield* readText(name), name)
      parts.push({ name, part: yield* decodePart(raw, name) })
    }
    const merged = mergeParts(parts)
    if (!merged.ok) return yield* new InputError({ message: merged.error })
    const analysed = analysePlan(merged.value.plan, merged.value.runs, `servesim ${process.argv.slice(2).join(" ")}`)
    if (!analysed.ok) return yield* new InputError({ message: analysed.error })
    yield* emitSweep(analysed.value, flags)
  })

export const register = (cli: Command): void => {
  cli
    .command("merge")
    .description("join the part files of a sharded sweep (servesim sweep --shard i/n --out part-i.json) into the whole sweep's RESULTS.json; refuses parts of different sweeps, missing, duplicate or overlapping shards")
    .argument("<parts...>", "part files, one per shard (any order)")
    .option("--out <file>", "write RESULTS.json")
    .option("--csv <file>", "write one CSV row per point")
    .option("--json", "print RESULTS.json instead of the table")
    .showHelpAfterError(false)
    .action((files: string[], flags: MergeFlags) => runCommand(program(files, flags)))
}
