// The fitted physics step-time model: Σ coefficient × basis term (step-time-terms.ts), and the plain
// datasheet roofline it starts from. Pure; the returned stepTime allocates nothing per call.
//
// Combination rule (why not a plain sum): every dense linear layer of a step multiplies the same
// M = numTokens rows against its weights, so all of them switch from weight-bound to compute-bound at
// the same M; the dense linear part is therefore max(compute, weight reads) over the whole model. On the
// aiconfigurator GEMM tables (vLLM 0.14, n, k ≥ 1024) max(a·FLOPs/peak, b·bytes/BW) + c fits H100 + H200
// bf16 at 6.5% median error against 12.0% for a·FLOPs + b·bytes + c (A100: 9.8% vs 9.6%). Fused-MoE
// kernels are the exception: spread over many experts with few tokens each, they overlap little, and on
// the moe tables the sum fits better than the max (H100 + H200 25.6% vs 31.8%, A100 22.9% vs 29.1%).
// Everything else runs as separate kernels or on other resources (attention, elementwise, collectives,
// CPU) and adds. (`npm run fit-defaults` prints these comparisons.)
//
//   step = R(gemmCompute·gemmComputeTime + marlinDequant·marlinDequantTime, weightRead·weightReadTime)
//        + q·(moeCompute·moeComputeTime + moeDispatch·moeDispatchTime) + w·moeExpertWeight·moeExpertWeightTime
//        + (moeLayerLatency + l)·moeLayerCount
//        + attentionCompute·attentionComputeTime + kvRead·k·kvReadTime + attentionPerSlot·attentionSlotCount
//        + elementwise·elementwiseTime
//        + allReduceLatency·allReduceCount + allReduceTwoShotLatency·allReduceTwoShotCount
//        + allReduceRankSkew·allReduceRankCount + allReduceBandwidth·allReduceTime
//        + moeAllToAllLatency·moeAllToAllCount + moeAllToAllBandwidth·moeAllToAllTime
//        + ppHandoffLatency·ppHandoffCount + ppHandoffBandwidth·ppHandoffTime
//        + gemmKernelLatency·gemmKernelCount + layerLaunch·layerCount
//        + samplerFilterTime                                                       (GPU; measured, no coefficient)
//        + elementwise·penaltyTime                                                 (GPU; derived bytes, elementwise efficiency)
//   R    = max (gemmKneeSoftness 0: Hopper), or the p-norm with p = 1/gemmKneeSoftness (Ampere: the
//          A100 GEMM table's knee near the ridge, see gemmRoofline)
//   q    = moeQuantizedServed for quantized experts, else 1
//   k    = kvReadFp8 for an fp8 KV cache, else 1
//   w, l = moeCutlassExpertWeight, moeCutlassLayerLatency for experts vLLM serves with CUTLASS grouped
//          GEMMs (per-channel fp8 on Hopper/Blackwell), else 1, 0
//   cpu  = stepOverhead·stepCount + perRequestStepOverhead·scheduledRequestCount
//   step = GPU + cpu, or max(GPU, cpu) with async scheduling (the CPU prepares the next step meanwhile)
//
// fp8/fp4 weights use gemmComputeLowPrecision and gemmKernelLatencyLowPrecision instead (their GEMMs
// quantize activations first and reach a smaller fraction of their peak). Weight-only GEMMs that vLLM
// runs as Marlin (INT4; fp8 on GPUs without fp8 tensor cores, i.e. Ampere) read their stored bytes,
// multiply at the 16-bit peak and add the dequantization time (marlinDequantTime, 0 otherwise).

import { MARLIN_TILE_ROWS, stepTimeBasis, type HardwareSetup, type StepTimeBasis } from "./step-time-terms.ts"
import { moeExpertsTouched } from "./model-costs.ts"
import type { BatchShape, RequestOverheads, StepTimeModel } from "./types.ts"
import { zeroOverheads } from "./types.ts"

/** One non-negative multiplier (on a roofline time) or seconds value (on a count) per basis term. */
export interface StepTimeCoefficients {
  /** × gemmComputeTime for 16-bit (and W4A16) weights: 1 / achieved fraction of peak. */
  readonly gemmCompute: number
  /**
   * How softly the dense linear part turns from weight-bound to compute-bound (gemmRoofline): 0 is the
   * max rule, s in (0, 1] the p-norm (compute^(1/s) + weights^(1/s))^s, 1 their sum. Fitted on the
   * A100 GEMM table (ampere); 0 on Hopper, whose tables show no knee. Not applied to Marlin GEMMs.
   */
  readonly gemmKneeSoftness: number
  /** × gemmComputeTime for fp8/fp4 weights, relative to their own (fp8/fp4) peak. */
  readonly gemmComputeLowPrecision: number
  /**
   * × marlinDequantTime: Marlin's in-register dequantization of weight-only GEMMs, once per 64-row slice
   * of the batch, relative to that slice's MMA time at the 16-bit peak (0 = free dequantization).
   */
  readonly marlinDequant: number
  /** × moeComputeTime (fused-MoE grouped GEMMs, relative to the bf16 peak). */
  readonly moeCompute: number
  /** × moeDispatchTime: passes over the routed token copies (permute, gather, combine) at HBM bandwidth. */
  readonly moeDispatch: number
  /**
   * Multiplies moeCompute and moeDispatch when the experts are quantized (fp8, MXFP4, INT4): served
   * fused-MoE kernels for quantized experts against the bf16/fp8 kernels the microbenchmarks time.
   */
  readonly moeQuantizedServed: number
  /** × weightReadTime: 1 / achieved fraction of HBM bandwidth streaming weights. */
  readonly weightRead: number
  /** × moeExpertWeightTime. */
  readonly moeExpertWeight: number
  /** Seconds per MoE layer pass (fused-MoE's routing, alignment, grouped GEMMs and reduction kernels). */
  readonly moeLayerLatency: number
  /**
   * Multiplies moeExpertWeight for experts served by CUTLASS grouped GEMMs (cutlass_moe_fp8: per-channel
   * fp8 experts on Hopper/Blackwell) instead of the Triton fused-MoE kernel the tables time.
   */
  readonly moeCutlassExpertWeight: number
  /** Seconds per MoE layer pass added for CUTLASS grouped-GEMM experts (their extra quantize, shuffle and offset kernels). */
  readonly moeCutlassLayerLatency: number
  /** × attentionComputeTime (FlashAttention prefill). */
  readonly attentionCompute: number
  /** × kvReadTime (paged decode attention) of a 16-bit KV cache. */
  readonly kvRead: number
  /**
   * Multiplies kvRead for an fp8 KV cache: the decode kernel dequantizes every element it reads, so a
   * byte costs more than a 16-bit cache's (aiconfigurator generation_attention, vLLM 0.14, H100: 1.53 vs
   * 1.07 × the datasheet time per byte). Fitted apart because pooling the two inflated the 16-bit figure.
   */
  readonly kvReadFp8: number
  /** Seconds per (request, KV head, layer) walked by the attention kernel. */
  readonly attentionPerSlot: number
  /** × elementwiseTime. */
  readonly elementwise: number
  /** Seconds per all-reduce call. */
  readonly allReduceLatency: number
  /** Extra seconds per all-reduce that runs two-shot or through NCCL (above vLLM's one-shot sizes). */
  readonly allReduceTwoShotLatency: number
  /** Seconds of per-rank jitter each all-reduce's barrier waits on: × the expected slowest of tp ranks (allReduceRankCount). */
  readonly allReduceRankSkew: number
  /** × allReduceTime: 1 / achieved fraction of one-way link bandwidth (bus bandwidth). */
  readonly allReduceBandwidth: number
  readonly moeAllToAllLatency: number
  readonly moeAllToAllBandwidth: number
  readonly ppHandoffLatency: number
  readonly ppHandoffBandwidth: number
  /** Seconds per GEMM kernel (fixed part of a small GEMM). */
  readonly gemmKernelLatency: number
  readonly gemmKernelLatencyLowPrecision: number
  /** Seconds per layer pass for its non-GEMM kernels. */
  readonly layerLaunch: number
  /** Seconds per step (per micro-batch) of CPU scheduling, input preparation and sampling. */
  readonly stepOverhead: number
  /** Seconds per scheduled request per step. */
  readonly perRequestStepOverhead: number
}

export const COEFFICIENT_NAMES: ReadonlyArray<keyof StepTimeCoefficients> = [
  "gemmCompute",
  "gemmKneeSoftness",
  "gemmComputeLowPrecision",
  "marlinDequant",
  "moeCompute",
  "moeDispatch",
  "moeQuantizedServed",
  "weightRead",
  "moeExpertWeight",
  "moeLayerLatency",
  "moeCutlassExpertWeight",
  "moeCutlassLayerLatency",
  "attentionCompute",
  "kvRead",
  "kvReadFp8",
  "attentionPerSlot",
  "elementwise",
  "allReduceLatency",
  "allReduceTwoShotLatency",
  "allReduceRankSkew",
  "allReduceBandwidth",
  "moeAllToAllLatency",
  "moeAllToAllBandwidth",
  "ppHandoffLatency",
  "ppHandoffBandwidth",
  "gemmKernelLatency",
  "gemmKernelLatencyLowPrecision",
  "layerLaunch",
  "stepOverhead",
  "perRequestStepOverhead",
]

/**
 * Coefficients added after version-1 files (profiles, coefficients.json) were written, with the value
 * that reproduces the model those files were fitted with.
 */
export const COEFFICIENTS_ADDED_LATER: Readonly<Partial<Record<keyof StepTimeCoefficients, number>>> = {
  moeDispatch: 0,
  allReduceRankSkew: 0,
  moeQuantizedServed: 1,
  moeCutlassExpertWeight: 1,
  moeCutlassLayerLatency: 0,
  marlinDequant: 0,
  allReduceTwoShotLatency: 0,
  gemmKneeSoftness: 0,
  // Files fitted before the split pooled 16-bit and fp8 rows into one kvRead.
  kvReadFp8: 1,
}

/** The datasheet roofline: every multiplier 1, no fixed latencies. */
export const unitCoefficients: StepTimeCoefficients = {
  gemmCompute: 1,
  gemmKneeSoftness: 0,
  gemmComputeLowPrecision: 1,
  marlinDequant: 1,
  moeCompute: 1,
  moeDispatch: 1,
  moeQuantizedServed: 1,
  weightRead: 1,
  moeExpertWeight: 1,
  moeLayerLatency: 0,
  moeCutlassExpertWeight: 1,
  moeCutlassLayerLatency: 0,
  attentionCompute: 1,
  kvRead: 1,
  kvReadFp8: 1,
  attentionPerSlot: 0,
  elementwise: 1,
  allReduceLatency: 0,
  allReduceTwoShotLatency: 0,
  allReduceRankSkew: 0,
  allReduceBandwidth: 1,
  moeAllToAllLatency: 0,
  moeAllToAllBandwidth: 1,
  ppHandoffLatency: 0,
  ppHandoffBandwidth: 1,
  gemmKernelLatency: 0,
  gemmKernelLatencyLowPrecision: 0,
  layerLaunch: 0,
  stepOverhead: 0,
  perRequestStepOverhead: 0,
}

/** Coefficients in seconds (per call, layer, kernel, step or request); the others multiply a roofline time. */
const SECONDS_COEFFICIENTS: ReadonlySet<keyof StepTimeCoefficients> = new Set([
  "moeLayerLatency",
  "moeCutlassLayerLatency",
  "attentionPerSlot",
  "allReduceLatency",
  "allReduceTwoShotLatency",
  "allReduceRankSkew",
  "moeAllToAllLatency",
  "ppHandoffLatency",
  "gemmKernelLatency",
  "gemmKernelLatencyLowPrecision",
  "layerLaunch",
  "stepOverhead",
  "perRequestStepOverhead",
])

/**
 * The documented range of each coefficient. A multiplier is 1 / the achieved fraction of a datasheet
 * peak: 10,000 would be a kernel at 0.01% of peak (the fitted ones are 1–10). A seconds value of 10 is
 * one launch or step taking 10 s (the fitted ones are µs–ms). Beyond these a step time is no longer a
 * measurement, and 1e308 overflows it to Infinity.
 */
export const coefficientRange = (k: keyof StepTimeCoefficients): { readonly max: number; readonly unit: string } =>
  k === "gemmKneeSoftness"
    ? { max: 1, unit: "0 = max(compute, weights), 1 = their sum" }
    : SECONDS_COEFFICIENTS.has(k)
      ? { max: 10, unit: "seconds" }
      : { max: 10_000, unit: "× the roofline time" }

/**
 * The dense linear layers' time from their compute and weight-streaming times. softness 0: the max
 * rule (all layers multiply the same M rows, so they switch bound at the same M). softness s > 0: the
 * p-norm with p = 1/s, which equals the max far from the ridge and exceeds it by up to 2^s at it: on
 * an A100, cuBLAS's bf16 GEMMs with M = 80–256 rows (near its ridge, ~155 rows) take 10–30% longer
 * than the slower of the two (aiconfigurator gemm table, vLLM 0.14) while H100/H200 stay within a few
 * per cent of the max. Every dense GEMM of a step has the same compute/weights ratio (M rows against its
 * weights) and the p-norm is homogeneous of degree 1, so the rule over the model's totals equals the
 * sum of the per-GEMM rule the table is fitted with. Written as max · (1 + (min/max)^p)^s so that small
 * s cannot underflow.
 */
export const gemmRoofline = (compute: number, weights: number, softness: number): number => {
  const hi = compute > weights ? compute : weights
  if (softness === 0 || hi === 0) return hi
  const lo = compute > weights ? weights : compute
  // At the ridge the ratio is 1, and 1 ** Infinity (a softness so small that 1/s overflows) is NaN.
  if (lo === hi) return hi * 2 ** softness
  return hi * (1 + (lo / hi) ** (1 / softness)) ** softness
}

/** Undefined when valid, else why: every coefficient a finite number in [0, coefficientRange(k).max]. */
export const checkCoefficients = (c: StepTimeCoefficients): string | undefined => {
  for (const k of COEFFICIENT_NAMES) {
    const v = c[k]
    const r = coefficientRange(k)
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > r.max)
      return `coefficient ${k}: ${String(v)} is outside [0, ${r.max.toLocaleString("en-US")}] (${r.unit})`
  }
  return undefined
}

export interface PhysicsStepTimeOptions extends HardwareSetup {
  readonly coefficients: StepTimeCoefficients
  readonly overheads?: RequestOverheads
  readonly name?: string
}

const setupName = (s: HardwareSetup): string =>
  `${s.model.id} on ${s.par.tp * s.par.pp}x${s.gpu.id} ${s.precision} kv=${s.kvCacheDtype} tp=${s.par.tp} pp=${s.par.pp} ep=${s.par.ep}`

/**
 * The per-step coefficients folded into the basis: a flat set of numbers so that stepTime is a handful
 * of multiply-adds. Exposed for tests and reports.
 */
export interface FoldedStepTime {
  readonly computePerToken: number
  /** gemmKneeSoftness: how the compute and weight times combine (gemmRoofline). */
  readonly gemmSoftness: number
  /** Marlin dequantization per 64-row slice of each micro-batch (0 unless the GEMMs are Marlin). */
  readonly marlinPerSlice: number
  readonly moePerToken: number
  readonly computePerRequest: number
  readonly weightSeconds: number
  readonly expertSecondsPerExpert: number
  readonly attentionPerPair: number
  readonly slidingAttentionPerPair: number
  readonly kvPerToken: number
  readonly slidingKvPerToken: number
  readonly perToken: number // elementwise + collective and hand-off payloads (all-reduce below)
  readonly fixed: number // latencies, kernel and layer launches
  /** TP all-reduce: payload per token one-shot and two-shot/ring, the two-shot extra per step, and the one-shot bound. */
  readonly allReduceOneShotPerToken: number
  readonly allReduceRingPerToken: number
  readonly allReduceTwoShotFixed: number
  readonly perRequest: number
  /** The top-k/top-p sampler filter and the penalties: seconds per step and per scheduled request (not fitted: step-time-terms.ts). */
  readonly samplerFixed: number
  readonly samplerPerRequest: number
  /** CPU per step (scheduler, input preparation, sampling, output processing) and per scheduled request. */
  readonly cpuFixed: number
  readonly cpuPerRequest: number
}

export const foldCoefficients = (b: StepTimeBasis, c: StepTimeCoefficients): FoldedStepTime => {
  const low = b.lowPrecisionGemm
  const gc = low ? c.gemmComputeLowPrecision : c.gemmCompute
  const served = b.quantizedExperts ? c.moeQuantizedServed : 1
  const cutlass = b.cutlassExperts
  const kvRead = c.kvRead * (b.fp8KvCache ? c.kvReadFp8 : 1)
  return {
    computePerToken: gc * b.gemmSecondsPerToken,
    // Marlin GEMMs keep the max rule: Marlin pipelines its weight loads under the MMAs, and the A100
    // sweep it is fitted on (fit-marlin.ts) sits on the max at its ridge (32–64 rows: 9.6% median
    // error with the cuBLAS knee, 1.2% without).
    gemmSoftness: b.marlinGemm ? 0 : c.gemmKneeSoftness,
    marlinPerSlice: b.marlinGemm ? c.marlinDequant * b.gemmSecondsPerToken * MARLIN_TILE_ROWS : 0,
    moePerToken: served * c.moeCompute * b.moeSecondsPerToken,
    computePerRequest: gc * b.lmHeadSecondsPerRequest,
    weightSeconds: c.weightRead * b.weightReadSeconds,
    expertSecondsPerExpert: c.moeExpertWeight * (cutlass ? c.moeCutlassExpertWeight : 1) * b.expertReadSecondsPerExpert,
    attentionPerPair: c.attentionCompute * b.attentionSecondsPerPair,
    slidingAttentionPerPair: c.attentionCompute * b.slidingAttentionSecondsPerPair,
    kvPerToken: kvRead * b.kvReadSecondsPerToken,
    slidingKvPerToken: kvRead * b.slidingKvReadSecondsPerToken,
    perToken:
      c.elementwise * b.elementwiseSecondsPerToken +
      served * c.moeDispatch * b.moeDispatchSecondsPerToken +
      c.moeAllToAllBandwidth * b.allToAllSecondsPerToken +
      c.ppHandoffBandwidth * b.ppHandoffSecondsPerToken,
    fixed:
      c.allReduceLatency * b.allReducesPerStep +
      c.allReduceRankSkew * b.allReduceRankWaits +
      c.moeAllToAllLatency * b.allToAllsPerStep +
      c.ppHandoffLatency * b.ppHandoffsPerStep +
      (low ? c.gemmKernelLatencyLowPrecision : c.gemmKernelLatency) * b.gemmKernelsPerStep +
      c.layerLaunch * b.layersPerStep +
      (c.moeLayerLatency + (cutlass ? c.moeCutlassLayerLatency : 0)) * b.moeLayersPerStep,
    allReduceOneShotPerToken: c.allReduceBandwidth * b.allReduceOneShotSecondsPerToken,
    allReduceRingPerToken: c.allReduceBandwidth * b.allReduceSecondsPerToken,
    allReduceTwoShotFixed: c.allReduceTwoShotLatency * b.allReducesPerStep,
    perRequest: c.attentionPerSlot * b.attentionSlotsPerRequest,
    samplerFixed: b.samplerFilterSecondsPerStep,
    // vLLM's penalties are eager elementwise PyTorch passes: the efficiency fitted on Vidur's elementwise ops.
    samplerPerRequest: b.samplerFilterSecondsPerRequest + c.elementwise * b.penaltySecondsPerRequest,
    cpuFixed: c.stepOverhead * b.pipelineFactor,
    cpuPerRequest: c.perRequestStepOverhead,
  }
}

/** Step time from a folded basis; the same arithmetic the StepTimeModel runs. */
const evaluate = (b: StepTimeBasis, f: FoldedStepTime, batch: BatchShape): number => {
  if (batch.numTokens <= 0) return 0
  const pp = b.pipelineFactor
  let compute = f.computePerToken * batch.numTokens + f.computePerRequest * batch.numReqs
  if (f.marlinPerSlice > 0) compute += f.marlinPerSlice * pp * Math.ceil(batch.numTokens / (pp * MARLIN_TILE_ROWS))
  const memory = f.weightSeconds
  let t = f.gemmSoftness === 0 ? (compute > memory ? compute : memory) : gemmRoofline(compute, memory, f.gemmSoftness)
  if (b.moeLayersPerStep > 0)
    t += f.moePerToken * batch.numTokens + moeExpertsTouched(b.setup.model, batch.numTokens / pp) * pp * f.expertSecondsPerExpert
  t += f.attentionPerPair * (batch.prefillAttentionWork + batch.decodeContextTokens)
  const ctx = batch.decodeContextTokens + batch.prefillContextTokens
  t += f.kvPerToken * ctx
  if (b.slidingWindow > 0) {
    const w = b.slidingWindow
    t +=
      f.slidingAttentionPerPair *
      (Math.min(batch.prefillAttentionWork, batch.prefillTokens * w) + Math.min(batch.decodeContextTokens, batch.numDecodeReqs * w))
    t += f.slidingKvPerToken * Math.min(ctx, (batch.numDecodeReqs + batch.numPrefillReqs) * w)
  }
  // csrc/custom_all_reduce.cuh: one-shot below a size that depends on tp, two-shot (or NCCL) above.
  if (b.allReducesPerStep > 0)
    t += batch.numTokens / pp < b.allReduceOneShotBelowTokens ? f.allReduceOneShotPerToken * batch.numTokens : f.allReduceRingPerToken * batch.numTokens + f.allReduceTwoShotFixed
  const gpu = t + f.perToken * batch.numTokens + f.fixed + f.samplerFixed + (f.perRequest + f.samplerPerRequest) * batch.numReqs
  const cpu = f.cpuFixed + f.cpuPerRequest * batch.numReqs
  // vllm/v1/engine/core.py step_with_batch_queue: with async scheduling the CPU work of the next step
  // overlaps this step's GPU work; synchronously it runs between steps.
  return b.setup.asyncScheduling === true ? (gpu > cpu ? gpu : cpu) : gpu + cpu
}

/**
 * The fitted model: Σ coefficient × term with the max(compute, weights) rule above. Everything that does
 * not depend on the batch is computed here, once.
 */
export const physicsStepTime = (opts: PhysicsStepTimeOptions): StepTimeModel => {
  const invalid = checkCoefficients(opts.coefficients)
  if (invalid !== undefined) throw new Error(invalid)
  const basis = stepTimeBasis(opts)
  const folded = foldCoefficients(basis, opts.coefficients)
  return {
    name: opts.name ?? `physics(${setupName(opts)})`,
    overheads: opts.overheads ?? zeroOverheads,
    stepTime: (batch: BatchShape): number => evaluate(basis, folded, batch),
  }
}

export interface RooflineOptions extends HardwareSetup {
  /** Fixed seconds added to every step (CPU scheduling and launch); default 0. */
  readonly stepOverhead?: number
  readonly overheads?: RequestOverheads
}

/**
 * The plain datasheet roofline (issue 2's first model): max(all FLOPs / peak, all HBM bytes / bandwidth)
 * + collective and hand-off payloads over the link + a fixed per-step overhead. No fitted efficiencies.
 */
export const rooflineStepTime = (opts: RooflineOptions): StepTimeModel => {
  const b = stepTimeBasis(opts)
  const fixed = (opts.stepOverhead ?? 0) * b.pipelineFactor
  const commPerToken = b.allReduceSecondsPerToken + b.allToAllSecondsPerToken + b.ppHandoffSecondsPerToken
  const pp = b.pipelineFactor
  const m = opts.model
  const w = b.slidingWindow
  return {
    name: `roofline(${setupName(opts)})`,
    overheads: opts.overheads ?? zeroOverheads,
    stepTime: (batch: BatchShape): number => {
      if (batch.numTokens <= 0) return 0
      const pairs = batch.prefillAttentionWork + batch.decodeContextTokens
      const ctx = batch.decodeContextTokens + batch.prefillContextTokens
      let compute =
        b.gemmSecondsPerToken * batch.numTokens +
        b.lmHeadSecondsPerRequest * batch.numReqs +
        b.moeSecondsPerToken * batch.numTokens +
        b.attentionSecondsPerPair * pairs
      let memory = b.weightReadSeconds + b.kvReadSecondsPerToken * ctx + (b.elementwiseSecondsPerToken + b.moeDispatchSecondsPerToken) * batch.numTokens
      if (b.expertReadSecondsPerExpert > 0) memory += moeExpertsTouched(m, batch.numTokens / pp) * pp * b.expertReadSecondsPerExpert
      if (w > 0) {
        compute +=
          b.slidingAttentionSecondsPerPair *
          (Math.min(batch.prefillAttentionWork, batch.prefillTokens * w) + Math.min(batch.decodeContextTokens, batch.numDecodeReqs * w))
        memory += b.slidingKvReadSecondsPerToken * Math.min(ctx, (batch.numDecodeReqs + batch.numPrefillReqs) * w)
      }
      return Math.max(compute, memory) + commPerToken * batch.numTokens + fixed
    },
  }
}
