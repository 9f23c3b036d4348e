// The sweep's terminal table and CSV: one row per point with 95% CIs over seeds, cost, and the
// saturation / SLA-boundary / optimal / Pareto marks.
import { compareDeployments, comparesDeployments } from "../econ/deployment-compare.ts"
import type { SloSpec } from "../econ/saturation.ts"
import type { MetricStat } from "../econ/stats.ts"
import type { SweepPoint, SweepResult } from "../econ/sweep-result.ts"
import { formatLoad } from "../econ/point.ts"
import { csvField } from "../format/csv.ts"
import type { SweepOutput } from "../sweep/plan.ts"

const sig = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return "–"
  const a = Math.abs(x)
  if (a >= 10 ** digits) return x.toFixed(0)
  if (a === 0) return "0"
  return Number(x.toPrecision(digits)).toString()
}

/** "mean ±half-width" of a 95% CI (the half-width omitted with one seed). */
const withCi = (s: MetricStat, digits = 3): string => (s.n < 2 ? sig(s.mean, digits) : `${sig(s.mean, digits)} ±${sig(s.ciHigh - s.mean, 2)}`)

/** "[lo, hi]" of the point's prediction interval on a field, or "" when it has none. */
const intervalText = (p: SweepPoint, field: string): string => {
  const pi = p.intervals?.metrics[field]
  return pi === undefined ? "" : ` [${sig(pi[0])}, ${sig(pi[1])}]`
}

const loadText = (p: SweepPoint): string => formatLoad(p.config.load, true)

const marks = (p: SweepPoint): string =>
  [p.flags.saturation ? "S" : "", p.flags.slaBoundary ? "B" : "", p.flags.optimal ? "O" : "", p.flags.pareto ? "P" : ""].join("")

const pad = (s: string, n: number, right = false): string => (right ? s.padStart(n) : s.padEnd(n))

const sloText = (slo: SloSpec): string => {
  const parts: string[] = []
  if (slo.ttftMs !== undefined) parts.push(`TTFT ≤ ${slo.ttftMs} ms`)
  if (slo.tpotMs !== undefined) parts.push(`TPOT ≤ ${slo.tpotMs} ms (≥ ${sig(1000 / slo.tpotMs)} tok/s per request)`)
  if (slo.e2elMs !== undefined) parts.push(`E2E ≤ ${slo.e2elMs} ms`)
  return `${parts.join(", ")} (${slo.stat})`
}

const describe = (p: SweepPoint | undefined): string => {
  if (p === undefined) return "none"
  return `${p.id} ${p.label}: ${sig(p.metrics.output_throughput.mean)} out tok/s, TTFT ${sig(p.metrics.mean_ttft_ms.mean)} ms, TPOT ${sig(p.metrics.mean_tpot_ms.mean)} ms, $${sig(p.cost.usdPerMOutput.mean)}/1M output tokens`
}

export const formatSweepTable = (o: SweepOutput): string => {
  const r = o.result
  const byId = new Map(r.points.map((p) => [p.id, p]))
  const lines: string[] = []
  if (r.title !== undefined) lines.push(r.title)
  const seeds = r.points[0]?.seeds.length ?? 0
  lines.push(`${r.points.length} point${r.points.length === 1 ? "" : "s"} × ${seeds} seed${seeds === 1 ? "" : "s"}; mean ±95% CI half-width over seeds; SLO ${sloText(r.slo)}`)
  // Prediction intervals (a --profile with an uncertainty block) widen the TTFT and TPOT columns.
  const pi = r.points.find((p) => p.intervals !== undefined)?.intervals
  const piWidth = pi === undefined ? 0 : 18
  if (pi !== undefined)
    lines.push(`[lo, hi] after TTFT and TPOT: ${Math.round(100 * pi.level)}% prediction interval about the first seed's run from ${pi.draws} parameter draws (${pi.method}) of ${pi.profile}, plus the fit's residual error`)
  for (const g of r.gpuCosts) {
    const b = g.breakdown
    const how =
      b.kind === "cloud"
        ? "flat rate"
        : `owned: depreciation $${b.depreciation.toFixed(4)} + power $${b.power.toFixed(4)} + maintenance $${b.maintenance.toFixed(4)}`
    lines.push(`  ${g.gpu}: $${b.total.toFixed(4)} per GPU-hour (${how})`)
  }
  // Wide enough for "4/s c≤256" when the sweep caps its rates.
  const loadWidth = Math.max(8, ...r.points.map((p) => loadText(p).length))
  const head = [
    pad("id", 4),
    pad("load", loadWidth),
    pad("req/s", 14, true),
    pad("out tok/s", 16, true),
    pad("TTFT ms", 16 + piWidth, true),
    pad("TPOT ms", 14 + piWidth, true),
    pad("tok/s/req", 10, true),
    pad("$/1M out", 16, true),
    pad("$/1M in", 9, true),
    pad("KV %", 6, true),
    pad("SLO", 5, true),
    "  marks",
  ].join(" ")
  for (const s of r.series) {
    lines.push("")
    lines.push(s.label)
    lines.push(head)
    for (const id of s.pointIds) {
      const p = byId.get(id)
      if (p === undefined) continue
      const ex = o.extras[id]
      lines.push(
        [
          pad(p.id, 4),
          pad(loadText(p), loadWidth),
          pad(withCi(p.metrics.request_throughput), 14, true),
          pad(withCi(p.metrics.output_throughput, 4), 16, true),
          pad(withCi(p.metrics.mean_ttft_ms) + intervalText(p, "mean_ttft_ms"), 16 + piWidth, true),
          pad(withCi(p.metrics.mean_tpot_ms) + intervalText(p, "mean_tpot_ms"), 14 + piWidth, true),
          pad(sig(p.serialTokensPerSecond), 10, true),
          pad(withCi(p.cost.usdPerMOutput), 16, true),
          pad(sig(p.cost.usdPerMInput.mean), 9, true),
          pad(ex === undefined ? "–" : (100 * ex.mean_kv_cache_usage).toFixed(1), 6, true),
          pad(p.flags.meetsSlo ? "ok" : "miss", 5, true),
          `  ${marks(p)}`,
        ].join(" "),
      )
    }
    lines.push(`  saturation point: ${s.saturationPointId === undefined ? "not reached (throughput still grows at the highest load)" : describe(byId.get(s.saturationPointId))}`)
    lines.push(`  SLA boundary: ${s.slaBoundaryPointId === undefined ? "none (the lowest load already misses the SLOs)" : describe(byId.get(s.slaBoundaryPointId))}`)
    const over = s.pointIds.map((id) => byId.get(id)).find((p) => p !== undefined && !p.flags.meetsSlo)
    if (over !== undefined) lines.push(`  first miss: ${over.id} ${loadText(over)}: ${over.flags.sloViolations.join("; ")}`)
  }
  lines.push("")
  const opt = r.summary.optimalPointId === undefined ? undefined : byId.get(r.summary.optimalPointId)
  lines.push(`optimal operating point (lowest $/1M output tokens meeting the SLOs): ${opt === undefined ? "none — no point meets the SLOs" : describe(opt)}`)
  if (comparesDeployments(r)) {
    lines.push("aggregated vs disaggregated, at each load (cheapest $/1M output tokens meeting the SLOs):")
    for (const c of compareDeployments(r)) {
      const load = formatLoad(c.load, true)
      lines.push(`  ${load}: ${c.best === undefined ? "none meets the SLOs" : `${c.best.pointId} ${c.best.label} at $${sig(c.best.usdPerMOutput)}/1M`}`)
      for (const o of c.others) lines.push(`    ${o.pointId} ${o.label}: ${o.why}`)
    }
  }
  lines.push("Pareto set ($/1M output tokens vs tokens/s per request):")
  for (const id of r.summary.paretoPointIds) {
    const p = byId.get(id)
    if (p !== undefined) lines.push(`  ${p.id} ${p.label}: ${sig(p.serialTokensPerSecond)} tok/s/request at $${sig(p.cost.usdPerMOutput.mean)}/1M`)
  }
  if (o.skipped.length > 0) {
    // One line per configuration and reason, with the loads it covers.
    const groups = new Map<string, { config: string; reason: string; loads: string[] }>()
    for (const s of o.skipped) {
      const parts = s.point.split(" ")
      const loads = parts.filter((x) => /^(concurrency|rate)=/.test(x))
      const config = parts.filter((x) => !/^(concurrency|rate)=/.test(x)).join(" ") || "(the scenario)"
      const key = `${config}\u0000${s.reason}`
      const g = groups.get(key) ?? { config, reason: s.reason, loads: [] }
      g.loads.push(...loads.map((x) => x.replace(/^concurrency=/, "c=").replace(/^rate=(.*)$/, "$1/s")))
      groups.set(key, g)
    }
    lines.push("skipped:")
    for (const g of groups.values()) lines.push(`  ${g.config}${g.loads.length > 0 ? ` (${g.loads.join(", ")})` : ""}: ${g.reason}`)
  }
  lines.push("marks: S saturation point · B SLA boundary · O optimal operating point · P Pareto set")
  return lines.join("\n")
}

const CSV_METRICS = [
  "request_throughput",
  "output_throughput",
  "mean_ttft_ms",
  "median_ttft_ms",
  "p99_ttft_ms",
  "mean_tpot_ms",
  "p99_tpot_ms",
  "mean_itl_ms",
  "p99_itl_ms",
  "mean_e2el_ms",
  "p99_e2el_ms",
] as const

/** One row per point: configuration, metrics (mean and CI bounds), costs, flags. */
export const formatSweepCsv = (r: SweepResult): string => {
  const header = [
    "id",
    "series",
    "model",
    "gpu",
    "num_gpus",
    "tp",
    "pp",
    "replicas",
    "max_num_seqs",
    "extra",
    "load_kind",
    "load",
    "max_concurrency",
    "seeds",
    ...CSV_METRICS.flatMap((m) => [`${m}`, `${m}_ci_low`, `${m}_ci_high`]),
    "serial_tok_s_per_request",
    "usd_per_m_output",
    "usd_per_m_output_ci_low",
    "usd_per_m_output_ci_high",
    "usd_per_m_input",
    "usd_per_m_total",
    "usd_per_request",
    "run_cost_usd",
    "gpu_hour_usd",
    "meets_slo",
    "slo_violations",
    "saturation",
    "sla_boundary",
    "optimal",
    "pareto",
  ]
  const rows = r.points.map((p) => {
    const c = p.config
    const extra = Object.entries(c.extra ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")
    return [
      p.id,
      p.series,
      c.model,
      c.gpu,
      c.numGpus,
      c.tp,
      c.pp,
      c.replicas,
      c.maxNumSeqs,
      extra,
      c.load.kind,
      c.load.value,
      c.load.maxConcurrency,
      p.seeds.length,
      ...CSV_METRICS.flatMap((m) => [p.metrics[m].mean, p.metrics[m].ciLow, p.metrics[m].ciHigh]),
      p.serialTokensPerSecond,
      p.cost.usdPerMOutput.mean,
      p.cost.usdPerMOutput.ciLow,
      p.cost.usdPerMOutput.ciHigh,
      p.cost.usdPerMInput.mean,
      p.cost.usdPerMTotal.mean,
      p.cost.usdPerRequest.mean,
      p.cost.runCostUsd.mean,
      p.cost.gpuHourUsd,
      p.flags.meetsSlo,
      p.flags.sloViolations.join("; "),
      p.flags.saturation,
      p.flags.slaBoundary,
      p.flags.optimal,
      p.flags.pareto,
    ]
      .map(csvField)
      .join(",")
  })
  return `${[header.join(","), ...rows].join("\n")}\n`
}

// ---------------------------------------------------------------------------------------------------
