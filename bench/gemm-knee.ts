// Signed error of the shipped bf16 GEMM rule (gemmRoofline + gemmKernelLatency) on the aiconfigurator
// GEMM tables (n, k ≥ 1024, as fit-kernels.ts fits them), median per token-count (m) bucket, per GPU.
//   npx tsx bench/gemm-knee.ts [coefficients.json]     (default: src/hw/coefficients.json)
import { readFileSync } from "node:fs"
import { gemmRoofline } from "../src/hw/physics-step-time.ts"
import { lookupGpu } from "../src/hw/gpus.ts"
import { AICONFIGURATOR_GPUS, dataRoot, loadGemm } from "../src/calibrate/defaults/kernel-data.ts"
const file = JSON.parse(readFileSync(process.argv[2] ?? new URL("../src/hw/coefficients.json", import.meta.url), "utf8"))
const root = dataRoot()
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2 }
const buckets = [[1, 16], [17, 64], [65, 127], [128, 256], [257, 512], [513, 1024], [1025, 2048], [2049, 8192], [8193, 1e9]] as const
for (const d of AICONFIGURATOR_GPUS) {
  const gpu = lookupGpu(d.gpu)!
  const gen = file.generations[gpu.generation]
  const c = { ...gen.coefficients, ...(file.gpuOverrides[d.gpu] ?? {}) }
  const rows = loadGemm(root, d.dir, d.gpu).filter((r) => r.n >= 1024 && r.k >= 1024 && r.dtype === "bfloat16")
  const out: string[] = []
  for (const [lo, hi] of buckets) {
    const sel = rows.filter((r) => r.m >= lo && r.m <= hi)
    const e = sel.map((r) => {
      const cc = (c.gemmCompute * 2 * r.m * r.n * r.k) / gpu.bf16Flops
      const w = (c.weightRead * r.n * r.k * 2) / gpu.memoryBandwidth
      return (100 * (gemmRoofline(cc, w, c.gemmKneeSoftness ?? 0) + c.gemmKernelLatency - r.latency)) / r.latency
    })
    out.push(`${`${lo}-${hi === 1e9 ? "∞" : hi}`.padEnd(10)} n=${String(sel.length).padStart(4)} median ${med(e).toFixed(1).padStart(6)}%  |err| ${med(e.map(Math.abs)).toFixed(1).padStart(5)}%`)
  }
  console.log(`${d.gpu} (${gpu.generation})\n  ${out.join("\n  ")}`)
}
