// Printing of prediction intervals (src/calibrate/intervals.ts computes them).
import { InvalidArgumentError, type Command } from "commander"
import type { PredictionIntervals } from "../calibrate/intervals.ts"
import { DEFAULT_INTERVAL_DRAWS, DEFAULT_INTERVAL_LEVEL } from "../calibrate/predict-interval.ts"
import { decimal, nonNegativeInt } from "./flags.ts"
import type { SimSummary } from "../sim/summary.ts"

const LABELS: Readonly<Record<string, string>> = { ttft: "TTFT", tpot: "TPOT", itl: "ITL", e2el: "E2E" }

/** "ttft mean 84.1 ms [78.0, 91.2]"-style lines under the summary table. */
export const formatIntervals = (summary: SimSummary, pi: PredictionIntervals): string[] => {
  const lines = [`prediction intervals (${Math.round(pi.level * 100)}%, ${pi.draws} parameter draws (${pi.method}) + the fit's residual error, profile ${pi.profile}):`]
  for (const [field, m] of Object.entries(pi.metrics)) {
    const c = (summary as unknown as Readonly<Record<string, number>>)[field]!
    const lat = /^(mean|median|p99)_(ttft|tpot|itl|e2el)_ms$/.exec(field)
    const name = lat === null ? field.replace("_", " ") : `${LABELS[lat[2]!]} ${lat[1]}`
    const unit = lat === null ? (field === "request_throughput" ? " req/s" : " tok/s") : " ms"
    const d = c >= 100 ? 0 : c >= 10 ? 1 : 2
    lines.push(`  ${name.padEnd(20)} ${c.toFixed(d)}${unit} [${m.lo.toFixed(d)}, ${m.hi.toFixed(d)}]`)
  }
  return lines
}

const level = (v: string): number => {
  const x = decimal(v)
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError("expected a level strictly between 0 and 1 (e.g. 0.9)")
  return x
}

/** --interval-draws and --interval-level, as simulate and sweep take them. */
export const addIntervalFlags = (cmd: Command): Command =>
  cmd
    .option("--interval-draws <n>", "with a --profile that has an uncertainty block: parameter draws behind each prediction interval (0: none)", nonNegativeInt, DEFAULT_INTERVAL_DRAWS)
    .option("--interval-level <p>", "prediction-interval level", level, DEFAULT_INTERVAL_LEVEL)
