// `servesim simulate [scenario] [flags]`: one simulation, printed as a table or vllm-bench JSON.
import { Command, InvalidArgumentError } from "commander"
import { Console, Effect } from "effect"
import { writeFile } from "node:fs/promises"
import { formatSummaryTable } from "../report/table.ts"
import { runScenario } from "../scenario/run-scenario.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { addScenarioFlags, decimal, nonNegativeInt, positiveNumber, type ScenarioFlags } from "./flags.ts"
import { loadScenario } from "./load-scenario.ts"
import { runCommand } from "./run-effect.ts"
import { DEFAULT_INTERVAL_DRAWS, DEFAULT_INTERVAL_LEVEL } from "../calibrate/predict-interval.ts"
import { formatIntervals, predictionIntervals, withIntervals } from "./intervals.ts"

interface SimulateFlags extends ScenarioFlags {
  json?: boolean
  out?: string
  timelineInterval?: number
  cloudPrice?: string
  intervalDraws: number
  intervalLevel: number
  report?: string
}

const level = (v: string): number => {
  const x = decimal(v)
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError("expected a level strictly between 0 and 1 (e.g. 0.9)")
  return x
}

export const writeJson = (path: string, value: unknown): Effect.Effect<void, FileError> =>
  Effect.tryPromise({
    try: () => writeFile(path, `${JSON.stringify(value, null, 2)}\n`),
    catch: (e) => new FileError({ message: `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}` }),
  })

const program = (path: string | undefined, flags: SimulateFlags) =>
  Effect.gen(function* () {
    const resolved = yield* loadScenario(path, flags)
    const priced = yield* runScenario(resolved, {
      ...(flags.timelineInterval !== undefined ? { timelineInterval: flags.timelineInterval } : {}),
      ...(flags.cloudPrice !== undefined ? { cloudPrice: flags.cloudPrice } : {}),
      source: path ?? "scenario",
    })
    const pi = yield* predictionIntervals(resolved, priced, { draws: flags.intervalDraws, level: flags.intervalLevel })
    if (pi !== undefined && pi.draws < 2) return yield* new InputError({ message: `--interval-draws: ${pi.draws} draw gives no spread; use at least 2 (or 0 for none)` })
    const summary = pi === undefined ? priced : withIntervals(priced, pi)
    if (flags.out !== undefined) yield* writeJson(flags.out, summary)
    if (flags.report !== undefined) {
      if (pi === undefined) return yield* new InputError({ message: "--report: draws the prediction intervals, which need a --profile with an uncertainty block (servesim calibrate writes one)" })
      const { intervalReportHtml, intervalRows } = yield* Effect.promise(() => import("../report/interval-chart.ts"))
      const title = resolved.scenario.name ?? path ?? "default scenario"
      const html = yield* Effect.promise(() => intervalReportHtml(title, intervalRows(summary), pi.level, `${pi.draws} parameter draws (${pi.method}) from ${pi.profile}, plus the fit's residual error`))
      const out = flags.report
      yield* Effect.tryPromise({ try: () => writeFile(out, html), catch: (e) => new FileError({ message: `cannot write ${out}: ${e instanceof Error ? e.message : String(e)}` }) })
    }
    if (flags.json === true) yield* Console.log(JSON.stringify(summary, null, 2))
    else {
      yield* Console.log(formatSummaryTable(summary, resolved.scenario.name ?? path ?? "default scenario"))
      if (pi !== undefined) yield* Console.log(formatIntervals(summary, pi).join("\n"))
    }
  })

export const register = (cli: Command): void => {
  addScenarioFlags(
    cli
      .command("simulate")
      .description("simulate vLLM serving a workload and print vllm-bench metrics")
      .argument("[scenario]", "scenario file (JSON or YAML); default scenarios/default.json"),
  )
    .option("--json", "print the result as JSON (vllm bench serve --save-result field names)")
    .option("--out <file>", "write the JSON result to a file")
    .option("--timeline-interval <s>", "sample KV usage and queues every S simulated seconds (at most 100,000 samples are kept)", positiveNumber)
    .option("--interval-draws <n>", "with a --profile that has an uncertainty block: parameter draws behind each prediction interval (0: none)", nonNegativeInt, DEFAULT_INTERVAL_DRAWS)
    .option("--interval-level <p>", "prediction-interval level", level, DEFAULT_INTERVAL_LEVEL)
    .option("--report <file.html>", "write an HTML page drawing the prediction intervals (needs a --profile with an uncertainty block)")
    .option("--cloud-price <usd>", "price the run at this USD per GPU-hour (default: the scenario's cost block, else the GPU's owned-cost defaults)")
    .action((path: string | undefined, flags: SimulateFlags) => runCommand(program(path, flags)))
}
