import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { coefficientGeneration, coefficientsFor, defaultCoefficients, defaultCoefficientsFile, defaultStepTime } from "../../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../../src/hw/gpus.ts"
import { lookupModel } from "../../../src/hw/models.ts"
import {
  checkCoefficients,
  COEFFICIENT_NAMES,
  physicsStepTime,
  rooflineStepTime,
  unitCoefficients,
  type StepTimeCoefficients,
} from "../../../src/hw/physics-step-time.ts"
import { allReduceTime, attentionComputeTime, gemmComputeTime, stepTerms, stepTimeBasis, type HardwareSetup } from "../../../src/hw/step-time-terms.ts"
import type { BatchShape, GpuProfile, ModelProfile, Parallelism, Precision } from "../../../src/hw/types.ts"

const gpu = (id: string): GpuProfile => {
  const g = lookupGpu(id)
  if (g === undefined) throw new Error(id)
  return g
}
const model = (id: string): ModelProfile => {
  const m = lookupModel(id)
  if (m === undefined) throw new Error(id)
  return m
}

const setupOf = (m: string, g: string, precision: Precision, par: Parallelism): HardwareSetup => ({
  model: model(m),
  gpu: gpu(g),
  precision,
  kvCacheDtype: "auto",
  par,
})

const perChannelFp8 = (s: HardwareSetup): HardwareSetup => ({ ...s, model: { ...s.model, expertScalesPerChannel: true } })

const SETUPS: ReadonlyArray<HardwareSetup> = [
  setupOf("meta-llama/Llama-3.1-8B", "h100-sxm", "bf16", { tp: 1, pp: 1, ep: 1 }),
  setupOf("meta-llama/Llama-3.1-70B", "a800-sxm", "bf16", { tp: 4, pp: 1, ep: 1 }),
  setupOf("Qwen/Qwen3-32B", "h200-sxm", "fp8", { tp: 2, pp: 2, ep: 1 }),
  setupOf("mistralai/Mixtral-8x7B-v0.1", "a100-sxm", "bf16", { tp: 2, pp: 1, ep: 2 }),
  setupOf("openai/gpt-oss-120b", "h100-sxm", "fp4", { tp: 2, pp: 1, ep: 1 }),
  setupOf("deepseek-ai/DeepSeek-V3", "b200-sxm", "fp8", { tp: 8, pp: 1, ep: 8 }),
  setupOf("Qwen/Qwen2.5-7B", "l40s", "int4", { tp: 1, pp: 1, ep: 1 }),
  setupOf("Qwen/Qwen3-14B", "a100-sxm", "fp8", { tp: 1, pp: 2, ep: 1 }),
  // Per-channel fp8 experts (a RedHatAI FP8-dynamic checkpoint) on Hopper: CUTLASS grouped GEMMs.
  perChannelFp8(setupOf("mistralai/Mixtral-8x7B-v0.1", "h100-sxm", "fp8", { tp: 2, pp: 1, ep: 1 })),
]

/** A consistent batch: prefill chunks (size, cached prefix before it) and decodes (context each). */
interface BatchSpec {
  readonly chunks: ReadonlyArray<{ readonly size: number; readonly cached: number }>
  readonly decodes: ReadonlyArray<number>
}

const toBatch = (s: BatchSpec): BatchShape => {
  let prefillTokens = 0
  let work = 0
  let pctx = 0
  for (const c of s.chunks) {
    prefillTokens += c.size
    work += c.size * (c.cached + (c.size + 1) / 2)
    pctx += c.cached + c.size
  }
  const dctx = s.decodes.reduce((a, b) => a + b, 0)
  return {
    numReqs: s.chunks.length + s.decodes.length,
    numTokens: prefillTokens + s.decodes.length,
    numPrefillReqs: s.chunks.length,
    prefillTokens,
    numDecodeReqs: s.decodes.length,
    prefillAttentionWork: work,
    prefillContextTokens: pctx,
    decodeContextTokens: dctx,
  }
}

const batchSpec = fc.record({
  chunks: fc.array(fc.record({ size: fc.integer({ min: 2, max: 4096 }), cached: fc.integer({ min: 0, max: 8192 }) }), { maxLength: 4 }),
  decodes: fc.array(fc.integer({ min: 1, max: 32768 }), { maxLength: 256 }),
})
const nonEmpty = batchSpec.filter((s) => s.chunks.length + s.decodes.length > 0)

/** (x^p + y^p)^(1/p) with p = 1/s, written directly (s = 0: the max). */
const pNorm = (x: number, y: number, s: number): number => (s === 0 ? Math.max(x, y) : (x ** (1 / s) + y ** (1 / s)) ** s)

/** Σ coefficient × term with the documented rule, computed independently of the folded fast path. */
const referenceStepTime = (setup: HardwareSetup, c: StepTimeCoefficients, batch: BatchShape): number => {
  if (batch.numTokens <= 0) return 0
  const b = stepTimeBasis(setup)
  const t = stepTerms(b, batch)
  const low = b.lowPrecisionGemm
  const gpu =
    pNorm((low ? c.gemmComputeLowPrecision : c.gemmCompute) * t.gemmComputeTime + c.marlinDequant * t.marlinDequantTime, c.weightRead * t.weightReadTime, b.marlinGemm ? 0 : c.gemmKneeSoftness) +
    (b.quantizedExperts ? c.moeQuantizedServed : 1) * (c.moeCompute * t.moeComputeTime + c.moeDispatch * t.moeDispatchTime) +
    (b.cutlassExperts ? c.moeCutlassExpertWeight : 1) * c.moeExpertWeight * t.moeExpertWeightTime +
    (c.moeLayerLatency + (b.cutlassExperts ? c.moeCutlassLayerLatency : 0)) * t.moeLayerCount +
    c.attentionCompute * t.attentionComputeTime +
    c.kvRead * (b.fp8KvCache ? c.kvReadFp8 : 1) * t.kvReadTime +
    c.attentionPerSlot * t.attentionSlotCount +
    c.elementwise * t.elementwiseTime +
    c.allReduceLatency * t.allReduceCount +
    c.allReduceTwoShotLatency * t.allReduceTwoShotCount +
    c.allReduceRankSkew * t.allReduceRankCount +
    c.allReduceBandwidth * t.allReduceTime +
    c.moeAllToAllLatency * t.moeAllToAllCount +
    c.moeAllToAllBandwidth * t.moeAllToAllTime +
    c.ppHandoffLatency * t.ppHandoffCount +
    c.ppHandoffBandwidth * t.ppHandoffTime +
    (low ? c.gemmKernelLatencyLowPrecision : c.gemmKernelLatency) * t.gemmKernelCount +
    c.layerLaunch * t.layerCount +
    t.samplerFilterTime +
    c.elementwise * t.penaltyTime
  const cpu = c.stepOverhead * t.stepCount + c.perRequestStepOverhead * t.scheduledRequestCount
  return setup.asyncScheduling === true ? Math.max(gpu, cpu) : gpu + cpu
}

const coefficientArb = fc
  .tuple(...COEFFICIENT_NAMES.map(() => fc.double({ min: 0, max: 5, noNaN: true })))
  .map((vs) =>
    Object.fromEntries(
      COEFFICIENT_NAMES.map((k, i) => {
        const v = vs[i] as number
        // gemmKneeSoftness lies in [0, 1]; half the draws keep the max rule (0).
        if (k === "gemmKneeSoftness") return [k, v < 2.5 ? 0 : (v - 2.5) / 2.5]
        return [k, k.endsWith("Latency") || k.endsWith("Overhead") || k === "layerLaunch" || k === "attentionPerSlot" ? v * 1e-5 : v]
      }),
    ) as unknown as StepTimeCoefficients,
  )

describe("physicsStepTime", () => {
  it("equals Σ coefficient × term with the max(compute, weights) rule (p-norm with gemmKneeSoftness > 0, not for Marlin), plus CPU time (or max with it under async scheduling)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SETUPS.length - 1 }), coefficientArb, nonEmpty, fc.boolean(), fc.boolean(), fc.boolean(), (i, c, spec, asyncScheduling, topKTopPSampling, samplingPenalties) => {
        const setup = { ...(SETUPS[i] as HardwareSetup), asyncScheduling, topKTopPSampling, samplingPenalties }
        const batch = toBatch(spec)
        const fast = physicsStepTime({ ...setup, coefficients: c }).stepTime(batch)
        const ref = referenceStepTime(setup, c, batch)
        expect(Math.abs(fast - ref)).toBeLessThanOrEqual(1e-12 + 1e-9 * ref)
      }),
      { numRuns: 300 },
    )
  })

  it("prices CUTLASS grouped-GEMM experts (per-channel fp8 on Hopper/Blackwell) with their own coefficients, and nothing else", () => {
    const cutlass = perChannelFp8(setupOf("mistralai/Mixtral-8x7B-v0.1", "h100-sxm", "fp8", { tp: 2, pp: 1, ep: 1 }))
    const triton = { ...cutlass, gpu: gpu("l40s") } // Ada: vLLM's Triton fused-MoE path
    const block = setupOf("mistralai/Mixtral-8x7B-v0.1", "h100-sxm", "fp8", { tp: 2, pp: 1, ep: 1 })
    expect([stepTimeBasis(cutlass).cutlassExperts, stepTimeBasis(triton).cutlassExperts, stepTimeBasis(block).cutlassExperts]).toEqual([true, false, false])
    const batch = toBatch({ chunks: [], decodes: Array.from({ length: 8 }, () => 500) })
    const own = { ...unitCoefficients, moeCutlassExpertWeight: 0.8, moeCutlassLayerLatency: 2e-5 }
    const t = stepTerms(stepTimeBasis(cutlass), batch)
    const at = (s: HardwareSetup, c: StepTimeCoefficients): number => physicsStepTime({ ...s, coefficients: c }).stepTime(batch)
    expect(at(cutlass, unitCoefficients) - at(cutlass, own)).toBeCloseTo(0.2 * t.moeExpertWeightTime - 2e-5 * t.moeLayerCount, 12)
    expect(at(triton, own)).toBe(at(triton, unitCoefficients))
    expect(at(block, own)).toBe(at(block, unitCoefficients))
  })

  it("prices an fp8 KV cache's reads at kvRead × kvReadFp8 per byte, and a 16-bit cache's at kvRead alone", () => {
    const auto = setupOf("meta-llama/Llama-2-7b-hf", "h100-sxm", "bf16", { tp: 1, pp: 1, ep: 1 })
    const fp8 = { ...auto, kvCacheDtype: "fp8" as const }
    expect([stepTimeBasis(auto).fp8KvCache, stepTimeBasis(fp8).fp8KvCache]).toEqual([false, true])
    const batch = toBatch({ chunks: [], decodes: Array.from({ length: 16 }, () => 2000) })
    const base = { ...unitCoefficients, kvRead: 1.1 }
    const at = (s: HardwareSetup, c: StepTimeCoefficients): number => physicsStepTime({ ...s, coefficients: c }).stepTime(batch)
    // fp8 elements are half the bytes: the term's roofline time halves, the multiplier prices the dequantization.
    const t = stepTerms(stepTimeBasis(fp8), batch)
    expect(t.kvReadTime).toBeCloseTo(stepTerms(stepTimeBasis(auto), batch).kvReadTime / 2, 15)
    expect(at(fp8, { ...base, kvReadFp8: 1.5 }) - at(fp8, base)).toBeCloseTo(1.1 * 0.5 * t.kvReadTime, 12)
    expect(at(auto, { ...base, kvReadFp8: 1.5 })).toBe(at(auto, base))
  })

  it("an empty step takes no time", () => {
    for (const s of SETUPS) expect(defaultStepTime(s).stepTime(toBatch({ chunks: [], decodes: [] }))).toBe(0)
  })

  it("rejects negative or non-finite coefficients", () => {
    expect(checkCoefficients(unitCoefficients)).toBeUndefined()
    expect(checkCoefficients({ ...unitCoefficients, kvRead: -1 })).toMatch(/kvRead/)
    expect(checkCoefficients({ ...unitCoefficients, stepOverhead: NaN })).toMatch(/stepOverhead/)
    expect(() => physicsStepTime({ ...(SETUPS[0] as HardwareSetup), coefficients: { ...unitCoefficients, weightRead: -0.5 } })).toThrow(/weightRead/)
  })
})

describe("monotonicity", () => {
  it("more tokens never make a step faster (one more decode, or a longer prefill chunk)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SETUPS.length - 1 }), nonEmpty, fc.integer({ min: 1, max: 32768 }), fc.integer({ min: 1, max: 2048 }), (i, spec, ctx, extra) => {
        const setup = SETUPS[i] as HardwareSetup
        for (const st of [defaultStepTime(setup), rooflineStepTime({ ...setup, stepOverhead: 1e-3 })]) {
          const base = st.stepTime(toBatch(spec))
          expect(st.stepTime(toBatch({ ...spec, decodes: [...spec.decodes, ctx] }))).toBeGreaterThanOrEqual(base)
          if (spec.chunks.length > 0) {
            const [first, ...rest] = spec.chunks
            const longer = { ...spec, chunks: [{ size: first!.size + extra, cached: first!.cached }, ...rest] }
            expect(st.stepTime(toBatch(longer))).toBeGreaterThanOrEqual(base)
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it("more context never makes a decode faster", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SETUPS.length - 1 }), fc.array(fc.integer({ min: 1, max: 32768 }), { minLength: 1, maxLength: 128 }), fc.integer({ min: 1, max: 8192 }), (i, decodes, more) => {
        const st = defaultStepTime(SETUPS[i] as HardwareSetup)
        const longer = [...decodes]
        longer[0] = (longer[0] as number) + more
        expect(st.stepTime(toBatch({ chunks: [], decodes: longer }))).toBeGreaterThanOrEqual(st.stepTime(toBatch({ chunks: [], decodes })))
      }),
      { numRuns: 200 },
    )
  })

  it("more HBM bandwidth never makes a decode step slower", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SETUPS.length - 1 }),
        fc.array(fc.integer({ min: 1, max: 32768 }), { minLength: 1, maxLength: 256 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        (i, decodes, k) => {
          const s = SETUPS[i] as HardwareSetup
          const faster = { ...s, gpu: { ...s.gpu, memoryBandwidth: s.gpu.memoryBandwidth * k } }
          const b = toBatch({ chunks: [], decodes })
          expect(defaultStepTime(faster).stepTime(b)).toBeLessThanOrEqual(defaultStepTime(s).stepTime(b))
          expect(rooflineStepTime(faster).stepTime(b)).toBeLessThanOrEqual(rooflineStepTime(s).stepTime(b))
        },
      ),
      { numRuns: 200 },
    )
  })

  it("a bigger TP never makes the pure compute terms slower", () => {
    const models = ["meta-llama/Llama-3.1-70B", "Qwen/Qwen3-32B", "mistralai/Mixtral-8x7B-v0.1", "meta-llama/Llama-2-7b-hf"]
    fc.assert(
      fc.property(fc.constantFrom(...models), fc.constantFrom(1, 2, 4), nonEmpty, (m, tp, spec) => {
        const b = toBatch(spec)
        const small = stepTimeBasis(setupOf(m, "h100-sxm", "bf16", { tp, pp: 1, ep: 1 }))
        const big = stepTimeBasis(setupOf(m, "h100-sxm", "bf16", { tp: tp * 2, pp: 1, ep: 1 }))
        expect(gemmComputeTime(big, b)).toBeLessThanOrEqual(gemmComputeTime(small, b))
        expect(attentionComputeTime(big, b)).toBeLessThanOrEqual(attentionComputeTime(small, b))
        expect(big.weightReadSeconds).toBeLessThanOrEqual(small.weightReadSeconds)
      }),
      { numRuns: 200 },
    )
  })
})

describe("A800 against A100 (same silicon, NVLink 400 vs 600 GB/s)", () => {
  const a800 = setupOf("meta-llama/Llama-3.1-70B", "a800-sxm", "bf16", { tp: 2, pp: 1, ep: 1 })
  const a100 = setupOf("meta-llama/Llama-3.1-70B", "a100-sxm", "bf16", { tp: 2, pp: 1, ep: 1 })
  const prefill = toBatch({ chunks: [{ size: 4096, cached: 0 }], decodes: [] })
  const decode = toBatch({ chunks: [], decodes: Array.from({ length: 32 }, () => 2048) })

  it("the all-reduce payload takes 1.5× as long on A800 at TP = 2", () => {
    const t800 = allReduceTime(stepTimeBasis(a800), prefill)
    const t100 = allReduceTime(stepTimeBasis(a100), prefill)
    expect(t800).toBeGreaterThan(t100)
    expect(t800 / t100).toBeCloseTo(1.5, 12)
  })

  it("the default model: A800 uses the ampere coefficients and is slower on a prefill, nearly equal on a decode", () => {
    expect(coefficientGeneration(a800.gpu)).toBe("ampere")
    expect(defaultCoefficients(a800.gpu)).toEqual(defaultCoefficients(a100.gpu))
    const p800 = defaultStepTime(a800).stepTime(prefill)
    const p100 = defaultStepTime(a100).stepTime(prefill)
    expect(p800).toBeGreaterThan(p100)
    const d800 = defaultStepTime(a800).stepTime(decode)
    const d100 = defaultStepTime(a100).stepTime(decode)
    expect(d800).toBeGreaterThan(d100)
    expect(d800 / d100).toBeLessThan(1.02)
  })

  it("the positional form gives the same model", () => {
    const a = defaultStepTime(a800)
    const b = defaultStepTime(a800.model, a800.gpu, a800.precision, a800.kvCacheDtype, a800.par)
    expect(b.stepTime(prefill)).toBe(a.stepTime(prefill))
    expect(b.name).toBe(a.name)
  })
})

describe("shipped coefficients", () => {
  it("cover ampere and hopper; GPUs without kernel data fall back by generation", () => {
    expect(Object.keys(defaultCoefficientsFile.generations).sort()).toEqual(["ampere", "hopper"])
    expect(coefficientGeneration(gpu("h800-sxm"))).toBe("hopper")
    expect(coefficientGeneration(gpu("h200-sxm"))).toBe("hopper")
    expect(coefficientGeneration(gpu("l40s"))).toBe("ampere")
    expect(coefficientGeneration(gpu("rtx-4090"))).toBe("ampere")
    expect(coefficientGeneration(gpu("b200-sxm"))).toBe("hopper")
    for (const g of Object.values(defaultCoefficientsFile.generations)) expect(checkCoefficients(g.coefficients)).toBeUndefined()
  })

  it("efficiencies are physical: ≥ the datasheet (multipliers ≥ 1), kernel latencies below a millisecond, CPU per step below 5 ms", () => {
    for (const g of Object.values(defaultCoefficientsFile.generations)) {
      const c = g.coefficients
      for (const k of ["gemmCompute", "gemmComputeLowPrecision", "weightRead", "kvRead", "attentionCompute", "moeCompute", "moeDispatch", "moeQuantizedServed", "moeExpertWeight", "allReduceBandwidth"] as const)
        expect(c[k], k).toBeGreaterThanOrEqual(1)
      for (const k of ["allReduceLatency", "allReduceRankSkew", "gemmKernelLatency", "layerLaunch", "moeLayerLatency"] as const) expect(c[k], k).toBeLessThan(1e-3)
      // A synchronously scheduling server's CPU time per step (vLLM < 0.14; the pre-V1 tables fit 3.1–3.5 ms).
      expect(c.stepOverhead).toBeLessThan(5e-3)
    }
  })

  it("GPUs with their own kernel tables use their own memory efficiencies; others their generation's pooled one", () => {
    const pooled = defaultCoefficientsFile.generations.hopper!.coefficients
    const h100 = defaultCoefficients(gpu("h100-sxm"))
    const h200 = defaultCoefficients(gpu("h200-sxm"))
    const h800 = defaultCoefficients(gpu("h800-sxm"))
    expect(h100.weightRead).toBe(defaultCoefficientsFile.gpuOverrides!["h100-sxm"]!.weightRead)
    expect(h100.weightRead).toBeLessThan(h200.weightRead) // HBM3 reaches more of its datasheet than HBM3e
    expect(h800.weightRead).toBe(pooled.weightRead)
    expect(h100.gemmCompute).toBe(pooled.gemmCompute)
  })

  it("a bf16 MoE whose exact expert shape the kernel table timed uses that shape's own fit; quantized experts do not", () => {
    const mixtral = setupOf("mistralai/Mixtral-8x7B-v0.1", "h100-sxm", "bf16", { tp: 2, pp: 1, ep: 1 })
    const own = defaultCoefficientsFile.moeShapeOverrides!["4096x14336x8x2"]!["h100-sxm"]!
    expect(coefficientsFor(mixtral).moeExpertWeight).toBe(own.moeExpertWeight)
    expect(coefficientsFor({ ...mixtral, precision: "fp8" }).moeExpertWeight).toBe(defaultCoefficients(gpu("h100-sxm")).moeExpertWeight)
    // gpt-oss's MXFP4 experts (2880 × 2880, 128, top-4) are neither bf16 nor a timed shape.
    const gptOss = setupOf("openai/gpt-oss-120b", "h100-sxm", "fp4", { tp: 2, pp: 1, ep: 1 })
    expect(coefficientsFor(gptOss)).toEqual(defaultCoefficients(gpu("h100-sxm")))
    // No shape streams its experts faster than the datasheet, and every fitted value is usable.
    for (const byGpu of Object.values(defaultCoefficientsFile.moeShapeOverrides!))
      for (const c of Object.values(byGpu)) {
        expect(c.moeExpertWeight).toBeGreaterThanOrEqual(1)
        expect(checkCoefficients({ ...unitCoefficients, ...c })).toBeUndefined()
      }
  })

  it("Marlin on an A100: fp8 and INT4 decode faster than bf16 (fewer bytes), a long prefill slower (dequantization); H100 fp8 unaffected", () => {
    const decode = toBatch({ chunks: [], decodes: [1000] })
    const prefill = toBatch({ chunks: [{ size: 4096, cached: 0 }], decodes: [] })
    const at = (g: string, p: Precision) => defaultStepTime(setupOf("Qwen/Qwen3-14B", g, p, { tp: 1, pp: 1, ep: 1 }))
    const bf16 = at("a100-sxm", "bf16")
    for (const p of ["fp8", "int4"] as const) {
      expect(at("a100-sxm", p).stepTime(decode)).toBeLessThan(bf16.stepTime(decode))
      // 4096 tokens = 64 slices: the compute-bound GEMMs cost (gemmCompute + marlinDequant) / gemmCompute
      // of bf16's, the other terms (attention, elementwise) the same. Marlin keeps the max rule, so the
      // bf16 reference here is taken without the A100's cuBLAS knee.
      const c = defaultCoefficients(gpu("a100-sxm"))
      const b = stepTimeBasis(setupOf("Qwen/Qwen3-14B", "a100-sxm", p, { tp: 1, pp: 1, ep: 1 }))
      const extra = c.marlinDequant * b.gemmSecondsPerToken * 4096
      const bf16Max = physicsStepTime({ ...setupOf("Qwen/Qwen3-14B", "a100-sxm", "bf16", { tp: 1, pp: 1, ep: 1 }), coefficients: { ...c, gemmKneeSoftness: 0 } })
      expect(at("a100-sxm", p).stepTime(prefill)).toBeCloseTo(bf16Max.stepTime(prefill) + extra, 9)
    }
    // H100 has fp8 tensor cores: fp8 runs W8A8 there, no dequantization term.
    const h = setupOf("Qwen/Qwen3-14B", "h100-sxm", "fp8", { tp: 1, pp: 1, ep: 1 })
    expect(stepTimeBasis(h).marlinGemm).toBe(false)
    expect(physicsStepTime({ ...h, coefficients: { ...defaultCoefficients(gpu("h100-sxm")), marlinDequant: 5 } }).stepTime(prefill)).toBe(defaultStepTime(h).stepTime(prefill))
  })

  it("async scheduling hides CPU time behind the GPU's: a step takes max(GPU, CPU), not their sum", () => {
    const base = setupOf("meta-llama/Llama-3.1-8B-Instruct", "h100-sxm", "bf16", { tp: 1, pp: 1, ep: 1 })
    const c = { ...unitCoefficients, stepOverhead: 0.002 }
    const batch = toBatch({ chunks: [], decodes: [1000] })
    const gpuOnly = physicsStepTime({ ...base, coefficients: unitCoefficients }).stepTime(batch)
    expect(physicsStepTime({ ...base, coefficients: c }).stepTime(batch)).toBeCloseTo(gpuOnly + 0.002, 12)
    expect(physicsStepTime({ ...base, asyncScheduling: true, coefficients: c }).stepTime(batch)).toBeCloseTo(Math.max(gpuOnly, 0.002), 12)
    const slowCpu = { ...unitCoefficients, stepOverhead: 1 }
    expect(physicsStepTime({ ...base, asyncScheduling: true, coefficients: slowCpu }).stepTime(batch)).toBe(1)
  })
})

describe("speed", () => {
  it("a million steps in well under a second each way (no allocation per call)", () => {
    const st = defaultStepTime(setupOf("mistralai/Mixtral-8x7B-v0.1", "h100-sxm", "bf16", { tp: 2, pp: 1, ep: 1 }))
    const batches = Array.from({ length: 64 }, (_, i) => toBatch({ chunks: i % 4 === 0 ? [{ size: 512, cached: i * 16 }] : [], decodes: Array.from({ length: 1 + i }, (_, j) => 100 + 37 * j) }))
    let sink = 0
    // CPU time of this test process, not wall time: a busy host slows the wall clock, not the CPU work.
    // It takes ≈ 0.35 s here; the 2 s bound is for slower CPUs, not for a busy one.
    const t0 = process.cpuUsage()
    for (let i = 0; i < 1_000_000; i++) sink += st.stepTime(batches[i & 63] as BatchShape)
    const used = process.cpuUsage(t0)
    const cpuMs = (used.user + used.system) / 1000
    expect(sink).toBeGreaterThan(0)
    expect(cpuMs, "CPU ms for a million step times").toBeLessThan(2000)
  })
})
