#!/usr/bin/env node
// Runs the compiled CLI (dist/cli/main.js), or the TypeScript sources through tsx when the bundle is
// missing or older than the sources (see entry.js).
import { fileURLToPath } from "node:url"
import { chooseEntry } from "./entry.js"

const root = fileURLToPath(new URL("../", import.meta.url))
let cli
if (chooseEntry(root) === "dist") cli = await import("../dist/cli/main.js")
else {
  const { register } = await import("tsx/esm/api")
  register()
  cli = await import("../src/cli/main.ts")
}
await cli.main(process.argv)
