// `servesim serve [scenario] [simulate's flags] --port 8000 [--time-scale 10] [--host 127.0.0.1]`:
// a vLLM-compatible twin server (OpenAI API, SSE, /metrics) driven by the simulator in scaled real
// time. The workload flags are accepted (same flags as simulate) but only the output-length
// distribution is used, for requests without ignore_eos; requests come from HTTP.
import { Command, InvalidArgumentError } from "commander"
import { Console, Effect } from "effect"
import { twinOptionsFromScenario } from "../serve/from-scenario.ts"
import { MIMICKED_VLLM_VERSION, TIME_SCALE_HEADER, twinResource } from "../serve/twin.ts"
import { addScenarioFlags, nonNegativeInt, positiveNumber, type ScenarioFlags } from "./flags.ts"
import { loadScenario } from "./load-scenario.ts"
import { InputError } from "../scenario/errors.ts"
import { runCommand } from "./run-effect.ts"

interface ServeFlags extends ScenarioFlags {
  port: number
  host: string
  timeScale: number
  servedModelName?: string
  failRate: number
  stallRate: number
  stallMs: number
  errorChunkRate: number
  dropRate: number
  verbose?: boolean
  apiKey?: string
}

const fraction = (v: string): number => {
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("expected a fraction between 0 and 1")
  return n
}

const port = (v: string): number => {
  const n = nonNegativeInt(v)
  if (n > 65535) throw new InvalidArgumentError("expected a port number 0–65535")
  return n
}

const program = (path: string | undefined, flags: ServeFlags) =>
  Effect.scoped(
    Effect.gen(function* () {
      const resolved = yield* loadScenario(path, flags)
      const options = twinOptionsFromScenario(resolved, {
        host: flags.host,
        port: flags.port,
        timeScale: flags.timeScale,
        ...(flags.servedModelName !== undefined ? { servedModelName: flags.servedModelName } : {}),
        misbehaviour: {
          failRate: flags.failRate,
          stallRate: flags.stallRate,
          stallMs: flags.stallMs,
          errorChunkRate: flags.errorChunkRate,
          dropRate: flags.dropRate,
        },
        ...(flags.verbose === true ? { log: (line: string) => console.error(`servesim serve: ${line}`) } : {}),
      })
      // vLLM's --api-key, else its VLLM_API_KEY environment variable.
      const apiKey = flags.apiKey ?? process.env.VLLM_API_KEY
      if (apiKey === "") return yield* new InputError({ message: "--api-key / VLLM_API_KEY: empty key" })
      const twin = yield* twinResource(apiKey === undefined ? options : { ...options, apiKeys: [apiKey] })
      const e = resolved.engine
      yield* Console.log(`servesim: vLLM ${MIMICKED_VLLM_VERSION} twin listening on ${twin.url}`)
      yield* Console.log(
        `  model "${twin.servedModelName}" (${resolved.model.id}) on ${options.replicas ?? 1}× ${resolved.par.tp > 1 ? `TP${resolved.par.tp} ` : ""}${resolved.gpu.id}; ` +
          `max_model_len ${e.maxModelLen}, max_num_seqs ${e.maxNumSeqs}, max_num_batched_tokens ${e.maxNumBatchedTokens}, num_gpu_blocks ${e.numGpuBlocks} (${resolved.numGpuBlocksSource})`,
      )
      yield* Console.log(
        `  time scale ${twin.timeScale}: 1 wall second = ${twin.timeScale} simulated seconds (header ${TIME_SCALE_HEADER}); /metrics durations are simulated seconds`,
      )
      if (apiKey !== undefined) yield* Console.log("  /v1/* requires Authorization: Bearer <api key> (401 otherwise); /health, /metrics, /version stay open")
      yield* Console.log(`  endpoints: /v1/completions /v1/chat/completions /v1/models /health /version /metrics /tokenize — Ctrl-C to stop`)
      return yield* Effect.never
    }),
  )

export const register = (cli: Command): void => {
  addScenarioFlags(
    cli
      .command("serve")
      .description("run a vLLM-compatible twin server (OpenAI API + /metrics) driven by the simulator in scaled real time")
      .argument("[scenario]", "scenario file (JSON or YAML); default scenarios/default.json"),
  )
    .option("--port <n>", "port to listen on (0 = pick a free port and print it)", port, 8000)
    .option("--host <addr>", "address to bind", "127.0.0.1")
    .option("--time-scale <x>", "simulated seconds per wall second (10 runs the simulated server 10× faster)", positiveNumber, 1)
    .option("--served-model-name <name>", "model name clients must send (vLLM's --served-model-name; default the model id)")
    .option("--fail-rate <f>", "fraction of requests answered HTTP 500 with vLLM's error body", fraction, 0)
    .option("--stall-rate <f>", "fraction of requests whose stream stalls once for --stall-ms", fraction, 0)
    .option("--stall-ms <ms>", "length of a stall in wall milliseconds", nonNegativeInt, 1000)
    .option("--error-chunk-rate <f>", "fraction of streams ended by an error chunk inside HTTP 200", fraction, 0)
    .option("--drop-rate <f>", "fraction of requests whose connection is destroyed mid-response", fraction, 0)
    .option("--verbose", "log client disconnects and internal errors to stderr")
    .option("--api-key <key>", "require this Bearer key on /v1/* like vLLM's --api-key (default: the VLLM_API_KEY environment variable; the key is never printed)")
    .action((path: string | undefined, flags: ServeFlags) => runCommand(program(path, flags)))
}
