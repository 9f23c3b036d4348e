// The shipped coefficients are exactly what `npm run fit-defaults` computes from ../shared/data.
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { COEFFICIENTS_PATH, fitDefaults, serializeCoefficients } from "../../src/calibrate/fit-defaults.ts"
import { dataRoot, hasData } from "../../src/calibrate/kernel-data.ts"

const root = dataRoot()
const present = hasData(root)
const ci = process.env.CI === "true"

describe("fit-defaults", () => {
  if (!present && ci) {
    it("needs the measurement data in CI", () => {
      throw new Error(`no kernel data at ${root} (set SERVESIM_DATA or check out ../shared/data)`)
    })
    return
  }
  it.skipIf(!present)(`reproduces src/hw/coefficients.json byte for byte${present ? "" : ` (skipped: no data at ${root})`}`, () => {
    const { file } = fitDefaults(root)
    expect(serializeCoefficients(file)).toBe(readFileSync(COEFFICIENTS_PATH, "utf8"))
    // Every fitted dataset reports a finite error.
    for (const e of file.fit) expect(Number.isFinite(e.medianAbsPercentError), e.dataset).toBe(true)
  }, 300_000)
})
