// The progress line of long commands, with a fake clock and stream: silent for the first 2 s, a line
// redrawn in place on a terminal, plain lines every 10 s otherwise (or under --json), nothing when quiet.
// And the commands that would do nothing useful exit non-zero instead.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { formatProgressLine, progress } from "../../src/cli/progress.ts"
import { runCli } from "./cli-helpers.ts"

const fake = (isTTY: boolean) => {
  let t = 0
  const out: string[] = []
  return { stream: { isTTY, write: (s: string) => out.push(s) }, now: () => t, advance: (ms: number) => (t += ms), out }
}

describe("progress", () => {
  it("formats bar, count, elapsed and ETA from the rate so far", () => {
    expect(formatProgressLine("validate", 3, 12, 6, { bar: true, unit: "points", detail: "run-a" })).toBe("validate [######------------------] 3/12 points, 6s, ~18s left: run-a")
    expect(formatProgressLine("sweep", 10, 10, 125, { bar: false })).toBe("sweep 10/10, 2m05s")
  })

  it("on a terminal: nothing in the first 2 s, then one line redrawn at most every 100 ms, ended with a newline", () => {
    const f = fake(true)
    const p = progress("sweep", 100, { stream: f.stream, now: f.now })
    f.advance(1000)
    p.tick(10)
    expect(f.out).toEqual([])
    f.advance(1500)
    p.tick(20)
    f.advance(50)
    p.tick(21) // within 100 ms of the last draw: skipped
    f.advance(100)
    p.tick(30)
    expect(f.out).toHaveLength(2)
    expect(f.out.every((s) => s.startsWith("\r\x1b[2K") && !s.includes("\n"))).toBe(true)
    expect(f.out[1]).toMatch(/30\/100, 3s, ~6s left/)
    p.end()
    expect(f.out[2]).toMatch(/^\r\x1b\[2Ksweep \[.*\] 30\/100.*\n$/)
  })

  it("not a terminal, or --json on one: a plain line every 10 s and a closing line; a quick run prints nothing", () => {
    for (const [tty, json] of [[false, false], [true, true]] as const) {
      const f = fake(tty)
      const p = progress("calibrate", 50, { stream: f.stream, now: f.now, json })
      for (let i = 1; i <= 25; i++) {
        f.advance(1000)
        p.tick(i, undefined, 60)
      }
      p.end()
      expect(f.out).toEqual(["calibrate 10/60, 10s, ~50s left\n", "calibrate 20/60, 20s, ~40s left\n", "calibrate 25/60, 25s, ~35s left\n"])
      const quick = fake(tty)
      const q = progress("calibrate", 5, { stream: quick.stream, now: quick.now, json })
      quick.advance(1500)
      q.tick(5)
      q.end()
      expect(quick.out).toEqual([])
    }
  })

  it("quiet prints nothing at all", () => {
    const f = fake(true)
    const p = progress("search", 4, { stream: f.stream, now: f.now, quiet: true })
    f.advance(60_000)
    p.tick(2)
    p.end()
    expect(f.out).toEqual([])
  })
})

describe("commands that would do nothing useful exit 2", () => {
  const tmp = mkdtempSync(join(tmpdir(), "servesim-nothing-"))
  it("sweep, search and calibrate with no point to run", () => {
    const sweep = runCli(["sweep", "--concurrency", "8", "--tp", "64", "--seeds", "1", "--workers", "0", "--quiet"])
    expect(sweep.status).toBe(2)
    expect(sweep.stderr).toMatch(/no grid point can run/)
    const search = runCli(["search", "--gpus", "h100-sxm", "--tp", "64", "--quiet"])
    expect(search.status).toBe(2)
    expect(search.stderr).toMatch(/no layout can run/)
    const empty = join(tmp, "empty.json")
    writeFileSync(empty, "[]")
    const cal = runCli(["calibrate", empty, "--out", join(tmp, "p.json")])
    expect(cal.status).toBe(2)
    expect(cal.stderr.trim().split("\n").at(-1)).toMatch(/servesim: /)
  })
})
