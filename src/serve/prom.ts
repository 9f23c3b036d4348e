// Prometheus text exposition as vLLM's prometheus_client writes it: `# HELP` / `# TYPE` per family,
// labels in alphabetical order (so `le` falls between `engine` and `model_name`), floats in Python's
// repr with prometheus_client's exponent switch (1.0440704e+09), histograms as cumulative
// `_bucket{le}` then `_count` then `_sum`, and a `<name>_created` gauge family after every counter
// and histogram (single-process mode). Shapes checked against
// ../shared/data/vllm-captures/metrics_v1_0.25.1_*.txt. Pure: no I/O, no clock.

/** Python's repr() of a float: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
export const pyFloatRepr = (x: number): string => {
  if (Number.isNaN(x)) return "nan"
  if (x === Number.POSITIVE_INFINITY) return "inf"
  if (x === Number.NEGATIVE_INFINITY) return "-inf"
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0"
  const sign = x < 0 ? "-" : ""
  const exp = Math.abs(x).toExponential() // shortest digits: "1.2345e-5"
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp)
  if (m === null) return String(x)
  const digits = m[1]! + (m[2] ?? "")
  const e = Number(m[3])
  if (e < -4 || e >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const es = Math.abs(e) < 10 ? `0${Math.abs(e)}` : String(Math.abs(e))
    return `${sign}${mantissa}e${e < 0 ? "-" : "+"}${es}`
  }
  if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`
  const intPart = digits.length > e + 1 ? digits.slice(0, e + 1) : digits + "0".repeat(e + 1 - digits.length)
  const frac = digits.length > e + 1 ? digits.slice(e + 1) : "0"
  return `${sign}${intPart}.${frac}`
}

/** prometheus_client's floatToGoString: Go switches to exponents above 6 integer digits. */
export const promNumber = (x: number): string => {
  if (x === Number.POSITIVE_INFINITY) return "+Inf"
  if (x === Number.NEGATIVE_INFINITY) return "-Inf"
  if (Number.isNaN(x)) return "NaN"
  const s = pyFloatRepr(x)
  const dot = s.indexOf(".")
  if (x > 0 && dot > 6 && !s.includes("e")) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, "")
    return `${mantissa}e+${String(dot - 1).padStart(2, "0")}`
  }
  return s
}

const escapeLabel = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

export type Labels = Readonly<Record<string, string>>

/** `{a="x",b="y"}` with names sorted, or "" for no labels. */
export const renderLabels = (labels: Labels): string => {
  const keys = Object.keys(labels).sort()
  if (keys.length === 0) return ""
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",")}}`
}

/** vLLM's build_1_2_5_buckets(max_value): 1, 2, 5, 10, 20, 50, … up to max_value. */
export const buckets125 = (maxValue: number): number[] => {
  const out: number[] = []
  for (let exponent = 1; ; exponent *= 10) {
    for (const m of [1, 2, 5]) {
      const v = m * exponent
      if (v > maxValue) return out
      out.push(v)
    }
  }
}

/** Bucket bounds of vLLM 0.25.1 (vllm/v1/metrics/loggers.py, as the captured page shows them). */
export const TTFT_BUCKETS: ReadonlyArray<number> = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
]
export const ITL_BUCKETS: ReadonlyArray<number> = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
]
export const REQUEST_LATENCY_BUCKETS: ReadonlyArray<number> = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0,
]
export const ITERATION_TOKEN_BUCKETS: ReadonlyArray<number> = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
export const PARAMS_N_BUCKETS: ReadonlyArray<number> = [1, 2, 5, 10, 20]
/** prometheus_fastapi_instrumentator's buckets. */
export const HTTP_HIGHR_BUCKETS: ReadonlyArray<number> = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 7.5, 10.0, 30.0, 60.0,
]
export const HTTP_HANDLER_BUCKETS: ReadonlyArray<number> = [0.1, 0.5, 1.0]

/** A histogram of one label set: per-bucket (non-cumulative) counts, rendered cumulatively. */
export class Histogram {
  readonly bounds: ReadonlyArray<number>
  private readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(bounds: ReadonlyArray<number>) {
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  observe(v: number): void {
    let i = 0
    while (i < this.bounds.length && v > this.bounds[i]!) i++
    this.counts[i]! += 1
    this.sum += v
    this.count++
  }

  /** Cumulative counts per bound, then +Inf. */
  cumulative(): number[] {
    const out: number[] = []
    let acc = 0
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i]!
      out.push(acc)
    }
    return out
  }
}

/** Writes families in prometheus_client's layout. */
export class PromWriter {
  private readonly lines: string[] = []
  private readonly created: number

  /** `created`: unix seconds written in every `_created` series. */
  constructor(created: number) {
    this.created = created
  }

  private header(name: string, help: string, type: string): void {
    this.lines.push(`# HELP ${name} ${help}`)
    this.lines.push(`# TYPE ${name} ${type}`)
  }

  private createdFamily(base: string, help: string, labelSets: ReadonlyArray<Labels>): void {
    this.header(`${base}_created`, help, "gauge")
    for (const l of labelSets) this.lines.push(`${base}_created${renderLabels(l)} ${promNumber(this.created)}`)
  }

  gauge(name: string, help: string, series: ReadonlyArray<readonly [Labels, number]>): void {
    this.header(name, help, "gauge")
    for (const [l, v] of series) this.lines.push(`${name}${renderLabels(l)} ${promNumber(v)}`)
  }

  /** A counter exposed as `<base>_total` with its `<base>_created` family. */
  counter(base: string, help: string, series: ReadonlyArray<readonly [Labels, number]>, withCreated = true): void {
    this.header(`${base}_total`, help, "counter")
    for (const [l, v] of series) this.lines.push(`${base}_total${renderLabels(l)} ${promNumber(v)}`)
    if (withCreated) this.createdFamily(base, help, series.map(([l]) => l))
  }

  histogram(name: string, help: string, series: ReadonlyArray<readonly [Labels, Histogram]>, withCreated = true): void {
    this.header(name, help, "histogram")
    for (const [l, h] of series) {
      const cum = h.cumulative()
      for (let i = 0; i <= h.bounds.length; i++) {
        const le = i < h.bounds.length ? promNumber(h.bounds[i]!) : "+Inf"
        this.lines.push(`${name}_bucket${renderLabels({ ...l, le })} ${promNumber(cum[i]!)}`)
      }
      this.lines.push(`${name}_count${renderLabels(l)} ${promNumber(h.count)}`)
      this.lines.push(`${name}_sum${renderLabels(l)} ${promNumber(h.sum)}`)
    }
    if (withCreated) this.createdFamily(name, help, series.map(([l]) => l))
  }

  summary(name: string, help: string, series: ReadonlyArray<readonly [Labels, { count: number; sum: number }]>): void {
    this.header(name, help, "summary")
    for (const [l, s] of series) {
      this.lines.push(`${name}_count${renderLabels(l)} ${promNumber(s.count)}`)
      this.lines.push(`${name}_sum${renderLabels(l)} ${promNumber(s.sum)}`)
    }
    this.createdFamily(name, help, series.map(([l]) => l))
  }

  text(): string {
    return `${this.lines.join("\n")}\n`
  }
}
