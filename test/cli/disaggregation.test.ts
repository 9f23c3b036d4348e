// P/D disaggregation and KV offloading through the CLI: the scenario, flags, cost over both pools,
// search and sweep putting aggregated vs disaggregated side by side, and one-line errors.
import { describe, expect, it } from "vitest"
import type { SearchReport } from "../../src/cli/search.ts"
import { runCliAsync } from "./cli-helpers.ts"

const runAsync = runCliAsync

/** A field of parsed JSON by dotted path (undefined where absent). */
const at = (o: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((x, k) => (typeof x === "object" && x !== null ? (x as Record<string, unknown>)[k] : undefined), o)

const PD70 = ["simulate", "scenarios/pd-llama70b-h100.json", "--num-requests", "60", "--json"]

describe("P/D disaggregation from the command line", () => {
  it("the table's title counts the GPUs of both pools", async () => {
    const r = await runAsync(["simulate", "scenarios/pd-llama70b-h100.json", "--num-requests", "20"])
    expect(r.status).toBe(0)
    expect(r.stdout.split("\n")[0]).toMatch(/ on 8× h100-sxm \(prefill 1× tp 4, decode 1× tp 4, bf16\)/)
  })

  it("runs the P/D scenario: per-pool metrics, the link, every GPU priced; same seed, byte-identical JSON", async () => {
    const [a, b] = await Promise.all([runAsync(PD70), runAsync(PD70)])
    expect(a.status).toBe(0)
    // Byte-identical but for vllm bench's wall-clock `date` field.
    const undated = (out: string) => out.replace(/"date": "[^"]*"/, '"date": ""')
    expect(undated(a.stdout)).toBe(undated(b.stdout))
    const s: unknown = JSON.parse(a.stdout)
    expect(at(s, "completed")).toBe(60)
    expect(at(s, "disaggregation.prefill.replicas")).toBe(1)
    expect(at(s, "disaggregation.decode.replicas")).toBe(1)
    expect(at(s, "disaggregation.kv_transfer.num_transfers")).toBe(60)
    // Llama-3.1-70B bf16: 80 layers × 8 KV heads × 128 × 2 (K, V) × 2 B = 327,680 B per token.
    expect(at(s, "config.disaggregation.kv_transfer.kv_bytes_per_token")).toBe(327_680)
    expect(Number(at(s, "disaggregation.kv_transfer.total_bytes")) % 327_680).toBe(0)
    expect(at(s, "cost.numGpus")).toBe(8)
    // The decode pool computes only each prompt's partial last block (or its last token).
    expect(Number(at(s, "disaggregation.decode.prefill_tokens_computed"))).toBeLessThanOrEqual(60 * 16)
  })

  it("search picks P/D when the decode pool's steps without prefill chunks are what meets TPOT", async () => {
    // Prompts of 8000 tokens at 2 req/s: an aggregated H100 mixes 8192-token prefill chunks into its
    // decode steps (TPOT ≈ 7.9 ms even with two replicas); a decode replica never does (≈ 6.9 ms).
    const r = await runAsync([
      "search",
      "--model",
      "meta-llama/Llama-3.1-8B-Instruct",
      "--gpus",
      "h100-sxm",
      "--tp",
      "1",
      "--disagg",
      "1xtp1:1xtp1",
      "--max-gpus",
      "2",
      "--rate",
      "2",
      "--num-requests",
      "100",
      "--isl",
      "8000",
      "--osl",
      "100",
      "--slo",
      "ttft:1000,tpot:7.4",
      "--json",
    ])
    expect(r.status).toBe(0)
    const report = JSON.parse(r.stdout) as SearchReport
    expect(report.best?.disaggregation).toEqual({ prefill: { replicas: 1, tp: 1 }, decode: { replicas: 1, tp: 1 } })
    expect(report.best?.numGpus).toBe(2)
    const agg = report.others.find((v) => v.disaggregation === undefined)
    expect(agg?.verdict).toBe("misses")
    expect(agg?.why).toMatch(/^mean TPOT .* > 7\.40 ms .* with 2 replicas \(2 GPUs\)$/)
  })

  it("sweep puts agg and P/D units on an axis and ranks them per load", async () => {
    const r = await runAsync([
      "sweep",
      "--model",
      "meta-llama/Llama-3.1-8B-Instruct",
      "--disagg",
      "agg,1xtp1:1xtp1",
      "--rate",
      "2",
      "--isl",
      "8000",
      "--osl",
      "100",
      "--num-requests",
      "60",
      "--seeds",
      "1",
      "--workers",
      "0",
      "--slo",
      "ttft:1000,tpot:10",
      "--quiet",
    ])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/aggregated vs disaggregated, at each load/)
    expect(r.stdout).toMatch(/pd=1xtp1:1xtp1/)
    expect(r.stdout).toMatch(/pd=agg/)
  })

  it("reports the CPU tier of --kv-offloading-size", async () => {
    const r = await runAsync(["simulate", "--num-requests", "40", "--kv-offloading-size", "8", "--json"])
    expect(r.status).toBe(0)
    const s: unknown = JSON.parse(r.stdout)
    // Llama-3.1-8B bf16, block 16: 32 layers × 8 × 128 × 2 × 2 B × 16 = 2 MiB per block → 4096 blocks in 8 GiB.
    expect(at(s, "kv_offload.cpu_blocks")).toBe(4096)
    expect(at(s, "config.kv_offloading_size_gib")).toBe(8)
  })

  it("bad input is one line and exit code 2", async () => {
    const [pool, link, tl] = await Promise.all([
      runAsync(["simulate", "--disagg", "prefill=2xtp2"]),
      runAsync(["search", "--rate", "1", "--disagg", "1xtp1"]),
      runAsync(["simulate", "scenarios/pd-llama70b-h100.json", "--timeline-interval", "1"]),
    ])
    for (const r of [pool, link, tl]) {
      expect(r.status).toBe(2)
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
    }
    expect(pool.stderr).toMatch(/--disagg/)
    expect(link.stderr).toMatch(/--disagg: "1xtp1" is not PREFILL:DECODE/)
    expect(tl.stderr).toMatch(/timeline/)
  })
})
