// Every request the user described is simulated and accounted for: the default scenario's
// numRequests never cuts stages, a workload file or a trace; a cap the user gives says what it cut;
// completed + failed = requests_generated, stage by stage; the result names the defaults it used.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "./cli-helpers.ts"

type Json = Record<string, unknown>
const simulateJson = (args: ReadonlyArray<string>): Json => {
  const r = runCli(["simulate", "--json", ...args])
  expect(r.stderr).toBe("")
  expect(r.status).toBe(0)
  return JSON.parse(r.stdout) as Json
}
const notes = (j: Json): string[] => ((j.config as Json).notes as string[] | undefined) ?? []

const trace = (n: number): string => {
  const dir = mkdtempSync(join(tmpdir(), "servesim-trace-"))
  const path = join(dir, "trace.jsonl")
  const lines: string[] = []
  for (let i = 0; i < n; i++) lines.push(JSON.stringify({ arrival_time: i * 0.01, input_tokens: 64 + (i % 50), output_tokens: 8 + (i % 7) }))
  writeFileSync(path, `${lines.join("\n")}\n`)
  return path
}

describe("request accounting", () => {
  it("a burst stage runs every request it sends: 10 + 2,000 + 10, per stage", () => {
    const j = simulateJson(["--stages", "1:10,1000:2,1:10", "--isl", "64", "--osl", "8"])
    expect(j.requests_generated).toBe(2020)
    expect(j.completed).toBe(2020)
    expect(j.failed).toBe(0)
    const stages = j.stages as Json[]
    expect(stages.map((s) => [s.requests_generated, s.completed])).toEqual([[10, 10], [2000, 2000], [10, 10]])
    expect(notes(j).some((n) => n.includes("cuts"))).toBe(false)
  })

  it("a trace longer than the default scenario's 1000 requests replays whole", () => {
    const j = simulateJson(["--trace", trace(1500)])
    expect(j.requests_generated).toBe(1500)
    expect(j.completed).toBe(1500)
  })

  it("--num-requests caps a trace and the result says what it cut", () => {
    const j = simulateJson(["--trace", trace(1500), "--num-requests", "200"])
    expect(j.completed).toBe(200)
    expect(notes(j)).toContain("workload.numRequests 200 replays the first 200 of the trace's 1500 requests")
  })

  it("--num-requests below the stages' count says the later stages are cut", () => {
    const j = simulateJson(["--stages", "10:20,10:20", "--num-requests", "250", "--isl", "64", "--osl", "8"])
    expect(j.completed).toBe(250)
    expect((j.stages as Json[]).map((s) => s.requests_generated)).toEqual([200, 50])
    expect(notes(j)).toContain("workload.numRequests 250 cuts the stages' 400 requests: later stages send fewer or none")
  })

  it("without a scenario file the result lists the defaults it used, and not the fields the flags set", () => {
    const j = simulateJson(["--num-requests", "50", "--isl", "64", "--osl", "8"])
    const d = notes(j).find((n) => n.startsWith("defaults from scenarios/default.json: "))
    expect(d).toBeDefined()
    expect(d).toContain('gpu="h100-sxm"')
    expect(d).toContain("workload.concurrency=32")
    expect(d).not.toContain("numRequests")
    expect(d).not.toContain("workload.input")
  })

  it("rejected requests are counted with their reason: completed + failed = generated", () => {
    const j = simulateJson(["--rate", "20", "--num-requests", "100", "--isl", "uniform:100:3000", "--osl", "64", "--max-model-len", "2048"])
    const rejected = Object.values(j.rejected as Record<string, number>).reduce((a, b) => a + b, 0)
    expect(rejected).toBeGreaterThan(0)
    expect(j.failed).toBe(rejected)
    expect((j.completed as number) + (j.failed as number)).toBe(100)
    expect(j.requests_generated).toBe(100)
  })
})
