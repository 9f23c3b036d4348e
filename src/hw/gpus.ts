// Built-in GPU profiles and the parser for user-defined GPUs. Pure data, no I/O.
//
// Unit conventions (same as ../shared/data/facts/gpus.json, so an entry can be pasted as JSON):
//   memory_gb              GiB of device memory as NVIDIA quotes it (an "80 GB" HBM part has 80·2^30 bytes)
//   memory_bandwidth_GBps  GB/s (10^9 B/s)
//   *_dense_tflops / _tops 10^12 op/s, dense (half of NVIDIA's "with sparsity" figure)
//   nvlink_GBps_bidir      GB/s, total bidirectional per GPU (H100 900 = 450 each way); null/absent = none
//   pcie_GBps_bidir        GB/s, total bidirectional (Gen4 x16 64, Gen5 x16 128)
//   tdp_w                  board power, W
//   generation             "ampere" | "ada" | "hopper" | "blackwell" (or derived from an "arch" string)
//   device_memory_bytes    optional: total memory as CUDA reports it (torch.cuda.mem_get_info()[1])
// Sources: facts/gpus.json cites each datasheet figure; figures not in that file cite their own page.

import type { GpuProfile } from "./types.ts"
import { isRecord } from "../format/json.ts"

const GiB = 2 ** 30
const GB = 1e9
const T = 1e12

/** Generations with per-generation fitted coefficients elsewhere. */
export const GPU_GENERATIONS: ReadonlyArray<string> = ["ampere", "ada", "hopper", "blackwell"]

// A100/A800 80GB as CUDA sees it: 85,198,045,184 B = 79.35 GiB (deviceQuery gist via economics.md §3).
const A100_80GB_DEVICE = 85_198_045_184
// H100 80GB as vLLM logs it: "total_gpu_memory (79.22GiB)" (vllm-project/vllm PR #12126, H100-80G).
const H100_80GB_DEVICE = Math.round(79.22 * GiB)

interface Entry {
  readonly profile: GpuProfile
  readonly aliases: ReadonlyArray<string>
}

const entry = (profile: GpuProfile, aliases: ReadonlyArray<string>): Entry => ({ profile, aliases })

const TABLE: ReadonlyArray<Entry> = [
  // A800 = A100 silicon, memory and compute with NVLink cut 600 → 400 GB/s (aiwiki.ai/wiki/nvidia_a800; facts/gpus.json).
  entry(
    {
      id: "a800-sxm",
      name: "NVIDIA A800-SXM4-80GB",
      memoryBytes: 80 * GiB, // HBM2e, A100 datasheet r4 via glennklockwood.com
      deviceMemoryBytes: A100_80GB_DEVICE, // same memory as A100-SXM4-80GB
      memoryBandwidth: 2039 * GB, // A100 80GB SXM datasheet
      bf16Flops: 312 * T, // dense; verl _DEVICE_FLOPS A800 312e12
      fp8Flops: 312 * T, // no FP8 tensor cores on Ampere
      fp4Flops: 312 * T, // W4A16 kernels run at bf16 rate
      int8Ops: 624 * T, // A100 datasheet, dense
      nvlinkBandwidth: 400 * GB, // aiwiki.ai: 600 → 400 GB/s
      pcieBandwidth: 64 * GB, // Gen4 x16
      tdpWatts: 400, // A100 SXM datasheet
      generation: "ampere",
    },
    ["a800", "a800-80gb-sxm", "a800-sxm4", "a800-sxm4-80gb"],
  ),
  entry(
    {
      id: "a800-pcie",
      name: "NVIDIA A800 80GB PCIe",
      memoryBytes: 80 * GiB,
      deviceMemoryBytes: A100_80GB_DEVICE, // assumed equal to the SXM part (same 80 GB HBM2e)
      memoryBandwidth: 1935 * GB, // A100/A800 80GB PCIe datasheet
      bf16Flops: 312 * T,
      fp8Flops: 312 * T,
      fp4Flops: 312 * T,
      int8Ops: 624 * T,
      nvlinkBandwidth: 400 * GB, // 2-way NVLink bridge, facts/gpus.json
      pcieBandwidth: 64 * GB,
      tdpWatts: 300, // A800/A100 80GB PCIe datasheets (some spec DBs list 250 W)
      generation: "ampere",
    },
    ["a800-80gb-pcie"],
  ),
  entry(
    {
      id: "a100-sxm",
      name: "NVIDIA A100-SXM4-80GB",
      memoryBytes: 80 * GiB, // A100 datasheet r4 via glennklockwood.com
      deviceMemoryBytes: A100_80GB_DEVICE,
      memoryBandwidth: 2039 * GB,
      bf16Flops: 312 * T,
      fp8Flops: 312 * T,
      fp4Flops: 312 * T,
      int8Ops: 624 * T,
      nvlinkBandwidth: 600 * GB, // NVLink 3, 12 links
      pcieBandwidth: 64 * GB,
      tdpWatts: 400,
      generation: "ampere",
    },
    ["a100", "a100-80gb-sxm", "a100-sxm4", "a100-sxm4-80gb"],
  ),
  entry(
    {
      id: "a100-pcie",
      name: "NVIDIA A100 80GB PCIe",
      memoryBytes: 80 * GiB,
      deviceMemoryBytes: A100_80GB_DEVICE, // assumed equal to the SXM part
      memoryBandwidth: 1935 * GB, // A100 80GB PCIe datasheet (facts/gpus.json a800-80gb-pcie memory_bw)
      bf16Flops: 312 * T,
      fp8Flops: 312 * T,
      fp4Flops: 312 * T,
      int8Ops: 624 * T,
      nvlinkBandwidth: 600 * GB, // A100 datasheet: NVLink bridge for 2 GPUs, 600 GB/s
      pcieBandwidth: 64 * GB,
      tdpWatts: 300, // A100 80GB PCIe datasheet
      generation: "ampere",
    },
    ["a100-80gb-pcie"],
  ),
  entry(
    {
      id: "h100-sxm",
      name: "NVIDIA H100 80GB HBM3",
      memoryBytes: 80 * GiB, // glennklockwood.com/garden/processors/h100
      deviceMemoryBytes: H100_80GB_DEVICE,
      memoryBandwidth: 3350 * GB,
      bf16Flops: 989.4 * T, // dense (1978.9 sparse)
      fp8Flops: 1978.9 * T,
      fp4Flops: 1978.9 * T, // no FP4 tensor cores: best lower precision is FP8
      int8Ops: 1978.9 * T,
      nvlinkBandwidth: 900 * GB,
      pcieBandwidth: 128 * GB, // Gen5 x16
      tdpWatts: 700,
      generation: "hopper",
    },
    ["h100", "h100-sxm5", "h100-80gb-hbm3", "h100-80gb-sxm"],
  ),
  entry(
    {
      id: "h100-pcie",
      name: "NVIDIA H100 PCIe",
      memoryBytes: 80 * GiB,
      deviceMemoryBytes: H100_80GB_DEVICE, // assumed equal to the SXM part
      memoryBandwidth: 2000 * GB, // product brief PB-11133-001_v02: ">2,000 GB/s"
      bf16Flops: 756 * T, // datasheet PCIe column 1,513 sparse
      fp8Flops: 1513 * T, // 3,026 sparse
      fp4Flops: 1513 * T,
      int8Ops: 1513 * T,
      nvlinkBandwidth: 600 * GB, // NVLink bridge
      pcieBandwidth: 128 * GB,
      tdpWatts: 350, // product brief: max TDP 350 W
      generation: "hopper",
    },
    ["h100-80gb-pcie"],
  ),
  // H800 = H100 with NVLink cut to 400 GB/s (tumgag/aiwiki via facts/gpus.json).
  entry(
    {
      id: "h800-sxm",
      name: "NVIDIA H800",
      memoryBytes: 80 * GiB,
      deviceMemoryBytes: H100_80GB_DEVICE, // same memory as H100 SXM (assumed)
      memoryBandwidth: 3350 * GB,
      bf16Flops: 989.4 * T,
      fp8Flops: 1978.9 * T,
      fp4Flops: 1978.9 * T,
      int8Ops: 1978.9 * T,
      nvlinkBandwidth: 400 * GB,
      pcieBandwidth: 128 * GB,
      tdpWatts: 700,
      generation: "hopper",
    },
    ["h800", "h800-sxm5", "h800-80gb-sxm"],
  ),
  entry(
    {
      id: "h800-pcie",
      name: "NVIDIA H800 PCIe",
      memoryBytes: 80 * GiB,
      deviceMemoryBytes: H100_80GB_DEVICE, // assumed
      memoryBandwidth: 2000 * GB, // assumed = H100 PCIe
      bf16Flops: 756 * T,
      fp8Flops: 1513 * T,
      fp4Flops: 1513 * T,
      int8Ops: 1513 * T,
      nvlinkBandwidth: 400 * GB, // H800 PCIe datasheet; Reuters/TechPowerUp reported 300
      pcieBandwidth: 128 * GB,
      tdpWatts: 350,
      generation: "hopper",
    },
    ["h800-80gb-pcie"],
  ),
  entry(
    {
      id: "h200-sxm",
      name: "NVIDIA H200",
      memoryBytes: 141 * GiB, // HBM3e; lzwjava / saulelectric spec pages
      memoryBandwidth: 4800 * GB,
      bf16Flops: 989.4 * T,
      fp8Flops: 1978.9 * T, // 3,958 sparse
      fp4Flops: 1978.9 * T,
      int8Ops: 1978.9 * T,
      nvlinkBandwidth: 900 * GB,
      pcieBandwidth: 128 * GB,
      tdpWatts: 700, // SXM; the NVL (PCIe) part is 600 W
      generation: "hopper",
    },
    ["h200", "h200-sxm5", "h200-141gb"],
  ),
  entry(
    {
      id: "b200-sxm",
      name: "NVIDIA B200",
      memoryBytes: 180 * GiB, // usable on HGX B200 (192 GB is the marketing figure); facts/gpus.json
      deviceMemoryBytes: 179 * GiB, // Vultr HGX B200 docs: "179 GB usable" (nvidia-smi reports MiB)
      memoryBandwidth: 8000 * GB, // glennklockwood.com B200 (HGX @1000 W)
      bf16Flops: 2250 * T,
      fp8Flops: 4500 * T,
      fp4Flops: 9000 * T,
      int8Ops: 4500 * T,
      nvlinkBandwidth: 1800 * GB, // NVLink 5
      pcieBandwidth: 256 * GB, // Gen6 x16
      tdpWatts: 1000,
      generation: "blackwell",
    },
    ["b200", "b200-hgx", "b200-180gb"],
  ),
  entry(
    {
      id: "l40s",
      name: "NVIDIA L40S",
      memoryBytes: 48 * GiB, // GDDR6 ECC; NVIDIA L40S datasheet via mullet.se
      memoryBandwidth: 864 * GB,
      bf16Flops: 362.05 * T, // 733 sparse
      fp8Flops: 733 * T,
      fp4Flops: 733 * T, // no FP4 on Ada: FP8
      int8Ops: 733 * T,
      nvlinkBandwidth: 0, // no NVLink; TP goes over PCIe
      pcieBandwidth: 64 * GB, // Gen4 x16
      tdpWatts: 350,
      generation: "ada",
    },
    ["l40s-48gb"],
  ),
  entry(
    {
      id: "rtx-4090",
      name: "NVIDIA GeForce RTX 4090",
      memoryBytes: 24 * GiB, // GDDR6X, waredb.com/processor/nvidia-geforce-rtx-4090
      deviceMemoryBytes: 25_250_627_584, // per-request-replays/RTX4090/Llama-3.1-8B/meta.json device_total_memory_bytes
      memoryBandwidth: 1008 * GB, // waredb.com; 384-bit × 21 Gbps
      bf16Flops: 165.15 * T, // tensor, FP32 accumulate (GeForce runs FP16-accumulate at 2×; vLLM accumulates in FP32); waredb.com
      fp8Flops: 330.3 * T, // waredb.com, dense
      fp4Flops: 330.3 * T, // no FP4 on Ada: FP8
      int8Ops: 660.6 * T, // waredb.com, dense
      nvlinkBandwidth: 0,
      pcieBandwidth: 64 * GB, // Gen4 x16
      tdpWatts: 450, // holynerdvana.blogspot.com RTX 4090 spec table: 450 W total board power
      generation: "ada",
    },
    ["rtx4090", "4090", "geforce-rtx-4090", "rtx-4090-24gb"],
  ),
  entry(
    {
      id: "rtx-pro-6000",
      name: "NVIDIA RTX PRO 6000 Blackwell Server Edition",
      memoryBytes: 96 * GiB, // GDDR7 ECC, gpu.name (VideoCardz, Mar 2025)
      deviceMemoryBytes: 101_976_440_832, // casys-kaist/LLMServingSim bench/examples/RTXPRO6000/*/vllm/meta.json @0acc21b
      memoryBandwidth: 1792 * GB, // gpu.name: 512-bit × 28 Gbps (LLMServingSim's config uses a measured 1597)
      bf16Flops: 503.8 * T, // hmc-tech.com RTX PRO 6000 Blackwell: BF16 tensor 503.8 TF dense
      fp8Flops: 1007.6 * T, // hmc-tech.com: 1.01 PF dense
      fp4Flops: 2015.2 * T, // hmc-tech.com: 2.02 PF dense (NVIDIA's "4000 AI TOPS" is FP4 sparse)
      int8Ops: 1007.6 * T, // hmc-tech.com: 1.01 POPS dense
      nvlinkBandwidth: 0,
      pcieBandwidth: 128 * GB, // Gen5 x16
      tdpWatts: 600, // gpu.name / VideoCardz
      generation: "blackwell",
    },
    ["rtxpro6000", "rtx-pro-6000-blackwell", "rtx-pro-6000-blackwell-server-edition", "rtx-pro-6000-96gb"],
  ),
]

/** Lower-case, spaces/underscores to dashes, drop a leading "nvidia-", so CUDA device names resolve too. */
const normalize = (id: string): string =>
  id
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, "-")
    .replace(/^nvidia-/, "")

const INDEX: ReadonlyMap<string, GpuProfile> = (() => {
  const m = new Map<string, GpuProfile>()
  for (const e of TABLE) {
    m.set(normalize(e.profile.id), e.profile)
    m.set(normalize(e.profile.name), e.profile)
    for (const a of e.aliases) m.set(normalize(a), e.profile)
  }
  return m
})()

/** A built-in GPU by id, alias ("a800-80gb-sxm", "b200-hgx", "rtx4090") or CUDA device name; case-insensitive. */
export const lookupGpu = (id: string): GpuProfile | undefined => INDEX.get(normalize(id))

/** Canonical ids of the built-in GPUs. */
export const builtinGpuIds = (): string[] => TABLE.map((e) => e.profile.id)

// Where CUDA's total is unknown: 0.99 × capacity, the ratio seen on A100-SXM4-80GB (79.35/80 GiB),
// H100 (79.22/80) and RTX PRO 6000 (94.97/96). ECC-on GDDR parts may report a little less.
const DEVICE_MEMORY_FRACTION = 0.99

/** Total memory as CUDA reports it: what vLLM multiplies by gpu_memory_utilization. */
export const cudaTotalMemoryBytes = (gpu: GpuProfile): number =>
  gpu.deviceMemoryBytes ?? Math.floor(gpu.memoryBytes * DEVICE_MEMORY_FRACTION)

// ---------------------------------------------------------------------------------------------
// User-defined GPUs from JSON

type Json = Readonly<Record<string, unknown>>

class GpuJsonError extends Error {}

const bad = (field: string, expected: string, got: unknown): never => {
  throw new GpuJsonError(`gpu JSON: field "${field}" must be ${expected} (got ${JSON.stringify(got) ?? String(got)})`)
}

const positive = (o: Json, field: string): number => {
  const v = o[field]
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : bad(field, "a positive number", v)
}

/** Absent or null → undefined; otherwise must be a positive number. */
const optionalPositive = (o: Json, field: string): number | undefined => {
  const v = o[field]
  if (v === undefined || v === null) return undefined
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : bad(field, "a positive number or null", v)
}

const generationOf = (o: Json): string => {
  const g = o["generation"]
  if (g !== undefined) {
    if (typeof g === "string" && GPU_GENERATIONS.includes(g.toLowerCase())) return g.toLowerCase()
    return bad("generation", `one of ${GPU_GENERATIONS.join(", ")}`, g)
  }
  // facts/gpus.json entries carry "arch" (e.g. "Ampere GA100 ...") instead.
  const arch = o["arch"]
  const found = typeof arch === "string" ? GPU_GENERATIONS.find((x) => arch.toLowerCase().includes(x)) : undefined
  return found ?? bad("generation", `one of ${GPU_GENERATIONS.join(", ")} (or an "arch" naming one)`, g)
}

/**
 * A GPU from JSON in the units documented at the top of this file. Accepts an entry of facts/gpus.json
 * as is (extra fields are ignored). Returns a one-line error naming the bad field on failure.
 */
export const parseGpuJson = (raw: unknown): GpuProfile | string => {
  try {
    if (!isRecord(raw)) return "gpu JSON: expected an object"
    const id = raw["id"]
    if (typeof id !== "string" || id.trim() === "") return bad("id", "a non-empty string", id)
    const nameRaw = raw["name"]
    if (nameRaw !== undefined && typeof nameRaw !== "string") return bad("name", "a string", nameRaw)
    const memoryGb = positive(raw, "memory_gb")
    const bandwidth = positive(raw, "memory_bandwidth_GBps")
    const bf16 = optionalPositive(raw, "bf16_dense_tflops") ?? optionalPositive(raw, "fp16_dense_tflops")
    if (bf16 === undefined) return bad("bf16_dense_tflops", "a positive number", raw["bf16_dense_tflops"])
    const fp8 = optionalPositive(raw, "fp8_dense_tflops") ?? bf16 // null: no FP8 tensor cores
    const fp4 = optionalPositive(raw, "fp4_dense_tflops") ?? Math.max(fp8, bf16)
    const int8 = optionalPositive(raw, "int8_dense_tops") ?? 2 * bf16 // 2× bf16 on Ampere through Blackwell
    const nvlinkRaw = raw["nvlink_GBps_bidir"]
    const nvlink =
      nvlinkRaw === undefined || nvlinkRaw === null
        ? 0
        : typeof nvlinkRaw === "number" && Number.isFinite(nvlinkRaw) && nvlinkRaw >= 0
          ? nvlinkRaw
          : bad("nvlink_GBps_bidir", "a non-negative number or null", nvlinkRaw)
    const pcie = positive(raw, "pcie_GBps_bidir")
    const tdp = positive(raw, "tdp_w")
    const generation = generationOf(raw)
    const deviceMemory = optionalPositive(raw, "device_memory_bytes")
    if (deviceMemory !== undefined && deviceMemory > memoryGb * GiB) {
      return bad("device_memory_bytes", `at most memory_gb × 2^30 = ${memoryGb * GiB}`, deviceMemory)
    }
    const base: GpuProfile = {
      id: id.trim(),
      name: nameRaw ?? id.trim(),
      memoryBytes: memoryGb * GiB,
      memoryBandwidth: bandwidth * GB,
      bf16Flops: bf16 * T,
      fp8Flops: fp8 * T,
      fp4Flops: fp4 * T,
      int8Ops: int8 * T,
      nvlinkBandwidth: nvlink * GB,
      pcieBandwidth: pcie * GB,
      tdpWatts: tdp,
      generation,
    }
    return deviceMemory === undefined ? base : { ...base, deviceMemoryBytes: deviceMemory }
  } catch (e) {
    if (e instanceof GpuJsonError) return e.message
    throw e
  }
}
