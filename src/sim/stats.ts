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

/**
 * Sorts a Float64Array in place in ascending order (NaN-free input), carrying `payload` along when
 * given: an LSD radix sort on the IEEE-754 bit patterns, 4 passes of 16 bits — several times faster
 * than TypedArray.prototype.sort on the million-element columns of long runs. Bits are moved as
 * uint32 words, so no value is re-encoded.
 */
export const sortFloat64 = (a: Float64Array, payload?: Float64Array): Float64Array => {
  const n = a.length
  if (n < 512 && payload === undefined) return a.sort()
  let src = new Uint32Array(2 * n)
  let dst = new Uint32Array(2 * n)
  let pSrc = payload === undefined ? undefined : Float64Array.from(payload)
  let pDst = payload === undefined ? undefined : new Float64Array(n)
  src.set(new Uint32Array(a.buffer, a.byteOffset, 2 * n))
  // Map doubles to unsigned keys with the same order: flip the sign bit of positives, all bits of negatives.
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1]!
    if ((hi & 0x80000000) !== 0) {
      src[2 * i] = ~src[2 * i]! >>> 0
      src[2 * i + 1] = ~hi >>> 0
    } else src[2 * i + 1] = (hi | 0x80000000) >>> 0
  }
  const counts = new Uint32Array(65536)
  for (let pass = 0; pass < 4; pass++) {
    const word = pass >> 1
    const shift = (pass & 1) * 16
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[(src[2 * i + word]! >>> shift) & 0xffff]!++
    if (n > 0 && counts[(src[word]! >>> shift) & 0xffff] === n) continue // every key has this digit
    let sum = 0
    for (let d = 0; d < 65536; d++) {
      const c = counts[d]!
      counts[d] = sum
      sum += c
    }
    for (let i = 0; i < n; i++) {
      const pos = counts[(src[2 * i + word]! >>> shift) & 0xffff]!++
      dst[2 * pos] = src[2 * i]!
      dst[2 * pos + 1] = src[2 * i + 1]!
      if (pSrc !== undefined) pDst![pos] = pSrc[i]!
    }
    const t = src
    src = dst
    dst = t
    if (pSrc !== undefined) {
      const tp = pSrc
      pSrc = pDst!
      pDst = tp
    }
  }
  for (let i = 0; i < n; i++) {
    const hi = src[2 * i + 1]!
    if ((hi & 0x80000000) !== 0) src[2 * i + 1] = (hi & 0x7fffffff) >>> 0
    else {
      src[2 * i] = ~src[2 * i]! >>> 0
      src[2 * i + 1] = ~hi >>> 0
    }
  }
  new Uint32Array(a.buffer, a.byteOffset, 2 * n).set(src)
  if (payload !== undefined) payload.set(pSrc!)
  return a
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
export const sortPairs = (keys: Float64Array, values: Float64Array): [Float64Array, Float64Array] => {
  const k = Float64Array.from(keys)
  const v = Float64Array.from(values)
  sortFloat64(k, v)
  return [k, v]
}

/** Distribution of a multiset of (value, count) pairs; values need not be sorted. */
export const weightedDistributionOf = (values: Float64Array, counts: Float64Array): Distribution => {
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

/** A growable Float64Array, so long runs keep per-request numbers without JS arrays of boxed values. */
export class FloatColumn {
  data: Float64Array
  length = 0

  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity)
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[this.length++] = v
  }

  /** Sets index i, growing as needed (gaps are 0). */
  set(i: number, v: number): void {
    while (i >= this.data.length) {
      const next = new Float64Array(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[i] = v
    if (i >= this.length) this.length = i + 1
  }

  get(i: number): number {
    return this.data[i]!
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length)
  }
}

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
