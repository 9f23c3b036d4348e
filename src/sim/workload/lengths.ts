// Token-length distributions. Plain JSON-able data so scenario files can hold them; samples are
// integers >= 1 (a request has at least one prompt token and generates at least one token).
import type { Rng } from "./random.ts"
import { isRecord } from "../../format/json.ts"

export type LengthDist =
  | { readonly kind: "fixed"; readonly value: number }
  /** Integers in [min, max], both included (vllm bench's random dataset with a range ratio). */
  | { readonly kind: "uniform"; readonly min: number; readonly max: number }
  /**
   * Rounded normal. Out-of-range samples are clamped to [min, max] (inference-perf's distributions
   * clip), or redrawn when `truncate` is set.
   */
  | {
      readonly kind: "normal"
      readonly mean: number
      readonly sd: number
      readonly min?: number
      readonly max?: number
      readonly truncate?: boolean
    }
  /** Rounded lognormal given by the mean and sd of the lengths themselves (before clamping). */
  | {
      readonly kind: "lognormal"
      readonly mean: number
      readonly sd: number
      readonly min?: number
      readonly max?: number
      readonly truncate?: boolean
    }
  /** Histogram of point masses; weights default to equal (a list of observed lengths). */
  | { readonly kind: "empirical"; readonly values: ReadonlyArray<number>; readonly weights?: ReadonlyArray<number> }
  | { readonly kind: "preset"; readonly name: LengthPreset }

export type LengthPreset = "sharegpt-input" | "sharegpt-output"

/*
 * ShareGPT as `vllm bench serve --dataset-name sharegpt` samples it (first human turn as the prompt,
 * first reply's token count as max_tokens; pairs with prompt or reply < 4 tokens, prompt > 1024 or
 * prompt + reply > 2048 dropped — vllm/benchmarks/datasets.py is_valid_sequence).
 * Means: gpustack/gpustack docs/performance-lab @47277d7 (our ../shared/data/serving/gpustack-bench-serve)
 * has 200+ such vllm bench runs of 1000 ShareGPT_V3 prompts: total input tokens / 1000 = 214.5–219.2
 * depending on the tokenizer, generated tokens / 1000 = 193–202. The dispersion is an assumption (no
 * published percentiles found): log-sd 1.1 for prompts (short questions plus long pasted documents),
 * 0.9 for replies, giving medians of ~155 and ~135 tokens. The lognormal parameters below (mean/sd
 * before truncation) are fitted so the truncated means are 217 and 199 (lengths.test.ts checks).
 */
export const sharegptInput: LengthDist = { kind: "lognormal", mean: 283.9, sd: 435.5, min: 4, max: 1024, truncate: true }
export const sharegptOutput: LengthDist = { kind: "lognormal", mean: 202.2, sd: 225.8, min: 4, max: 2044, truncate: true }

const PRESETS: Record<LengthPreset, LengthDist> = {
  "sharegpt-input": sharegptInput,
  "sharegpt-output": sharegptOutput,
}

type Resolved = Exclude<LengthDist, { readonly kind: "preset" }>

const resolve = (dist: LengthDist): Resolved => {
  const d = dist.kind === "preset" ? PRESETS[dist.name] : dist
  if (d.kind === "preset") throw new Error("preset resolves to a preset")
  return d
}

/** Lognormal mu/sigma (of the log) from the mean and sd of the variable itself. */
export const lognormalParams = (mean: number, sd: number): { mu: number; sigma: number } => {
  const s2 = Math.log(1 + (sd * sd) / (mean * mean))
  return { mu: Math.log(mean) - s2 / 2, sigma: Math.sqrt(s2) }
}

const bounds = (min: number | undefined, max: number | undefined): [number, number] => [
  Math.max(1, Math.ceil(min ?? 1)),
  max === undefined ? Number.POSITIVE_INFINITY : Math.floor(max),
]

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x)

// A redraw loop needs a reachable range; parseLengthDist rejects ranges with less mass than this.
const MIN_TRUNCATED_MASS = 1e-6
const MAX_REDRAWS = 10_000_000

const cumulative = (weights: ReadonlyArray<number>): Float64Array => {
  const c = new Float64Array(weights.length)
  let s = 0
  for (let i = 0; i < weights.length; i++) {
    s += weights[i] as number
    c[i] = s
  }
  return c
}

/** A sampler bound to one distribution; precomputes what it can (empirical cumulative weights). */
export const lengthSampler = (dist: LengthDist): ((rng: Rng) => number) => {
  const d = resolve(dist)
  switch (d.kind) {
    case "fixed": {
      const v = Math.max(1, Math.round(d.value))
      return () => v
    }
    case "uniform": {
      const lo = Math.ceil(d.min)
      const hi = Math.floor(d.max)
      return (rng) => Math.max(1, rng.int(lo, hi))
    }
    case "normal":
    case "lognormal": {
      const [lo, hi] = bounds(d.min, d.max)
      let draw: (rng: Rng) => number
      if (d.sd === 0) draw = () => d.mean
      else if (d.kind === "normal") draw = (rng) => rng.normal(d.mean, d.sd)
      else {
        const { mu, sigma } = lognormalParams(d.mean, d.sd)
        draw = (rng) => rng.lognormal(mu, sigma)
      }
      if (d.truncate === true) {
        // Redraw outside [lo - 0.5, hi + 0.5): the rounded sample then lies in [lo, hi].
        return (rng) => {
          for (let i = 0; i < MAX_REDRAWS; i++) {
            const x = Math.round(draw(rng))
            if (x >= lo && x <= hi) return x
          }
          throw new RangeError(`${d.kind} length distribution: range [${lo}, ${hi}] unreachable`)
        }
      }
      return (rng) => clamp(Math.round(draw(rng)), lo, hi)
    }
    case "empirical": {
      const values = d.values.map((v) => Math.max(1, Math.round(v)))
      const cum = cumulative(d.weights ?? d.values.map(() => 1))
      const total = cum[cum.length - 1] as number
      return (rng) => {
        const u = rng.uniform() * total
        // First index with cum > u.
        let a = 0
        let b = cum.length - 1
        while (a < b) {
          const m = (a + b) >>> 1
          if ((cum[m] as number) > u) b = m
          else a = m + 1
        }
        return values[a] as number
      }
    }
  }
}

export const sampleLength = (dist: LengthDist, rng: Rng): number => lengthSampler(dist)(rng)

// Standard normal CDF via erfc (Numerical Recipes' erfcc, fractional error < 1.2e-7).
const erfc = (x: number): number => {
  const z = Math.abs(x)
  const t = 1 / (1 + 0.5 * z)
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    )
  return x >= 0 ? r : 2 - r
}
const Phi = (x: number): number => (x === Number.POSITIVE_INFINITY ? 1 : x === Number.NEGATIVE_INFINITY ? 0 : 0.5 * erfc(-x / Math.SQRT2))
const phi = (x: number): number => (Number.isFinite(x) ? Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI) : 0)

/**
 * Mean of the lengths the distribution produces. Exact for fixed, uniform and empirical; for normal
 * and lognormal it is the mean of the clamped (or truncated) continuous variable, which differs from
 * the rounded samples' mean by far less than a token.
 */
export const meanLength = (dist: LengthDist): number => {
  const d = resolve(dist)
  switch (d.kind) {
    case "fixed":
      return Math.max(1, Math.round(d.value))
    case "uniform": {
      const lo = Math.ceil(d.min)
      const hi = Math.floor(d.max)
      const n = hi - lo + 1
      if (lo >= 1) return (lo + hi) / 2
      if (hi < 1) return 1
      // lo..1 all give 1; 2..hi give themselves.
      return (2 - lo + (hi * (hi + 1)) / 2 - 1) / n
    }
    case "empirical": {
      const w = d.weights ?? d.values.map(() => 1)
      let s = 0
      let t = 0
      d.values.forEach((v, i) => {
        const wi = w[i] as number
        s += wi * Math.max(1, Math.round(v))
        t += wi
      })
      return s / t
    }
    case "normal":
    case "lognormal": {
      const [lo, hi] = bounds(d.min, d.max)
      if (d.sd === 0) return clamp(d.mean, lo, hi)
      // z-scores of the bounds and the partial expectation ∫_lo^hi x f(x) dx.
      let pLo: number
      let pHi: number
      let partial: number
      if (d.kind === "normal") {
        const a = (lo - d.mean) / d.sd
        const b = (hi - d.mean) / d.sd
        pLo = Phi(a)
        pHi = 1 - Phi(b)
        partial = d.mean * (Phi(b) - Phi(a)) + d.sd * (phi(a) - phi(b))
      } else {
        const { mu, sigma } = lognormalParams(d.mean, d.sd)
        const za = (Math.log(lo) - mu) / sigma
        const zb = hi === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : (Math.log(hi) - mu) / sigma
        pLo = Phi(za)
        pHi = 1 - Phi(zb)
        partial = d.mean * (Phi(zb - sigma) - Phi(za - sigma))
      }
      if (d.truncate === true) return partial / (1 - pLo - pHi)
      return lo * pLo + (hi === Number.POSITIVE_INFINITY ? 0 : hi * pHi) + partial
    }
  }
}

/** Probability mass inside [min, max] of a normal/lognormal (1 for other kinds). */
const massInRange = (d: Resolved): number => {
  if (d.kind !== "normal" && d.kind !== "lognormal") return 1
  const [lo, hi] = bounds(d.min, d.max)
  if (d.sd === 0) return d.mean >= lo - 0.5 && d.mean < hi + 0.5 ? 1 : 0
  if (d.kind === "normal") return Phi((hi + 0.5 - d.mean) / d.sd) - Phi((lo - 0.5 - d.mean) / d.sd)
  const { mu, sigma } = lognormalParams(d.mean, d.sd)
  const zb = hi === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : (Math.log(hi + 0.5) - mu) / sigma
  return Phi(zb) - Phi((Math.log(Math.max(lo - 0.5, 1e-300)) - mu) / sigma)
}

// ---- validation of untrusted (scenario file) input ----

const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x)

/** Validates a JSON value as a LengthDist; returns a one-line error naming the field path on failure. */
export const parseLengthDist = (raw: unknown, path = "length"): LengthDist | string => {
  if (!isRecord(raw)) return `${path}: expected an object with a "kind"`
  const num = (key: string, opts: { optional?: boolean; positive?: boolean; nonNegative?: boolean } = {}): number | undefined | string => {
    const v = raw[key]
    if (v === undefined && opts.optional === true) return undefined
    if (!isNum(v)) return `${path}.${key}: expected a number`
    if (opts.positive === true && !(v > 0)) return `${path}.${key}: expected a positive number`
    if (opts.nonNegative === true && !(v >= 0)) return `${path}.${key}: expected a number >= 0`
    return v
  }
  const kind = raw["kind"]
  switch (kind) {
    case "fixed": {
      const value = num("value", { positive: true })
      if (typeof value === "string") return value
      return { kind, value: value as number }
    }
    case "uniform": {
      const min = num("min", { positive: true })
      if (typeof min === "string") return min
      const max = num("max", { positive: true })
      if (typeof max === "string") return max
      if ((max as number) < (min as number)) return `${path}.max: must be >= min`
      if (Math.floor(max as number) < Math.ceil(min as number)) return `${path}: [min, max] holds no integer`
      return { kind, min: min as number, max: max as number }
    }
    case "normal":
    case "lognormal": {
      const mean = num("mean", kind === "lognormal" ? { positive: true } : {})
      if (typeof mean === "string") return mean
      const sd = num("sd", { nonNegative: true })
      if (typeof sd === "string") return sd
      const min = num("min", { optional: true, nonNegative: true })
      if (typeof min === "string") return min
      const max = num("max", { optional: true, positive: true })
      if (typeof max === "string") return max
      if (min !== undefined && max !== undefined && max < min) return `${path}.max: must be >= min`
      const truncate = raw["truncate"]
      if (truncate !== undefined && typeof truncate !== "boolean") return `${path}.truncate: expected a boolean`
      const d: Resolved = {
        kind,
        mean: mean as number,
        sd: sd as number,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(truncate !== undefined ? { truncate } : {}),
      }
      if (truncate === true && massInRange(d) < MIN_TRUNCATED_MASS) return `${path}: [min, max] has almost no probability mass to truncate to`
      return d
    }
    case "empirical": {
      const values = raw["values"]
      if (!Array.isArray(values) || values.length === 0) return `${path}.values: expected a non-empty array of numbers`
      for (let i = 0; i < values.length; i++) {
        const v: unknown = values[i]
        if (!isNum(v) || !(v > 0)) return `${path}.values[${i}]: expected a positive number`
      }
      const weights = raw["weights"]
      if (weights === undefined) return { kind, values: values as number[] }
      if (!Array.isArray(weights) || weights.length !== values.length) return `${path}.weights: expected an array as long as values`
      let total = 0
      for (let i = 0; i < weights.length; i++) {
        const w: unknown = weights[i]
        if (!isNum(w) || w < 0) return `${path}.weights[${i}]: expected a number >= 0`
        total += w
      }
      if (!(total > 0)) return `${path}.weights: must not all be 0`
      return { kind, values: values as number[], weights: weights as number[] }
    }
    case "preset": {
      const name = raw["name"]
      if (name !== "sharegpt-input" && name !== "sharegpt-output") return `${path}.name: expected "sharegpt-input" or "sharegpt-output"`
      return { kind, name }
    }
    default:
      return `${path}.kind: expected one of fixed, uniform, normal, lognormal, empirical, preset`
  }
}
