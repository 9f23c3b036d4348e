// Seeded fuzz of the CLI's input edge (issue 15 item 8): malformed and extreme flag values (simulate
// and sweep), malformed scenario files, measurement tables and bench results for validate, and bad
// trace files. Every case must end as the contract says for bad input: exit code 2, exactly one line
// on stderr, no stack trace, nothing on stdout. It runs main() in this process (in-process.ts), so a
// few hundred cases take seconds.
//
// It cannot pass vacuously: each family first runs its uncorrupted fixture and requires exit 0 (so
// the error comes from the corruption), each case's message must name the flag or file it corrupted
// (so it reached that parser, not some other failure), and the number of cases run is asserted.
import fc from "fast-check"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { benchResult } from "../input-fixtures.ts"
import { runInProcess } from "./in-process.ts"

const SEED = 20261203
const dir = mkdtempSync(join(tmpdir(), "servesim-fuzz-"))
let fileSeq = 0
const file = (ext: string, text: string): string => {
  const p = join(dir, `case-${fileSeq++}.${ext}`)
  writeFileSync(p, text)
  return p
}

/** Runs one bad input; checks the contract for bad input and that the message names `mention`. */
const expectRefused = async (args: ReadonlyArray<string>, mention: string): Promise<void> => {
  const r = await runInProcess(args)
  const where = `servesim ${args.join(" ")}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 300)}`
  expect(r.status, where).toBe(2)
  expect(r.stdout, where).toBe("")
  const lines = r.stderr.trimEnd().split("\n")
  expect(lines, where).toHaveLength(1)
  expect(r.stderr, where).not.toMatch(/^\s+at /m)
  expect(r.stderr, where).not.toMatch(/internal error|TypeError|RangeError|ReferenceError|SyntaxError: (?!.*JSON)/)
  expect(r.stderr, where).toContain(mention)
}

const expectAccepted = async (args: ReadonlyArray<string>): Promise<void> => {
  const r = await runInProcess(args)
  expect(r.status, `servesim ${args.join(" ")}\n${r.stderr}`).toBe(0)
}

const counts: Record<string, { runs: number; distinct: Set<string> }> = {}
const count = (family: string, key: string): void => {
  const c = (counts[family] ??= { runs: 0, distinct: new Set() })
  c.runs++
  c.distinct.add(key)
}

// ---------------------------------------------------------------------------------------------------
// Values that are bad for a kind of field, whatever the flag.

type Kind =
  | { readonly t: "int"; readonly min: 0 | 1; readonly max: number }
  | { readonly t: "number"; readonly min: number; readonly max: number; readonly minOpen: boolean }
  | { readonly t: "fraction"; readonly below1: boolean }
  | { readonly t: "length" }
  | { readonly t: "stages" }
  | { readonly t: "goodput" }
  | { readonly t: "choice" }
  | { readonly t: "name" }

const NOT_A_NUMBER = ["", " ", "abc", "NaN", "Infinity", "-Infinity", "1e400", "0x10", "1,5", "--", "١٢", "1e", "e5", ".", "+-1", "1_000"]
const noDigits = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[0-9]/.test(s) && !/^\s*(inf|sharegpt)\s*$/.test(s) && !s.startsWith("-"))

const badNumbers = (k: Kind): string[] => {
  switch (k.t) {
    case "int":
      return ["-1", "-1e9", "1.5", "2.25", String(k.max * 10), "1e15", "1e308", ...(k.min === 1 ? ["0", "-0"] : [])]
    case "number":
      return ["-1", "-1e9", "1e308", ...(k.min >= 0 && k.minOpen ? ["0"] : []), ...(Number.isFinite(k.max) ? [String(k.max * 10)] : []), ...(k.min > 0 ? [String(k.min / 10)] : [])]
    case "fraction":
      return ["-0.1", "1.5", "2", "-1", ...(k.below1 ? ["1"] : [])]
    case "length":
      return ["-5", "0", "1.5", "uniform:5:1", "uniform:a:b", "uniform::", "normal:1e300:1", "lognormal:0:1", "lognormal:1e300:1e300", "uniform:1:1e300", "fixed:1", "zipf:1:2", "normal:1:-1", "20000000"]
    case "stages":
      return ["1", "1:0", "0:1", "1:1e300", "1e-300:5", ":", "1:2:3", "a:b", "1:1,", ",", "1e10:1", "-1:5"]
    case "goodput":
      return ["ttft", "ttft:", "ttft:0", "ttft:-1", "bogus:1", "ttft:1:2", "tpot:abc", "ttft:1e400", "e2el:NaN"]
    case "choice":
      return ["fp3", "BF16", "x", "auto ", "round_robin"]
    case "name":
      return ["nope", "nope/x", "meta-llama/Llama-9-1B", "h100-sxn", "./missing-module.ts"]
  }
}

const badValue = (k: Kind): fc.Arbitrary<string> => {
  const fixed = fc.constantFrom(...badNumbers(k))
  if (k.t === "choice" || k.t === "name") return fixed
  return fc.oneof({ arbitrary: fixed, weight: 3 }, { arbitrary: fc.constantFrom(...NOT_A_NUMBER.filter((v) => k.t !== "stages" || v !== "1,5")), weight: 2 }, { arbitrary: noDigits, weight: 1 })
}

// The scenario flags of simulate and their ranges (src/cli/scenario.ts, flags.ts).
const INT = (max: number, min: 0 | 1 = 1): Kind => ({ t: "int", min, max })
const NUM = (min: number, max: number, minOpen = true): Kind => ({ t: "number", min, max, minOpen })
const SIMULATE_FLAGS: ReadonlyArray<readonly [string, Kind]> = [
  ["--tp", INT(1024)],
  ["--pp", INT(1024)],
  ["--ep", INT(1024)],
  ["--replicas", INT(10_000)],
  ["--concurrency", INT(10_000_000)],
  ["--num-requests", INT(1_000_000_000)],
  ["--max-requests", INT(1_000_000_000)],
  ["--max-num-seqs", INT(10_000_000)],
  ["--max-num-batched-tokens", INT(1_000_000_000)],
  ["--max-model-len", INT(1_073_741_824)],
  ["--num-gpu-blocks", INT(100_000_000)],
  ["--prefix-groups", INT(1_000_000)],
  ["--warmup", INT(1_000_000_000, 0)],
  ["--long-prefill-token-threshold", INT(1_000_000_000, 0)],
  ["--rate", NUM(1e-6, 1e9, false)],
  ["--burstiness", NUM(0, Number.POSITIVE_INFINITY)],
  ["--osl-multiplier", NUM(0, 1000)],
  ["--gpu-memory-utilization", NUM(0.05, 1, false)],
  ["--timeline-interval", NUM(0, Number.POSITIVE_INFINITY)],
  ["--prefix-share", { t: "fraction", below1: true }],
  ["--spec-acceptance", { t: "fraction", below1: false }],
  ["--isl", { t: "length" }],
  ["--osl", { t: "length" }],
  ["--stages", { t: "stages" }],
  ["--goodput", { t: "goodput" }],
  ["--precision", { t: "choice" }],
  ["--kv-cache-dtype", { t: "choice" }],
  ["--router", { t: "choice" }],
  ["--spec-method", { t: "choice" }],
  ["--model", { t: "name" }],
  ["--gpu", { t: "name" }],
  ["--policy", { t: "name" }],
]

const SMALL = ["--num-requests", "20", "--isl", "64", "--osl", "8"]

describe("fuzz: malformed and extreme flag values", () => {
  const RUNS = 160
  it(`simulate: ${RUNS} seeded cases over ${SIMULATE_FLAGS.length} flags, each exit 2 with one line naming the flag`, async () => {
    await expectAccepted(["simulate", ...SMALL])
    const arb = fc.constantFrom(...SIMULATE_FLAGS).chain(([flag, kind]) => fc.tuple(fc.constant(flag), badValue(kind)))
    await fc.assert(
      fc.asyncProperty(arb, async ([flag, value]) => {
        count("simulate flags", `${flag}=${value}`)
        // The fuzzed flag comes last, so it wins over the small-run defaults.
        await expectRefused(["simulate", ...SMALL, `${flag}=${value}`], flag)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    expect(counts["simulate flags"]!.runs).toBe(RUNS)
    expect(new Set([...counts["simulate flags"]!.distinct].map((k) => k.split("=")[0])).size).toBeGreaterThanOrEqual(25)
  })

  // Sweep's list flags: one bad element among good ones, an empty element, or a repeat.
  const LIST_FLAGS: ReadonlyArray<readonly [string, string, Kind]> = [
    ["--concurrency", "4", INT(10_000_000)],
    ["--tp", "1", INT(1024)],
    ["--pp", "1", INT(1024)],
    ["--replicas", "1", INT(10_000)],
    ["--max-num-seqs", "64", INT(10_000_000)],
    ["--max-num-batched-tokens", "8192", INT(1_000_000_000)],
    ["--osl-multiplier", "1", NUM(0, 1000)],
    ["--prefix-share", "0.1", { t: "fraction", below1: true }],
    ["--spec-acceptance", "0.5", { t: "fraction", below1: false }],
    ["--precision", "bf16", { t: "choice" }],
    ["--kv-cache-dtype", "auto", { t: "choice" }],
    ["--gpu", "h100-sxm", { t: "name" }],
    ["--model", "meta-llama/Llama-3.1-8B-Instruct", { t: "name" }],
  ]
  const SWEEP_RUNS = 60
  it(`sweep: ${SWEEP_RUNS} seeded cases over ${LIST_FLAGS.length} list flags, each exit 2 with one line naming the flag`, async () => {
    const common = ["--seeds", "1", "--workers", "0", "--quiet", ...SMALL]
    await expectAccepted(["sweep", "--concurrency", "4", ...common])
    const arb = fc.constantFrom(...LIST_FLAGS).chain(([flag, good, kind]) =>
      fc.tuple(
        fc.constant(flag),
        fc.oneof(
          badValue(kind)
            .filter((v) => !v.includes(","))
            .chain((bad) => fc.constantFrom(`${good},${bad}`, `${bad},${good}`, bad)),
          fc.constantFrom(`${good},`, `,${good}`, `${good},${good}`, ","),
        ),
      ),
    )
    await fc.assert(
      fc.asyncProperty(arb, async ([flag, list]) => {
        count("sweep lists", `${flag}=${list}`)
        const load = flag === "--concurrency" ? [] : ["--concurrency", "4"]
        await expectRefused(["sweep", ...common, ...load, `${flag}=${list}`], flag)
      }),
      { seed: SEED, numRuns: SWEEP_RUNS },
    )
    expect(counts["sweep lists"]!.runs).toBe(SWEEP_RUNS)
  })
})

// ---------------------------------------------------------------------------------------------------
// Files

const scenario = {
  model: "meta-llama/Llama-3.1-8B-Instruct",
  gpu: "h100-sxm",
  tp: 1,
  workload: { concurrency: 4, numRequests: 20, input: 64, output: 8 },
}

// Scenario fields and values their schema refuses (type or range).
const WRONG_TYPE: ReadonlyArray<unknown> = [null, "abc", true, [], {}, ""]
const SCENARIO_FIELDS: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
  ["tp", [0, -1, 1.5, 2048, 1e300]],
  ["pp", [0, 1.5, 1e6]],
  ["replicas", [0, 1e9]],
  ["maxRequests", [0, 1e12]],
  ["precision", ["fp3"]],
  ["kvCacheDtype", ["int2"]],
  ["router", ["random"]],
  ["timelineInterval", [-1]],
  ["workload.concurrency", [0, -4, 1e12, 2.5]],
  ["workload.numRequests", [0, 1e10, 0.5]],
  ["workload.warmup", [-1, 1e12]],
  ["workload.burstiness", [0, -1]],
  ["workload.oslMultiplier", [0, 1e300]],
  ["workload.prefixShare", [1, -0.5]],
  ["workload.prefixGroups", [0, 1e9]],
  ["workload.prefix", [{ numGroups: 1e9, length: 10 }, { numGroups: 1 }]],
  ["workload.stages", [[], [{ rate: 1, duration: 1e300 }], [{ rate: 1e-300, duration: 5 }]]],
  ["workload.priority", [{ values: [] }]],
  ["engine.maxNumSeqs", [0, 1e12]],
  ["engine.maxNumBatchedTokens", [0, 1e12]],
  ["engine.maxModelLen", [0, 1e12]],
  ["engine.gpuMemoryUtilization", [0, 2]],
  ["engine.numGpuBlocks", [0, 1e12]],
  ["engine.blockSize", [7, 0]],
  ["goodput.ttftMs", [0, -5]],
  ["speculative", [{ method: "draft" }, { method: "magic", numTokens: 1, acceptance: 0.5 }]],
]

const withField = (base: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> => {
  const [head, ...rest] = path.split(".")
  if (rest.length === 0) return { ...base, [head!]: value }
  const inner = base[head!]
  return { ...base, [head!]: withField(typeof inner === "object" && inner !== null ? (inner as Record<string, unknown>) : {}, rest.join("."), value) }
}

describe("fuzz: malformed scenario files", () => {
  const RUNS = 80
  it(`simulate <scenario.json>: ${RUNS} seeded cases (bad field values, unknown keys, truncated JSON), each exit 2 with one line naming the file`, async () => {
    const text = JSON.stringify(scenario, null, 2)
    await expectAccepted(["simulate", file("json", text)])
    const badField = fc.constantFrom(...SCENARIO_FIELDS).chain(([path, bad]) =>
      fc.tuple(fc.constant(path), fc.constantFrom(...bad, ...WRONG_TYPE)).map(([p, v]) => ({ what: `${p}=${JSON.stringify(v)}`, text: JSON.stringify(withField(scenario, p, v)) })),
    )
    const unknownKey = fc
      .tuple(fc.constantFrom("", "workload.", "engine."), fc.constantFrom("tpp", "numRequest", "gpus", "blockSizes"))
      .map(([at, k]) => ({ what: `unknown ${at}${k}`, text: JSON.stringify(withField(scenario, `${at}${k}`, 1)) }))
    const truncated = fc.integer({ min: 1, max: text.length - 1 }).map((n) => ({ what: `truncated at ${n}`, text: text.slice(0, n) }))
    const notObject = fc.constantFrom("[]", "42", '"scenario"', "null", "").map((t) => ({ what: `top level ${t}`, text: t }))
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: badField, weight: 5 }, { arbitrary: unknownKey, weight: 1 }, { arbitrary: truncated, weight: 2 }, { arbitrary: notObject, weight: 1 }), async (c) => {
        count("scenario files", c.what)
        const p = file("json", c.text)
        await expectRefused(["simulate", p], p)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    expect(counts["scenario files"]!.runs).toBe(RUNS)
  })
})

const HEADER =
  "source,engine,engine_version,gpu,model,precision,tp,pp,mode,workload,isl,osl,concurrency,request_rate,num_requests,max_num_seqs,max_num_batched_tokens,ttft_mean_ms,ttft_p50_ms,ttft_p90_ms,ttft_p99_ms,tpot_mean_ms,tpot_p50_ms,tpot_p90_ms,tpot_p99_ms,itl_mean_ms,e2e_mean_ms,e2e_p50_ms,e2e_p90_ms,e2e_p99_ms,request_throughput,output_throughput,input_throughput"
const COLUMNS = HEADER.split(",")
const GOOD_ROW = "fixture:a,vllm,0.15.1,h100-sxm,meta-llama/Llama-3.1-8B-Instruct,bf16,1,1,agg,random-fixed,512,64,4,,80,,,40,,,,8,,,,,,,,,,,".split(",")
// Columns and values their range refuses (src/calibrate/measurement-ranges.ts). TPOT/ITL may be 0.
const CSV_CELLS: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["isl", ["-256", "0", "1e8", "abc", "1.5e400"]],
  ["osl", ["-1", "0", "NaN"]],
  ["tp", ["0", "1.5", "2048", "x"]],
  ["pp", ["0", "-2"]],
  ["concurrency", ["0", "1e15", "2.5", "many"]],
  ["num_requests", ["0", "-80", "1e12"]],
  ["request_rate", ["-1", "0", "abc"]],
  ["max_num_seqs", ["0", "1e12"]],
  ["ttft_mean_ms", ["0", "-40", "1e12", "abc"]],
  ["ttft_p99_ms", ["-1", "0"]],
  ["tpot_mean_ms", ["-8", "1e12", "fast"]],
  ["e2e_mean_ms", ["0", "-1"]],
]

describe("fuzz: malformed measurements for validate", () => {
  const RUNS = 70
  it(`validate <table.csv | bench.json>: ${RUNS} seeded cases (out-of-range cells, broken rows and headers, bad bench fields), each exit 2 with one line naming the file`, async () => {
    await expectAccepted(["validate", file("csv", `${HEADER}\n${GOOD_ROW.join(",")}\n`)])
    const cell = fc.constantFrom(...CSV_CELLS).chain(([col, bad]) =>
      fc.constantFrom(...bad).map((v) => {
        const row = [...GOOD_ROW]
        row[COLUMNS.indexOf(col)] = v
        return { what: `csv ${col}=${v}`, ext: "csv", text: `${HEADER}\n${row.join(",")}\n` }
      }),
    )
    const structure = fc.constantFrom(
      { what: "csv duplicate header", ext: "csv", text: `${HEADER.replace(",osl,", ",isl,")}\n${GOOD_ROW.join(",")}\n` },
      { what: "csv short row", ext: "csv", text: `${HEADER}\n${GOOD_ROW.slice(0, 20).join(",")}\n` },
      { what: "csv long row", ext: "csv", text: `${HEADER}\n${GOOD_ROW.join(",")},1,2\n` },
      { what: "csv empty", ext: "csv", text: "" },
      { what: "csv unknown model", ext: "csv", text: `${HEADER}\n${GOOD_ROW.join(",").replace("Llama-3.1-8B-Instruct", "Llama-9-1B")}\n` },
    )
    const bench = benchResult
    const benchCase = fc
      .tuple(fc.constantFrom(...(Object.keys(bench) as Array<keyof typeof bench>).filter((k) => k !== "model_id")), fc.constantFrom<unknown>(-5, 0, 1e300, "abc", null, []))
      .filter(([k, v]) => !(v === 0 && k === "mean_tpot_ms"))
      .map(([k, v]) => ({ what: `bench ${k}=${JSON.stringify(v)}`, ext: "json", text: JSON.stringify({ ...bench, [k]: v }) }))
    const benchText = fc.constantFrom("{nope", "[]", "", "null", '{"model_id": 5}').map((t) => ({ what: `bench text ${t}`, ext: "json", text: t }))
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: cell, weight: 5 }, { arbitrary: structure, weight: 1 }, { arbitrary: benchCase, weight: 3 }, { arbitrary: benchText, weight: 1 }), async (c) => {
        count("measurements", c.what)
        const p = file(c.ext, c.text)
        await expectRefused(["validate", p, ...(c.ext === "json" ? ["--gpu", "h100-sxm"] : [])], p)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    expect(counts["measurements"]!.runs).toBe(RUNS)
  })
})

describe("fuzz: bad trace files", () => {
  const RUNS = 60
  const rows = Array.from({ length: 5 }, (_, i) => ({ arrival_time: i * 0.5, input_tokens: 64, output_tokens: 8, prefix_group: 0, prefix_len: 16, priority: 0, stage: 0 }))
  const TRACE_FIELDS: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]> = [
    ["arrival_time", ["soon", null, 1e300, -1e300]],
    ["input_tokens", [0, -3, 1.5, 1e8, "64"]],
    ["output_tokens", [0, -1, 1e9]],
    ["prefix_group", [-1, 2 ** 28, 0.5]],
    ["prefix_len", [0, 65, 1.5]],
    ["priority", [0.5, 1e12, "high"]],
    ["content_id", [-2, 2 ** 28]],
    ["stage", [-1, 1e9, 10_000, 0.5]],
  ]
  it(`simulate --trace: ${RUNS} seeded cases (out-of-range fields, broken lines), each exit 2 with one line naming file:line`, async () => {
    const jsonl = (rs: ReadonlyArray<Record<string, unknown>>) => rs.map((r) => JSON.stringify(r)).join("\n") + "\n"
    await expectAccepted(["simulate", "--trace", file("jsonl", jsonl(rows))])
    const field = fc
      .tuple(fc.constantFrom(...TRACE_FIELDS), fc.integer({ min: 0, max: rows.length - 1 }))
      .chain(([[name, bad], i]) =>
        fc.constantFrom(...bad).map((v) => ({ what: `${name}=${JSON.stringify(v)}`, line: i + 1, text: jsonl(rows.map((r, j) => (j === i ? { ...r, [name]: v } : r))) })),
      )
    const broken = fc
      .tuple(fc.constantFrom("{", "[1,2]", '"row"', "{}", '{"arrival_time": 1}'), fc.integer({ min: 0, max: rows.length - 1 }))
      .map(([t, i]) => ({ what: `line ${t}`, line: i + 1, text: rows.map((r, j) => (j === i ? t : JSON.stringify(r))).join("\n") + "\n" }))
    await fc.assert(
      fc.asyncProperty(fc.oneof({ arbitrary: field, weight: 4 }, { arbitrary: broken, weight: 1 }), async (c) => {
        count("traces", c.what)
        const p = file("jsonl", c.text)
        await expectRefused(["simulate", "--trace", p], `${p}:${c.line}: `)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    expect(counts["traces"]!.runs).toBe(RUNS)
  })

  it("all families ran: the case counts", () => {
    const total = Object.values(counts).reduce((a, c) => a + c.runs, 0)
    process.stdout.write(
      `fuzz (seed ${SEED}): ${total} cases — ${Object.entries(counts)
        .map(([f, c]) => `${f} ${c.runs} (${c.distinct.size} distinct)`)
        .join(", ")}\n`,
    )
    expect(total).toBe(160 + 60 + 80 + 70 + 60)
  })
})
