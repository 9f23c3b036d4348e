// The benchmark client behind a closed-loop measurement: how it drew request lengths and how many
// requests it measured. A simulator must send what the client sent — a closed loop of identical requests
// stays in lock-step waves (all finish in one step, all prefill together), while lengths that differ
// even by a few percent spread the requests out, so TTFT depends on it several-fold.
//
// aiconfigurator's silicon table (silicon-sweeps.csv) mixes two collections (its silicon_data_source column):
// - SemiAnalysis InferenceX nightly runs (run ids dated "2026_04_06_…", "…_cfg637", and the
//   "kimi_k2_5_gap_analysis" copies of them). Their client is InferenceX's benchmark_serving.py
//   (SemiAnalysisAI/InferenceX benchmarks/benchmark_lib.sh run_benchmark_serving): --dataset-name random
//   --random-range-ratio 0.8 (benchmark-tmpl.yml), which draws input and output lengths independently
//   with np.random.randint(int(0.8·L), L), i.e. uniformly on [⌊0.8·L⌋, L − 1] — one-sided, so the
//   table's isl/osl are upper bounds, not means — --num-prompts 10 × concurrency,
//   --request-rate inf, --ignore-eos, and 2 × concurrency warm-up requests run before and not measured.
// - An internal "aic-auto-gap-analysis" collection (run ids ending "_epnone_N"), whose client is not
//   public: taken at the table's word, exactly isl and osl tokens (README: random-fixed).
import type { MeasuredPoint } from "./measurements.ts"

export type HarnessName = "fixed" | "inferencex"

export interface ClientHarness {
  readonly name: HarnessName
  /** Lengths uniform on [⌊rangeRatio × L⌋, L − 1]; 1 = exactly L. */
  readonly rangeRatio: number
  /** Measured requests as a multiple of the concurrency; undefined = the row's count or the default. */
  readonly requestsPerConcurrency?: number
}

export const HARNESSES: Readonly<Record<HarnessName, ClientHarness>> = {
  fixed: { name: "fixed", rangeRatio: 1 },
  inferencex: { name: "inferencex", rangeRatio: 0.8, requestsPerConcurrency: 10 },
}

const SILICON = "aiconfigurator-silicon:"

/** The harness a row's provenance names: InferenceX for its runs in the silicon table, else fixed lengths. */
export const harnessOfLabel = (label: string | undefined): ClientHarness => {
  if (label === undefined || !label.startsWith(SILICON)) return HARNESSES.fixed
  return /_epnone_\d+$/.test(label) ? HARNESSES.fixed : HARNESSES.inferencex
}

export const harnessOf = (p: MeasuredPoint): ClientHarness => harnessOfLabel(p.label)

const rangeOf = (h: ClientHarness, nominal: number): { min: number; max: number } => {
  const l = Math.max(1, Math.round(nominal))
  if (h.rangeRatio >= 1 || l < 2) return { min: l, max: l }
  return { min: Math.max(1, Math.floor(h.rangeRatio * l)), max: l - 1 }
}

/** Mean of the lengths the harness draws for a nominal length L. */
export const meanLength = (h: ClientHarness, nominal: number): number => {
  const r = rangeOf(h, nominal)
  return (r.min + r.max) / 2
}

/** The scenario's length for a nominal L: a fixed count, or the harness's uniform range. */
export const lengthFor = (h: ClientHarness, nominal: number): number | { kind: "uniform"; min: number; max: number } => {
  const r = rangeOf(h, nominal)
  return r.min === r.max ? r.min : { kind: "uniform", ...r }
}
