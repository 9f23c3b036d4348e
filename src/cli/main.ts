// The `servesim` command line. Commander parses arguments; each command runs one Effect program
// through runCommand. Commands register themselves from their own files.
import { Command } from "commander"

const program = new Command()
program
  .name("servesim")
  .description("Discrete-event simulator of vLLM serving: predict latency, throughput and cost before you deploy.")
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2)
  })

const commands: ReadonlyArray<() => Promise<{ register: (p: Command) => void }>> = [
  // one line per command file
  () => import("./simulate.ts"),
  () => import("./cost.ts"),
  () => import("./report.ts"),
  () => import("./validate.ts"),
  () => import("./probe.ts"),
  () => import("./calibrate.ts"),
  () => import("./serve.ts"),
  () => import("./sweep.ts"),
  () => import("./search.ts"),
]
for (const load of commands) (await load()).register(program)

await program.parseAsync(process.argv)
