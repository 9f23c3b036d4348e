import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
  checkSlo,
  DEFAULT_SLO,
  optimalIndex,
  parseSloSpec,
  saturationIndex,
  slaBoundaryIndex,
} from "../../src/econ/saturation.ts"

const curve = (pairs: ReadonlyArray<readonly [number, number]>) => pairs.map(([load, throughput]) => ({ load, throughput }))

describe("saturation point", () => {
  test("the first load after which throughput stops growing in proportion", () => {
    // elasticities: 8→16 0.78, 16→32 0.64, 32→48 0.50, 48→64 0.42, then flat.
    const pts = curve([
      [8, 667],
      [16, 1143],
      [32, 1778],
      [48, 2182],
      [64, 2461],
      [96, 2470],
      [128, 2465],
    ])
    expect(saturationIndex(pts)).toBe(4)
    // A stricter rule (gains below 0.1) waits for the same point; a looser one (0.6) stops earlier.
    expect(saturationIndex(pts, 0.1)).toBe(4)
    expect(saturationIndex(pts, 0.6)).toBe(2)
  })

  test("input order does not matter; the index refers to the input", () => {
    const pts = curve([
      [128, 2465],
      [8, 667],
      [64, 2461],
      [16, 1143],
      [96, 2470],
      [32, 1778],
      [48, 2182],
    ])
    expect(saturationIndex(pts)).toBe(2)
  })

  test("one noisy dip does not end the sweep early", () => {
    const pts = curve([
      [8, 800],
      [16, 1600],
      [32, 1620], // dip
      [64, 6000],
      [128, 6100],
    ])
    expect(saturationIndex(pts)).toBe(3)
  })

  test("never when throughput grows in proportion; at the first point when it is flat", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 2, maxLength: 12 }),
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        (loads, k) => {
          const sorted = [...loads].sort((a, b) => a - b)
          expect(saturationIndex(sorted.map((l) => ({ load: l, throughput: k * l })))).toBeUndefined()
          expect(saturationIndex(sorted.map((l) => ({ load: l, throughput: k })))).toBe(0)
        },
      ),
    )
  })

  test("a falling curve is saturated; a single point is not judged", () => {
    expect(saturationIndex(curve([[8, 100], [16, 90], [32, 80]]))).toBe(0)
    expect(saturationIndex(curve([[8, 100]]))).toBeUndefined()
  })
})

const latency = (ttft: number, tpot: number) => ({
  mean_ttft_ms: ttft,
  median_ttft_ms: ttft,
  p99_ttft_ms: 3 * ttft,
  mean_tpot_ms: tpot,
  median_tpot_ms: tpot,
  p99_tpot_ms: 2 * tpot,
  mean_e2el_ms: 1000,
  median_e2el_ms: 1000,
  p99_e2el_ms: 5000,
})

describe("SLOs", () => {
  test("defaults: TTFT ≤ 1000 ms and TPOT ≤ 50 ms (20 tok/s) on the mean", () => {
    expect(DEFAULT_SLO).toEqual({ ttftMs: 1000, tpotMs: 50, stat: "mean" })
    expect(checkSlo(latency(999, 50), DEFAULT_SLO)).toEqual({ meets: true, violations: [] })
    expect(checkSlo(latency(1200, 51), DEFAULT_SLO)).toEqual({
      meets: false,
      violations: ["mean TTFT 1200 ms > 1000 ms", "mean TPOT 51.0 ms > 50.0 ms"],
    })
    // On p99 the same point fails on TTFT only (3 × 400 > 1000).
    expect(checkSlo(latency(400, 20), { ...DEFAULT_SLO, stat: "p99" }).violations).toEqual(["p99 TTFT 1200 ms > 1000 ms"])
  })

  test("parses ttft:…,tpot:…[,e2el:…][,stat:…] with one-line errors", () => {
    expect(parseSloSpec("ttft:1000,tpot:50")).toEqual({ ok: true, value: { ttftMs: 1000, tpotMs: 50, stat: "mean" } })
    expect(parseSloSpec(" tpot:40 , stat:p99 ")).toEqual({ ok: true, value: { tpotMs: 40, stat: "p99" } })
    expect(parseSloSpec("ttft:abc")).toEqual({ ok: false, error: 'SLO ttft "abc" must be a positive number of ms' })
    expect(parseSloSpec("itl:5")).toEqual({ ok: false, error: 'SLO key "itl" must be ttft, tpot, e2el or stat' })
    expect(parseSloSpec("ttft")).toEqual({ ok: false, error: 'SLO term "ttft" is not key:value' })
    expect(parseSloSpec("stat:p90")).toEqual({ ok: false, error: 'SLO stat "p90" must be mean, median or p99' })
    expect(parseSloSpec("")).toMatchObject({ ok: false })
  })
})

describe("optimal point and SLA boundary", () => {
  test("optimal = cheapest meeting the SLOs", () => {
    expect(
      optimalIndex([
        { meetsSlo: true, cost: 0.3 },
        { meetsSlo: false, cost: 0.1 },
        { meetsSlo: true, cost: 0.2 },
      ]),
    ).toBe(2)
    expect(optimalIndex([{ meetsSlo: false, cost: 1 }])).toBeUndefined()
  })

  test("SLA boundary = highest load before the first violation", () => {
    const pts = [
      { load: 64, meetsSlo: false },
      { load: 8, meetsSlo: true },
      { load: 32, meetsSlo: true },
      { load: 16, meetsSlo: true },
      { load: 96, meetsSlo: true }, // meets again above a violation: ignored
    ]
    expect(slaBoundaryIndex(pts)).toBe(2)
    expect(slaBoundaryIndex([{ load: 8, meetsSlo: false }])).toBeUndefined()
  })
})
