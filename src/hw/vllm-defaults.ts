// vLLM's engine defaults that shape a serving run, as a function of the GPU (and model).
//
// Scheduler limits: vllm/engine/arg_utils.py EngineArgs.get_batch_defaults (V1, late 2025; also in
// vllm-project/vllm @99d7eb5d _set_default_args, economics.md §5.6):
//   if device_memory >= 70 GiB and "a100" not in device_name:   # "For GPUs like H100 and MI300x"
//       max_num_batched_tokens = {LLM_CLASS: 16384, OPENAI_API_SERVER: 8192}
//       max_num_seqs           = {LLM_CLASS: 1024,  OPENAI_API_SERVER: 1024}
//   else:
//       max_num_batched_tokens = {LLM_CLASS: 8192,  OPENAI_API_SERVER: 2048}
//       max_num_seqs           = {LLM_CLASS: 256,   OPENAI_API_SERVER: 256}
//   then max_num_seqs = min(max_num_seqs, max_num_batched_tokens).
// A100 is excluded because large budgets cut its throughput (PR #17885). An A800 ("NVIDIA
// A800-SXM4-80GB", 79.35 GiB) therefore gets the large defaults; so does an RTX PRO 6000 (95 GiB).

import { cudaTotalMemoryBytes } from "./gpus.ts"
import type { GpuProfile, ModelProfile } from "./types.ts"

export type UsageContext = "openai-api-server" | "llm-class"

export interface VllmDefaults {
  readonly maxNumSeqs: number
  readonly maxNumBatchedTokens: number
  readonly gpuMemoryUtilization: number
  readonly blockSize: number
}

const GiB = 2 ** 30

/** vLLM's "H100-class" test: ≥ 70 GiB of device memory and a device name without "a100". */
export const hasLargeBatchDefaults = (gpu: GpuProfile): boolean =>
  cudaTotalMemoryBytes(gpu) >= 70 * GiB && !gpu.name.toLowerCase().includes("a100")

/**
 * Defaults of `vllm serve` (or the offline LLM class) on this GPU. gpu_memory_utilization 0.9
 * (vllm/config/cache.py @c1d86421; the replayed vLLM 0.19.0 runs record 0.9 — note vLLM 0.28.0 runs
 * record 0.92, the newer default). block_size 16 (vllm/platforms/cuda.py @1c0d9ecf); MLA models are
 * forced to 64 (FlashMLA), 128 on B200 (CUTLASS MLA, SM100) — pass the model to get that.
 */
export const vllmDefaults = (
  gpu: GpuProfile,
  usageContext: UsageContext = "openai-api-server",
  model?: ModelProfile,
): VllmDefaults => {
  const large = hasLargeBatchDefaults(gpu)
  const api = usageContext === "openai-api-server"
  const maxNumBatchedTokens = large ? (api ? 8192 : 16384) : api ? 2048 : 8192
  const seqs = large ? 1024 : 256
  const mla = model !== undefined && model.mlaKvDim > 0
  return {
    maxNumSeqs: Math.min(seqs, maxNumBatchedTokens),
    maxNumBatchedTokens,
    gpuMemoryUtilization: 0.9,
    blockSize: mla ? (gpu.id === "b200-sxm" ? 128 : 64) : 16,
  }
}

/** vLLM's default max_model_len: the model's max_position_embeddings. */
export const vllmDefaultMaxModelLen = (m: ModelProfile): number => m.maxPositionEmbeddings

/**
 * Whether `vllm serve` schedules asynchronously by default. vLLM 0.14.0 turned it on ("Async
 * scheduling is now enabled by default", #27614; resolved in vllm/config/vllm.py VllmConfig.__post_init__)
 * except with pipeline parallelism; earlier releases ran synchronously unless --async-scheduling was
 * given. An unknown version is taken as current.
 */
export const asyncSchedulingDefault = (pp: number, engineVersion?: string): boolean => {
  if (pp > 1) return false
  const m = engineVersion === undefined ? null : /^v?(\d+)\.(\d+)/.exec(engineVersion.trim())
  if (m === null) return true
  const major = Number(m[1])
  const minor = Number(m[2])
  return major > 0 || minor >= 14
}
