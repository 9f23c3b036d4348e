import { describe, expect, it } from "vitest"
import { builtinGpuIds, cudaTotalMemoryBytes, lookupGpu, parseGpuJson } from "../../src/hw/gpus.ts"
import { lookupModel } from "../../src/hw/models.ts"
import type { GpuProfile } from "../../src/hw/types.ts"
import { hasLargeBatchDefaults, vllmDefaultMaxModelLen, vllmDefaults } from "../../src/hw/vllm-defaults.ts"
import { IN_CI, arr, dataPath, hasData, isRecord, readJson, skipReason, str } from "./shared-data.ts"

const mustGpu = (id: string): GpuProfile => {
  const g = lookupGpu(id)
  if (g === undefined) throw new Error(`no built-in GPU ${id}`)
  return g
}

const REQUIRED = [
  "a800-sxm",
  "a800-pcie",
  "a100-sxm",
  "a100-pcie",
  "h100-sxm",
  "h100-pcie",
  "h800-sxm",
  "h800-pcie",
  "h200-sxm",
  "l40s",
  "b200-sxm",
  "rtx-4090",
  "rtx-pro-6000",
]

describe("built-in GPUs", () => {
  it("has every GPU the simulator needs, each internally consistent", () => {
    const ids = builtinGpuIds()
    for (const id of REQUIRED) {
      expect(ids).toContain(id)
      const g = mustGpu(id)
      expect(g.id).toBe(id)
      expect(["ampere", "ada", "hopper", "blackwell"]).toContain(g.generation)
      expect(g.fp8Flops).toBeGreaterThanOrEqual(g.bf16Flops)
      expect(g.fp4Flops).toBeGreaterThanOrEqual(g.fp8Flops)
      expect(cudaTotalMemoryBytes(g)).toBeLessThanOrEqual(g.memoryBytes)
      expect(cudaTotalMemoryBytes(g)).toBeGreaterThan(0.9 * g.memoryBytes)
    }
  })

  it("resolves aliases and CUDA device names case-insensitively", () => {
    expect(lookupGpu("a800-80gb-sxm")?.id).toBe("a800-sxm")
    expect(lookupGpu("B200-HGX")?.id).toBe("b200-sxm")
    expect(lookupGpu("rtx4090")?.id).toBe("rtx-4090")
    expect(lookupGpu("RTX4090")?.id).toBe("rtx-4090")
    expect(lookupGpu("RTXPRO6000")?.id).toBe("rtx-pro-6000")
    expect(lookupGpu("rtxpro6000")?.id).toBe("rtx-pro-6000")
    expect(lookupGpu("NVIDIA GeForce RTX 4090")?.id).toBe("rtx-4090")
    expect(lookupGpu("NVIDIA A100-SXM4-80GB")?.id).toBe("a100-sxm")
    expect(lookupGpu("NVIDIA RTX PRO 6000 Blackwell Server Edition")?.id).toBe("rtx-pro-6000")
    expect(lookupGpu("H100")?.id).toBe("h100-sxm")
    expect(lookupGpu("v100")).toBeUndefined()
  })

  it("makes the A800 an A100 with 400 GB/s NVLink and the H800 an H100 with 400 GB/s", () => {
    const { nvlinkBandwidth: a800Link, id: _a, name: _an, ...a800 } = mustGpu("a800-sxm")
    const { nvlinkBandwidth: a100Link, id: _b, name: _bn, ...a100 } = mustGpu("a100-sxm")
    expect(a800).toEqual(a100)
    expect([a800Link, a100Link]).toEqual([400e9, 600e9])
    const { nvlinkBandwidth: h800Link, id: _c, name: _cn, ...h800 } = mustGpu("h800-sxm")
    const { nvlinkBandwidth: h100Link, id: _d, name: _dn, ...h100 } = mustGpu("h100-sxm")
    expect(h800).toEqual(h100)
    expect([h800Link, h100Link]).toEqual([400e9, 900e9])
  })

  it("uses the measured CUDA totals of the replay hardware", () => {
    expect(cudaTotalMemoryBytes(mustGpu("rtx-4090"))).toBe(25_250_627_584)
    expect(cudaTotalMemoryBytes(mustGpu("rtx-pro-6000"))).toBe(101_976_440_832)
    expect(cudaTotalMemoryBytes(mustGpu("a100-sxm"))).toBe(85_198_045_184)
  })
})

const FACTS = ["facts", "gpus.json"] as const
const haveFacts = hasData(...FACTS)

describe.skipIf(!haveFacts)(`built-ins agree with facts/gpus.json ${haveFacts ? "" : skipReason(...FACTS)}`, () => {
  const entries = haveFacts ? arr(readJson(...FACTS), "gpus") : []
  for (const e of entries) {
    const id = str(e, "id")
    it(`${id}: parses as a user GPU and matches the built-in`, () => {
      const parsed = parseGpuJson(e)
      if (typeof parsed === "string") throw new Error(parsed)
      const builtin = mustGpu(id)
      expect(parsed.memoryBytes).toBe(builtin.memoryBytes)
      expect(parsed.memoryBandwidth).toBe(builtin.memoryBandwidth)
      expect(parsed.bf16Flops).toBeCloseTo(builtin.bf16Flops, -6)
      expect(parsed.fp8Flops).toBeCloseTo(builtin.fp8Flops, -6)
      expect(parsed.int8Ops).toBeCloseTo(builtin.int8Ops, -6)
      expect(parsed.nvlinkBandwidth).toBe(builtin.nvlinkBandwidth)
      expect(parsed.pcieBandwidth).toBe(builtin.pcieBandwidth)
      expect(parsed.tdpWatts).toBe(builtin.tdpWatts)
      expect(parsed.generation).toBe(builtin.generation)
      if (isRecord(e) && typeof e["fp4_dense_tflops"] === "number") expect(parsed.fp4Flops).toBeCloseTo(builtin.fp4Flops, -6)
    })
  }
})
it.runIf(!haveFacts && IN_CI)(`CI requires ${dataPath(...FACTS)}`, () => {
  expect.fail(`${dataPath(...FACTS)} is missing in CI`)
})

describe("parseGpuJson", () => {
  const good = {
    id: "my-gpu",
    name: "My GPU",
    memory_gb: 64,
    memory_bandwidth_GBps: 2000,
    bf16_dense_tflops: 400,
    fp8_dense_tflops: 800,
    nvlink_GBps_bidir: null,
    pcie_GBps_bidir: 128,
    tdp_w: 500,
    generation: "hopper",
  }

  it("converts the documented units", () => {
    const g = parseGpuJson(good)
    expect(g).toEqual({
      id: "my-gpu",
      name: "My GPU",
      memoryBytes: 64 * 2 ** 30,
      memoryBandwidth: 2000e9,
      bf16Flops: 400e12,
      fp8Flops: 800e12,
      fp4Flops: 800e12, // no FP4 figure: best lower precision
      int8Ops: 800e12, // 2 × bf16
      nvlinkBandwidth: 0,
      pcieBandwidth: 128e9,
      tdpWatts: 500,
      generation: "hopper",
    })
  })

  it("falls back to bf16 for a null FP8 figure and reads the generation from arch", () => {
    const { generation: _g, ...rest } = good
    const g = parseGpuJson({ ...rest, fp8_dense_tflops: null, arch: "Ampere GA100", device_memory_bytes: 60 * 2 ** 30 })
    if (typeof g === "string") throw new Error(g)
    expect([g.fp8Flops, g.generation, g.deviceMemoryBytes]).toEqual([400e12, "ampere", 60 * 2 ** 30])
  })

  it("names the bad field in a one-line error", () => {
    const err = (raw: unknown, fieldName: string): void => {
      const r = parseGpuJson(raw)
      expect(typeof r).toBe("string")
      if (typeof r === "string") {
        expect(r).toContain(`"${fieldName}"`)
        expect(r).not.toContain("\n")
      }
    }
    const { memory_gb: _m, ...noMemory } = good
    err(noMemory, "memory_gb")
    err({ ...good, memory_bandwidth_GBps: -1 }, "memory_bandwidth_GBps")
    err({ ...good, bf16_dense_tflops: undefined }, "bf16_dense_tflops")
    err({ ...good, fp8_dense_tflops: "fast" }, "fp8_dense_tflops")
    err({ ...good, nvlink_GBps_bidir: -5 }, "nvlink_GBps_bidir")
    err({ ...good, pcie_GBps_bidir: undefined }, "pcie_GBps_bidir")
    err({ ...good, tdp_w: 0 }, "tdp_w")
    err({ ...good, generation: "volta" }, "generation")
    err({ ...good, id: "" }, "id")
    err({ ...good, device_memory_bytes: 65 * 2 ** 30 }, "device_memory_bytes")
    expect(parseGpuJson("h100")).toContain("object")
  })
})

describe("vLLM defaults", () => {
  it("gives H100-class GPUs (≥ 70 GiB, not A100) 8192 tokens / 1024 seqs in the API server", () => {
    for (const id of ["h100-sxm", "h100-pcie", "h200-sxm", "b200-sxm", "a800-sxm", "a800-pcie", "h800-sxm", "rtx-pro-6000"]) {
      expect(hasLargeBatchDefaults(mustGpu(id)), id).toBe(true)
      expect(vllmDefaults(mustGpu(id))).toEqual({ maxNumSeqs: 1024, maxNumBatchedTokens: 8192, gpuMemoryUtilization: 0.9, blockSize: 16 })
    }
  })

  it("gives A100s and smaller GPUs 2048 tokens / 256 seqs", () => {
    for (const id of ["a100-sxm", "a100-pcie", "l40s", "rtx-4090"]) {
      expect(hasLargeBatchDefaults(mustGpu(id)), id).toBe(false)
      expect(vllmDefaults(mustGpu(id))).toEqual({ maxNumSeqs: 256, maxNumBatchedTokens: 2048, gpuMemoryUtilization: 0.9, blockSize: 16 })
    }
  })

  it("uses the larger offline LLM-class budgets", () => {
    expect(vllmDefaults(mustGpu("h100-sxm"), "llm-class").maxNumBatchedTokens).toBe(16384)
    expect(vllmDefaults(mustGpu("a100-sxm"), "llm-class")).toMatchObject({ maxNumBatchedTokens: 8192, maxNumSeqs: 256 })
  })

  it("decides by the device memory CUDA reports, like vLLM", () => {
    const base = mustGpu("l40s")
    expect(hasLargeBatchDefaults({ ...base, name: "Big", memoryBytes: 72 * 2 ** 30, deviceMemoryBytes: 69.9 * 2 ** 30 })).toBe(false)
    expect(hasLargeBatchDefaults({ ...base, name: "Big", memoryBytes: 72 * 2 ** 30, deviceMemoryBytes: 70 * 2 ** 30 })).toBe(true)
    expect(hasLargeBatchDefaults({ ...base, name: "NVIDIA A100 something", memoryBytes: 80 * 2 ** 30 })).toBe(false)
  })

  it("forces MLA models to 64-token blocks (128 on B200) and takes max_model_len from the config", () => {
    const ds = lookupModel("deepseek-ai/DeepSeek-V3")
    const llama = lookupModel("meta-llama/Llama-3.1-8B")
    expect(ds).toBeDefined()
    expect(llama).toBeDefined()
    if (ds === undefined || llama === undefined) return
    expect(vllmDefaults(mustGpu("h100-sxm"), "openai-api-server", ds).blockSize).toBe(64)
    expect(vllmDefaults(mustGpu("b200-sxm"), "openai-api-server", ds).blockSize).toBe(128)
    expect(vllmDefaults(mustGpu("h100-sxm"), "openai-api-server", llama).blockSize).toBe(16)
    expect(vllmDefaultMaxModelLen(llama)).toBe(131072)
    expect(vllmDefaultMaxModelLen(ds)).toBe(163840)
  })
})
