// Builds dist/ before the tests when it is missing or older than the sources, so the CLI tests run the
// compiled CLI a user runs (bin/servesim.js would otherwise fall back to the sources through tsx).
import { fileURLToPath } from "node:url"
import { bundleIsCurrent } from "../bin/entry.js"
import { build } from "../scripts/build.mjs"

export default async (): Promise<void> => {
  if (!bundleIsCurrent(fileURLToPath(new URL("../", import.meta.url)))) await build()
}
