import { describe, expect, test } from "vitest"
import { shellQuote, vllmServeCommand, type ServeConfig } from "../../src/econ/vllm-serve-command.ts"

const base: ServeConfig = {
  model: "meta-llama/Llama-3.1-8B-Instruct",
  tp: 2,
  pp: 1,
  replicas: 1,
  maxNumSeqs: 256,
  maxNumBatchedTokens: 2048,
  gpuMemoryUtilization: 0.9,
  enablePrefixCaching: true,
  enableChunkedPrefill: true,
  precision: "bf16",
  kvCacheDtype: "auto",
}

describe("vllm serve command of a configuration", () => {
  test("one replica: the engine args the simulation used, in vLLM's flag names", () => {
    const c = vllmServeCommand(base)
    expect(c.command).toBe(
      "vllm serve meta-llama/Llama-3.1-8B-Instruct --tensor-parallel-size 2 --max-num-seqs 256 --max-num-batched-tokens 2048 --gpu-memory-utilization 0.9 --enable-prefix-caching --enable-chunked-prefill",
    )
    expect(c.notes).toEqual([])
  })

  test("replicas become --data-parallel-size with a note; switches off take the --no- form; fp8 and overrides", () => {
    const c = vllmServeCommand({
      ...base,
      tp: 4,
      pp: 2,
      replicas: 3,
      enablePrefixCaching: false,
      enableChunkedPrefill: false,
      precision: "fp8",
      kvCacheDtype: "fp8",
      maxModelLen: 8192,
      numGpuBlocksOverride: 1000,
    })
    const a = c.args.join(" ")
    expect(a).toContain("--tensor-parallel-size 4 --pipeline-parallel-size 2 --data-parallel-size 3")
    expect(a).toContain("--no-enable-prefix-caching --no-enable-chunked-prefill --max-model-len 8192 --num-gpu-blocks-override 1000 --kv-cache-dtype fp8 --quantization fp8")
    expect(c.notes[0]).toBe("3 replicas of tp 4 × pp 2: one server with --data-parallel-size 3 (24 GPUs), or 3 servers without it behind a load balancer")
    expect(c.notes[1]).toMatch(/^--quantization fp8 quantizes a bf16 checkpoint/)
    expect(vllmServeCommand({ ...base, precision: "fp16" }).args.slice(-2)).toEqual(["--dtype", "float16"])
  })

  test("arguments the shell would split are quoted", () => {
    expect(shellQuote("meta-llama/Llama-3.1-8B-Instruct")).toBe("meta-llama/Llama-3.1-8B-Instruct")
    expect(shellQuote("/models/my model's dir")).toBe(`'/models/my model'\\''s dir'`)
    expect(vllmServeCommand({ ...base, model: "/m/a b" }).command).toMatch(/^vllm serve '\/m\/a b' --tensor-parallel-size 2/)
  })
})
