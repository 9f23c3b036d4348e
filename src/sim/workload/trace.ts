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

/** One row to a request, or a "line N: ..." error. */
const parseRow = (row: Row, line: number): Parsed["spec"] | string => {
  const at = `line ${line}`
  const arr = pick(row, ARRIVAL)
  if (arr === undefined) return `${at}: missing arrival_time (or timestamp)`
  if (typeof arr[1] !== "number" || !Number.isFinite(arr[1])) return `${at}: ${arr[0]} must be a number of seconds`
  const inp = pick(row, INPUT)
  if (inp === undefined) return `${at}: missing input_tokens (or prompt_tokens)`
  if (!isInt(inp[1]) || inp[1] < 1) return `${at}: ${inp[0]} must be a positive integer`
  const out = pick(row, OUTPUT)
  if (out === undefined) return `${at}: missing output_tokens (or completion_tokens)`
  if (!isInt(out[1]) || out[1] < 1) return `${at}: ${out[0]} must be a positive integer`
  const inputTokens = inp[1]

  let prefixes: ReadonlyArray<SharedPrefix> = []
  const group = row.get("prefix_group")
  const plen = row.get("prefix_len")
  if (group !== undefined) {
    if (!isInt(group) || group < 0) return `${at}: prefix_group must be an integer >= 0`
    if (plen === undefined) return `${at}: prefix_len is required with prefix_group`
    if (!isInt(plen) || plen < 1) return `${at}: prefix_len must be a positive integer`
    if (plen > inputTokens) return `${at}: prefix_len must not exceed ${inp[0]} (${inputTokens})`
    prefixes = [{ id: group, length: plen }]
  } else if (plen !== undefined) return `${at}: prefix_len needs prefix_group`

  const priority = row.get("priority") ?? 0
  if (!isInt(priority)) return `${at}: priority must be an integer`
  const contentId = row.get("content_id") ?? -1
  if (!isInt(contentId) || contentId < -1) return `${at}: content_id must be an integer >= 0`
  const stage = row.get("stage") ?? 0
  if (!isInt(stage) || stage < 0) return `${at}: stage must be an integer >= 0`
  return { arrival: arr[1], inputTokens, outputTokens: out[1], prefixes, contentId, priority, stage }
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
      // Empty cell = absent; anything else must read as a number (validated per field).
      if (cell !== "") row.set(h, Number(cell))
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
