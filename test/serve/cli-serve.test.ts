// `servesim serve` as a process: prints its URL (--port 0 picks a free port), serves the scenario's
// model, stops cleanly on SIGTERM/SIGINT (the port is released), and a port in use is one error line
// with exit code 2. Runs bin/servesim.js, the compiled CLI a user runs (test/global-setup.ts builds it).
// Start-up is CPU work (a fraction of a second compiled, seconds through tsx when dist/ is stale), so
// the waits are far beyond it: a busy host slows start-up, it does not make the twin wrong.
import { spawn, type ChildProcess } from "node:child_process"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

interface Run {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

const run = (args: ReadonlyArray<string>): Run => {
  const child = spawn(process.execPath, ["bin/servesim.js", ...args], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: "" },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let out = ""
  let err = ""
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

const waitFor = async (f: () => string | undefined, ms: number, lastErr: () => string = () => ""): Promise<string> => {
  const end = Date.now() + ms
  for (;;) {
    const v = f()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out; stderr: ${lastErr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const ARGS = ["serve", "--model", "facebook/opt-125m", "--gpu", "a100-sxm", "--max-model-len", "2048", "--time-scale", "50", "--served-model-name", "opt"]

describe("servesim serve (process)", () => {
  it("prints the URL, serves requests, and closes cleanly on SIGTERM", async () => {
    const a = run([...ARGS, "--port", "0"])
    try {
      // The banner is several writes: wait for its last line, or a busy host may show only the first.
      const url = await waitFor(() => (/endpoints:/.test(a.stdout()) ? /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(a.stdout())?.[1] : undefined), 300_000, () => a.stderr() + a.stdout())
      expect(a.stdout()).toMatch(/time scale 50/)
      expect((await fetch(`${url}/health`)).status).toBe(200)
      const res = await fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "opt", prompt: "the of and to", max_tokens: 5, ignore_eos: true }),
      })
      const json = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }
      expect(json.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 5 })
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string; root: string; max_model_len: number }> }
      expect(models.data[0]).toMatchObject({ id: "opt", root: "facebook/opt-125m", max_model_len: 2048 })

      // A second server on the same port: one error line, exit code 2.
      const port = new URL(url).port
      const b = run([...ARGS, "--port", port])
      expect(await b.exited).toBe(2)
      expect(b.stderr()).toMatch(/^servesim: ServeError: cannot start the twin on 127\.0\.0\.1:\d+: .*EADDRINUSE/m)

      a.child.kill("SIGTERM")
      expect(await a.exited).toBe(130)
      expect(a.stderr()).toMatch(/interrupted/)
      await expect(fetch(`${url}/health`)).rejects.toThrow()
    } finally {
      if (a.child.exitCode === null) a.child.kill("SIGKILL")
    }
  }, 600_000)
})
