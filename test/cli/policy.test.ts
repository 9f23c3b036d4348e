import { mkdtempSync, writeFileSync } from "node:fs"
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

  it("a module that is not a policy is refused with one line and exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "servesim-policy-"))
    const bad = join(dir, "bad-policy.mjs")
    writeFileSync(bad, "export default { name: 'x' }\n")
    const r = runCli(["simulate", "--policy", bad])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/waitingKey/)
  })
})
