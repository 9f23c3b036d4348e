// Uncertainty of a calibration and the prediction intervals it implies. Pure and deterministic
// (seeded draws). A fit minimises log-ratio residuals r(θ) over knobs θ (log-multipliers); around the
// optimum θ̂ with Jacobian J (rows: residuals, columns: knobs):
//  - "jacobian": Cov(θ̂) = σ² (JᵀJ)⁻¹ with σ² = rᵀr / (n − p), the textbook nonlinear least-squares
//    covariance (it assumes independent residuals of one variance);
//  - "bootstrap": a pairs bootstrap over measured points — resample points with replacement and refit.
//    Each refit is one Gauss–Newton step from θ̂ on the resample's linearisation (J and r at θ̂), the
//    "one-step bootstrap": a full refit costs dozens of simulation sweeps per replicate, the step costs
//    none, and near θ̂ they agree. It keeps what the first assumes away: points that fit worse.
// A prediction's log-scale variance is gᵀ Cov g (parameters; g its gradient in θ) plus the residual
// variance of the metric (the model error the fit shows), and its interval is symmetric in log space.
import seedrandom from "seedrandom"
import { solveLinear } from "./levenberg-marquardt.ts"
import { tQuantile } from "./quantiles.ts"

export { UNCERTAINTY_METHODS, type UncertaintyMethod } from "../scenario/profile.ts"

/** Residuals at θ and their forward-difference Jacobian (n rows × p columns), p + 1 evaluations. */
export const jacobianAt = (f: (theta: ReadonlyArray<number>) => number[], theta: ReadonlyArray<number>, step: number): { residuals: number[]; jacobian: number[][] } => {
  const residuals = f(theta)
  const columns = theta.map((_, i) => {
    const t = [...theta]
    t[i] = theta[i]! + step
    return f(t).map((v, k) => (v - residuals[k]!) / step)
  })
  return { residuals, jacobian: residuals.map((_, k) => columns.map((c) => c[k]!)) }
}

const gram = (rows: ReadonlyArray<ReadonlyArray<number>>, p: number): number[][] => {
  const a = Array.from({ length: p }, () => new Array<number>(p).fill(0))
  for (const row of rows) for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) a[i]![j]! += row[i]! * row[j]!
  return a
}

/** The inverse of a small symmetric positive-definite matrix, or undefined when it is singular. */
export const invertSpd = (a: ReadonlyArray<ReadonlyArray<number>>): number[][] | undefined => {
  const p = a.length
  const cols: number[][] = []
  try {
    for (let j = 0; j < p; j++) cols.push(solveLinear(a, a.map((_, i) => (i === j ? 1 : 0))))
  } catch {
    return undefined
  }
  const inv = cols[0]!.map((_, i) => cols.map((c) => c[i]!))
  return inv.every((row) => row.every(Number.isFinite)) && inv.every((row, i) => row[i]! > 0) ? inv : undefined
}

/**
 * The knobs the residuals pin down: columns of J taken in order of decreasing norm, each kept when it is
 * not (numerically) a combination of those kept before (Gram–Schmidt, relative residual 1e-6). A knob
 * no residual responds to, or one that moves exactly with another (e.g. a step cost and a per-request
 * cost when every point has the same batch), is not identified by the fit.
 */
export const identifiedColumns = (jacobian: ReadonlyArray<ReadonlyArray<number>>): number[] => {
  const p = jacobian[0]?.length ?? 0
  const cols = Array.from({ length: p }, (_, j) => jacobian.map((row) => row[j]!))
  const norm2 = (v: ReadonlyArray<number>) => v.reduce((a, x) => a + x * x, 0)
  const order = cols.map((_, j) => j).sort((a, b) => norm2(cols[b]!) - norm2(cols[a]!) || a - b)
  const basis: number[][] = []
  const kept: number[] = []
  for (const j of order) {
    const v = [...cols[j]!]
    const n0 = norm2(v)
    if (!(n0 > 0)) continue
    for (const q of basis) {
      const d = v.reduce((a, x, k) => a + x * q[k]!, 0)
      for (let k = 0; k < v.length; k++) v[k]! -= d * q[k]!
    }
    const n1 = norm2(v)
    if (n1 <= 1e-12 * n0) continue
    basis.push(v.map((x) => x / Math.sqrt(n1)))
    kept.push(j)
  }
  return kept.sort((a, b) => a - b)
}

const embed = (sub: ReadonlyArray<ReadonlyArray<number>>, cols: ReadonlyArray<number>, p: number): number[][] => {
  const out = Array.from({ length: p }, () => new Array<number>(p).fill(0))
  cols.forEach((ci, a) => cols.forEach((cj, b) => (out[ci]![cj] = sub[a]![b]!)))
  return out
}

/** σ² = rᵀr / (n − p). */
export const residualVariance = (residuals: ReadonlyArray<number>, p: number): number => residuals.reduce((a, r) => a + r * r, 0) / (residuals.length - p)

const withRidge = (a: number[][], ridge: number): number[][] => a.map((row, i) => row.map((v, j) => (i === j ? v + ridge : v)))

/**
 * σ² (JᵀJ)⁻¹ with σ² = rᵀr / (n − p); undefined without residual degrees of freedom (n ≤ p).
 * Without a prior, over the identified knobs only (identifiedColumns; the others get zero variance).
 * With a prior sd τ on every knob (N(0, τ²) about the fit: the range a knob can plausibly take), the
 * Gaussian posterior (JᵀJ/σ² + I/τ²)⁻¹: a knob the data do not pin keeps the prior's variance, one
 * they pin is barely changed.
 */
export const jacobianCovariance = (jacobian: ReadonlyArray<ReadonlyArray<number>>, residuals: ReadonlyArray<number>, priorSd?: number): number[][] | undefined => {
  const n = residuals.length
  const p = jacobian[0]?.length ?? 0
  if (p === 0 || n <= p) return undefined
  if (priorSd !== undefined) {
    const s2 = residualVariance(residuals, p)
    // An exact fit: no residual scatter to propagate.
    if (!(s2 > 0)) return Array.from({ length: p }, () => new Array<number>(p).fill(0))
    return invertSpd(withRidge(gram(jacobian, p).map((row) => row.map((v) => v / s2)), 1 / priorSd ** 2))
  }
  const cols = identifiedColumns(jacobian)
  const inv = cols.length === 0 ? [] : invertSpd(gram(jacobian.map((row) => cols.map((j) => row[j]!)), cols.length))
  if (inv === undefined) return undefined
  const s2 = residualVariance(residuals, p)
  return embed(inv.map((row) => row.map((v) => v * s2)), cols, p)
}

/** |θ shift| beyond this (×e³ ≈ 20 on a multiplier) marks a resample that does not identify θ. */
const MAX_SHIFT = 3

/**
 * One-step pairs bootstrap: `count` resamples of the measured points (rows grouped by `groups[k]`, the
 * point of residual k), each giving θ shift −(J_bᵀJ_b)⁻¹ J_bᵀ r_b over the identified knobs (the others
 * stay 0), or, with a prior sd τ, over all knobs with the posterior's ridge σ²/τ² (σ² of the full fit).
 * Resamples whose points do not pin the knobs (singular, or a shift beyond MAX_SHIFT) are drawn again,
 * up to 4 × count tries.
 */
export const bootstrapShifts = (
  jacobian: ReadonlyArray<ReadonlyArray<number>>,
  residuals: ReadonlyArray<number>,
  groups: ReadonlyArray<number>,
  count: number,
  seed: string,
  priorSd?: number,
): number[][] => {
  const p = jacobian[0]?.length ?? 0
  const cols = priorSd === undefined ? identifiedColumns(jacobian) : jacobian[0]!.map((_, j) => j)
  const ridge = priorSd === undefined || residuals.length <= p ? 0 : residualVariance(residuals, p) / priorSd ** 2
  const jac = jacobian.map((row) => cols.map((j) => row[j]!))
  const ids = [...new Set(groups)]
  const rowsOf = new Map(ids.map((g) => [g, groups.flatMap((x, k) => (x === g ? [k] : []))]))
  const rng = seedrandom.alea(`servesim-bootstrap/${seed}`)
  const out: number[][] = []
  for (let tries = 0; out.length < count && tries < 4 * count; tries++) {
    const rows: number[] = []
    for (let i = 0; i < ids.length; i++) rows.push(...rowsOf.get(ids[Math.floor(rng() * ids.length)]!)!)
    const q = cols.length
    const a = withRidge(gram(rows.map((k) => jac[k]!), q), ridge)
    const g = new Array<number>(q).fill(0)
    for (const k of rows) for (let i = 0; i < q; i++) g[i]! += jac[k]![i]! * residuals[k]!
    let sub: number[]
    try {
      sub = solveLinear(a, g.map((x) => -x))
    } catch {
      continue
    }
    if (!sub.every((x) => Number.isFinite(x) && Math.abs(x) <= MAX_SHIFT)) continue
    const shift = new Array<number>(p).fill(0)
    cols.forEach((j, i) => (shift[j] = sub[i]!))
    out.push(shift)
  }
  return out
}

/** Covariance of samples about zero (the fit): E[δ δᵀ]. */
export const shiftCovariance = (samples: ReadonlyArray<ReadonlyArray<number>>): number[][] | undefined => {
  const p = samples[0]?.length ?? 0
  if (samples.length < 2 || p === 0) return undefined
  return gram(samples, p).map((row) => row.map((v) => v / samples.length))
}

/**
 * Log-scale residual standard deviation per metric: sqrt(Σ r² / n_m · N / (N − p)), the fit's model
 * error with the degrees of freedom the p knobs used up shared over all N residuals.
 */
export const residualSds = (rows: ReadonlyArray<{ readonly metric: string; readonly value: number }>, numParams: number): Record<string, number> | undefined => {
  const n = rows.length
  if (n <= numParams) return undefined
  const out: Record<string, number> = {}
  for (const metric of [...new Set(rows.map((r) => r.metric))]) {
    const mine = rows.filter((r) => r.metric === metric)
    out[metric] = Math.sqrt((mine.reduce((a, r) => a + r.value * r.value, 0) / mine.length) * (n / (n - numParams)))
  }
  return out
}

/** gᵀ C g. */
export const quadraticForm = (g: ReadonlyArray<number>, c: ReadonlyArray<ReadonlyArray<number>>): number => {
  let s = 0
  for (let i = 0; i < g.length; i++) for (let j = 0; j < g.length; j++) s += g[i]! * c[i]![j]! * g[j]!
  return s
}

/** Fraction of held-out cases whose log error log(measured / predicted) lies inside the level interval. */
export const coverage = (cases: ReadonlyArray<{ readonly logError: number; readonly logSd: number; readonly dof?: number }>, level: number): number =>
  cases.length === 0 ? Number.NaN : cases.filter((c) => Math.abs(c.logError) <= tQuantile(0.5 + level / 2, c.dof) * c.logSd).length / cases.length
