import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"
import { Effect, Exit } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import {
  groupBySetting,
  loadMeasurements,
  parseBenchResultJson,
  parseMeasurementCsv
} from "../../src/calibrate/measurements.ts"
import type { MeasuredSet } from "../../src/calibrate/measurements.ts"
import { quantileSortedLinear } from "../../src/sim/stats.ts"
import type { LatencyMetric } from "../../src/sim/bench-summary.ts"
import type { MeasuredMetrics } from "../../src/calibrate/measurements.ts"
import { IN_CI, dataPath, hasData, skipReason } from "../hw/shared-data.ts"
import { readFileSync } from "node:fs"

/** The statistics of one metric a point holds, by name. */
const pickStats = (m: MeasuredMetrics, metric: LatencyMetric): Record<string, number> =>
  Object.fromEntries(Object.entries(m).filter(([k, v]) => k.endsWith(`_${metric}_ms`) && v !== undefined))

const CAPTURES = ["vllm-captures"] as const
const SERVING = ["serving"] as const
const haveCaptures = hasData(...CAPTURES)
const haveServing = hasData(...SERVING, "silicon-sweeps.csv")

const ok = (r: MeasuredSet | string): MeasuredSet => {
  if (typeof r === "string") throw new Error(r)
  return r
}

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const tempFile = (name: string, text: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), "servesim-meas-"))
  dirs.push(d)
  const f = path.join(d, name)
  writeFileSync(f, text)
  return f
}


describe("parseMeasurementCsv", () => {
  const header = "source,engine,gpu,model,tp,isl,osl,concurrency,request_rate,ttft_mean_ms,tpot_mean_ms,output_throughput"
  it("reads rows, leaves blanks undefined, skips rows with no metric", () => {
    const set = ok(parseMeasurementCsv(`${header}\nx:1,vllm,h100-sxm,M,2,1024,128,8,,50.5,10,\nx:2,vllm,h100-sxm,M,2,1024,128,16,,,,\n`, "t.csv"))
    expect(set.points.length).toBe(1)
    expect(set.warnings).toEqual(["t.csv:3: no measured metric, skipped"])
    const p = set.points[0]!
    expect(p).toMatchObject({ source: "t.csv:2", kind: "table", label: "x:1", engine: "vllm", gpu: "h100-sxm", model: "M", tp: 2, isl: 1024, osl: 128, concurrency: 8 })
    expect(p.requestRate).toBeUndefined()
    expect(p.metrics).toEqual({ mean_ttft_ms: 50.5, mean_tpot_ms: 10 })
  })

  it("names the row and field of a bad value", () => {
    expect(parseMeasurementCsv(`${header}\nx,vllm,h,M,2,1024,128,8,,fast,10,\n`, "t.csv")).toBe('t.csv:2: field ttft_mean_ms: "fast" is not a number')
    expect(parseMeasurementCsv(`${header}\nx,vllm,h,M,2,,128,8,,1,10,\n`, "t.csv")).toBe("t.csv:2: field isl: blank")
    expect(parseMeasurementCsv(`${header}\nx,vllm\n`, "t.csv")).toBe("t.csv:2: 2 fields, the header has 12")
    expect(parseMeasurementCsv("a,b\n1,2\n", "t.csv")).toMatch(/^t.csv: column isl missing/)
  })
})

describe("parseBenchResultJson (synthetic --save-detailed)", () => {
  // Three requests, the middle one failed (vllm bench keeps its error string and output_len 0).
  const detailed = {
    backend: "vllm",
    model_id: "m",
    num_prompts: 3,
    request_rate: "inf",
    max_concurrency: 2,
    duration: 2,
    completed: 2,
    failed: 1,
    total_input_tokens: 200,
    total_output_tokens: 7,
    request_throughput: 1,
    output_throughput: 3.5,
    mean_ttft_ms: 150,
    median_ttft_ms: 150,
    p99_ttft_ms: 199,
    input_lens: [100, 100, 100],
    output_lens: [3, 0, 4],
    ttfts: [0.1, 0, 0.2],
    itls: [[0.01, 0.02], [], [0.03, 0.03, 0.03]],
    latencies: [0.13, 0, 0.29],
    start_times: [5, 5.1, 5.5],
    errors: ["", "Traceback: ClientConnectorError", ""]
  }

  it("keeps the file's numbers and fills what it lacks from the arrays", () => {
    const set = ok(parseBenchResultJson(JSON.stringify(detailed), "d.json"))
    const p = set.points[0]!
    expect(p.kind).toBe("bench")
    expect(p.isl).toBe(100)
    expect(p.osl).toBe(3.5)
    expect(p.concurrency).toBe(2)
    expect(p.completed).toBe(2)
    expect(p.failed).toBe(1)
    expect(p.metrics.mean_ttft_ms).toBe(150) // from the file
    expect(p.metrics.p90_ttft_ms).toBeCloseTo(190, 9) // from ttfts of the two successes: [100, 200]
    expect(p.metrics.mean_tpot_ms).toBeCloseTo(((0.03 / 2 + 0.09 / 3) / 2) * 1000, 9)
    expect(p.metrics.mean_itl_ms).toBeCloseTo(((10 + 20 + 30 + 30 + 30) / 5), 9)
    expect(p.metrics.p99_itl_ms).toBeCloseTo(quantileSortedLinear([10, 20, 30, 30, 30], 0.99), 9)
    expect(p.metrics.mean_e2el_ms).toBeCloseTo(210, 9)
    expect(p.requests?.map((r) => [r.ok, Math.round(r.sendOffsetS * 10)])).toEqual([[true, 0], [false, 1], [true, 5]])
  })
})

describe.skipIf(!haveCaptures)(`vllm bench result captures ${haveCaptures ? "" : skipReason(...CAPTURES)}`, () => {
  const read = (f: string) => readFileSync(dataPath(...CAPTURES, f), "utf8")

  it("a --save-result summary (max_concurrency 2)", () => {
    const f = "benchserve_0.25.1_opt125m_conc2_summary-resorted__er0080-vllm-benchmarking.json"
    const set = ok(parseBenchResultJson(read(f), f))
    expect(set.points.length).toBe(1)
    const p = set.points[0]!
    expect(p).toMatchObject({ kind: "bench", model: "facebook/opt-125m", isl: 32, osl: 16, concurrency: 2, numRequests: 8, completed: 8, failed: 0 })
    expect(p.burst).toBeUndefined()
    expect(pickStats(p.metrics, "ttft")).toEqual({ mean_ttft_ms: 215.53594200008774, p50_ttft_ms: 55.68139649994919, p99_ttft_ms: 734.4049174101428 })
    expect(p.metrics.mean_tpot_ms).toBe(11.265828258331112)
    expect(p.metrics.p99_itl_ms).toBe(29.815922519960626)
    expect(pickStats(p.metrics, "e2el")).toEqual({})
    expect(p.metrics.request_throughput).toBe(5.180810671273421)
    expect(p.metrics.output_throughput).toBe(82.89297074037474)
    expect(p.metrics.input_throughput).toBeCloseTo(256 / 1.5441598830002476, 9)
  })

  it("a run where every request failed is reported, not turned into zeros", () => {
    const f = "benchserve_0.25.1_opt125m_all-failed__er0080-vllm-benchmarking.json"
    expect(parseBenchResultJson(read(f), f)).toBe(`${f}: completed 0 (all 8 requests failed): nothing measured`)
  })

  it("a bench sweep file: a list of runs, with max_num_seqs and e2el", () => {
    const f = "benchsweep_0.25.1_opt125m_mns4_conc2_summary__er0080-vllm-benchmarking.json"
    const set = ok(parseBenchResultJson(read(f), f))
    expect(set.points.map((p) => p.source)).toEqual([`${f}[0]`, `${f}[1]`])
    expect(set.points.map((p) => p.maxNumSeqs)).toEqual([4, 4])
    expect(pickStats(set.points[0]!.metrics, "e2el")).toEqual({ mean_e2el_ms: 340.3411977451469, p50_e2el_ms: 166.47808399284258, p99_e2el_ms: 876.8009717071254 })
    expect(groupBySetting(set.points).size).toBe(1)
  })
})

describe.skipIf(!haveServing)(`measurement tables ${haveServing ? "" : skipReason(...SERVING)}`, () => {
  it("silicon-sweeps.csv: every row loads; vLLM groups have several concurrency levels", () => {
    const f = dataPath(...SERVING, "silicon-sweeps.csv")
    const set = ok(parseMeasurementCsv(readFileSync(f, "utf8"), f))
    expect(set.points.length + set.warnings.length).toBe(1018)
    const first = set.points.find((p) => p.label?.includes("minimax_m2_5_h100_sxm_vllm_fp8_agg_1024x1024_c4_tp4"))!
    expect(first).toMatchObject({ engine: "vllm", engineVersion: "0.18.0", gpu: "h100-sxm", precision: "fp8", tp: 4, pp: 1, mode: "agg", workload: "random-fixed", isl: 1024, osl: 1024, concurrency: 4 })
    expect(first.metrics.mean_ttft_ms).toBeCloseTo(82.54425725899637, 12)
    expect(first.metrics.mean_tpot_ms).toBeCloseTo(10.119899902634511, 12)
    const vllmGroups = [...groupBySetting(set.points.filter((p) => p.engine === "vllm")).values()]
    expect(vllmGroups.length).toBeGreaterThan(5)
    expect(vllmGroups.some((g) => g.length >= 4)).toBe(true)
    for (const g of vllmGroups) {
      const c = g.map((p) => p.concurrency ?? 0)
      expect([...c].sort((a, b) => a - b)).toEqual(c)
    }
  })

  it("inference-sim-h100-poisson.csv: open-loop rows with engine limits and a workload path", () => {
    const f = dataPath(...SERVING, "inference-sim-h100-poisson.csv")
    const set = ok(parseMeasurementCsv(readFileSync(f, "utf8"), f))
    expect(set.points.length).toBe(9)
    const p = set.points[0]!
    expect(p).toMatchObject({ requestRate: 5, numRequests: 3000, maxNumSeqs: 128, maxNumBatchedTokens: 2048, workload: "workloads/20260217-155451-llama-2-7b-tp1-codegen.json" })
    expect(pickStats(p.metrics, "ttft")).toEqual({ mean_ttft_ms: 25.036599272001393, p50_ttft_ms: 24.261102999957984, p90_ttft_ms: 28.373321300023235, p99_ttft_ms: 45.970167390103086 })
    expect(p.metrics.p99_e2el_ms).toBe(2188.8283881400453)
  })

  it("a CSV of another format is refused with the reason", () => {
    const f = dataPath(...SERVING, "trtllm_perf_overview_h100_h200_output_tok_s.csv")
    expect(parseMeasurementCsv(readFileSync(f, "utf8"), f)).toMatch(/no metric columns/)
  })

  it("loadMeasurements concatenates sources and fails with InputError naming a bad one", async () => {
    const bench = tempFile("b.json", JSON.stringify({ completed: 2, total_input_tokens: 20, total_output_tokens: 4, mean_ttft_ms: 5, max_concurrency: 1, request_rate: "inf" }))
    const set = await Effect.runPromise(loadMeasurements([dataPath(...SERVING, "inference-sim-h100-poisson.csv"), bench]))
    expect(set.points.length).toBe(10)
    expect(set.points[9]!.source).toBe(bench)
    const bad = await Effect.runPromiseExit(loadMeasurements([tempFile("x.txt", "hello")]))
    expect(Exit.isFailure(bad)).toBe(true)
    expect(JSON.stringify(bad)).toMatch(/expected a probe run directory/)
    expect(JSON.stringify(bad)).toMatch(/"_tag":"InputError"/)
    const missing = await Effect.runPromiseExit(loadMeasurements(["/nonexistent/file.json"]))
    expect(JSON.stringify(missing)).toMatch(/FileError/)
  })
})

it.runIf((!haveCaptures || !haveServing) && IN_CI)("CI requires ../shared/data", () => {
  throw new Error(`${dataPath(...CAPTURES)} or ${dataPath(...SERVING)} is absent`)
})
