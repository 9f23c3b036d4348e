// From one simulated run to money: cost of the whole request set (the paper's "cost to run a benchmark",
// USD/h × GPUs × T/3600), $/1M input and $/1M output tokens, $/request, and the same run priced at
// API rates. Pure.
//
// GPU time is split between input (prefill) and output (decode) tokens:
//  1. by the measured fraction of step time spent on prefill tokens, when the run provides it;
//  2. else by a roofline estimate (rooflinePrefillShare): a prefill token costs 2·N FLOPs at peak
//     compute; a decode token costs the larger of that and its share of the bytes a decode step reads
//     (weights once per step, shared by the batch, plus its own KV);
//  3. else by token counts: forward FLOPs per token are ≈ 2·N for input and output alike (Epoch,
//     arithmetic_cost_flop; economics.md §4), so by FLOPs alone both kinds cost the same per token.
//     This ignores that decode is memory-bound, so it undercharges output tokens.
import { gpuTimeCost } from "./cost-model.ts"
import type { BenchMetrics } from "./point.ts"

export type SplitMethod = "step-time" | "roofline" | "token-count"

export interface PrefillSplit {
  /** Fraction of GPU time charged to input tokens, 0..1. */
  readonly share: number
  readonly method: SplitMethod
}

/** Per-replica totals (or per-GPU values throughout); only ratios matter. */
export interface RooflineSplitInputs {
  /** Parameters touched per token (active parameters for MoE). */
  readonly activeParams: number
  /** Bytes of weights read by one decode step. */
  readonly weightBytes: number
  /** Peak dense FLOP/s at the compute precision. */
  readonly peakFlops: number
  /** HBM bytes/s. */
  readonly memoryBandwidth: number
  /** Mean number of sequences decoding in one step (≈ concurrency when saturated). */
  readonly meanDecodeBatch: number
  /** KV bytes per token of context, and the mean context a decode token attends over. */
  readonly kvBytesPerToken?: number
  readonly meanContextTokens?: number
}

export const rooflinePrefillShare = (inputTokens: number, outputTokens: number, r: RooflineSplitInputs): number => {
  const computePerToken = (2 * r.activeParams) / r.peakFlops
  const batch = Math.max(1, r.meanDecodeBatch)
  const kvBytes = (r.kvBytesPerToken ?? 0) * (r.meanContextTokens ?? 0)
  const decodePerToken = Math.max(computePerToken, (r.weightBytes / batch + kvBytes) / r.memoryBandwidth)
  const prefill = inputTokens * computePerToken
  const decode = outputTokens * decodePerToken
  return prefill + decode > 0 ? prefill / (prefill + decode) : 0
}

/** Picks the split for a run: measured step-time fraction, else roofline, else token counts. */
export const prefillSplit = (
  metrics: Pick<BenchMetrics, "total_input_tokens" | "total_output_tokens">,
  prefillTimeFraction?: number,
  roofline?: RooflineSplitInputs,
): PrefillSplit => {
  const inTok = metrics.total_input_tokens
  const outTok = metrics.total_output_tokens
  if (prefillTimeFraction !== undefined && Number.isFinite(prefillTimeFraction)) {
    return { share: Math.min(1, Math.max(0, prefillTimeFraction)), method: "step-time" }
  }
  if (roofline !== undefined) return { share: rooflinePrefillShare(inTok, outTok, roofline), method: "roofline" }
  return { share: inTok + outTok > 0 ? inTok / (inTok + outTok) : 0, method: "token-count" }
}

export interface TokenCost {
  /** USD per GPU-hour used. */
  readonly gpuHourUsd: number
  readonly numGpus: number
  /** Cost of the whole request set: gpuHourUsd × numGpus × duration / 3600. */
  readonly runCostUsd: number
  readonly prefillShare: number
  readonly splitMethod: SplitMethod
  readonly usdPerMInput: number
  readonly usdPerMOutput: number
  /** Run cost over all tokens (input + output), per 1M. */
  readonly usdPerMTotal: number
  readonly usdPerRequest: number
}

const perMillion = (usd: number, tokens: number): number => (tokens > 0 ? (usd * 1e6) / tokens : 0)

/**
 * Costs of one run. A token kind with zero tokens gets no share of the cost (its share moves to the
 * other kind); with no tokens or requests at all the per-unit costs are reported as 0.
 */
export const tokenCost = (
  metrics: BenchMetrics,
  numGpus: number,
  usdPerGpuHour: number,
  split: PrefillSplit,
): TokenCost => {
  const run = gpuTimeCost(usdPerGpuHour, numGpus, metrics.duration)
  const inTok = metrics.total_input_tokens
  const outTok = metrics.total_output_tokens
  const share = outTok === 0 ? (inTok > 0 ? 1 : 0) : inTok === 0 ? 0 : split.share
  return {
    gpuHourUsd: usdPerGpuHour,
    numGpus,
    runCostUsd: run,
    prefillShare: share,
    splitMethod: split.method,
    usdPerMInput: perMillion(run * share, inTok),
    usdPerMOutput: perMillion(run * (1 - share), outTok),
    usdPerMTotal: perMillion(run, inTok + outTok),
    usdPerRequest: metrics.completed > 0 ? run / metrics.completed : 0,
  }
}

/** An API's list price, USD per 1M tokens. */
export interface ApiPrice {
  readonly provider: string
  readonly model?: string
  readonly inputPerM: number
  readonly outputPerM: number
  readonly source?: string
}

export interface ApiComparison {
  readonly provider: string
  readonly model?: string
  /** The same request set (same input and output tokens) billed at the API's prices. */
  readonly apiRunCostUsd: number
  readonly selfHostedRunCostUsd: number
  /** selfHosted / api; below 1 means self-hosting is cheaper. */
  readonly costRatio: number
  readonly cheaper: "self-hosted" | "api" | "equal"
  /** USD per GPU-hour at which self-hosting this run would cost exactly the API price. */
  readonly breakEvenGpuHourUsd: number
}

export const compareWithApi = (
  metrics: Pick<BenchMetrics, "total_input_tokens" | "total_output_tokens" | "duration">,
  cost: Pick<TokenCost, "runCostUsd" | "numGpus">,
  api: ApiPrice,
): ApiComparison => {
  const apiCost = (metrics.total_input_tokens * api.inputPerM + metrics.total_output_tokens * api.outputPerM) / 1e6
  const gpuHours = (cost.numGpus * metrics.duration) / 3600
  const self = cost.runCostUsd
  return {
    provider: api.provider,
    ...(api.model === undefined ? {} : { model: api.model }),
    apiRunCostUsd: apiCost,
    selfHostedRunCostUsd: self,
    costRatio: apiCost > 0 ? self / apiCost : 0,
    cheaper: self < apiCost ? "self-hosted" : self > apiCost ? "api" : "equal",
    breakEvenGpuHourUsd: gpuHours > 0 ? apiCost / gpuHours : 0,
  }
}

const LITELLM_2025_11 = "LiteLLM model_prices_and_context_window.json via RoCry/llm-api-price @1aa4375f (2025-11-28)"

/**
 * Serverless API prices for models in ../shared/data/facts/models.json (economics.md §6), keyed by
 * those model ids. Prices are time-sensitive; pass your own with the CLI for a current comparison.
 */
export const API_PRICES: ReadonlyArray<ApiPrice> = [
  { model: "llama-3.1-8b", provider: "together (Turbo)", inputPerM: 0.18, outputPerM: 0.18, source: LITELLM_2025_11 },
  { model: "llama-3.1-8b", provider: "deepinfra", inputPerM: 0.03, outputPerM: 0.05, source: LITELLM_2025_11 },
  { model: "llama-3.1-8b", provider: "groq", inputPerM: 0.05, outputPerM: 0.08, source: LITELLM_2025_11 },
  { model: "llama-3.1-70b", provider: "together (Turbo)", inputPerM: 0.88, outputPerM: 0.88, source: LITELLM_2025_11 },
  { model: "llama-3.1-70b", provider: "deepinfra", inputPerM: 0.4, outputPerM: 0.4, source: LITELLM_2025_11 },
  { model: "llama-3.1-70b", provider: "groq", inputPerM: 0.59, outputPerM: 0.79, source: LITELLM_2025_11 },
  { model: "qwen2.5-7b", provider: "deepinfra", inputPerM: 0.04, outputPerM: 0.1, source: LITELLM_2025_11 },
  { model: "qwen2.5-72b", provider: "deepinfra", inputPerM: 0.12, outputPerM: 0.39, source: LITELLM_2025_11 },
  { model: "qwen3-32b", provider: "deepinfra", inputPerM: 0.1, outputPerM: 0.28, source: LITELLM_2025_11 },
  { model: "qwen3-32b", provider: "groq", inputPerM: 0.29, outputPerM: 0.59, source: LITELLM_2025_11 },
  { model: "qwen3-30b-a3b", provider: "deepinfra", inputPerM: 0.08, outputPerM: 0.29, source: LITELLM_2025_11 },
  { model: "mistral-small-24b-2501", provider: "deepinfra", inputPerM: 0.05, outputPerM: 0.08, source: LITELLM_2025_11 },
  { model: "mixtral-8x7b", provider: "together", inputPerM: 0.6, outputPerM: 0.6, source: LITELLM_2025_11 },
  { model: "mixtral-8x7b", provider: "groq", inputPerM: 0.24, outputPerM: 0.24, source: LITELLM_2025_11 },
  {
    model: "deepseek-v3",
    provider: "deepseek (cache miss)",
    inputPerM: 0.56,
    outputPerM: 1.68,
    source: "api-docs.deepseek.com/quick_start/pricing (from 2025-09-05)",
  },
  { model: "gpt-oss-120b", provider: "together", inputPerM: 0.15, outputPerM: 0.6, source: LITELLM_2025_11 },
  { model: "gpt-oss-120b", provider: "deepinfra", inputPerM: 0.05, outputPerM: 0.45, source: LITELLM_2025_11 },
]

export const apiPricesFor = (model: string): ReadonlyArray<ApiPrice> => API_PRICES.filter((p) => p.model === model)
