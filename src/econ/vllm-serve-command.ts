// The `vllm serve` command line of a simulated deployment, with the engine args the simulation assumed,
// so a recommendation can be launched as it was simulated. Flag names are vLLM's EngineArgs
// (vllm/engine/arg_utils.py): booleans take the --no- form when off. Pure.

export interface ServeConfig {
  /** Hugging Face model id (or a local path). */
  readonly model: string
  readonly tp: number
  readonly pp: number
  /** Data-parallel replicas behind one router. */
  readonly replicas: number
  readonly maxNumSeqs: number
  readonly maxNumBatchedTokens: number
  readonly gpuMemoryUtilization: number
  readonly enablePrefixCaching: boolean
  readonly enableChunkedPrefill: boolean
  readonly precision: "bf16" | "fp16" | "fp8" | "fp4" | "int4"
  readonly kvCacheDtype: "auto" | "fp8"
  /** Set only when the simulation lowered or was given a max_model_len other than the model's. */
  readonly maxModelLen?: number
  /** Set only when num_gpu_blocks was given rather than derived from memory. */
  readonly numGpuBlocksOverride?: number
}

export interface ServeCommand {
  /** argv: "vllm", "serve", model, flags… */
  readonly args: ReadonlyArray<string>
  /** The argv as one shell line (arguments quoted where the shell would split them). */
  readonly command: string
  readonly notes: ReadonlyArray<string>
}

/** POSIX single-quoting for anything beyond plain word characters. */
export const shellQuote = (s: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

export const vllmServeCommand = (c: ServeConfig): ServeCommand => {
  const args: string[] = ["vllm", "serve", c.model, "--tensor-parallel-size", String(c.tp)]
  const notes: string[] = []
  if (c.pp > 1) args.push("--pipeline-parallel-size", String(c.pp))
  if (c.replicas > 1) {
    args.push("--data-parallel-size", String(c.replicas))
    notes.push(
      `${c.replicas} replicas of tp ${c.tp}${c.pp > 1 ? ` × pp ${c.pp}` : ""}: one server with --data-parallel-size ${c.replicas} (${c.replicas * c.tp * c.pp} GPUs), or ${c.replicas} servers without it behind a load balancer`,
    )
  }
  args.push("--max-num-seqs", String(c.maxNumSeqs), "--max-num-batched-tokens", String(c.maxNumBatchedTokens))
  args.push("--gpu-memory-utilization", String(c.gpuMemoryUtilization))
  args.push(c.enablePrefixCaching ? "--enable-prefix-caching" : "--no-enable-prefix-caching")
  args.push(c.enableChunkedPrefill ? "--enable-chunked-prefill" : "--no-enable-chunked-prefill")
  if (c.maxModelLen !== undefined) args.push("--max-model-len", String(c.maxModelLen))
  if (c.numGpuBlocksOverride !== undefined) args.push("--num-gpu-blocks-override", String(c.numGpuBlocksOverride))
  if (c.kvCacheDtype === "fp8") args.push("--kv-cache-dtype", "fp8")
  if (c.precision === "fp16") args.push("--dtype", "float16")
  if (c.precision === "fp8") {
    args.push("--quantization", "fp8")
    notes.push("--quantization fp8 quantizes a bf16 checkpoint on load; drop it for an FP8 checkpoint (vLLM reads its quantization_config)")
  }
  if (c.precision === "fp4" || c.precision === "int4") notes.push(`${c.precision} weights: serve a ${c.precision} checkpoint (vLLM reads its quantization_config)`)
  return { args, command: args.map(shellQuote).join(" "), notes }
}
