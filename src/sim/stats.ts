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
 * Work arrays for sortFloat64, kept across the sorts of one summary: a summary sorts several
 * million-value columns in turn, and fresh arrays for each (four word arrays, a payload copy, the
 * digit counts) cost page faults and GC work comparable to the sort's own passes.
 */
export class SortScratch {
  private words = new Int32Array(0)
  private doubles = new Float64Array(0)
  private n = 0
  /** The two 16-bit digits' histograms, side by side. */
  readonly counts = new Int32Array(2 * 65536)

  /** Makes room for sorting n values (contents are not kept). */
  reserve(n: number): void {
    if (n <= this.n) return
    this.n = n
    this.words = new Int32Array(4 * n)
    if (this.doubles.length > 0) this.doubles = new Float64Array(n)
  }

  /** The k-th (0–3) word array of n entries. */
  word(k: number, n: number): Int32Array {
    return this.words.subarray(k * this.n, k * this.n + n)
  }

  /** A Float64Array of n entries for the payload's second buffer. */
  payload(n: number): Float64Array {
    if (this.doubles.length < this.n) this.doubles = new Float64Array(this.n)
    return this.doubles.subarray(0, n)
  }
}

/** Runs of equal high words at most this long are finished by insertion sort. */
const SHORT_RUN = 32

/**
 * Sorts a Float64Array in place in ascending order (NaN-free input), carrying `payload` along when
 * given. Each double is split into two order-preserving words (see below); an LSD radix sort of
 * 2 passes of 16 bits orders the high words (sign,
 * exponent, 20 mantissa bits), then each run of equal high words is sorted by its low word — runs are
 * short for latencies, so this is about twice as fast as 4 full passes and several times faster than
 * TypedArray.prototype.sort on the million-element columns of long runs. Bits are moved as int32
 * words, so no value is re-encoded. `scratch` holds the work arrays (pass one to reuse them).
 */
export const sortFloat64 = (a: Float64Array, payload?: Float64Array, scratch: SortScratch = new SortScratch()): Float64Array => {
  const n = a.length
  if (n < 512 && payload === undefined) return a.sort()
  // Keys are kept as int32 words whose signed order is the doubles' order (signed, so V8 keeps every
  // word an int32 rather than a uint32 that may overflow into a double): a positive double keeps its
  // high word; a negative one has its 31 low bits flipped; the low word is flipped to match.
  const words = new Int32Array(a.buffer, a.byteOffset, 2 * n)
  scratch.reserve(n)
  let hi = scratch.word(0, n)
  let lo = scratch.word(1, n)
  // Both digit histograms in the conversion pass: low 16 bits, then high 16 in unsigned order.
  const counts = scratch.counts
  counts.fill(0)
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + 1]!
    const k = h ^ ((h >> 31) & 0x7fffffff)
    hi[i] = k
    lo[i] = words[2 * i]! ^ (h < 0 ? 0x7fffffff : 0x80000000)
    counts[k & 0xffff]!++
    counts[0x10000 + ((k >>> 16) ^ 0x8000)]!++
  }
  let p: Float64Array | undefined = payload
  let hi2 = scratch.word(2, n)
  let lo2 = scratch.word(3, n)
  let p2: Float64Array | undefined = payload === undefined ? undefined : scratch.payload(n)
  for (let pass = 0; pass < 2; pass++) {
    // Digit 0: the low 16 bits; digit 1: the high 16 with the sign flipped (unsigned order).
    const base = pass * 0x10000
    const shift = pass * 16
    const flip = pass * 0x8000
    if (counts[base + (((hi[0]! >>> shift) ^ flip) & 0xffff)] === n) continue // every key has this digit
    let sum = 0
    for (let d = base; d < base + 0x10000; d++) {
      const c = counts[d]!
      counts[d] = sum
      sum += c
    }
    // Stable scatter by the digit; the payload loop is separate so the common case tests nothing per value.
    if (p === undefined)
      for (let i = 0; i < n; i++) {
        const k = hi[i]!
        const pos = counts[base + (((k >>> shift) ^ flip) & 0xffff)]!++
        hi2[pos] = k
        lo2[pos] = lo[i]!
      }
    else
      for (let i = 0; i < n; i++) {
        const k = hi[i]!
        const pos = counts[base + (((k >>> shift) ^ flip) & 0xffff)]!++
        hi2[pos] = k
        lo2[pos] = lo[i]!
        p2![pos] = p[i]!
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
    const k = hi[i]!
    words[2 * i + 1] = k ^ ((k >> 31) & 0x7fffffff)
    words[2 * i] = lo[i]! ^ (k < 0 ? 0x7fffffff : 0x80000000)
  }
  if (payload !== undefined && p !== payload) payload.set(p!)
  return a
}

const allEqual = (xs: Int32Array, i: number, j: number): boolean => {
  const v = xs[i]!
  for (let k = i + 1; k < j; k++) if (xs[k] !== v) return false
  return true
}

/** Sorts lo[i, j) ascending with its payload (a long run of equal high words: rare, so a comparison sort). */
const sortRunWithPayload = (lo: Int32Array, p: Float64Array, i: number, j: number): void => {
  const order = Array.from({ length: j - i }, (_, k) => i + k).sort((x, y) => lo[x]! - lo[y]! || x - y)
  const l = order.map((k) => lo[k]!)
  const v = order.map((k) => p[k]!)
  for (let k = 0; k < order.length; k++) {
    lo[i + k] = l[k]!
    p[i + k] = v[k]!
  }
}

/** Distribution of `values` (sorted in place).  */
export const distributionOf = (values: Float64Array, scratch?: SortScratch): Distribution => {
  const n = values.length
  if (n === 0) return emptyDistribution()
  sortFloat64(values, undefined, scratch)
  let sum = 0
  for (let i = 0; i < n; i++) sum += values[i]!
  const mean = sum / n
  let sq = 0
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2
  const q = (p: number) => quantileSortedLinear(values, p)
  return { mean, median: q(0.5), std: Math.sqrt(sq / n), p50: q(0.5), p90: q(0.9), p95: q(0.95), p99: q(0.99), quantile: q }
}

/**
 * np.percentile over a multiset given as (value, count) pairs, without sorting the pairs: an MSD radix
 * selection on the values' order-preserving keys (sortFloat64's encoding), 16 bits a level, keeping
 * only the entries whose key prefix holds the wanted rank. A long run has an ITL entry per engine
 * step (a million or more), and sorting them with their counts cost more than all the rest of the
 * summary; a selection costs a pass or two over them per rank and gives the same values.
 */
class WeightedSelection {
  private readonly values: Float64Array
  private readonly counts: ArrayLike<number>
  /** The values' words (low, high per value), read for the keys' digits. */
  private readonly words: Int32Array
  /** Weight of each first digit (the key's top 16 bits), over all entries. */
  private readonly top = new Float64Array(0x10000)
  /** Entries with a non-zero count grouped by first digit: digit d's are byTop[start[d] … start[d + 1]). */
  private readonly byTop: Int32Array
  private readonly start = new Int32Array(0x10001)
  private readonly hist = new Float64Array(0x10000)
  /** Candidates below the first level: at most the largest group. */
  private readonly candidates: Int32Array
  readonly total: number

  constructor(values: Float64Array, counts: ArrayLike<number>, total: number) {
    const n = values.length
    this.values = values
    this.counts = counts
    this.total = total
    this.words = new Int32Array(values.buffer, values.byteOffset, 2 * n)
    this.byTop = new Int32Array(n)
    const start = this.start
    for (let i = 0; i < n; i++) {
      const d = this.digit(0, i)
      this.top[d]! += counts[i]!
      if (counts[i]! > 0) start[d + 1]!++
    }
    let largest = 0
    for (let d = 0; d < 0x10000; d++) {
      if (start[d + 1]! > largest) largest = start[d + 1]!
      start[d + 1]! += start[d]!
    }
    this.candidates = new Int32Array(largest)
    const fill = start.slice(0, 0x10000)
    for (let i = 0; i < n; i++) if (counts[i]! > 0) this.byTop[fill[this.digit(0, i)]!++] = i
  }

  /**
   * Digit `level` (0–3, most significant first) of entry i's key in unsigned order: sortFloat64's
   * encoding (high word with the 31 low bits flipped when negative, low word to match, sign flipped).
   */
  private digit(level: number, i: number): number {
    const h = this.words[2 * i + 1]!
    if (level < 2) {
      const k = h ^ ((h >> 31) & 0x7fffffff)
      return level === 0 ? (k >>> 16) ^ 0x8000 : k & 0xffff
    }
    const l = this.words[2 * i]! ^ (h < 0 ? 0x7fffffff : 0x80000000)
    return level === 2 ? ((l >>> 16) ^ 0x8000) & 0xffff : l & 0xffff
  }

  /** The value at 0-based `rank` of the expanded multiset (rank < total). */
  valueAt(rank: number): number {
    // The first digit whose weight holds the rank, then the rank within it.
    let r = rank
    let d = 0
    while (r >= this.top[d]!) r -= this.top[d++]!
    const cand = this.candidates
    let m = this.start[d + 1]! - this.start[d]!
    cand.set(this.byTop.subarray(this.start[d]!, this.start[d + 1]!))
    const hist = this.hist
    for (let level = 1; level < 4 && m > 1; level++) {
      hist.fill(0)
      for (let k = 0; k < m; k++) hist[this.digit(level, cand[k]!)]! += this.counts[cand[k]!]!
      d = 0
      while (r >= hist[d]!) r -= hist[d++]!
      let kept = 0
      for (let k = 0; k < m; k++) if (this.digit(level, cand[k]!) === d) cand[kept++] = cand[k]!
      m = kept
    }
    // Every remaining entry has the same key, hence the same value.
    return this.values[cand[0]!]!
  }

  /** np.percentile at q in [0, 1]: position q·(N − 1), linear between the neighbouring expanded entries. */
  quantile(q: number): number {
    if (this.total === 0) return 0
    const pos = q * (this.total - 1)
    const lo = Math.floor(pos)
    const frac = pos - lo
    const a = this.valueAt(lo)
    if (frac === 0 || lo + 1 >= this.total) return a
    const b = this.valueAt(lo + 1)
    return b === a ? a : a + frac * (b - a)
  }
}

/** Sorts (key, value) pairs by key into new arrays (radix sort on the keys, values carried along). */
export const sortPairs = (keys: Float64Array, values: ArrayLike<number>, scratch?: SortScratch): [Float64Array, Float64Array] => {
  const k = new Float64Array(keys)
  const v = new Float64Array(values)
  sortFloat64(k, v, scratch)
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
  const selection = new WeightedSelection(values, counts, total)
  const q = (p: number) => selection.quantile(p)
  const median = q(0.5)
  return { mean, median, std: Math.sqrt(sq / total), p50: median, p90: q(0.9), p95: q(0.95), p99: q(0.99), quantile: q }
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
    // By half again rather than double: amortized O(1) still, and a long run's columns end less oversized.
    const next = this.make(Math.ceil(this.data.length * 1.5) + 16)
    next.set(this.data)
    this.data = next
  }

  push(v: number): void {
    if (this.length === this.data.length) this.grow()
    this.data[this.length++] = v
  }

  /**
   * Makes index i writable (growing as needed; gaps are 0) and returns the array to write it in.
   * Hot paths write `col.at(i)[i] = v` rather than call set: a store inside set sees every column's
   * array type and is compiled as a slow polymorphic store; a store at the caller sees just one.
   */
  at(i: number): A {
    while (i >= this.data.length) this.grow()
    if (i >= this.length) this.length = i + 1
    return this.data
  }

  /** Index of a new last entry, for `const k = col.append(); col.data[k] = v` (see `at`). */
  append(): number {
    if (this.length === this.data.length) this.grow()
    return this.length++
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
