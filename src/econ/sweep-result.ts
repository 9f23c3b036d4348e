// RESULTS.json: what `servesim sweep` writes and `servesim report` reads. Build it with analyzeSweep
// (src/econ/analyze-sweep.ts) from the simulated runs; src/sweep/result-schema.ts decodes it.
// Plain JSON: no NaN or Infinity (they would not survive JSON.stringify). Pure types.
import type { GpuCostInputs, HourlyCostBreakdown, OwnedCostInputs } from "./cost-model.ts"
import type { CoreMetricKey, KvTimeline, OptionalMetricKey, PointConfig } from "./point.ts"
import type { SloSpec } from "./saturation.ts"
import type { Tornado } from "./sensitivity.ts"
import type { MetricStat } from "./stats.ts"
import type { ApiComparison, ApiPrice, SplitMethod } from "./token-cost.ts"

export const SWEEP_RESULT_FORMAT = "servesim-sweep-result"
export const SWEEP_RESULT_VERSION = 1

/** Every `vllm bench serve` metric of a point as mean and 95% CI over its seeds. */
export type PointMetrics = { readonly [K in CoreMetricKey]: MetricStat } & {
  readonly [K in OptionalMetricKey]?: MetricStat
}

/** Which cost a point is judged by when picking the optimal operating point. */
export type CostObjective = "usdPerMOutput" | "usdPerMTotal" | "usdPerRequest"

/** Which throughput defines saturation. */
export type ThroughputMetric = "output_throughput" | "total_token_throughput" | "request_throughput"

/** Money of one point; each figure is computed per seed, then summarised over seeds. */
export interface PointCost {
  /** USD per GPU-hour of this point's GPU (from gpuCosts). */
  readonly gpuHourUsd: number
  readonly numGpus: number
  /** How GPU time was split between input and output tokens (see token-cost.ts). */
  readonly splitMethod: SplitMethod
  /** Fraction of GPU time charged to input tokens. */
  readonly prefillShare: MetricStat
  /** Cost of the whole request set: gpuHourUsd × numGpus × duration / 3600. */
  readonly runCostUsd: MetricStat
  readonly usdPerMInput: MetricStat
  readonly usdPerMOutput: MetricStat
  readonly usdPerMTotal: MetricStat
  readonly usdPerRequest: MetricStat
  /** The seed-mean request set priced at each applicable API price. */
  readonly api: ReadonlyArray<ApiComparison>
}

export interface PointFlags {
  /** SLOs checked on the seed means of the chosen statistic. */
  readonly meetsSlo: boolean
  readonly sloViolations: ReadonlyArray<string>
  /** This point is its series' saturation point. */
  readonly saturation: boolean
  /** This point is its series' SLA boundary (highest load before the first SLO violation). */
  readonly slaBoundary: boolean
  /** Lowest cost (costObjective) among all points meeting the SLOs. */
  readonly optimal: boolean
  /** Lowest cost among its series' points meeting the SLOs. */
  readonly seriesOptimal: boolean
  /** On the cost per 1M output tokens vs serial tokens/s per request frontier. */
  readonly pareto: boolean
}

export interface SweepPoint {
  /** Unique within the result, e.g. "p07". */
  readonly id: string
  /** Id of the series (load sweep) this point belongs to. */
  readonly series: string
  /** Short human label, e.g. "a800-sxm×2 tp2 · c=64". */
  readonly label: string
  readonly config: PointConfig
  readonly seeds: ReadonlyArray<number | string>
  readonly metrics: PointMetrics
  /** 1000 / mean TPOT: decode tokens/s one request sees (Erdil's x axis). */
  readonly serialTokensPerSecond: number
  readonly cost: PointCost
  readonly flags: PointFlags
  /** KV usage over time of the first seed, when the sweep recorded it. */
  readonly timeline?: KvTimeline
  /** Prediction intervals of the headline metrics, when the sweep's --profile has an uncertainty block. */
  readonly intervals?: PointIntervals
}

/** A point's prediction intervals (src/calibrate/intervals.ts): `[lo, hi]` per summary field. */
export interface PointIntervals {
  readonly level: number
  readonly draws: number
  readonly method: "jacobian" | "bootstrap"
  readonly profile: string
  readonly seed: string
  readonly metrics: Readonly<Record<string, readonly [number, number]>>
}

/** One load sweep: points that differ only in load. */
export interface SeriesSummary {
  readonly id: string
  readonly label: string
  readonly loadKind: "concurrency" | "rate"
  /** Point ids in ascending load order. */
  readonly pointIds: ReadonlyArray<string>
  readonly saturationPointId?: string
  readonly slaBoundaryPointId?: string
  readonly optimalPointId?: string
}

/** The cost model used for one GPU type. */
export interface GpuCostEntry {
  readonly gpu: string
  readonly inputs: GpuCostInputs
  readonly breakdown: HourlyCostBreakdown
  /** Source of each default owned-cost input, when defaults were used. */
  readonly sources?: Readonly<Partial<Record<keyof OwnedCostInputs, string>>>
}

export interface QualityEntry {
  readonly model: string
  readonly score: number
  /** Cost of running the request set with this model (its cheapest SLO-meeting point, else its cheapest point). */
  readonly costUsd: number
  readonly pointId: string
  readonly meetsSlo: boolean
  readonly pareto: boolean
}

export interface QualityFrontier {
  /** What costUsd means. */
  readonly costBasis: "run-cost"
  readonly rows: ReadonlyArray<QualityEntry>
  /** Models in the quality CSV with no simulated point. */
  readonly missingModels: ReadonlyArray<string>
}

export interface SweepResult {
  readonly format: typeof SWEEP_RESULT_FORMAT
  readonly version: typeof SWEEP_RESULT_VERSION
  readonly title?: string
  /** The command line that produced the result. */
  readonly createdBy?: string
  /** Scenario file or name, when the sweep came from one. */
  readonly scenario?: string
  readonly slo: SloSpec
  /** Elasticity threshold of the saturation rule (saturation.ts). */
  readonly saturationThreshold: number
  readonly throughputMetric: ThroughputMetric
  readonly costObjective: CostObjective
  readonly gpuCosts: ReadonlyArray<GpuCostEntry>
  readonly apiPrices: ReadonlyArray<ApiPrice>
  /** In input order. */
  readonly points: ReadonlyArray<SweepPoint>
  readonly series: ReadonlyArray<SeriesSummary>
  readonly summary: {
    readonly optimalPointId?: string
    readonly paretoPointIds: ReadonlyArray<string>
  }
  /** Tornado of the optimal point's cost (the cheapest point when none meets the SLOs). */
  readonly sensitivity?: Tornado & { readonly pointId: string }
  readonly quality?: QualityFrontier
}
