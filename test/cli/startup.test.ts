// Start-up: bin/servesim.js runs the bundle (dist/, built by test/global-setup.ts) or, when the bundle is
// stale, the sources; commands load lazily, so `--help` pulls in no command module, no vega, no HTTP
// client and no fitter — checked on the modules the process really loads, in both modes.
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Command } from "commander"
import { describe, expect, it } from "vitest"
import { bundleIsCurrent, chooseEntry } from "../../bin/entry.js"
import { COMMANDS, invokedCommand } from "../../src/cli/main.ts"
import { repoRoot, runCli } from "./cli-helpers.ts"

interface Metafile {
  readonly outputs: Readonly<Record<string, { readonly inputs: Readonly<Record<string, unknown>> }>>
}

/** Source files (repo-relative) a CLI run loads: the .ts files under tsx, or the inputs of the chunks it loads. */
const loadedSources = (args: ReadonlyArray<string>, fromSource: boolean): string[] => {
  const dir = mkdtempSync(join(tmpdir(), "servesim-loads-"))
  const log = join(dir, "loads.txt")
  writeFileSync(log, "")
  const env = { ...process.env, SERVESIM_LOAD_LOG: log, SERVESIM_FROM_SOURCE: fromSource ? "1" : "0" }
  const r = spawnSync(process.execPath, ["--import", "./test/cli/fixtures/record-loads.mjs", "bin/servesim.js", ...args], { cwd: repoRoot, env, encoding: "utf8" })
  expect(r.stderr).toBe("")
  expect(r.status).toBe(0)
  const rootUrl = pathToFileURL(repoRoot).href
  const urls = readFileSync(log, "utf8").trim().split("\n")
  rmSync(dir, { recursive: true, force: true })
  const files = urls.filter((u) => u.startsWith(rootUrl)).map((u) => decodeURIComponent(u.slice(rootUrl.length)))
  if (fromSource) return files
  const meta = JSON.parse(readFileSync(join(repoRoot, "dist", "meta.json"), "utf8")) as Metafile
  const chunks = files.filter((f) => f.startsWith("dist/"))
  expect(chunks).toContain("dist/cli/main.js")
  return chunks.flatMap((c) => Object.keys(meta.outputs[c]?.inputs ?? {}))
}

// effect's Schema itself imports http/Cookies, so a command that decodes a scenario loads that one
// module; the HTTP client (what the probe needs) must stay out.
const HEAVY = [/node_modules\/vega/, /node_modules\/effect\/dist\/http\/(HttpClient|FetchHttpClient|HttpClientRequest)/, /src\/probe\//, /src\/calibrate\/fit-/, /src\/calibrate\/(levenberg-marquardt|nnls)\.ts$/]
const COMMAND_MODULES = COMMANDS.map((c) => `src/cli/${c.name}.ts`)

describe("start-up", () => {
  for (const fromSource of [false, true]) {
    const mode = fromSource ? "sources via tsx" : "bundle"
    it(`--help (${mode}) loads commander and the command table only`, () => {
      const loaded = loadedSources(["--help"], fromSource)
      expect(loaded).toContain("src/cli/main.ts")
      expect(loaded.some((f) => f.includes("node_modules/commander/"))).toBe(true)
      for (const f of loaded) {
        for (const re of HEAVY) expect(f, `--help loaded ${f}`).not.toMatch(re)
        expect(COMMAND_MODULES, `--help loaded ${f}`).not.toContain(f)
        expect(f, `--help loaded ${f}`).not.toMatch(/node_modules\/effect\//)
      }
    })
    it(`simulate (${mode}) loads its own module and neither vega, the HTTP client nor the fitters`, () => {
      const loaded = loadedSources(["simulate", "--num-requests", "20", "--json"], fromSource)
      expect(loaded).toContain("src/cli/simulate.ts")
      expect(loaded).toContain("src/sim/engine.ts")
      for (const f of loaded) for (const re of HEAVY) expect(f, `simulate loaded ${f}`).not.toMatch(re)
      // simulate resolves its cost block with sweep's gpuCostsFor (which formats with cost.ts); no other command module loads.
      const shared = new Set(["src/cli/simulate.ts", "src/cli/sweep.ts", "src/cli/cost.ts"])
      for (const other of COMMAND_MODULES.filter((m) => !shared.has(m))) expect(loaded).not.toContain(other)
    })
  }

  it("--version prints package.json's version", () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version
    for (const flag of ["--version", "-V"]) {
      const r = runCli([flag])
      expect(r.status).toBe(0)
      expect(r.stdout).toBe(`${version}\n`)
    }
  })

  it("the bundle and the sources print the same simulation byte for byte", () => {
    const args = ["bin/servesim.js", "simulate", "--json", "--num-requests", "200", "--seed", "3"]
    const run = (fromSource: boolean) => spawnSync(process.execPath, args, { cwd: repoRoot, encoding: "utf8", env: { ...process.env, SERVESIM_FROM_SOURCE: fromSource ? "1" : "0", SOURCE_DATE_EPOCH: "0" } })
    const bundled = run(false)
    const source = run(true)
    expect(bundled.status).toBe(0)
    expect(bundled.stdout).toMatch(/"completed": 200/)
    expect(source.stdout).toBe(bundled.stdout)
  })

  it("top-level help lists every command with its summary; each module registers the command it is listed as", async () => {
    const help = runCli(["--help"])
    expect(help.status).toBe(0)
    for (const c of COMMANDS) {
      expect(help.stdout).toMatch(new RegExp(`^  ${c.name} `, "m"))
      const program = new Command()
      ;(await c.load()).register(program)
      expect(program.commands.map((x) => x.name())).toEqual([c.name])
    }
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length)
  })

  it("finds the command an argument list runs", () => {
    expect(invokedCommand(["simulate", "--rate", "5"])?.name).toBe("simulate")
    expect(invokedCommand(["help", "sweep"])?.name).toBe("sweep")
    expect(invokedCommand(["--help"])).toBeUndefined()
    expect(invokedCommand(["simulat"])).toBeUndefined()
    expect(invokedCommand([])).toBeUndefined()
  })

  it("an unknown command is one error line and exit 2", () => {
    const r = runCli(["simulat"])
    expect(r.status).toBe(2)
    expect(r.stderr.split("\n")[0]).toMatch(/unknown command 'simulat'/)
  })
})

describe("bin/entry.js picks the bundle only while it is current", () => {
  const fake = (): string => {
    const root = mkdtempSync(join(tmpdir(), "servesim-entry-"))
    for (const d of ["src/cli", "scripts", "dist/cli"]) mkdirSync(join(root, d), { recursive: true })
    for (const f of ["src/cli/main.ts", "scripts/build.mjs", "package.json", "package-lock.json", "dist/cli/main.js"]) writeFileSync(join(root, f), "")
    const old = new Date(Date.now() - 60_000)
    for (const f of ["src/cli/main.ts", "src/cli", "src", "scripts/build.mjs", "package.json", "package-lock.json"]) utimesSync(join(root, f), old, old)
    return root
  }
  const touch = (root: string, f: string) => utimesSync(join(root, f), new Date(), new Date())

  it("bundle newer than every input: dist; SERVESIM_FROM_SOURCE=1 forces the sources", () => {
    const root = fake()
    expect(bundleIsCurrent(root)).toBe(true)
    expect(chooseEntry(root, {})).toBe("dist")
    expect(chooseEntry(root, { SERVESIM_FROM_SOURCE: "1" })).toBe("source")
  })
  for (const f of ["src/cli/main.ts", "src/cli", "package.json", "package-lock.json", "scripts/build.mjs"])
    it(`${f} edited after the build: the sources`, () => {
      const root = fake()
      utimesSync(join(root, "dist/cli/main.js"), new Date(Date.now() - 30_000), new Date(Date.now() - 30_000))
      touch(root, f)
      expect(chooseEntry(root, {})).toBe("source")
    })
  it("no bundle: the sources", () => {
    const root = fake()
    rmSync(join(root, "dist"), { recursive: true })
    expect(chooseEntry(root, {})).toBe("source")
  })
})
