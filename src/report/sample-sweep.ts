// A synthetic sweep for tests and for previewing the report without running the simulator. The curves
// come from a closed-form toy (decode step time a + b·batch, a max_num_seqs cap, queueing beyond it),
// not from the engine; nothing here is a prediction.
import { analyzeSweep, type AnalyzeOptions, type SweepPointInput } from "../econ/analyze-sweep.ts"
import type { QualityScore } from "../econ/pareto.ts"
import type { BenchMetrics, KvTimeline, PointConfig, SeedRun } from "../econ/point.ts"
import type { SweepResult } from "../econ/sweep-result.ts"

interface ToyEngine {
  readonly gpu: string
  readonly numGpus: number
  readonly tp: number
  readonly model: string
  /** Decode step time = stepBase + stepPerSeq · batch, seconds. */
  readonly stepBase: number
  readonly stepPerSeq: number
  /** Prefill seconds per input token. */
  readonly prefillPerToken: number
  readonly maxNumSeqs: number
}

const INPUT_TOKENS = 600
const OUTPUT_TOKENS = 200
const NUM_REQUESTS = 1000

/** Deterministic jitter in [−amp, amp] from integers (no Math.random). */
const jitter = (a: number, b: number, amp: number): number => {
  let h = (a * 2654435761 + b * 40503 + 12345) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0
  return ((((h ^ (h >>> 15)) >>> 0) / 4294967296) * 2 - 1) * amp
}

const toyRun = (e: ToyEngine, concurrency: number, seed: number, withTimeline: boolean): SeedRun => {
  const noise = 1 + jitter(concurrency, seed, 0.03)
  const batch = Math.min(concurrency, e.maxNumSeqs)
  const prefill = INPUT_TOKENS * e.prefillPerToken
  const step = (e.stepBase + e.stepPerSeq * batch) * noise
  const tpot = step + prefill / OUTPUT_TOKENS // prefill chunks of other requests stretch decode steps
  const service = prefill + OUTPUT_TOKENS * tpot
  const queued = Math.max(0, concurrency - e.maxNumSeqs)
  const wait = (queued / batch) * service
  const ttft = prefill + wait + 0.004 * batch * noise
  const e2el = ttft + (OUTPUT_TOKENS - 1) * tpot
  const reqRate = batch / service
  const duration = NUM_REQUESTS / reqRate
  const metrics: BenchMetrics = {
    completed: NUM_REQUESTS,
    duration,
    total_input_tokens: NUM_REQUESTS * INPUT_TOKENS,
    total_output_tokens: NUM_REQUESTS * OUTPUT_TOKENS,
    request_throughput: reqRate,
    output_throughput: reqRate * OUTPUT_TOKENS,
    total_token_throughput: reqRate * (INPUT_TOKENS + OUTPUT_TOKENS),
    mean_ttft_ms: ttft * 1000,
    median_ttft_ms: ttft * 900,
    p99_ttft_ms: ttft * 2200,
    mean_tpot_ms: tpot * 1000,
    median_tpot_ms: tpot * 980,
    p99_tpot_ms: tpot * 1300,
    mean_itl_ms: tpot * 1000,
    median_itl_ms: tpot * 950,
    p99_itl_ms: tpot * 1800,
    mean_e2el_ms: e2el * 1000,
    median_e2el_ms: e2el * 980,
    p99_e2el_ms: e2el * 1500,
  }
  const prefillTimeFraction = prefill / service
  if (!withTimeline) return { seed, metrics, prefillTimeFraction }
  const time: number[] = []
  const kv: number[] = []
  const steps = 200
  const plateau = Math.min(0.97, (batch * (INPUT_TOKENS + OUTPUT_TOKENS / 2)) / 60000)
  for (let k = 0; k <= steps; k++) {
    const t = (duration * k) / steps
    time.push(t)
    const ramp = Math.min(1, t / Math.max(service, 1e-9))
    const tail = Math.min(1, (duration - t) / Math.max(service, 1e-9))
    kv.push(Math.max(0, plateau * Math.min(ramp, tail) * (1 + jitter(k, concurrency, 0.04))))
  }
  const timeline: KvTimeline = { time, kvCacheUsage: kv }
  return { seed, metrics, prefillTimeFraction, timeline }
}

const ENGINES: ReadonlyArray<ToyEngine> = [
  { gpu: "a800-sxm", numGpus: 2, tp: 2, model: "toy-7b", stepBase: 0.01, stepPerSeq: 0.00025, prefillPerToken: 0.00004, maxNumSeqs: 64 },
  { gpu: "a800-sxm", numGpus: 2, tp: 2, model: "toy-32b", stepBase: 0.022, stepPerSeq: 0.0005, prefillPerToken: 0.00012, maxNumSeqs: 48 },
  { gpu: "h100-sxm", numGpus: 1, tp: 1, model: "toy-7b", stepBase: 0.007, stepPerSeq: 0.00018, prefillPerToken: 0.00002, maxNumSeqs: 96 },
]

export const SAMPLE_CONCURRENCY: ReadonlyArray<number> = [8, 16, 32, 48, 64, 96, 128]

export const SAMPLE_QUALITY: ReadonlyArray<QualityScore> = [
  { model: "toy-7b", score: 61.5 },
  { model: "toy-32b", score: 74.2 },
  { model: "toy-70b", score: 79.0 },
]

export const sampleSweepInputs = (seeds = 3): SweepPointInput[] => {
  const out: SweepPointInput[] = []
  for (const e of ENGINES) {
    for (const c of SAMPLE_CONCURRENCY) {
      const config: PointConfig = {
        gpu: e.gpu,
        numGpus: e.numGpus,
        tp: e.tp,
        pp: 1,
        replicas: 1,
        model: e.model,
        maxNumSeqs: e.maxNumSeqs,
        load: { kind: "concurrency", value: c },
      }
      const runs = Array.from({ length: seeds }, (_, s) => toyRun(e, c, s + 1, s === 0 && e === ENGINES[0]))
      out.push({ config, runs })
    }
  }
  return out
}

export const sampleSweepResult = (options: AnalyzeOptions = {}, seeds = 3): SweepResult => {
  const r = analyzeSweep(sampleSweepInputs(seeds), {
    title: "Sample sweep (synthetic toy curves, not a simulation)",
    createdBy: "sampleSweepResult()",
    quality: SAMPLE_QUALITY,
    apiPrices: [
      { provider: "example API A", inputPerM: 0.1, outputPerM: 0.3 },
      { provider: "example API B", inputPerM: 0.02, outputPerM: 0.05 },
    ],
    ...options,
  })
  if (!r.ok) throw new Error(r.error)
  return r.value
}
