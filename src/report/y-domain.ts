// The y range of a plot, chosen from its data: a reference line (an SLO bound) is drawn when it lies
// near the data and reported as off-scale otherwise, so a bound 20× above the curves never squashes
// them into the bottom pixels. Pure.

export interface Reference {
  readonly value: number
  readonly label: string
}

export interface YDomain {
  readonly domain: readonly [number, number]
  /** References inside the domain: drawn as lines. */
  readonly shown: ReadonlyArray<Reference>
  /** References outside the domain: named in an annotation instead. */
  readonly offScale: ReadonlyArray<Reference & { readonly side: "above" | "below" }>
}

export interface YDomainOptions {
  readonly log?: boolean
  /**
   * How far beyond the data a reference may lie and still be drawn, as a ratio of the data's extreme
   * (1.5: a bound up to 1.5× the highest value stretches the axis to it).
   */
  readonly reach?: number
  /** Fraction of the span added above the top (and below a nonzero bottom) so marks do not touch the frame. */
  readonly pad?: number
  /** Upper limit of the axis whatever the data (100 for a percentage). */
  readonly ceiling?: number
}

export const DEFAULT_REACH = 1.5

/**
 * Linear: [0, max] for nonnegative data (latencies, throughputs), else [min, max]; log: [min, max] in
 * ratio space. A reference within `reach` of the data extends the domain to include it.
 */
export const yDomain = (values: ReadonlyArray<number>, references: ReadonlyArray<Reference> = [], options: YDomainOptions = {}): YDomain => {
  const log = options.log === true
  const reach = options.reach ?? DEFAULT_REACH
  const pad = options.pad ?? 0.05
  const data = values.filter((v) => Number.isFinite(v) && (!log || v > 0))
  let lo = data.length === 0 ? (log ? 1 : 0) : Math.min(...data)
  let hi = data.length === 0 ? (log ? 10 : 1) : Math.max(...data)
  if (!log && lo >= 0) lo = 0
  const shown: Reference[] = []
  const offScale: Array<Reference & { side: "above" | "below" }> = []
  // References near the data extend it; the test is relative to the data alone, not to other references.
  const dataLo = lo
  const dataHi = hi
  for (const r of references) {
    if (!Number.isFinite(r.value) || (log && r.value <= 0)) continue
    if (r.value >= dataLo && r.value <= dataHi) shown.push(r)
    else if (r.value > dataHi) {
      if (dataHi > 0 ? r.value <= dataHi * reach : r.value - dataHi <= (dataHi - dataLo) * (reach - 1)) {
        shown.push(r)
        hi = Math.max(hi, r.value)
      } else offScale.push({ ...r, side: "above" })
    } else if (log ? r.value >= dataLo / reach : r.value >= dataLo - (dataHi - dataLo) * (reach - 1)) {
      shown.push(r)
      lo = Math.min(lo, r.value)
    } else offScale.push({ ...r, side: "below" })
  }
  if (hi === lo) {
    // All values equal (all zero, for nonnegative data): a window around them.
    if (log) return { domain: [lo / 2, hi * 2], shown, offScale }
    const half = hi === 0 ? 1 : Math.abs(hi) / 2
    return { domain: [hi === 0 ? 0 : lo - half, hi + half], shown, offScale }
  }
  if (log) {
    const f = Math.pow(hi / lo, pad)
    return { domain: [lo / f, hi * f], shown, offScale }
  }
  const span = hi - lo
  let top = hi + span * pad
  if (options.ceiling !== undefined) top = Math.min(top, Math.max(options.ceiling, hi))
  return { domain: [lo === 0 ? 0 : lo - span * pad, top], shown, offScale }
}

/** One line for an annotation: "SLO 1000 ms: off scale (6.2× the highest value)". */
export const offScaleNote = (r: YDomain["offScale"][number], domain: readonly [number, number]): string => {
  const edge = r.side === "above" ? domain[1] : domain[0]
  const ratio = edge !== 0 ? r.value / edge : Number.NaN
  const times = Number.isFinite(ratio) && ratio > 0 ? ` (${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}× the axis ${r.side === "above" ? "top" : "bottom"})` : ""
  return `${r.label} ${r.side === "above" ? "above" : "below"} the scale${times}`
}

/** max/min beyond which a linear axis squeezes the unsaturated points into its bottom pixels. */
export const WIDE_RANGE = 100

/** Whether values call for a log axis: all positive and spanning more than WIDE_RANGE. */
export const wantsLog = (values: ReadonlyArray<number>): boolean => {
  const v = values.filter((x) => Number.isFinite(x))
  return v.length > 0 && v.every((x) => x > 0) && Math.max(...v) / Math.min(...v) > WIDE_RANGE
}
