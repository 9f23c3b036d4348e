import { describe, expect, it } from "vitest"
import { parseCsv } from "../../../src/calibrate/defaults/kernel-data.ts"

describe("parseCsv", () => {
  it("reads quoted fields with commas and escaped quotes, CRLF and blank lines", () => {
    const text = 'a,b,c\r\n\r\n1,"x, y",3\n4,"say ""hi""",\n'
    expect(parseCsv(text)).toEqual([
      ["a", "b", "c"],
      ["1", "x, y", "3"],
      ["4", 'say "hi"', ""],
    ])
  })
  it("keeps a last line without a newline", () => {
    expect(parseCsv("h\n1")).toEqual([["h"], ["1"]])
  })
})
