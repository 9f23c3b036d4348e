import { describe, expect, test } from "vitest"
import { defaultStepTime } from "../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { lookupModel } from "../../src/hw/models.ts"
import {
  checkSpeculativeOptions,
  draftShape,
  expectedTokensPerStep,
  speculativeStepTime,
  verifyShape,
} from "../../src/hw/speculative-decoding.ts"
import { emptyBatchShape, zeroOverheads, type BatchShape, type StepTimeModel } from "../../src/hw/types.ts"

// A target whose time is easy to compute by hand: 10 ms + 0.1 ms per token + 0.1 µs per attention pair.
const linear: StepTimeModel = {
  name: "linear",
  overheads: zeroOverheads,
  stepTime: (b) => (b.numTokens <= 0 ? 0 : 0.01 + 1e-4 * b.numTokens + 1e-7 * (b.prefillAttentionWork + b.decodeContextTokens)),
}
// A purely memory-bound target: every step costs the same (weights dominate).
const flat: StepTimeModel = { name: "flat", overheads: zeroOverheads, stepTime: (b) => (b.numTokens > 0 ? 0.01 : 0) }
// A draft model: 2 ms + 10 µs per token.
const draft: StepTimeModel = { name: "draft", overheads: zeroOverheads, stepTime: (b) => (b.numTokens > 0 ? 0.002 + 1e-5 * b.numTokens : 0) }

/** Four decoding requests at context 100. */
const decode4: BatchShape = { ...emptyBatchShape(), numReqs: 4, numTokens: 4, numDecodeReqs: 4, decodeContextTokens: 400 }
/** One 512-token prefill chunk from scratch. */
const prefill512: BatchShape = {
  ...emptyBatchShape(),
  numReqs: 1,
  numTokens: 512,
  numPrefillReqs: 1,
  prefillTokens: 512,
  prefillAttentionWork: (512 * 513) / 2,
  prefillContextTokens: 512,
}
const mixed: BatchShape = {
  numReqs: 5,
  numTokens: 516,
  numPrefillReqs: 1,
  prefillTokens: 512,
  numDecodeReqs: 4,
  prefillAttentionWork: (512 * 513) / 2,
  prefillContextTokens: 512,
  decodeContextTokens: 400,
}

describe("expected tokens per step", () => {
  test("E = (1 − a^(k+1)) / (1 − a)", () => {
    expect(expectedTokensPerStep(3, 0)).toBe(1)
    expect(expectedTokensPerStep(3, 1)).toBe(4)
    expect(expectedTokensPerStep(3, 0.8)).toBeCloseTo((1 - 0.8 ** 4) / 0.2, 12)
    expect(expectedTokensPerStep(3, 0.999999)).toBeCloseTo(4, 4)
    expect(expectedTokensPerStep(1, 0.5)).toBe(1.5)
  })
})

describe("verification and draft shapes", () => {
  test("k+1 tokens per decode request attending over context + proposals", () => {
    const v = verifyShape(decode4, 3)
    expect(v.numTokens).toBe(16)
    expect(v.numReqs).toBe(4)
    expect(v.numDecodeReqs).toBe(0)
    expect(v.prefillTokens).toBe(16)
    // Σ (k+1)(c + k/2) = 4 × (100 + 1.5) × 4
    expect(v.prefillAttentionWork).toBe(4 * 4 * 101.5)
    expect(v.prefillContextTokens).toBe(4 * 103)
  })

  test("k = 0 verification is the decode step itself under the physics model", () => {
    const st = defaultStepTime({
      model: lookupModel("meta-llama/Llama-3.1-8B-Instruct")!,
      gpu: lookupGpu("h100-sxm")!,
      precision: "bf16",
      kvCacheDtype: "auto",
      par: { tp: 1, pp: 1, ep: 1 },
    })
    const big = { ...decode4, numReqs: 64, numTokens: 64, numDecodeReqs: 64, decodeContextTokens: 64 * 1500 }
    expect(st.stepTime(verifyShape(big, 0))).toBeCloseTo(st.stepTime(big), 12)
    expect(st.stepTime(verifyShape(big, 3))).toBeGreaterThan(st.stepTime(big))
  })

  test("draft pass j decodes one token per request at context + j; pass 0 also runs the prefill", () => {
    expect(draftShape(mixed, 0)).toEqual(mixed)
    expect(draftShape(mixed, 2)).toEqual({ ...decode4, decodeContextTokens: 408 })
  })
})

describe("speculative step time", () => {
  test("a = 0: no speedup, only the cost of verification (n-gram) — hand-computed", () => {
    const base = linear.stepTime(decode4) // 0.010 + 4e-4 + 400e-7
    expect(base).toBeCloseTo(0.01044, 12)
    const spec = speculativeStepTime(linear, { method: "ngram", numTokens: 3, acceptance: 0 })
    // verify: 16 tokens, 1624 attention pairs → 0.010 + 0.0016 + 0.0001624
    expect(spec.stepTime(decode4)).toBeCloseTo(0.0117624, 12)
    expect(spec.stepTime(decode4)).toBeGreaterThan(base)
  })

  test("a → 1: (k+1)× fewer steps when the step cost does not grow with the verified tokens", () => {
    const spec1 = speculativeStepTime(flat, { method: "ngram", numTokens: 3, acceptance: 1 })
    expect(spec1.stepTime(decode4)).toBeCloseTo(0.01 / 4, 12)
    const near1 = speculativeStepTime(flat, { method: "ngram", numTokens: 3, acceptance: 0.9999 })
    expect(flat.stepTime(decode4) / near1.stepTime(decode4)).toBeCloseTo(4, 2)
    // With the linear target, verification work eats part of the gain: 0.01044 / (0.0117624 / 4).
    const lin = speculativeStepTime(linear, { method: "ngram", numTokens: 3, acceptance: 1 })
    expect(lin.stepTime(decode4)).toBeCloseTo(0.0117624 / 4, 12)
  })

  test("a draft model adds k draft passes before dividing by E", () => {
    const spec = speculativeStepTime(linear, { method: "draft", numTokens: 3, acceptance: 0.8, draft })
    const draftTime = 3 * (0.002 + 4e-5)
    const e = (1 - 0.8 ** 4) / 0.2
    expect(spec.stepTime(decode4)).toBeCloseTo((0.0117624 + draftTime) / e, 12)
    // a = 0 with a draft model is slower still than without speculation.
    const none = speculativeStepTime(linear, { method: "draft", numTokens: 3, acceptance: 0, draft })
    expect(none.stepTime(decode4)).toBeCloseTo(0.0117624 + draftTime, 12)
  })

  test("prefill is charged in full; only the decode part is divided by E", () => {
    const spec = speculativeStepTime(linear, { method: "ngram", numTokens: 3, acceptance: 1 })
    const tPrefill = 0.01 + 512e-4 + ((512 * 513) / 2) * 1e-7
    expect(spec.stepTime(prefill512)).toBeCloseTo(linear.stepTime(prefill512), 12)
    expect(spec.stepTime(prefill512)).toBeCloseTo(tPrefill, 12)
    // full verify: 528 tokens, 131328 + 1624 pairs; decode part = full − prefill alone.
    const full = 0.01 + 528e-4 + (131328 + 1624) * 1e-7
    expect(spec.stepTime(mixed)).toBeCloseTo(tPrefill + (full - tPrefill) / 4, 12)
  })

  test("options are checked", () => {
    expect(checkSpeculativeOptions({ method: "draft", numTokens: 3, acceptance: 0.5 })).toMatch(/draft model/)
    expect(checkSpeculativeOptions({ method: "ngram", numTokens: 0, acceptance: 0.5 })).toMatch(/≥ 1/)
    expect(checkSpeculativeOptions({ method: "ngram", numTokens: 2, acceptance: 1.2 })).toMatch(/\[0, 1\]/)
    expect(() => speculativeStepTime(linear, { method: "ngram", numTokens: 2, acceptance: -1 })).toThrow(RangeError)
    expect(speculativeStepTime(linear, { method: "ngram", numTokens: 2, acceptance: 0.5 }).name).toContain("spec-ngram(k=2, a=0.5)")
  })
})
