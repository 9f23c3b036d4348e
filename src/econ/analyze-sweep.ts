// Turns the simulated runs of a sweep (points × seeds) into a SweepResult: metrics with confidence
// intervals, costs, SLO checks, saturation points, SLA boundaries, the optimal point, the Pareto set,
// the sensitivity tornado and the quality frontier. Pure.
import { defaultOwnedInputs, defaultSources, hourlyCost, validateCostInputs, type GpuCostInputs } from "./cost-model.ts"
import { costSpeedFrontier, qualityCostFrontier, serialTokensPerSecond, type ParseResult, type QualityScore } from "./pareto.ts"
import {
  CORE_METRIC_KEYS,
  formatLoad,
  OPTIONAL_METRIC_KEYS,
  type BenchMetrics,
  type PointConfig,
  type SeedRun,
} from "./point.ts"
import {
  checkSlo,
  DEFAULT_SATURATION_ELASTICITY,
  DEFAULT_SLO,
  loadOrder,
  optimalIndex,
  saturationIndex,
  slaBoundaryIndex,
  type SloSpec,
} from "./saturation.ts"
import { costTornado, DEFAULT_SENSITIVITY_DELTA } from "./sensitivity.ts"
import { summarize, type MetricStat } from "./stats.ts"
import {
  SWEEP_RESULT_FORMAT,
  SWEEP_RESULT_VERSION,
  type CostObjective,
  type GpuCostEntry,
  type PointCost,
  type PointMetrics,
  type QualityEntry,
  type SeriesSummary,
  type SweepPoint,
  type SweepResult,
  type ThroughputMetric,
} from "./sweep-result.ts"
import { compareWithApi, prefillSplit, tokenCost, type ApiPrice, type RooflineSplitInputs } from "./token-cost.ts"

export interface SweepPointInput {
  readonly config: PointConfig
  /** One run per seed; at least one. */
  readonly runs: ReadonlyArray<SeedRun>
  /** Series id; by default derived from everything in config except the load. */
  readonly series?: string
  readonly label?: string
  /** Model/GPU figures for the roofline input/output split when runs carry no prefillTimeFraction. */
  readonly roofline?: RooflineSplitInputs
}

export interface AnalyzeOptions {
  /** Cost model per GPU id; GPUs left out use the cited owned-cost defaults of cost-model.ts. */
  readonly costs?: Readonly<Record<string, GpuCostInputs>>
  readonly slo?: SloSpec
  readonly saturationThreshold?: number
  readonly throughputMetric?: ThroughputMetric
  readonly costObjective?: CostObjective
  /** API prices to compare with; a price naming a model applies only to points of that model. */
  readonly apiPrices?: ReadonlyArray<ApiPrice>
  readonly quality?: ReadonlyArray<QualityScore>
  readonly sensitivityDelta?: number
  readonly title?: string
  readonly createdBy?: string
  readonly scenario?: string
}

const OBJECTIVE_LABEL: Readonly<Record<CostObjective, string>> = {
  usdPerMOutput: "USD per 1M output tokens",
  usdPerMTotal: "USD per 1M tokens (input + output)",
  usdPerRequest: "USD per request",
}

/** Default series id: the configuration without its load value. */
export const seriesKey = (c: PointConfig): string => {
  const parts = [`${c.gpu}×${c.numGpus}`, `tp${c.tp}`]
  if (c.pp !== 1) parts.push(`pp${c.pp}`)
  if (c.replicas !== 1) parts.push(`r${c.replicas}`)
  if (c.model !== undefined) parts.push(c.model)
  if (c.maxNumSeqs !== undefined) parts.push(`seqs${c.maxNumSeqs}`)
  if (c.maxNumBatchedTokens !== undefined) parts.push(`mbt${c.maxNumBatchedTokens}`)
  for (const [k, v] of Object.entries(c.extra ?? {}).sort(([a], [b]) => a.localeCompare(b))) parts.push(`${k}=${v}`)
  // Each concurrency cap of an open loop is its own series (its curve over the rates).
  if (c.load.maxConcurrency !== undefined) parts.push(`c≤${c.load.maxConcurrency}`)
  parts.push(c.load.kind)
  return parts.join(" ")
}

export const loadLabel = (c: PointConfig): string => formatLoad(c.load)

const aggregateMetrics = (runs: ReadonlyArray<SeedRun>): PointMetrics => {
  const stat = (get: (m: BenchMetrics) => number) => summarize(runs.map((r) => get(r.metrics)))
  const core = Object.fromEntries(CORE_METRIC_KEYS.map((k) => [k, stat((m) => m[k])])) as {
    [K in (typeof CORE_METRIC_KEYS)[number]]: MetricStat
  }
  const optional: { -readonly [K in (typeof OPTIONAL_METRIC_KEYS)[number]]?: MetricStat } = {}
  for (const k of OPTIONAL_METRIC_KEYS) {
    const values = runs.map((r) => r.metrics[k])
    if (values.every((v): v is number => typeof v === "number" && Number.isFinite(v))) optional[k] = summarize(values)
  }
  return { ...core, ...optional }
}

/** BenchMetrics of seed means (for SLO checks and API pricing). */
export const meanMetrics = (m: PointMetrics): BenchMetrics => {
  const core = Object.fromEntries(CORE_METRIC_KEYS.map((k) => [k, m[k].mean])) as {
    [K in (typeof CORE_METRIC_KEYS)[number]]: number
  }
  return {
    ...core,
    ...(m.total_token_throughput === undefined ? {} : { total_token_throughput: m.total_token_throughput.mean }),
    ...(m.request_goodput === undefined ? {} : { request_goodput: m.request_goodput.mean }),
  }
}

const throughputOf = (m: PointMetrics, which: ThroughputMetric): number => {
  if (which === "total_token_throughput") {
    return m.total_token_throughput?.mean ?? m.total_input_tokens.mean / m.duration.mean + m.output_throughput.mean
  }
  return m[which].mean
}

interface Draft {
  readonly id: string
  readonly series: string
  readonly label: string
  readonly config: PointConfig
  readonly seeds: ReadonlyArray<number | string>
  readonly metrics: PointMetrics
  readonly cost: PointCost
  readonly meetsSlo: boolean
  readonly sloViolations: ReadonlyArray<string>
  readonly timeline: SeedRun["timeline"]
}

export const analyzeSweep = (
  inputs: ReadonlyArray<SweepPointInput>,
  options: AnalyzeOptions = {},
): ParseResult<SweepResult> => {
  const slo = options.slo ?? DEFAULT_SLO
  const threshold = options.saturationThreshold ?? DEFAULT_SATURATION_ELASTICITY
  const throughputMetric = options.throughputMetric ?? "output_throughput"
  const objective = options.costObjective ?? "usdPerMOutput"
  const apiPrices = options.apiPrices ?? []
  if (inputs.length === 0) return { ok: false, error: "sweep has no points" }

  // Cost model per GPU type.
  const gpuCosts = new Map<string, GpuCostEntry>()
  for (const input of inputs) {
    const gpu = input.config.gpu
    if (gpuCosts.has(gpu)) continue
    const given = options.costs?.[gpu]
    const defaults = defaultOwnedInputs(gpu)
    const costInputs: GpuCostInputs | undefined = given ?? (defaults === undefined ? undefined : { kind: "owned", ...defaults })
    if (costInputs === undefined) return { ok: false, error: `no price for GPU "${gpu}"; give a cost model for it` }
    const invalid = validateCostInputs(costInputs)
    if (invalid !== undefined) return { ok: false, error: `cost model of ${gpu}: ${invalid}` }
    const sources = given === undefined ? defaultSources(gpu) : undefined
    gpuCosts.set(gpu, {
      gpu,
      inputs: costInputs,
      breakdown: hourlyCost(costInputs),
      ...(sources === undefined ? {} : { sources }),
    })
  }

  const drafts: Draft[] = []
  for (const [index, input] of inputs.entries()) {
    const id = `p${String(index + 1).padStart(inputs.length >= 100 ? 3 : 2, "0")}`
    const where = `point ${id} (${seriesKey(input.config)})`
    if (input.runs.length === 0) return { ok: false, error: `${where} has no runs` }
    if (!(Number.isFinite(input.config.numGpus) && input.config.numGpus > 0))
      return { ok: false, error: `${where}: numGpus must be > 0, got ${input.config.numGpus}` }
    if (!(Number.isFinite(input.config.load.value) && input.config.load.value > 0))
      return { ok: false, error: `${where}: load must be > 0, got ${input.config.load.value}` }
    const gpuCost = gpuCosts.get(input.config.gpu)
    if (gpuCost === undefined) return { ok: false, error: `no cost model for ${input.config.gpu}` }
    const gpuHour = gpuCost.breakdown.total
    const perSeed = input.runs.map((run) =>
      tokenCost(
        run.metrics,
        input.config.numGpus,
        gpuHour,
        prefillSplit(run.metrics, run.prefillTimeFraction, input.roofline),
      ),
    )
    const metrics = aggregateMetrics(input.runs)
    const means = meanMetrics(metrics)
    const runCost = summarize(perSeed.map((c) => c.runCostUsd))
    const model = input.config.model
    const api = apiPrices
      .filter((p) => p.model === undefined || model === undefined || p.model === model)
      .map((p) => compareWithApi(means, { runCostUsd: runCost.mean, numGpus: input.config.numGpus }, p))
    const cost: PointCost = {
      gpuHourUsd: gpuHour,
      numGpus: input.config.numGpus,
      splitMethod: perSeed[0]?.splitMethod ?? "token-count",
      prefillShare: summarize(perSeed.map((c) => c.prefillShare)),
      runCostUsd: runCost,
      usdPerMInput: summarize(perSeed.map((c) => c.usdPerMInput)),
      usdPerMOutput: summarize(perSeed.map((c) => c.usdPerMOutput)),
      usdPerMTotal: summarize(perSeed.map((c) => c.usdPerMTotal)),
      usdPerRequest: summarize(perSeed.map((c) => c.usdPerRequest)),
      api,
    }
    const check = checkSlo(means, slo)
    const series = input.series ?? seriesKey(input.config)
    drafts.push({
      id,
      series,
      label: input.label ?? `${series.replace(/ (concurrency|rate)$/, "")} · ${loadLabel(input.config)}`,
      config: input.config,
      seeds: input.runs.map((r) => r.seed),
      metrics,
      cost,
      meetsSlo: check.meets,
      sloViolations: check.violations,
      timeline: input.runs[0]?.timeline,
    })
  }

  const objectiveOf = (d: Draft) => d.cost[objective].mean
  const optimal = optimalIndex(drafts.map((d) => ({ meetsSlo: d.meetsSlo, cost: objectiveOf(d) })))
  const pareto = new Set(
    costSpeedFrontier(drafts.map((d) => ({ usdPerMOutput: d.cost.usdPerMOutput.mean, tpotMs: d.metrics.mean_tpot_ms.mean }))),
  )

  // Per series: saturation, SLA boundary, series optimum.
  const seriesIds = [...new Set(drafts.map((d) => d.series))]
  const saturationIds = new Set<string>()
  const boundaryIds = new Set<string>()
  const seriesOptimalIds = new Set<string>()
  const series: SeriesSummary[] = seriesIds.map((sid) => {
    const members = drafts.filter((d) => d.series === sid)
    const ordered = loadOrder(members.map((d) => ({ load: d.config.load.value }))).map((i) => members[i]).filter(
      (d): d is Draft => d !== undefined,
    )
    const sat = saturationIndex(
      ordered.map((d) => ({ load: d.config.load.value, throughput: throughputOf(d.metrics, throughputMetric) })),
      threshold,
    )
    const boundary = slaBoundaryIndex(ordered.map((d) => ({ load: d.config.load.value, meetsSlo: d.meetsSlo })))
    const best = optimalIndex(ordered.map((d) => ({ meetsSlo: d.meetsSlo, cost: objectiveOf(d) })))
    const satId = sat === undefined ? undefined : ordered[sat]?.id
    const boundaryId = boundary === undefined ? undefined : ordered[boundary]?.id
    const bestId = best === undefined ? undefined : ordered[best]?.id
    if (satId !== undefined) saturationIds.add(satId)
    if (boundaryId !== undefined) boundaryIds.add(boundaryId)
    if (bestId !== undefined) seriesOptimalIds.add(bestId)
    const first = ordered[0]
    return {
      id: sid,
      label: sid.replace(/ (concurrency|rate)$/, ""),
      loadKind: first?.config.load.kind ?? "concurrency",
      pointIds: ordered.map((d) => d.id),
      ...(satId === undefined ? {} : { saturationPointId: satId }),
      ...(boundaryId === undefined ? {} : { slaBoundaryPointId: boundaryId }),
      ...(bestId === undefined ? {} : { optimalPointId: bestId }),
    }
  })

  const points: SweepPoint[] = drafts.map((d, i) => ({
    id: d.id,
    series: d.series,
    label: d.label,
    config: d.config,
    seeds: d.seeds,
    metrics: d.metrics,
    serialTokensPerSecond: finiteOr0(serialTokensPerSecond(d.metrics.mean_tpot_ms.mean)),
    cost: d.cost,
    flags: {
      meetsSlo: d.meetsSlo,
      sloViolations: d.sloViolations,
      saturation: saturationIds.has(d.id),
      slaBoundary: boundaryIds.has(d.id),
      optimal: i === optimal,
      seriesOptimal: seriesOptimalIds.has(d.id),
      pareto: pareto.has(i),
    },
    ...(d.timeline === undefined ? {} : { timeline: d.timeline }),
  }))

  // Sensitivity of the optimal point's cost (else the cheapest point's).
  let sensIndex = optimal
  if (sensIndex === undefined) {
    drafts.forEach((d, i) => {
      const cur = sensIndex === undefined ? undefined : drafts[sensIndex]
      if (Number.isFinite(objectiveOf(d)) && (cur === undefined || objectiveOf(d) < objectiveOf(cur))) sensIndex = i
    })
  }
  const sensDraft = sensIndex === undefined ? undefined : drafts[sensIndex]
  const sensCost = sensDraft === undefined ? undefined : gpuCosts.get(sensDraft.config.gpu)
  const sensitivity =
    sensDraft === undefined || sensCost === undefined
      ? undefined
      : {
          pointId: sensDraft.id,
          ...costTornado(sensCost.inputs, objectiveOf(sensDraft), OBJECTIVE_LABEL[objective], {
            delta: options.sensitivityDelta ?? DEFAULT_SENSITIVITY_DELTA,
            includeThroughput: true,
          }),
        }

  const quality = options.quality === undefined ? undefined : qualityFrontier(options.quality, points)

  return {
    ok: true,
    value: {
      format: SWEEP_RESULT_FORMAT,
      version: SWEEP_RESULT_VERSION,
      ...(options.title === undefined ? {} : { title: options.title }),
      ...(options.createdBy === undefined ? {} : { createdBy: options.createdBy }),
      ...(options.scenario === undefined ? {} : { scenario: options.scenario }),
      slo,
      saturationThreshold: threshold,
      throughputMetric,
      costObjective: objective,
      gpuCosts: [...gpuCosts.values()],
      apiPrices,
      points,
      series,
      summary: {
        ...(optimal === undefined ? {} : { optimalPointId: drafts[optimal]?.id ?? "" }),
        paretoPointIds: points.filter((p) => p.flags.pareto).map((p) => p.id),
      },
      ...(sensitivity === undefined ? {} : { sensitivity }),
      ...(quality === undefined ? {} : { quality }),
    },
  }
}

const finiteOr0 = (x: number): number => (Number.isFinite(x) ? x : 0)

/**
 * Joins quality scores to simulated points by model id. Each model is priced at the cost of running the
 * request set on its cheapest SLO-meeting point (its cheapest point when none meets the SLOs).
 */
export const qualityFrontier = (
  scores: ReadonlyArray<QualityScore>,
  points: ReadonlyArray<SweepPoint>,
): NonNullable<SweepResult["quality"]> => {
  const found: Array<Omit<QualityEntry, "pareto">> = []
  const missing: string[] = []
  for (const s of scores) {
    const candidates = points.filter((p) => p.config.model === s.model)
    if (candidates.length === 0) {
      missing.push(s.model)
      continue
    }
    const meeting = candidates.filter((p) => p.flags.meetsSlo)
    const pool = meeting.length > 0 ? meeting : candidates
    let best = pool[0]
    for (const p of pool) if (best === undefined || p.cost.runCostUsd.mean < best.cost.runCostUsd.mean) best = p
    if (best === undefined) continue
    found.push({
      model: s.model,
      score: s.score,
      costUsd: best.cost.runCostUsd.mean,
      pointId: best.id,
      meetsSlo: best.flags.meetsSlo,
    })
  }
  const front = new Set(qualityCostFrontier(found))
  return {
    costBasis: "run-cost",
    rows: found.map((r, i) => ({ ...r, pareto: front.has(i) })),
    missingModels: missing,
  }
}
