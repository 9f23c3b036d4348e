// Pareto sets: (a) cost per 1M output tokens (min) against serial tokens/s per request = 1000/TPOT
// (max), Erdil, "Inference economics of language models" (arXiv 2506.04645); (b) quality (max) against
// cost (min), the production frontier of arXiv 2510.26136. Plus the parser for the user's quality CSV.
// Pure.
import { parseCsvRecords } from "../format/csv.ts"

export interface Objective<T> {
  readonly value: (item: T) => number
  readonly sense: "min" | "max"
}

/**
 * Indices of the non-dominated items, in input order. An item is dominated when another is at least
 * as good in every objective and strictly better in one; items with a non-finite objective are left
 * out. Equal items do not dominate each other, so duplicates on the frontier are all kept.
 */
export const paretoIndices = <T>(items: ReadonlyArray<T>, objectives: ReadonlyArray<Objective<T>>): number[] => {
  // Normalise to "larger is better".
  const vectors = items.map((it) => objectives.map((o) => (o.sense === "max" ? o.value(it) : -o.value(it))))
  const ok = vectors.map((v) => v.every((x) => Number.isFinite(x)))
  const dominates = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
    let strictly = false
    for (let k = 0; k < a.length; k++) {
      const x = a[k] ?? Number.NaN
      const y = b[k] ?? Number.NaN
      if (x < y) return false
      if (x > y) strictly = true
    }
    return strictly
  }
  const out: number[] = []
  vectors.forEach((v, i) => {
    if (!ok[i]) return
    const dominated = vectors.some((w, j) => j !== i && ok[j] === true && dominates(w, v))
    if (!dominated) out.push(i)
  })
  return out
}

/** Serial decode speed of one request, tokens/s, from its time per output token. */
export const serialTokensPerSecond = (tpotMs: number): number => (tpotMs > 0 ? 1000 / tpotMs : Number.NaN)

/** (a) Erdil's frontier: cheapest $/1M output tokens for each attainable per-request speed. */
export const costSpeedFrontier = (
  points: ReadonlyArray<{ readonly usdPerMOutput: number; readonly tpotMs: number }>,
): number[] =>
  paretoIndices(points, [
    { value: (p) => p.usdPerMOutput, sense: "min" },
    { value: (p) => serialTokensPerSecond(p.tpotMs), sense: "max" },
  ])

/** (b) Production frontier: highest quality for the money. */
export const qualityCostFrontier = (
  rows: ReadonlyArray<{ readonly score: number; readonly costUsd: number }>,
): number[] =>
  paretoIndices(rows, [
    { value: (r) => r.score, sense: "max" },
    { value: (r) => r.costUsd, sense: "min" },
  ])

export interface QualityScore {
  readonly model: string
  readonly score: number
}

export type ParseResult<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: string }

/**
 * Parses the quality CSV: one `model,score` row per line; an optional `model,score` header; blank lines
 * and lines starting with # are skipped. Errors are one line naming the file, line and field.
 */
export const parseQualityCsv = (text: string, fileName = "quality CSV"): ParseResult<ReadonlyArray<QualityScore>> => {
  const rows: QualityScore[] = []
  const seen = new Map<string, number>()
  const parsed = parseCsvRecords(text)
  if (!parsed.ok) return { ok: false, error: `${fileName} line ${parsed.line}: ${parsed.error}` }
  let headerAllowed = true
  for (const record of parsed.records) {
    const lineNo = record.line
    const fields = record.cells.map((c) => c.trim())
    if (fields.every((f) => f === "") || fields[0]!.startsWith("#")) continue
    const at = `${fileName} line ${lineNo}`
    if (headerAllowed) {
      headerAllowed = false
      if (fields.length === 2 && fields[0]?.toLowerCase() === "model" && fields[1]?.toLowerCase() === "score") continue
    }
    if (fields.length !== 2) return { ok: false, error: `${at}: expected 2 fields (model,score), got ${fields.length}` }
    const model = fields[0] ?? ""
    const scoreText = fields[1] ?? ""
    if (model === "") return { ok: false, error: `${at}: field 1 (model) is empty` }
    const score = Number(scoreText)
    if (scoreText === "" || !Number.isFinite(score))
      return { ok: false, error: `${at}: field 2 (score) "${scoreText}" is not a number` }
    const previous = seen.get(model)
    if (previous !== undefined)
      return { ok: false, error: `${at}: field 1 (model) "${model}" already given on line ${previous}` }
    seen.set(model, lineNo)
    rows.push({ model, score })
  }
  if (rows.length === 0) return { ok: false, error: `${fileName}: no model,score rows` }
  return { ok: true, value: rows }
}
