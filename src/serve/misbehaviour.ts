// Injected failures for testing clients against the twin (`serve --fail-rate … --stall-rate …
// --error-chunk-rate … --drop-rate …`). Each decision is a pure function of (seed, request index):
// the n-th accepted generation request (0-based, in the order the twin accepts them) always
// misbehaves the same way for the same seed, whatever else happens.
import seedrandom from "seedrandom"

export interface MisbehaviourRates {
  /** Fraction of requests answered HTTP 500 with vLLM's error body (before any generation). */
  readonly failRate: number
  /** Fraction of requests whose stream pauses once for `stallMs` wall milliseconds. */
  readonly stallRate: number
  readonly stallMs: number
  /** Fraction of streams that end with an error chunk (`data: {"error":…}` then `[DONE]`) inside HTTP 200. */
  readonly errorChunkRate: number
  /** Fraction of requests whose connection is destroyed mid-stream (no `[DONE]`). */
  readonly dropRate: number
}

export const noMisbehaviour: MisbehaviourRates = { failRate: 0, stallRate: 0, stallMs: 0, errorChunkRate: 0, dropRate: 0 }

/** What happens to one request. Positions are fractions in [0, 1) of its output tokens. */
export interface Misbehaviour {
  readonly fail: boolean
  /** Stall before the content chunk at this fraction of the output. */
  readonly stallAt?: number
  /** Send the error chunk instead of the content chunk at this fraction. */
  readonly errorAt?: number
  /** Destroy the connection instead of writing the content chunk at this fraction. */
  readonly dropAt?: number
}

export const isQuiet = (r: MisbehaviourRates): boolean => r.failRate <= 0 && r.stallRate <= 0 && r.errorChunkRate <= 0 && r.dropRate <= 0

/** The decisions for request `index`. Seven uniform draws in a fixed order, whatever the rates. */
export const misbehaviourFor = (seed: string | number, index: number, r: MisbehaviourRates): Misbehaviour => {
  const rng = seedrandom.alea(`servesim-twin/${String(seed)}/${index}`)
  const uFail = rng()
  const uStall = rng()
  const pStall = rng()
  const uError = rng()
  const pError = rng()
  const uDrop = rng()
  const pDrop = rng()
  return {
    fail: uFail < r.failRate,
    ...(uStall < r.stallRate && r.stallMs > 0 ? { stallAt: pStall } : {}),
    ...(uError < r.errorChunkRate ? { errorAt: pError } : {}),
    ...(uDrop < r.dropRate ? { dropAt: pDrop } : {}),
  }
}

/** Content-chunk index (0-based) at which a fraction-position event happens for `n` output tokens. */
export const chunkIndexAt = (fraction: number, n: number): number => Math.min(n - 1, Math.max(0, Math.floor(fraction * n)))
