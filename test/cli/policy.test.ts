import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "./cli-helpers.ts"

const common = ["simulate", "--json", "--rate", "30", "--num-requests", "400", "--isl", "256", "--osl", "uniform:10:400", "--seed", "3"]

describe("--policy", () => {
  it("loads a user policy module; shortest-output-first lowers mean E2E under queueing", () => {
    const fcfs = runCli([...common, "--policy", "fcfs", "--max-num-seqs", "8"])
    const sjf = runCli([...common, "--policy", "examples/short-output-first-policy.ts", "--max-num-seqs", "8"])
    expect(fcfs.status).toBe(0)
    expect(sjf.status).toBe(0)
    const a = JSON.parse(fcfs.stdout) as Record<string, number | Record<string, unknown>>
    const b = JSON.parse(sjf.stdout) as Record<string, number | Record<string, unknown>>
    expect((b.config as Record<string, unknown>).policy).toBe("short-output-first")
    expect(b.mean_e2el_ms as number).toBeLessThan(a.mean_e2el_ms as number)
  })

  it("a scenario's relative policy module resolves against the scenario file, not the working directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "servesim-policy-rel-"))
    mkdirSync(join(dir, "policies"))
    // A policy that tags itself, so the output proves which module ran.
    writeFileSync(join(dir, "policies", "lifo.mjs"), "export default { name: 'lifo-from-scenario-dir', waitingKey: (r) => -r.arrival, pickVictim: (running) => running.length - 1 }\n")
    const scenario = join(dir, "scenario.json")
    writeFileSync(scenario, JSON.stringify({ model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", policy: "policies/lifo.mjs", workload: { rate: 20, numRequests: 40, input: 128, output: 16 } }))
    const r = runCli(["simulate", scenario, "--json"]) // cwd is the repository root, not `dir`
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect((JSON.parse(r.stdout) as { config: { policy: string } }).config.policy).toBe("lifo-from-scenario-dir")
    // The same relative path as a flag is relative to the working directory: not found there.
    const flag = runCli(["simulate", "--policy", "policies/lifo.mjs"])
    expect(flag.status).toBe(2)
    expect(flag.stderr).toMatch(/policy policies\/lifo\.mjs: cannot load module/)
  })

  it("loads a TypeScript policy kept outside any package (tsx compiles it as CommonJS there)", () => {
    const dir = mkdtempSync(join(tmpdir(), "servesim-policy-ts-"))
    const file = join(dir, "longest-first.ts")
    writeFileSync(
      file,
      [
        "interface View { readonly outputTokens: number; readonly numOutputTokensDone: number }",
        "const left = (r: View): number => r.outputTokens - r.numOutputTokensDone",
        "export default { name: 'longest-first-ts', waitingKey: (r: View) => -left(r), pickVictim: (running: ReadonlyArray<View>) => running.length - 1 }",
        "",
      ].join("\n"),
    )
    const r = runCli([...common, "--policy", file])
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    expect((JSON.parse(r.stdout) as { config: { policy: string } }).config.policy).toBe("longest-first-ts")
  })

  it("--help says that a policy module's code is executed", () => {
    expect(runCli(["simulate", "--help"]).stdout).toMatch(/runs its code/)
  })

  it("a module that is not a policy is refused with one line and exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "servesim-policy-"))
    const bad = join(dir, "bad-policy.mjs")
    writeFileSync(bad, "export default { name: 'x' }\n")
    const r = runCli(["simulate", "--policy", bad])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/waitingKey/)
  })
})
