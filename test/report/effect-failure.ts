// The typed failure's message of an Effect program, or "" when it succeeded (a defect rethrows).
import { Cause, Effect, Exit, Option } from "effect"

export const failure = async <A, E>(program: Effect.Effect<A, E>): Promise<string> => {
  const exit = await Effect.runPromiseExit(program)
  if (Exit.isSuccess(exit)) return ""
  const e = Cause.findErrorOption(exit.cause)
  if (Option.isNone(e)) throw new Error(Cause.pretty(exit.cause))
  const v: unknown = e.value
  return typeof v === "object" && v !== null && "message" in v ? String(v.message) : String(v)
}
