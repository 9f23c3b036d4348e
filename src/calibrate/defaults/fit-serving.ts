// Serving overheads (stage 2): per-step and per-request CPU time, all-reduce and MoE-layer skew and the
// served fp8 GEMM latency, fitted on closed-loop vLLM runs in silicon-sweeps.csv (TPOT at concurrency
// ≤ TRAIN_MAX_CONCURRENCY) on top of the stage-1 kernel coefficients. CPU time shows only in the rows
// of synchronously scheduling servers (vLLM < 0.14); async scheduling overlaps it with the GPU.
import { lookupGpu } from "../../hw/gpus.ts"
import { lookupModel } from "../../hw/models.ts"
import { weightBytesPerGpu } from "../../hw/model-costs.ts"
import { physicsStepTime, type StepTimeCoefficients } from "../../hw/physics-step-time.ts"
import {
  allReduceCount,
  allReduceRankCount,
  gemmKernelCount,
  moeLayerCount,
  scheduledRequestCount,
  stepCount,
  stepTimeBasis,
  type HardwareSetup,
} from "../../hw/step-time-terms.ts"
import { asyncSchedulingDefault, vllmDefaults } from "../../hw/vllm-defaults.ts"
import type { BatchShape, GpuProfile, Precision } from "../../hw/types.ts"
import { loadServingTable, type ServingRow } from "./kernel-data.ts"
import { nnlsL1 } from "../nnls.ts"
import { harnessOfLabel, meanLength } from "../client-harness.ts"
import { decodeBatch } from "./fit-whole-step.ts"

// ---- Serving overheads (stage 2): what kernel microbenchmarks cannot see ----
//
// The microbenchmarks time each kernel alone. A served step also pays CPU work per step and per
// request (scheduling, input preparation, sampling, output processing; hidden behind the GPU under
// async scheduling), waits at every all-reduce for the slowest rank (launch skew; Vidur adds 20 µs +
// skew·tp^1.25 per all-reduce, ../shared/notes/simulators.md §4.3), runs a fused-MoE layer's chain of
// small kernels, and runs fp8 GEMMs whose activation quantization torch.compile fuses into the
// preceding norm/activation kernel. Those five are fitted on closed-loop vLLM runs:
// silicon-sweeps.csv rows (vLLM 0.12–0.18, H100/H200) of built-in models at concurrency ≤ 16, where a
// step's time is what a request's TPOT measures. Rows at higher concurrency, the inference-sim runs and
// every other table stay held out. The older whole-step tables (Splitwise 2023, Argonne vLLM ≈ 0.5)
// carry pre-V1 CPU overheads several times larger; they are fitted separately and reported only.

/** Serving rows with concurrency up to this train stage 2; the rest are held out. */
export const TRAIN_MAX_CONCURRENCY = 16

export interface ClosedLoopPoint {
  readonly row: ServingRow
  readonly setup: HardwareSetup
  /** Steps a request sees between its first and last token, each with its share of the window. */
  readonly decodeWindow: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>
  /** The steps that prefill it (its chunks next to the others' decodes), and the step it waits behind. */
  readonly prefill: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>
}

const mixedBatch = (decodes: number, context: number, chunks: number, chunk: number, chunksPerPrompt: number): BatchShape => {
  // Chunk j of a prompt starts at j·chunk; average over the prompt's chunks.
  const offset = ((chunksPerPrompt - 1) * chunk) / 2
  return {
    numReqs: decodes + chunks,
    numTokens: decodes + chunks * chunk,
    numPrefillReqs: chunks,
    prefillTokens: chunks * chunk,
    numDecodeReqs: decodes,
    prefillAttentionWork: chunks * chunk * (offset + (chunk + 1) / 2),
    prefillContextTokens: chunks * (offset + chunk),
    decodeContextTokens: decodes * context,
  }
}

/**
 * Steady state of a closed loop (`vllm bench serve --max-concurrency c`) with chunked prefill under a
 * token budget, as measured runs desynchronise: every request decodes while the c − 1 others each
 * prefill once per cycle, so its osl − 1 decode steps carry (c − 1)·chunks prefill chunks (several per
 * step when that exceeds the window, up to the budget). Decodes attend over isl + osl/2 tokens on average.
 */
const closedLoopPoint = (row: ServingRow, setup: HardwareSetup): ClosedLoopPoint | undefined => {
  const c = row.concurrency
  // The lengths the row's client really sent (InferenceX draws them below the table's nominal isl/osl).
  const harness = harnessOfLabel(row.source)
  const isl = meanLength(harness, row.isl)
  const osl = meanLength(harness, row.osl)
  const window = osl - 1
  if (!(c >= 1) || !(window >= 1) || !(isl >= 1)) return undefined
  const budget = Number.isFinite(row.maxNumBatchedTokens) ? row.maxNumBatchedTokens : vllmDefaults(setup.gpu).maxNumBatchedTokens
  const room = Math.max(1, budget - (c - 1))
  const nChunks = Math.ceil(isl / room)
  const chunk = isl / nChunks
  const ctx = isl + osl / 2
  const others = (c - 1) * nChunks
  const decodeWindow =
    others <= window
      ? [
          { batch: decodeBatch(c, ctx), weight: (window - others) / window },
          { batch: mixedBatch(c - 1, ctx, 1, chunk, nChunks), weight: others / window },
        ].filter((s) => s.weight > 0)
      : [{ batch: mixedBatch(c - 1, ctx, Math.min(others / window, room / chunk), chunk, nChunks), weight: 1 }]
  const prefill = [
    // The request arrives mid-step: on average half a step of the others' decoding before its first chunk.
    { batch: decodeBatch(Math.max(1, c - 1), ctx), weight: 0.5 },
    { batch: mixedBatch(c - 1, ctx, 1, chunk, nChunks), weight: nChunks },
  ]
  return { row, setup, decodeWindow, prefill }
}

/**
 * Counts the stage-2 coefficients multiply in one step: per step and per request (CPU), per all-reduce
 * and per all-reduce per other rank (rank skew), per low-precision GEMM kernel, per MoE layer. A dense layer pays only its kernels (stage 1):
 * the dense rows (Qwen3-32B bf16, Llama-3.1-70B fp8, and the held-out inference-sim runs) show no
 * per-layer cost beyond them, while the MoE models' layers (router, top-k, alignment, two grouped GEMMs,
 * combine) do.
 */
const stage2Counts = (setup: HardwareSetup, batch: BatchShape): number[] => {
  const b = stepTimeBasis(setup)
  // With async scheduling the CPU's per-step and per-request work hides behind the GPU's (max, not sum):
  // only synchronous runs show it.
  const cpu = setup.asyncScheduling === true ? 0 : 1
  return [cpu * stepCount(b), cpu * scheduledRequestCount(batch), allReduceCount(b), b.lowPrecisionGemm ? gemmKernelCount(b) : 0, moeLayerCount(b), allReduceRankCount(b)]
}

const weighted = (
  steps: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>,
  f: (b: BatchShape) => number,
): number => steps.reduce((s, x) => s + x.weight * f(x.batch), 0)

const weightedCounts = (setup: HardwareSetup, steps: ReadonlyArray<{ readonly batch: BatchShape; readonly weight: number }>): number[] => {
  const acc = [0, 0, 0, 0, 0, 0]
  for (const st of steps) stage2Counts(setup, st.batch).forEach((v, i) => (acc[i] = acc[i]! + st.weight * v))
  return acc
}

export const servingPoints = (root: string, file: string, generation: (gpu: GpuProfile) => string): Array<ClosedLoopPoint & { readonly generation: string }> => {
  const pts: Array<ClosedLoopPoint & { readonly generation: string }> = []
  for (const row of loadServingTable(root, file)) {
    if (row.engine !== "vllm" || row.workload !== "random-fixed" || row.pp !== 1) continue
    const m = lookupModel(row.model)
    const gpu = lookupGpu(row.gpu)
    if (m === undefined || gpu === undefined) continue
    const precision = row.precision as Precision
    // The table has no EP column; aiconfigurator's run ids carry it ("…_tp4_ep4_…").
    const epMatch = /_ep(\d+)/.exec(row.source)
    const ep = epMatch !== null && m.numExperts > 0 ? Math.max(1, Number(epMatch[1])) : 1
    const par = { tp: row.tp, pp: 1, ep: ep <= row.tp ? ep : 1 }
    // Rows whose weights cannot fit the GPUs named were run with more GPUs than the table says (DP/EP); skip.
    if (weightBytesPerGpu(m, precision, par) > 0.95 * gpu.memoryBytes) continue
    // The server's scheduling mode by its version: async (vLLM ≥ 0.14, and runs that do not say) hides CPU time.
    const setup: HardwareSetup = { model: m, gpu, precision, kvCacheDtype: "auto", par, asyncScheduling: asyncSchedulingDefault(1, row.engineVersion || undefined) }
    const p = closedLoopPoint(row, setup)
    if (p !== undefined) pts.push({ ...p, generation: generation(gpu) })
  }
  return pts
}

interface Stage2 {
  readonly stepOverhead: number
  readonly perRequestStepOverhead: number
  /** Added to each generation's microbenchmark all-reduce latency. */
  readonly allReduceSkew: number
  /** Low-precision GEMM kernel latency in a served (compiled, graphed) step. */
  readonly gemmKernelLatencyLowPrecision: number
  /** Added to each generation's per-MoE-layer cost. */
  readonly moeLayerSkew: number
  /** Straggler wait per all-reduce per other rank. */
  readonly allReduceRankSkew: number
}

/**
 * TPOT of the closed-loop points ≈ GPU time (stage 1) + Σ stage-2 coefficient × count, fitted on
 * relative error in L1 (nnlsL1): some rows describe runs the table under-specifies (other vLLM
 * versions, DP, max_num_seqs caps), and L1 keeps them from dragging the rest. With `rankSkew` the
 * all-reduce straggler wait is held at that value (fitted in stage 6 on the benchmark's own cluster)
 * and the other five are fitted around it.
 */
export const fitStage2 = (train: ReadonlyArray<ClosedLoopPoint>, base: (p: ClosedLoopPoint) => StepTimeCoefficients, rankSkew?: number): Stage2 => {
  const a: number[][] = []
  const b: number[] = []
  for (const p of train) {
    const y = p.row.tpotMean
    if (!(y > 0)) continue
    const c0 = { ...base(p), stepOverhead: 0, perRequestStepOverhead: 0, ...(rankSkew !== undefined ? { allReduceRankSkew: rankSkew } : {}) }
    const st = physicsStepTime({ ...p.setup, coefficients: stepTimeBasis(p.setup).lowPrecisionGemm ? { ...c0, gemmKernelLatencyLowPrecision: 0 } : c0 })
    const t0 = weighted(p.decodeWindow, st.stepTime)
    const counts = weightedCounts(p.setup, p.decodeWindow).map((v) => v / y)
    a.push(rankSkew !== undefined ? counts.slice(0, 5) : counts)
    b.push((y - t0) / y)
  }
  const x = nnlsL1(a, b)
  return {
    stepOverhead: x[0]!,
    perRequestStepOverhead: x[1]!,
    allReduceSkew: x[2]!,
    gemmKernelLatencyLowPrecision: x[3]!,
    moeLayerSkew: x[4]!,
    allReduceRankSkew: rankSkew ?? x[5]!,
  }
}

export const predictTpot = (p: ClosedLoopPoint, c: StepTimeCoefficients): number => weighted(p.decodeWindow, physicsStepTime({ ...p.setup, coefficients: c }).stepTime)
export const predictTtftEngine = (p: ClosedLoopPoint, c: StepTimeCoefficients): number => weighted(p.prefill, physicsStepTime({ ...p.setup, coefficients: c }).stepTime)
