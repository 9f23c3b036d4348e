import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultCoefficients } from "../../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../../src/hw/gpus.ts"
import { lookupModel } from "../../../src/hw/models.ts"
import { checkCoefficients, gemmRoofline, physicsStepTime, unitCoefficients } from "../../../src/hw/physics-step-time.ts"
import { stepTimeBasis, type HardwareSetup } from "../../../src/hw/step-time-terms.ts"
import type { BatchShape, Precision } from "../../../src/hw/types.ts"

const setup = (modelId: string, gpuId: string, precision: Precision): HardwareSetup => ({
  model: lookupModel(modelId)!,
  gpu: lookupGpu(gpuId)!,
  precision,
  kvCacheDtype: "auto",
  par: { tp: 1, pp: 1, ep: 1 },
})

/** n prefill tokens of one fresh request: no decode context, so attention is the chunk's own. */
const prefill = (n: number): BatchShape => ({
  numReqs: 1,
  numTokens: n,
  numPrefillReqs: 1,
  prefillTokens: n,
  numDecodeReqs: 0,
  prefillAttentionWork: (n * (n + 1)) / 2,
  prefillContextTokens: n,
  decodeContextTokens: 0,
})

describe("gemmRoofline", () => {
  it("known answers: softness 0 is the max, 1 the sum, 0.5 the Euclidean norm; at the ridge 2^s times either", () => {
    expect(gemmRoofline(3, 5, 0)).toBe(5)
    expect(gemmRoofline(5, 3, 0)).toBe(5)
    expect(gemmRoofline(3, 5, 1)).toBeCloseTo(8, 12)
    expect(gemmRoofline(3, 4, 0.5)).toBeCloseTo(5, 12)
    expect(gemmRoofline(2e-5, 2e-5, 0.25)).toBeCloseTo(2e-5 * 2 ** 0.25, 18)
    expect(gemmRoofline(0, 0, 0.5)).toBe(0)
    // Far from the ridge the p-norm is the max: 100× apart at p = 2 adds 0.005%.
    expect(gemmRoofline(1e-3, 1e-5, 0.5) / 1e-3 - 1).toBeCloseTo(0.00005, 7)
  })

  it("a small softness neither underflows nor overflows on microsecond times (p = 100)", () => {
    expect(gemmRoofline(1e-5, 1e-5, 0.01)).toBeCloseTo(1e-5 * 2 ** 0.01, 18)
    expect(gemmRoofline(1e-5, 0.5e-5, 0.01)).toBeCloseTo(1e-5, 18)
    // A softness so small that 1/s overflows: at the ridge 1 ** Infinity would be NaN.
    expect(gemmRoofline(1e-7, 1e-7, 5e-324)).toBe(1e-7)
  })

  it("lies between the max and the sum, grows with the softness, and scales with its arguments", () => {
    const t = fc.double({ min: 1e-7, max: 1, noNaN: true })
    const s = fc.double({ min: 0, max: 1, noNaN: true })
    fc.assert(
      fc.property(t, t, s, s, fc.double({ min: 0.01, max: 100, noNaN: true }), (c, w, s1, s2, k) => {
        const r = gemmRoofline(c, w, s1)
        expect(r).toBeGreaterThanOrEqual(Math.max(c, w) * (1 - 1e-12))
        expect(r).toBeLessThanOrEqual((c + w) * (1 + 1e-12))
        const [lo, hi] = s1 <= s2 ? [s1, s2] : [s2, s1]
        expect(gemmRoofline(c, w, lo)).toBeLessThanOrEqual(gemmRoofline(c, w, hi) * (1 + 1e-12))
        expect(gemmRoofline(k * c, k * w, s1)).toBeCloseTo(k * r, 9)
      }),
      { numRuns: 300 },
    )
  })

  it("softness is a coefficient in [0, 1]", () => {
    expect(checkCoefficients({ ...unitCoefficients, gemmKneeSoftness: 1 })).toBeUndefined()
    expect(checkCoefficients({ ...unitCoefficients, gemmKneeSoftness: 1.5 })).toBe("coefficient gemmKneeSoftness: 1.5 is outside [0, 1] (0 = max(compute, weights), 1 = their sum)")
  })
})

describe("the knee in a step", () => {
  const a100 = setup("meta-llama/Llama-3.1-8B", "a100-sxm", "bf16")
  const b = stepTimeBasis(a100)
  const c = { ...unitCoefficients, gemmCompute: 1.3, weightRead: 1.4 }
  // Tokens at which the dense GEMMs' compute time equals their weight time (lm_head counted per request).
  const ridge = (1.4 * b.weightReadSeconds - 1.3 * b.lmHeadSecondsPerRequest) / (1.3 * b.gemmSecondsPerToken)

  it("at the ridge a step is (2^s − 1) × the weight time slower than under the max rule", () => {
    const n = Math.round(ridge)
    expect(n).toBeGreaterThan(100) // an A100's bf16 ridge: ~150 rows at these efficiencies
    const compute = 1.3 * (b.gemmSecondsPerToken * n + b.lmHeadSecondsPerRequest)
    const weights = 1.4 * b.weightReadSeconds
    const s = 0.44
    const soft = physicsStepTime({ ...a100, coefficients: { ...c, gemmKneeSoftness: s } }).stepTime(prefill(n))
    const hard = physicsStepTime({ ...a100, coefficients: c }).stepTime(prefill(n))
    expect(soft - hard).toBeCloseTo((compute ** (1 / s) + weights ** (1 / s)) ** s - Math.max(compute, weights), 12)
    expect((soft - hard) / weights).toBeGreaterThan(2 ** s - 1 - 0.01)
    expect((soft - hard) / weights).toBeLessThan(2 ** s - 1 + 0.01)
  })

  it("a decode of 1 token and a 8192-token prefill barely notice it (< 0.1% of the GEMM time)", () => {
    for (const n of [1, 8192]) {
      const soft = physicsStepTime({ ...a100, coefficients: { ...c, gemmKneeSoftness: 0.44 } }).stepTime(prefill(n))
      const hard = physicsStepTime({ ...a100, coefficients: c }).stepTime(prefill(n))
      const gemm = Math.max(1.3 * (b.gemmSecondsPerToken * n + b.lmHeadSecondsPerRequest), 1.4 * b.weightReadSeconds)
      expect(soft).toBeGreaterThan(hard)
      expect((soft - hard) / gemm).toBeLessThan(1e-3)
    }
  })

  it("Marlin GEMMs (INT4 on an A100) keep the max rule whatever the softness", () => {
    const int4 = setup("meta-llama/Llama-3.1-8B", "a100-sxm", "int4")
    const at = (s: number) => physicsStepTime({ ...int4, coefficients: { ...c, gemmKneeSoftness: s } }).stepTime(prefill(48))
    expect(at(0.8)).toBe(at(0))
  })

  it("shipped: ampere has a knee (A100 GEMM table), hopper keeps exactly the max rule", () => {
    expect(defaultCoefficients(lookupGpu("a100-sxm")!).gemmKneeSoftness).toBeGreaterThan(0.2)
    expect(defaultCoefficients(lookupGpu("a100-sxm")!).gemmKneeSoftness).toBeLessThan(0.8)
    for (const g of ["h100-sxm", "h200-sxm", "b200-sxm"]) expect(defaultCoefficients(lookupGpu(g)!).gemmKneeSoftness, g).toBe(0)
  })
})
