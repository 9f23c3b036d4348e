// Stage 4 of the default fit: the delay between an engine step producing a token and the client
// receiving it (RequestOverheads.perOutputToken), fitted on the sim2real benchmark's fitting half
// (../shared/data/serving/sim2real-trainval: real vLLM 0.15.1 open-loop runs, TTFT measured by the client).
//
// Why a per-token delivery delay: after a step, the engine core turns its sampled ids into outputs
// (vllm/v1/core/sched/scheduler.py update_from_output), serialises them to the API server process
// (vllm/v1/engine/core.py, ZMQ), whose output handler detokenises them (vllm/v1/engine/output_processor.py,
// vllm/v1/engine/detokenizer.py) and the completion handler frames and writes each one as an SSE event
// (vllm/entrypoints/openai/serving_completion.py). With async scheduling all of this overlaps the next
// engine step, so it delays every token by about the same amount without slowing the engine: TTFT and
// E2E move by it, ITL and throughput do not. No kernel table or closed-loop TPOT sees it; the first
// token's time does, which is what the benchmark's TTFT columns measure.
//
// The fit: the delay c ≥ 0 minimising Σ |TTFT_pred + c − TTFT_actual| / TTFT_actual over the folder's
// rows (mean TTFT per experiment and stage), a weighted median in closed form. Open-loop arrivals do
// not depend on when responses finish, so the simulated TTFTs move by exactly c and one simulation
// per experiment suffices. E2E, ITL and TTFT percentiles of the same rows are reported, not fitted.
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { StepTimeCoefficients } from "../../hw/physics-step-time.ts"
import type { GpuProfile, RequestOverheads } from "../../hw/types.ts"
import { validateFolder, type FolderMetric, type FolderReport, type FolderRow } from "../benchmark-folder.ts"
import type { ResolvedScenario } from "../../scenario/resolve.ts"
import type { SimSummary } from "../../sim/summary.ts"
import type { Collector } from "./fit-kernels.ts"
import { simulateWithCoefficients } from "../predict-point.ts"

/** The benchmark folder the delay is fitted on, under the data root's serving/. */
export const TOKEN_DELIVERY_FOLDER = "sim2real-trainval"

/** The step-time coefficients of an experiment's deployment (its GPU's generation and overrides). */
export type CoefficientsOfSetup = (setup: { readonly gpu: GpuProfile }) => StepTimeCoefficients

/** The folder simulated with these coefficients and overheads; undefined when the folder is absent. */
export const simulateFolder = (
  root: string,
  coefficientsOf: CoefficientsOfSetup,
  overheads: RequestOverheads,
): Promise<FolderReport | undefined> => {
  const folder = join(root, "serving", TOKEN_DELIVERY_FOLDER)
  if (!existsSync(folder)) return Promise.resolve(undefined)
  return Effect.runPromise(
    Effect.mapError(validateFolder(folder, (r) => simulateWithCoefficients(r, coefficientsOf(r), overheads)), (e) => new Error(`${folder}: ${e.message}`)),
  )
}

/**
 * The folder's rows as a function of a candidate value, for the grid fits (stages 5 and 6): experiments
 * `affected` selects are simulated with `coefficientsOf(r, candidate)`, every other one once (at the
 * first candidate) and reused by call index, validateFolder simulating in a fixed order. Returns the
 * affected experiments' rows; undefined when the folder is absent.
 */
export const candidateRows = <A>(
  root: string,
  affected: (r: ResolvedScenario) => boolean,
  coefficientsOf: (r: ResolvedScenario, candidate: A) => StepTimeCoefficients,
  overheads: RequestOverheads,
): ((candidate: A) => Promise<FolderRow[]>) | undefined => {
  const folder = join(root, "serving", TOKEN_DELIVERY_FOLDER)
  if (!existsSync(folder)) return undefined
  const fixed = new Map<number, SimSummary>()
  return async (candidate) => {
    const hit: boolean[] = []
    let call = 0
    const report = await Effect.runPromise(
      Effect.mapError(
        validateFolder(folder, (r) => {
          const i = call++
          const moved = affected(r)
          hit.push(moved)
          if (moved) return simulateWithCoefficients(r, coefficientsOf(r, candidate), overheads)
          const known = fixed.get(i)
          if (known !== undefined) return known
          const s = simulateWithCoefficients(r, coefficientsOf(r, candidate), overheads)
          fixed.set(i, s)
          return s
        }),
        (e) => new Error(`${folder}: ${e.message}`),
      ),
    )
    const order = [...new Set(report.rows.map((r) => r.experiment))]
    return report.rows.filter((r) => hit[order.indexOf(r.experiment)] === true)
  }
}

/**
 * argmin over c ≥ 0 of Σ |x_i + c − y_i| / y_i: the median of y_i − x_i weighted by 1 / y_i (the lower
 * one where the weights split evenly, so the answer is unique and deterministic).
 */
export const weightedMedianShift = (predicted: ReadonlyArray<number>, measured: ReadonlyArray<number>): number => {
  const items = predicted.map((x, i) => ({ d: measured[i]! - x, w: 1 / measured[i]! })).sort((a, b) => a.d - b.d)
  const total = items.reduce((s, it) => s + it.w, 0)
  let acc = 0
  for (const it of items) {
    acc += it.w
    if (acc >= total / 2) return Math.max(0, it.d)
  }
  return 0
}

const REPORTED: ReadonlyArray<FolderMetric> = ["ttft_mean", "ttft_p99", "e2e_mean", "itl_mean"]

/**
 * Fits perOutputToken (seconds) on the folder's mean TTFTs, starting from `overheads` without it.
 * Adds the folder's errors before (comparison) and after (ttft_mean: fit; the rest held out) to `out`
 * when given. Undefined when the folder is absent.
 */
export const fitTokenDelivery = async (
  root: string,
  coefficientsOf: CoefficientsOfSetup,
  overheads: RequestOverheads,
  out?: Collector,
): Promise<number | undefined> => {
  const base = { ...overheads, perOutputToken: 0 }
  const before = await simulateFolder(root, coefficientsOf, base)
  if (before === undefined) return undefined
  const ms = before.rows.map((r) => r.predicted.ttft_mean)
  const c = weightedMedianShift(ms, before.rows.map((r) => r.actual.ttft_mean)) / 1000
  if (out !== undefined) {
    const after = (await simulateFolder(root, coefficientsOf, { ...base, perOutputToken: c }))!
    for (const m of REPORTED) {
      const name = `${TOKEN_DELIVERY_FOLDER} ${m} (simulated)`
      out.add(`${name}, no delivery delay`, "hopper", before.rows.map((r) => r.predicted[m]), before.rows.map((r) => r.actual[m]), "comparison")
      out.add(m === "ttft_mean" ? name : `${name}, held out`, "hopper", after.rows.map((r) => r.predicted[m]), after.rows.map((r) => r.actual[m]), m === "ttft_mean")
    }
  }
  return c
}
