import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { csvField, parseCsvRecords } from "../../src/format/csv.ts"

const cells = (text: string) => {
  const r = parseCsvRecords(text)
  if (!r.ok) throw new Error(`${r.line}: ${r.error}`)
  return r.records.map((x) => x.cells)
}

describe("parseCsvRecords (RFC 4180)", () => {
  it("reads quoted fields with commas, escaped quotes and line breaks, CRLF, a BOM, and skips blank lines", () => {
    expect(cells('\ufeffa,b,c\r\n\r\n1,"x, y",3\n4,"say ""hi""",\n5,"two\nlines",6')).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", "3"],
      ["4", 'say "hi"', ""],
      ["5", "two\nlines", "6"],
    ])
  })

  it("numbers each row by the line it starts on (blank lines and quoted line breaks counted)", () => {
    const r = parseCsvRecords('h\n\n1,"a\nb"\n2\r\n3')
    expect(r.ok && r.records.map((x) => x.line)).toEqual([1, 3, 5, 6])
  })

  it("keeps a last line without a newline", () => {
    expect(cells("h\n1")).toEqual([["h"], ["1"]])
  })

  it("refuses an unterminated quote and text after a closing quote, naming the line", () => {
    expect(parseCsvRecords('a,b\n1,"open\n2,3\n')).toEqual({ ok: false, line: 2, error: "unterminated quote" })
    expect(parseCsvRecords('a,b\n"x"y,2\n')).toEqual({ ok: false, line: 2, error: "text after a quoted field" })
  })

  it("reads back what csvField writes, for any cells", () => {
    const cell = fc.string({ unit: fc.constantFrom("a", "b", ",", '"', "\n", "\r", " ", "1") })
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rows) => {
        const text = rows.map((r) => r.map(csvField).join(",")).join("\n")
        expect(cells(text)).toEqual(rows)
      }),
      { seed: 7, numRuns: 300 },
    )
  })
})
