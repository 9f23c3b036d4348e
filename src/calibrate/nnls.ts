// Fitting math for the step-time coefficients: Lawson–Hanson non-negative least squares, fits on
// relative error, a max(compute, memory) regime fit, and error summaries. Pure and deterministic.
import { gemmRoofline } from "../hw/physics-step-time.ts"

/** Least squares min ‖A x − b‖ by Householder QR. A is row-major (rows × cols), rows ≥ cols. */
export const leastSquares = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<number>): number[] => {
  const m = a.length
  const n = m === 0 ? 0 : (a[0] as ReadonlyArray<number>).length
  if (n === 0) return []
  // Column-major working copy; columns scaled to unit norm so terms in seconds and in counts mix well.
  const q: Float64Array[] = []
  const scale = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    const col = new Float64Array(m)
    let norm = 0
    for (let i = 0; i < m; i++) {
      const v = (a[i] as ReadonlyArray<number>)[j] as number
      col[i] = v
      norm += v * v
    }
    norm = Math.sqrt(norm)
    scale[j] = norm > 0 ? norm : 1
    for (let i = 0; i < m; i++) col[i] = (col[i] as number) / (scale[j] as number)
    q.push(col)
  }
  const y = Float64Array.from(b)
  const diag = new Float64Array(n)
  const rank = Math.min(m, n)
  for (let k = 0; k < rank; k++) {
    const ck = q[k] as Float64Array
    let norm = 0
    for (let i = k; i < m; i++) norm += (ck[i] as number) ** 2
    norm = Math.sqrt(norm)
    if (norm === 0) {
      diag[k] = 0
      continue
    }
    const alpha = (ck[k] as number) > 0 ? -norm : norm
    // v = x − alpha e_k, stored in ck[k..m)
    ck[k] = (ck[k] as number) - alpha
    let vnorm2 = 0
    for (let i = k; i < m; i++) vnorm2 += (ck[i] as number) ** 2
    diag[k] = alpha
    if (vnorm2 === 0) continue
    const apply = (target: Float64Array): void => {
      let dot = 0
      for (let i = k; i < m; i++) dot += (ck[i] as number) * (target[i] as number)
      const f = (2 * dot) / vnorm2
      for (let i = k; i < m; i++) target[i] = (target[i] as number) - f * (ck[i] as number)
    }
    for (let j = k + 1; j < n; j++) apply(q[j] as Float64Array)
    apply(y)
    // keep v for nothing else: R's diagonal is diag[k], above-diagonal entries live in q[j][k] for j > k
  }
  // Back substitution on R x = Qᵀ b; a (near-)zero pivot gets x = 0 (rank-deficient columns).
  const x = new Float64Array(n)
  const maxDiag = Math.max(...Array.from(diag, Math.abs))
  for (let k = rank - 1; k >= 0; k--) {
    let s = y[k] as number
    for (let j = k + 1; j < n; j++) s -= ((q[j] as Float64Array)[k] as number) * (x[j] as number)
    const d = diag[k] as number
    x[k] = Math.abs(d) > 1e-12 * maxDiag ? s / d : 0
  }
  return Array.from(x, (v, j) => v / (scale[j] as number))
}

export interface NnlsResult {
  readonly x: number[]
  /** ‖A x − b‖₂ */
  readonly residualNorm: number
  readonly iterations: number
}

/**
 * Lawson & Hanson (1974, "Solving Least Squares Problems", ch. 23) active-set NNLS:
 * min ‖A x − b‖₂ subject to x ≥ 0.
 */
export const nnls = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<number>, maxIterations = 500): NnlsResult => {
  const m = a.length
  const n = m === 0 ? 0 : (a[0] as ReadonlyArray<number>).length
  const x = new Array<number>(n).fill(0)
  const passive = new Array<boolean>(n).fill(false)
  const col = (i: number, j: number): number => (a[i] as ReadonlyArray<number>)[j] as number
  const gradient = (): number[] => {
    const r = b.map((bi, i) => {
      let s = bi
      for (let j = 0; j < n; j++) s -= col(i, j) * (x[j] as number)
      return s
    })
    const w = new Array<number>(n).fill(0)
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let i = 0; i < m; i++) s += col(i, j) * (r[i] as number)
      w[j] = s
    }
    return w
  }
  // Tolerance relative to the problem's scale so that seconds-sized columns still move.
  let colScale = 0
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) colScale = Math.max(colScale, Math.abs(col(i, j)))
  let bScale = 0
  for (const v of b) bScale = Math.max(bScale, Math.abs(v))
  const tol = 1e-12 * Math.max(1, m) * colScale * Math.max(bScale, 1e-300)
  const solvePassive = (): number[] => {
    const idx: number[] = []
    for (let j = 0; j < n; j++) if (passive[j]) idx.push(j)
    const sub = a.map((row) => idx.map((j) => row[j] as number))
    const z = leastSquares(sub, b)
    const s = new Array<number>(n).fill(0)
    idx.forEach((j, k) => {
      s[j] = z[k] as number
    })
    return s
  }
  let iterations = 0
  let w = gradient()
  for (;;) {
    let t = -1
    let best = tol
    for (let j = 0; j < n; j++) {
      if (!passive[j] && (w[j] as number) > best) {
        best = w[j] as number
        t = j
      }
    }
    if (t < 0 || iterations >= maxIterations) break
    passive[t] = true
    for (;;) {
      iterations++
      const s = solvePassive()
      let allPositive = true
      for (let j = 0; j < n; j++) if (passive[j] && (s[j] as number) <= 0) allPositive = false
      if (allPositive || iterations >= maxIterations) {
        for (let j = 0; j < n; j++) x[j] = passive[j] ? Math.max(0, s[j] as number) : 0
        break
      }
      let alpha = Infinity
      for (let j = 0; j < n; j++) {
        if (passive[j] && (s[j] as number) <= 0) {
          const xj = x[j] as number
          const ratio = xj / (xj - (s[j] as number))
          if (ratio < alpha) alpha = ratio
        }
      }
      if (!Number.isFinite(alpha)) alpha = 0
      for (let j = 0; j < n; j++) {
        x[j] = (x[j] as number) + alpha * ((s[j] as number) - (x[j] as number))
        if (passive[j] && Math.abs(x[j] as number) <= 1e-15 * (1 + Math.abs(s[j] as number))) {
          passive[j] = false
          x[j] = 0
        }
      }
      // A column whose own solution went non-positive leaves the passive set.
      for (let j = 0; j < n; j++) if (passive[j] && (x[j] as number) <= 0) passive[j] = false
    }
    w = gradient()
  }
  let rn = 0
  for (let i = 0; i < m; i++) {
    let s = b[i] as number
    for (let j = 0; j < n; j++) s -= col(i, j) * (x[j] as number)
    rn += s * s
  }
  return { x, residualNorm: Math.sqrt(rn), iterations }
}

/**
 * NNLS on relative error: min Σ ((Σ_j x_j A_ij − y_i) / y_i)², x ≥ 0. Relative error keeps the
 * microsecond kernels and the second-long prefills equally weighted.
 */
export const nnlsRelative = (a: ReadonlyArray<ReadonlyArray<number>>, y: ReadonlyArray<number>): number[] => {
  const rows = a.map((row, i) => row.map((v) => v / (y[i] as number)))
  return nnls(
    rows,
    y.map(() => 1),
  ).x
}

/**
 * Fit y ≈ max(x_c·C, Σ_k x_m[k]·M_k) + Σ_j x_f[j]·F_j with all x ≥ 0 on relative error: the roofline
 * of a kernel that is either compute- or memory-bound, plus terms paid in both regimes. The max is
 * not linear, so each point is assigned to the regime its current prediction picks and the linear
 * NNLS is re-solved until the assignment stops changing (k-plane regression); the best iterate wins.
 */
export interface MaxFitInput {
  readonly compute: ReadonlyArray<ReadonlyArray<number>> // per point, compute-side columns (summed inside the max)
  readonly memory: ReadonlyArray<ReadonlyArray<number>> // per point, memory-side columns
  readonly fixed: ReadonlyArray<ReadonlyArray<number>> // per point, additive columns
  readonly y: ReadonlyArray<number>
}

export interface MaxFitResult {
  readonly compute: number[]
  readonly memory: number[]
  readonly fixed: number[]
  readonly rmsRelativeError: number
}

const dot = (c: ReadonlyArray<number>, v: ReadonlyArray<number>): number => {
  let s = 0
  for (let i = 0; i < c.length; i++) s += (c[i] as number) * (v[i] as number)
  return s
}

export const predictMax = (fit: MaxFitResult, compute: ReadonlyArray<number>, memory: ReadonlyArray<number>, fixed: ReadonlyArray<number>): number =>
  Math.max(dot(fit.compute, compute), dot(fit.memory, memory)) + dot(fit.fixed, fixed)

export const fitMaxRoofline = (input: MaxFitInput, maxIterations = 100): MaxFitResult => {
  const n = input.y.length
  const nc = (input.compute[0] ?? []).length
  const nm = (input.memory[0] ?? []).length
  const solve = (computeBound: ReadonlyArray<boolean>): MaxFitResult => {
    const rows: number[][] = []
    for (let i = 0; i < n; i++) {
      const cb = computeBound[i] as boolean
      const c = input.compute[i] as ReadonlyArray<number>
      const mm = input.memory[i] as ReadonlyArray<number>
      rows.push([...c.map((v) => (cb ? v : 0)), ...mm.map((v) => (cb ? 0 : v)), ...(input.fixed[i] as ReadonlyArray<number>)])
    }
    const x = nnlsRelative(rows, input.y)
    const fit = { compute: x.slice(0, nc), memory: x.slice(nc, nc + nm), fixed: x.slice(nc + nm), rmsRelativeError: 0 }
    return { ...fit, rmsRelativeError: rmsRelative(fit) }
  }
  const rmsRelative = (fit: Omit<MaxFitResult, "rmsRelativeError">): number => {
    let s = 0
    for (let i = 0; i < n; i++) {
      const p = predictMax({ ...fit, rmsRelativeError: 0 }, input.compute[i] as ReadonlyArray<number>, input.memory[i] as ReadonlyArray<number>, input.fixed[i] as ReadonlyArray<number>)
      const y = input.y[i] as number
      s += ((p - y) / y) ** 2
    }
    return Math.sqrt(s / Math.max(1, n))
  }
  // Start from the datasheet roofline: all multipliers 1.
  let assign: boolean[] = []
  for (let i = 0; i < n; i++) {
    let c = 0
    for (const v of input.compute[i] as ReadonlyArray<number>) c += v
    let m = 0
    for (const v of input.memory[i] as ReadonlyArray<number>) m += v
    assign.push(c >= m)
  }
  let best = solve(assign)
  for (let it = 0; it < maxIterations; it++) {
    const fit = solve(assign)
    if (fit.rmsRelativeError < best.rmsRelativeError) best = fit
    const next: boolean[] = []
    let changed = false
    for (let i = 0; i < n; i++) {
      const cb = dot(fit.compute, input.compute[i] as ReadonlyArray<number>) >= dot(fit.memory, input.memory[i] as ReadonlyArray<number>)
      if (cb !== assign[i]) changed = true
      next.push(cb)
    }
    if (!changed) break
    assign = next
  }
  return best
}

/** Median of |predicted − measured| / measured, in percent. */
export const medianAbsPercentError = (predicted: ReadonlyArray<number>, measured: ReadonlyArray<number>): number => {
  const e = predicted.map((p, i) => Math.abs(p - (measured[i] as number)) / (measured[i] as number)).sort((x, y) => x - y)
  if (e.length === 0) return NaN
  const mid = e.length >> 1
  return 100 * (e.length % 2 === 1 ? (e[mid] as number) : ((e[mid - 1] as number) + (e[mid] as number)) / 2)
}

/**
 * Robust NNLS: min Σ |A x − b| subject to x ≥ 0, by iteratively reweighted least squares (each row
 * weighted 1/max(|r_i|, floor) and re-solved with Lawson–Hanson). Used where a few rows measure
 * something the model does not describe, so that they cannot drag the fit the way they would in L2.
 */
export const nnlsL1 = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<number>, iterations = 50, floor = 1e-3): number[] => {
  let x = nnls(a, b).x
  for (let it = 0; it < iterations; it++) {
    const w = a.map((row, i) => {
      let r = b[i] as number
      for (let j = 0; j < row.length; j++) r -= (row[j] as number) * (x[j] as number)
      return 1 / Math.sqrt(Math.max(Math.abs(r), floor))
    })
    const next = nnls(
      a.map((row, i) => row.map((v) => v * (w[i] as number))),
      b.map((v, i) => v * (w[i] as number)),
    ).x
    let change = 0
    for (let j = 0; j < next.length; j++) change = Math.max(change, Math.abs((next[j] as number) - (x[j] as number)) / Math.max(Math.abs(x[j] as number), 1e-12))
    x = next
    if (change < 1e-9) break
  }
  return x
}

export const predictSmooth = (
  fit: MaxFitResult,
  compute: ReadonlyArray<number>,
  memory: ReadonlyArray<number>,
  fixed: ReadonlyArray<number>,
  softness: number,
): number => gemmRoofline(dot(fit.compute, compute), dot(fit.memory, memory), softness) + dot(fit.fixed, fixed)

/**
 * The knee of a max fit: the softness s in [0, 1] for which gemmRoofline(C, M, s) (physics-step-time.ts)
 * with the max fit's coefficients has the least RMS relative error (golden-section search; the error
 * is unimodal in s on the GEMM tables). The coefficients stay the max fit's: far from the ridge the
 * p-norm equals the max, so the compute and weight efficiencies keep what the rows there say and the
 * softness only adds time near the ridge. Deterministic; rounded to 6 digits.
 */
export const fitRooflineSoftness = (input: MaxFitInput, fit: MaxFitResult, iterations = 40): number => {
  const n = input.y.length
  const err = (s: number): number => {
    let e = 0
    for (let i = 0; i < n; i++) {
      const y = input.y[i] as number
      e += ((predictSmooth(fit, input.compute[i]!, input.memory[i]!, input.fixed[i]!, s) - y) / y) ** 2
    }
    return e
  }
  const g = (Math.sqrt(5) - 1) / 2
  let a = 0
  let b = 1
  for (let i = 0; i < iterations; i++) {
    const x1 = b - g * (b - a)
    const x2 = a + g * (b - a)
    if (err(x1) <= err(x2)) b = x2
    else a = x1
  }
  return Math.round(((a + b) / 2) * 1e6) / 1e6
}
