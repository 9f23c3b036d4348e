// The probe against a misbehaving twin (500s, error chunks, stalls, dropped connections): every request
// is recorded once with its failure class, and the counts add up. Then a probe killed with SIGKILL in
// the middle of a point resumes: nothing recorded is lost or sent twice.
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { repoRoot, runCli } from "../cli/cli-helpers.ts"
import { startTwinProcess } from "./twin-process.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-robust-"))
const MODEL = "facebook/opt-125m"

const startTwin = (extra: ReadonlyArray<string>) => startTwinProcess(["--model", MODEL, "--gpu", "a100-sxm", "--max-model-len", "2048", ...extra])

interface Rec {
  point: string
  index: number
  warmup: boolean
  ok: boolean
  errorClass?: string
}

const records = (run: string): Rec[] =>
  readFileSync(join(run, "requests.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Rec)

describe("probe robustness", () => {
  it("records every request once against a misbehaving twin, failures classified", async () => {
    const { url, proc } = await startTwin(["--time-scale", "20", "--fail-rate", "0.15", "--error-chunk-rate", "0.1", "--drop-rate", "0.1", "--stall-rate", "0.1", "--stall-ms", "50", "--seed", "4"])
    try {
      const run = join(dir, "misbehaving")
      const r = runCli(["probe", "--url", url, "--model", MODEL, "--concurrency", "4,8", "--isl", "64", "--osl", "16", "--num-requests", "40", "--scrape-interval", "0", "--out", run], 600_000)
      expect(r.status).toBe(0)
      const recs = records(run)
      expect(recs).toHaveLength(80)
      const keys = new Set(recs.map((x) => `${x.point}#${x.index}`))
      expect(keys.size).toBe(80)
      const failed = recs.filter((x) => !x.ok)
      const classes = new Set(failed.map((x) => x.errorClass))
      expect(failed.length).toBeGreaterThan(10)
      for (const c of ["http_5xx", "stream_error", "dropped_connection"]) expect(classes.has(c)).toBe(true)
      for (const f of readdirSync(join(run, "points"))) {
        const s = JSON.parse(readFileSync(join(run, "points", f), "utf8")) as { completed: number; failed: number }
        const own = recs.filter((x) => `${x.point}.summary.json` === f)
        expect(s.completed + s.failed).toBe(40)
        expect(s.failed).toBe(own.filter((x) => !x.ok).length)
      }
    } finally {
      proc.kill("SIGTERM")
    }
  }, 1_800_000)

  it("a probe killed with SIGKILL mid-point resumes without losing or repeating a request", async () => {
    const { url, proc } = await startTwin(["--time-scale", "2"])
    try {
      const run = join(dir, "killed")
      const args = ["--model", MODEL, "--concurrency", "4", "--isl", "64", "--osl", "32", "--num-requests", "60", "--scrape-interval", "0"]
      const probe = spawn(process.execPath, ["bin/servesim.js", "probe", "--url", url, ...args, "--out", run], { cwd: repoRoot, stdio: "ignore" })
      // Kill once some, but not all, requests are on disk.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("probe recorded nothing in time")), 600_000)
        const poll = setInterval(() => {
          let n = 0
          try {
            n = records(run).length
          } catch {
            n = 0
          }
          if (n >= 10) {
            clearInterval(poll)
            clearTimeout(timer)
            resolve()
          }
        }, 20)
      })
      probe.kill("SIGKILL")
      await new Promise((r) => probe.on("exit", r))
      const before = records(run)
      expect(before.length).toBeLessThan(60)
      const resumed = runCli(["probe", "--url", url, ...args, "--resume", run], 600_000)
      expect(resumed.status).toBe(0)
      const after = records(run)
      const measured = after.filter((x) => !x.warmup)
      expect(measured).toHaveLength(60)
      expect(new Set(measured.map((x) => x.index)).size).toBe(60)
      // Everything recorded before the kill is still there, unchanged.
      const text = readFileSync(join(run, "requests.jsonl"), "utf8")
      for (const b of before) expect(text).toContain(`"index":${b.index},`)
    } finally {
      proc.kill("SIGTERM")
    }
  }, 1_800_000)
})
