// Student's t distribution: CDF through the regularized incomplete beta function, quantiles by
// bisection on the CDF. For the paired t-test of `servesim compare` (paired.ts), where the table of
// stats.ts (95% only, df rows with gaps) is not enough: p-values need the CDF at any t and df. Pure.
//
// Formulas: P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2) (Abramowitz & Stegun 26.5.27 / 26.7.1); I_x(a, b) by
// its continued fraction evaluated with the modified Lentz method (A&S 26.5.8; Numerical Recipes §6.4),
// using I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly; ln Γ by the Lanczos
// approximation (g = 7, 9 coefficients; Godfrey's published coefficient set).

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0. */
export const lnGamma = (x: number): number => {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x) // reflection
  const z = x - 1
  let a = LANCZOS[0] ?? 1
  const t = z + 7.5
  for (let i = 1; i < LANCZOS.length; i++) a += (LANCZOS[i] ?? 0) / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

/** The continued fraction of I_x(a, b) (without its prefactor), modified Lentz. */
const betaFraction = (x: number, a: number, b: number): number => {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m
    // Even step.
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2))
    d = 1 + num * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + num / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    // Odd step.
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))
    d = 1 + num * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + num / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < 1e-15) break
  }
  return h
}

/** The regularized incomplete beta function I_x(a, b), 0 ≤ x ≤ 1, a, b > 0. */
export const regularizedBeta = (x: number, a: number, b: number): number => {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return Number.NaN
  if (x === 0) return 0
  if (x === 1) return 1
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x)
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaFraction(x, a, b)) / a
  return 1 - (Math.exp(lnFront) * betaFraction(1 - x, b, a)) / b
}

/** P(|T| ≥ |t|) for T ~ Student t with df degrees of freedom: the two-sided p-value of t. */
export const studentTTwoSidedP = (t: number, df: number): number => {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN
  if (!Number.isFinite(t)) return 0
  return regularizedBeta(df / (df + t * t), df / 2, 0.5)
}

/** P(T ≤ t). */
export const studentTCdf = (t: number, df: number): number => {
  const tail = studentTTwoSidedP(t, df) / 2
  return t >= 0 ? 1 - tail : tail
}

/** The p-quantile of Student t (0 < p < 1): the t with P(T ≤ t) = p, to ~1e-12 relative. */
export const studentTQuantile = (p: number, df: number): number => {
  if (!(p > 0 && p < 1) || !(df > 0)) return Number.NaN
  if (p === 0.5) return 0
  if (p < 0.5) return -studentTQuantile(1 - p, df)
  // Bracket [0, hi] with CDF(hi) ≥ p, then bisect (the CDF is increasing).
  let lo = 0
  let hi = 1
  while (studentTCdf(hi, df) < p && hi < 1e300) hi *= 2
  for (let i = 0; i < 2000 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2
    if (studentTCdf(mid, df) < p) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
