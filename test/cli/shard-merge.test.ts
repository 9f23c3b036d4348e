// Sharded sweeps end to end: three shards merged equal the unsharded sweep byte for byte (apart from
// createdBy, the command line), and merge refuses parts that do not make up one sweep.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { SweepPart } from "../../src/sweep/shard.ts"
import { runCliAsync as runAsync, type CliRun } from "./cli-helpers.ts"

const tmp = mkdtempSync(join(tmpdir(), "servesim-shard-"))


// 2 TP sizes × 2 loads × 3 seeds = 12 runs; 12 is not a multiple of 5, so the 5-shard case has uneven slices.
const GRID = ["sweep", "--model", "Qwen/Qwen2.5-7B-Instruct", "--gpu", "a800-sxm", "--tp", "1,2", "--concurrency", "4,16", "--seeds", "3", "--num-requests", "40", "--slo", "ttft:1000,tpot:50", "--workers", "0", "--quiet"]
const part = (name: string) => join(tmp, name)

/** RESULTS.json text without its one run-metadata line (the command line). */
const withoutCreatedBy = (text: string): string => text.replace(/^ {2}"createdBy": .*\n/m, "")

const expectRefusal = (r: CliRun, re: RegExp) => {
  expect(r.status).toBe(2)
  expect(r.stdout).toBe("")
  expect(r.stderr.trim().split("\n")).toHaveLength(1)
  expect(r.stderr).toMatch(re)
}

describe("sweep --shard and merge", () => {
  it("three shards merged are the unsharded sweep, byte for byte apart from createdBy; table and CSV too", async () => {
    const [full, ...shards] = await Promise.all([
      runAsync([...GRID, "--out", part("full.json"), "--csv", part("full.csv")]),
      ...[0, 1, 2].map((i) => runAsync([...GRID, "--shard", `${i}/3`, "--out", part(`part-${i}.json`)])),
      runAsync([...GRID, "--num-requests", "41", "--shard", "1/3", "--out", part("other-1.json")]),
    ])
    expect(full.status).toBe(0)
    for (const [i, s] of shards.slice(0, 3).entries()) {
      expect(s.status).toBe(0)
      expect(s.stdout).toMatch(new RegExp(`^shard ${i}/3: 4 of 12 runs written to`))
    }
    const p1 = JSON.parse(readFileSync(part("part-1.json"), "utf8")) as SweepPart
    expect(p1.runs.map((r) => r.task)).toEqual([1, 4, 7, 10])

    // Parts in any order.
    const merged = await runAsync(["merge", part("part-2.json"), part("part-0.json"), part("part-1.json"), "--out", part("merged.json"), "--csv", part("merged.csv")])
    expect(merged.stderr).toBe("")
    expect(merged.status).toBe(0)
    const a = readFileSync(part("full.json"), "utf8")
    const b = readFileSync(part("merged.json"), "utf8")
    expect(a).toMatch(/"createdBy": "servesim sweep /)
    expect(b).toMatch(/"createdBy": "servesim merge /)
    expect(withoutCreatedBy(b)).toBe(withoutCreatedBy(a))
    expect(readFileSync(part("merged.csv"), "utf8")).toBe(readFileSync(part("full.csv"), "utf8"))
    expect(merged.stdout).toBe(full.stdout)

    // Refusals, one line and exit 2 each.
    const other = part("other-1.json")
    const overlap = part("overlap-2.json")
    const p2 = JSON.parse(readFileSync(part("part-2.json"), "utf8")) as SweepPart
    writeFileSync(overlap, JSON.stringify({ ...p2, runs: [...p2.runs, p1.runs[0]] }))
    const incomplete = part("incomplete-2.json")
    writeFileSync(incomplete, JSON.stringify({ ...p2, runs: p2.runs.slice(1) }))
    const notPart = part("not-a-part.json")
    writeFileSync(notPart, JSON.stringify({ format: "servesim-sweep-part", version: 1 }))
    const [diff, missing, dup, over, inc, bad] = await Promise.all([
      runAsync(["merge", part("part-0.json"), other, part("part-2.json")]),
      runAsync(["merge", part("part-0.json"), part("part-2.json")]),
      runAsync(["merge", part("part-0.json"), part("part-1.json"), part("part-1.json"), part("part-2.json")]),
      runAsync(["merge", part("part-0.json"), part("part-1.json"), overlap]),
      runAsync(["merge", part("part-0.json"), part("part-1.json"), incomplete]),
      runAsync(["merge", notPart]),
    ])
    expectRefusal(diff, /other-1\.json is a shard of a different sweep than .*part-0\.json \(fingerprint/)
    expectRefusal(missing, /missing shard 1\/3 \(got 2 of 3 parts\)/)
    expectRefusal(dup, /shard 1\/3 given twice/)
    expectRefusal(over, /run 1 is in both .*part-1\.json and .*overlap-2\.json: the parts overlap/)
    expectRefusal(inc, /incomplete-2\.json: 1 of its runs are missing \(run 2 first\)/)
    expectRefusal(bad, /not-a-part\.json: not a sweep part file/)
  })

  it("uneven slices (12 runs in 5 shards) merge to the same result; bad --shard values are refused", async () => {
    const runs = await Promise.all([0, 1, 2, 3, 4].map((i) => runAsync([...GRID, "--shard", `${i}/5`, "--out", part(`five-${i}.json`)])))
    for (const r of runs) expect(r.status).toBe(0)
    expect(runs.map((r) => Number(/: (\d+) of 12 runs/.exec(r.stdout)?.[1]))).toEqual([3, 3, 2, 2, 2])
    const merged = await runAsync(["merge", ...[0, 1, 2, 3, 4].map((i) => part(`five-${i}.json`)), "--json"])
    expect(merged.status).toBe(0)
    // Same analysis as the three-shard merge of the first test (which wrote merged.json).
    const three = JSON.parse(readFileSync(part("merged.json"), "utf8")) as Record<string, unknown>
    const five = JSON.parse(merged.stdout) as Record<string, unknown>
    expect({ ...five, createdBy: "" }).toEqual({ ...three, createdBy: "" })

    const bad = await Promise.all([
      runAsync([...GRID, "--shard", "3/3", "--out", part("x.json")]),
      runAsync([...GRID, "--shard", "1-3", "--out", part("x.json")]),
      runAsync([...GRID, "--shard", "0/0", "--out", part("x.json")]),
      runAsync([...GRID, "--shard", "0/3"]),
      runAsync([...GRID, "--shard", "0/3", "--out", part("x.json"), "--json"]),
    ])
    expectRefusal(bad[0]!, /--shard 3\/3: i counts from 0, so it must be below n \(0…2\)/)
    expectRefusal(bad[1]!, /--shard: "1-3" is not i\/n/)
    expectRefusal(bad[2]!, /--shard 0\/0: n must be at least 1/)
    expectRefusal(bad[3]!, /--shard needs --out/)
    expectRefusal(bad[4]!, /--shard writes a part file only/)
  })
})
