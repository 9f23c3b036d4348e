// Each basis term against a hand-computed case on a small synthetic model and GPU (round numbers, so
// every expected value below can be checked with a pocket calculator).
import { describe, expect, it } from "vitest"
import {
  allReduceCount,
  allReduceRankCount,
  expectedMaxOfNormals,
  allReduceTime,
  allReduceTwoShotCount,
  attentionComputeTime,
  attentionSlotCount,
  elementwiseTime,
  gemmComputeTime,
  gemmKernelCount,
  kvReadTime,
  layerCount,
  isMarlinGemm,
  linkBandwidthOneWay,
  marlinDequantTime,
  moeAllToAllCount,
  moeAllToAllTime,
  moeComputeTime,
  moeDispatchTime,
  moeExpertWeightTime,
  moeLayerCount,
  ppBubbleFactor,
  ppHandoffCount,
  ppHandoffTime,
  oneShotAllReduceMaxBytes,
  ringAllReduceFactor,
  SAMPLER_FILTER_LAUNCH_SECONDS,
  SAMPLER_FILTER_SECONDS_PER_LOGIT_H100,
  samplerFilterTime,
  penaltyTime,
  scheduledRequestCount,
  stepCount,
  stepTimeBasis,
  weightReadTime,
  type HardwareSetup,
} from "../../../src/hw/step-time-terms.ts"
import type { BatchShape, GpuProfile, ModelProfile } from "../../../src/hw/types.ts"

export const tinyGpu: GpuProfile = {
  id: "test-gpu",
  name: "test GPU",
  memoryBytes: 80e9,
  memoryBandwidth: 2e12,
  bf16Flops: 1e15,
  fp8Flops: 2e15,
  fp4Flops: 2e15,
  int8Ops: 2e15,
  nvlinkBandwidth: 400e9, // 200 GB/s each way
  pcieBandwidth: 64e9,
  tdpWatts: 400,
  generation: "ampere",
}

/** 2 layers, h = 1024, 8 heads × 128 (MHA), MLP 4096, vocab 32000 (a multiple of 64), untied. */
export const tinyModel: ModelProfile = {
  id: "test/tiny",
  numLayers: 2,
  hiddenSize: 1024,
  numAttentionHeads: 8,
  numKeyValueHeads: 8,
  headDim: 128,
  intermediateSize: 4096,
  vocabSize: 32000,
  tieWordEmbeddings: false,
  numExperts: 0,
  numExpertsPerTok: 0,
  moeIntermediateSize: 0,
  numSharedExperts: 0,
  numDenseLayers: 0,
  mlaKvDim: 0,
  slidingWindow: 0,
  numSlidingLayers: 0,
  maxPositionEmbeddings: 4096,
}

const setup = (over: Partial<HardwareSetup> = {}): HardwareSetup => ({
  model: tinyModel,
  gpu: tinyGpu,
  precision: "bf16",
  kvCacheDtype: "auto",
  par: { tp: 1, pp: 1, ep: 1 },
  ...over,
})

// One prefill of 1000 tokens from scratch next to 4 decodes over 2500 tokens of context each.
const batch: BatchShape = {
  numReqs: 5,
  numTokens: 1004,
  numPrefillReqs: 1,
  prefillTokens: 1000,
  numDecodeReqs: 4,
  prefillAttentionWork: (1000 * 1001) / 2,
  prefillContextTokens: 1000,
  decodeContextTokens: 10000,
}

const rel = (a: number, b: number): void => expect(a / b).toBeCloseTo(1, 10)

describe("basis terms, hand-computed (tiny model, tp = 1)", () => {
  const b = stepTimeBasis(setup())

  it("gemmComputeTime: non-embedding linear FLOPs per token × tokens + lm_head per request, over peak", () => {
    // Per layer: attention 4·h² = 4,194,304, MLP 3·h·I = 12,582,912, norms 2h = 2,048 → 16,779,264;
    // 2 layers + final norm 1,024 = 33,559,552 params → 67,119,104 FLOPs per token.
    // lm_head: 2 · 32000 · 1024 = 65,536,000 FLOPs per sampled request.
    rel(gemmComputeTime(b, batch), (1004 * 67_119_104 + 5 * 65_536_000) / 1e15)
  })

  it("weightReadTime: weights on the GPU minus the input-embedding gather, over HBM bandwidth", () => {
    // 2 layers × 33,558,528 B (bf16) + lm_head 65,536,000 B + final norm 2,048 B = 132,655,104 B.
    rel(weightReadTime(b), 132_655_104 / 2e12)
  })

  it("kvReadTime: context tokens × 2·kv·d·L·2 bytes", () => {
    // 2 · 8 · 128 · 2 layers · 2 B = 8192 B per token; 10,000 decode + 1,000 prefill context tokens.
    rel(kvReadTime(b, batch), (11_000 * 8192) / 2e12)
  })

  it("attentionComputeTime: query–key pairs × 4·heads·d·layers over the bf16 peak", () => {
    rel(attentionComputeTime(b, batch), ((500_500 + 10_000) * 4 * 8 * 128 * 2) / 1e15)
  })

  it("elementwiseTime: norms, RoPE, attention Q/O and activation bytes", () => {
    // Per layer 8h + 2·(q+k) + 2·q = 8192 + 4096 + 2048; MLP 3·I = 12,288; (2·14,336 + 2·12,288) · 2 B.
    rel(elementwiseTime(b, batch), (1004 * 106_496) / 2e12)
  })

  it("counts: one step, 5 requests, 8 GEMM kernels + lm_head, 2 layers, 16 (request, KV head, layer) slots each", () => {
    expect(stepCount(b)).toBe(1)
    expect(scheduledRequestCount(batch)).toBe(5)
    expect(gemmKernelCount(b)).toBe(4 * 2 + 1)
    expect(layerCount(b)).toBe(2)
    expect(attentionSlotCount(b, batch)).toBe(5 * 16)
    expect(allReduceCount(b)).toBe(0)
    expect(allReduceTime(b, batch)).toBe(0)
    expect(ppHandoffCount(b)).toBe(0)
    expect(ppBubbleFactor(b)).toBe(1)
    expect(moeComputeTime(b, batch)).toBe(0)
    expect(moeExpertWeightTime(b, batch)).toBe(0)
    expect(moeLayerCount(b)).toBe(0)
  })

  it("fp8 weights: half the weight bytes and the fp8 peak", () => {
    const f = stepTimeBasis(setup({ precision: "fp8" }))
    // Linear weights at 1 B, embeddings/lm_head/norms at 2 B: 2 × (8,388,608/2 + 4,096 + 25,165,824/2) + 65,536,000 + 2,048.
    rel(weightReadTime(f), (2 * (4_194_304 + 4096 + 12_582_912) + 65_536_000 + 2048) / 2e12)
    rel(gemmComputeTime(f, batch), (1004 * 67_119_104 + 5 * 65_536_000) / 2e15)
    expect(f.lowPrecisionGemm).toBe(true)
  })

  it("Marlin weight-only GEMMs: INT4 everywhere, fp8 only where the GPU has no fp8 tensor cores", () => {
    const noFp8: GpuProfile = { ...tinyGpu, fp8Flops: 1e15, fp4Flops: 1e15 }
    expect(isMarlinGemm(tinyGpu, "int4")).toBe(true)
    expect(isMarlinGemm(tinyGpu, "fp8")).toBe(false)
    expect(isMarlinGemm(noFp8, "fp8")).toBe(true)
    expect(isMarlinGemm(noFp8, "fp4")).toBe(true)
    expect(isMarlinGemm(noFp8, "bf16")).toBe(false)
    expect(isMarlinGemm(noFp8, "fp16")).toBe(false)
    // No dequantization term unless the GEMMs are Marlin's.
    expect(marlinDequantTime(b, batch)).toBe(0)
    expect(marlinDequantTime(stepTimeBasis(setup({ precision: "fp8" })), batch)).toBe(0)
  })

  it("marlinDequantTime: the weights' MMA time for 64 rows (16-bit peak) per 64-row slice of each micro-batch", () => {
    // INT4 on the tiny GPU: 67,119,104 linear FLOPs per token / 1e15; 1,004 tokens = 16 slices of 64.
    const q = stepTimeBasis(setup({ precision: "int4" }))
    rel(marlinDequantTime(q, batch), (67_119_104 / 1e15) * 64 * 16)
    // Half a slice still pays a whole one; 64 tokens exactly pay one.
    rel(marlinDequantTime(q, { ...batch, numTokens: 1 }), (67_119_104 / 1e15) * 64)
    rel(marlinDequantTime(q, { ...batch, numTokens: 64 }), (67_119_104 / 1e15) * 64)
    rel(marlinDequantTime(q, { ...batch, numTokens: 65 }), (67_119_104 / 1e15) * 128)
    // fp8 without fp8 tensor cores: Marlin at the 16-bit peak (fp8Flops = bf16Flops here).
    const f = stepTimeBasis(setup({ precision: "fp8", gpu: { ...tinyGpu, fp8Flops: 1e15, fp4Flops: 1e15 } }))
    expect(f.marlinGemm).toBe(true)
    rel(marlinDequantTime(f, batch), (67_119_104 / 1e15) * 64 * 16)
    // pp = 2: each micro-batch of 502 tokens is 8 slices over half the layers, two micro-batches per step.
    const p = stepTimeBasis(setup({ precision: "int4", par: { tp: 1, pp: 2, ep: 1 } }))
    rel(marlinDequantTime(p, batch), (67_119_104 / 2 / 1e15) * 64 * 2 * 8)
    expect(marlinDequantTime(q, { ...batch, numTokens: 0 })).toBe(0)
  })

  it("fp8 KV cache halves the KV bytes", () => {
    rel(kvReadTime(stepTimeBasis(setup({ kvCacheDtype: "fp8" })), batch), (11_000 * 4096) / 2e12)
  })
})

describe("collectives and pipeline terms", () => {
  it("allReduceTime at tp = 2: 2 per layer, tokens × h × 2 B × 2(n−1)/n over one NVLink direction", () => {
    const b = stepTimeBasis(setup({ par: { tp: 2, pp: 1, ep: 1 } }))
    expect(ringAllReduceFactor(2)).toBe(1)
    expect(linkBandwidthOneWay(tinyGpu)).toBe(200e9)
    expect(allReduceCount(b)).toBe(4)
    rel(allReduceTime(b, batch), (4 * 1004 * 1024 * 2 * 1) / 200e9)
    // Compute and weights split over two GPUs.
    rel(gemmComputeTime(b, batch), (1004 * 67_119_104) / 2 / 1e15 + (5 * 65_536_000) / 2 / 1e15)
  })

  it("vLLM's custom all-reduce: one-shot ((n − 1) peer buffers) below its size limit, two-shot (ring bytes, extra latency) above", () => {
    // csrc/custom_all_reduce.cuh: 2 GPUs one-shot up to the 8 MiB custom limit; ≤ 4 below 512 KiB; ≤ 8 below 256 KiB.
    expect(oneShotAllReduceMaxBytes(2, true)).toBe(8 * 1024 * 1024)
    expect(oneShotAllReduceMaxBytes(4, true)).toBe(512 * 1024)
    expect(oneShotAllReduceMaxBytes(8, true)).toBe(256 * 1024)
    expect(oneShotAllReduceMaxBytes(4, false)).toBe(0)
    const b4 = stepTimeBasis(setup({ par: { tp: 4, pp: 1, ep: 1 } }))
    // h = 1024 → 2 KiB per token: one-shot below 256 tokens at tp 4.
    const small = { ...batch, numTokens: 255 }
    const large = { ...batch, numTokens: 256 }
    rel(allReduceTime(b4, small), (4 * 255 * 1024 * 2 * 3) / 200e9)
    expect(allReduceTwoShotCount(b4, small)).toBe(0)
    rel(allReduceTime(b4, large), (4 * 256 * 1024 * 2 * 1.5) / 200e9)
    expect(allReduceTwoShotCount(b4, large)).toBe(4)
    // Without NVLink vLLM runs NCCL on 4 GPUs: ring bytes and the extra latency at any size.
    const pcie = stepTimeBasis({ ...setup({ par: { tp: 4, pp: 1, ep: 1 } }), gpu: { ...tinyGpu, nvlinkBandwidth: 0 } })
    expect(allReduceTwoShotCount(pcie, { ...batch, numTokens: 1 })).toBe(4)
    // At tp 2 one-shot and ring move the same bytes; the 1,004-token batch (2 MB) is one-shot.
    const b2 = stepTimeBasis(setup({ par: { tp: 2, pp: 1, ep: 1 } }))
    expect(allReduceTwoShotCount(b2, batch)).toBe(0)
  })

  it("samplerFilterTime: vLLM's top-k/top-p filter, 0.1 ms + 0.147 ns per logit at H100 bandwidth, only when the requests filter", () => {
    expect(samplerFilterTime(stepTimeBasis(setup()), batch)).toBe(0)
    const b = stepTimeBasis({ ...setup(), topKTopPSampling: true })
    // 5 requests × 32,000 logits; the tiny GPU's 2 TB/s is 3.35 / 2 × slower than an H100 SXM per logit.
    rel(samplerFilterTime(b, batch), SAMPLER_FILTER_LAUNCH_SECONDS + 5 * 32000 * SAMPLER_FILTER_SECONDS_PER_LOGIT_H100 * (3.35e12 / 2e12))
    expect(samplerFilterTime(b, { ...batch, numTokens: 0, numReqs: 0 })).toBe(0)
  })

  it("penaltyTime: vLLM's penalties, 85 B per logit of every scheduled request at HBM bandwidth, only when the requests have penalties", () => {
    expect(penaltyTime(stepTimeBasis({ ...setup(), topKTopPSampling: true }), batch)).toBe(0)
    const b = stepTimeBasis({ ...setup(), samplingPenalties: true })
    // 5 requests × 32,000 logits × 85 B = 13.6 MB at the tiny GPU's 2 TB/s: 6.8 µs.
    rel(penaltyTime(b, batch), 6.8e-6)
    expect(penaltyTime(b, { ...batch, numTokens: 0, numReqs: 0 })).toBe(0)
  })

  it("ring factor 2(n−1)/n and the PCIe fallback when a GPU has no NVLink", () => {
    expect(ringAllReduceFactor(8)).toBe(1.75)
    expect(ringAllReduceFactor(1)).toBe(0)
    expect(linkBandwidthOneWay({ ...tinyGpu, nvlinkBandwidth: 0 })).toBe(32e9)
  })

  it("ppHandoffTime and the bubble factor at pp = 2", () => {
    const b = stepTimeBasis(setup({ par: { tp: 1, pp: 2, ep: 1 } }))
    expect(ppHandoffCount(b)).toBe(1)
    expect(ppBubbleFactor(b)).toBe(2)
    expect(stepCount(b)).toBe(2)
    // A micro-batch of half the tokens crosses one boundary: (1/2) · tokens · h · 2 B / 200 GB/s.
    rel(ppHandoffTime(b, batch), (0.5 * 1004 * 1024 * 2) / 200e9)
    // Both stages hold one layer; the worst stage's weights are read once per micro-batch (× 2).
    expect(layerCount(b)).toBe(2)
    expect(gemmKernelCount(b)).toBe(4 * 2 + 2)
  })
})

describe("all-reduce rank skew", () => {
  it("expectedMaxOfNormals: the known closed forms (n = 2: 1/√π, n = 3: 3/(2√π)) and the tabulated n = 4, 8", () => {
    expect(expectedMaxOfNormals(1)).toBe(0)
    expect(expectedMaxOfNormals(2)).toBeCloseTo(1 / Math.sqrt(Math.PI), 6)
    expect(expectedMaxOfNormals(3)).toBeCloseTo(3 / (2 * Math.sqrt(Math.PI)), 6)
    expect(expectedMaxOfNormals(4)).toBeCloseTo(1.02938, 4)
    expect(expectedMaxOfNormals(8)).toBeCloseTo(1.42360, 4)
  })

  it("allReduceRankCount: every all-reduce waits for the slowest of tp ranks (none at TP 1)", () => {
    expect(allReduceRankCount(stepTimeBasis(setup()))).toBe(0)
    const b4 = stepTimeBasis(setup({ par: { tp: 4, pp: 1, ep: 1 } }))
    expect(allReduceRankCount(b4)).toBeCloseTo(allReduceCount(b4) * expectedMaxOfNormals(4), 9)
  })
})

describe("MoE terms", () => {
  const moe: ModelProfile = { ...tinyModel, id: "test/moe", numExperts: 8, numExpertsPerTok: 2, moeIntermediateSize: 512 }
  const decode1: BatchShape = { ...batch, numReqs: 1, numTokens: 1, numPrefillReqs: 0, prefillTokens: 0, numDecodeReqs: 1, prefillAttentionWork: 0, prefillContextTokens: 0, decodeContextTokens: 100 }

  it("moeExpertWeightTime: one token touches k = 2 experts of 3·h·I bf16 weights in each of 2 layers", () => {
    const b = stepTimeBasis(setup({ model: moe }))
    rel(moeExpertWeightTime(b, decode1), (2 * 3 * 1024 * 512 * 2 * 2) / 2e12)
    // Many tokens touch all 8 experts at most.
    expect(moeExpertWeightTime(b, { ...decode1, numTokens: 10_000 })).toBeCloseTo((8 * 3 * 1024 * 512 * 2 * 2) / 2e12, 15)
  })

  it("moeComputeTime: 2·k·3·h·I FLOPs per token per MoE layer at the bf16 peak (fp8 weights too)", () => {
    rel(moeComputeTime(stepTimeBasis(setup({ model: moe })), batch), (1004 * 2 * 2 * 2 * 3 * 1024 * 512) / 1e15)
    rel(moeComputeTime(stepTimeBasis(setup({ model: moe, precision: "fp8" })), batch), (1004 * 2 * 2 * 2 * 3 * 1024 * 512) / 1e15)
    expect(moeLayerCount(stepTimeBasis(setup({ model: moe })))).toBe(2)
  })

  it("moeDispatchTime: k copies of each token's 16-bit hidden state per MoE layer, on every GPU whatever tp and ep", () => {
    const perToken = (2 * 2 * 1024 * 2) / 2e12 // k = 2 copies × 2 layers × h × 2 bytes / bandwidth
    rel(moeDispatchTime(stepTimeBasis(setup({ model: moe })), batch), 1004 * perToken)
    rel(moeDispatchTime(stepTimeBasis(setup({ model: moe, par: { tp: 2, pp: 1, ep: 1 } })), batch), 1004 * perToken)
    rel(moeDispatchTime(stepTimeBasis(setup({ model: moe, par: { tp: 2, pp: 1, ep: 2 } })), batch), 1004 * perToken)
    // Pipeline stages split the layers.
    rel(moeDispatchTime(stepTimeBasis(setup({ model: moe, par: { tp: 1, pp: 2, ep: 1 } })), batch), (1004 * perToken) / 2)
    expect(moeDispatchTime(stepTimeBasis(setup()), batch)).toBe(0)
  })

  it("expert parallelism: dispatch and combine replace the MoE all-reduce", () => {
    const b = stepTimeBasis(setup({ model: moe, par: { tp: 2, pp: 1, ep: 2 } }))
    expect(allReduceCount(b)).toBe(2) // attention only
    expect(moeAllToAllCount(b)).toBe(4)
    rel(moeAllToAllTime(b, batch), (4 * 1004 * 1024 * 2 * 0.5) / 200e9)
  })
})

describe("sliding-window layers", () => {
  const sw: ModelProfile = { ...tinyModel, id: "test/sw", slidingWindow: 128, numSlidingLayers: 1 }
  it("KV reads of a sliding layer stop at the window", () => {
    const b = stepTimeBasis(setup({ model: sw }))
    const d: BatchShape = { numReqs: 2, numTokens: 2, numPrefillReqs: 0, prefillTokens: 0, numDecodeReqs: 2, prefillAttentionWork: 0, prefillContextTokens: 0, decodeContextTokens: 2000 }
    // Full layer: 2000 tokens × 4096 B; sliding layer: 2 requests × 128 tokens × 4096 B.
    rel(kvReadTime(b, d), ((2000 + 256) * 4096) / 2e12)
  })
})
