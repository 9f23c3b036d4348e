// Which CLI bin/servesim.js runs: the bundle in dist/ (built by `npm run build`, which `npm ci` runs as
// `prepare`) when it is at least as new as everything it is built from, else the TypeScript in src/
// through tsx. A checkout with edited or pulled sources therefore never runs stale JavaScript: it runs
// the sources (slower to start) until the next build. SERVESIM_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"

/** What the bundle is built from: every file and folder under src/ (a deletion touches its folder),
 *  the build script and the dependency manifests. */
const newestInput = (root) => {
  let newest = 0
  const visit = (path) => {
    const s = statSync(path, { throwIfNoEntry: false })
    if (s === undefined) return
    newest = Math.max(newest, s.mtimeMs)
    if (s.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name))
  }
  for (const p of ["src", "scripts/build.mjs", "package.json", "package-lock.json"]) visit(join(root, p))
  return newest
}

/** True when dist/cli/main.js exists and no input is newer than it. */
export const bundleIsCurrent = (root) => {
  const built = statSync(join(root, "dist", "cli", "main.js"), { throwIfNoEntry: false })
  return built !== undefined && built.mtimeMs >= newestInput(root)
}

/** "dist" or "source", for the repository at root. */
export const chooseEntry = (root, env = process.env) => (env.SERVESIM_FROM_SOURCE !== "1" && bundleIsCurrent(root) ? "dist" : "source")
