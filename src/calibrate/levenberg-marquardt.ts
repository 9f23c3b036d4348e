// Levenberg–Marquardt least squares with a forward-difference Jacobian: minimises |r(θ)|² for a
// residual function that is expensive (each call runs simulations), so it counts every call.
// Deterministic; no randomness.

export interface LmOptions {
  readonly maxIterations: number
  /** Finite-difference step in θ. */
  readonly step: number
  /** |θ_i| is kept within this bound (θ are log-multipliers here). */
  readonly bound: number
  /** Stop when an accepted step improves the loss by less than this fraction. */
  readonly tolerance: number
}

export const defaultLmOptions: LmOptions = { maxIterations: 12, step: 0.03, bound: 6, tolerance: 1e-4 }

export interface LmResult {
  readonly theta: number[]
  readonly residuals: number[]
  readonly loss: number
  readonly iterations: number
  readonly evaluations: number
}

const dot = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/** Solves A x = b for a small symmetric positive-definite A (Gaussian elimination, partial pivoting). */
export const solveLinear = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<number>): number[] => {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i]!])
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r
    ;[m[c], m[p]] = [m[p]!, m[c]!]
    const pivot = m[c]![c]!
    if (Math.abs(pivot) < 1e-300) throw new Error("singular system")
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / pivot
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!
    x[r] = s / m[r]![r]!
  }
  return x
}

/** The most residual evaluations a run can take: the start, then per iteration p differences and ≤ 6 trial steps. */
export const maxEvaluations = (numParams: number, maxIterations: number): number => 1 + maxIterations * (numParams + 6)

export const levenbergMarquardt = (
  residuals: (theta: ReadonlyArray<number>) => number[],
  theta0: ReadonlyArray<number>,
  options: Partial<LmOptions> = {},
): LmResult => {
  const o = { ...defaultLmOptions, ...options }
  const p = theta0.length
  const clamp = (x: number) => Math.max(-o.bound, Math.min(o.bound, x))
  let evaluations = 0
  const evalR = (t: ReadonlyArray<number>): number[] => {
    evaluations++
    return residuals(t)
  }
  let theta = theta0.map(clamp)
  let r = evalR(theta)
  let loss = dot(r, r)
  let lambda = 1e-2
  let iterations = 0
  for (; iterations < o.maxIterations; iterations++) {
    // Jacobian columns by forward differences.
    const jac: number[][] = []
    for (let i = 0; i < p; i++) {
      const t = [...theta]
      t[i] = theta[i]! + o.step
      const ri = evalR(t)
      jac.push(ri.map((v, k) => (v - r[k]!) / o.step))
    }
    const jtj = jac.map((ci) => jac.map((cj) => dot(ci, cj)))
    const jtr = jac.map((ci) => dot(ci, r))
    let improved = false
    for (let attempt = 0; attempt < 6; attempt++) {
      const a = jtj.map((row, i) => row.map((v, j) => (i === j ? v * (1 + lambda) + 1e-12 : v)))
      let delta: number[]
      try {
        delta = solveLinear(a, jtr.map((g) => -g))
      } catch {
        lambda *= 10
        continue
      }
      const next = theta.map((t, i) => clamp(t + delta[i]!))
      const rn = evalR(next)
      const ln = dot(rn, rn)
      if (ln < loss) {
        const gain = (loss - ln) / Math.max(loss, 1e-300)
        theta = next
        r = rn
        loss = ln
        lambda = Math.max(lambda / 3, 1e-7)
        improved = gain > o.tolerance
        break
      }
      lambda *= 4
    }
    if (!improved) {
      iterations++
      break
    }
  }
  return { theta, residuals: r, loss, iterations, evaluations }
}
