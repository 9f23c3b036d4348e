// Measured inputs are checked like scenarios: a broken row is one line naming file:line, field, value
// and range (exit 2), never simulated and compared; a validation that compares nothing fails.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { loadMeasurements } from "../../src/calibrate/measurements.ts"
import { failureMessage } from "../../src/cli/run-effect.ts"
import { runCli } from "../cli/cli-helpers.ts"

const HEADER = "source,model,gpu,tp,isl,osl,concurrency,ttft_mean_ms,tpot_mean_ms"
const MODEL = "meta-llama/Llama-3.1-8B-Instruct"
const dir = mkdtempSync(join(tmpdir(), "servesim-measured-"))
const table = (name: string, lines: ReadonlyArray<string>): string => {
  const p = join(dir, name)
  writeFileSync(p, `${lines.join("\n")}\n`)
  return p
}
const loadError = async (path: string): Promise<string> => {
  const exit = await Effect.runPromiseExit(loadMeasurements([path]))
  expect(Exit.isFailure(exit)).toBe(true)
  return Exit.isFailure(exit) ? failureMessage(exit.cause) : ""
}

describe("measurement rows are range-checked", () => {
  it("a negative isl names file:line, field, value and range", async () => {
    const p = table("neg.csv", [HEADER, `a,${MODEL},h100-sxm,1,256,128,4,20,5`, `b,${MODEL},h100-sxm,1,-256,128,4,20,5`])
    expect(await loadError(p)).toBe(`InputError: ${p}:3: field isl: -256 is out of range (expected a number ≥ 1 and ≤ 10,000,000)`)
  })
  it("a zero TTFT and a negative TPOT are not measurements", async () => {
    expect(await loadError(table("zero.csv", [HEADER, `a,${MODEL},h100-sxm,1,256,128,4,0,5`]))).toMatch(/zero\.csv:2: field mean_ttft_ms: 0 is out of range/)
    expect(await loadError(table("negtpot.csv", [HEADER, `a,${MODEL},h100-sxm,1,256,128,4,20,-5`]))).toMatch(/negtpot\.csv:2: field mean_tpot_ms: -5 is out of range/)
  })
  it("a fractional tp or concurrency is refused", async () => {
    expect(await loadError(table("tp.csv", [HEADER, `a,${MODEL},h100-sxm,1.5,256,128,4,20,5`]))).toMatch(/field tp: 1\.5 is out of range \(expected an integer/)
  })
  it("duplicate header columns are an error, not last-one-wins", async () => {
    expect(await loadError(table("dup.csv", ["source,isl,isl,osl,ttft_mean_ms", "a,1,2,3,4"]))).toMatch(/dup\.csv:1: column isl appears more than once/)
  })
  it("nonsense fields in a vllm bench result are refused", async () => {
    const p = join(dir, "bench.json")
    writeFileSync(p, JSON.stringify({ model_id: MODEL, completed: 10, num_prompts: 10, max_concurrency: 4, total_input_tokens: 2560, total_output_tokens: 1280, mean_ttft_ms: -3, mean_tpot_ms: 5, duration: 2 }))
    expect(await loadError(p)).toMatch(/bench\.json.*field mean_ttft_ms: -3 is out of range/)
  })
  it("a 130,000-row table loads (no spread of a large array)", async () => {
    const rows = [HEADER]
    for (let i = 0; i < 130_000; i++) rows.push(`r${i},${MODEL},h100-sxm,1,256,128,4,20,5`)
    const set = await Effect.runPromise(loadMeasurements([table("big.csv", rows)]))
    expect(set.points.length).toBe(130_000)
  })
})

describe("validate that compares nothing fails", () => {
  it("every row skipped (unknown model): exit 2, one line", () => {
    const r = runCli(["validate", table("unknown.csv", [HEADER, "a,nope/model,h100-sxm,1,256,128,4,20,5"])])
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toMatch(/0 of 1 measured points could be simulated .*unknown model "nope\/model"/)
  })
  it("no row of the chosen engine: exit 2", () => {
    const r = runCli(["validate", table("ok.csv", [HEADER, `a,${MODEL},h100-sxm,1,256,128,4,20,5`]), "--engine", "sglang"])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/no measured points to validate: 1 read, none of engine sglang/)
  })
  it("--engine bogus and --limit abc are flag errors", () => {
    const ok = table("ok2.csv", [HEADER, `a,${MODEL},h100-sxm,1,256,128,4,20,5`])
    for (const args of [["--engine", "bogus"], ["--limit", "abc"]]) {
      const r = runCli(["validate", ok, ...args])
      expect(r.status).toBe(2)
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
    }
  })
})
