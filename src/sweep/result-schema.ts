// Schema of RESULTS.json (the SweepResult type of src/econ/sweep-result.ts), so `servesim report` can
// reject a bad file with one line naming the field. The decoded type is checked against SweepResult at
// compile time (decodeSweepResult's return type).
import { Effect, Result, Schema } from "effect"
import { InputError } from "../scenario/errors.ts"
import { CORE_METRIC_KEYS, OPTIONAL_METRIC_KEYS } from "../econ/point.ts"
import { SWEEP_RESULT_FORMAT, SWEEP_RESULT_VERSION, type SweepResult } from "../econ/sweep-result.ts"
import { firstIssueLine } from "../scenario/schema-issue.ts"

const Num = Schema.Finite
const opt = Schema.optionalKey

const MetricStat = Schema.Struct({ mean: Num, stdev: Num, ciLow: Num, ciHigh: Num, n: Num })

const keyed = <const K extends string>(keys: ReadonlyArray<K>) =>
  Object.fromEntries(keys.map((k) => [k, MetricStat])) as { readonly [P in K]: typeof MetricStat }
const keyedOptional = <const K extends string>(keys: ReadonlyArray<K>) =>
  Object.fromEntries(keys.map((k) => [k, opt(MetricStat)])) as {
    readonly [P in K]: Schema.optionalKey<typeof MetricStat>
  }

const PointMetrics = Schema.Struct({ ...keyed(CORE_METRIC_KEYS), ...keyedOptional(OPTIONAL_METRIC_KEYS) })

export const PointConfig = Schema.Struct({
  gpu: Schema.String,
  numGpus: Num,
  tp: Num,
  pp: Num,
  replicas: Num,
  load: Schema.Struct({ kind: Schema.Literals(["concurrency", "rate"]), value: Num, maxConcurrency: opt(Num) }),
  model: opt(Schema.String),
  maxNumSeqs: opt(Num),
  maxNumBatchedTokens: opt(Num),
  extra: opt(Schema.Record(Schema.String, Schema.Union([Schema.String, Num, Schema.Boolean]))),
})

const ApiPrice = Schema.Struct({
  provider: Schema.String,
  model: opt(Schema.String),
  inputPerM: Num,
  outputPerM: Num,
  source: opt(Schema.String),
})

const ApiComparison = Schema.Struct({
  provider: Schema.String,
  model: opt(Schema.String),
  apiRunCostUsd: Num,
  selfHostedRunCostUsd: Num,
  costRatio: Num,
  cheaper: Schema.Literals(["self-hosted", "api", "equal"]),
  breakEvenGpuHourUsd: Num,
})

const PointCost = Schema.Struct({
  gpuHourUsd: Num,
  numGpus: Num,
  splitMethod: Schema.Literals(["step-time", "roofline", "token-count"]),
  prefillShare: MetricStat,
  runCostUsd: MetricStat,
  usdPerMInput: MetricStat,
  usdPerMOutput: MetricStat,
  usdPerMTotal: MetricStat,
  usdPerRequest: MetricStat,
  api: Schema.Array(ApiComparison),
})

const PointFlags = Schema.Struct({
  meetsSlo: Schema.Boolean,
  sloViolations: Schema.Array(Schema.String),
  saturation: Schema.Boolean,
  slaBoundary: Schema.Boolean,
  optimal: Schema.Boolean,
  seriesOptimal: Schema.Boolean,
  pareto: Schema.Boolean,
})

export const KvTimeline = Schema.Struct({
  time: Schema.Array(Num),
  kvCacheUsage: Schema.Array(Num),
  numRunning: opt(Schema.Array(Num)),
  numWaiting: opt(Schema.Array(Num)),
})

const PointIntervals = Schema.Struct({
  level: Num,
  draws: Num,
  method: Schema.Literals(["jacobian", "bootstrap"]),
  profile: Schema.String,
  seed: Schema.String,
  metrics: Schema.Record(Schema.String, Schema.Tuple([Num, Num])),
})

const SweepPoint = Schema.Struct({
  id: Schema.String,
  series: Schema.String,
  label: Schema.String,
  config: PointConfig,
  seeds: Schema.Array(Schema.Union([Num, Schema.String])),
  metrics: PointMetrics,
  serialTokensPerSecond: Num,
  cost: PointCost,
  flags: PointFlags,
  timeline: opt(KvTimeline),
  intervals: opt(PointIntervals),
})

const SeriesSummary = Schema.Struct({
  id: Schema.String,
  label: Schema.String,
  loadKind: Schema.Literals(["concurrency", "rate"]),
  pointIds: Schema.Array(Schema.String),
  saturationPointId: opt(Schema.String),
  slaBoundaryPointId: opt(Schema.String),
  optimalPointId: opt(Schema.String),
})

const OwnedInputs = {
  purchasePrice: Num,
  years: Num,
  utilization: Num,
  powerKw: Num,
  pue: Num,
  electricityPrice: Num,
  maintenanceRate: Num,
}

export const GpuCostInputs = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("owned"), ...OwnedInputs }),
  Schema.Struct({ kind: Schema.Literal("cloud"), usdPerGpuHour: Num }),
])

const GpuCostEntry = Schema.Struct({
  gpu: Schema.String,
  inputs: GpuCostInputs,
  breakdown: Schema.Struct({
    kind: Schema.Literals(["owned", "cloud"]),
    depreciation: Num,
    power: Num,
    maintenance: Num,
    cloud: Num,
    total: Num,
  }),
  sources: opt(
    Schema.Struct({
      purchasePrice: opt(Schema.String),
      years: opt(Schema.String),
      utilization: opt(Schema.String),
      powerKw: opt(Schema.String),
      pue: opt(Schema.String),
      electricityPrice: opt(Schema.String),
      maintenanceRate: opt(Schema.String),
    }),
  ),
})

const TornadoRow = Schema.Struct({
  parameter: Schema.String,
  label: Schema.String,
  baseValue: Num,
  lowValue: Num,
  highValue: Num,
  outputAtLow: Num,
  outputAtHigh: Num,
  swing: Num,
  note: opt(Schema.String),
})

const Sensitivity = Schema.Struct({
  pointId: Schema.String,
  output: Schema.String,
  baseOutput: Num,
  delta: Num,
  rows: Schema.Array(TornadoRow),
})

const Quality = Schema.Struct({
  costBasis: Schema.Literal("run-cost"),
  rows: Schema.Array(
    Schema.Struct({
      model: Schema.String,
      score: Num,
      costUsd: Num,
      pointId: Schema.String,
      meetsSlo: Schema.Boolean,
      pareto: Schema.Boolean,
    }),
  ),
  missingModels: Schema.Array(Schema.String),
})

export const Slo = Schema.Struct({
  ttftMs: opt(Num),
  tpotMs: opt(Num),
  e2elMs: opt(Num),
  stat: Schema.Literals(["mean", "median", "p99"]),
})

export const SweepResultSchema = Schema.Struct({
  format: Schema.Literal(SWEEP_RESULT_FORMAT),
  version: Schema.Literal(SWEEP_RESULT_VERSION),
  title: opt(Schema.String),
  createdBy: opt(Schema.String),
  scenario: opt(Schema.String),
  slo: Slo,
  saturationThreshold: Num,
  throughputMetric: Schema.Literals(["output_throughput", "total_token_throughput", "request_throughput"]),
  costObjective: Schema.Literals(["usdPerMOutput", "usdPerMTotal", "usdPerRequest"]),
  gpuCosts: Schema.Array(GpuCostEntry),
  apiPrices: Schema.Array(ApiPrice),
  points: Schema.Array(SweepPoint),
  series: Schema.Array(SeriesSummary),
  summary: Schema.Struct({ optimalPointId: opt(Schema.String), paretoPointIds: Schema.Array(Schema.String) }),
  sensitivity: opt(Sensitivity),
  quality: opt(Quality),
})

/** Decodes a parsed RESULTS.json; fails with one line naming the first bad field. */
export const decodeSweepResult = (input: unknown, fileName: string): Effect.Effect<SweepResult, InputError> => {
  const result = Schema.decodeUnknownResult(SweepResultSchema)(input)
  if (Result.isSuccess(result)) return Effect.succeed(result.success)
  return Effect.fail(new InputError({ message: firstIssueLine(result.failure, fileName) }))
}
