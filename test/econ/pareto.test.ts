import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
  costSpeedFrontier,
  paretoIndices,
  parseQualityCsv,
  qualityCostFrontier,
  serialTokensPerSecond,
} from "../../src/econ/pareto.ts"

describe("Pareto sets", () => {
  test("cost vs serial speed (Erdil): cheaper-and-faster points dominate", () => {
    const pts = [
      { usdPerMOutput: 0.5, tpotMs: 10 }, // 100 tok/s: fastest → frontier
      { usdPerMOutput: 0.2, tpotMs: 25 }, // 40 tok/s → frontier
      { usdPerMOutput: 0.3, tpotMs: 30 }, // dominated by the one above
      { usdPerMOutput: 0.1, tpotMs: 50 }, // cheapest → frontier
      { usdPerMOutput: 0.1, tpotMs: 50 }, // duplicate: kept
    ]
    expect(costSpeedFrontier(pts)).toEqual([0, 1, 3, 4])
    expect(serialTokensPerSecond(20)).toBe(50)
  })

  test("quality vs cost: better-and-cheaper models dominate", () => {
    const rows = [
      { score: 76.2, costUsd: 0.34 },
      { score: 70, costUsd: 0.5 }, // dominated
      { score: 80, costUsd: 2 },
      { score: 60, costUsd: 0.1 },
    ]
    expect(qualityCostFrontier(rows)).toEqual([0, 2, 3])
  })

  test("no frontier point is dominated; every other point is dominated by a frontier point", () => {
    const dominates = (a: readonly [number, number], b: readonly [number, number]) =>
      a[0] <= b[0] && a[1] >= b[1] && (a[0] < b[0] || a[1] > b[1])
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20 })), { maxLength: 40 }),
        (pts) => {
          const front = paretoIndices(pts, [
            { value: (p) => p[0], sense: "min" },
            { value: (p) => p[1], sense: "max" },
          ])
          const inFront = new Set(front)
          pts.forEach((p, i) => {
            const dominatedByAny = pts.some((q) => dominates(q, p))
            expect(inFront.has(i)).toBe(!dominatedByAny)
            if (!inFront.has(i)) expect(front.some((j) => dominates(pts[j] ?? [0, 0], p))).toBe(true)
          })
        },
      ),
    )
  })

  test("non-finite objectives are left out", () => {
    expect(costSpeedFrontier([{ usdPerMOutput: 1, tpotMs: 0 }, { usdPerMOutput: 2, tpotMs: 10 }])).toEqual([1])
  })
})

describe("quality CSV", () => {
  test("header, comments, blank lines, quoted names", () => {
    const text = '\uFEFFmodel,score\n# scores from WiNEval\n\nwingpt-3.5, 76.2\n"org/model, v2",70\r\n"say ""hi""",1e1\n'
    expect(parseQualityCsv(text)).toEqual({
      ok: true,
      value: [
        { model: "wingpt-3.5", score: 76.2 },
        { model: "org/model, v2", score: 70 },
        { model: 'say "hi"', score: 10 },
      ],
    })
  })

  test("without a header", () => {
    expect(parseQualityCsv("a,1\nb,2")).toEqual({
      ok: true,
      value: [
        { model: "a", score: 1 },
        { model: "b", score: 2 },
      ],
    })
  })

  test("one-line errors naming file, line and field", () => {
    const err = (text: string) => {
      const r = parseQualityCsv(text, "scores.csv")
      return r.ok ? "ok" : r.error
    }
    expect(err("model,score\na,1\nb,abc\n")).toBe('scores.csv line 3: field 2 (score) "abc" is not a number')
    expect(err("a,1,2")).toBe("scores.csv line 1: expected 2 fields (model,score), got 3")
    expect(err("a")).toBe("scores.csv line 1: expected 2 fields (model,score), got 1")
    expect(err(",5")).toBe("scores.csv line 1: field 1 (model) is empty")
    expect(err("a,")).toBe('scores.csv line 1: field 2 (score) "" is not a number')
    expect(err("a,1\n\na,2")).toBe('scores.csv line 3: field 1 (model) "a" already given on line 1')
    expect(err('"a,1')).toBe("scores.csv line 1: unterminated quote")
    expect(err('a,1\n"b"x,2')).toBe("scores.csv line 2: text after a quoted field")
    expect(err("model,score\n# nothing\n")).toBe("scores.csv: no model,score rows")
    for (const e of [err("a,x"), err("")]) expect(e).not.toContain("\n")
  })
})
