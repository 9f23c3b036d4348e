// `npm run check-hardware`: how the shipped coefficients predict real A100 runs (H100/H200 alongside
// for contrast), from whatever of ../shared/data (or $SERVESIM_DATA) exists. Per source it prints signed
// errors per row, then median |error| per GPU and metric and the worst rows; a missing source is skipped
// with its path. `--summary` leaves out the per-row tables. Reads the data in place; changes nothing. Issue 9 §3.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { dataRoot } from "../src/calibrate/defaults/kernel-data.ts"
import { argonneCases, runArgonneCase } from "./hardware-check/argonne.ts"
import { caseKind, runGpustackCase, selectGpustackRow, type GpustackCase } from "./hardware-check/gpustack.ts"
import { a100OverH100, compareSplitwise } from "./hardware-check/splitwise.ts"
import { compareVidur } from "./hardware-check/vidur.ts"
import { lookupModel } from "../src/hw/models.ts"
import { ARCHITECTURE_TWINS } from "./hardware-check/argonne.ts"
import { printRows, printSummary, readRows, type Comparison, type Row } from "./hardware-check/table.ts"

const root = dataRoot()
const quiet = process.argv.includes("--summary")
const section = (title: string) => console.log(`\n=== ${title} ===`)
const missing = (what: string, path: string) => console.log(`skipped: ${what}: no file at ${path}`)
const show = (cs: ReadonlyArray<Comparison>, metrics: ReadonlyArray<string>) => {
  if (!quiet) printRows(cs, metrics)
  printSummary(cs, metrics, 8)
}

// --- gpustack -----------------------------------------------------------------------------------
section("gpustack performance-lab: vllm bench serve, burst or capped concurrency (serving/gpustack-bench-serve)")
const gpustackPath = join(root, "serving/gpustack-bench-serve/gpustack_perf_lab_bench_results.csv")
const gpustack = readRows(gpustackPath)
if (gpustack === undefined) missing("gpustack", gpustackPath)
else {
  const skipped = new Map<string, number>()
  const cases: GpustackCase[] = []
  for (const r of gpustack) {
    const s = selectGpustackRow(r)
    if (s.ok) cases.push(s.value)
    else if (r.engine === "vllm") skipped.set(s.reason, (skipped.get(s.reason) ?? 0) + 1)
  }
  console.log(`${cases.length} vLLM rows compared; vLLM rows skipped:`)
  for (const [why, n] of skipped) console.log(`  ${n} × ${why}`)
  console.log("lengths: ShareGPT rows use the sharegpt preset rescaled so the simulated token totals match the row's (sim ×factor shown); random rows use fixed lengths at the row's means")
  const cs: Comparison[] = []
  for (const c of cases) cs.push(await runGpustackCase(c))
  show(cs, ["out tok/s", "ttft", "tpot"])
  console.log("by GPU and kind (e2el_mean is blank in every row):")
  printSummary(
    cs.map((c, i) => ({ ...c, gpu: `${c.gpu} ${caseKind(cases[i]!)}` })).sort((a, b) => a.gpu.localeCompare(b.gpu)),
    ["out tok/s", "ttft", "tpot"],
    0,
  )
}

// --- splitwise ----------------------------------------------------------------------------------
section("splitwise perf_model: Llama2-70B fp16 prefill / per-token decode step, ms (kernels/splitwise)")
const splitwisePath = join(root, "kernels/splitwise/perf_model.csv")
const splitwise = readRows(splitwisePath)
if (splitwise === undefined) missing("splitwise", splitwisePath)
else {
  const cs = compareSplitwise(splitwise)
  console.log(`${cs.length} (GPU, TP, prompt, batch) points, repeats averaged; BLOOM-176B and the power-capped H100 skipped (not built in / not modelled)`)
  show(cs, ["prefill", "decode"])
  section("splitwise: A100 time / H100 time at identical settings (measured vs predicted ratio)")
  show(a100OverH100(cs), ["prefill", "decode"])
}

// --- argonne ------------------------------------------------------------------------------------
// Argonne's A100 nodes (Polaris, JLSE) carry A100-SXM4-40GB: 1,555 GB/s HBM2 (A100 datasheet r4, 40GB
// SXM column), 40 GiB; TP-4 Llama-2-70B leaves ~5 GiB per GPU for KV, which is why its large batches are
// absent from the table. Simulated with that GPU rather than the built-in 80GB one.
const A100_40GB = {
  id: "a100-sxm-40gb",
  name: "NVIDIA A100-SXM4-40GB",
  memory_gb: 40,
  memory_bandwidth_GBps: 1555,
  bf16_dense_tflops: 312,
  fp8_dense_tflops: null,
  int8_dense_tops: 624,
  nvlink_GBps_bidir: 600,
  pcie_GBps_bidir: 64,
  tdp_w: 400,
  generation: "ampere",
}
const dir = mkdtempSync(join(tmpdir(), "servesim-hw-"))
const a100Path = join(dir, "a100-sxm-40gb.json")
writeFileSync(a100Path, JSON.stringify(A100_40GB))
const gpuPath = (g: string) => (g === "a100-sxm-40gb" ? a100Path : g)
const ARGONNE_GPUS = { "Nvidia A100 GPU": "a100-sxm-40gb", "Nvidia H100 GPU": "h100-sxm" }
for (const [title, file] of [
  ["argonne static batches: vLLM batch latency, s (offline/argonne/nvidia_offline_batch_latency_throughput.csv)", "offline/argonne/nvidia_offline_batch_latency_throughput.csv"],
  ["argonne quantisation runs: Llama-3-8B batch latency, s (offline/argonne/A100_H100_quant_all_results.csv)", "offline/argonne/A100_H100_quant_all_results.csv"],
] as const) {
  section(title)
  const path = join(root, file)
  const rows = readRows(path)
  if (rows === undefined) {
    missing("argonne", path)
    continue
  }
  const { cases, skipped } = argonneCases(rows, ARGONNE_GPUS)
  console.log(`${cases.length} vLLM rows compared (A100 = A100-SXM4-40GB, see the comment in bench/hardware-check.ts); skipped:`)
  for (const [why, n] of skipped) console.log(`  ${n} × ${why}`)
  const cs: Comparison[] = []
  for (const c of cases) cs.push(await runArgonneCase(c, gpuPath))
  show(cs, ["latency"])
  // The alternative reading: the built-in A100-SXM4-80GB (2,039 GB/s) for the same rows.
  const alt: Comparison[] = []
  for (const c of cases) if (c.gpu === "a100-sxm-40gb") alt.push(await runArgonneCase({ ...c, gpu: "a100-sxm" }, gpuPath))
  if (alt.length > 0) {
    console.log("the same A100 rows simulated on the built-in a100-sxm (80GB) instead:")
    printSummary(alt, ["latency"], 3)
  }
}

// --- vidur ---------------------------------------------------------------------------------------
section("vidur per-layer linear GEMMs (qkv + o + gate_up + down), bf16, ms (kernels/vidur)")
const vidurRoot = join(root, "kernels/vidur/data/profiling/compute")
if (!existsSync(vidurRoot)) missing("vidur", vidurRoot)
else {
  const cs: Comparison[] = []
  const skippedModels: string[] = []
  for (const [dir, gpu] of [["a100", "a100-sxm"], ["h100", "h100-sxm"]] as const) {
    const gpuDir = join(vidurRoot, dir)
    if (!existsSync(gpuDir)) continue
    for (const org of readdirSync(gpuDir))
      for (const name of readdirSync(join(gpuDir, org))) {
        const hfId = `${org}/${name}`
        if (lookupModel(ARCHITECTURE_TWINS[hfId] ?? hfId) === undefined) {
          skippedModels.push(`${dir}/${hfId}`)
          continue
        }
        const rows = readRows(join(gpuDir, org, name, "mlp.csv.gz"))
        if (rows !== undefined) cs.push(...compareVidur(rows, hfId, gpu))
      }
  }
  console.log(`${cs.length} (model, TP, tokens) rows; not built in: ${skippedModels.join(", ") || "none"}`)
  printSummary(cs, ["linear"], 8)
}

// --- L40S ---------------------------------------------------------------------------------------
section("L40S")
const l40 = (rows: ReadonlyArray<Row> | undefined, keys: ReadonlyArray<string>) => (rows ?? []).filter((r) => keys.some((k) => /l40/i.test(r[k] ?? ""))).length
const counts = [
  ["gpustack", l40(gpustack, ["hardware", "file"])],
  ["splitwise", l40(splitwise, ["hardware"])],
  ["argonne", l40(readRows(join(root, "offline/argonne/nvidia_offline_batch_latency_throughput.csv")), ["Hardware"])],
] as const
if (gpustack === undefined && splitwise === undefined) console.log(`skipped: L40S: no measurement files under ${root}`)
else {
  console.log(`rows naming an L40/L40S: ${counts.map(([k, n]) => `${k} ${n}`).join(", ")}.`)
  console.log("No real L40S measurement exists in ../shared/data (facts/gpus.json has its datasheet only): L40S predictions are datasheet + ampere coefficients, unchecked.")
}
