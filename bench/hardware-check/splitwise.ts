// splitwise-sim's perf_model.csv (../shared/data/kernels/splitwise): Llama2-70B prefill time of a batch
// of prompts and mean per-token decode time, TP 2/4/8, A100-80GB vs H100-80GB at identical settings.
// Compared with one engine step of the shipped physics step-time model (no chunking: the whole batch's
// prompts in one step, as splitwise timed them), synchronous scheduling (GPU + the per-step CPU cost).
import { defaultStepTime } from "../../src/hw/default-coefficients.ts"
import { lookupGpu } from "../../src/hw/gpus.ts"
import { lookupModel } from "../../src/hw/models.ts"
import type { BatchShape } from "../../src/hw/types.ts"
import { cell, type Comparison, type Row } from "./table.ts"

const GPUS: Readonly<Record<string, string>> = { "a100-80gb": "a100-sxm", "h100-80gb": "h100-sxm" }

/** B prompts of P tokens prefilled in one step (causal attention over each prompt). */
export const prefillBatch = (batch: number, prompt: number): BatchShape => ({
  numReqs: batch,
  numTokens: batch * prompt,
  numPrefillReqs: batch,
  prefillTokens: batch * prompt,
  numDecodeReqs: 0,
  prefillAttentionWork: batch * prompt * ((prompt + 1) / 2),
  prefillContextTokens: batch * prompt,
  decodeContextTokens: 0,
})

/** B decodes, each attending over `context` tokens. */
export const decodeBatch = (batch: number, context: number): BatchShape => ({
  numReqs: batch,
  numTokens: batch,
  numPrefillReqs: 0,
  prefillTokens: 0,
  numDecodeReqs: batch,
  prefillAttentionWork: 0,
  prefillContextTokens: 0,
  decodeContextTokens: batch * context,
})

export interface Point {
  readonly gpu: string
  readonly tp: number
  readonly prompt: number
  readonly batch: number
  readonly tokens: number
  prefillMs: number[]
  decodeMs: number[]
}

const mean = (xs: ReadonlyArray<number>): number | undefined => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length)

/** Mean of the repeated measurements per (GPU, TP, prompt, batch); Llama2-70B on A100/H100 only. */
export const splitwisePoints = (rows: ReadonlyArray<Row>): Point[] => {
  const byKey = new Map<string, Point>()
  for (const r of rows) {
    const gpu = GPUS[r.hardware ?? ""]
    const tp = cell(r, "tensor_parallel")
    const prompt = cell(r, "prompt_size")
    const batch = cell(r, "batch_size")
    const tokens = cell(r, "token_size")
    const pre = cell(r, "prompt_time")
    const dec = cell(r, "token_time")
    if (r.model !== "llama2-70b" || gpu === undefined || tp === undefined || prompt === undefined || batch === undefined || tokens === undefined) continue
    const key = `${gpu}|${tp}|${prompt}|${batch}`
    const p = byKey.get(key) ?? { gpu, tp, prompt, batch, tokens, prefillMs: [], decodeMs: [] }
    if (pre !== undefined) p.prefillMs.push(pre)
    if (dec !== undefined) p.decodeMs.push(dec)
    byKey.set(key, p)
  }
  return [...byKey.values()]
}

/**
 * Points whose prefill took less than the same prompts at half the batch (the table's batch-64 rows: 796
 * ms on A100 TP2 against 6,607 ms at batch 32), which no prefill does: their prefill is not compared.
 */
export const implausiblePrefills = (points: ReadonlyArray<Point>): Set<Point> => {
  const key = (p: Point, batch: number) => `${p.gpu}|${p.tp}|${p.prompt}|${batch}`
  const byKey = new Map(points.map((p) => [key(p, p.batch), p]))
  const out = new Set<Point>()
  for (const p of points) {
    const half = byKey.get(key(p, p.batch / 2))
    const a = mean(p.prefillMs)
    const b = half === undefined ? undefined : mean(half.prefillMs)
    if (a !== undefined && b !== undefined && a < b) out.add(p)
  }
  return out
}

/** Predicted prefill and per-token decode times; decode attends over the prompt plus half the output. */
export const compareSplitwise = (rows: ReadonlyArray<Row>): Comparison[] => {
  const model = lookupModel("meta-llama/Llama-2-70b-hf")
  if (model === undefined) throw new Error("Llama-2-70b-hf is not built in")
  const points = splitwisePoints(rows)
  const implausible = implausiblePrefills(points)
  return points.map((p) => {
    const gpu = lookupGpu(p.gpu)
    if (gpu === undefined) throw new Error(`no GPU ${p.gpu}`)
    const st = defaultStepTime({ model, gpu, precision: "fp16", kvCacheDtype: "auto", par: { tp: p.tp, pp: 1, ep: 1 }, asyncScheduling: false })
    const pre = implausible.has(p) ? undefined : mean(p.prefillMs)
    const dec = mean(p.decodeMs)
    return {
      label: `tp${p.tp} prompt ${p.prompt} batch ${p.batch}`,
      gpu: p.gpu,
      values: {
        prefill: pre === undefined ? undefined : { measured: pre, predicted: st.stepTime(prefillBatch(p.batch, p.prompt)) * 1000 },
        decode: dec === undefined ? undefined : { measured: dec, predicted: st.stepTime(decodeBatch(p.batch, p.prompt + p.tokens / 2)) * 1000 },
      },
      ...(implausible.has(p) ? { note: "prefill below the half batch's: not compared" } : {}),
    }
  })
}

/** A100 time / H100 time per matched (TP, prompt, batch), measured and predicted. */
export const a100OverH100 = (comparisons: ReadonlyArray<Comparison>): Comparison[] => {
  const h100 = new Map(comparisons.filter((c) => c.gpu === "h100-sxm").map((c) => [c.label, c]))
  const out: Comparison[] = []
  for (const a of comparisons) {
    if (a.gpu !== "a100-sxm") continue
    const h = h100.get(a.label)
    if (h === undefined) continue
    const values: Record<string, { measured: number; predicted: number } | undefined> = {}
    for (const m of ["prefill", "decode"]) {
      const av = a.values[m]
      const hv = h.values[m]
      values[m] = av === undefined || hv === undefined ? undefined : { measured: av.measured / hv.measured, predicted: av.predicted / hv.predicted }
    }
    out.push({ label: a.label, gpu: "a100/h100", values })
  }
  return out
}
