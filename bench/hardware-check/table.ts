// Shared pieces of `npm run check-hardware`: CSV rows as objects, signed errors, and the printed
// tables (per-row signed errors, median |error| per GPU and metric, the worst rows).
import { existsSync, readFileSync } from "node:fs"
import { gunzipSync } from "node:zlib"
import { parseCsvRecords } from "../../src/format/csv.ts"
import { medianAbs } from "../../src/calibrate/compare.ts"

export type Row = Readonly<Record<string, string>>

/** A CSV file (gzipped when it ends in .gz) as one object per row keyed by the (trimmed) header; undefined when absent. */
export const readRows = (path: string): Row[] | undefined => {
  if (!existsSync(path)) return undefined
  const raw = readFileSync(path)
  const parsed = parseCsvRecords((path.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8"))
  if (!parsed.ok) throw new Error(`${path}:${parsed.line}: ${parsed.error}`)
  const [head, ...rest] = parsed.records
  const header = (head?.cells ?? []).map((h) => h.trim())
  return rest.map((r) => Object.fromEntries(header.map((h, i) => [h, (r.cells[i] ?? "").trim()])))
}

/** A number from a cell; undefined when blank or not a number. */
export const cell = (row: Row, key: string): number | undefined => {
  const v = row[key]
  if (v === undefined || v === "") return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** Signed % error of a prediction against a measurement. */
export const signedPct = (predicted: number, measured: number): number => ((predicted - measured) / measured) * 100

/** One compared row: a label, its GPU, and per metric the measured and predicted values. */
export interface Comparison {
  readonly label: string
  readonly gpu: string
  readonly values: Readonly<Record<string, { readonly measured: number; readonly predicted: number } | undefined>>
  readonly note?: string
}

const fmt = (x: number): string => (Math.abs(x) >= 1000 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2))
const pct = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(1)}%`

const pad = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")

const printTable = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): void => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  console.log(pad(header, widths))
  for (const r of rows) console.log(pad(r, widths))
}

/** Per-row table: label, GPU, then measured / predicted / signed error per metric. */
export const printRows = (comparisons: ReadonlyArray<Comparison>, metrics: ReadonlyArray<string>): void => {
  const header = ["row", "gpu", ...metrics.flatMap((m) => [`${m} meas`, "pred", "err"]), "note"]
  const rows = comparisons.map((c) => [
    c.label,
    c.gpu,
    ...metrics.flatMap((m) => {
      const v = c.values[m]
      return v === undefined ? ["-", "-", "-"] : [fmt(v.measured), fmt(v.predicted), pct(signedPct(v.predicted, v.measured))]
    }),
    c.note ?? "",
  ])
  printTable(header, rows)
}

/** Signed errors of one metric per GPU. */
export const errorsByGpu = (comparisons: ReadonlyArray<Comparison>, metric: string): Map<string, number[]> => {
  const out = new Map<string, number[]>()
  for (const c of comparisons) {
    const v = c.values[metric]
    if (v === undefined) continue
    const list = out.get(c.gpu) ?? []
    list.push(signedPct(v.predicted, v.measured))
    out.set(c.gpu, list)
  }
  return out
}

const median = (xs: ReadonlyArray<number>): number => {
  const a = [...xs].sort((x, y) => x - y)
  const m = a.length >> 1
  return a.length % 2 === 1 ? a[m]! : (a[m - 1]! + a[m]!) / 2
}

/** Median |error| and median signed error per GPU and metric, then the `worst` rows by |error|. */
export const printSummary = (comparisons: ReadonlyArray<Comparison>, metrics: ReadonlyArray<string>, worst = 5): void => {
  const gpus = [...new Set(comparisons.map((c) => c.gpu))]
  const rows = gpus.map((g) => [
    g,
    ...metrics.map((m) => {
      const errs = errorsByGpu(comparisons, m).get(g) ?? []
      return errs.length === 0 ? "-" : `${medianAbs(errs).toFixed(1)}% (${pct(median(errs))}, n=${errs.length})`
    }),
  ])
  console.log("median |error| (median signed error, rows) per GPU:")
  printTable(["gpu", ...metrics], rows)
  const flat = comparisons.flatMap((c) =>
    metrics.flatMap((m) => {
      const v = c.values[m]
      return v === undefined ? [] : [{ c, m, e: signedPct(v.predicted, v.measured) }]
    }),
  )
  flat.sort((a, b) => Math.abs(b.e) - Math.abs(a.e))
  if (worst <= 0) return
  console.log(`worst ${Math.min(worst, flat.length)}:`)
  for (const w of flat.slice(0, worst)) console.log(`  ${pct(w.e).padStart(8)}  ${w.m.padEnd(10)} ${w.c.gpu.padEnd(9)} ${w.c.label}${w.c.note ? `  (${w.c.note})` : ""}`)
}
