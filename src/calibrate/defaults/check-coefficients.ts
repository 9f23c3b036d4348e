// `npm run check-coefficients`: the shipped src/hw/coefficients.json is exactly what `npm run
// fit-defaults` computes from ../shared/data. It re-runs the whole fit (kernel, whole-step and served
// stages; about 85 CPU-seconds here), so it is a script that .ci/run calls once, not a unit test behind
// a wall clock. Exit 0: reproduced byte for byte (or no data outside CI, said so); 1: differs; 2: no
// data where CI=true.
import { readFileSync } from "node:fs"
import { COEFFICIENTS_PATH, fitDefaults, serializeCoefficients } from "./fit-defaults.ts"
import { dataRoot, hasData } from "./kernel-data.ts"

const root = dataRoot()
if (!hasData(root)) {
  const ci = process.env.CI === "true"
  console.error(`check-coefficients: ${ci ? "FAILED" : "skipped"}: no kernel data at ${root} (set SERVESIM_DATA or check out ../shared/data)`)
  process.exit(ci ? 2 : 0)
}
const { file } = await fitDefaults(root)
const fitted = serializeCoefficients(file)
const shipped = readFileSync(COEFFICIENTS_PATH, "utf8")
const nonFinite = file.fit.filter((e) => !Number.isFinite(e.medianAbsPercentError)).map((e) => e.dataset)
if (nonFinite.length > 0) {
  console.error(`check-coefficients: FAILED: non-finite fit error for ${nonFinite.join(", ")}`)
  process.exit(1)
}
if (fitted !== shipped) {
  const a = fitted.split("\n")
  const b = shipped.split("\n")
  const line = a.findIndex((l, i) => l !== b[i])
  console.error(`check-coefficients: FAILED: src/hw/coefficients.json differs from the fit at line ${line + 1}:`)
  console.error(`  shipped: ${b[line] ?? "(end of file)"}`)
  console.error(`  fitted:  ${a[line] ?? "(end of file)"}`)
  console.error("  run `npm run fit-defaults` and commit the result if the change is intended")
  process.exit(1)
}
console.log(`check-coefficients: src/hw/coefficients.json reproduced byte for byte (${file.fit.length} fitted datasets)`)
