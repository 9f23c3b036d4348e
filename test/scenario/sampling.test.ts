// Which requests sample with top-k/top-p: the client's choice, or the checkpoint's generation_config
// when the client sends none (inference-perf), and the step time that follows from it.
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { lookupModel, samplingDefaults, usesPenalties, usesTopKTopP } from "../../src/hw/models.ts"
import { SAMPLER_FILTER_LAUNCH_SECONDS } from "../../src/hw/step-time-terms.ts"
import { defaultCoefficients } from "../../src/hw/default-coefficients.ts"
import { resolveScenario, samplingPenaltiesOf, topKTopPSamplingOf } from "../../src/scenario/resolve.ts"
import { decodeScenario } from "../../src/scenario/schema.ts"
import { emptyBatchShape } from "../../src/hw/types.ts"

const scenario = (model: string, workload: Record<string, unknown>) =>
  Effect.runSync(decodeScenario({ model, gpu: "h100-sxm", workload: { rate: 1, numRequests: 10, input: 100, output: 10, ...workload } }, "test"))

describe("sampling defaults", () => {
  it("reads the checkpoints' generation_config: Qwen2.5 Instruct top_p 0.8 / top_k 20 / repetition_penalty 1.05, Qwen3 top_p 0.95 / top_k 20, Llama 3.1 top_p 0.9, none for Mixtral", () => {
    expect(samplingDefaults("Qwen/Qwen2.5-7B-Instruct")).toEqual({ topP: 0.8, topK: 20, repetitionPenalty: 1.05 })
    expect(samplingDefaults("Qwen/Qwen3-14B")).toEqual({ topP: 0.95, topK: 20 })
    expect(samplingDefaults("meta-llama/llama-3.1-70b-instruct")).toEqual({ topP: 0.9, topK: 0 })
    expect(samplingDefaults("mistralai/Mixtral-8x7B-v0.1")).toBeUndefined()
    expect(usesTopKTopP(undefined)).toBe(false)
    expect(usesTopKTopP({ topP: 1, topK: 0 })).toBe(false)
    expect(usesTopKTopP({ topP: 1, topK: 20 })).toBe(true)
    expect(usesPenalties(samplingDefaults("Qwen/Qwen2.5-7B-Instruct"))).toBe(true)
    expect(usesPenalties(samplingDefaults("Qwen/Qwen3-14B"))).toBe(false)
    expect(usesPenalties({ topP: 1, topK: 0, repetitionPenalty: 1 })).toBe(false)
    expect(usesPenalties(undefined)).toBe(false)
  })

  it("penalties come only from a checkpoint's repetition_penalty under model-defaults", () => {
    const qwen = lookupModel("Qwen/Qwen2.5-7B-Instruct")!
    const qwen3 = lookupModel("Qwen/Qwen3-14B")!
    expect(samplingPenaltiesOf(scenario(qwen.id, { inferencePerfDefaults: true }), qwen)).toBe(true)
    expect(samplingPenaltiesOf(scenario(qwen3.id, { inferencePerfDefaults: true }), qwen3)).toBe(false)
    expect(samplingPenaltiesOf(scenario(qwen.id, { sampling: "top-p" }), qwen)).toBe(false)
    expect(samplingPenaltiesOf(scenario(qwen.id, {}), qwen)).toBe(false)
  })

  it("model-defaults filters only where the checkpoint asks for it; greedy never; top-p always", () => {
    const qwen = lookupModel("Qwen/Qwen2.5-7B-Instruct")!
    const mixtral = lookupModel("mistralai/Mixtral-8x7B-v0.1")!
    expect(topKTopPSamplingOf(scenario(qwen.id, { sampling: "model-defaults" }), qwen)).toBe(true)
    expect(topKTopPSamplingOf(scenario(mixtral.id, { sampling: "model-defaults" }), mixtral)).toBe(false)
    expect(topKTopPSamplingOf(scenario(qwen.id, { sampling: "greedy" }), qwen)).toBe(false)
    expect(topKTopPSamplingOf(scenario(mixtral.id, { sampling: "top-p" }), mixtral)).toBe(true)
    // vllm bench serve sends temperature 0: greedy unless the workload runs as inference-perf.
    expect(topKTopPSamplingOf(scenario(qwen.id, {}), qwen)).toBe(false)
    expect(topKTopPSamplingOf(scenario(qwen.id, { inferencePerfDefaults: true }), qwen)).toBe(true)
  })

  it("a filtering scenario's steps take the sampler's time longer, a greedy one's do not", () => {
    const greedy = Effect.runSync(resolveScenario(scenario("Qwen/Qwen2.5-7B-Instruct", { sampling: "greedy" })))
    const topP = Effect.runSync(resolveScenario(scenario("Qwen/Qwen2.5-7B-Instruct", { sampling: "top-p" })))
    expect(greedy.topKTopPSampling).toBe(false)
    expect(topP.topKTopPSampling).toBe(true)
    const batch = { ...emptyBatchShape(), numReqs: 8, numTokens: 8, numDecodeReqs: 8, decodeContextTokens: 8000 }
    const extra = topP.stepTime.stepTime(batch) - greedy.stepTime.stepTime(batch)
    // 0.1 ms of launches + 8 rows × 152,064 logits × 0.147 ns at the H100's bandwidth.
    expect(extra).toBeCloseTo(SAMPLER_FILTER_LAUNCH_SECONDS + 8 * 152_064 * 0.147e-9, 9)
  })

  it("a scenario with the checkpoint's penalties pays 85 B per logit of every scheduled request at the elementwise efficiency", () => {
    const topP = Effect.runSync(resolveScenario(scenario("Qwen/Qwen2.5-7B-Instruct", { sampling: "top-p" })))
    const defaults = Effect.runSync(resolveScenario(scenario("Qwen/Qwen2.5-7B-Instruct", { sampling: "model-defaults" })))
    expect(defaults.samplingPenalties).toBe(true)
    const batch = { ...emptyBatchShape(), numReqs: 11, numTokens: 11, numDecodeReqs: 11, decodeContextTokens: 11_000 }
    const extra = defaults.stepTime.stepTime(batch) - topP.stepTime.stepTime(batch)
    // 11 rows × 152,064 logits × 85 B = 142 MB over the H100's 3.35 TB/s, × the fitted elementwise efficiency.
    const ew = defaultCoefficients(defaults.gpu).elementwise
    expect(extra).toBeCloseTo(((11 * 152_064 * 85) / 3.35e12) * ew, 9)
    expect(extra).toBeGreaterThan(5e-5)
    expect(extra).toBeLessThan(1.5e-4)
  })

  it("rejects an unknown sampling mode", () => {
    expect(() => scenario("Qwen/Qwen2.5-7B-Instruct", { sampling: "beam" })).toThrow(/sampling/)
  })
})
