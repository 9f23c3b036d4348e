import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Effect, Exit } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import {
  dedupRecords,
  MANIFEST_FORMAT,
  openRunDirWriter,
  parseJsonl,
  readRunDir,
  readScrapes,
  requestsPath,
  validateRequestRecord
} from "../../src/probe/run-dir.ts"
import type { Manifest } from "../../src/probe/run-dir.ts"
import type { RequestRecord } from "../../src/probe/types.ts"

const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), "servesim-rundir-"))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const manifest: Manifest = {
  format: MANIFEST_FORMAT,
  createdAt: "2026-11-22T00:00:00.000Z",
  tool: { name: "servesim", version: "0.1.0", node: "v20", platform: "linux-x64" },
  plan: {
    url: "http://127.0.0.1:8000",
    model: "m",
    endpoint: "completions",
    mode: "concurrency",
    points: [{ id: "concurrency-1", kind: "concurrency", concurrency: 1 }],
    isl: 8,
    osl: 2,
    numRequests: 5,
    warmup: 0,
    timeoutS: 10,
    seed: "0"
  },
  prompt: { overhead: 1, perWord: 1, words: 7, calibration: [] },
  server: { models: [{ id: "m" }], metricsAvailable: false },
  sessions: [{ session: 0, startedAt: "2026-11-22T00:00:00.000Z" }]
}

const record = (index: number, session = 0): RequestRecord => ({
  point: "concurrency-1",
  index,
  warmup: false,
  session,
  intendedAt: 1000 + index,
  sentAt: 1000 + index,
  firstTokenMs: 5,
  lastChunkMs: 6,
  endMs: 7,
  chunks: [[5, 1], [6, 1]],
  status: 200,
  ok: true,
  finishReason: "length",
  usage: { prompt_tokens: 8, completion_tokens: 2 },
  continuousUsage: true,
  done: true,
  promptTokensRequested: 8,
  promptWords: 7,
  maxTokens: 2
})

const run = <A, E>(eff: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(eff)

const writeRecords = (dir: string, records: ReadonlyArray<RequestRecord>, mode: "fresh" | "resume") =>
  run(Effect.scoped(Effect.gen(function*() {
    const w = yield* openRunDirWriter(dir, manifest, mode)
    for (const r of records) yield* w.appendRequest(r)
    yield* w.appendScrape({ point: "concurrency-1", session: 0, at: 1, running: 1 })
  })))

describe("parseJsonl", () => {
  it("keeps complete lines, drops a half-written tail, rejects a bad middle line", () => {
    const good = JSON.stringify(record(0))
    const half = JSON.stringify(record(1)).slice(0, 40)
    const ok = parseJsonl(`${good}\n${half}`, validateRequestRecord, "f")
    expect(typeof ok).not.toBe("string")
    if (typeof ok === "string") return
    expect(ok.values.length).toBe(1)
    expect(ok.discardedTail).toBe(true)
    expect(ok.keepBytes).toBe(Buffer.byteLength(good) + 1)
    // A complete tail that only lost its newline is kept.
    const whole = parseJsonl(`${good}\n${good}`, validateRequestRecord, "f")
    expect(typeof whole === "string" ? whole : whole.values.length).toBe(2)
    expect(parseJsonl(`${half}\n${good}\n`, validateRequestRecord, "f")).toMatch(/^f:1: /)
    expect(parseJsonl(`{"point":1}\n`, validateRequestRecord, "f")).toMatch(/^f:1: not a request record/)
  })

  it("dedup keeps the first record of each (point, index, warmup)", () => {
    const d = dedupRecords([record(0), record(1), record(0, 1), { ...record(0), warmup: true }])
    expect(d.records.length).toBe(3)
    expect(d.duplicates).toBe(1)
  })
})

describe("run directory", () => {
  it("writes the manifest first and refuses to overwrite a run", async () => {
    const dir = tempDir()
    await writeRecords(dir, [record(0), record(1)], "fresh")
    const contents = await run(readRunDir(dir))
    expect(contents.manifest).toEqual(manifest)
    expect(contents.requests.map((r) => r.index)).toEqual([0, 1])
    expect(await run(readScrapes(dir, "concurrency-1"))).toEqual([{ point: "concurrency-1", session: 0, at: 1, running: 1 }])
    const again = await Effect.runPromiseExit(Effect.scoped(openRunDirWriter(dir, manifest, "fresh")))
    expect(Exit.isFailure(again)).toBe(true)
    expect(JSON.stringify(again)).toMatch(/already holds a probe run/)
  })

  it("a kill -9 mid-append: the half line is discarded on read and cut off before resuming; nothing lost or duplicated", async () => {
    const dir = tempDir()
    await writeRecords(dir, [record(0), record(1), record(2)], "fresh")
    // The process died while appending record 3.
    appendFileSync(requestsPath(dir), JSON.stringify(record(3)).slice(0, 57))
    const before = await run(readRunDir(dir))
    expect(before.discardedTail).toBe(true)
    expect(before.requests.map((r) => r.index)).toEqual([0, 1, 2])
    // --resume re-runs only what is missing (3 and 4) and appends after the repaired end.
    const done = new Set(before.requests.map((r) => r.index))
    const missing = [0, 1, 2, 3, 4].filter((i) => !done.has(i))
    await writeRecords(dir, missing.map((i) => record(i, 1)), "resume")
    const after = await run(readRunDir(dir))
    expect(after.discardedTail).toBe(false)
    expect(after.duplicates).toBe(0)
    expect(after.requests.map((r) => [r.index, r.session])).toEqual([[0, 0], [1, 0], [2, 0], [3, 1], [4, 1]])
    const lines = readFileSync(requestsPath(dir), "utf8").split("\n")
    expect(lines.length).toBe(6) // five records and the final newline
    expect(lines.every((l, i) => i === 5 ? l === "" : validateRequestRecord(JSON.parse(l)) !== undefined)).toBe(true)
  })

  it("a tail that only lost its newline is kept and the newline restored", async () => {
    const dir = tempDir()
    await writeRecords(dir, [record(0)], "fresh")
    appendFileSync(requestsPath(dir), JSON.stringify(record(1)))
    expect((await run(readRunDir(dir))).requests.length).toBe(2)
    await writeRecords(dir, [record(2, 1)], "resume")
    const after = await run(readRunDir(dir))
    expect(after.requests.map((r) => r.index)).toEqual([0, 1, 2])
  })

  it("a directory without a manifest is not a run", async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, "requests.jsonl"), "")
    const exit = await Effect.runPromiseExit(readRunDir(dir))
    expect(JSON.stringify(exit)).toMatch(/no manifest.json/)
  })
})
