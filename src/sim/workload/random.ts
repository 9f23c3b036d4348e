// Seeded random streams for workload generation. Each purpose (arrivals, input lengths, ...) draws from
// its own stream, seeded by (seed, stream name), so changing one distribution never shifts the draws of
// another: a new output-length distribution leaves the arrival times byte-identical.
import seedrandom from "seedrandom"

export interface Rng {
  /** Uniform on [0, 1). */
  uniform(): number
  exponential(mean: number): number
  /** Gamma with the given shape (k) and scale (θ); mean kθ. */
  gamma(shape: number, scale: number): number
  normal(mean: number, sd: number): number
  /** exp(N(mu, sigma)): mu and sigma are of the log. */
  lognormal(mu: number, sigma: number): number
  /** Uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number
}

/** Stream names used by the workload generators; one per purpose. */
export const STREAMS = {
  arrivals: "arrivals",
  input: "input-lengths",
  output: "output-lengths",
  prefix: "prefix-choice",
  priority: "priority",
} as const

/**
 * seedrandom's Alea generator, stepped here on a typed array: the library keeps its state in object
 * fields, and the workload draws a few numbers per request. Seeded by the library (its state after
 * seeding), then the same arithmetic as its `next`, so the sequence is the library's bit for bit.
 */
const alea = (seed: string): (() => number) => {
  const st = seedrandom.alea(seed, { state: true }).state()
  const s = new Float64Array([st.s0, st.s1, st.s2, st.c])
  return () => {
    const t = 2091639 * s[0]! + s[3]! * 2.3283064365386963e-10 // 2^-32
    s[0] = s[1]!
    s[1] = s[2]!
    const c = t | 0
    s[3] = c
    return (s[2] = t - c)
  }
}

export const makeRng = (seed: string | number, stream: string): Rng => {
  const prng = alea(`${String(seed)}/${stream}`)
  // (0, 1]: safe under log.
  const open = (): number => 1 - prng()

  // Box–Muller; the pair's second value is kept for the next call (half the logs and square roots).
  let spare = 0
  let hasSpare = false
  const normal01 = (): number => {
    if (hasSpare) {
      hasSpare = false
      return spare
    }
    const r = Math.sqrt(-2 * Math.log(open()))
    const a = 2 * Math.PI * prng()
    spare = r * Math.sin(a)
    hasSpare = true
    return r * Math.cos(a)
  }

  // Marsaglia & Tsang (2000), "A simple method for generating gamma variables", for shape >= 1.
  const gammaShapeAtLeast1 = (shape: number): number => {
    const d = shape - 1 / 3
    const c = 1 / Math.sqrt(9 * d)
    for (;;) {
      let x: number
      let v: number
      do {
        x = normal01()
        v = 1 + c * x
      } while (v <= 0)
      v = v * v * v
      const u = open()
      if (u < 1 - 0.0331 * x * x * x * x) return d * v
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v
    }
  }

  return {
    uniform: () => prng(),
    exponential: (mean) => -mean * Math.log(open()),
    gamma: (shape, scale) => {
      if (!(shape > 0) || !(scale > 0)) throw new RangeError(`gamma: shape and scale must be > 0 (got ${shape}, ${scale})`)
      if (shape >= 1) return gammaShapeAtLeast1(shape) * scale
      // Shape < 1: boost to shape + 1, then scale by U^(1/shape) (Marsaglia & Tsang, section 6).
      return gammaShapeAtLeast1(shape + 1) * Math.pow(open(), 1 / shape) * scale
    },
    normal: (mean, sd) => mean + sd * normal01(),
    lognormal: (mu, sigma) => Math.exp(mu + sigma * normal01()),
    int: (lo, hi) => {
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new RangeError(`int: need integers lo <= hi (got ${lo}, ${hi})`)
      return lo + Math.floor(prng() * (hi - lo + 1))
    },
  }
}

/** Fisher–Yates shuffle of 0..n-1 from the given stream (inference-perf shuffles its prompt list once). */
export const shuffledIndices = (n: number, rng: Rng): number[] => {
  const a = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i)
    const t = a[i] as number
    a[i] = a[j] as number
    a[j] = t
  }
  return a
}
