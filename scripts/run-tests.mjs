// `npm test`: the unit tests in parallel, then the tests that measure wall-clock time (probe, twin,
// end-to-end loop) one file at a time, so CPU contention between test files cannot skew what they
// measure. Prints one closing line "tests: N passed, N failed, N skipped". Extra arguments
// (`npm test -- test/sim`) run vitest once on just those.
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const TIMED = ["test/e2e", "test/serve", "test/probe"]
const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ./test/node20-polyfills.mjs`.trim() }
const vitest = (args) => spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", ...args], { stdio: "inherit", env })

const extra = process.argv.slice(2)
if (extra.length > 0) process.exit(vitest(extra).status ?? 1)

const dir = mkdtempSync(join(tmpdir(), "servesim-tests-"))
const runs = [
  { name: "unit", args: TIMED.flatMap((t) => ["--exclude", `${t}/**`]), out: join(dir, "unit.json") },
  { name: "timed", args: [...TIMED, "--no-file-parallelism"], out: join(dir, "timed.json") },
]
let passed = 0
let failed = 0
let skipped = 0
let status = 0
for (const r of runs) {
  const res = vitest([...r.args, "--reporter=default", "--reporter=json", `--outputFile.json=${r.out}`])
  if (res.status !== 0) status = res.status ?? 1
  try {
    const j = JSON.parse(readFileSync(r.out, "utf8"))
    passed += j.numPassedTests
    failed += j.numFailedTests
    skipped += j.numPendingTests + (j.numTodoTests ?? 0)
  } catch {
    status = status || 1
    console.error(`no results from the ${r.name} tests`)
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(status)
