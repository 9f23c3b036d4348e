import { describe, expect, it } from "vitest"
import { ALL_REDUCE_WAIT_GRID, POISSON_FILE, poissonDenseTpRuns, withAllReduceWait } from "../../../src/calibrate/defaults/fit-all-reduce-wait.ts"
import { defaultCoefficients } from "../../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../../src/hw/gpus.ts"
import { IN_CI, SHARED_DATA, hasData, skipReason } from "../../hw/shared-data.ts"

describe("stage 6's grid and coefficient edit", () => {
  it("the grid runs 0 to 8 µs in 0.25 µs steps, so 0 (no wait) is always a candidate", () => {
    expect(ALL_REDUCE_WAIT_GRID[0]).toBe(0)
    expect(ALL_REDUCE_WAIT_GRID.at(-1)).toBeCloseTo(8e-6, 12)
    expect(ALL_REDUCE_WAIT_GRID).toHaveLength(33)
  })
  it("withAllReduceWait changes allReduceRankSkew and nothing else", () => {
    const c = defaultCoefficients(lookupGpu("h100-sxm")!)
    const moved = withAllReduceWait(c, 3e-6)
    expect(moved.allReduceRankSkew).toBe(3e-6)
    expect({ ...moved, allReduceRankSkew: c.allReduceRankSkew }).toEqual(c)
  })
})

const haveFile = hasData("serving", POISSON_FILE)

describe.skipIf(!haveFile)(`stage 6's Poisson rows ${haveFile ? "" : skipReason("serving", POISSON_FILE)}`, () => {
  it("pools exactly the file's dense TP > 1 runs (Llama-2-70B TP 4, CodeLlama-34B TP 2), with their measured E2E", async () => {
    const runs = await poissonDenseTpRuns(SHARED_DATA)
    const byModel = runs.map((r) => `${r.resolved.model.id} tp${r.resolved.par.tp}`).sort()
    expect(byModel).toEqual([
      "codellama/CodeLlama-34b-Instruct-hf tp2",
      "codellama/CodeLlama-34b-Instruct-hf tp2",
      "codellama/CodeLlama-34b-Instruct-hf tp2",
      "meta-llama/Llama-2-70b-hf tp4",
      "meta-llama/Llama-2-70b-hf tp4",
      "meta-llama/Llama-2-70b-hf tp4",
    ])
    // The file's E2E means are 3.6–4.7 s for these models.
    for (const r of runs) expect(r.e2e).toBeGreaterThan(3000)
    for (const r of runs) expect(r.e2e).toBeLessThan(5000)
  })
})

it.runIf(!haveFile && IN_CI)("CI requires ../shared/data/serving/" + POISSON_FILE, () => {
  expect(haveFile).toBe(true)
})
