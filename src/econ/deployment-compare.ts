// Aggregated vs P/D-disaggregated deployments in a sweep: at each load, the cheapest configuration
// (series) meeting the SLOs, and why every other one loses (the SLO it misses, or what it costs more).
// Pure: reads a SweepResult. Cost is the sweep's objective, $ per 1M output tokens; at one offered
// load every configuration that keeps up serves the same tokens, so this ranks them as $/h would.
import type { SweepPoint, SweepResult } from "./sweep-result.ts"
import type { LoadSpec } from "./point.ts"

export interface DeploymentVerdict {
  readonly pointId: string
  readonly label: string
  readonly meetsSlo: boolean
  readonly usdPerMOutput: number
  /** Empty for the winner. */
  readonly why: string
}

export interface LoadComparison {
  /** The load the configurations are compared at (a capped open loop: the rate and the cap). */
  readonly load: LoadSpec
  readonly best?: DeploymentVerdict
  readonly others: ReadonlyArray<DeploymentVerdict>
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString())

/** The configuration of a point without its load (the series label names it). */
const configLabel = (p: SweepPoint, seriesLabel: ReadonlyMap<string, string>): string => seriesLabel.get(p.series) ?? p.label

/** Whether the sweep compared aggregated and disaggregated deployments (points of both or of several P/D units). */
export const comparesDeployments = (r: SweepResult): boolean => new Set(r.points.map((p) => p.config.extra?.pd).filter((x) => x !== undefined)).size > 1

export const compareDeployments = (r: SweepResult): LoadComparison[] => {
  const seriesLabel = new Map(r.series.map((s) => [s.id, s.label]))
  // One group per load: kind, value and cap (a rate under two caps is two loads).
  const byLoad = new Map<string, SweepPoint[]>()
  for (const p of r.points) {
    const l = p.config.load
    const key = `${l.kind}:${l.value}:${l.maxConcurrency ?? ""}`
    const list = byLoad.get(key) ?? []
    list.push(p)
    byLoad.set(key, list)
  }
  const out: LoadComparison[] = []
  const groups = [...byLoad.values()].sort((a, b) => a[0]!.config.load.value - b[0]!.config.load.value || (a[0]!.config.load.maxConcurrency ?? 0) - (b[0]!.config.load.maxConcurrency ?? 0))
  for (const points of groups) {
    const load = points[0]!.config.load
    if (points.length < 2) continue
    const cost = (p: SweepPoint) => p.cost.usdPerMOutput.mean
    const meeting = points.filter((p) => p.flags.meetsSlo).sort((a, b) => cost(a) - cost(b))
    const winner = meeting[0]
    const verdict = (p: SweepPoint, why: string): DeploymentVerdict => ({ pointId: p.id, label: configLabel(p, seriesLabel), meetsSlo: p.flags.meetsSlo, usdPerMOutput: cost(p), why })
    const others = points
      .filter((p) => p !== winner)
      .sort((a, b) => Number(b.flags.meetsSlo) - Number(a.flags.meetsSlo) || cost(a) - cost(b))
      .map((p) => {
        if (!p.flags.meetsSlo) return verdict(p, `misses the SLOs: ${p.flags.sloViolations.join("; ")}`)
        const d = cost(p) - cost(winner!)
        return verdict(p, `meets the SLOs but costs $${fmt(d)} more per 1M output tokens (+${fmt((100 * d) / cost(winner!))}%): $${fmt(cost(p))} vs $${fmt(cost(winner!))}`)
      })
    out.push({ load, ...(winner === undefined ? {} : { best: verdict(winner, "") }), others })
  }
  return out
}
