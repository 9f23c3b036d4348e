// Aggregated vs P/D-disaggregated deployments in a sweep: at each load, the cheapest configuration
// (series) meeting the SLOs, and why every other one loses (the SLO it misses, or what it costs more).
// Pure: reads a SweepResult. Cost is the sweep's objective, $ per 1M output tokens; at one offered
// load every configuration that keeps up serves the same tokens, so this ranks them as $/h would.
import type { SweepPoint, SweepResult } from "./sweep-result.ts"

export interface DeploymentVerdict {
  readonly pointId: string
  readonly label: string
  readonly meetsSlo: boolean
  readonly usdPerMOutput: number
  /** Empty for the winner. */
  readonly why: string
}

export interface LoadComparison {
  readonly load: number
  readonly loadKind: "concurrency" | "rate"
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
  const byLoad = new Map<number, SweepPoint[]>()
  for (const p of r.points) {
    const list = byLoad.get(p.config.load.value) ?? []
    list.push(p)
    byLoad.set(p.config.load.value, list)
  }
  const out: LoadComparison[] = []
  for (const [load, points] of [...byLoad.entries()].sort(([a], [b]) => a - b)) {
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
    out.push({ load, loadKind: points[0]!.config.load.kind, ...(winner === undefined ? {} : { best: verdict(winner, "") }), others })
  }
  return out
}
