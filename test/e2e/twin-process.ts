// Starts `servesim serve` as its own process on a free port and waits for the URL it prints.
import { spawn, type ChildProcess } from "node:child_process"
import { repoRoot } from "../cli/cli-helpers.ts"

export const startTwinProcess = async (args: ReadonlyArray<string>): Promise<{ url: string; proc: ChildProcess }> => {
  const proc = spawn(process.execPath, ["bin/servesim.js", "serve", ...args, "--port", "0"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`twin did not start: ${out}`)), 60_000)
    const poll = setInterval(() => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m !== null) {
        clearInterval(poll)
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }, 50)
  })
  return { url, proc }
}
