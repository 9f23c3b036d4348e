// The one CSV reader and writer of servesim (measurement tables, kernel tables, benchmark actuals,
// quality scores; the sweep's CSV output). RFC 4180: quoted fields with doubled quotes, CRLF or LF,
// a leading byte-order mark dropped, blank lines skipped. Written here rather than taken from a
// library because it is 60 lines with no dependency, and the readers need one thing csv-parse would
// not give for free: the line number of every row, for errors that name file:line.

export interface CsvRecord {
  /** 1-based line of the file where the row starts. */
  readonly line: number
  readonly cells: ReadonlyArray<string>
}

export type CsvParse =
  | { readonly ok: true; readonly records: ReadonlyArray<CsvRecord> }
  | { readonly ok: false; readonly line: number; readonly error: string }

/** Rows with their line numbers; an unterminated quote or text after a closing quote is an error. */
export const parseCsvRecords = (text: string): CsvParse => {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const records: CsvRecord[] = []
  let row: string[] = []
  let cell = ""
  let line = 1
  let rowLine = 1
  let quoteLine = 0
  let state: "start" | "plain" | "quoted" | "closed" = "start"
  const endRow = () => {
    row.push(cell)
    if (!(row.length === 1 && row[0] === "")) records.push({ line: rowLine, cells: row })
    row = []
    cell = ""
    state = "start"
  }
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!
    if (state === "quoted") {
      if (c === '"') {
        if (src[i + 1] === '"') {
          cell += '"'
          i++
        } else state = "closed"
      } else {
        if (c === "\n") line++
        cell += c
      }
      continue
    }
    if (c === ",") {
      row.push(cell)
      cell = ""
      state = "start"
    } else if (c === "\n" || c === "\r") {
      endRow()
      if (c === "\r" && src[i + 1] === "\n") i++
      line++
      rowLine = line
    } else if (state === "closed") {
      if (c !== " " && c !== "\t") return { ok: false, line, error: `text after a quoted field` }
    } else if (c === '"' && state === "start") {
      state = "quoted"
      quoteLine = line
    } else {
      cell += c
      state = "plain"
    }
  }
  if (state === "quoted") return { ok: false, line: quoteLine, error: "unterminated quote" }
  if (cell !== "" || row.length > 0) endRow()
  return { ok: true, records }
}

/** One field as RFC 4180 writes it: quoted when it holds a comma, quote or line break. */
export const csvField = (v: string | number | boolean | undefined): string => {
  if (v === undefined) return ""
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
