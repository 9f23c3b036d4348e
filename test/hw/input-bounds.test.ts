// Inputs the hardware layer refuses with a field, a value and a range (issue 16): model configs with
// absurd sizes or KV heads that do not divide the attention heads, profile coefficients that would
// overflow a step time, a KV budget whose shortfall is named; and the kernel's guard on a step time
// that is not a finite number of seconds.
import { describe, expect, it } from "vitest"
import { parseProfile } from "../../src/scenario/profile.ts"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { kvShortfall, numGpuBlocksFor, type KvCapacityInput } from "../../src/hw/kv-capacity.ts"
import { MODEL_FIELD_MAX, lookupModel, modelFromHfConfig } from "../../src/hw/models.ts"
import { checkCoefficients, coefficientRange, COEFFICIENT_NAMES, unitCoefficients } from "../../src/hw/physics-step-time.ts"
import { StepTimeError } from "../../src/sim/step-time-error.ts"
import { simulate } from "../../src/sim/simulate.ts"
import { llama8bConfig, profileWith } from "../input-fixtures.ts"
import { listWorkload, request, spec } from "../sim/helpers.ts"

const llama8b = llama8bConfig

describe("model config bounds", () => {
  it("accepts the real config", () => {
    expect(typeof modelFromHfConfig(llama8b, "x")).toBe("object")
  })

  it.each([
    ["num_hidden_layers", 1e15],
    ["hidden_size", 1e9],
    ["num_attention_heads", 1e6],
    ["vocab_size", 1e12],
    ["intermediate_size", 1e12],
    ["max_position_embeddings", 1e15],
  ] as const)("refuses %s = %d, naming the field, the value and the bound", (field, value) => {
    const r = modelFromHfConfig({ ...llama8b, [field]: value }, "x")
    // intermediate_size is optional (MoE configs may give moe_intermediate_size instead): "or null".
    const orNull = field === "intermediate_size" ? " or null" : ""
    expect(r).toBe(`hf config for "x": field "${field}" must be a positive integer ≤ ${MODEL_FIELD_MAX[field].toLocaleString("en-US")}${orNull} (got ${value})`)
  })

  it("refuses 1e9 experts and top-k above the expert count", () => {
    const moe = { ...llama8b, num_local_experts: 1e9, num_experts_per_tok: 2 }
    expect(modelFromHfConfig(moe, "x")).toMatch(/field "num_local_experts" must be an integer in \[0, 65,536\] or null \(got 1000000000\)/)
    expect(modelFromHfConfig({ ...moe, num_local_experts: 8, num_experts_per_tok: 9 }, "x")).toMatch(/num_experts_per_tok" must be at most the expert count 8/)
  })

  it("every bound is at least 10× the largest published value it guards", () => {
    // Llama-3.1-405B 126 layers, 16384 hidden, 128 heads, 53248 intermediate; Gemma 3 262,144 vocabulary; Kimi-K2 384 experts.
    expect(MODEL_FIELD_MAX.num_hidden_layers).toBeGreaterThanOrEqual(1260)
    expect(MODEL_FIELD_MAX.hidden_size).toBeGreaterThanOrEqual(163_840)
    expect(MODEL_FIELD_MAX.num_attention_heads).toBeGreaterThanOrEqual(1280)
    expect(MODEL_FIELD_MAX.intermediate_size).toBeGreaterThanOrEqual(532_480)
    expect(MODEL_FIELD_MAX.vocab_size).toBeGreaterThanOrEqual(2_621_440)
    expect(MODEL_FIELD_MAX.num_experts).toBeGreaterThanOrEqual(3840)
  })

  it("refuses KV heads that do not divide the attention heads (vLLM's Attention asserts it)", () => {
    expect(modelFromHfConfig({ ...llama8b, num_key_value_heads: 5 }, "x")).toBe(
      'hf config for "x": field "num_key_value_heads" must be a divisor of num_attention_heads 32 (got 5)',
    )
    expect(modelFromHfConfig({ ...llama8b, num_key_value_heads: 64 }, "x")).toMatch(/divisor of num_attention_heads 32 \(got 64\)/)
    // Every built-in satisfies it.
    for (const id of ["meta-llama/Llama-3.1-70B-Instruct", "Qwen/Qwen3-30B-A3B", "openai/gpt-oss-120b", "mistralai/Mixtral-8x7B-v0.1"]) {
      const m = lookupModel(id)!
      expect(m.numAttentionHeads % m.numKeyValueHeads).toBe(0)
    }
  })
})

describe("profile coefficient ranges", () => {
  const profile = profileWith

  it("1e308 (once: null metrics) is refused with the field path, the value and the range", () => {
    expect(parseProfile(profile({ gemmCompute: 1e308 }))).toBe("coefficients.gemmCompute: 1e+308 is outside [0, 10,000] (× the roofline time)")
    expect(parseProfile(profile({ stepOverhead: 1e308 }))).toBe("coefficients.stepOverhead: 1e+308 is outside [0, 10] (seconds)")
    expect(parseProfile(profile({ kvRead: -1 }))).toBe("coefficients.kvRead: -1 is outside [0, 10,000] (× the roofline time)")
    expect(parseProfile(profile({}, { completion: 1e308 }))).toBe("overheads.completion: 1e+308 is outside [0, 600] (seconds)")
    expect(typeof parseProfile(profile({ gemmCompute: 10_000, layerLaunch: 10 }))).toBe("object")
  })

  it("every coefficient has a range, and the shipped roofline coefficients are inside it", () => {
    for (const k of COEFFICIENT_NAMES) expect(coefficientRange(k).max).toBeGreaterThan(0)
    expect(checkCoefficients(unitCoefficients)).toBeUndefined()
    expect(checkCoefficients({ ...unitCoefficients, weightRead: Number.NaN })).toBe("coefficient weightRead: NaN is outside [0, 10,000] (× the roofline time)")
  })
})

describe("the kernel never turns a non-finite step time into null metrics", () => {
  it.each([Number.POSITIVE_INFINITY, Number.NaN, -1])("a step time of %d s throws StepTimeError naming the model and the batch", (dt) => {
    const model = { name: "broken", overheads: { ingressBase: 0, ingressPerInputToken: 0, perOutputToken: 0, completion: 0 }, stepTime: () => dt }
    const run = () => simulate(spec({ workload: listWorkload([request(0, 100, 4)]), stepTime: model }))
    expect(run).toThrow(StepTimeError)
    expect(run).toThrow(`step time ${dt} s for a batch of 100 tokens in 1 requests from broken: not a finite duration`)
  })
})

describe("KV capacity shortfall names the part that does not fit", () => {
  const h100 = lookupGpu("h100-sxm")!
  const base: KvCapacityInput = {
    gpu: h100,
    model: lookupModel("meta-llama/Llama-3.1-8B-Instruct")!,
    precision: "bf16",
    kvCacheDtype: "auto",
    par: { tp: 1, pp: 1, ep: 1 },
    gpuMemoryUtilization: 0.9,
    blockSize: 16,
    maxNumBatchedTokens: 8192,
    maxNumSeqs: 1024,
  }
  const shortfall = (over: Partial<KvCapacityInput>): string | undefined => {
    const input = { ...base, ...over }
    return kvShortfall(numGpuBlocksFor(input), input.gpuMemoryUtilization)
  }

  it("no message when a block fits", () => {
    expect(shortfall({})).toBeUndefined()
  })

  it("weights alone (70B on one GPU)", () => {
    expect(shortfall({ model: lookupModel("meta-llama/Llama-3.1-70B-Instruct")! })).toMatch(/: the weights alone exceed the budget/)
  })

  it("the activation reserve, not the weights (8B with a 2M-token profile batch): the breakdown adds up", () => {
    const input = { ...base, maxNumBatchedTokens: 2_000_000 }
    const cap = numGpuBlocksFor(input)
    expect(cap.weightBytesPerGpu).toBeLessThan(cap.requestedBytes)
    const msg = kvShortfall(cap, 0.9)!
    expect(msg).toMatch(/the weights fit, the activation reserve on top of them does not/)
    const gib = (x: number) => (x / 2 ** 30).toFixed(2)
    expect(msg).toContain(`budget ${gib(cap.requestedBytes)} GiB (gpu_memory_utilization 0.9 × ${gib(cap.requestedBytes / 0.9)} GiB)`)
    expect(msg).toContain(`− weights ${gib(cap.weightBytesPerGpu)} GiB − activation reserve ${gib(cap.activationReserveBytes)} GiB`)
    expect(msg).toContain(`= ${gib(cap.requestedBytes - cap.weightBytesPerGpu - cap.activationReserveBytes - cap.nonTorchReserveBytes)} GiB for the KV cache`)
  })

  it("a low gpu_memory_utilization leaves the weights room but not the reserve", () => {
    expect(shortfall({ gpuMemoryUtilization: 0.2 })).toMatch(/budget 15\.84 GiB .*the weights fit, the activation reserve on top of them does not/)
  })
})
