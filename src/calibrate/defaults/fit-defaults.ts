// `npm run fit-defaults`: fits the shipped step-time coefficients (src/hw/coefficients.json) on the
// measured timings in ../shared/data (or $SERVESIM_DATA), read in place, and prints the fit error per
// dataset. Deterministic: the same data gives the same file byte for byte.
//
// Stage 1, GPU-side efficiencies, each on the microbenchmark that isolates it, per GPU generation
// (ampere: A100; hopper: H100 + H200 pooled, so one set must serve both HBM3 and HBM3e):
//   aiconfigurator gemm_perf            → gemmCompute(+LowPrecision), weightRead, gemmKernelLatency (max rule;
//                                         ampere: the p-norm, its softness gemmKneeSoftness fitted too)
//   vllm#2497 Marlin INT4 sweep (A100)  → marlinDequant, where the generation's GPUs lack fp8 tensor
//                                         cores (ampere; fit-marlin.ts); 0 elsewhere (no Marlin data)
//   aiconfigurator generation_attention → kvRead (16-bit KV), kvReadFp8 (fp8 KV), attentionPerSlot
//   vidur mlp (norm/rope/act/add ops)   → elementwise, layerLaunch (GPU part)
//   aiconfigurator context_attention    → attentionCompute
//   aiconfigurator custom_allreduce (≤ 8 MiB, one-shot/two-shot as vLLM picks) + nccl all_reduce
//                                       → allReduceLatency, allReduceTwoShotLatency, allReduceBandwidth
//   aiconfigurator nccl all_gather/reduce_scatter              → moeAllToAllLatency, moeAllToAllBandwidth
//   aiconfigurator moe_perf             → moeCompute, moeDispatch, moeExpertWeight, moeLayerLatency (sum rule, L1)
//   vidur send_recv                     → ppHandoffLatency, ppHandoffBandwidth
// Stage 2, what a served step adds that no microbenchmark shows (CPU per step and per request of
// synchronously scheduled servers, all-reduce rank skew, per-MoE-layer costs, fused fp8 quantization),
// on closed-loop vLLM runs: see fitStage2.
// Stage 3, served prefill and ingress on the InferenceX rows of silicon-sweeps.csv (c ≤ 16; c > 16 held
// out): see fit-served.ts.
// Stage 6, the straggler wait of served all-reduces (allReduceRankSkew) on the mean E2E latencies of the
// benchmark cluster's dense TP > 1 runs (sim2real-trainval's and inference-sim-h100-poisson.csv's,
// pooled), after stage 3; stage 2 is then refitted with it held: see fit-all-reduce-wait.ts.
// Stage 5, the served cost of CUTLASS grouped-GEMM experts (per-channel fp8 on Hopper:
// moeCutlassExpertWeight, moeCutlassLayerLatency) on the mean ITLs of sim2real-trainval's MoE runs (their
// E2E and TTFT, and the dense runs, not used), before stage 4's final pass: see fit-cutlass-moe.ts.
// Stage 4, the per-token delivery delay (perOutputToken) on the mean TTFTs of sim2real-trainval, the
// benchmark's fitting half (its E2E, ITL and TTFT p99 held out): see fit-token-delivery.ts. A first
// pass on the stage-2 coefficients gives stage 3 the delay its TTFTs include; the shipped value is
// refitted on the final coefficients.
// Not fitted: the top-k/top-p sampler filter of requests that sample with top-p/top-k (step-time-terms.ts,
// a measured H100 figure) and the penalties of requests with a repetition_penalty (bytes counted from
// vLLM's source, at the elementwise efficiency); the silicon rows' client samples greedily,
// sim2real-trainval's does not.
// Everything not used for a coefficient is reported as a held-out check. The fits live in
// fit-kernels.ts (stage 1), fit-serving.ts (stage 2) and fit-whole-step.ts (legacy tables, checks);
// this file runs them in order and writes the file.
import { writeFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { COEFFICIENT_NAMES, type StepTimeCoefficients } from "../../hw/physics-step-time.ts"
import type { CoefficientsFile, DatasetFitError, GenerationCoefficients } from "../../hw/default-coefficients.ts"
import type { GpuProfile, RequestOverheads } from "../../hw/types.ts"
import { AICONFIGURATOR_GPUS, dataRoot, measuredTable } from "./kernel-data.ts"
import { fitServed, servedPoints, simulateServed } from "./fit-served.ts"
import { medianAbsPercentError } from "../nnls.ts"
import {
  checkVidurGemms,
  fitAllGather,
  fitAllReduce,
  fitDecodeAttention,
  fitElementwise,
  fitGemm,
  fitMoe,
  fitMoeShapes,
  gpuOf,
  type MoeShapeCoefficients,
  fitPrefillAttention,
  fitSendRecv,
  type Collector,
} from "./fit-kernels.ts"
import { checkLlmServingSim, fitOverheads, predictObservation, wholeStepObservations } from "./fit-whole-step.ts"
import { fitMarlin } from "./fit-marlin.ts"
import { fitTokenDelivery, TOKEN_DELIVERY_FOLDER, type CoefficientsOfSetup } from "./fit-token-delivery.ts"
import { fitCutlassMoe, withCutlassMoe } from "./fit-cutlass-moe.ts"
import { fitAllReduceWait, POISSON_FILE } from "./fit-all-reduce-wait.ts"
import { fitStage2, predictTpot, predictTtftEngine, servingPoints, TRAIN_MAX_CONCURRENCY, type ClosedLoopPoint } from "./fit-serving.ts"

export { TRAIN_MAX_CONCURRENCY }

export type DatasetError = DatasetFitError

/** 6 significant digits: stable across platforms, far below the fit error. */
const round6 = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(6)))
const round1 = (x: number): number => Math.round(x * 10) / 10

const collector = (): Collector => {
  const errors: DatasetError[] = []
  return {
    errors,
    add: (dataset, generation, predicted, measured, role) => {
      if (measured.length === 0) return
      errors.push({
        dataset,
        generation,
        points: measured.length,
        medianAbsPercentError: round1(medianAbsPercentError(predicted, measured)),
        role: role === "comparison" ? "comparison" : role ? "fit" : "held out",
      })
    },
  }
}

// ---- Whole fit ----

/**
 * Request overheads outside engine steps: vLLM's API server parses the HTTP request and tokenizes the
 * prompt before the engine sees it, streams each token as an SSE event and closes the response. These
 * are the starting estimates; stage 3 fits the per-prompt-token part (fit-served.ts), stage 4 the
 * per-token delivery delay (fit-token-delivery.ts), the rest is left for `servesim calibrate` to replace.
 */
export const DEFAULT_OVERHEADS: RequestOverheads = { ingressBase: 0.002, ingressPerInputToken: 0, perOutputToken: 0, completion: 0 }

/** Rounds of stage 6 and the stage-2 refit it triggers. */
const ALL_REDUCE_WAIT_PASSES = 2

/**
 * Generations with kernel data. Vidur's a100_pairwise_nvlink and h100_pairwise_nvlink send_recv files
 * are byte-identical, so both generations take the hand-off efficiency fitted against the H100 link.
 */
export const GENERATIONS: ReadonlyArray<{
  readonly name: string
  readonly gpus: ReadonlyArray<string>
  readonly vidur: ReadonlyArray<{ gpu: string; dir: string }>
  /** Fit the GEMM knee's softness (gemmKneeSoftness); without it the max rule (softness 0). */
  readonly gemmKnee?: boolean
}> = [
  // The A100 GEMM table's 80–256-row GEMMs run 10–30% above max(compute, weights); H100/H200 stay near it.
  { name: "ampere", gpus: ["a100-sxm"], vidur: [{ gpu: "h100-sxm", dir: "h100_pairwise_nvlink" }], gemmKnee: true },
  { name: "hopper", gpus: ["h100-sxm", "h200-sxm"], vidur: [{ gpu: "h100-sxm", dir: "h100_pairwise_nvlink" }] },
]

/** ada (L40S, RTX 4090) is closest to Ampere in memory system and kernels; blackwell borrows Hopper's. */
export const GENERATION_FALLBACK: Readonly<Record<string, string>> = { ada: "ampere", blackwell: "hopper" }

export const fitDefaults = async (
  root: string = dataRoot(),
): Promise<{ file: CoefficientsFile; errors: ReadonlyArray<DatasetError>; legacy: Readonly<Record<string, { stepOverhead: number; perRequestStepOverhead: number }>> }> => {
  const out = collector()
  // Stage 1: GPU-side efficiencies from kernel microbenchmarks, per generation.
  const stage1: Record<string, StepTimeCoefficients> = {}
  const hasLowPrecisionData: Record<string, boolean> = {}
  const moeShapeKernels: Record<string, Record<string, MoeShapeCoefficients>> = {}
  for (const gen of GENERATIONS) {
    const dirs = AICONFIGURATOR_GPUS.filter((d) => gen.gpus.includes(d.gpu))
    const gemm = fitGemm(root, dirs, gen.name, out, gen.gemmKnee === true)
    const decode = fitDecodeAttention(root, dirs, gen.name, out)
    const ew = fitElementwise(root, gen.gpus, gen.name, out)
    const prefill = fitPrefillAttention(root, dirs, gen.name, decode, ew.elementwise, out)
    const allReduce = fitAllReduce(root, dirs, gen.name, out)
    const allGather = fitAllGather(root, dirs, gen.name, out)
    const sendRecv = fitSendRecv(root, gen.vidur, gen.name, out)
    const moe = fitMoe(root, dirs, gen.name, out)
    for (const [shape, byGpu] of Object.entries(fitMoeShapes(root, dirs, gen.name, out))) moeShapeKernels[shape] = { ...moeShapeKernels[shape], ...byGpu }
    const { hasLowPrecision, ...gemmCoefficients } = gemm
    hasLowPrecisionData[gen.name] = hasLowPrecision
    // Marlin runs fp8 checkpoints only where fp8 has no tensor cores (step-time-terms.ts isMarlinGemm);
    // the sweep is an A100's, so it sets the coefficient of the generation whose GPUs are that.
    const marlinGpu = gen.gpus.map(gpuOf).find((g) => !(g.fp8Flops > g.bf16Flops))
    stage1[gen.name] = {
      ...gemmCoefficients,
      marlinDequant: marlinGpu === undefined ? 0 : fitMarlin(marlinGpu, gemmCoefficients, gen.name, out),
      moeCompute: moe.moeCompute,
      moeDispatch: moe.moeDispatch,
      moeQuantizedServed: 1,
      moeCutlassExpertWeight: 1,
      moeCutlassLayerLatency: 0,
      moeExpertWeight: moe.moeExpertWeight,
      moeLayerLatency: moe.moeLayerLatency,
      attentionCompute: prefill.attentionCompute,
      kvRead: decode.kvRead,
      kvReadFp8: decode.kvReadFp8,
      attentionPerSlot: decode.attentionPerSlot,
      elementwise: ew.elementwise,
      ...allReduce,
      ...allGather,
      ...sendRecv,
      layerLaunch: ew.layerLaunch,
      allReduceRankSkew: 0,
      stepOverhead: 0,
      perRequestStepOverhead: 0,
    }
    checkVidurGemms(root, gen.gpus, gen.name, stage1[gen.name]!, out)
  }
  const genOf = (gpu: GpuProfile): string =>
    stage1[gpu.generation] !== undefined ? gpu.generation : (GENERATION_FALLBACK[gpu.generation] ?? "hopper")
  // Per-GPU memory efficiencies where a generation pools several GPUs' tables: weight streaming (GEMM
  // tables) and KV reads (decode attention) on each GPU's own rows.
  const gpuOverrides: Record<string, Partial<StepTimeCoefficients>> = {}
  for (const gen of GENERATIONS) {
    if (gen.gpus.length < 2) continue
    for (const d of AICONFIGURATOR_GPUS.filter((x) => gen.gpus.includes(x.gpu))) {
      const own = collector()
      const weightRead = fitGemm(root, [d], gen.name, own, gen.gemmKnee === true).weightRead
      const { kvRead, kvReadFp8 } = fitDecodeAttention(root, [d], gen.name, own)
      gpuOverrides[d.gpu] = { weightRead: round6(weightRead), kvRead: round6(kvRead), kvReadFp8: round6(kvReadFp8) }
      for (const e of own.errors) if (e.role === "fit") out.errors.push({ ...e, dataset: `${e.dataset}, ${d.gpu} alone` })
    }
  }
  const withOverrides = (c: StepTimeCoefficients, gpu: GpuProfile): StepTimeCoefficients => ({ ...c, ...gpuOverrides[gpu.id] })

  // Stage 2: serving overheads on the closed-loop training rows.
  const points = servingPoints(root, "silicon-sweeps.csv", genOf)
  const train = points.filter((p) => p.row.concurrency <= TRAIN_MAX_CONCURRENCY)
  const heldOut = points.filter((p) => p.row.concurrency > TRAIN_MAX_CONCURRENCY)
  const withStage2 = (c1: StepTimeCoefficients, s2: ReturnType<typeof fitStage2>, gen: string): StepTimeCoefficients => ({
    ...c1,
    stepOverhead: s2.stepOverhead,
    perRequestStepOverhead: s2.perRequestStepOverhead,
    allReduceLatency: c1.allReduceLatency + s2.allReduceSkew,
    moeLayerLatency: c1.moeLayerLatency + s2.moeLayerSkew,
    allReduceRankSkew: s2.allReduceRankSkew,
    // Without fp8 tensor cores (Ampere) fp8 weights run W8A16 kernels: keep the bf16-like fit.
    gemmKernelLatencyLowPrecision: hasLowPrecisionData[gen] ? s2.gemmKernelLatencyLowPrecision : c1.gemmKernelLatencyLowPrecision,
  })
  const genOfPoint = (p: ClosedLoopPoint): string => (p as ClosedLoopPoint & { generation: string }).generation
  const s2 = fitStage2(train, (p) => withOverrides(stage1[genOfPoint(p)]!, p.setup.gpu))
  const final: Record<string, StepTimeCoefficients> = {}
  for (const gen of GENERATIONS) final[gen.name] = withStage2(stage1[gen.name]!, s2, gen.name)
  const coefficientsOfScenario: CoefficientsOfSetup = (r) => withOverrides(final[genOf(r.gpu)]!, r.gpu)
  // Stage 4, first pass: the delivery delay stage 3's measured TTFTs include.
  const firstDelay = (await fitTokenDelivery(root, coefficientsOfScenario, DEFAULT_OVERHEADS)) ?? 0
  if (process.env.FIT_DEBUG !== undefined) console.error(`first-pass delivery delay ${firstDelay}`)
  // Stage 3: served prefill, by simulating the InferenceX rows (fit-served.ts).
  const served = servedPoints(measuredTable(root, "silicon-sweeps.csv"), TRAIN_MAX_CONCURRENCY)
  const overheadsBefore: RequestOverheads = { ...DEFAULT_OVERHEADS, perOutputToken: round6(firstDelay) }
  let overheads: RequestOverheads = overheadsBefore
  if (served.some((p) => p.train)) {
    const sf = fitServed(served, (p) => withOverrides(final[genOf(p.resolved.gpu)]!, p.resolved.gpu), overheadsBefore)
    // The quantized-expert fused-MoE gap is software, so every generation takes it; the fp8 GEMM one
    // only where fp8 runs on tensor cores (Hopper; Ampere runs W8A16 kernels).
    const withServed = (c: StepTimeCoefficients, gen: string): StepTimeCoefficients => ({
      ...c,
      moeQuantizedServed: sf.moeMultiplier,
      gemmComputeLowPrecision: hasLowPrecisionData[gen] ? c.gemmComputeLowPrecision * sf.lowPrecisionGemmMultiplier : c.gemmComputeLowPrecision,
    })
    // Stage 2 again on the served prefill costs: its decode windows carry the other requests' prefill chunks.
    const s2b = fitStage2(train, (p) => withOverrides(withServed(stage1[genOfPoint(p)]!, genOfPoint(p)), p.setup.gpu))
    for (const gen of GENERATIONS) final[gen.name] = withStage2(withServed(stage1[gen.name]!, gen.name), s2b, gen.name)
    overheads = { ...overheadsBefore, ingressPerInputToken: round6(sf.ingressPerInputToken) }
    // Stage 6: the served all-reduce wait on the benchmark cluster's dense TP runs (fit-all-reduce-wait.ts),
    // then stage 2 once more with it held: twice, since each moves what the other sees.
    const firstWait = await fitAllReduceWait(root, coefficientsOfScenario, overheads)
    let wait = firstWait
    for (let pass = 1; wait !== undefined; pass++) {
      const s2c = fitStage2(train, (p) => withOverrides(withServed(stage1[genOfPoint(p)]!, genOfPoint(p)), p.setup.gpu), wait.allReduceRankSkew)
      for (const gen of GENERATIONS) final[gen.name] = withStage2(withServed(stage1[gen.name]!, gen.name), s2c, gen.name)
      if (pass === ALL_REDUCE_WAIT_PASSES) break
      wait = await fitAllReduceWait(root, coefficientsOfScenario, overheads)
    }
    if (firstWait !== undefined && wait !== undefined) {
      const name = `dense TP > 1 e2e_mean of ${TOKEN_DELIVERY_FOLDER} (${wait.trainvalRows}) and ${POISSON_FILE} (${wait.poissonRows}) (simulated)`
      const points = wait.trainvalRows + wait.poissonRows
      out.errors.push({ dataset: `${name}, stage 2's own all-reduce wait (${round6(s2b.allReduceRankSkew)} s)`, generation: "hopper", points, medianAbsPercentError: round1(firstWait.atCurrent), role: "comparison" })
      out.errors.push({ dataset: `${name}, no all-reduce wait`, generation: "hopper", points, medianAbsPercentError: round1(wait.before), role: "comparison" })
      out.errors.push({ dataset: `${name}, all-reduce wait`, generation: "hopper", points, medianAbsPercentError: round1(wait.after), role: "fit" })
      if (wait.trainvalRows > 0)
        out.errors.push({ dataset: `${TOKEN_DELIVERY_FOLDER} dense TP > 1 itl_mean (simulated), all-reduce wait`, generation: "hopper", points: wait.trainvalRows, medianAbsPercentError: round1(wait.itlAfter), role: "held out" })
    }
    for (const [name, fitted] of [
      [`silicon-sweeps InferenceX vLLM, c ≤ ${TRAIN_MAX_CONCURRENCY} (simulated)`, true],
      [`silicon-sweeps InferenceX vLLM, c > ${TRAIN_MAX_CONCURRENCY} (simulated, held out)`, false],
    ] as const) {
      const sel = served.filter((p) => p.train === fitted)
      const pred = sel.map((p) => simulateServed(p, withOverrides(final[genOf(p.resolved.gpu)]!, p.resolved.gpu), overheads))
      out.add(`${name} TTFT`, "hopper", pred.map((x) => x.ttft), sel.map((p) => p.ttft), fitted)
      out.add(`${name} TPOT`, "hopper", pred.map((x) => x.tpot), sel.map((p) => p.tpot), fitted)
    }
  }
  // Stage 5: CUTLASS grouped-GEMM experts (per-channel fp8 on Hopper) on the benchmark's MoE runs'
  // mean ITL (fit-cutlass-moe.ts); nothing else uses the two coefficients.
  const cutlass = await fitCutlassMoe(root, coefficientsOfScenario, overheads)
  if (cutlass !== undefined) {
    for (const gen of GENERATIONS) final[gen.name] = withCutlassMoe(final[gen.name]!, cutlass.moeCutlassExpertWeight, cutlass.moeCutlassLayerLatency)
    const name = `${TOKEN_DELIVERY_FOLDER} MoE itl_mean (simulated)`
    out.errors.push({ dataset: `${name}, Triton fused-MoE costs`, generation: "hopper", points: cutlass.moeRows, medianAbsPercentError: round1(cutlass.before), role: "comparison" })
    out.errors.push({ dataset: `${name}, CUTLASS grouped-GEMM costs`, generation: "hopper", points: cutlass.moeRows, medianAbsPercentError: round1(cutlass.after), role: "fit" })
  }
  // Stage 4 on the final coefficients: the shipped delivery delay.
  const delay = await fitTokenDelivery(root, coefficientsOfScenario, overheads, out)
  if (delay !== undefined) overheads = { ...overheads, perOutputToken: round6(delay) }
  // Per-shape bf16 fused-MoE kernels take the served per-MoE-layer skew the pooled fit gets in stage 2.
  const moeShapeOverrides: Record<string, Record<string, Partial<StepTimeCoefficients>>> = {}
  for (const [shape, byGpu] of Object.entries(moeShapeKernels)) {
    moeShapeOverrides[shape] = {}
    for (const [gpuId, k] of Object.entries(byGpu)) {
      const gen = genOf(gpuOf(gpuId))
      const skew = final[gen]!.moeLayerLatency - stage1[gen]!.moeLayerLatency
      moeShapeOverrides[shape]![gpuId] = {
        moeCompute: round6(k.moeCompute),
        moeExpertWeight: round6(k.moeExpertWeight),
        moeLayerLatency: round6(k.moeLayerLatency + skew),
        moeDispatch: round6(k.moeDispatch),
      }
    }
  }
  const finalOf = (p: ClosedLoopPoint & { generation: string }): StepTimeCoefficients => withOverrides(final[p.generation]!, p.setup.gpu)
  // FIT_DEBUG=1 prints the steady-state view's signed TPOT error per deployment.
  if (process.env.FIT_DEBUG !== undefined) {
    const groups = new Map<string, number[]>()
    for (const p of points) {
      if (!(p.row.tpotMean > 0)) continue
      const k = `${p.row.model} ${p.row.gpu} ${p.row.precision} tp${p.setup.par.tp} ep${p.setup.par.ep} ${p.row.engineVersion}`
      const e = (100 * (predictTpot(p, finalOf(p)) - p.row.tpotMean)) / p.row.tpotMean
      groups.set(k, [...(groups.get(k) ?? []), e])
    }
    for (const [k, es] of groups) console.log(`${k}: n=${es.length} signed TPOT errors ${es.map((e) => e.toFixed(0)).join(" ")}`)
  }
  // A closed loop's TTFT mixes ingress with how the engine interleaves the arriving prefills, which the
  // simulator (stage 3), not this steady-state view, reproduces: the steady-state view's TTFT error is
  // reported for reference only.
  const ttftRows = train.filter((p) => p.row.ttftMean > 0)
  const ingressOf = (p: ClosedLoopPoint): number => overheads.ingressBase + overheads.ingressPerInputToken * p.row.isl
  for (const [name, set, fitted] of [
    [`silicon-sweeps vLLM TPOT, c ≤ ${TRAIN_MAX_CONCURRENCY} (steady-state)`, train, true],
    [`silicon-sweeps vLLM TPOT, c > ${TRAIN_MAX_CONCURRENCY} (steady-state, held out)`, heldOut, false],
  ] as const) {
    const sel = set.filter((p) => p.row.tpotMean > 0)
    out.add(name, "hopper", sel.map((p) => predictTpot(p, finalOf(p))), sel.map((p) => p.row.tpotMean), fitted)
  }
  out.add(
    `silicon-sweeps vLLM TTFT, c ≤ ${TRAIN_MAX_CONCURRENCY} (steady-state, not fitted)`,
    "hopper",
    ttftRows.map((p) => ingressOf(p) + predictTtftEngine(p, finalOf(p))),
    ttftRows.map((p) => p.row.ttftMean),
    false,
  )

  // Legacy whole-step tables: their own overhead fit (reported), and the shipped coefficients (held out).
  const legacy: Record<string, { stepOverhead: number; perRequestStepOverhead: number }> = {}
  for (const gen of GENERATIONS) {
    const obs = wholeStepObservations(root, gen.gpus)
    const lo = fitOverheads(obs, stage1[gen.name]!)
    legacy[gen.name] = { stepOverhead: round6(lo.stepOverhead), perRequestStepOverhead: round6(lo.perRequestStepOverhead) }
    const withLegacy = { ...stage1[gen.name]!, ...lo }
    for (const name of [...new Set(obs.map((o) => o.dataset))]) {
      const sel = obs.filter((o) => o.dataset === name)
      out.add(`${name} (own overhead fit)`, gen.name, sel.map((o) => predictObservation(o, withLegacy)), sel.map((o) => o.measured), true)
      out.add(`${name} (shipped, held out)`, gen.name, sel.map((o) => predictObservation(o, final[gen.name]!)), sel.map((o) => o.measured), false)
    }
  }
  checkLlmServingSim(root, final.hopper!, out)

  const generations: Record<string, GenerationCoefficients> = {}
  for (const gen of GENERATIONS) {
    const rounded = {} as Record<keyof StepTimeCoefficients, number>
    for (const k of COEFFICIENT_NAMES) rounded[k] = round6(final[gen.name]![k])
    generations[gen.name] = { fittedOn: gen.gpus, coefficients: rounded }
  }
  const file: CoefficientsFile = {
    kind: "servesim-default-coefficients",
    version: 1,
    generated: "npm run fit-defaults (src/calibrate/defaults/fit-defaults.ts) on ../shared/data",
    generations,
    generationFallback: GENERATION_FALLBACK,
    gpuOverrides,
    moeShapeOverrides,
    overheads,
    fit: out.errors,
  }
  return { file, errors: out.errors, legacy }
}

export const COEFFICIENTS_PATH = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "hw", "coefficients.json")

export const serializeCoefficients = (file: CoefficientsFile): string => `${JSON.stringify(file, null, 2)}\n`

const main = async (): Promise<void> => {
  const root = dataRoot()
  const { file, errors, legacy } = await fitDefaults(root)
  writeFileSync(COEFFICIENTS_PATH, serializeCoefficients(file))
  const w = Math.max(...errors.map((e) => e.dataset.length))
  console.log(`data: ${root}`)
  console.log(`${"dataset".padEnd(w)}  gen     points  median |err|  role`)
  for (const e of errors)
    console.log(`${e.dataset.padEnd(w)}  ${e.generation.padEnd(6)}  ${String(e.points).padStart(6)}  ${`${e.medianAbsPercentError.toFixed(1)}%`.padStart(12)}  ${e.role}`)
  for (const [g, c] of Object.entries(file.generations)) {
    console.log(`\n${g} (${c.fittedOn.join(", ")}):`)
    for (const k of COEFFICIENT_NAMES) console.log(`  ${k.padEnd(30)} ${c.coefficients[k]}`)
  }
  console.log(`\nrequest overheads: ${JSON.stringify(file.overheads)}`)
  console.log(`legacy vLLM (Splitwise, Argonne) overheads, not shipped: ${JSON.stringify(legacy)}`)
  console.log(`\nwrote ${COEFFICIENTS_PATH}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
