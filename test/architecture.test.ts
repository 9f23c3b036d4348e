// The layering rule of the design card: a folder of src/ imports only from folders below it. The
// kernel (src/sim, src/hw, and src/format below them) is plain synchronous TypeScript: no effect, no Node built-ins, no clock and
// no Math.random; nothing imports src/cli. Read from the import statements of every source file.
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, posix, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../", import.meta.url))

/** Each folder of src/ and the folders it may import from (besides itself). */
const ORDER: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  // format: JSON shape checks and the CSV reader/writer, used by every folder.
  ["format", []],
  ["hw", ["format"]],
  ["sim", ["hw"]],
  ["econ", ["sim", "hw"]],
  ["scenario", ["econ", "sim", "hw"]],
  ["probe", ["scenario", "econ", "sim", "hw"]],
  ["calibrate", ["probe", "scenario", "econ", "sim", "hw"]],
  ["sweep", ["calibrate", "probe", "scenario", "econ", "sim", "hw"]],
  ["serve", ["scenario", "econ", "sim", "hw"]],
  ["report", ["calibrate", "probe", "sweep", "scenario", "econ", "sim", "hw"]],
  ["cli", ["report", "serve", "sweep", "calibrate", "probe", "scenario", "econ", "sim", "hw"]],
]
/** Each folder of src/ and the folders it may import from (besides itself); every folder may use format. */
const BELOW: Readonly<Record<string, ReadonlyArray<string>>> = Object.fromEntries(
  ORDER.map(([f, below]) => [f, f === "format" ? below : [...below, "format"]]),
)
const KERNEL = new Set(["sim", "hw", "format"])
/** Packages the kernel may use: seeded random streams and d3's array statistics. */
const KERNEL_PACKAGES = new Set(["seedrandom", "d3-array"])

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return sourceFiles(p)
    return name.endsWith(".ts") ? [p] : []
  })

interface Import {
  readonly file: string
  readonly spec: string
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g

const importsOf = (file: string): Import[] => {
  const text = readFileSync(file, "utf8")
  const out: Import[] = []
  for (const m of text.matchAll(IMPORT)) out.push({ file: relative(root, file).split("\\").join("/"), spec: m[1] ?? m[2] ?? m[3] ?? "" })
  return out
}

const folderOf = (repoPath: string): string | undefined => {
  const parts = repoPath.split("/")
  return parts[0] === "src" && parts.length > 2 ? parts[1] : undefined
}

const all = sourceFiles(join(root, "src")).flatMap(importsOf)

describe("layering", () => {
  it("every folder of src/ has a place in the layering", () => {
    const folders = readdirSync(join(root, "src")).filter((n) => statSync(join(root, "src", n)).isDirectory())
    expect(folders.filter((f) => BELOW[f] === undefined)).toEqual([])
  })

  it("finds the imports it checks", () => {
    // A broken pattern would pass every rule below vacuously.
    expect(all.length).toBeGreaterThan(300)
    expect(all.some((i) => i.file === "src/cli/main.ts" && i.spec === "commander")).toBe(true)
  })

  it("a folder imports only from itself and the folders below it; nothing imports src/cli", () => {
    const bad: string[] = []
    for (const { file, spec } of all) {
      if (!spec.startsWith(".")) continue
      const from = folderOf(file)
      const to = folderOf(posix.normalize(posix.join(posix.dirname(file), spec)))
      if (from === undefined || to === undefined || from === to) continue
      if (!(BELOW[from] ?? []).includes(to)) bad.push(`${file} imports ${spec} (src/${from} may not import src/${to})`)
    }
    expect(bad).toEqual([])
  })

  it("the kernel (src/sim, src/hw, src/format) imports no effect, no Node built-in and no other package", () => {
    const bad = all
      .filter(({ file }) => KERNEL.has(folderOf(file) ?? ""))
      .filter(({ spec }) => !spec.startsWith(".") && !KERNEL_PACKAGES.has(spec))
      .map(({ file, spec }) => `${file} imports ${spec}`)
    expect(bad).toEqual([])
  })

  it("the kernel reads no clock and no unseeded randomness", () => {
    const bad: string[] = []
    for (const folder of KERNEL)
      for (const file of sourceFiles(join(root, "src", folder))) {
        const code = readFileSync(file, "utf8").replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "")
        for (const token of ["Date.now", "new Date(", "performance.now", "Math.random", "process.hrtime", "setTimeout", "setInterval"])
          if (code.includes(token)) bad.push(`${relative(root, file)} uses ${token}`)
      }
    expect(bad).toEqual([])
  })
})
