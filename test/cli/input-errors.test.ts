// Issue 16's second pass, end to end through the CLI's main(): each input that once was dropped,
// hung or gave null metrics is now one line naming the flag or file:line, the field, the value and
// the allowed range, with exit code 2.
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Command } from "commander"
import { describe, expect, it } from "vitest"
import { addScenarioFlags } from "../../src/cli/flags.ts"
import { FIELD_FLAGS } from "../../src/scenario/flag-fields.ts"
import { benchResult, llama8bConfig, profileWith } from "../input-fixtures.ts"
import { runInProcess } from "./in-process.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-input-errors-"))
const file = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const json = (name: string, value: unknown): string => file(name, JSON.stringify(value))

/** Runs the CLI and returns its one stderr line, after checking exit 2, nothing on stdout, no stack. */
const refused = async (args: ReadonlyArray<string>): Promise<string> => {
  const r = await runInProcess(args)
  expect(r.stdout).toBe("")
  expect(r.status).toBe(2)
  const lines = r.stderr.trimEnd().split("\n")
  expect(lines).toHaveLength(1)
  expect(r.stderr).not.toMatch(/^\s+at /m)
  return lines[0]!
}

const llama8b = llama8bConfig
const SMALL = ["--num-requests", "20", "--isl", "64", "--osl", "8"]

describe("sweep and search refuse a typo in a list instead of dropping it", () => {
  it("sweep --gpu h100-sxm,nope names the unknown GPU and lists the known ones", async () => {
    const line = await refused(["sweep", "--gpu", "h100-sxm,nope", "--concurrency", "4", "--seeds", "1", "--workers", "0", ...SMALL])
    expect(line).toMatch(/^servesim: InputError: --gpu: unknown GPU "nope" \(built-ins: a800-sxm, .*h100-sxm.*h200-sxm.*; or a path to a GPU JSON file\)$/)
  })

  it("sweep --model with a typo names it; a sweep block's gpu list names the file and field", async () => {
    expect(await refused(["sweep", "--model", "meta-llama/Llama-3.1-8B-Instruct,nope/x", "--concurrency", "4", "--workers", "0", ...SMALL])).toMatch(
      /^servesim: InputError: --model: unknown model "nope\/x" \(built-ins: .*meta-llama\/Llama-3\.1-8B/,
    )
    const scenario = json("sweep-block.json", { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", workload: { concurrency: 4, numRequests: 20 }, sweep: { gpu: ["h100-sxm", "h100-sxn"] } })
    expect(await refused(["sweep", scenario, "--workers", "0"])).toContain(`${scenario}: sweep.gpu: unknown GPU "h100-sxn"`)
  })

  it("sweep's other list flags refuse a bad element, naming the flag", async () => {
    for (const [flag, list, expected] of [
      ["--tp", "1,abc", '--tp: "abc" is not a positive integer'],
      ["--replicas", "1,0", '--replicas: "0" is not a positive integer'],
      ["--precision", "bf16,fp3", '--precision: "fp3" is not one of bf16, fp16, fp8, fp4, int4'],
      ["--max-num-seqs", "64,-1", '--max-num-seqs: "-1" is not a positive integer'],
      ["--rate", "1,1e-300", "--rate: Expected a value between 0.000001 and 1000000000 (got 1e-300)"],
    ] as const)
      expect(await refused(["sweep", flag, list, ...(flag === "--rate" ? [] : ["--concurrency", "4"]), "--workers", "0", ...SMALL])).toContain(expected)
  })

  it("search --gpus with a typo names it (it once said there was no price for it)", async () => {
    expect(await refused(["search", "--gpus", "h100-sxm,nope", "--rate", "2", ...SMALL])).toMatch(/^servesim: InputError: --gpus: unknown GPU "nope" \(built-ins: /)
  })

  it("search with an unknown policy says so once, as the flag", async () => {
    expect(await refused(["search", "--policy", "nope", "--rate", "2", ...SMALL])).toBe(
      'servesim: InputError: --policy: unknown policy "nope" (fcfs, priority, spf, or a path to a .ts/.js module)',
    )
  })
})

describe("profiles, models and traces are range-checked", () => {
  const profile = (coefficients: Record<string, number>) =>
    json(`profile-${Object.keys(coefficients).join("-")}.json`, profileWith(coefficients))

  it("a profile with a coefficient of 1e308 (once: null metrics, exit 0) names the field, value and range", async () => {
    const p = profile({ gemmCompute: 1e308 })
    expect(await refused(["simulate", "--profile", p, ...SMALL])).toBe(
      `servesim: InputError: --profile ${p}: coefficients.gemmCompute: 1e+308 is outside [0, 10,000] (× the roofline time)`,
    )
  })

  it("a profile inside the ranges still simulates, with finite metrics", async () => {
    const r = await runInProcess(["simulate", "--json", "--profile", profile({ gemmCompute: 2 }), ...SMALL])
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as Record<string, unknown>
    for (const k of ["duration", "mean_ttft_ms", "mean_tpot_ms", "output_throughput"]) expect(Number.isFinite(j[k])).toBe(true)
  })

  it("a model config with 1e15 layers (once: a hang) names the field and the bound", async () => {
    const cfg = json("layers.json", { ...llama8b, num_hidden_layers: 1e15 })
    expect(await refused(["simulate", "--model", cfg, ...SMALL])).toBe(
      `servesim: InputError: --model ${cfg}: hf config for "${cfg}": field "num_hidden_layers" must be a positive integer ≤ 4,096 (got 1000000000000000)`,
    )
  })

  it("KV heads that do not divide the attention heads are refused", async () => {
    const cfg = json("kv5.json", { ...llama8b, num_key_value_heads: 5 })
    expect(await refused(["simulate", "--model", cfg, ...SMALL])).toContain('field "num_key_value_heads" must be a divisor of num_attention_heads 32 (got 5)')
  })

  it("tp must split the KV heads evenly or be a multiple of them (vLLM's GQA layers)", async () => {
    const cfg = json("heads24.json", { ...llama8b, hidden_size: 3072, num_attention_heads: 24, num_key_value_heads: 6 })
    expect(await refused(["simulate", "--model", cfg, "--tp", "4", ...SMALL])).toBe(
      `servesim: InputError: --tp: 6 KV heads of ${cfg} are not divisible by tp 4 (vLLM splits KV heads evenly over the ranks, or replicates them when tp is a multiple)`,
    )
    expect(await refused(["simulate", "--model", cfg, "--tp", "8", ...SMALL])).toContain("--tp: 6 KV heads of")
    // tp 2 splits 6 KV heads 3 per rank; tp 12 would replicate them (but 24 heads / 12 is fine too).
    expect((await runInProcess(["simulate", "--model", cfg, "--tp", "2", ...SMALL])).status).toBe(0)
  })

  it("a trace row with stage 1e9 (once: a hang) is refused as file:line, field, value, range", async () => {
    const t = file("stage.jsonl", '{"arrival_time":0,"input_tokens":10,"output_tokens":5}\n{"arrival_time":1,"input_tokens":10,"output_tokens":5,"stage":1e9}\n')
    expect(await refused(["simulate", "--trace", t])).toBe(`servesim: InputError: --trace ${t}:2: stage 1000000000 is outside [0, 9,999] (an integer)`)
  })

  it("a trace in a scenario file is named as the scenario field", async () => {
    const t = file("tokens.csv", "timestamp,prompt_tokens,completion_tokens\n0,5,5\n1,-3,5\n")
    const s = json("trace-scenario.json", { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", workload: { trace: t } })
    expect(await refused(["simulate", s])).toBe(`servesim: InputError: workload.trace ${t}:3: prompt_tokens -3 is outside [1, 10,000,000] (an integer)`)
  })
})

describe("the does-not-fit message names what does not fit", () => {
  it("the activation reserve, not the weights, when the profile batch is huge", async () => {
    const line = await refused(["simulate", "--max-num-batched-tokens", "2000000", ...SMALL])
    expect(line).toMatch(
      /^servesim: InputError: meta-llama\/Llama-3\.1-8B-Instruct \(bf16\) does not fit on 1× h100-sxm, per GPU: budget 71\.30 GiB \(gpu_memory_utilization 0\.9 × 79\.22 GiB\) − weights 14\.99 GiB − activation reserve \d+\.\d\d GiB − non-torch reserve 0\.30 GiB = -\d+\.\d\d GiB for the KV cache: the weights fit, the activation reserve on top of them does not/,
    )
  })

  it("the weights, when they alone exceed the budget", async () => {
    expect(await refused(["simulate", "--model", "meta-llama/Llama-3.1-70B-Instruct", ...SMALL])).toMatch(/− weights 131\.\d\d GiB .*: the weights alone exceed the budget/)
  })
})

describe("a bad flag value is reported as the flag, not as scenarios/default.json", () => {
  it.each([
    [["--rate", "1e-300"], "--rate: Expected a value between 0.000001 and 1000000000 (got 1e-300)"],
    [["--concurrency", "1000000000000"], "--concurrency: Expected a value between 1 and 10000000 (got 1000000000000)"],
    [["--gpu-memory-utilization", "2"], "--gpu-memory-utilization: Expected a value between 0.05 and 1 (got 2)"],
    [["--replicas", "1e9"], "--replicas: Expected a value between 1 and 10000 (got 1000000000)"],
    [["--block-size", "7"], "--block-size: Expected 1 | 8 | 16 | 32 | 64 | 128 | 256 (got 7)"],
    [["--num-gpu-blocks", "1000000000"], "--num-gpu-blocks: Expected a value between 1 and 100000000 (got 1000000000)"],
    [["--stages", "1:1e300"], "--stages (0.duration): Expected a value less than or equal to 100000000 (got 1e+300)"],
    [["--draft-model", "x"], "--spec-method is required with --draft-model"],
    [["--isl", "uniform:5:1"], "--isl (max): must be >= min"],
    [["--isl", "lognormal:1e300:1e300"], "--isl (mean): 1e+300 is outside [-1e7, 1e7] tokens"],
    [["--tp", "3"], "--tp: 32 attention heads of meta-llama/Llama-3.1-8B-Instruct are not divisible by tp 3"],
    [["--pp", "1000"], "--pp: pipeline degree 1000 exceeds the 32 layers"],
    [["--warmup", "20"], "--warmup: 20 warm-up requests leave none of the run's 20 to measure"],
  ] as const)("simulate %j", async (args, expected) => {
    const line = await refused(["simulate", ...args, ...(args[0] === "--isl" ? ["--num-requests", "20"] : SMALL)])
    expect(line).toContain(`servesim: InputError: ${expected}`)
    expect(line).not.toContain("default.json")
  })

  it("a field the scenario file got wrong still names the file", async () => {
    const s = json("bad-rate.json", { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", workload: { rate: 1e-300, numRequests: 20 } })
    expect(await refused(["simulate", s])).toBe(`servesim: InputError: ${s}: workload.rate: Expected a value between 0.000001 and 1000000000`)
  })
})

describe("validate's flags are checked once, as flags", () => {
  const bench = json("bench.json", benchResult)
  it("--gpu with a typo (once: '0 of 1 measured points could be simulated')", async () => {
    expect(await refused(["validate", bench, "--gpu", "h100-sxn"])).toMatch(/^servesim: InputError: --gpu: unknown GPU "h100-sxn" \(built-ins: /)
  })
  it("--profile out of range", async () => {
    const p = json("validate-profile.json", profileWith({ layerLaunch: 1e308 }))
    expect(await refused(["validate", bench, "--gpu", "h100-sxm", "--profile", p])).toBe(
      `servesim: InputError: --profile ${p}: coefficients.layerLaunch: 1e+308 is outside [0, 10] (seconds)`,
    )
  })
  it("a bench field of the wrong type is refused, not read as missing", async () => {
    const b = json("bench-abc.json", { ...benchResult, mean_ttft_ms: "abc" })
    expect(await refused(["validate", b, "--gpu", "h100-sxm"])).toBe(`servesim: InputError: ${b}: field mean_ttft_ms: "abc" is not a number`)
  })
})

describe("the flag names in messages", () => {
  it("every scenario field a flag sets names a flag the scenario commands have", () => {
    const longs = new Set(addScenarioFlags(new Command()).options.map((o) => o.long))
    expect(FIELD_FLAGS.size).toBeGreaterThan(35)
    for (const flag of FIELD_FLAGS.values()) expect(longs).toContain(flag)
  })
})

describe("a scenario's cost block", () => {
  const scenario = (cost: Record<string, unknown>) =>
    json(`cost-${Object.keys(cost).join("-")}.json`, { model: "meta-llama/Llama-3.1-8B-Instruct", gpu: "h100-sxm", workload: { concurrency: 4, numRequests: 20, input: 64, output: 8 }, cost })

  it("keeps its numbers: a cloud price prices the run as given", async () => {
    const r = await runInProcess(["simulate", scenario({ cloudPrice: 2.5 }), "--json"])
    expect(r.status ?? 0).toBe(0)
    expect((JSON.parse(r.stdout) as { cost: { gpuHourUsd: number } }).cost.gpuHourUsd).toBe(2.5)
  })

  it("names the block's field, not a flag, when a number is out of range", async () => {
    expect(await refused(["simulate", scenario({ purchasePrice: -1 })])).toBe("servesim: InputError: cost of h100-sxm: cost.purchasePrice must be a price in USD ≥ 0, got -1")
  })
})
