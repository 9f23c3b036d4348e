import { describe, expect, test } from "vitest"
import {
  applyPoint,
  expandGrid,
  gpuCountOf,
  orderAxes,
  parseAxis,
  prefixShareSplit,
  scaleLength,
  type GridAxis,
} from "../../src/econ/sweep-grid.ts"
import { gridLoad } from "../../src/sweep/plan.ts"
import { meanLength, sharegptInput } from "../../src/sim/workload/lengths.ts"

const axis = (key: GridAxis["key"], text: string): GridAxis => {
  const r = parseAxis(key, text)
  if (!r.ok) throw new Error(r.error)
  return r.value
}

describe("parseAxis", () => {
  test("parses lists of each kind", () => {
    expect(axis("concurrency", "8, 16,32").values).toEqual([8, 16, 32])
    expect(axis("rate", "0.5,2,1e1").values).toEqual([0.5, 2, 10])
    expect(axis("gpu", "a800-sxm,h100-sxm").values).toEqual(["a800-sxm", "h100-sxm"])
    expect(axis("precision", "bf16,fp8").values).toEqual(["bf16", "fp8"])
    expect(axis("prefixShare", "0,0.5").values).toEqual([0, 0.5])
    expect(axis("specAcceptance", "0,1").values).toEqual([0, 1])
    expect(parseAxis("tp", [1, 2, 4]).ok).toBe(true)
  })

  test("rejects bad values with one line naming the flag or field", () => {
    const bad: Array<[GridAxis["key"], string, RegExp]> = [
      ["concurrency", "8,x", /--concurrency: "x" is not a positive integer/],
      ["concurrency", "0", /positive integer/],
      ["tp", "1.5", /positive integer/],
      ["rate", "-1", /--rate: "-1" is not a number > 0/],
      ["precision", "bf16,int3", /--precision: "int3" is not one of/],
      ["prefixShare", "1", /\[0, 1\)/],
      ["specAcceptance", "1.5", /\[0, 1\]/],
      ["concurrency", "8,8", /listed twice/],
      ["gpu", "", /expected a comma-separated list/],
    ]
    for (const [key, text, re] of bad) {
      const r = parseAxis(key, text)
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.error).toMatch(re)
        expect(r.error).not.toContain("\n")
      }
    }
    const r = parseAxis("tp", [1, "two"], "sweep.tp")
    expect(r.ok === false && r.error.startsWith("sweep.tp:")).toBe(true)
  })
})

describe("expandGrid", () => {
  test("is the cartesian product, load innermost, first axis outermost", () => {
    const axes = orderAxes([axis("concurrency", "8,16,32"), axis("tp", "1,2"), axis("gpu", "a800-sxm,h100-sxm")])
    expect(axes.map((a) => a.key)).toEqual(["gpu", "tp", "concurrency"])
    const grid = expandGrid(axes)
    expect(grid).toHaveLength(2 * 2 * 3)
    expect(grid[0]).toEqual([
      ["gpu", "a800-sxm"],
      ["tp", 1],
      ["concurrency", 8],
    ])
    expect(grid[1]?.[2]).toEqual(["concurrency", 16])
    expect(grid[3]?.[1]).toEqual(["tp", 2])
    expect(grid[6]?.[0]).toEqual(["gpu", "h100-sxm"])
    // Every combination exactly once.
    expect(new Set(grid.map((p) => JSON.stringify(p))).size).toBe(12)
  })

  test("no axes gives one empty point; one axis gives its values", () => {
    expect(expandGrid([])).toEqual([[]])
    expect(expandGrid([axis("replicas", "1,2")])).toEqual([[["replicas", 1]], [["replicas", 2]]])
  })
})

describe("applyPoint", () => {
  const base = {
    model: "m",
    gpu: "a800-sxm",
    engine: { maxNumSeqs: 64, blockSize: 16 },
    workload: { rate: 4, burstiness: 1, numRequests: 100, prefix: { numGroups: 2, length: 10 } },
  }

  test("writes each value at its scenario path without touching the base", () => {
    const s = applyPoint(base, [
      ["gpu", "h100-sxm"],
      ["tp", 2],
      ["maxNumSeqs", 128],
      ["specTokens", 3],
      ["concurrency", 32],
    ])
    expect(s.gpu).toBe("h100-sxm")
    expect(s.tp).toBe(2)
    expect(s.engine).toEqual({ maxNumSeqs: 128, blockSize: 16 })
    expect(s.speculative).toEqual({ numTokens: 3 })
    // A concurrency axis drops the open-loop fields of the base workload.
    expect(s.workload).toEqual({ numRequests: 100, prefix: { numGroups: 2, length: 10 }, concurrency: 32 })
    expect(base.engine.maxNumSeqs).toBe(64)
    expect(base.workload.rate).toBe(4)
  })

  test("a point with a concurrency and a rate is the rate capped at the concurrency (vllm bench --request-rate with --max-concurrency)", () => {
    const s = applyPoint({ ...base, workload: { ...base.workload, burstiness: 0.5, stages: [{ rate: 1, duration: 5 }] } }, [
      ["concurrency", 8],
      ["rate", 16],
    ])
    expect(s.workload).toEqual({ rate: 16, burstiness: 0.5, numRequests: 100, prefix: { numGroups: 2, length: 10 }, concurrency: 8 })
    expect(gridLoad([["concurrency", 8], ["rate", 16]])).toEqual({ kind: "rate", value: 16, maxConcurrency: 8 })
    expect(gridLoad([["rate", 16]])).toEqual({ kind: "rate", value: 16 })
    expect(gridLoad([["tp", 2], ["concurrency", 8]])).toEqual({ kind: "concurrency", value: 8 })
  })

  test("a prefix share replaces a fixed prefix", () => {
    const s = applyPoint(base, [["prefixShare", 0.5]])
    expect(s.workload).toEqual({ rate: 4, burstiness: 1, numRequests: 100, prefixShare: 0.5 })
  })

  test("gpuCountOf is tp × pp × replicas", () => {
    expect(gpuCountOf({})).toBe(1)
    expect(gpuCountOf({ tp: 4, pp: 2, replicas: 3 })).toBe(24)
  })
})

describe("prompt-cache share", () => {
  test("keeps the mean prompt length and moves the share into a shared prefix", () => {
    const split = prefixShareSplit({ kind: "fixed", value: 1000 }, 0.3, 10)
    expect(split).toEqual({ input: { kind: "fixed", value: 700 }, prefix: { numGroups: 10, length: 300 } })
    const sg = prefixShareSplit(sharegptInput, 0.5)
    if (sg === undefined) throw new Error("expected a split")
    const total = meanLength(sg.input) + sg.prefix.length
    expect(Math.abs(total - meanLength(sharegptInput))).toBeLessThan(1)
    expect(sg.prefix.numGroups).toBe(1)
  })

  test("share 0 means no prefix", () => {
    expect(prefixShareSplit({ kind: "fixed", value: 100 }, 0)).toBeUndefined()
  })

  test("scaleLength scales every kind", () => {
    expect(scaleLength({ kind: "uniform", min: 100, max: 200 }, 0.5)).toEqual({ kind: "uniform", min: 50, max: 100 })
    expect(scaleLength({ kind: "empirical", values: [10, 20] }, 0.5)).toEqual({ kind: "empirical", values: [5, 10] })
    const ln = scaleLength({ kind: "lognormal", mean: 300, sd: 100, min: 4, max: 1000 }, 0.5)
    expect(ln).toEqual({ kind: "lognormal", mean: 150, sd: 50, min: 2, max: 500 })
    expect(meanLength(scaleLength({ kind: "preset", name: "sharegpt-input" }, 0.5))).toBeCloseTo(meanLength(sharegptInput) / 2, 0)
  })
})
