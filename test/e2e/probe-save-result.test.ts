// `servesim probe --save-result` against the twin: each point becomes a vllm bench result file (vllm's
// name, fields and per-request arrays) whose values are the point summary's, and which calibrate and
// validate load back. Bad result flags are one line and exit 2.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseBenchResultJson } from "../../src/calibrate/measurements.ts"
import { runCli } from "../cli/cli-helpers.ts"
import { startTwinProcess } from "./twin-process.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-probe-save-"))
const MODEL = "meta-llama/Llama-3.1-8B-Instruct"
type Json = Record<string, unknown>
const read = (file: string): Json => JSON.parse(readFileSync(file, "utf8")) as Json

/** Fields the result copies from the point summary (one computation, so equal to the last bit). */
const SHARED = [
  "model_id", "num_prompts", "request_rate", "burstiness", "max_concurrency", "duration", "completed", "failed",
  "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput", "total_token_throughput",
  "mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p50_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "p99_tpot_ms",
  "mean_itl_ms", "p50_itl_ms", "p99_itl_ms", "mean_e2el_ms", "p50_e2el_ms", "p99_e2el_ms", "lag",
]

describe("probe --save-result against the twin", () => {
  it("writes one vllm bench result per point that calibrate and validate read back", async () => {
    const { url, proc } = await startTwinProcess(["--model", MODEL, "--gpu", "h100-sxm", "--num-gpu-blocks", "4000"])
    try {
      const run = join(dir, "run")
      const flags = ["--save-result", "--save-detailed", "--goodput", "ttft:500", "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,99"]
      const r = runCli(["probe", "--url", url, "--model", MODEL, "--concurrency", "2,4", "--num-requests", "10", "--isl", "128", "--osl", "16", "--scrape-interval", "0", "--out", run, ...flags])
      expect(r.status, r.stderr).toBe(0)
      // The table lists the selected statistics and the goodput under each point.
      expect(r.stdout).toMatch(/concurrency-4:\nRequest goodput \(req\/s\):\s+[\d.]+\nMean TTFT \(ms\):/)
      expect(r.stdout).toMatch(/P50 E2EL \(ms\):\s+[\d.]+\nP99 E2EL \(ms\):/)

      // vllm's names, in the run directory (no --result-dir).
      const files = readdirSync(run).filter((f) => f.endsWith(".json") && f !== "manifest.json").sort()
      expect(files).toHaveLength(2)
      for (const [i, c] of [2, 4].entries()) expect(files[i]).toMatch(new RegExp(`^servesim-probe-infqps-concurrency${c}-Llama-3\\.1-8B-Instruct-\\d{8}-\\d{6}\\.json$`))

      for (const [i, point] of ["concurrency-2", "concurrency-4"].entries()) {
        const b = read(join(run, files[i]!))
        const s = read(join(run, "points", `${point}.summary.json`))
        expect(b.date).toMatch(/^\d{8}-\d{6}$/)
        expect(files[i]).toContain(String(b.date))
        for (const k of SHARED) expect(b[k], k).toEqual(s[k])
        for (const k of ["backend", "endpoint_type", "tokenizer_id", "max_output_tokens_per_s", "max_concurrent_requests", "request_goodput", "median_e2el_ms", "std_e2el_ms"]) expect(b, k).toHaveProperty(k)
        // vllm's per-second peak concurrency can only count more than the instantaneous peak.
        expect(b.max_concurrent_requests as number).toBeGreaterThanOrEqual(s.max_concurrent_requests as number)
        expect(b.max_output_tokens_per_s as number).toBeGreaterThan(0)
        expect(b.max_output_tokens_per_s as number).toBeLessThanOrEqual(b.total_output_tokens as number)

        // --save-detailed: one entry per measured request; sums and per-request times agree with the summary.
        const n = s.num_prompts as number
        const arrays = ["input_lens", "output_lens", "ttfts", "itls", "start_times", "latencies", "generated_texts", "errors"]
        for (const k of arrays) expect((b[k] as unknown[]).length, k).toBe(n)
        const sum = (xs: unknown) => (xs as number[]).reduce((a, x) => a + x, 0)
        expect(sum(b.input_lens)).toBe(s.total_input_tokens)
        expect(sum(b.output_lens)).toBe(s.total_output_tokens)
        const ttfts = b.ttfts as number[]
        expect(sum(ttfts) / n * 1000).toBeCloseTo(s.mean_ttft_ms as number, 3)
        const itls = b.itls as number[][]
        const lat = b.latencies as number[]
        for (let j = 0; j < n; j++) {
          expect(itls[j]!.length).toBe((b.output_lens as number[])[j]! - 1)
          expect(lat[j]!).toBeCloseTo(ttfts[j]! + sum(itls[j]), 6)
        }
        expect(b.errors).toEqual(Array(n).fill(""))
        // Goodput recomputed from the arrays: requests with TTFT ≤ 500 ms, per second.
        expect(b.request_goodput as number).toBeCloseTo(ttfts.filter((t) => t * 1000 <= 500).length / (s.duration as number), 9)

        // The loaders read it as the same measurement, with its requests.
        const loaded = parseBenchResultJson(readFileSync(join(run, files[i]!), "utf8"), files[i]!)
        if (typeof loaded === "string") throw new Error(loaded)
        const p = loaded.points[0]!
        expect([p.concurrency, p.completed, p.requests?.length]).toEqual([s.max_concurrency, s.completed, n])
        expect(p.metrics.mean_ttft_ms).toBe(s.mean_ttft_ms)
        expect(p.isl).toBeCloseTo((s.total_input_tokens as number) / (s.completed as number), 9)
        expect(p.lagged !== undefined).toBe((s.lag as { lagged?: boolean } | undefined)?.lagged === true)
      }

      const file = join(run, files[1]!)
      const val = runCli(["validate", file, "--gpu", "h100-sxm"])
      expect(val.status, val.stderr).toBe(0)
      expect(val.stdout).toMatch(/1 points simulated/)
      // A busy host can mark the points lagged; --allow-lagged fits them anyway (the file round trip is the point here).
      const prof = join(dir, "profile.json")
      const cal = runCli(["calibrate", file, "--gpu", "h100-sxm", "--allow-lagged", "--out", prof])
      expect(cal.status, cal.stderr).toBe(0)
      expect(read(prof)).toHaveProperty("coefficients")

      // A capped open loop into --result-dir under --result-filename; --json prints the result itself.
      const run2 = join(dir, "run2")
      const out = join(dir, "results")
      const r2 = runCli([
        "probe", "--url", url, "--model", MODEL, "--request-rate", "20", "--max-concurrency", "2", "--num-prompts", "6", "--isl", "64", "--osl", "8",
        "--scrape-interval", "0", "--out", run2, "--save-result", "--result-dir", out, "--result-filename", "res.json",
        "--percentile-metrics", "ttft,client_queue_time", "--metric-percentiles", "90", "--label", "nightly", "--metadata", "gpu=h100", "--json",
      ])
      expect(r2.status, r2.stderr).toBe(0)
      expect(readdirSync(out)).toEqual(["res.json"])
      const saved = read(join(out, "res.json"))
      expect(saved).toMatchObject({ request_rate: 20, max_concurrency: 2, num_prompts: 6, label: "nightly", gpu: "h100" })
      expect(saved).toHaveProperty("p90_client_queue_time_ms")
      expect(saved).not.toHaveProperty("ttfts")
      expect(saved.request_goodput).toBeNull()
      const printed = JSON.parse(r2.stdout) as Json[]
      expect(printed).toHaveLength(1)
      expect({ ...printed[0], date: saved.date }).toEqual(saved)
    } finally {
      proc.kill("SIGTERM")
    }
  }, 600_000)

  it("bad result flags: one line naming the flag, exit 2", () => {
    const base = ["probe", "--url", "http://127.0.0.1:9", "--model", MODEL, "--concurrency", "1", "--out", join(dir, "never")]
    const cases: ReadonlyArray<readonly [string[], RegExp]> = [
      [["--percentile-metrics", "ttft,latency"], /--percentile-metrics.*"latency" is not one of/],
      [["--metric-percentiles", "50,120"], /--metric-percentiles.*percentiles in \[0, 100\]/],
      [["--goodput", "ttft:fast"], /--goodput.*ttft:MS/],
      [["--save-detailed"], /^servesim: .*--save-detailed: shapes the files of --save-result; give --save-result too/],
      [["--result-filename", "x.json"], /--result-filename: shapes the files of --save-result/],
    ]
    for (const [extra, message] of cases) {
      const r = runCli([...base, ...extra])
      expect(r.status, extra.join(" ")).toBe(2)
      expect(r.stderr.trim().split("\n"), extra.join(" ")).toHaveLength(1)
      expect(r.stderr.trim()).toMatch(message)
    }
  }, 600_000)
})
