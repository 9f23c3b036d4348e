// Trace replay: requests with recorded arrival times and lengths. Accepts the per-request replays of
// ../shared/data/serving/per-request-replays/*/*/requests.jsonl as they are (input_toks, output_toks,
// arrival_time in epoch seconds) and generic JSONL/CSV traces. Times are shifted so the first arrival
// is t = 0, and requests are sorted by arrival (stable: ties keep file order).
import type { RequestSpec, SharedPrefix } from "../types.ts"
import type { CountedOpenLoopWorkload } from "./synthetic.ts"

export type TraceFormat = "jsonl" | "csv"

// Accepted names per field, first match wins.
const ARRIVAL = ["arrival_time", "timestamp"] as const
const INPUT = ["input_tokens", "prompt_tokens", "input_toks"] as const
const OUTPUT = ["output_tokens", "completion_tokens", "output_toks"] as const

type Row = ReadonlyMap<string, unknown>

interface Parsed {
  readonly spec: Omit<RequestSpec, "arrival"> & { arrival: number }
  readonly order: number
}

const pick = (row: Row, names: ReadonlyArray<string>): [string, unknown] | undefined => {
  for (const n of names) {
    const v = row.get(n)
    if (v !== undefined) return [n, v]
  }
  return undefined
}

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v)

/** Prefix-cache keys name content by ids below 2^28 (src/sim/prefix-cache.ts): larger ones would collide. */
const MAX_CONTENT_ID = 2 ** 28 - 1

/**
 * The allowed range of each integer field of a row. Token counts as for measured points (10M);
 * stages as a scenario's stage list (at most 10,000 stages); priorities as vLLM's (any int, here ±1e9).
 */
const INT_RANGES = {
  tokens: [1, 10_000_000],
  prefix_group: [0, MAX_CONTENT_ID],
  content_id: [-1, MAX_CONTENT_ID],
  priority: [-1_000_000_000, 1_000_000_000],
  stage: [0, 9_999],
} as const

/** Epoch seconds up to the year 5138; a trace may also count from 0 or from a negative offset. */
const MAX_ABS_ARRIVAL = 1e11
/** The longest span of arrivals a trace may cover: a scenario stage's longest duration (~3 years). */
const MAX_SPAN_SECONDS = 1e8

/** "line N: field V is outside [a, b] (an integer)" when v is not an integer in [min, max]. */
const intProblem = (at: string, field: string, v: unknown, [min, max]: readonly [number, number]): string | undefined =>
  isInt(v) && v >= min && v <= max ? undefined : `${at}: ${field} ${JSON.stringify(v) ?? String(v)} is outside [${min.toLocaleString("en-US")}, ${max.toLocaleString("en-US")}] (an integer)`

/** One row to a request, or a "line N: ..." error naming the field, its value and the allowed range. */
const parseRow = (row: Row, line: number): Parsed["spec"] | string => {
  const at = `line ${line}`
  const arr = pick(row, ARRIVAL)
  if (arr === undefined) return `${at}: missing arrival_time (or timestamp)`
  if (typeof arr[1] !== "number" || !Number.isFinite(arr[1]) || Math.abs(arr[1]) > MAX_ABS_ARRIVAL)
    return `${at}: ${arr[0]} ${JSON.stringify(arr[1]) ?? String(arr[1])} is not a number of seconds in [-1e11, 1e11]`
  const inp = pick(row, INPUT)
  if (inp === undefined) return `${at}: missing input_tokens (or prompt_tokens)`
  const out = pick(row, OUTPUT)
  if (out === undefined) return `${at}: missing output_tokens (or completion_tokens)`
  const tokenProblem = intProblem(at, inp[0], inp[1], INT_RANGES.tokens) ?? intProblem(at, out[0], out[1], INT_RANGES.tokens)
  if (tokenProblem !== undefined) return tokenProblem
  const inputTokens = inp[1] as number

  let prefixes: ReadonlyArray<SharedPrefix> = []
  const group = row.get("prefix_group")
  const plen = row.get("prefix_len")
  if (group !== undefined) {
    const bad = intProblem(at, "prefix_group", group, INT_RANGES.prefix_group)
    if (bad !== undefined) return bad
    if (plen === undefined) return `${at}: prefix_len is required with prefix_group`
    const badLen = intProblem(at, "prefix_len", plen, [1, inputTokens])
    if (badLen !== undefined) return `${badLen}, at most ${inp[0]}`
    prefixes = [{ id: group as number, length: plen as number }]
  } else if (plen !== undefined) return `${at}: prefix_len needs prefix_group`

  const priority = row.get("priority") ?? 0
  const contentId = row.get("content_id") ?? -1
  const stage = row.get("stage") ?? 0
  const bad =
    intProblem(at, "priority", priority, INT_RANGES.priority) ??
    intProblem(at, "content_id", contentId, INT_RANGES.content_id) ??
    intProblem(at, "stage", stage, INT_RANGES.stage)
  if (bad !== undefined) return bad
  return { arrival: arr[1], inputTokens, outputTokens: out[1] as number, prefixes, contentId: contentId as number, priority: priority as number, stage: stage as number }
}

const jsonlRows = (text: string): Array<[Row, number]> | string => {
  const rows: Array<[Row, number]> = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const l = (lines[i] as string).trim()
    if (l === "") continue
    let v: unknown
    try {
      v = JSON.parse(l)
    } catch {
      return `line ${i + 1}: invalid JSON`
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) return `line ${i + 1}: expected a JSON object`
    rows.push([new Map(Object.entries(v)), i + 1])
  }
  return rows
}

/** Splits one CSV line; handles double-quoted cells with "" escapes. */
const splitCsv = (line: string): string[] => {
  const cells: string[] = []
  let cur = ""
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (c === '"') quoted = false
      else cur += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      cells.push(cur)
      cur = ""
    } else cur += c
  }
  cells.push(cur)
  return cells.map((s) => s.trim())
}

const csvRows = (text: string): Array<[Row, number]> | string => {
  const lines = text.split(/\r?\n/)
  let header: string[] | undefined
  const rows: Array<[Row, number]> = []
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string
    if (l.trim() === "") continue
    const cells = splitCsv(l)
    if (header === undefined) {
      header = cells
      continue
    }
    if (cells.length !== header.length) return `line ${i + 1}: expected ${header.length} columns, found ${cells.length}`
    const row = new Map<string, unknown>()
    header.forEach((h, j) => {
      const cell = cells[j] as string
      // Empty cell = absent; anything else must read as a number (validated per field, which shows
      // a cell that is not one as written).
      if (cell !== "") row.set(h, Number.isFinite(Number(cell)) ? Number(cell) : cell)
    })
    rows.push([row, i + 1])
  }
  if (header === undefined) return "trace: empty (no header line)"
  return rows
}

/** Parses a trace; a string result is a one-line error (`line 17: input_tokens must be a positive integer`). */
export const parseTrace = (text: string, format: TraceFormat): RequestSpec[] | string => {
  const rows = format === "jsonl" ? jsonlRows(text) : csvRows(text)
  if (typeof rows === "string") return rows
  if (rows.length === 0) return "trace: no requests"
  const parsed: Parsed[] = []
  for (const [row, line] of rows) {
    const r = parseRow(row, line)
    if (typeof r === "string") return r
    parsed.push({ spec: r, order: line })
  }
  parsed.sort((a, b) => a.spec.arrival - b.spec.arrival || a.order - b.order)
  const t0 = (parsed[0] as Parsed).spec.arrival
  const last = parsed[parsed.length - 1] as Parsed
  if (last.spec.arrival - t0 > MAX_SPAN_SECONDS)
    return `line ${last.order}: arrival ${last.spec.arrival} is ${(last.spec.arrival - t0).toExponential(3)} s after the first (line ${(parsed[0] as Parsed).order}), more than ${MAX_SPAN_SECONDS.toExponential(0)} s`
  return parsed.map(({ spec }) => ({ ...spec, arrival: spec.arrival - t0 }))
}

/** Replays requests in arrival order. */
export const traceWorkload = (specs: ReadonlyArray<RequestSpec>): CountedOpenLoopWorkload => {
  const sorted = [...specs].sort((a, b) => a.arrival - b.arrival)
  let i = 0
  return {
    kind: "open",
    countRequests: sorted.length,
    stageCount: sorted.reduce((m, r) => Math.max(m, r.stage + 1), 1),
    next: () => (i < sorted.length ? sorted[i++] : undefined),
  }
}
