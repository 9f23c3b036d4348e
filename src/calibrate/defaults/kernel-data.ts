// Readers for the measured GPU timings in ../shared/data (read in place, never copied): aiconfigurator
// kernel tables, Vidur per-operator and collective profiles, Splitwise prefill/decode times, Argonne
// static batches and LLMServingSim layer profiles. Times are returned in seconds.
import { existsSync, readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync } from "node:zlib"
import { parseCsvRecords } from "../../format/csv.ts"
import { parseMeasurementCsv, type MeasuredPoint } from "../measurements.ts"

/** ../shared/data relative to the repository root, or $SERVESIM_DATA. */
export const dataRoot = (): string => {
  const env = process.env.SERVESIM_DATA
  if (env !== undefined && env !== "") return resolve(env)
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")
  return resolve(repo, "..", "shared", "data")
}

export const hasData = (root: string = dataRoot()): boolean => existsSync(join(root, "kernels", "aiconfigurator"))

export interface Table {
  readonly header: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
  col(name: string): number
}

export const readTable = (path: string): Table => {
  const raw = readFileSync(path)
  const text = path.endsWith(".gz") ? gunzipSync(raw).toString("utf8") : raw.toString("utf8")
  const parsed = parseCsvRecords(text)
  if (!parsed.ok) throw new Error(`${path}:${parsed.line}: ${parsed.error}`)
  const all = parsed.records.map((r) => r.cells)
  const header = (all[0] ?? []).map((h) => h.trim())
  const rows = all.slice(1)
  return {
    header,
    rows,
    col: (name: string): number => {
      const i = header.indexOf(name)
      if (i < 0) throw new Error(`${path}: no column ${name}`)
      return i
    },
  }
}

const num = (row: ReadonlyArray<string>, i: number): number => Number(row[i])
const str = (row: ReadonlyArray<string>, i: number): string => row[i] ?? ""

/** aiconfigurator GPU folders and our GPU ids. */
export const AICONFIGURATOR_GPUS: ReadonlyArray<{ readonly dir: string; readonly gpu: string }> = [
  { dir: "a100_sxm", gpu: "a100-sxm" },
  { dir: "h100_sxm", gpu: "h100-sxm" },
  { dir: "h200_sxm", gpu: "h200-sxm" },
]

const aic = (root: string, dir: string, ...parts: string[]): string => join(root, "kernels", "aiconfigurator", dir, ...parts)

export interface GemmPoint {
  readonly gpu: string
  readonly dtype: string // bfloat16 | fp8 | fp8_block
  readonly m: number
  readonly n: number
  readonly k: number
  readonly latency: number
}

export const loadGemm = (root: string, dir: string, gpu: string): GemmPoint[] => {
  const t = readTable(aic(root, dir, "gemm", "vllm", "0.14.0", "gemm_perf.csv.gz"))
  const [d, m, n, k, l] = ["gemm_dtype", "m", "n", "k", "latency"].map(t.col)
  return t.rows.map((r) => ({ gpu, dtype: str(r, d!), m: num(r, m!), n: num(r, n!), k: num(r, k!), latency: num(r, l!) * 1e-3 }))
}

export interface AttentionPoint {
  readonly gpu: string
  readonly batch: number
  /** context: prompt length; generation: 1 */
  readonly isl: number
  readonly heads: number
  readonly kvHeads: number
  readonly headDim: number
  readonly kvDtype: string
  /** generation: KV length attended; context: 0 */
  readonly step: number
  readonly latency: number
}

const loadAttention = (root: string, dir: string, gpu: string, file: string): AttentionPoint[] => {
  const t = readTable(aic(root, dir, "attention", "vllm", "0.14.0", file))
  const cols = ["batch_size", "isl", "num_heads", "num_key_value_heads", "head_dim", "kv_cache_dtype", "step", "latency"].map(t.col)
  const [b, isl, h, kv, hd, dt, st, l] = cols as [number, number, number, number, number, number, number, number]
  return t.rows.map((r) => ({
    gpu,
    batch: num(r, b),
    isl: num(r, isl),
    heads: num(r, h),
    kvHeads: num(r, kv),
    headDim: num(r, hd),
    kvDtype: str(r, dt),
    step: num(r, st),
    latency: num(r, l) * 1e-3,
  }))
}

export const loadContextAttention = (root: string, dir: string, gpu: string): AttentionPoint[] =>
  loadAttention(root, dir, gpu, "context_attention_perf.csv.gz")
export const loadGenerationAttention = (root: string, dir: string, gpu: string): AttentionPoint[] =>
  loadAttention(root, dir, gpu, "generation_attention_perf.csv.gz")

export interface CollectivePoint {
  readonly gpu: string
  /** Element type of the message: bfloat16 | half | int8 ("" when the table does not say). */
  readonly dtype: string
  /** vLLM_custom_graph | vLLM_custom_eager | NCCL */
  readonly kernel: string
  /** all_reduce | all_gather | reduce_scatter | alltoall | send_recv */
  readonly op: string
  readonly numGpus: number
  /** Message size in bytes (aiconfigurator tables give elements; converted here). */
  readonly bytes: number
  readonly latency: number
}

/** aiconfigurator's collective tables give message_size in elements of the dtype (NCCL half vs int8 timings only agree that way). */
const elementBytes = (dtype: string): number => (dtype === "int8" || dtype === "fp8" ? 1 : dtype === "float" || dtype === "float32" ? 4 : 2)

export const loadCustomAllReduce = (root: string, dir: string, gpu: string): CollectivePoint[] => {
  const t = readTable(aic(root, dir, "comm", "vllm", "0.14.0", "custom_allreduce_perf.csv.gz"))
  const [k, d, n, s, l] = ["kernel_source", "allreduce_dtype", "num_gpus", "message_size", "latency"].map(t.col) as [number, number, number, number, number]
  return t.rows.map((r) => ({
    gpu,
    dtype: str(r, d),
    kernel: str(r, k),
    op: "all_reduce",
    numGpus: num(r, n),
    bytes: num(r, s) * elementBytes(str(r, d)),
    latency: num(r, l) * 1e-3,
  }))
}

export const loadNccl = (root: string, dir: string, gpu: string): CollectivePoint[] => {
  const base = aic(root, dir, "comm", "nccl")
  const versions = ["2.27.3", "2.26.2"].filter((v) => existsSync(join(base, v, "nccl_perf.csv.gz")))
  const v = versions[0]
  if (v === undefined) return []
  const t = readTable(join(base, v, "nccl_perf.csv.gz"))
  const [op, d, n, s, l] = ["op_name", "nccl_dtype", "num_gpus", "message_size", "latency"].map(t.col) as [number, number, number, number, number]
  return t.rows.map((r) => ({
    gpu,
    dtype: str(r, d),
    kernel: "NCCL",
    op: str(r, op),
    numGpus: num(r, n),
    bytes: num(r, s) * elementBytes(str(r, d)),
    latency: num(r, l) * 1e-3,
  }))
}

export interface MoePoint {
  readonly gpu: string
  readonly dtype: string
  readonly numTokens: number
  readonly hidden: number
  readonly inter: number
  readonly topk: number
  readonly numExperts: number
  readonly tp: number
  readonly ep: number
  readonly distribution: string
  readonly latency: number
}

export const loadMoe = (root: string, dir: string, gpu: string): MoePoint[] => {
  const t = readTable(aic(root, dir, "moe", "vllm", "0.14.0", "moe_perf.csv.gz"))
  const names = ["moe_dtype", "num_tokens", "hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size", "moe_ep_size", "distribution", "latency"]
  const [d, nt, h, i, k, e, tp, ep, dist, l] = names.map(t.col) as [number, number, number, number, number, number, number, number, number, number]
  return t.rows.map((r) => ({
    gpu,
    dtype: str(r, d),
    numTokens: num(r, nt),
    hidden: num(r, h),
    inter: num(r, i),
    topk: num(r, k),
    numExperts: num(r, e),
    tp: num(r, tp),
    ep: num(r, ep),
    distribution: str(r, dist),
    latency: num(r, l) * 1e-3,
  }))
}

// ---- Vidur (microsoft/vidur @7d47513) ----

export interface VidurMlpPoint {
  readonly gpu: string
  readonly model: string
  readonly heads: number
  readonly kvHeads: number
  readonly hidden: number
  readonly intermediate: number
  readonly vocab: number
  readonly gated: boolean
  readonly numTokens: number
  readonly tp: number
  /** Median seconds per operator (emb, input_layernorm, attn_pre_proj, attn_rope, attn_post_proj, post_attention_layernorm, mlp_up_proj, mlp_act, mlp_down_proj, add). */
  readonly ops: Readonly<Record<string, number>>
}

export const VIDUR_OPS = [
  "emb",
  "input_layernorm",
  "attn_pre_proj",
  "attn_rope",
  "attn_post_proj",
  "post_attention_layernorm",
  "mlp_up_proj",
  "mlp_act",
  "mlp_down_proj",
  "add",
] as const

export const VIDUR_MODELS: ReadonlyArray<{ readonly gpu: string; readonly dir: string; readonly model: string }> = [
  ...["Llama-2-7b-hf", "Llama-2-70b-hf"].flatMap((m) => [
    { gpu: "a100-sxm", dir: "a100", model: `meta-llama/${m}` },
    { gpu: "h100-sxm", dir: "h100", model: `meta-llama/${m}` },
  ]),
  { gpu: "a100-sxm", dir: "a100", model: "meta-llama/Meta-Llama-3-8B" },
  { gpu: "a100-sxm", dir: "a100", model: "meta-llama/Meta-Llama-3-70B" },
  { gpu: "a100-sxm", dir: "a100", model: "codellama/CodeLlama-34b-Instruct-hf" },
  { gpu: "h100-sxm", dir: "h100", model: "codellama/CodeLlama-34b-Instruct-hf" },
  { gpu: "a100-sxm", dir: "a100", model: "internlm/internlm-20b" },
  { gpu: "h100-sxm", dir: "h100", model: "internlm/internlm-20b" },
  { gpu: "a100-sxm", dir: "a100", model: "Qwen/Qwen-72B" },
  { gpu: "h100-sxm", dir: "h100", model: "Qwen/Qwen-72B" },
]

export const loadVidurMlp = (root: string, gpu: string, dir: string, model: string): VidurMlpPoint[] => {
  const path = join(root, "kernels", "vidur", "data", "profiling", "compute", dir, ...model.split("/"), "mlp.csv.gz")
  if (!existsSync(path)) return []
  const t = readTable(path)
  const c = (n: string): number => t.col(n)
  const opCols = VIDUR_OPS.map((o) => [o, c(`time_stats.${o}.median`)] as const)
  return t.rows.map((r) => {
    const ops: Record<string, number> = {}
    for (const [o, i] of opCols) ops[o] = num(r, i) * 1e-3
    return {
      gpu,
      model,
      heads: num(r, c("n_head")),
      kvHeads: num(r, c("n_kv_head")),
      hidden: num(r, c("n_embd")),
      intermediate: num(r, c("n_expanded_embd")),
      vocab: num(r, c("vocab_size")),
      gated: str(r, c("use_gated_mlp")) === "True",
      numTokens: num(r, c("num_tokens")),
      tp: num(r, c("num_tensor_parallel_workers")),
      ops,
    }
  })
}

/** Vidur network profiles: all_reduce and send_recv, single-node rows only (devices_per_node = workers). */
export const loadVidurCollective = (root: string, gpu: string, dir: string, op: "all_reduce" | "send_recv"): CollectivePoint[] => {
  const path = join(root, "kernels", "vidur", "data", "profiling", "network", dir, `${op}.csv.gz`)
  if (!existsSync(path)) return []
  const t = readTable(path)
  const [med, n, size, dpn] = [`time_stats.${op}.median`, "num_workers", "size", "devices_per_node"].map(t.col) as [number, number, number, number]
  return t.rows
    .filter((r) => op === "send_recv" || num(r, dpn) === num(r, n))
    .map((r) => ({ gpu, dtype: "", kernel: "NCCL", op, numGpus: num(r, n), bytes: num(r, size), latency: num(r, med) * 1e-3 }))
}

// ---- Splitwise (Mutinifni/splitwise-sim @8f99e7d data/perf_model.csv) ----

export interface SplitwisePoint {
  readonly model: string // llama2-70b | bloom-176b
  readonly gpu: string // a100-sxm | h100-sxm
  readonly tp: number
  readonly promptSize: number
  readonly batchSize: number
  readonly tokenSize: number
  /** Median over repeats: prefill time of the batch, and mean time per generated token. */
  readonly promptTime: number
  readonly tokenTime: number
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

export const loadSplitwise = (root: string): SplitwisePoint[] => {
  const path = join(root, "kernels", "splitwise", "perf_model.csv")
  if (!existsSync(path)) return []
  const t = readTable(path)
  const [mo, hw, ps, bs, ts, pt, tt, tp] = ["model", "hardware", "prompt_size", "batch_size", "token_size", "prompt_time", "token_time", "tensor_parallel"].map(t.col) as [
    number, number, number, number, number, number, number, number,
  ]
  const groups = new Map<string, { key: Omit<SplitwisePoint, "promptTime" | "tokenTime">; p: number[]; t: number[] }>()
  for (const r of t.rows) {
    const hardware = str(r, hw)
    // h100-80gb-pcap is a power-capped H100; leave it out.
    const gpu = hardware === "a100-80gb" ? "a100-sxm" : hardware === "h100-80gb" ? "h100-sxm" : undefined
    if (gpu === undefined) continue
    const key = { model: str(r, mo), gpu, tp: num(r, tp), promptSize: num(r, ps), batchSize: num(r, bs), tokenSize: num(r, ts) }
    const id = JSON.stringify(key)
    const g = groups.get(id) ?? { key, p: [], t: [] }
    g.p.push(num(r, pt) * 1e-3)
    g.t.push(num(r, tt) * 1e-3)
    groups.set(id, g)
  }
  return [...groups.values()].map((g) => ({ ...g.key, promptTime: median(g.p), tokenTime: median(g.t) }))
}

// ---- Argonne LLM-Inference-Bench (argonne-lcf @4211f5d): vLLM static batches ----

export interface ArgonnePoint {
  readonly gpu: string
  readonly tp: number
  readonly model: string
  /** input length = output length */
  readonly length: number
  readonly batch: number
  /** Seconds for the whole batch: prefill + (length − 1) decode steps. */
  readonly latency: number
}

export const loadArgonne = (root: string): ArgonnePoint[] => {
  const path = join(root, "offline", "argonne", "nvidia_offline_batch_latency_throughput.csv")
  if (!existsSync(path)) return []
  const t = readTable(path)
  const [hw, tp, fw, mo, len, bs, lat] = ["Hardware", "num_gpus_tp", "Framework", "Model", "input_len_eq_output_len", "batch_size", "batch_latency_s"].map(t.col) as [
    number, number, number, number, number, number, number,
  ]
  const out: ArgonnePoint[] = []
  for (const r of t.rows) {
    if (str(r, fw) !== "vLLM") continue
    const h = str(r, hw)
    const gpu = h === "Nvidia A100 GPU" ? "a100-sxm" : h === "Nvidia H100 GPU" ? "h100-sxm" : undefined
    if (gpu === undefined) continue
    out.push({ gpu, tp: num(r, tp), model: str(r, mo), length: num(r, len), batch: num(r, bs), latency: num(r, lat) })
  }
  return out
}

// ---- LLMServingSim (casys-kaist @5daddb2) per-layer H100 profiles ----

export interface LayerProfilePoint {
  readonly model: string
  readonly tp: number
  readonly layer: string
  readonly input: number
  readonly kvCache: number
  readonly latency: number
}

export const LLMSERVINGSIM_MODELS: ReadonlyArray<{ readonly model: string; readonly tp: number }> = [
  { model: "meta-llama/Llama-3.1-8B", tp: 1 },
  { model: "meta-llama/Llama-3.1-70B", tp: 4 },
]

export const loadLlmServingSimLayers = (root: string, model: string, tp: number): LayerProfilePoint[] => {
  const path = join(root, "kernels", "llmservingsim", "H100", ...model.split("/"), `tp${tp}`, "layers.csv.gz")
  if (!existsSync(path)) return []
  const t = readTable(path)
  const [ln, inp, kv, lat] = ["layer_name", "input", "kv_cache", "latency(ns)"].map(t.col) as [number, number, number, number]
  return t.rows.map((r) => ({ model, tp, layer: str(r, ln), input: num(r, inp), kvCache: num(r, kv), latency: num(r, lat) * 1e-9 }))
}

// ---- Serving measurement tables (../shared/data/serving/*.csv, format in its README) ----

export interface ServingRow {
  readonly source: string
  readonly engine: string
  readonly engineVersion: string
  readonly gpu: string
  readonly model: string
  readonly precision: string
  readonly tp: number
  readonly pp: number
  readonly workload: string
  readonly isl: number
  readonly osl: number
  /** NaN when blank (open loop). */
  readonly concurrency: number
  readonly requestRate: number
  readonly maxNumSeqs: number
  readonly maxNumBatchedTokens: number
  /** Seconds; NaN when not measured. */
  readonly ttftMean: number
  readonly tpotMean: number
  readonly e2eMean: number
}

export const loadServingTable = (root: string, file: string): ServingRow[] => {
  const path = join(root, "serving", file)
  if (!existsSync(path)) return []
  const t = readTable(path)
  const c = (n: string): number => t.col(n)
  const opt = (r: ReadonlyArray<string>, n: string): number => {
    const v = str(r, c(n)).trim()
    return v === "" ? NaN : Number(v)
  }
  return t.rows.map((r) => ({
    source: str(r, c("source")),
    engine: str(r, c("engine")),
    engineVersion: str(r, c("engine_version")),
    gpu: str(r, c("gpu")),
    model: str(r, c("model")),
    precision: str(r, c("precision")),
    tp: opt(r, "tp"),
    pp: opt(r, "pp"),
    workload: str(r, c("workload")),
    isl: opt(r, "isl"),
    osl: opt(r, "osl"),
    concurrency: opt(r, "concurrency"),
    requestRate: opt(r, "request_rate"),
    maxNumSeqs: opt(r, "max_num_seqs"),
    maxNumBatchedTokens: opt(r, "max_num_batched_tokens"),
    ttftMean: opt(r, "ttft_mean_ms") * 1e-3,
    tpotMean: opt(r, "tpot_mean_ms") * 1e-3,
    e2eMean: opt(r, "e2e_mean_ms") * 1e-3,
  }))
}

/** A serving table's points exactly as validate reads them (none when the file is absent). */
export const measuredTable = (root: string, file: string): ReadonlyArray<MeasuredPoint> => {
  const path = join(root, "serving", file)
  if (!existsSync(path)) return []
  const set = parseMeasurementCsv(readFileSync(path, "utf8"), path)
  if (typeof set === "string") throw new Error(set)
  return set.points
}
