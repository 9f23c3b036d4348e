import { existsSync, readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { RequestSpec } from "../../../src/sim/types.ts"
import { parseTrace, traceWorkload } from "../../../src/sim/workload/trace.ts"

const DATA = fileURLToPath(new URL("../../../../shared/data/serving/per-request-replays/", import.meta.url))
const haveData = existsSync(DATA)
const inCI = process.env["CI"] === "true"

const ok = (text: string, format: "jsonl" | "csv"): RequestSpec[] => {
  const r = parseTrace(text, format)
  if (typeof r === "string") throw new Error(r)
  return r
}

describe("parseTrace, generic", () => {
  it("reads JSONL with alternative names, shifts to t = 0 and sorts stably", () => {
    const text = [
      '{"timestamp": 12.5, "prompt_tokens": 10, "completion_tokens": 5}',
      "",
      '{"arrival_time": 10, "input_tokens": 20, "output_tokens": 7, "priority": -1}',
      '{"arrival_time": 12.5, "input_tokens": 30, "output_tokens": 8, "prefix_group": 2, "prefix_len": 16, "stage": 1}',
    ].join("\n")
    expect(ok(text, "jsonl")).toEqual([
      { arrival: 0, inputTokens: 20, outputTokens: 7, prefixes: [], contentId: -1, priority: -1, stage: 0 },
      { arrival: 2.5, inputTokens: 10, outputTokens: 5, prefixes: [], contentId: -1, priority: 0, stage: 0 },
      { arrival: 2.5, inputTokens: 30, outputTokens: 8, prefixes: [{ id: 2, length: 16 }], contentId: -1, priority: 0, stage: 1 },
    ])
  })

  it("reads CSV with a header, quoted cells and empty optional cells", () => {
    const text = ["arrival_time,input_tokens,output_tokens,prefix_group,prefix_len,priority", '3.0,"100",50,,,', "1.5,200,60,0,64,2", ""].join("\r\n")
    expect(ok(text, "csv")).toEqual([
      { arrival: 0, inputTokens: 200, outputTokens: 60, prefixes: [{ id: 0, length: 64 }], contentId: -1, priority: 2, stage: 0 },
      { arrival: 1.5, inputTokens: 100, outputTokens: 50, prefixes: [], contentId: -1, priority: 0, stage: 0 },
    ])
  })

  it.each([
    ['{"arrival_time": 1, "input_tokens": 1, "output_tokens": 1}\n{"arrival_time": 2, "input_tokens": 0, "output_tokens": 1}', "jsonl", "line 2: input_tokens 0 is outside [1, 10,000,000] (an integer)"],
    ['{"arrival_time": 1, "input_toks": 3.5, "output_toks": 1}', "jsonl", "line 1: input_toks 3.5 is outside [1, 10,000,000] (an integer)"],
    ['{"arrival_time": "soon", "input_tokens": 1, "output_tokens": 1}', "jsonl", 'line 1: arrival_time "soon" is not a number of seconds in [-1e11, 1e11]'],
    ['{"input_tokens": 1, "output_tokens": 1}', "jsonl", "line 1: missing arrival_time (or timestamp)"],
    ['{"arrival_time": 1, "input_tokens": 1}', "jsonl", "line 1: missing output_tokens (or completion_tokens)"],
    ['\n\n{"arrival_time": 1,', "jsonl", "line 3: invalid JSON"],
    ["[1, 2]", "jsonl", "line 1: expected a JSON object"],
    ['{"arrival_time": 1, "input_tokens": 10, "output_tokens": 1, "prefix_group": 1}', "jsonl", "line 1: prefix_len is required with prefix_group"],
    ['{"arrival_time": 1, "input_tokens": 10, "output_tokens": 1, "prefix_group": 1, "prefix_len": 11}', "jsonl", "line 1: prefix_len 11 is outside [1, 10] (an integer), at most input_tokens"],
    ['{"arrival_time": 1, "input_tokens": 10, "output_tokens": 1, "priority": 0.5}', "jsonl", "line 1: priority 0.5 is outside [-1,000,000,000, 1,000,000,000] (an integer)"],
    ["timestamp,prompt_tokens,completion_tokens\n0,5,5\n1,5,x", "csv", 'line 3: completion_tokens "x" is outside [1, 10,000,000] (an integer)'],
    ["timestamp,prompt_tokens,completion_tokens\n0,5", "csv", "line 2: expected 3 columns, found 2"],
    ["", "csv", "trace: empty (no header line)"],
    ["\n", "jsonl", "trace: no requests"],
    // Ranges: a stage of 1e9 (once a hang: per-stage arrays), ids past the prefix cache's key space, a span of centuries.
    ['{"arrival_time": 1, "input_tokens": 1, "output_tokens": 1, "stage": 1e9}', "jsonl", "line 1: stage 1000000000 is outside [0, 9,999] (an integer)"],
    ['{"arrival_time": 1, "input_tokens": 2, "output_tokens": 1, "prefix_group": 268435456, "prefix_len": 1}', "jsonl", "line 1: prefix_group 268435456 is outside [0, 268,435,455] (an integer)"],
    ['{"arrival_time": 1, "input_tokens": 1, "output_tokens": 1, "content_id": -2}', "jsonl", "line 1: content_id -2 is outside [-1, 268,435,455] (an integer)"],
    ['{"arrival_time": 1, "input_tokens": 1e8, "output_tokens": 1}', "jsonl", "line 1: input_tokens 100000000 is outside [1, 10,000,000] (an integer)"],
    ['{"arrival_time": 1e300, "input_tokens": 1, "output_tokens": 1}', "jsonl", "line 1: arrival_time 1e+300 is not a number of seconds in [-1e11, 1e11]"],
    ['{"arrival_time": 0, "input_tokens": 1, "output_tokens": 1}\n{"arrival_time": 2e8, "input_tokens": 1, "output_tokens": 1}', "jsonl", "line 2: arrival 200000000 is 2.000e+8 s after the first (line 1), more than 1e+8 s"],
  ] as const)("error %#: %s", (text, format, msg) => {
    expect(parseTrace(text, format)).toBe(msg)
  })
})

describe("traceWorkload", () => {
  it("replays in arrival order and reports its count", () => {
    const rs = ok('{"arrival_time": 5, "input_tokens": 2, "output_tokens": 3, "stage": 1}\n{"arrival_time": 4, "input_tokens": 1, "output_tokens": 1}', "jsonl")
    const w = traceWorkload([...rs].reverse())
    expect(w.countRequests).toBe(2)
    expect(w.stageCount).toBe(2)
    expect(w.next()).toEqual(rs[0])
    expect(w.next()).toEqual(rs[1])
    expect(w.next()).toBeUndefined()
  })
})

describe.skipIf(!haveData)("real per-request replays (../shared/data/serving/per-request-replays)", () => {
  const files = haveData ? readdirSync(DATA).flatMap((gpu) => readdirSync(`${DATA}${gpu}`).map((m) => `${gpu}/${m}/requests.jsonl`)) : []

  it("finds the 4 replays", () => {
    expect(files).toHaveLength(4)
  })

  it.each(files)("%s: 300 requests, first at 0, sorted, lengths as recorded", (f) => {
    const text = readFileSync(`${DATA}${f}`, "utf8")
    const rs = ok(text, "jsonl")
    expect(rs).toHaveLength(300)
    expect(rs[0]!.arrival).toBe(0)
    for (let i = 1; i < rs.length; i++) expect(rs[i]!.arrival).toBeGreaterThanOrEqual(rs[i - 1]!.arrival)
    // ~10 req/s for 300 requests.
    expect(rs[299]!.arrival).toBeGreaterThan(25)
    expect(rs[299]!.arrival).toBeLessThan(35)
    const first = JSON.parse(text.split("\n")[0]!) as { input_toks: number; output_toks: number }
    expect(rs[0]).toMatchObject({ inputTokens: first.input_toks, outputTokens: first.output_toks, prefixes: [], contentId: -1 })
  })
})

describe.runIf(!haveData && inCI)("shared data in CI", () => {
  it("../shared/data must be present when CI=true", () => {
    expect(haveData, `missing ${DATA}`).toBe(true)
  })
})

if (!haveData && !inCI) console.warn(`trace.test.ts: skipping real-file tests, ${DATA} not found`)
