// Runs the CLI's main() in this process, capturing what it writes and the exit status it sets, so a
// test can try hundreds of argument lists without starting hundreds of processes. The result has the
// shape of runCli's (cli-helpers.ts). Runs are serialised: stdout, stderr, process.exit and
// process.exitCode are process-wide.
import { main } from "../../src/cli/main.ts"
import type { CliRun } from "./cli-helpers.ts"

/** Thrown by the stubbed process.exit to unwind main() the way a real exit would end it. */
class ExitCalled extends Error {
  readonly code: number
  constructor(code: number) {
    super(`process.exit(${code})`)
    this.code = code
  }
}

let queue: Promise<unknown> = Promise.resolve()

const capture = async (args: ReadonlyArray<string>): Promise<CliRun> => {
  const out: string[] = []
  const err: string[] = []
  const saved = {
    stdoutWrite: process.stdout.write,
    stderrWrite: process.stderr.write,
    exit: process.exit,
    exitCode: process.exitCode,
    log: console.log,
    error: console.error,
    warn: console.warn,
    info: console.info,
  }
  const sink =
    (into: string[]) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"))
      const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined
      cb?.()
      return true
    }
  const line =
    (into: string[]) =>
    (...xs: unknown[]): void => {
      into.push(`${xs.map((x) => (typeof x === "string" ? x : String(x))).join(" ")}\n`)
    }
  process.stdout.write = sink(out) as typeof process.stdout.write
  process.stderr.write = sink(err) as typeof process.stderr.write
  console.log = line(out)
  console.info = line(out)
  console.error = line(err)
  console.warn = line(err)
  process.exitCode = undefined
  process.exit = ((code?: number) => {
    throw new ExitCalled(code ?? 0)
  }) as typeof process.exit
  let status: number
  try {
    await main(["node", "servesim", ...args])
    status = Number(process.exitCode ?? 0)
  } catch (e) {
    if (e instanceof ExitCalled) status = e.code
    else {
      // What would have been an uncaught exception: Node prints the stack and exits 1.
      err.push(e instanceof Error ? (e.stack ?? e.message) : String(e))
      status = 1
    }
  } finally {
    process.stdout.write = saved.stdoutWrite
    process.stderr.write = saved.stderrWrite
    process.exit = saved.exit
    process.exitCode = saved.exitCode
    console.log = saved.log
    console.error = saved.error
    console.warn = saved.warn
    console.info = saved.info
  }
  return { status, stdout: out.join(""), stderr: err.join("") }
}

/** main(["node", "servesim", ...args]) in this process: its exit status, stdout and stderr. */
export const runInProcess = (args: ReadonlyArray<string>): Promise<CliRun> => {
  const run = queue.then(() => capture(args))
  queue = run.catch(() => undefined)
  return run
}
