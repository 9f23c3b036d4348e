// argonne-lcf/LLM-Inference-Bench static batches (../shared/data/offline/argonne): vLLM ~0.5-0.6's
// offline LLM class running `batch` prompts of L tokens each generating L tokens; the measured figure is
// the batch's wall time. Simulated as `batch` requests at t = 0 with that engine's V0 defaults: no
// chunked prefill, max_num_batched_tokens = max(max_model_len, 2048), 256 seqs, synchronous steps.
import { simulate } from "../../src/index.ts"
import { lookupModel } from "../../src/hw/models.ts"
import { cell, type Comparison, type Row } from "./table.ts"

/**
 * Built-in models with the same shapes as the ones benchmarked (Llama 3 = Llama 3.1 but for RoPE
 * scaling and context; Qwen2 = Qwen2.5 at 7B and 72B: same layers, widths, heads and vocabulary).
 */
export const ARCHITECTURE_TWINS: Readonly<Record<string, string>> = {
  "meta-llama/Meta-Llama-3-8B": "meta-llama/Llama-3.1-8B",
  "meta-llama/Meta-Llama-3-70B": "meta-llama/Llama-3.1-70B",
  "Qwen/Qwen2-7B": "Qwen/Qwen2.5-7B",
  "Qwen/Qwen2-72B": "Qwen/Qwen2.5-72B",
}

/** max_position_embeddings of the benchmarked checkpoints where the twin's differs (Llama 3: 8192). */
const CONTEXT: Readonly<Record<string, number>> = { "meta-llama/Meta-Llama-3-8B": 8192, "meta-llama/Meta-Llama-3-70B": 8192, "Qwen/Qwen2-7B": 32768, "Qwen/Qwen2-72B": 32768 }

export interface ArgonneCase {
  readonly label: string
  readonly gpu: string
  readonly model: string
  readonly tp: number
  readonly length: number
  readonly batch: number
  readonly precision: "bf16" | "fp8"
  readonly kvCacheDtype: "auto" | "fp8"
  readonly maxModelLen: number
  readonly latencyS: number
}

/** "Weight = fp16, KV Cache = fp8" → weight and KV precision. */
export const parseQuantLabel = (s: string): { precision: "bf16" | "fp8"; kvCacheDtype: "auto" | "fp8" } | undefined => {
  const m = /Weight\s*=\s*(\w+),\s*KV Cache\s*=\s*(\w+)/i.exec(s)
  if (m === null) return undefined
  const w = m[1]!.toLowerCase()
  const kv = m[2]!.toLowerCase()
  if ((w !== "fp16" && w !== "fp8") || (kv !== "fp16" && kv !== "fp8")) return undefined
  return { precision: w === "fp8" ? "fp8" : "bf16", kvCacheDtype: kv === "fp8" ? "fp8" : "auto" }
}

/** vLLM rows of either argonne table whose model is built in (or has a twin); `gpus` maps its Hardware names. */
export const argonneCases = (rows: ReadonlyArray<Row>, gpus: Readonly<Record<string, string>>): { cases: ArgonneCase[]; skipped: Map<string, number> } => {
  const cases: ArgonneCase[] = []
  const skipped = new Map<string, number>()
  const skip = (why: string) => skipped.set(why, (skipped.get(why) ?? 0) + 1)
  for (const r of rows) {
    if (r.Framework !== "vLLM") continue
    const gpu = gpus[r.Hardware ?? ""]
    if (gpu === undefined) {
      skip(`hardware ${r.Hardware}`)
      continue
    }
    const name = r.Model ?? ""
    const id = ARCHITECTURE_TWINS[name] ?? name
    const model = lookupModel(id)
    if (model === undefined) {
      skip(`${name} not built in`)
      continue
    }
    const tp = cell(r, "num_gpus_tp") ?? cell(r, "Num of Hardware")
    const length = cell(r, "input_len_eq_output_len") ?? cell(r, "Input Output Length")
    const batch = cell(r, "batch_size") ?? cell(r, "Batch Size")
    const latencyS = cell(r, "batch_latency_s") ?? cell(r, "latency")
    const quant = r.kv_cache_dtype === undefined ? { precision: "bf16" as const, kvCacheDtype: "auto" as const } : parseQuantLabel(r.kv_cache_dtype)
    if (tp === undefined || length === undefined || batch === undefined || latencyS === undefined || quant === undefined) {
      skip("incomplete row")
      continue
    }
    const maxModelLen = CONTEXT[name] ?? model.maxPositionEmbeddings
    const q = quant.precision === "bf16" && quant.kvCacheDtype === "auto" ? "" : ` w${quant.precision} kv${quant.kvCacheDtype}`
    cases.push({ label: `${name.slice(name.indexOf("/") + 1)} tp${tp} L${length} b${batch}${q}`, gpu, model: id, tp, length, batch, ...quant, maxModelLen, latencyS })
  }
  return { cases, skipped }
}

export const runArgonneCase = async (c: ArgonneCase, gpuPath: (gpu: string) => string): Promise<Comparison> => {
  const r = await simulate({
    model: c.model,
    gpu: gpuPath(c.gpu),
    tp: c.tp,
    precision: c.precision,
    kvCacheDtype: c.kvCacheDtype,
    engine: { asyncScheduling: false, enableChunkedPrefill: false, maxNumSeqs: 256, maxNumBatchedTokens: Math.max(c.maxModelLen, 2048), maxModelLen: c.maxModelLen },
    workload: { numRequests: c.batch, rate: "inf", input: c.length, output: c.length },
    seed: 0,
  })
  const preempted = Number(r.num_preemptions)
  return {
    label: c.label,
    gpu: c.gpu,
    values: { latency: { measured: c.latencyS, predicted: Number(r.duration) } },
    ...(preempted > 0 ? { note: `${preempted} preemptions` } : {}),
  }
}
