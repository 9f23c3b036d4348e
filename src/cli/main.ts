// The `servesim` command line. Commander parses arguments; each command runs one Effect program
// through runCommand. Commands load lazily, so `servesim --help` or `simulate` does not load vega, the
// probe's HTTP client or the fitters: COMMANDS lists each command's name, the one-line summary the
// top-level help shows, and how to load its module; only the module of the command being run is
// imported, and it registers the full command (options, action) with its own register().
// bin/servesim.js calls main(). To add a command: one COMMANDS line; its module exports register(program) adding a command by that name.
import { Command } from "commander"
import pkg from "../../package.json" with { type: "json" }

interface CommandEntry {
  readonly name: string
  readonly summary: string
  readonly load: () => Promise<{ readonly register: (program: Command) => void }>
}

export const COMMANDS: ReadonlyArray<CommandEntry> = [
  { name: "simulate", summary: "simulate vLLM serving a workload and print vllm-bench metrics", load: () => import("./simulate.ts") },
  { name: "cost", summary: "Hourly cost of one GPU: depreciation + power + maintenance (owner-operated) or a cloud rate", load: () => import("./cost.ts") },
  { name: "report", summary: "Render a sweep result (RESULTS.json) as a self-contained HTML page with plots", load: () => import("./report.ts") },
  { name: "validate", summary: "predict every measured point and compare with the measurement (TTFT, TPOT, ITL, E2E)", load: () => import("./validate.ts") },
  { name: "probe", summary: "measure a live vLLM server (or the twin) and write a run directory that calibrate and validate read", load: () => import("./probe.ts") },
  { name: "calibrate", summary: "fit step-time coefficients and overheads to measurements; writes a profile for --profile", load: () => import("./calibrate.ts") },
  { name: "serve", summary: "run a vLLM-compatible twin server (OpenAI API + /metrics) driven by the simulator in scaled real time", load: () => import("./serve.ts") },
  { name: "sweep", summary: "run a grid of loads × configurations over several seeds in parallel: metrics with 95% CIs, cost, saturation point, SLA boundary, optimal point, Pareto set", load: () => import("./sweep.ts") },
  { name: "merge", summary: "join the part files of a sharded sweep (sweep --shard i/n) into the whole sweep's RESULTS.json", load: () => import("./merge.ts") },
  { name: "compare", summary: "compare policies, routers or scenario variants on the same seeded workloads: paired differences, 95% CIs, p-values, verdicts", load: () => import("./compare.ts") },
  { name: "search", summary: "find the cheapest configuration (GPU type, count, TP, replicas, max_num_seqs) that meets latency SLOs at a target load", load: () => import("./search.ts") },
]

/** The command an argument list runs (`help <command>` included), if it names one. */
export const invokedCommand = (args: ReadonlyArray<string>): CommandEntry | undefined => {
  const operands = args.filter((a) => !a.startsWith("-"))
  const name = operands[0] === "help" ? operands[1] : operands[0]
  return COMMANDS.find((c) => c.name === name)
}

export const main = async (argv: ReadonlyArray<string>): Promise<void> => {
  const program = new Command()
  program
    .name("servesim")
    .description("Discrete-event simulator of vLLM serving: predict latency, throughput and cost before you deploy.")
    .version(pkg.version, "-V, --version", "print the servesim version")
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2)
    })
  const invoked = invokedCommand(argv.slice(2))
  if (invoked !== undefined) {
    ;(await invoked.load()).register(program)
    const cmd = program.commands.find((c) => c.name() === invoked.name)
    if (cmd === undefined) throw new Error(`${invoked.name}: its module registered no command of that name`)
    if (cmd.summary() === "") cmd.summary(invoked.summary)
  } else {
    // Help, --version, no command or an unknown one: list the commands without loading them.
    for (const c of COMMANDS) program.command(c.name).summary(c.summary)
  }
  await program.parseAsync(argv)
}

