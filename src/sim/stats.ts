// Small numeric helpers with numpy's conventions, as `vllm bench serve` computes its metrics:
// np.mean, np.std (population, ddof = 0), np.median and np.percentile (linear interpolation).
export interface Distribution {
  mean: number
  median: number
  std: number
  p50: number
  p90: number
  p95: number
  p99: number
  /** np.percentile at any p in [0, 1] (vllm bench --metric-percentiles); absent on an empty distribution (all 0). */
  quantile?: (p: number) => number
}

export const emptyDistribution = (): Distribution => ({ mean: 0, median: 0, std: 0, p50: 0, p90: 0, p95: 0, p99: 0 })

/**
 * np.percentile(values, 100·q) with numpy's default linear interpolation, on ascending values (d3's
 * quantileSorted, R-7): the one percentile of servesim, for simulated and measured latencies alike.
 * NaN for no values; +Infinity values are allowed (a failed request as an infinite latency).
 */
export const quantileSortedLinear = (sorted: ArrayLike<number>, q: number): number => {
  const n = sorted.length
  if (n === 0) return Number.NaN
  const pos = q * (n - 1)
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, n - 1)
  const frac = pos - lo
  const a = sorted[lo]!
  const b = sorted[hi]!
  if (frac === 0 || a === b) return a
  if (!Number.isFinite(b)) return Number.POSITIVE_INFINITY
  return a + frac * (b - a)
}

/** Runs of equal high words at most this long are finished by insertion sort. */
const SHORT_RUN = 32

/**
 * Sorts a Float64Array in place in ascending order (NaN-free input), carrying `payload` along when
 * given. Each double is split into order-preserving unsigned words (sign bit flipped for positives,
 * all bits for negatives); an LSD radix sort of 2 passes of 16 bits orders the high words (sign,
 * exponent, 20 mantissa bits), then each run of equal high words is sorted by its low word — runs are
 * short for latencies, so this is about twice as fast as 4 full passes and several times faster than
 * TypedArray.prototype.sort on the million-element columns of long runs. Bits are moved as uint32
 * words, so no value is re-encoded.
 */
export const sortFloat64 = (a: Float64Array, payload?: Float64Array): Float64Array => {
  const n = a.length
  if (n < 512 && payload === undefined) return a.sort()
  const words = new Uint32Array(a.buffer, a.byteOffset, 2 * n)
  let hi = new Uint32Array(n)
  let lo = new Uint32Array(n)
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!
    const l = words[2 * i]!
    if ((h & 0x80000000) !== 0) {
      hi[i] = ~h >>> 0
      lo[i] = ~l >>> 0
    } else {
      hi[i] = (h | 0x80000000) >>> 0
      lo[i] = l
    }
  }
  let p: Float64Array | undefined = payload
  let hi2 = new Uint32Array(n)
  let lo2 = new Uint32Array(n)
  let p2: Float64Array | undefined = payload === undefined ? undefined : new Float64Array(n)
  const counts = new Uint32Array(65536)
  for (let shift = 0; shift <= 16; shift += 16) {
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[(hi[i]! >>> shift) & 0xffff]!++
    if (n > 0 && counts[(hi[0]! >>> shift) & 0xffff] === n) continue // every key has this digit
    let sum = 0
    for (let d = 0; d < 65536; d++) {
      const c = counts[d]!
      counts[d] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const h = hi[i]!
      const pos = counts[(h >>> shift) & 0xffff]!++
      hi2[pos] = h
      lo2[pos] = lo[i]!
      if (p !== undefined) p2![pos] = p[i]!
    }
    ;[hi, hi2] = [hi2, hi]
    ;[lo, lo2] = [lo2, lo]
    if (p !== undefined) [p, p2] = [p2!, p]
  }
  for (let i = 0; i < n; ) {
    const h = hi[i]!
    let j = i + 1
    while (j < n && hi[j] === h) j++
    if (j - i <= SHORT_RUN) {
      for (let k = i + 1; k < j; k++) {
        const v = lo[k]!
        const pv = p === undefined ? 0 : p[k]!
        let m = k - 1
        for (; m >= i && lo[m]! > v; m--) {
          lo[m + 1] = lo[m]!
          if (p !== undefined) p[m + 1] = p[m]!
        }
        lo[m + 1] = v
        if (p !== undefined) p[m + 1] = pv
      }
    } else if (!allEqual(lo, i, j)) {
      // A long run of identical values (steps of one shape give identical gaps) is already in order.
      if (p === undefined) lo.subarray(i, j).sort()
      else sortRunWithPayload(lo, p, i, j)
    }
    i = j
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i]!
    const l = lo[i]!
    if ((h & 0x80000000) !== 0) {
      words[2 * i + 1] = (h & 0x7fffffff) >>> 0
      words[2 * i] = l
    } else {
      words[2 * i + 1] = ~h >>> 0
      words[2 * i] = ~l >>> 0
    }
  }
  if (payload !== undefined && p !== payload) payload.set(p!)
  return a
}

const allEqual = (xs: Uint32Array, i: number, j: number): boolean => {
  const v = xs[i]!
  for (let k = i + 1; k < j; k++) if (xs[k] !== v) return false
  return true
}

/** Sorts lo[i, j) ascending with its payload (a long run of equal high words: rare, so a comparison sort). */
const sortRunWithPayload = (lo: Uint32Array, p: Float64Array, i: number, j: number): void => {
  const order = Array.from({ length: j - i }, (_, k) => i + k).sort((x, y) => lo[x]! - lo[y]! || x - y)
  const l = order.map((k) => lo[k]!)
  const v = order.map((k) => p[k]!)
  for (let k = 0; k < order.length; k++) {
    lo[i + k] = l[k]!
    p[i + k] = v[k]!
  }
}

/** Distribution of `values` (sorted in place).  */
export const distributionOf = (values: Float64Array): Distribution => {
  const n = values.length
  if (n === 0) return emptyDistribution()
  sortFloat64(values)
  let sum = 0
  for (let i = 0; i < n; i++) sum += values[i]!
  const mean = sum / n
  let sq = 0
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2
  const q = (p: number) => quantileSortedLinear(values, p)
  return { mean, median: q(0.5), std: Math.sqrt(sq / n), p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), quantile: q }
}

/**
 * Percentile of a multiset given as (value, count) pairs, equal to np.percentile over the expanded list:
 * position p·(N − 1), interpolated linearly between the neighbouring expanded entries.
 */
export const weightedPercentile = (sortedValues: Float64Array, counts: Float64Array, total: number, p: number): number => {
  if (total === 0) return 0
  const pos = p * (total - 1)
  const lo = Math.floor(pos)
  const frac = pos - lo
  let cum = 0
  for (let i = 0; i < sortedValues.length; i++) {
    const c = counts[i]!
    if (lo < cum + c) {
      const v = sortedValues[i]!
      if (frac === 0 || lo + 1 < cum + c) return v
      // The next expanded entry is the next non-empty value.
      for (let j = i + 1; j < sortedValues.length; j++) if (counts[j]! > 0) return v + frac * (sortedValues[j]! - v)
      return v
    }
    cum += c
  }
  return sortedValues[sortedValues.length - 1] ?? 0
}

/** Sorts (key, value) pairs by key into new arrays (radix sort on the keys, values carried along). */
export const sortPairs = (keys: Float64Array, values: ArrayLike<number>): [Float64Array, Float64Array] => {
  const k = Float64Array.from(keys)
  const v = Float64Array.from(values)
  sortFloat64(k, v)
  return [k, v]
}

/** Distribution of a multiset of (value, count) pairs; values need not be sorted. */
export const weightedDistributionOf = (values: Float64Array, counts: ArrayLike<number>): Distribution => {
  const n = values.length
  let total = 0
  let sum = 0
  for (let i = 0; i < n; i++) {
    total += counts[i]!
    sum += values[i]! * counts[i]!
  }
  if (total === 0) return emptyDistribution()
  const mean = sum / total
  let sq = 0
  for (let i = 0; i < n; i++) sq += counts[i]! * (values[i]! - mean) ** 2
  const [sv, sc] = sortPairs(values, counts)
  const q = (p: number) => weightedPercentile(sv, sc, total, p)
  return { mean, median: q(0.5), std: Math.sqrt(sq / total), p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), quantile: q }
}

/** The typed arrays a Column can hold. */
interface TypedArrayOf<A> {
  readonly length: number
  [i: number]: number
  set(source: A): void
  subarray(begin: number, end: number): A
}

/**
 * A growable typed array, so long runs keep per-request numbers without JS arrays of boxed values;
 * integer columns (token counts, stages, states) take 4 or 1 bytes a value instead of 8.
 */
export class Column<A extends TypedArrayOf<A>> {
  data: A
  length = 0
  private readonly make: (n: number) => A

  constructor(make: (n: number) => A, capacity = 1024) {
    this.make = make
    this.data = make(Math.max(1, capacity))
  }

  private grow(): void {
    const next = this.make(this.data.length * 2)
    next.set(this.data)
    this.data = next
  }

  push(v: number): void {
    if (this.length === this.data.length) this.grow()
    this.data[this.length++] = v
  }

  /** Sets index i, growing as needed (gaps are 0). */
  set(i: number, v: number): void {
    while (i >= this.data.length) this.grow()
    this.data[i] = v
    if (i >= this.length) this.length = i + 1
  }

  get(i: number): number {
    return this.data[i]!
  }

  view(): A {
    return this.data.subarray(0, this.length)
  }
}

export const floatColumn = (capacity?: number): Column<Float64Array> => new Column((n) => new Float64Array(n), capacity)
/** For integers in ±2^31 (token counts, stage indices). */
export const int32Column = (capacity?: number): Column<Int32Array> => new Column((n) => new Int32Array(n), capacity)
/** For small codes 0–255. */
export const uint8Column = (capacity?: number): Column<Uint8Array> => new Column((n) => new Uint8Array(n), capacity)

/** Smallest value (Infinity when empty); a loop, since Math.min(...xs) overflows the stack on large arrays. */
export const minOf = (xs: Iterable<number>): number => {
  let m = Number.POSITIVE_INFINITY
  for (const x of xs) if (x < m) m = x
  return m
}

/** Largest value (-Infinity when empty); see minOf. */
export const maxOf = (xs: Iterable<number>): number => {
  let m = Number.NEGATIVE_INFINITY
  for (const x of xs) if (x > m) m = x
  return m
}
