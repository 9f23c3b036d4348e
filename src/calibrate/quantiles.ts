// Quantiles and draws behind prediction intervals (what simulate needs of the uncertainty math,
// without the fitting code). Pure; draws are seeded.
import seedrandom from "seedrandom"

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export const normalQuantile = (p: number): number => {
  if (!(p > 0 && p < 1)) return Number.NaN
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239]
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1]
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416]
  const tail = (q: number) => (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1)
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)))
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)))
  const q = p - 0.5
  const r = q * q
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
}

/**
 * Student t quantile with `dof` degrees of freedom: exact for 1 and 2, the Cornish–Fisher expansion in
 * 1/dof above (|error| < 1e-3 at dof 3, smaller beyond); the normal quantile when dof is undefined.
 * A residual sd estimated from few residuals is itself uncertain; t widens the interval for it.
 */
export const tQuantile = (p: number, dof?: number): number => {
  if (dof === undefined || dof > 1e6) return normalQuantile(p)
  if (dof === 1) return Math.tan(Math.PI * (p - 0.5))
  if (dof === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p))
  const z = normalQuantile(p)
  const z3 = z ** 3
  const z5 = z ** 5
  const z7 = z ** 7
  const z9 = z ** 9
  return (
    z +
    (z3 + z) / (4 * dof) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * dof ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * dof ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * dof ** 4)
  )
}

/** The central `level` interval of a log-normal prediction around `center` with log-scale sd (t with `dof` when given). */
export const logInterval = (center: number, logSd: number, level: number, dof?: number): [number, number] => {
  const z = tQuantile(0.5 + level / 2, dof)
  return [center * Math.exp(-z * logSd), center * Math.exp(z * logSd)]
}

/** `count` draws of N(0, C) (Cholesky factor, Box–Muller on a seeded stream). */
export const gaussianDraws = (c: ReadonlyArray<ReadonlyArray<number>>, count: number, seed: string): number[][] => {
  const p = c.length
  const l = Array.from({ length: p }, () => new Array<number>(p).fill(0))
  for (let i = 0; i < p; i++)
    for (let j = 0; j <= i; j++) {
      let s = c[i]![j]!
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!
      l[i]![j] = i === j ? Math.sqrt(Math.max(s, 0)) : l[j]![j]! > 0 ? s / l[j]![j]! : 0
    }
  const rng = seedrandom.alea(`servesim-draws/${seed}`)
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng())
  return Array.from({ length: count }, () => {
    const z = Array.from({ length: p }, normal)
    return l.map((row) => row.reduce((a, v, k) => a + v * z[k]!, 0))
  })
}
