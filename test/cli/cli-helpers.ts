// Runs the real CLI (bin/servesim.js) in a child process, as a user would.
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url))

export interface CliRun {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI; the timeout only catches a hang (10 minutes: a busy machine runs a command 5–10× slower). */
export const runCli = (args: ReadonlyArray<string>, timeoutMs = 600_000): CliRun => {
  const r = spawnSync(process.execPath, ["bin/servesim.js", ...args], { cwd: repoRoot, encoding: "utf8", timeout: timeoutMs })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Runs the CLI without blocking, so independent runs overlap. */
export const runCliAsync = (args: ReadonlyArray<string>): Promise<CliRun> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ["bin/servesim.js", ...args], { cwd: repoRoot })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })
