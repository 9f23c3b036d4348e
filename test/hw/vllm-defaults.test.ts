import { describe, expect, it } from "vitest"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { asyncSchedulingDefault, vllmDefaults } from "../../src/hw/vllm-defaults.ts"

describe("vLLM defaults", () => {
  it("async scheduling is on from vLLM 0.14 without pipeline parallelism, and for an unknown (current) version", () => {
    expect(asyncSchedulingDefault(1, "0.13.0")).toBe(false)
    expect(asyncSchedulingDefault(1, "0.12.0")).toBe(false)
    expect(asyncSchedulingDefault(1, "0.14.0")).toBe(true)
    expect(asyncSchedulingDefault(1, "v0.15.1")).toBe(true)
    expect(asyncSchedulingDefault(1, "1.0.0")).toBe(true)
    expect(asyncSchedulingDefault(1)).toBe(true)
    expect(asyncSchedulingDefault(1, "nightly")).toBe(true)
    expect(asyncSchedulingDefault(2, "0.15.1")).toBe(false)
  })

  it("scheduler limits: H100-class GPUs get the large API-server budget, A100 the small one", () => {
    expect(vllmDefaults(lookupGpu("h100-sxm")!).maxNumBatchedTokens).toBe(8192)
    expect(vllmDefaults(lookupGpu("a100-sxm")!).maxNumBatchedTokens).toBe(2048)
  })
})
