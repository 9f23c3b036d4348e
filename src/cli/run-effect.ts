// Runs one command's Effect program: Ctrl-C interrupts it (finalizers run), a typed failure prints
// its one-line message and sets exit code 2 (as does a step time the inputs made non-finite), a defect prints the cause and sets exit code 1.
import { Cause, Effect, Exit, Option } from "effect"
import { StepTimeError } from "../sim/step-time-error.ts"

const messageOf = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "message" in error && typeof error.message === "string") {
    const tag = "_tag" in error && typeof error._tag === "string" ? `${error._tag}: ` : ""
    return `${tag}${error.message}`
  }
  return String(error)
}

/** The one-line message of a failed exit's typed error (or its first line otherwise). */
export const failureMessage = <E>(cause: Cause.Cause<E>): string => {
  const expected = Cause.findErrorOption(cause)
  if (Option.isSome(expected)) return messageOf(expected.value)
  return Cause.pretty(cause).split("\n")[0] ?? "failed"
}

export const runCommand = async <A, E>(program: Effect.Effect<A, E>): Promise<void> => {
  const abort = new AbortController()
  const onSignal = () => abort.abort()
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  const exit = await Effect.runPromiseExit(program, { signal: abort.signal })
  process.off("SIGINT", onSignal)
  process.off("SIGTERM", onSignal)
  if (Exit.isFailure(exit)) {
    const expected = Cause.findErrorOption(exit.cause)
    if (Option.isSome(expected)) {
      console.error(`servesim: ${messageOf(expected.value)}`)
      process.exitCode = 2
    } else if (Cause.squash(exit.cause) instanceof StepTimeError) {
      // Thrown by the kernel, but caused by the inputs the step-time model was built from.
      console.error(`servesim: ${messageOf(Cause.squash(exit.cause))}`)
      process.exitCode = 2
    } else if (Cause.hasInterruptsOnly(exit.cause)) {
      console.error("servesim: interrupted")
      process.exitCode = 130
    } else {
      // A defect is a bug: one line naming it (the full cause with SERVESIM_DEBUG=1), exit 1.
      if (process.env.SERVESIM_DEBUG === "1") console.error(Cause.pretty(exit.cause))
      else console.error(`servesim: internal error: ${failureMessage(exit.cause)} (SERVESIM_DEBUG=1 prints the trace)`)
      process.exitCode = 1
    }
  }
}
