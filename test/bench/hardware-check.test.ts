// The parsing and row-selection helpers of `npm run check-hardware` (bench/hardware-check.ts), on rows
// written here with known answers (no data folder needed).
import { describe, expect, it } from "vitest"
import { argonneCases, parseQuantLabel } from "../../bench/hardware-check/argonne.ts"
import { checkpointPrecision, gpustackScenario, parseServingCommand, selectGpustackRow, vllmVersion } from "../../bench/hardware-check/gpustack.ts"
import { decodeBatch, implausiblePrefills, prefillBatch, splitwisePoints } from "../../bench/hardware-check/splitwise.ts"
import { signedPct } from "../../bench/hardware-check/table.ts"

const row = (o: Record<string, string>): Record<string, string> => ({
  file: "docs/performance-lab/gpt-oss-120b/a100.md",
  hardware: "2 × NVIDIA A100 SXM 80GB GPUs on a single node.",
  engine: "vllm",
  engine_versions: "- vLLM: v0.11.0; - SGLang: v0.5.3; - TensorRT-LLM: v1.0.0",
  case: "",
  serving_command: "vllm serve openai/gpt-oss-120b --max-model-len 32768",
  successful_requests: "1000.0",
  max_concurrency: "",
  request_rate_cfg: "",
  total_input_tokens: "215312.0",
  total_generated_tokens: "196656.0",
  output_tok_per_s: "2276.4",
  ttft_mean_ms: "25918.79",
  tpot_mean_ms: "97.57",
  e2el_mean_ms: "",
  ...o,
})

describe("parseServingCommand", () => {
  it("reads the model, -tp, --max-model-len, --max-num-batched-tokens and --async-scheduling", () => {
    const c = parseServingCommand("vllm serve openai/gpt-oss-120b --max-model-len 32768 --async-scheduling -tp 2 --max-num-batched-tokens 4096")
    expect(c).toEqual({ model: "openai/gpt-oss-120b", tp: 2, pp: 1, expertParallel: false, asyncScheduling: true, maxModelLen: 32768, maxNumBatchedTokens: 4096, other: [] })
  })
  it("takes --flag=value, long spellings, expert parallel, and lists flags it does not model", () => {
    const c = parseServingCommand("vllm serve Qwen/Qwen3-235B-A22B-Instruct-2507-FP8 --tensor-parallel-size=4 --enable-expert-parallel --kv-cache-dtype fp8")
    if (typeof c === "string") throw new Error(c)
    expect([c.tp, c.expertParallel, c.asyncScheduling, c.maxModelLen]).toEqual([4, true, false, undefined])
    expect(c.other).toEqual(["--kv-cache-dtype", "fp8"])
  })
  it("refuses other engines and bad values with a reason", () => {
    expect(parseServingCommand("python3 -m sglang.launch_server --model-path x --tp-size 8")).toMatch(/not a "vllm serve MODEL"/)
    expect(parseServingCommand("vllm serve m -tp two")).toMatch(/^-tp: expected a positive integer/)
  })
})

describe("row helpers", () => {
  it("vllmVersion and checkpointPrecision", () => {
    expect(vllmVersion("- vLLM: v0.10.2; - SGLang: v0.5.2")).toBe("0.10.2")
    expect(vllmVersion("- SGLang: v0.5.3")).toBeUndefined()
    expect(checkpointPrecision("Qwen/Qwen3-14B-FP8")).toEqual({ base: "Qwen/Qwen3-14B", precision: "fp8" })
    expect(checkpointPrecision("Qwen/Qwen3-32B-AWQ")).toEqual({ base: "Qwen/Qwen3-32B", precision: "int4" })
    expect(checkpointPrecision("Qwen/Qwen3-14B")).toEqual({ base: "Qwen/Qwen3-14B", precision: "bf16" })
    expect(signedPct(110, 100)).toBeCloseTo(10, 12)
  })
})

describe("selectGpustackRow", () => {
  it("a burst ShareGPT row on A100: lengths from the totals, v0.11 without the flag runs synchronously", () => {
    const s = selectGpustackRow(row({}))
    if (!s.ok) throw new Error(s.reason)
    expect(s.value.gpu).toBe("a100-sxm")
    expect(s.value.lengths).toEqual({ kind: "sharegpt", meanInput: 215.312, meanOutput: 196.656 })
    expect(s.value.asyncScheduling).toBe(false)
    expect(s.value.concurrency).toBeUndefined()
    expect(s.value.measured).toEqual({ "out tok/s": 2276.4, ttft: 25918.79, tpot: 97.57, e2el: undefined })
    const sc = gpustackScenario(s.value) as { workload: Record<string, unknown>; engine: Record<string, unknown> }
    expect(sc.workload).toEqual({ numRequests: 1000, rate: "inf", input: "sharegpt", output: "sharegpt" })
    expect(sc.engine).toEqual({ asyncScheduling: false, maxModelLen: 32768 })
  })
  it("a random-length row gets fixed lengths at the means; a capped one its concurrency", () => {
    const s = selectGpustackRow(row({ case: "random 4K input", successful_requests: "500.0", total_input_tokens: "1999249.0", total_generated_tokens: "67259.0" }))
    if (!s.ok) throw new Error(s.reason)
    expect(s.value.lengths).toEqual({ kind: "fixed", input: 3998, output: 135 })
    const c = selectGpustackRow(row({ case: "ShareGPT batch size 4", max_concurrency: "4.0", successful_requests: "100.0" }))
    if (!c.ok) throw new Error(c.reason)
    expect(gpustackScenario(c.value).workload).toMatchObject({ concurrency: 4, numRequests: 100 })
  })
  it("the case's --max-num-batched-tokens wins over a pasted command that contradicts it", () => {
    const s = selectGpustackRow(row({ case: "--max-num-batched-tokens 8192", serving_command: "vllm serve openai/gpt-oss-120b --async-scheduling --max-num-batched-tokens 4096" }))
    if (!s.ok) throw new Error(s.reason)
    expect(s.value.command.maxNumBatchedTokens).toBe(8192)
    expect(s.value.asyncScheduling).toBe(true)
  })
  it("skips other engines, other hardware, models not built in and commands that name another page's model", () => {
    const reason = (o: Record<string, string>) => {
      const s = selectGpustackRow(row(o))
      return s.ok ? "selected" : s.reason
    }
    expect(reason({ engine: "sglang" })).toBe("engine sglang")
    expect(reason({ hardware: "A single Ascend 910B NPU." })).toMatch(/not an A100\/H100\/H200/)
    expect(reason({ file: "docs/performance-lab/glm-4.5-air/a100.md", serving_command: "vllm serve zai-org/GLM-4.5-Air -tp 4" })).toBe("zai-org/GLM-4.5-Air is not built in")
    expect(reason({ file: "docs/performance-lab/gpt-oss-20b/h100.md" })).toMatch(/serves openai\/gpt-oss-120b but the page is gpt-oss-20b/)
    expect(reason({ request_rate_cfg: "10" })).toMatch(/request rate 10/)
    expect(reason({ hardware: "8 × NVIDIA H200 SXM GPUs" })).toBe("selected")
  })
})

describe("splitwise and argonne helpers", () => {
  it("batch shapes: causal prefill work and decode context", () => {
    expect(prefillBatch(2, 4)).toMatchObject({ numTokens: 8, numPrefillReqs: 2, prefillAttentionWork: 2 * 4 * 2.5, prefillContextTokens: 8 })
    expect(decodeBatch(3, 100)).toMatchObject({ numTokens: 3, numDecodeReqs: 3, decodeContextTokens: 300 })
  })
  it("averages repeats per (GPU, TP, prompt, batch), keeps Llama2-70B on A100/H100, flags a prefill faster than half its batch", () => {
    const r = (hardware: string, batch: number, prompt_time: number) => ({ model: "llama2-70b", hardware, tensor_parallel: "2", prompt_size: "512", batch_size: String(batch), token_size: "128", prompt_time: String(prompt_time), token_time: "50" })
    const points = splitwisePoints([r("a100-80gb", 32, 6000), r("a100-80gb", 32, 6200), r("a100-80gb", 64, 800), r("h100-80gb-pcap", 32, 1), { ...r("a100-80gb", 32, 1), model: "bloom-176b" }])
    expect(points.map((p) => [p.gpu, p.batch, p.prefillMs])).toEqual([
      ["a100-sxm", 32, [6000, 6200]],
      ["a100-sxm", 64, [800]],
    ])
    expect([...implausiblePrefills(points)].map((p) => p.batch)).toEqual([64])
  })
  it("argonne: quantisation labels, architecture twins, skipped rows counted", () => {
    expect(parseQuantLabel("Weight = fp16, KV Cache = fp8")).toEqual({ precision: "bf16", kvCacheDtype: "fp8" })
    expect(parseQuantLabel("Weight = int8, KV Cache = int8")).toBeUndefined()
    const { cases, skipped } = argonneCases(
      [
        { Hardware: "Nvidia A100 GPU", num_gpus_tp: "1", Framework: "vLLM", Model: "meta-llama/Meta-Llama-3-8B", input_len_eq_output_len: "128", batch_size: "16", batch_latency_s: "2.0" },
        { Hardware: "Nvidia A100 GPU", num_gpus_tp: "1", Framework: "vLLM", Model: "mistralai/Mistral-7B-v0.1", input_len_eq_output_len: "128", batch_size: "16", batch_latency_s: "2.0" },
        { Hardware: "Nvidia GH200 GPU", num_gpus_tp: "1", Framework: "vLLM", Model: "meta-llama/Llama-2-7b-hf", input_len_eq_output_len: "128", batch_size: "1", batch_latency_s: "1.0" },
        { Hardware: "Nvidia A100 GPU", num_gpus_tp: "1", Framework: "TensorRT-LLM", Model: "meta-llama/Llama-2-7b-hf", input_len_eq_output_len: "128", batch_size: "1", batch_latency_s: "1.0" },
      ],
      { "Nvidia A100 GPU": "a100-sxm" },
    )
    expect(cases).toEqual([
      { label: "Meta-Llama-3-8B tp1 L128 b16", gpu: "a100-sxm", model: "meta-llama/Llama-3.1-8B", tp: 1, length: 128, batch: 16, precision: "bf16", kvCacheDtype: "auto", maxModelLen: 8192, latencyS: 2 },
    ])
    expect(Object.fromEntries(skipped)).toEqual({ "mistralai/Mistral-7B-v0.1 not built in": 1, "hardware Nvidia GH200 GPU": 1 })
  })
})
