import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { fitMarlinDequant, MARLIN_A100_SWEEP, marlinGemmSeconds, sweepWeights, type MarlinRow } from "../../../src/calibrate/defaults/fit-marlin.ts"
import { defaultCoefficientsFile } from "../../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../../src/hw/gpus.ts"
import type { GpuProfile } from "../../../src/hw/types.ts"

const a100 = lookupGpu("a100-sxm") as GpuProfile
const base = { gemmCompute: 1.3, weightRead: 1.35, gemmKernelLatency: 6e-6 }

/** Rows whose TFLOP/s the model itself produces at dequantization coefficient d (weights W). */
const synthetic = (d: number, w: number): MarlinRow[] =>
  [1, 8, 32, 64, 100, 256, 1000, 4000].map((batch) => {
    const t = marlinGemmSeconds(a100, base, d, w, batch)
    return { batch, seconds: t, tflops: (2 * batch * w) / t / 1e12, speedup: 1 }
  })

describe("Marlin dequantization fit (vllm#2497 A100 sweep)", () => {
  it("the swept matrix has 3.13e8 weights (its two longest runs agree to 0.1%)", () => {
    const w = sweepWeights(MARLIN_A100_SWEEP)
    expect(w).toBeGreaterThan(3.12e8)
    expect(w).toBeLessThan(3.14e8)
  })

  it("marlinGemmSeconds: memory-bound at 4 bits per weight for one row, MMA + dequantization per 64-row slice beyond", () => {
    const w = 1e9
    // batch 1: max(1.3·2e9/312e12 + 0.5·128e9/312e12, 1.35·0.5e9/2.039e12) + 6 µs
    const one = Math.max((1.3 * 2e9) / 312e12 + (0.5 * 128e9) / 312e12, (1.35 * 0.5e9) / 2.039e12) + 6e-6
    expect(marlinGemmSeconds(a100, base, 0.5, w, 1)).toBeCloseTo(one, 12)
    // batch 640 = 10 slices: (1.3 · 1280e9 + 0.5 · 10 · 128e9) / 312e12 + 6 µs (compute-bound)
    expect(marlinGemmSeconds(a100, base, 0.5, w, 640)).toBeCloseTo((1.3 * 1280e9 + 0.5 * 1280e9) / 312e12 + 6e-6, 12)
  })

  it("recovers the coefficient that generated the rows", () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 4, noNaN: true }), (d) => {
        const rows = synthetic(d, sweepWeights(MARLIN_A100_SWEEP))
        expect(fitMarlinDequant(a100, base, rows)).toBeCloseTo(d, 4)
      }),
      { numRuns: 20 },
    )
  })

  it("on the A100 sweep: the large-batch plateau (141 TFLOP/s) within 2%, and 0 for the generation it does not apply to", () => {
    const c = defaultCoefficientsFile.generations.ampere!.coefficients
    expect(c.marlinDequant).toBeGreaterThan(0.5)
    expect(c.marlinDequant).toBeLessThan(1.5)
    const w = sweepWeights(MARLIN_A100_SWEEP)
    const t = marlinGemmSeconds(a100, c, c.marlinDequant, w, 4000)
    expect((2 * 4000 * w) / t / 1e12 / 141.124).toBeCloseTo(1, 1)
    // Hopper has fp8 tensor cores and no Marlin sweep: no dequantization term fitted.
    expect(defaultCoefficientsFile.generations.hopper!.coefficients.marlinDequant).toBe(0)
  })
})
