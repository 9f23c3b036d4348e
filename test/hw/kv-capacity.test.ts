import { describe, expect, it } from "vitest"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { NON_TORCH_INCREASE_BYTES, SAMPLER_BYTES_PER_LOGIT, numGpuBlocksFor } from "../../src/hw/kv-capacity.ts"
import type { KvCapacityInput } from "../../src/hw/kv-capacity.ts"
import { weightBytesPerGpu } from "../../src/hw/model-costs.ts"
import { lookupModel } from "../../src/hw/models.ts"
import type { GpuProfile, ModelProfile } from "../../src/hw/types.ts"
import { IN_CI, dataPath, field, isRecord, num, readJson, skipReason, str, subdirs } from "./shared-data.ts"

const mustGpu = (id: string): GpuProfile => {
  const g = lookupGpu(id)
  if (g === undefined) throw new Error(`no built-in GPU ${id}`)
  return g
}
const mustModel = (id: string): ModelProfile => {
  const m = lookupModel(id)
  if (m === undefined) throw new Error(`no built-in model ${id}`)
  return m
}

const GiB = 2 ** 30

// Tolerance on num_gpu_blocks. The non-KV allowance (activation peak + non-torch memory) is the only
// estimated term. Across the four real runs it ranges 0.44–2.24 GiB for similar settings (vLLM 0.19 vs
// 0.28, TP1 vs TP2), i.e. ±~0.9 GiB around our estimate, which is ≤ 2.3% of a 96 GB card's KV pool.
// 3% covers that with a little margin and still fails a wrong KV-head split (2×), a wrong dtype (2×),
// weights off by a GiB on the 4090 (20%) or a missing activation term (> 1% on every run).
const TOLERANCE = 0.03

interface RealRun {
  readonly label: string
  readonly gpu: GpuProfile
  readonly model: string
  readonly tp: number
  readonly ep: number
  readonly util: number
  readonly blockSize: number
  readonly maxNumBatchedTokens: number
  readonly maxNumSeqs: number
  readonly numGpuBlocks: number
}

const predict = (r: RealRun): number =>
  numGpuBlocksFor({
    gpu: r.gpu,
    model: mustModel(r.model),
    precision: "bf16",
    kvCacheDtype: "auto",
    par: { tp: r.tp, pp: 1, ep: r.ep },
    gpuMemoryUtilization: r.util,
    blockSize: r.blockSize,
    maxNumBatchedTokens: r.maxNumBatchedTokens,
    maxNumSeqs: r.maxNumSeqs,
  }).numGpuBlocks

// Local replays (vLLM 0.19.0): every meta.json that records num_gpu_blocks is checked.
const REPLAYS = ["serving", "per-request-replays"] as const
const metaRuns = subdirs(...REPLAYS).flatMap((gpu) => subdirs(...REPLAYS, gpu).map((model) => [gpu, model] as const))
const localRuns: RealRun[] = metaRuns.flatMap(([gpuDir, modelDir]): RealRun[] => {
  const meta = readJson(...REPLAYS, gpuDir, modelDir, "meta.json")
  const kv = isRecord(meta) ? meta["kv_cache"] : undefined
  if (!isRecord(kv) || typeof kv["num_gpu_blocks"] !== "number") return [] // older meta.json files lack it
  const kwargs = field(meta, "engine_kwargs")
  const hw = field(meta, "hardware")
  return [
    {
      label: `${gpuDir}/${modelDir} (vLLM ${str(meta, "vllm_version")})`,
      // The CUDA total the run measured, so only the derivation is under test.
      gpu: { ...mustGpu(gpuDir), deviceMemoryBytes: num(hw, "device_total_memory_bytes") },
      model: str(meta, "model"),
      tp: num(kwargs, "tensor_parallel_size"),
      ep: field(kwargs, "enable_expert_parallel") === true ? num(kwargs, "data_parallel_size") : 1,
      util: num(kv, "gpu_memory_utilization"),
      blockSize: num(kv, "block_size"),
      maxNumBatchedTokens: num(kwargs, "max_num_batched_tokens"),
      maxNumSeqs: num(kwargs, "max_num_seqs"),
      numGpuBlocks: num(kv, "num_gpu_blocks"),
    },
  ]
})
const haveLocal = localRuns.length > 0

describe.skipIf(!haveLocal)(`num_gpu_blocks vs the replay meta.json ${haveLocal ? "" : skipReason(...REPLAYS)}`, () => {
  it("finds the RTX 4090 run's figure (2588 blocks)", () => {
    expect(localRuns.map((r) => [r.label.split(" ")[0], r.numGpuBlocks])).toContainEqual(["RTX4090/Llama-3.1-8B", 2588])
  })
  for (const r of localRuns) {
    it(`${r.label}: within ${TOLERANCE * 100}% of ${r.numGpuBlocks}`, () => {
      const err = predict(r) / r.numGpuBlocks - 1
      expect(Math.abs(err)).toBeLessThan(TOLERANCE)
    })
  }
})
it.runIf(!haveLocal && IN_CI)(`CI requires num_gpu_blocks in ${dataPath(...REPLAYS)}/*/*/meta.json`, () => {
  expect.fail("no replay meta.json with kv_cache.num_gpu_blocks found in CI")
})

// Later runs of the same replays on vLLM 0.28.0, transcribed from casys-kaist/LLMServingSim
// bench/examples/RTXPRO6000/<model>/vllm/meta.json (@0acc21b for Llama-3.1-8B and Qwen3-30B-A3B, @0d3de68
// for Qwen3-32B): util 0.92 (0.28's default), max_num_seqs 128, max_num_batched_tokens 2048, block 16,
// device_total_memory_bytes 101,976,440,832. Independent of the calibration (done on the 4090 run).
const PRO6000 = mustGpu("rtx-pro-6000")
const LLMSERVINGSIM_028: ReadonlyArray<RealRun> = [
  { label: "RTX PRO 6000 Llama-3.1-8B TP1", gpu: PRO6000, model: "meta-llama/Llama-3.1-8B", tp: 1, ep: 1, util: 0.92, blockSize: 16, maxNumBatchedTokens: 2048, maxNumSeqs: 128, numGpuBlocks: 35913 },
  { label: "RTX PRO 6000 Qwen3-32B TP2", gpu: PRO6000, model: "Qwen/Qwen3-32B", tp: 2, ep: 1, util: 0.92, blockSize: 16, maxNumBatchedTokens: 2048, maxNumSeqs: 128, numGpuBlocks: 28884 },
  // DP2 + expert parallel: meta.json reports 75,638 = the sum over the two DP engines; each engine holds
  // 37,819 (kv_cache_size_tokens 605,104 / 16). 75,638 blocks would not fit in one card's memory.
  { label: "RTX PRO 6000 Qwen3-30B-A3B-Instruct-2507 DP2 EP2", gpu: PRO6000, model: "Qwen/Qwen3-30B-A3B-Instruct-2507", tp: 1, ep: 2, util: 0.92, blockSize: 16, maxNumBatchedTokens: 2048, maxNumSeqs: 128, numGpuBlocks: 37819 },
]

describe("num_gpu_blocks vs vLLM 0.28.0 runs on an RTX PRO 6000", () => {
  for (const r of LLMSERVINGSIM_028) {
    it(`${r.label}: within ${TOLERANCE * 100}% of ${r.numGpuBlocks}`, () => {
      expect(Math.abs(predict(r) / r.numGpuBlocks - 1)).toBeLessThan(TOLERANCE)
    })
  }
})

describe("numGpuBlocksFor derivation", () => {
  const llama8b = mustModel("meta-llama/Llama-3.1-8B")
  const base: KvCapacityInput = {
    gpu: mustGpu("h100-sxm"),
    model: llama8b,
    precision: "bf16",
    kvCacheDtype: "auto",
    par: { tp: 1, pp: 1, ep: 1 },
    gpuMemoryUtilization: 0.9,
    blockSize: 16,
    maxNumBatchedTokens: 2048,
    maxNumSeqs: 256,
  }

  it("divides what is left of the budget by the bytes of one block over all layers", () => {
    const r = numGpuBlocksFor(base)
    const requested = Math.ceil(79.22 * GiB * 0.9) // H100's CUDA total
    const available = requested - r.weightBytesPerGpu - r.activationReserveBytes - r.nonTorchReserveBytes
    const blockBytes = 16 * 131072 // block_size × KV bytes per token (2 · 32 · 8 · 128 · 2)
    expect(r.numGpuBlocks).toBe(Math.floor(available / blockBytes))
    expect(r.kvCacheBytesPerGpu).toBe(r.numGpuBlocks * blockBytes)
    // Weights as vLLM's "Model loading took 14.99 GiB": params × 2 plus the 131072 × 128 bf16 RoPE cache.
    expect(r.weightBytesPerGpu).toBe(8030261248 * 2 + 131072 * 128 * 2)
    expect(r.weightBytesPerGpu / GiB).toBeCloseTo(14.989, 3)
    // The dummy sampler over 256 requests dominates the activation peak at 2048 tokens.
    expect(r.activationReserveBytes).toBe(256 * 128256 * SAMPLER_BYTES_PER_LOGIT + 2048 * 4096 * 2)
    expect(r.nonTorchReserveBytes).toBe(NON_TORCH_INCREASE_BYTES)
  })

  it("splits KV heads over TP, and replicates them when there are fewer heads than ranks", () => {
    const m70 = mustModel("meta-llama/Llama-3.1-70B")
    const at = (tp: number): number => numGpuBlocksFor({ ...base, model: m70, par: { tp, pp: 1, ep: 1 } }).kvCacheBytesPerGpu /
      numGpuBlocksFor({ ...base, model: m70, par: { tp, pp: 1, ep: 1 } }).numGpuBlocks
    expect(at(2)).toBe(16 * 80 * 2 * 4 * 128 * 2) // 4 of 8 KV heads per rank
    expect(at(8)).toBe(16 * 80 * 2 * 1 * 128 * 2)
    // Qwen2.5-7B has 4 KV heads: at TP 8 each rank still holds one.
    const q = mustModel("Qwen/Qwen2.5-7B-Instruct")
    const r8 = numGpuBlocksFor({ ...base, model: q, par: { tp: 8, pp: 1, ep: 1 } })
    expect(r8.kvCacheBytesPerGpu / r8.numGpuBlocks).toBe(16 * 28 * 2 * 1 * 128 * 2)
  })

  it("pages the MLA latent, replicated on every TP rank", () => {
    const ds = mustModel("deepseek-ai/DeepSeek-V3")
    const r = numGpuBlocksFor({ ...base, gpu: mustGpu("h200-sxm"), model: ds, precision: "fp8", par: { tp: 8, pp: 1, ep: 1 }, blockSize: 64 })
    expect(r.numGpuBlocks).toBeGreaterThan(0)
    expect(r.kvCacheBytesPerGpu / r.numGpuBlocks).toBe(64 * 576 * 61 * 2)
  })

  it("groups gpt-oss's 18 full and 18 sliding layers: one block id spans 18 layers", () => {
    const oss = mustModel("openai/gpt-oss-120b")
    const r = numGpuBlocksFor({ ...base, model: oss })
    expect(r.kvCacheBytesPerGpu / r.numGpuBlocks).toBe(16 * 2 * 8 * 64 * 2 * 18)
  })

  it("doubles the blocks with an fp8 KV cache and grows with gpu_memory_utilization", () => {
    const bf16 = numGpuBlocksFor(base).numGpuBlocks
    const fp8 = numGpuBlocksFor({ ...base, kvCacheDtype: "fp8" }).numGpuBlocks
    expect(Math.abs(fp8 - 2 * bf16)).toBeLessThanOrEqual(1)
    expect(numGpuBlocksFor({ ...base, gpuMemoryUtilization: 0.95 }).numGpuBlocks).toBeGreaterThan(bf16)
    expect(numGpuBlocksFor({ ...base, maxNumBatchedTokens: 65536 }).numGpuBlocks).toBeLessThan(bf16)
  })

  it("subtracts exactly the per-GPU weights: more TP leaves more room per GPU", () => {
    const m70 = mustModel("meta-llama/Llama-3.1-70B")
    const r2 = numGpuBlocksFor({ ...base, model: m70, par: { tp: 2, pp: 1, ep: 1 } })
    const r4 = numGpuBlocksFor({ ...base, model: m70, par: { tp: 4, pp: 1, ep: 1 } })
    expect(r2.weightBytesPerGpu).toBe(weightBytesPerGpu(m70, "bf16", { tp: 2, pp: 1, ep: 1 }) + 131072 * 128 * 2)
    expect(r4.numGpuBlocks).toBeGreaterThan(r2.numGpuBlocks)
  })

  it("reports zero blocks when the weights do not fit", () => {
    const r = numGpuBlocksFor({ ...base, gpu: mustGpu("rtx-4090"), model: mustModel("meta-llama/Llama-3.1-70B") })
    expect(r.numGpuBlocks).toBe(0)
    expect(r.kvCacheBytesPerGpu).toBe(0)
  })

  it("defaults max_num_seqs to vLLM's for the GPU (1024 on H100: a bigger sampler reserve)", () => {
    const { maxNumSeqs: _s, ...noSeqs } = base
    const r = numGpuBlocksFor(noSeqs)
    expect(r.activationReserveBytes).toBe(1024 * 128256 * SAMPLER_BYTES_PER_LOGIT + 2048 * 4096 * 2)
  })
})
