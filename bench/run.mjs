// `npm run bench`: bundles bench/simulate-1m.ts with esbuild (as `npm run build` bundles the CLI) and
// runs it, so the figures are those of the compiled JavaScript users run, not of tsx's on-the-fly
// transpiler (which adds its own CPU and ~70 MiB of RSS). Arguments pass through.
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))
// Two folders below the root, like every bundled chunk, so `../../scenarios` resolves as from src/<folder>/.
const out = `${root}dist/bench/simulate-1m.mjs`
const { build } = await import("esbuild")
await build({
  absWorkingDir: root,
  entryPoints: ["bench/simulate-1m.ts"],
  outfile: out,
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  logLevel: "warning",
})
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" })
process.exit(r.status ?? 1)
