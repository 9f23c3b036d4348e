// `servesim search --model M (--rate R | --concurrency N) [workload flags] --slo ttft:1000,tpot:50
// --gpus a800-sxm,h100-sxm,h200-sxm [--max-gpus 8] [--json]`: the cheapest deployment (GPU type, count,
// TP, replicas, max_num_seqs) that meets the SLOs at the target load, with every other layout and why
// it loses. Layouts the model does not fit are skipped with the reason; the probes are planned by
// src/econ/search.ts (cost-ordered, monotone in replicas, bounded) and simulated on worker threads.
import { Command, Option } from "commander"
import { Console, Effect, Result } from "effect"
import { defaultOwnedInputs, hourlyCost, type GpuCostInputs } from "../econ/cost-model.ts"
import type { BenchMetrics, SeedRun } from "../econ/point.ts"
import type { SloSpec } from "../econ/saturation.ts"
import {
  enumerateLayouts,
  formatMiss,
  gpusPerReplica,
  parsePdUnit,
  planProbes,
  rankSearch,
  sloMisses,
  type LayoutVerdict,
  type PdUnit,
  type ProbeResult,
  type SearchLayout,
  type SearchOutcome,
} from "../econ/search.ts"
import { mean } from "../econ/stats.ts"
import { prefillSplit, tokenCost } from "../econ/token-cost.ts"
import { vllmServeCommand, type ServeCommand, type ServeConfig } from "../econ/vllm-serve-command.ts"
import { lookupGpu } from "../hw/gpus.ts"
import { vllmDefaultMaxModelLen, vllmDefaults } from "../hw/vllm-defaults.ts"
import { resolveGpu, resolveScenario, type ResolvedScenario } from "../scenario/resolve.ts"
import { InputError } from "../scenario/errors.ts"
import { flaggedFields, type ScenarioFlags } from "./flags.ts"
import { defaultScenarioPath } from "./load-scenario.ts"
import { progress } from "./progress.ts"
import { runCommand } from "./run-effect.ts"
import { addVllmBenchLoadFlags, listAliases, scenarioWithFlags, type VllmBenchFlags } from "./vllm-bench-flags.ts"
import { decodeScenario, readScenarioFile, withFlagNames } from "../scenario/schema.ts"
import {
  addScalarScenarioFlags,
  COST_FLAG_HELP,
  scalarScenarioFlags,
  sloFrom,
} from "./sweep.ts"
import { COST_KEYS, gpuCostsFor, pickCostFlags, type CostFlagValues } from "../scenario/cost-block.ts"
import type { SimTask } from "../sweep/worker.ts"
import { makeSimPool } from "../sweep/pool.ts"
import { seedList } from "../sweep/plan.ts"
import { isRecord } from "../format/json.ts"

/** Probes per round: fixed, so the probes (and the answer) do not depend on the CPU count. */
const PROBES_PER_ROUND = 4
const DEFAULT_GPUS = "a800-sxm,h100-sxm,h200-sxm"
const DEFAULT_TPS = "1,2,4,8"

interface SearchFlags extends Omit<ScenarioFlags, "gpu" | "tp" | "pp" | "replicas" | "maxNumSeqs" | "disagg">, Omit<VllmBenchFlags, "tensorParallelSize">, CostFlagValues {
  gpus?: string
  disagg?: string
  tp?: string
  tensorParallelSize?: string
  maxNumSeqs?: string
  maxGpus?: string
  slo?: string
  seeds?: string
  workers?: string
  json?: boolean
  quiet?: boolean
}

const SEARCHED = ["gpus", "tp", "disagg", "maxNumSeqs", "maxGpus", "slo", "seeds", "workers", "json", "quiet"]

const intList = (flag: string, text: string, allowDefault: boolean): Effect.Effect<Array<number | undefined>, InputError> => {
  const out: Array<number | undefined> = []
  for (const part of text.split(",").map((s) => s.trim())) {
    if (allowDefault && part === "default") out.push(undefined)
    else if (/^\d+$/.test(part) && Number(part) >= 1) out.push(Number(part))
    else return Effect.fail(new InputError({ message: `${flag}: "${part}" is not a positive integer${allowDefault ? ' or "default"' : ""}` }))
    if (out.indexOf(out[out.length - 1]) !== out.length - 1) return Effect.fail(new InputError({ message: `${flag}: ${part} is listed twice` }))
  }
  return Effect.succeed(out)
}

const positiveInt = (flag: string, text: string | undefined, fallback: number): Effect.Effect<number, InputError> => {
  if (text === undefined) return Effect.succeed(fallback)
  return /^\d+$/.test(text.trim()) && Number(text) >= 1
    ? Effect.succeed(Number(text))
    : Effect.fail(new InputError({ message: `${flag}: "${text}" is not a positive integer` }))
}


/**
 * The P/D units to consider: --disagg "1xtp4:1xtp4,1xtp2:2xtp2" (prefill:decode; "none" for none), else
 * the scenario's own disaggregation pools as one unit, else none.
 */
const pdUnits = (text: string | undefined, scenarioPd: unknown): Effect.Effect<PdUnit[], InputError> => {
  if (text === undefined) {
    if (!isRecord(scenarioPd) || !isRecord(scenarioPd.prefill) || !isRecord(scenarioPd.decode)) return Effect.succeed([])
    const pool = (p: Record<string, unknown>) => ({ replicas: typeof p.replicas === "number" ? p.replicas : 1, tp: typeof p.tp === "number" ? p.tp : 1 })
    return Effect.succeed([{ prefill: pool(scenarioPd.prefill), decode: pool(scenarioPd.decode) }])
  }
  if (text.trim() === "none") return Effect.succeed([])
  const out: PdUnit[] = []
  for (const part of text.split(",").map((x) => x.trim())) {
    const unit = parsePdUnit(part)
    if (unit === undefined)
      return Effect.fail(new InputError({ message: `--disagg: "${part}" is not PREFILL:DECODE pools like 1xtp4:1xtp4 (N replicas × tp T each; GPU types come from --gpus)` }))
    if (out.some((u) => JSON.stringify(u) === JSON.stringify(unit))) return Effect.fail(new InputError({ message: `--disagg: ${part} is listed twice` }))
    out.push(unit)
  }
  return Effect.succeed(out)
}

/**
 * The P/D pools of `unit` scaled by `replicas`, as scenario fields. The scenario's link and each pool's
 * engine fields (a decode pool's max_num_seqs, say) are kept; GPU types come from --gpus.
 */
const pdScenario = (unit: PdUnit, replicas: number, scenarioPd: unknown): Record<string, unknown> => {
  const pd = isRecord(scenarioPd) ? scenarioPd : {}
  const engineOf = (p: unknown) => (isRecord(p) && isRecord(p.engine) ? { engine: p.engine } : {})
  return {
    prefill: { replicas: unit.prefill.replicas * replicas, tp: unit.prefill.tp, ...engineOf(pd.prefill) },
    decode: { replicas: unit.decode.replicas * replicas, tp: unit.decode.tp, ...engineOf(pd.decode) },
    ...(isRecord(pd.kvTransfer) ? { kvTransfer: pd.kvTransfer } : {}),
  }
}

export interface SkippedLayout {
  readonly layout: string
  readonly reason: string
}

export interface SearchReport {
  readonly model: string
  readonly load: { readonly kind: "rate" | "concurrency"; readonly value: number }
  readonly slo: SloSpec
  readonly maxGpus: number
  readonly seeds: number
  readonly numRequests?: number
  readonly gpus: ReadonlyArray<{ readonly gpu: string; readonly usdPerGpuHour: number }>
  /** The recommendation, with the `vllm serve` line that launches it as simulated. */
  readonly best?: VerdictJson & { readonly vllmServe: ServeCommand }
  readonly others: ReadonlyArray<VerdictJson>
  readonly skipped: ReadonlyArray<SkippedLayout>
  readonly simulations: number
}

interface VerdictJson {
  readonly layout: string
  readonly verdict: LayoutVerdict["kind"]
  readonly gpu: string
  readonly numGpus: number
  readonly tp: number
  readonly replicas: number
  readonly maxNumSeqs: number
  readonly usdPerHour: number
  /** P/D-disaggregated: both pools at this replica count. */
  readonly disaggregation?: PdUnit
  readonly why: string
  readonly meetsSlo?: boolean
  readonly sloMisses?: ReadonlyArray<string>
  readonly usdPerMOutput?: number
  readonly metrics?: Pick<BenchMetrics, "mean_ttft_ms" | "p99_ttft_ms" | "mean_tpot_ms" | "p99_tpot_ms" | "output_throughput" | "request_throughput">
}

/** The engine args a layout was simulated with (replicas come from the probe). */
const serveConfigOf = (r: ResolvedScenario): Omit<ServeConfig, "replicas"> => {
  const e = r.scenario.engine ?? {}
  return {
    model: r.model.id,
    tp: r.par.tp,
    pp: r.par.pp,
    maxNumSeqs: r.engine.maxNumSeqs,
    maxNumBatchedTokens: r.engine.maxNumBatchedTokens,
    gpuMemoryUtilization: e.gpuMemoryUtilization ?? vllmDefaults(r.gpu, "openai-api-server", r.model).gpuMemoryUtilization,
    enablePrefixCaching: r.engine.enablePrefixCaching,
    enableChunkedPrefill: r.engine.enableChunkedPrefill,
    precision: r.precision,
    kvCacheDtype: r.kvCacheDtype,
    ...(r.engine.maxModelLen !== vllmDefaultMaxModelLen(r.model) ? { maxModelLen: r.engine.maxModelLen } : {}),
    ...(r.numGpuBlocksSource === "given" ? { numGpuBlocksOverride: r.engine.numGpuBlocks } : {}),
  }
}

const meanMetrics = (runs: ReadonlyArray<SeedRun>): BenchMetrics => {
  const keys = Object.keys(runs[0]?.metrics ?? {}) as Array<keyof BenchMetrics>
  const out: Record<string, number> = {}
  for (const k of keys) out[k] = mean(runs.map((r) => r.metrics[k] ?? Number.NaN))
  return out as unknown as BenchMetrics
}

const searchProgram = (path: string | undefined, asGiven: SearchFlags) =>
  Effect.gen(function* () {
    const flags = listAliases(asGiven, [["tp", "tensorParallelSize", "--tp", "--tensor-parallel-size"]])
    if (typeof flags === "string") return yield* new InputError({ message: flags })
    const file = path ?? defaultScenarioPath
    const raw = yield* readScenarioFile(file)
    const slo = yield* sloFrom(flags.slo, "--slo")
    const maxGpus = yield* positiveInt("--max-gpus", flags.maxGpus, 8)
    const seeds = yield* positiveInt("--seeds", flags.seeds, 1)
    // Search simulations are short and come in small rounds: by default they run in this thread, since
    // a worker thread spends ~2–3 s loading the TypeScript modules first.
    const workers = flags.workers === undefined ? 0 : Number(flags.workers)
    if (!(Number.isInteger(workers) && workers >= 0)) return yield* new InputError({ message: `--workers: "${flags.workers}" is not an integer ≥ 0` })
    const tps = (yield* intList("--tp", flags.tp ?? DEFAULT_TPS, false)).filter((x): x is number => x !== undefined)
    const seqs = flags.maxNumSeqs === undefined ? [undefined] : yield* intList("--max-num-seqs", flags.maxNumSeqs, true)
    const gpuNames = (flags.gpus ?? DEFAULT_GPUS).split(",").map((s) => s.trim()).filter((s) => s !== "")
    if (gpuNames.length === 0) return yield* new InputError({ message: "--gpus: expected a comma-separated list of GPU ids" })
    const gpuIds: string[] = []
    for (const g of gpuNames) {
      yield* resolveGpu(g, "--gpus")
      const id = lookupGpu(g)?.id ?? g
      if (gpuIds.includes(id)) return yield* new InputError({ message: `--gpus: ${g} is listed twice` })
      gpuIds.push(id)
    }

    // Base scenario: the file (default scenarios/default.json) with the scalar flags over it.
    const scalar = scalarScenarioFlags(flags as Record<string, unknown>, [...SEARCHED, ...COST_KEYS])
    const { sweep: _sweep, ...fileScenario } = raw
    const withFlags = scenarioWithFlags(fileScenario, scalar, path !== undefined)
    if (typeof withFlags === "string") return yield* new InputError({ message: withFlags })
    const merged = withFlags.scenario
    const flagged = flaggedFields(withFlags.flags)
    const w = isRecord(merged.workload) ? merged.workload : {}
    const load =
      typeof w.rate === "number"
        ? { kind: "rate" as const, value: w.rate }
        : typeof w.concurrency === "number"
          ? { kind: "concurrency" as const, value: w.concurrency }
          : undefined
    if (load === undefined) return yield* new InputError({ message: "search needs a target load: --rate R (requests/s) or --concurrency N" })
    const base: Record<string, unknown> = {
      ...merged,
      ...(merged.goodput === undefined && (slo.ttftMs !== undefined || slo.tpotMs !== undefined || slo.e2elMs !== undefined)
        ? {
            goodput: {
              ...(slo.ttftMs !== undefined ? { ttftMs: slo.ttftMs } : {}),
              ...(slo.tpotMs !== undefined ? { tpotMs: slo.tpotMs } : {}),
              ...(slo.e2elMs !== undefined ? { e2elMs: slo.e2elMs } : {}),
            },
          }
        : {}),
    }
    // Aggregated layouts run without the scenario's pools; P/D layouts bring their own.
    const scenarioPd = base.disaggregation
    delete base.disaggregation
    const units = yield* pdUnits(flags.disagg, scenarioPd)
    if (isRecord(base.engine) && base.engine.maxNumSeqs !== undefined && flags.maxNumSeqs === undefined)
      seqs.splice(0, seqs.length, base.engine.maxNumSeqs as number)

    // Price per GPU type: the scenario's cost block and the cost flags, else the cited owned-cost defaults.
    const given = yield* gpuCostsFor(gpuIds, raw.cost, pickCostFlags(flags), file)
    const prices: Array<{ id: string; gpuHourUsd: number }> = []
    for (const id of gpuIds) {
      const defaults = defaultOwnedInputs(id)
      const inputs: GpuCostInputs | undefined = given[id] ?? (defaults === undefined ? undefined : { kind: "owned", ...defaults })
      if (inputs === undefined) return yield* new InputError({ message: `no price for GPU "${id}": give --cloud-price or the owned-cost flags` })
      prices.push({ id, gpuHourUsd: hourlyCost(inputs).total })
    }

    // Layouts, and which of them can run at all.
    const layouts: SearchLayout[] = []
    const scenarios = new Map<string, Record<string, unknown>>()
    const resolvedSeqs = new Map<string, number>()
    const serveConfigs = new Map<string, Omit<ServeConfig, "replicas">>()
    const skipped: SkippedLayout[] = []
    let modelId = typeof base.model === "string" ? base.model : ""
    for (const l of enumerateLayouts({ gpus: prices, tps, maxNumSeqs: seqs, maxGpus, disaggregation: units })) {
      const engine = isRecord(base.engine) ? base.engine : {}
      const obj: Record<string, unknown> = {
        ...base,
        gpu: l.gpu,
        tp: l.tp,
        pp: 1,
        replicas: 1,
        engine: l.maxNumSeqs === undefined ? Object.fromEntries(Object.entries(engine).filter(([k]) => k !== "maxNumSeqs")) : { ...engine, maxNumSeqs: l.maxNumSeqs },
        ...(l.disaggregation === undefined ? {} : { disaggregation: pdScenario(l.disaggregation, 1, scenarioPd) }),
      }
      const decoded = yield* decodeScenario(obj, file, flagged)
      const resolved = yield* Effect.result(resolveScenario(decoded))
      if (Result.isFailure(resolved)) {
        if (resolved.failure._tag === "FileError") return yield* resolved.failure
        skipped.push({ layout: l.id, reason: withFlagNames(resolved.failure.message, flagged) })
        continue
      }
      modelId = resolved.success.model.id
      layouts.push(l)
      scenarios.set(l.id, obj)
      resolvedSeqs.set(l.id, resolved.success.engine.maxNumSeqs)
      serveConfigs.set(l.id, serveConfigOf(resolved.success))
    }
    if (layouts.length === 0) {
      // One reason shared by every layout (an unknown model or policy) is a problem of the input, said once.
      const reasons = new Set(skipped.map((s) => s.reason))
      return yield* new InputError({
        message:
          reasons.size === 1
            ? (skipped[0]?.reason ?? "no layout")
            : `no layout can run ${modelId}: ${skipped.map((s) => `${s.layout}: ${s.reason}`).join("; ")}`,
      })
    }

    // Probe rounds.
    const pool = yield* makeSimPool(workers)
    const results: ProbeResult[] = []
    const quiet = flags.quiet === true
    let round = 0
    for (;;) {
      const probes = planProbes(layouts, results, PROBES_PER_ROUND)
      if (probes.length === 0) break
      const tasks: SimTask[] = []
      for (const p of probes) {
        const unit = layouts.find((l) => l.id === p.layoutId)?.disaggregation
        const obj: Record<string, unknown> =
          unit === undefined
            ? { ...(scenarios.get(p.layoutId) ?? {}), replicas: p.replicas }
            : { ...(scenarios.get(p.layoutId) ?? {}), disaggregation: pdScenario(unit, p.replicas, scenarioPd) }
        const baseSeed = typeof obj.seed === "number" || typeof obj.seed === "string" ? obj.seed : undefined
        for (const seed of seedList(baseSeed, seeds)) tasks.push({ id: tasks.length, scenario: obj, seed, timelineInterval: 0 })
      }
      if (!quiet) yield* Effect.sync(() => process.stderr.write(`search: simulating ${probes.map((p) => `${p.layoutId} ×${p.replicas}`).join(", ")}\n`))
      round++
      const bar = progress(`search round ${round}`, tasks.length, { quiet, json: flags.json === true, unit: "simulations" })
      const out = yield* pool.run(tasks, (done) => bar.tick(done))
      bar.end()
      probes.forEach((p, i) => {
        const runs = out.slice(i * seeds, (i + 1) * seeds).map((r) => r.run)
        const m = meanMetrics(runs)
        const layout = layouts.find((l) => l.id === p.layoutId)
        const gpuHour = layout?.gpuHourUsd ?? 0
        const numGpus = (layout === undefined ? 1 : gpusPerReplica(layout)) * p.replicas
        const usdPerMOutput = mean(runs.map((r) => tokenCost(r.metrics, numGpus, gpuHour, prefillSplit(r.metrics, r.prefillTimeFraction)).usdPerMOutput))
        results.push({ layoutId: p.layoutId, replicas: p.replicas, misses: sloMisses(m, slo), metrics: m, usdPerMOutput })
      })
    }
    const outcome = rankSearch(layouts, results)
    const wl = isRecord(base.workload) ? base.workload : {}
    const report: SearchReport = {
      model: modelId,
      load,
      slo,
      maxGpus,
      seeds,
      ...(typeof wl.numRequests === "number" ? { numRequests: wl.numRequests } : {}),
      gpus: prices.map((p) => ({ gpu: p.id, usdPerGpuHour: p.gpuHourUsd })),
      ...(outcome.best === undefined ? {} : { best: bestJson(outcome.best, resolvedSeqs, serveConfigs) }),
      others: outcome.others.map((v) => verdictJson(v, resolvedSeqs)),
      skipped,
      simulations: outcome.probes * seeds,
    }
    if (flags.json === true) yield* Console.log(JSON.stringify(report, null, 2))
    else yield* Console.log(formatSearch(report, outcome))
    if (outcome.best === undefined)
      return yield* new InputError({ message: `no configuration within ${maxGpus} GPUs meets the SLOs at this load (see the layouts above)` })
  })


const verdictJson = (v: LayoutVerdict, seqs: ReadonlyMap<string, number>): VerdictJson => ({
  layout: v.layout.id,
  verdict: v.kind,
  gpu: v.layout.gpu,
  numGpus: v.numGpus,
  tp: v.layout.tp,
  replicas: v.replicas,
  maxNumSeqs: seqs.get(v.layout.id) ?? 0,
  usdPerHour: v.usdPerHour,
  ...(v.layout.disaggregation === undefined
    ? {}
    : {
        disaggregation: {
          prefill: { replicas: v.layout.disaggregation.prefill.replicas * v.replicas, tp: v.layout.disaggregation.prefill.tp },
          decode: { replicas: v.layout.disaggregation.decode.replicas * v.replicas, tp: v.layout.disaggregation.decode.tp },
        },
      }),
  why: v.why,
  ...(v.result === undefined
    ? {}
    : {
        meetsSlo: v.result.misses.length === 0,
        sloMisses: v.result.misses.map(formatMiss),
        usdPerMOutput: v.result.usdPerMOutput,
        metrics: {
          mean_ttft_ms: v.result.metrics.mean_ttft_ms,
          p99_ttft_ms: v.result.metrics.p99_ttft_ms,
          mean_tpot_ms: v.result.metrics.mean_tpot_ms,
          p99_tpot_ms: v.result.metrics.p99_tpot_ms,
          output_throughput: v.result.metrics.output_throughput,
          request_throughput: v.result.metrics.request_throughput,
        },
      }),
})

const bestJson = (
  v: LayoutVerdict,
  seqs: ReadonlyMap<string, number>,
  configs: ReadonlyMap<string, Omit<ServeConfig, "replicas">>,
): VerdictJson & { vllmServe: ServeCommand } => {
  const c = configs.get(v.layout.id)
  // Every runnable layout was resolved (and its config recorded) before it could be probed.
  if (c === undefined) throw new Error(`search: no engine config recorded for layout ${v.layout.id}`)
  return { ...verdictJson(v, seqs), vllmServe: vllmServeCommand({ ...c, replicas: v.replicas }) }
}

const sig = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString()) : "–")

const sloLine = (slo: SloSpec): string =>
  [slo.ttftMs !== undefined ? `TTFT ≤ ${slo.ttftMs} ms` : "", slo.tpotMs !== undefined ? `TPOT ≤ ${slo.tpotMs} ms` : "", slo.e2elMs !== undefined ? `E2E ≤ ${slo.e2elMs} ms` : ""]
    .filter((s) => s !== "")
    .join(", ") + ` (${slo.stat})`

const deployment = (v: VerdictJson): string => {
  const pd = v.disaggregation
  const shape =
    pd === undefined
      ? `tp ${v.tp} × ${v.replicas} replica${v.replicas === 1 ? "" : "s"}`
      : `P/D disaggregated: prefill ${pd.prefill.replicas}× tp ${pd.prefill.tp}, decode ${pd.decode.replicas}× tp ${pd.decode.tp}`
  return `${v.numGpus}× ${v.gpu} (${shape}, max_num_seqs ${v.maxNumSeqs}), $${v.usdPerHour.toFixed(2)}/h`
}

const measured = (v: VerdictJson): string =>
  v.metrics === undefined
    ? ""
    : `TTFT ${sig(v.metrics.mean_ttft_ms)} ms, TPOT ${sig(v.metrics.mean_tpot_ms)} ms, ${sig(v.metrics.output_throughput)} out tok/s, $${sig(v.usdPerMOutput ?? Number.NaN)}/1M output tokens`

export const formatSearch = (r: SearchReport, _o: SearchOutcome): string => {
  const lines: string[] = []
  const load = r.load.kind === "rate" ? `${r.load.value} req/s` : `${r.load.value} requests in flight`
  lines.push(`search: ${r.model} at ${load}; SLO ${sloLine(r.slo)}; at most ${r.maxGpus} GPUs`)
  lines.push(`  prices: ${r.gpus.map((g) => `${g.gpu} $${g.usdPerGpuHour.toFixed(2)}/GPU-h`).join(", ")}`)
  lines.push("")
  if (r.best !== undefined) {
    lines.push(`cheapest: ${deployment(r.best)}`)
    lines.push(`  ${measured(r.best)}`)
    lines.push(`  launch: ${r.best.vllmServe.command}`)
    for (const n of r.best.vllmServe.notes) lines.push(`    note: ${n}`)
  } else lines.push("cheapest: none — no configuration meets the SLOs")
  if (r.others.length > 0) {
    lines.push("")
    lines.push("runners-up and why each loses:")
    for (const v of r.others) lines.push(`  ${v.layout.padEnd(22)} ${v.why}`)
  }
  if (r.skipped.length > 0) {
    lines.push("")
    lines.push("skipped (cannot run):")
    for (const s of r.skipped) lines.push(`  ${s.layout.padEnd(22)} ${s.reason}`)
  }
  lines.push("")
  lines.push(`${r.simulations} simulation${r.simulations === 1 ? "" : "s"} (${r.seeds} seed${r.seeds === 1 ? "" : "s"} each${r.numRequests === undefined ? "" : `, ${r.numRequests} requests`})`)
  return lines.join("\n")
}

export const register = (cli: Command): void => {
  const cmd = cli
    .command("search")
    .description("find the cheapest configuration (GPU type, count, TP, replicas, max_num_seqs) that meets latency SLOs at a target load")
    .argument("[scenario]", "scenario file for the workload (default scenarios/default.json)")
    .showHelpAfterError(false)
    .option("--gpus <list>", `GPU types to consider (default ${DEFAULT_GPUS})`)
    .option("--tp <list>", `tensor parallel sizes to consider (default ${DEFAULT_TPS})`)
    .option("--disagg <list>", 'P/D-disaggregated units to consider beside the aggregated layouts, prefill:decode, e.g. 1xtp4:1xtp4,1xtp2:2xtp2 (replicas scale both pools; default: the scenario\'s pools, if any; "none")')
    .option("--max-num-seqs <list>", 'max_num_seqs values to consider, e.g. default,256,64 (default: vLLM\'s default)')
    .option("--max-gpus <n>", "most GPUs a configuration may use (default 8)")
    .option("--slo <spec>", "SLOs, e.g. ttft:1000,tpot:50[,e2el:MS][,stat:mean|median|p99] (default ttft:1000,tpot:50)")
    .option("--seeds <n>", "seeds per simulated configuration (default 1)")
    .option("--workers <n>", "worker threads for the simulations (default 0: this thread, fastest for short searches)")
  addScalarScenarioFlags(cmd, new Set(["--gpu", "--tp", "--pp", "--replicas", "--max-num-seqs", "--disagg"]))
  addVllmBenchLoadFlags(cmd, { listTp: true })
  for (const [flag, help] of COST_FLAG_HELP) cmd.addOption(new Option(flag, help))
  cmd
    .option("--json", "print the result as JSON")
    .option("--quiet", "no progress on stderr")
    .action((path: string | undefined, flags: SearchFlags) => runCommand(Effect.scoped(searchProgram(path, flags))))
}
