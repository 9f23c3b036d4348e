// A `vllm bench serve` command line, host flags swapped for --model/--gpu, runs in simulate and writes
// a result file that scripts written for vllm bench read; vllm's dataset flags and files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { runCli } from "./cli-helpers.ts"

const tmp = mkdtempSync(join(tmpdir(), "servesim-vbench-"))
const json = (s: string) => JSON.parse(s) as Record<string, unknown>
const nums = (v: unknown) => v as number[]

/** What a vllm-bench user's script does with a result file (vllm's own save_to_pytorch_benchmark_format reads these keys). */
const readLikeAVllmScript = (path: string) => {
  const r = json(readFileSync(path, "utf8"))
  const metrics = ["median_ttft_ms", "mean_ttft_ms", "std_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "std_tpot_ms", "p99_tpot_ms", "median_itl_ms", "mean_itl_ms", "std_itl_ms", "p99_itl_ms"]
  const row: Record<string, number> = {}
  for (const k of metrics) row[k] = r[k] as number
  const qps = r.request_rate === "inf" ? Number.POSITIVE_INFINITY : Number(r.request_rate)
  return { r, row, qps, concurrency: r.max_concurrency as number | null, goodput: r.request_goodput as number | null }
}

describe("a vllm bench serve command in simulate", () => {
  // vllm bench serve --backend vllm --model meta-llama/Llama-3.1-8B-Instruct --dataset-name random --random-input-len 512
  //   --random-output-len 64 --num-prompts 120 --request-rate 20 --max-concurrency 4 --save-result --save-detailed ...
  const dir = join(tmp, "results")
  const cmd = [
    "simulate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm",
    "--dataset-name", "random", "--random-input-len", "512", "--random-output-len", "64", "--num-prompts", "120",
    "--request-rate", "20", "--max-concurrency", "4", "--goodput", "ttft:200", "tpot:20",
    "--percentile-metrics", "ttft,tpot,itl,e2el,client_queue_time", "--metric-percentiles", "50,90,99.9",
    "--save-result", "--save-detailed", "--result-dir", dir, "--seed", "1",
  ]
  const run = runCli(cmd)

  it("runs and writes vllm's default file name", () => {
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/meta-llama\/Llama-3.1-8B-Instruct on 1× h100-sxm \(tp 1, bf16\): 20 req\/s Poisson, at most 4 in flight; prompts 512 tokens, outputs 64; 120 requests/)
    expect(run.stdout).toMatch(/P99\.9 TTFT \(ms\):/)
    const files = readdirSync(dir)
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^servesim-20\.0qps-concurrency4-Llama-3\.1-8B-Instruct-\d{8}-\d{6}\.json$/)
  })

  it("the file reads like a vllm bench result: metadata, metrics, selected percentiles, per-request arrays", () => {
    const { r, row, qps, concurrency, goodput } = readLikeAVllmScript(join(dir, readdirSync(dir)[0]!))
    expect(Object.keys(r).slice(0, 10)).toEqual(["date", "endpoint_type", "backend", "label", "model_id", "tokenizer_id", "num_prompts", "request_rate", "burstiness", "max_concurrency"])
    expect(r.date).toMatch(/^\d{8}-\d{6}$/)
    expect([r.model_id, r.num_prompts, r.burstiness, qps, concurrency]).toEqual(["meta-llama/Llama-3.1-8B-Instruct", 120, 1, 20, 4])
    for (const v of Object.values(row)) expect(v).toBeGreaterThan(0)
    expect(goodput).toBeGreaterThan(0)
    for (const k of ["duration", "completed", "failed", "total_input_tokens", "total_output_tokens", "request_throughput", "output_throughput", "total_token_throughput", "max_output_tokens_per_s", "max_concurrent_requests", "p50_ttft_ms", "p90_e2el_ms", "p99.9_itl_ms", "mean_client_queue_time_ms", "p99.9_client_queue_time_ms"])
      expect(typeof r[k]).toBe("number")
    expect(r.completed).toBe(120)
    expect(r.total_input_tokens).toBe(120 * 512)
    // vllm counts the requests active at any time within a one-second bucket: at least the cap, more as ~0.5 s requests turn over.
    expect(r.max_concurrent_requests as number).toBeGreaterThanOrEqual(4)
    expect(r.max_concurrent_requests as number).toBeLessThan(20)
    // Per-request arrays, as vllm writes them with --save-detailed.
    const n = 120
    for (const k of ["input_lens", "output_lens", "ttfts", "itls", "start_times", "latencies", "queue_times", "generated_texts", "errors"]) expect(r[k]).toHaveLength(n)
    const out = nums(r.output_lens)
    expect(out.reduce((a, b) => a + b, 0)).toBe(r.total_output_tokens)
    const itls = r.itls as number[][]
    const ttfts = nums(r.ttfts)
    const lat = nums(r.latencies)
    for (let i = 0; i < n; i++) {
      expect(itls[i]).toHaveLength(out[i]! - 1)
      // TTFT plus the inter-token gaps reaches the last token; E2EL adds only the completion.
      const lastToken = ttfts[i]! + itls[i]!.reduce((a, b) => a + b, 0)
      expect(lastToken).toBeLessThanOrEqual(lat[i]! + 1e-9)
      expect(lat[i]! - lastToken).toBeLessThan(0.01)
    }
    // 20 req/s against a cap of 4 (~8 req/s of service): requests wait at the client for a slot.
    expect(Math.max(...nums(r.queue_times))).toBeGreaterThan(1)
    expect((r.errors as string[]).every((e) => e === "")).toBe(true)
  })

  it("a saved result is a bench file validate reads; its rate + cap point is simulated capped (a closed loop of 64 would be far off)", () => {
    const file = join(tmp, "light.json")
    const sim = runCli(["simulate", "--dataset-name", "random", "--random-input-len", "512", "--random-output-len", "64", "--num-prompts", "60", "--request-rate", "2", "--max-concurrency", "64", "--seed", "0", "--save-result", "--result-filename", file])
    expect(sim.status).toBe(0)
    const v = runCli(["validate", file, "--gpu", "h100-sxm", "--json"])
    expect(v.status).toBe(0)
    const report = json(v.stdout) as { rows: Array<{ load: string; harness?: string; comparisons: Array<{ metric: string; errorPct: number }> }> }
    expect(report.rows).toHaveLength(1)
    expect(report.rows[0]!.load).toBe("2 req/s, c≤64")
    expect(report.rows[0]!.harness).toBeUndefined()
    for (const c of report.rows[0]!.comparisons) expect(Math.abs(c.errorPct), c.metric).toBeLessThan(0.5)
  })

  it("a rate far above the service rate under a cap is the closed loop at that cap", () => {
    const base = ["simulate", "--json", "--dataset-name", "random", "--random-input-len", "256", "--random-output-len", "32", "--num-prompts", "100"]
    const closed = json(runCli([...base, "--max-concurrency", "4"]).stdout)
    const capped = json(runCli([...base, "--max-concurrency", "4", "--request-rate", "1000000"]).stdout)
    expect(closed.request_rate).toBe("inf")
    expect(capped.request_rate).toBe(1000000)
    expect(capped.mean_ttft_ms as number).toBeCloseTo(closed.mean_ttft_ms as number, 1)
    expect(capped.duration as number).toBeCloseTo(closed.duration as number, 2)
  })

  it("sweep: a --request-rate list with one --max-concurrency caps each rate, as simulate does", () => {
    const common = ["--dataset-name", "random", "--random-input-len", "256", "--random-output-len", "32", "--num-prompts", "80", "--max-concurrency", "4"]
    const sweep = json(runCli(["sweep", "--request-rate", "50", ...common, "--seeds", "1", "--workers", "0", "--quiet", "--json"]).stdout) as { points: Array<{ metrics: { request_throughput: { mean: number } } }> }
    const sim = json(runCli(["simulate", "--json", "--request-rate", "50", ...common]).stdout)
    const swept = sweep.points[0]!.metrics.request_throughput.mean
    expect(swept).toBeCloseTo(sim.request_throughput as number, 6)
    // Four in flight serve ~18 req/s here, well below the 50 req/s offered (uncapped, the engine keeps up).
    expect(swept).toBeLessThan(30)
  })

  it("two spellings of one setting must agree; --tensor-parallel-size is --tp", () => {
    const bad = runCli(["simulate", "--max-concurrency", "8", "--concurrency", "4"])
    expect(bad.status).toBe(2)
    expect(bad.stderr.trim().split("\n")).toHaveLength(1)
    expect(bad.stderr).toMatch(/--max-concurrency 8 and --concurrency 4/)
    const tp = json(runCli(["simulate", "--json", "--tensor-parallel-size", "2", "--num-prompts", "50", "--metadata", "version=0.11.0", "site=lab"]).stdout)
    expect((tp.config as Record<string, unknown>).tp).toBe(2)
    // --metadata KEY=VALUE lands after num_prompts, as vllm writes it.
    expect(Object.keys(tp).slice(6, 10)).toEqual(["num_prompts", "version", "site", "request_rate"])
    expect(tp.version).toBe("0.11.0")
  })
})

const realResult = join(import.meta.dirname, "../../../shared/data/vllm-captures/benchserve_0.25.1_opt125m_conc2_summary-resorted__er0080-vllm-benchmarking.json")
const haveReal = existsSync(realResult)
if (!haveReal && process.env.CI === "true") throw new Error(`${realResult} is missing: CI must have ../shared/data`)

describe.skipIf(!haveReal)("against a real vllm bench 0.25.1 result (../shared/data/vllm-captures)", () => {
  it("simulate's result has every key of the real file, each with the same JSON type", () => {
    // That run: vllm bench serve --max-concurrency 2 --num-prompts 8 (random, 32 in / 16 out), --save-result.
    const real = json(readFileSync(realResult, "utf8"))
    const ours = json(runCli(["simulate", "--json", "--backend", "vllm", "--max-concurrency", "2", "--num-prompts", "8", "--random-input-len", "32", "--random-output-len", "16"]).stdout)
    const kind = (v: unknown) => (v === null ? "null" : typeof v)
    for (const [k, v] of Object.entries(real)) expect(kind(ours[k]), k).toBe(kind(v))
    expect([ours.request_rate, ours.max_concurrency, ours.num_prompts, ours.total_input_tokens, ours.total_output_tokens]).toEqual([real.request_rate, real.max_concurrency, real.num_prompts, real.total_input_tokens, real.total_output_tokens])
  })
})

describe("vllm bench datasets", () => {
  it("random: lengths uniform in [L·(1−r), L·(1+r)], the prefix prepended and shared", () => {
    const r = json(runCli(["simulate", "--json", "--save-detailed", "--dataset-name", "random", "--random-input-len", "100", "--random-output-len", "20", "--random-range-ratio", "0.5", "--random-prefix-len", "64", "--num-prompts", "200", "--max-concurrency", "8"]).stdout)
    const ins = nums(r.input_lens)
    const outs = nums(r.output_lens)
    expect(Math.min(...ins)).toBeGreaterThanOrEqual(64 + 50)
    expect(Math.max(...ins)).toBeLessThanOrEqual(64 + 150)
    expect(Math.max(...ins) - Math.min(...ins)).toBeGreaterThan(50)
    expect(Math.min(...outs)).toBeGreaterThanOrEqual(10)
    expect(Math.max(...outs)).toBeLessThanOrEqual(30)
    expect(r.prefix_cache_hit_rate as number).toBeGreaterThan(0.2)
  })

  it("prefix_repetition: num_prefixes × (N // num_prefixes) requests sharing their prefixes", () => {
    const r = json(runCli(["simulate", "--json", "--dataset-name", "prefix_repetition", "--prefix-repetition-prefix-len", "512", "--prefix-repetition-suffix-len", "64", "--prefix-repetition-num-prefixes", "4", "--prefix-repetition-output-len", "16", "--num-prompts", "43", "--max-concurrency", "4"]).stdout)
    expect(r.completed).toBe(40)
    expect(r.total_input_tokens).toBe(40 * (512 + 64))
    expect(r.total_output_tokens).toBe(40 * 16)
    expect(r.prefix_cache_hit_rate as number).toBeGreaterThan(0.5)
  })

  it("sharegpt: a real ShareGPT file, first turn as the prompt, reply as the output, vllm's length filter", () => {
    const file = join(tmp, "sharegpt.json")
    const words = (n: number) => "abcd".repeat(n) // n tokens at 4 characters per token
    writeFileSync(
      file,
      JSON.stringify([
        { id: "a", conversations: [{ from: "human", value: words(40) }, { from: "gpt", value: words(100) }] },
        { id: "b", conversations: [{ from: "human", value: words(200) }, { from: "gpt", value: words(30) }, { from: "human", value: "more" }] },
        { id: "too-short", conversations: [{ from: "human", value: "hi" }, { from: "gpt", value: words(50) }] },
        { id: "one-turn", conversations: [{ from: "human", value: words(80) }] },
      ]),
    )
    const r = json(runCli(["simulate", "--json", "--save-detailed", "--dataset-name", "sharegpt", "--dataset-path", file, "--num-prompts", "30", "--max-concurrency", "4"]).stdout)
    expect(r.completed).toBe(30)
    const pairs = new Set(nums(r.input_lens).map((x, i) => `${x}/${nums(r.output_lens)[i]}`))
    // Oversampled from the two valid entries only.
    expect([...pairs].sort()).toEqual(["200/30", "40/100"])
    const fixed = json(runCli(["simulate", "--json", "--dataset-name", "sharegpt", "--dataset-path", file, "--sharegpt-output-len", "7", "--num-prompts", "10"]).stdout)
    expect(fixed.total_output_tokens).toBe(70)
  })

  it("custom: vllm's JSONL, --custom-output-len (default 256), an optional per-line output_tokens", () => {
    const file = join(tmp, "custom.jsonl")
    writeFileSync(file, `${JSON.stringify({ prompt: "abcd".repeat(10) })}\n\n${JSON.stringify({ prompt: "abcd".repeat(20), output_tokens: 5 })}\n`)
    const r = json(runCli(["simulate", "--json", "--save-detailed", "--dataset-name", "custom", "--dataset-path", file, "--num-prompts", "20", "--max-concurrency", "2"]).stdout)
    const pairs = new Set(nums(r.input_lens).map((x, i) => `${x}/${nums(r.output_lens)[i]}`))
    expect([...pairs].sort()).toEqual(["10/256", "20/5"])
  })

  it("bad dataset files and combinations: one line, exit 2", () => {
    const notJson = join(tmp, "broken.json")
    writeFileSync(notJson, "[{")
    const notList = join(tmp, "object.json")
    writeFileSync(notList, JSON.stringify({ conversations: [] }))
    const badLine = join(tmp, "bad.jsonl")
    writeFileSync(badLine, `${JSON.stringify({ prompt: "x" })}\n{"text": "no prompt"}\n`)
    const cases: Array<[string[], RegExp]> = [
      [["--dataset-name", "sharegpt", "--dataset-path", notJson], /broken\.json: not valid JSON/],
      [["--dataset-name", "sharegpt", "--dataset-path", notList], /object\.json: expected a JSON list/],
      [["--dataset-name", "custom", "--dataset-path", badLine], /bad\.jsonl: line 2: expected an object with a "prompt" string/],
      [["--dataset-name", "custom"], /--dataset-name custom needs --dataset-path/],
      [["--dataset-name", "random", "--dataset-path", notJson], /--dataset-path: cannot be used with --dataset-name random/],
      [["--dataset-name", "sharegpt", "--dataset-path", join(tmp, "missing.json")], /cannot read .*missing\.json: ENOENT/],
      [["--random-input-len", "100", "--isl", "50"], /give one/],
      [["--random-range-ratio", "1"], /--random-range-ratio/],
      [["--percentile-metrics", "ttft,latency"], /"latency" is not one of/],
    ]
    for (const [args, message] of cases) {
      const r = runCli(["simulate", ...args])
      expect(r.status, args.join(" ")).toBe(2)
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1)
      expect(r.stderr).toMatch(message)
    }
  })
})
