// The library face from a packed tarball, as a plain Node project uses it: `npm pack`, `npm install
// <tarball>` into an empty project, then `import { simulate, sweep, calibrate, loadScenario } from
// "servesim"` in plain JavaScript, and the declarations checked by TypeScript. simulate() must give
// exactly what `servesim simulate --json` prints for the same scenario.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { repoRoot, runCli } from "../cli/cli-helpers.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-library-"))
const project = join(dir, "project")

/** The consumer's processes run without the test runner's NODE_OPTIONS (a polyfill path relative to this repository). */
const env = { ...process.env, NODE_OPTIONS: "" }

const npm = (args: ReadonlyArray<string>, cwd: string) => {
  // npm's own CLI through this Node; offline first (npm ci filled the cache), the registry otherwise.
  const r = spawnSync("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline"], { cwd, encoding: "utf8", env })
  if (r.status !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

const SCENARIO = {
  name: "library check",
  model: "meta-llama/Llama-3.1-8B-Instruct",
  gpu: "h100-sxm",
  workload: { concurrency: 8, numRequests: 120, input: 512, output: 64 },
  seed: 3,
}

beforeAll(() => {
  // dist/ is current (test/global-setup.ts built it); packing must not rebuild it under the other tests.
  const packed = npm(["pack", "--ignore-scripts", "--pack-destination", dir, "--json"], repoRoot)
  const tarball = join(dir, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename)
  spawnSync("mkdir", ["-p", project])
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }))
  npm(["install", "--ignore-scripts", tarball], project)
  writeFileSync(join(project, "scenario.json"), JSON.stringify(SCENARIO))
}, 600_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

let scripts = 0
const node = (code: string) => {
  const file = join(project, `run-${scripts++}.mjs`)
  writeFileSync(file, code)
  return spawnSync(process.execPath, [file], { cwd: project, encoding: "utf8", env })
}

describe("servesim as a library, installed from its tarball", () => {
  it("simulate(scenario) resolves to what `servesim simulate --json` prints", () => {
    const r = node(`import { simulate } from "servesim"
const out = await simulate(${JSON.stringify(SCENARIO)})
process.stdout.write(JSON.stringify(out))`)
    expect(r.stderr).toBe("")
    expect(r.status).toBe(0)
    const fromLibrary = JSON.parse(r.stdout) as Record<string, unknown>
    const cli = runCli(["simulate", join(project, "scenario.json"), "--json"])
    expect(cli.status).toBe(0)
    const fromCli = JSON.parse(cli.stdout) as Record<string, unknown>
    expect(fromLibrary.completed).toBe(120)
    // The source name differs ("scenario" vs the file's path) only where a message would name it; `date`
    // is each run's wall clock (vllm bench's metadata).
    const { date: libraryDate, ...library } = fromLibrary
    const { date: _cliDate, ...cliResult } = fromCli
    expect(libraryDate).toMatch(/^\d{8}-\d{6}$/)
    expect(library).toEqual(cliResult)
  })

  it("loadScenario, sweep and a bad scenario's ServesimError work from plain JavaScript", () => {
    const r = node(`import { loadScenario, sweep, simulate, ServesimError } from "servesim"
const s = await loadScenario("scenario.json")
const swept = await sweep(s, { axes: { concurrency: [2, 8] }, seeds: 2 })
let error
try { await simulate({ ...s, gpu: "no-such-gpu" }) } catch (e) { error = e }
process.stdout.write(JSON.stringify({ name: s.name, points: swept.points.map((p) => [p.config.load.value, p.seeds.length]), error: [error instanceof ServesimError, error.kind, error.message] }))`)
    expect(r.stderr).toBe("")
    const out = JSON.parse(r.stdout) as { name: string; points: Array<[number, number]>; error: [boolean, string, string] }
    expect(out.name).toBe("library check")
    expect(out.points).toEqual([
      [2, 2],
      [8, 2],
    ])
    expect(out.error[0]).toBe(true)
    expect(out.error[1]).toBe("InputError")
    expect(out.error[2]).toMatch(/gpu: unknown GPU "no-such-gpu"/)
  })

  it("ships type declarations that a TypeScript project checks against", () => {
    writeFileSync(
      join(project, "check.ts"),
      `import { simulate, type RunResult, type SweepResult, type Scenario } from "servesim"
const s: Scenario = { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm" }
const r: RunResult = await simulate(s)
const completed: number = r.completed
// @ts-expect-error simulate takes a scenario, not a number
await simulate(42)
export type Check = [typeof completed, SweepResult]
`,
    )
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ["check.ts"] }),
    )
    const tsc = spawnSync(process.execPath, [join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", project], { encoding: "utf8", env })
    expect(tsc.stdout + tsc.stderr).toBe("")
    expect(tsc.status).toBe(0)
  })

  it("the tarball holds the compiled CLI and library, not the TypeScript sources", () => {
    const manifest = JSON.parse(readFileSync(join(project, "node_modules", "servesim", "package.json"), "utf8")) as { exports: unknown }
    expect(manifest.exports).toEqual({ ".": { types: "./dist/types/index.d.ts", import: "./dist/cli/index.js" } })
    const ls = spawnSync("ls", [join(project, "node_modules", "servesim")], { encoding: "utf8" }).stdout.split("\n")
    expect(ls).toContain("dist")
    expect(ls).not.toContain("src")
  })
})
