// `servesim simulate [scenario] [flags]`: one simulation, printed as a table or vllm-bench JSON.
import { Command } from "commander"
import { Console, Effect } from "effect"
import { writeFile } from "node:fs/promises"
import { formatSummaryTable } from "../report/table.ts"
import { runScenario } from "../scenario/run-scenario.ts"
import { FileError } from "../scenario/errors.ts"
import { addScenarioFlags, positiveNumber, type ScenarioFlags } from "./flags.ts"
import { loadScenario } from "./load-scenario.ts"
import { runCommand } from "./run-effect.ts"

interface SimulateFlags extends ScenarioFlags {
  json?: boolean
  out?: string
  timelineInterval?: number
  cloudPrice?: string
}

export const writeJson = (path: string, value: unknown): Effect.Effect<void, FileError> =>
  Effect.tryPromise({
    try: () => writeFile(path, `${JSON.stringify(value, null, 2)}\n`),
    catch: (e) => new FileError({ message: `cannot write ${path}: ${e instanceof Error ? e.message : String(e)}` }),
  })

const program = (path: string | undefined, flags: SimulateFlags) =>
  Effect.gen(function* () {
    const resolved = yield* loadScenario(path, flags)
    const summary = yield* runScenario(resolved, {
      ...(flags.timelineInterval !== undefined ? { timelineInterval: flags.timelineInterval } : {}),
      ...(flags.cloudPrice !== undefined ? { cloudPrice: flags.cloudPrice } : {}),
      source: path ?? "scenario",
    })
    if (flags.out !== undefined) yield* writeJson(flags.out, summary)
    if (flags.json === true) yield* Console.log(JSON.stringify(summary, null, 2))
    else yield* Console.log(formatSummaryTable(summary, resolved.scenario.name ?? path ?? "default scenario"))
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
    .option("--cloud-price <usd>", "price the run at this USD per GPU-hour (default: the scenario's cost block, else the GPU's owned-cost defaults)")
    .action((path: string | undefined, flags: SimulateFlags) => runCommand(program(path, flags)))
}
