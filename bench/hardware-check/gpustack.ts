// gpustack performance-lab rows (../shared/data/serving/gpustack-bench-serve): `vllm bench serve`
// results on A100/H100/H200, mostly 1000 ShareGPT prompts sent at once or random lengths. The pure
// helpers (command parsing, row selection, the scenario a row describes) are exported for the tests.
import { simulate } from "../../src/index.ts"
import { lookupModel } from "../../src/hw/models.ts"
import { asyncSchedulingDefault } from "../../src/hw/vllm-defaults.ts"
import { sharegptInput, type LengthDist } from "../../src/sim/workload/lengths.ts"
import { cell, type Comparison, type Row } from "./table.ts"

/** What a `vllm serve MODEL ...` line sets (flags the check does not model are listed in `other`). */
export interface ServingCommand {
  readonly model: string
  readonly tp: number
  readonly pp: number
  readonly expertParallel: boolean
  readonly asyncScheduling: boolean
  readonly maxModelLen?: number
  readonly maxNumBatchedTokens?: number
  readonly maxNumSeqs?: number
  readonly other: ReadonlyArray<string>
}

const INT_FLAGS: Readonly<Record<string, "tp" | "pp" | "maxModelLen" | "maxNumBatchedTokens" | "maxNumSeqs">> = {
  "-tp": "tp",
  "--tensor-parallel-size": "tp",
  "-pp": "pp",
  "--pipeline-parallel-size": "pp",
  "--max-model-len": "maxModelLen",
  "--max-num-batched-tokens": "maxNumBatchedTokens",
  "--max-num-seqs": "maxNumSeqs",
}

/** Parses `vllm serve MODEL [flags]`; a string says why it is not one (another engine, a bad value). */
export const parseServingCommand = (command: string): ServingCommand | string => {
  const tokens = command.trim().split(/\s+/).flatMap((t) => (t.startsWith("--") && t.includes("=") ? [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)] : [t]))
  const at = tokens.findIndex((t, i) => t === "serve" && tokens[i - 1] === "vllm")
  const model = tokens[at + 1]
  if (at < 0 || model === undefined || model.startsWith("-")) return `not a "vllm serve MODEL" command: ${command}`
  const ints: Record<string, number> = {}
  const other: string[] = []
  let asyncScheduling = false
  let expertParallel = false
  for (let i = at + 2; i < tokens.length; i++) {
    const t = tokens[i]!
    const key = INT_FLAGS[t]
    if (key !== undefined) {
      const v = Number(tokens[i + 1])
      if (!Number.isInteger(v) || v < 1) return `${t}: expected a positive integer (got ${tokens[i + 1] ?? "nothing"})`
      ints[key] = v
      i++
    } else if (t === "--async-scheduling") asyncScheduling = true
    else if (t === "--enable-expert-parallel") expertParallel = true
    else other.push(t)
  }
  return {
    model,
    tp: ints.tp ?? 1,
    pp: ints.pp ?? 1,
    expertParallel,
    asyncScheduling,
    ...(ints.maxModelLen !== undefined ? { maxModelLen: ints.maxModelLen } : {}),
    ...(ints.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: ints.maxNumBatchedTokens } : {}),
    ...(ints.maxNumSeqs !== undefined ? { maxNumSeqs: ints.maxNumSeqs } : {}),
    other,
  }
}

/** The vLLM version in the page's `engine_versions` ("- vLLM: v0.11.0; - SGLang: ..." → "0.11.0"). */
export const vllmVersion = (engineVersions: string): string | undefined => /vLLM:\s*v?(\d+\.\d+(?:\.\d+)?)/i.exec(engineVersions)?.[1]

/** The GPU of a page from its hardware line ("2 × NVIDIA A100 SXM 80GB GPUs ..."). */
export const gpuOfHardware = (hardware: string): string | undefined => {
  const h = hardware.toLowerCase()
  if (h.includes("a100")) return "a100-sxm"
  if (h.includes("h100")) return "h100-sxm"
  if (h.includes("h200")) return "h200-sxm"
  return undefined
}

/** Weight precision from a checkpoint name's suffix, and the name without it. */
export const checkpointPrecision = (model: string): { readonly base: string; readonly precision: "bf16" | "fp8" | "int4" } => {
  const m = /-(FP8|AWQ|GPTQ(?:-Int4)?)$/i.exec(model)
  if (m === null) return { base: model, precision: "bf16" }
  return { base: model.slice(0, m.index), precision: m[1]!.toUpperCase() === "FP8" ? "fp8" : "int4" }
}

export type Lengths =
  | { readonly kind: "sharegpt"; readonly meanInput: number; readonly meanOutput: number }
  | { readonly kind: "fixed"; readonly input: number; readonly output: number }

/** A selected row: the engine setup, the load and the measured figures. */
export interface GpustackCase {
  readonly label: string
  readonly gpu: string
  readonly model: string
  readonly precision: "bf16" | "fp8" | "int4"
  readonly command: ServingCommand
  readonly asyncScheduling: boolean
  readonly version?: string
  readonly numRequests: number
  readonly concurrency?: number
  readonly lengths: Lengths
  readonly notes: ReadonlyArray<string>
  readonly measured: Readonly<Record<string, number | undefined>>
}

export type Selection = { readonly ok: true; readonly value: GpustackCase } | { readonly ok: false; readonly reason: string }

const pageOf = (file: string): string => file.split("/").slice(-2, -1)[0] ?? ""

/**
 * Whether a row can be compared, and how to simulate it. vLLM rows on A100/H100/H200 whose model is
 * built in; a command that names another model than its page (a copy-paste in the docs) is skipped; a
 * case label "--max-num-batched-tokens N" that the printed command contradicts wins (the page tuned
 * that flag, the command line was pasted from the neighbouring block).
 */
export const selectGpustackRow = (row: Row): Selection => {
  if (row.engine !== "vllm") return { ok: false, reason: `engine ${row.engine || "(blank)"}` }
  const gpu = gpuOfHardware(row.hardware ?? "")
  if (gpu === undefined) return { ok: false, reason: `hardware "${row.hardware}" is not an A100/H100/H200` }
  const parsed = parseServingCommand(row.serving_command ?? "")
  if (typeof parsed === "string") return { ok: false, reason: parsed }
  const { base, precision } = checkpointPrecision(parsed.model)
  const page = pageOf(row.file ?? "")
  const name = base.slice(base.lastIndexOf("/") + 1).toLowerCase()
  if (page !== "" && !name.startsWith(page)) return { ok: false, reason: `the command serves ${parsed.model} but the page is ${page} (copy-paste in the docs)` }
  const profile = lookupModel(base)
  if (profile === undefined) return { ok: false, reason: `${base} is not built in` }
  if (parsed.pp > 1) return { ok: false, reason: "pipeline parallel" }
  const notes: string[] = []
  let command = parsed
  const tuned = /--max-num-batched-tokens\s+(\d+)/.exec(row.case ?? "")
  if (tuned !== null && Number(tuned[1]) !== parsed.maxNumBatchedTokens) {
    command = { ...parsed, maxNumBatchedTokens: Number(tuned[1]) }
    notes.push(`case says --max-num-batched-tokens ${tuned[1]}, command ${parsed.maxNumBatchedTokens ?? "default"}: case used`)
  }
  if (command.other.length > 0) notes.push(`flags not modelled: ${command.other.join(" ")}`)
  const n = cell(row, "successful_requests")
  const inTok = cell(row, "total_input_tokens")
  const outTok = cell(row, "total_generated_tokens")
  if (n === undefined || inTok === undefined || outTok === undefined || n < 1) return { ok: false, reason: "no request or token totals" }
  const meanInput = inTok / n
  const meanOutput = outTok / n
  const random = /^random\b/i.test(row.case ?? "")
  const lengths: Lengths = random ? { kind: "fixed", input: Math.round(meanInput), output: Math.max(1, Math.round(meanOutput)) } : { kind: "sharegpt", meanInput, meanOutput }
  const version = vllmVersion(row.engine_versions ?? "")
  const concurrency = cell(row, "max_concurrency")
  const rate = row.request_rate_cfg ?? ""
  if (rate !== "" && rate !== "inf") return { ok: false, reason: `request rate ${rate} (only all-at-once runs are compared)` }
  const label = `${page}/${gpu.slice(0, 4)} ${parsed.model.slice(parsed.model.lastIndexOf("/") + 1)} tp${command.tp}${command.expertParallel ? " ep" : ""}${command.asyncScheduling ? " async" : ""}${command.maxNumBatchedTokens !== undefined ? ` mnbt${command.maxNumBatchedTokens}` : ""} ${random ? `rand ${lengths.kind === "fixed" ? `${lengths.input}/${lengths.output}` : ""}` : "sharegpt"}${concurrency !== undefined ? ` c${concurrency}` : ""} n${n}`
  return {
    ok: true,
    value: {
      label,
      gpu,
      model: base,
      precision,
      command,
      asyncScheduling: command.asyncScheduling || asyncSchedulingDefault(command.pp, version),
      ...(version !== undefined ? { version } : {}),
      numRequests: n,
      ...(concurrency !== undefined ? { concurrency } : {}),
      lengths,
      notes,
      measured: {
        "out tok/s": cell(row, "output_tok_per_s"),
        ttft: cell(row, "ttft_mean_ms"),
        tpot: cell(row, "tpot_mean_ms"),
        e2el: cell(row, "e2el_mean_ms"),
      },
    },
  }
}

/**
 * The scenario of a case. ShareGPT lengths: the sharegpt preset's lognormals with mean and sd scaled by
 * `inputScale` and outputs by `outputScale` (the caller sets them so the simulated token totals match
 * the row's: a 1000-prompt draw of the preset lands a few % off its population mean).
 */
export const gpustackScenario = (c: GpustackCase, inputScale = 1, outputScale = 1): Record<string, unknown> => {
  const preset = sharegptInput as Extract<LengthDist, { readonly kind: "lognormal" }>
  const input =
    c.lengths.kind === "fixed" ? c.lengths.input : inputScale === 1 ? "sharegpt" : { ...preset, mean: preset.mean * inputScale, sd: preset.sd * inputScale }
  const cmd = c.command
  return {
    model: c.model,
    gpu: c.gpu,
    tp: cmd.tp,
    ...(cmd.expertParallel ? { ep: cmd.tp } : {}),
    precision: c.precision,
    engine: {
      asyncScheduling: c.asyncScheduling,
      ...(cmd.maxModelLen !== undefined ? { maxModelLen: cmd.maxModelLen } : {}),
      ...(cmd.maxNumBatchedTokens !== undefined ? { maxNumBatchedTokens: cmd.maxNumBatchedTokens } : {}),
      ...(cmd.maxNumSeqs !== undefined ? { maxNumSeqs: cmd.maxNumSeqs } : {}),
    },
    workload: {
      numRequests: c.numRequests,
      ...(c.concurrency !== undefined ? { concurrency: c.concurrency } : { rate: "inf" }),
      input,
      output: c.lengths.kind === "fixed" ? c.lengths.output : "sharegpt",
      ...(c.lengths.kind === "sharegpt" && outputScale !== 1 ? { oslMultiplier: outputScale } : {}),
    },
    seed: 0,
  }
}

/**
 * What a row mostly measures, for the grouped summary: bursts of 1000 tiny prompts (random 128 in / 4
 * out) are bound by the API server's front end, not the GPU; MoE and weight-quantized checkpoints run
 * other kernels than dense bf16.
 */
export const caseKind = (c: GpustackCase): string => {
  if (c.lengths.kind === "fixed" && c.lengths.input <= 256 && c.concurrency === undefined) return "tiny-prompt burst"
  if ((lookupModel(c.model)?.numExperts ?? 0) > 0) return "MoE"
  return c.precision === "bf16" ? "dense bf16" : "dense fp8/int4"
}

/** Simulates a case (twice for ShareGPT: once to measure the draw's totals, once scaled to the row's). */
export const runGpustackCase = async (c: GpustackCase): Promise<Comparison> => {
  let r = await simulate(gpustackScenario(c))
  let note = c.notes.join("; ")
  if (c.lengths.kind === "sharegpt") {
    const n = c.numRequests
    const sIn = Number(r.total_input_tokens) / n
    const sOut = Number(r.total_output_tokens) / n
    r = await simulate(gpustackScenario(c, c.lengths.meanInput / sIn, c.lengths.meanOutput / sOut))
    const fIn = Number(r.total_input_tokens) / n / c.lengths.meanInput
    const fOut = Number(r.total_output_tokens) / n / c.lengths.meanOutput
    note = [`isl ${c.lengths.meanInput.toFixed(0)} osl ${c.lengths.meanOutput.toFixed(0)} (sim ×${fIn.toFixed(3)}/×${fOut.toFixed(3)})`, note].filter((s) => s !== "").join("; ")
  }
  const predicted: Record<string, number> = {
    "out tok/s": Number(r.output_throughput),
    ttft: Number(r.mean_ttft_ms),
    tpot: Number(r.mean_tpot_ms),
    e2el: Number(r.mean_e2el_ms),
  }
  const values: Record<string, { measured: number; predicted: number } | undefined> = {}
  const completed = Number(r.completed)
  // Nothing completed (a request that cannot fit the KV cache): no prediction to compare.
  if (completed > 0) for (const [k, m] of Object.entries(c.measured)) values[k] = m === undefined ? undefined : { measured: m, predicted: predicted[k] ?? Number.NaN }
  const preemptions = Number(r.num_preemptions)
  const run = `${completed === 0 ? "no request completed in the simulation; " : ""}${preemptions > 0 ? `${preemptions} preemptions; ` : ""}`
  return { label: c.label, gpu: c.gpu, values, note: `v${c.version ?? "?"}${c.asyncScheduling ? " async" : " sync"}; ${run}${note}`.replace(/; $/, "") }
}
