// `npm run build` (and `prepare`, so `npm ci` leaves a built CLI): bundles the command line into
// dist/cli/ with esbuild, so `servesim` starts without transpiling TypeScript. Code splitting keeps the
// commands lazy: main.js holds only commander and the command table; each command, and what only it
// uses (vega, the probe's HTTP client, the fitters), is a chunk loaded when that command runs.
// dist/meta.json is esbuild's metafile (which source files each chunk holds), read by the tests.
//
// Every chunk sits in dist/cli/, two folders below the repository root like every src/<folder>/ file,
// so a module's `new URL("../../...", import.meta.url)` (scenarios/, ../shared/data) resolves to the
// same place bundled as under tsx; the build refuses a deeper module that reads import.meta.url.
import { readFile, rm, utimes, writeFile } from "node:fs/promises"
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join, relative, sep } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../", import.meta.url))

/** Fails the build on `import.meta.url` in a source file that is not exactly two folders deep. */
const importMetaDepth = {
  name: "import-meta-depth",
  setup(build) {
    build.onLoad({ filter: /[/\\]src[/\\].*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, "utf8")
      const rel = relative(root, args.path)
      if (text.includes("import.meta.url") && rel.split(sep).length !== 3)
        return { errors: [{ text: `${rel} reads import.meta.url but is not in src/<folder>/: its relative paths would resolve differently from dist/cli/` }] }
      return { contents: text, loader: "ts" }
    })
  },
}

/** The library's type declarations (dist/types/, package.json "exports" types), with TypeScript when it is
 *  installed (a development checkout: it is a devDependency); a packed tarball ships them built. */
const emitTypes = async () => {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
  if (!existsSync(tsc)) return
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.lib.json")], { stdio: "inherit" })
  if (r.status !== 0) throw new Error("type declarations failed (tsc -p tsconfig.lib.json)")
}

/** Builds dist/; returns esbuild's result. The entry's mtime is set to the build's start, so a source
 *  saved while the build ran still counts as newer (bin/entry.js compares them). */
export const build = async () => {
  const { build: esbuild } = await import("esbuild")
  const started = new Date()
  await rm(new URL("dist/", `file://${root}`), { recursive: true, force: true })
  const result = await esbuild({
    absWorkingDir: root,
    // The library entry (package.json "exports") sits in dist/cli/ too, beside the chunks it shares
    // with the CLI and the sweep's worker entry, so every relative URL resolves the same.
    entryPoints: { "cli/main": "src/cli/main.ts", "cli/sweep-worker": "src/sweep/worker.ts", "cli/index": "src/index.ts" },
    outdir: "dist",
    chunkNames: "cli/[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    metafile: true,
    logLevel: "warning",
    // Bundled CommonJS dependencies call require() for Node built-ins.
    banner: { js: 'import { createRequire as __servesimCreateRequire } from "node:module"; const require = __servesimCreateRequire(import.meta.url);' },
    // tsx finds its own files relative to itself: it stays a package import (policy .ts modules).
    external: ["tsx", "tsx/*"],
    plugins: [importMetaDepth],
  })
  await writeFile(new URL("dist/meta.json", `file://${root}`), JSON.stringify(result.metafile))
  await emitTypes()
  await utimes(new URL("dist/cli/main.js", `file://${root}`), started, started)
  return result
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await build()
  } catch (e) {
    // esbuild has printed the errors.
    console.error(`build failed: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`)
    process.exit(1)
  }
}
