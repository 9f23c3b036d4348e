// Speculative decoding as a step-time wrapper (what-if knob; Leviathan et al. 2023, and the step-time
// form of Erdil, arXiv 2506.04645: t_eff = [t_target(s = γ+1) + γ·t_draft] / E[tok]). Pure.
//
// Real engine: every step, each decoding request has k tokens proposed (by k forward passes of a draft
// model, or by an n-gram lookup in its own context), the target verifies the k+1 positions in one
// forward pass, and the request emits 1..k+1 tokens — on average, with an i.i.d. per-token acceptance
// rate a, E = (1 − a^(k+1)) / (1 − a) (E = k+1 at a = 1).
//
// Simulated engine: emits exactly one token per decoding request per step. So the wrapper charges each
// simulated step the time per *emitted* token of its decode part:
//
//   step = t_prefill + (t_target(verify) + t_draft − t_prefill) / E
//
// where t_prefill is the target's time for the step's prefill chunks alone, t_target(verify) the target's
// time for the step with every decode request widened to a k+1-token chunk (attending over its context
// plus the k proposals), and t_draft the k draft passes (the first also runs the step's prefill chunks
// through the draft; n-gram proposals cost nothing on the GPU). Pure-prefill steps are unchanged.
//
// What this captures: mean TPOT, decode throughput and the GPU time (hence cost) per output token,
// including the verification overhead — at a = 0 spec decoding only costs (E = 1, the step is the
// verify pass plus the draft passes); at a → 1 a pure decode step takes (t_verify + t_draft)/(k+1).
//
// What it does not capture:
// - ITL burstiness: real tokens arrive in bursts of 1..k+1 per step, the simulated ones evenly; ITL
//   percentiles (and the per-step TTFT granularity) are therefore too smooth. Mean TPOT is right.
// - Acceptance varies with position and content; here it is one constant a.
// - The scheduler still budgets one token per decode request (real vLLM budgets k+1 against
//   max_num_batched_tokens) and reserves no KV slots for the k lookahead tokens.
// - The draft model's weights and KV cache do not reduce the target's KV capacity.
// - Logits for the k+1 verified positions (lm-head) are charged once per request, as for a decode.
// - A step that mixes prefill and decode approximates the real interleaving: its prefill chunk runs at
//   full cost every simulated step while its decode part is divided by E.
import type { BatchShape, StepTimeModel } from "./types.ts"

export type SpecMethod = "draft" | "ngram"

export interface SpeculativeOptions {
  readonly method: SpecMethod
  /** k: tokens proposed per decoding request per step (≥ 1). */
  readonly numTokens: number
  /** a: probability that each proposed token is accepted, [0, 1]. */
  readonly acceptance: number
  /** Step time of the draft model on the same GPUs (method "draft"). */
  readonly draft?: StepTimeModel
}

/** Undefined when valid, else why. */
export const checkSpeculativeOptions = (o: SpeculativeOptions): string | undefined => {
  if (!Number.isInteger(o.numTokens) || o.numTokens < 1) return `speculative tokens must be an integer ≥ 1, got ${o.numTokens}`
  if (!Number.isFinite(o.acceptance) || o.acceptance < 0 || o.acceptance > 1)
    return `speculative acceptance must be in [0, 1], got ${o.acceptance}`
  if (o.method === "draft" && o.draft === undefined) return "speculative method draft needs a draft model"
  return undefined
}

/** E[tokens emitted per request per step] = (1 − a^(k+1)) / (1 − a); k + 1 at a = 1. */
export const expectedTokensPerStep = (k: number, a: number): number =>
  a >= 1 ? k + 1 : (1 - a ** (k + 1)) / (1 - a)

/** The step's prefill chunks alone (decode requests dropped). */
export const prefillPart = (b: BatchShape): BatchShape => ({
  numReqs: b.numPrefillReqs,
  numTokens: b.prefillTokens,
  numPrefillReqs: b.numPrefillReqs,
  prefillTokens: b.prefillTokens,
  numDecodeReqs: 0,
  prefillAttentionWork: b.prefillAttentionWork,
  prefillContextTokens: b.prefillContextTokens,
  decodeContextTokens: 0,
})

/**
 * The target's verification pass: each decode request (context c after its one token) becomes a chunk
 * of k+1 new tokens ending at context c + k. Causal work of such a chunk, n·(C − n + (n+1)/2) with
 * n = k+1 and C = c + k, is (k+1)·(c + k/2); its KV read is c + k. With k = 0 this is the decode itself.
 */
export const verifyShape = (b: BatchShape, k: number): BatchShape => {
  const d = b.numDecodeReqs
  if (d === 0) return b
  return {
    numReqs: b.numReqs,
    numTokens: b.numTokens + k * d,
    numPrefillReqs: b.numPrefillReqs + d,
    prefillTokens: b.prefillTokens + (k + 1) * d,
    numDecodeReqs: 0,
    prefillAttentionWork: b.prefillAttentionWork + (k + 1) * (b.decodeContextTokens + (d * k) / 2),
    prefillContextTokens: b.prefillContextTokens + b.decodeContextTokens + k * d,
    decodeContextTokens: 0,
  }
}

/** Draft pass j (0-based) of a step: one token per decode request at context c + j; pass 0 also prefills. */
export const draftShape = (b: BatchShape, j: number): BatchShape => {
  const d = b.numDecodeReqs
  const withPrefill = j === 0
  return {
    numReqs: d + (withPrefill ? b.numPrefillReqs : 0),
    numTokens: d + (withPrefill ? b.prefillTokens : 0),
    numPrefillReqs: withPrefill ? b.numPrefillReqs : 0,
    prefillTokens: withPrefill ? b.prefillTokens : 0,
    numDecodeReqs: d,
    prefillAttentionWork: withPrefill ? b.prefillAttentionWork : 0,
    prefillContextTokens: withPrefill ? b.prefillContextTokens : 0,
    decodeContextTokens: b.decodeContextTokens + j * d,
  }
}

/** Wraps a target step-time model with speculative decoding (see the header for what is modelled). */
export const speculativeStepTime = (target: StepTimeModel, o: SpeculativeOptions): StepTimeModel => {
  const invalid = checkSpeculativeOptions(o)
  if (invalid !== undefined) throw new RangeError(invalid)
  const k = o.numTokens
  const e = expectedTokensPerStep(k, o.acceptance)
  const draft = o.method === "draft" ? o.draft : undefined
  return {
    name: `spec-${o.method}(k=${k}, a=${o.acceptance}${draft === undefined ? "" : `, draft ${draft.name}`}) ${target.name}`,
    overheads: target.overheads,
    stepTime: (b: BatchShape): number => {
      if (b.numDecodeReqs <= 0) return target.stepTime(b)
      const tPrefill = b.numPrefillReqs > 0 ? target.stepTime(prefillPart(b)) : 0
      let full = target.stepTime(verifyShape(b, k))
      if (draft !== undefined) for (let j = 0; j < k; j++) full += draft.stepTime(draftShape(b, j))
      const decode = full - tPrefill
      return tPrefill + (decode > 0 ? decode : 0) / e
    },
  }
}
