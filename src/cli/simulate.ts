// `servesim simulate [scenario] [flags]`: one simulation, printed as a table or vllm-bench JSON.
import { Command } from "commander"
import { Console, Effect } from "effect"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { formatSummaryTable } from "../report/table.ts"
import { runScenarioDetailed } from "../scenario/run-scenario.ts"
import { FileError, InputError } from "../scenario/errors.ts"
import { benchDate, benchResult, defaultResultFilename, extraStatsFor, runTitle, type BenchOutputOptions } from "../scenario/bench-result.ts"
import { addScenarioFlags, positiveNumber, type ScenarioFlags } from "./flags.ts"
import { loadScenario } from "./load-scenario.ts"
import { runCommand } from "./run-effect.ts"
import { addVllmBenchLoadFlags, addVllmBenchResultFlags, selectedStatLines, type VllmBenchFlags, type VllmBenchResultFlags } from "./vllm-bench-flags.ts"
import { predictionIntervals, withIntervals } from "../calibrate/intervals.ts"
import { addIntervalFlags, formatIntervals } from "./intervals.ts"

interface SimulateFlags extends ScenarioFlags, VllmBenchFlags, VllmBenchResultFlags {
  json?: boolean
  out?: string
  timelineInterval?: number
  cloudPrice?: string
  label?: string
  backend?: string
  metadata?: Record<string, string>
  ignoreEos?: boolean
  intervalDraws: number
  intervalLevel: number
  report?: string
}

/** --save-detailed keeps every token time: a bound decided before the run (~16 B per token). */
const MAX_DETAILED_REQUESTS = 1_000_000

export const writeJson = (path: string, value: unknown): Effect.Effect<void, FileError> =>
  Effect.tryPromise({
    try: () => writeFile(path, `${JSON.stringify(value, null, 2)}\n`),
    catch: (e) => new FileError({ message: `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}` }),
  })

const program = (path: string | undefined, flags: SimulateFlags) =>
  Effect.gen(function* () {
    const resolved = yield* loadScenario(path, flags)
    const detailed = flags.saveDetailed === true
    const planned = resolved.scenario.workload?.numRequests ?? 1000
    if (detailed && planned > MAX_DETAILED_REQUESTS)
      return yield* new InputError({ message: `--save-detailed: ${planned} requests exceed its limit of ${MAX_DETAILED_REQUESTS.toLocaleString("en-US")} (it keeps every token's time)` })
    const output: BenchOutputOptions = {
      ...(flags.percentileMetrics !== undefined ? { percentileMetrics: flags.percentileMetrics } : {}),
      ...(flags.metricPercentiles !== undefined ? { metricPercentiles: flags.metricPercentiles } : {}),
      ...(flags.label !== undefined ? { label: flags.label } : {}),
      ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
      ...(flags.metadata !== undefined ? { metadata: flags.metadata } : {}),
    }
    const run = yield* runScenarioDetailed(resolved, {
      ...(flags.timelineInterval !== undefined ? { timelineInterval: flags.timelineInterval } : {}),
      ...(flags.cloudPrice !== undefined ? { cloudPrice: flags.cloudPrice } : {}),
      source: path ?? "scenario",
      extra: extraStatsFor(resolved, output),
      detailed,
    })
    const pi = yield* predictionIntervals(resolved, () => run.summary, { draws: flags.intervalDraws, level: flags.intervalLevel })
    if (pi !== undefined && pi.draws < 2) return yield* new InputError({ message: `--interval-draws: ${pi.draws} draw gives no spread; use at least 2 (or 0 for none)` })
    const summary = pi === undefined ? run.summary : withIntervals(run.summary, pi)
    const date = benchDate()
    const bench = benchResult(summary, resolved, run.numSent, date, output, run.detailed)
    if (flags.out !== undefined) yield* writeJson(flags.out, bench)
    // vllm bench writes its file only with --save-result, named after the run unless --result-filename.
    if (flags.saveResult === true) {
      const name = flags.resultFilename ?? defaultResultFilename(resolved, date, output)
      if (flags.resultDir !== undefined) yield* makeDir(flags.resultDir)
      yield* writeJson(flags.resultDir !== undefined ? join(flags.resultDir, name) : name, bench)
    }
    if (flags.report !== undefined) {
      if (pi === undefined) return yield* new InputError({ message: "--report: draws the prediction intervals, which need a --profile with an uncertainty block (servesim calibrate writes one)" })
      const { intervalReportHtml, intervalRows } = yield* Effect.promise(() => import("../report/interval-chart.ts"))
      const title = resolved.scenario.name ?? path ?? "default scenario"
      const html = yield* Effect.promise(() => intervalReportHtml(title, intervalRows(summary), pi.level, `${pi.draws} parameter draws (${pi.method}) from ${pi.profile}, plus the fit's residual error`))
      const out = flags.report
      yield* Effect.tryPromise({ try: () => writeFile(out, html), catch: (e) => new FileError({ message: `cannot write ${out}: ${e instanceof Error ? e.message : String(e)}` }) })
    }
    if (flags.json === true) yield* Console.log(JSON.stringify(bench, null, 2))
    else {
      const title = runTitle(resolved, run.numSent)
      yield* Console.log(formatSummaryTable(summary, path !== undefined && resolved.scenario.name !== undefined ? `${title}\n  scenario: ${resolved.scenario.name}` : title))
      if (pi !== undefined) yield* Console.log(formatIntervals(summary, pi).join("\n"))
      const asked = selectedStatLines(bench, flags)
      if (asked.length > 0) yield* Console.log(["", ...asked].join("\n"))
    }
  })

export const makeDir = (dir: string): Effect.Effect<void, FileError> =>
  Effect.tryPromise({
    try: () => mkdir(dir, { recursive: true }).then(() => undefined),
    catch: (e) => new FileError({ message: `cannot create --result-dir ${dir}: ${e instanceof Error ? e.message : String(e)}` }),
  })

export const register = (cli: Command): void => {
  const cmd = addScenarioFlags(
    cli
      .command("simulate")
      .description("simulate vLLM serving a workload and print vllm-bench metrics")
      .argument("[scenario]", "scenario file (JSON or YAML); default scenarios/default.json"),
  )
  addIntervalFlags(addVllmBenchResultFlags(addVllmBenchLoadFlags(cmd), {
    saveResult: "vllm bench: write the result JSON to --result-dir/--result-filename (default name {label}-{rate}qps[-concurrency{N}]-{model}-{date}.json)",
    saveDetailed: "vllm bench: add the per-request arrays (input_lens, output_lens, ttfts, itls, start_times, latencies, queue_times, generated_texts, errors); at most 1,000,000 requests",
    resultDir: "vllm bench: folder for --save-result (created if missing; default the current directory)",
  })
    .option("--backend <name>", "vllm bench: recorded as the result's backend and endpoint_type (default servesim)")
    .option("--ignore-eos", "vllm bench: accepted; simulated outputs always run to their full length")
    .option("--json", "print the result as JSON (vllm bench serve --save-result field names)")
    .option("--out <file>", "write the JSON result to a file")
    .option("--timeline-interval <s>", "sample KV usage and queues every S simulated seconds (at most 100,000 samples are kept)", positiveNumber))
    .option("--report <file.html>", "write an HTML page drawing the prediction intervals (needs a --profile with an uncertainty block)")
    .option("--cloud-price <usd>", "price the run at this USD per GPU-hour (default: the scenario's cost block, else the GPU's owned-cost defaults)")
    .action((path: string | undefined, flags: SimulateFlags) => runCommand(program(path, flags)))
}
