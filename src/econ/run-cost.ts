// What one simulated run costs: the GPU time of the request set split between prefill and decode,
// per 1M input and output tokens, per request, for the whole set, and against API list prices. Pure.
import type { SimSummary } from "../sim/summary.ts"
import { API_PRICES, compareWithApi, prefillSplit, tokenCost, type ApiComparison, type TokenCost } from "./token-cost.ts"

export interface RunCost extends TokenCost {
  readonly api: ReadonlyArray<ApiComparison>
}

/** API price table key of a Hugging Face id: "meta-llama/Llama-3.1-8B-Instruct" → "llama-3.1-8b". */
export const apiPriceKey = (modelId: string): string =>
  (modelId.split("/").pop() ?? modelId).toLowerCase().replace(/-(instruct|chat|hf)(-\d+)?$/, "").replace(/-instruct/, "")

export const runCost = (summary: SimSummary, numGpus: number, usdPerGpuHour: number, modelId: string): RunCost => {
  const cost = tokenCost(summary, numGpus, usdPerGpuHour, prefillSplit(summary, summary.prefill_time_fraction))
  const key = apiPriceKey(modelId)
  return { ...cost, api: API_PRICES.filter((p) => p.model === key).map((p) => compareWithApi(summary, cost, p)) }
}
