// `servesim search`: the cheapest deployment (GPU type, TP, replicas, max_num_seqs) that meets latency
// SLOs at a target load. Pure: candidate enumeration, the probe planner and the ranking with reasons;
// the CLI simulates the probes.
//
// Objective: the fleet's cost per hour, USD/GPU-hour × GPUs (tp × replicas). The load is fixed (a
// request rate, or a number of users in flight), so this is what serving it costs; in an open loop that
// meets its SLOs it keeps up with the offered rate, so cost per token is proportional to it. Ties (same
// $/h) are broken by the simulated $ per 1M output tokens, then by fewer GPUs.
//
// Search: a "layout" is (GPU type, TP, max_num_seqs); its candidates differ in replicas r = 1 … ⌊maxGpus/tp⌋.
// A P/D-disaggregated layout is (GPU type, prefill:decode unit, max_num_seqs); r scales both pools.
// Assumption (monotonicity): more replicas of the same engine behind the router never make the mean
// latencies worse, so for each layout the SLO-meeting r form an upward-closed set and its cheapest
// candidate is the smallest such r. The planner finds it by probing the most replicas still affordable
// (at most the best $/h found so far) and bisecting below; a layout whose affordable maximum misses the
// SLOs is out after one probe, a layout that cannot beat the best even with one replica needs none.
// Each round probes at most `maxProbes` candidates across layouts in cost order, so the set of probes —
// and the answer — do not depend on the number of CPUs.
import type { BenchMetrics } from "./point.ts"
import type { SloSpec } from "./saturation.ts"

export interface SearchGpu {
  readonly id: string
  /** USD per GPU-hour. */
  readonly gpuHourUsd: number
}

export interface SearchLayout {
  /** e.g. "a800-sxm tp2" or "a800-sxm tp2 seqs256". */
  readonly id: string
  readonly gpu: string
  readonly tp: number
  /** max_num_seqs; undefined = vLLM's default for the GPU. */
  readonly maxNumSeqs?: number
  readonly gpuHourUsd: number
  /** ⌊maxGpus / GPUs per replica⌋. */
  readonly maxReplicas: number
  /**
   * P/D disaggregation: one "replica" is a unit of `prefill.replicas` prefill and `decode.replicas`
   * decode engines; r replicas scale both pools by r (the prefill:decode ratio stays fixed).
   */
  readonly disaggregation?: PdUnit
}

/** One unit of a P/D-disaggregated layout. */
export interface PdUnit {
  readonly prefill: { readonly replicas: number; readonly tp: number }
  readonly decode: { readonly replicas: number; readonly tp: number }
}

/** GPUs of one replica of the layout (one engine, or one P/D unit). */
export const gpusPerReplica = (l: SearchLayout): number =>
  l.disaggregation === undefined ? l.tp : l.disaggregation.prefill.replicas * l.disaggregation.prefill.tp + l.disaggregation.decode.replicas * l.disaggregation.decode.tp

/** "1xtp4:1xtp4": a P/D unit as prefill:decode. */
export const pdUnitLabel = (u: PdUnit): string => `${u.prefill.replicas}xtp${u.prefill.tp}:${u.decode.replicas}xtp${u.decode.tp}`

/** One pool "NxtpT[@gpu]": N replicas of tensor parallel T (undefined when malformed). */
export const parsePool = (text: string): { readonly replicas: number; readonly tp: number; readonly gpu?: string } | undefined => {
  const m = /^\s*(\d+)\s*x\s*tp(\d+)\s*(?:@\s*([\w.\-/]+))?\s*$/i.exec(text)
  if (m === null) return undefined
  const replicas = Number(m[1])
  const tp = Number(m[2])
  if (!(Number.isSafeInteger(replicas) && replicas >= 1 && Number.isSafeInteger(tp) && tp >= 1)) return undefined
  return { replicas, tp, ...(m[3] !== undefined ? { gpu: m[3] } : {}) }
}

/** "1xtp4:2xtp2" (prefill:decode, no GPU types) as a P/D unit; undefined when malformed. */
export const parsePdUnit = (text: string): PdUnit | undefined => {
  const [p, d, extra] = text.split(":")
  const prefill = p === undefined ? undefined : parsePool(p)
  const decode = d === undefined ? undefined : parsePool(d)
  if (prefill === undefined || decode === undefined || extra !== undefined || prefill.gpu !== undefined || decode.gpu !== undefined) return undefined
  return { prefill: { replicas: prefill.replicas, tp: prefill.tp }, decode: { replicas: decode.replicas, tp: decode.tp } }
}

export interface EnumerateOptions {
  readonly gpus: ReadonlyArray<SearchGpu>
  readonly tps: ReadonlyArray<number>
  /** max_num_seqs values to try; undefined = vLLM's default. */
  readonly maxNumSeqs: ReadonlyArray<number | undefined>
  readonly maxGpus: number
  /** P/D-disaggregated units to consider beside the aggregated layouts. */
  readonly disaggregation?: ReadonlyArray<PdUnit>
}

/** $/h of one replica of the layout. */
export const replicaUsdPerHour = (l: SearchLayout): number => l.gpuHourUsd * gpusPerReplica(l)

export const layoutId = (gpu: string, tp: number, maxNumSeqs: number | undefined): string =>
  `${gpu} tp${tp}${maxNumSeqs === undefined ? "" : ` seqs${maxNumSeqs}`}`

/**
 * Every layout with tp ≤ maxGpus, cheapest replica first (ties: the GPU list order, smaller TP, the
 * max_num_seqs list order). Feasibility (the model fits, heads divide by TP) is checked by the caller.
 */
export const enumerateLayouts = (o: EnumerateOptions): SearchLayout[] => {
  const out: Array<SearchLayout & { readonly order: number }> = []
  let order = 0
  for (const g of o.gpus)
    for (const tp of [...o.tps].sort((a, b) => a - b))
      for (const seqs of o.maxNumSeqs) {
        const n = order++
        if (tp > o.maxGpus) continue
        out.push({
          id: layoutId(g.id, tp, seqs),
          gpu: g.id,
          tp,
          ...(seqs === undefined ? {} : { maxNumSeqs: seqs }),
          gpuHourUsd: g.gpuHourUsd,
          maxReplicas: Math.floor(o.maxGpus / tp),
          order: n,
        })
      }
  for (const g of o.gpus)
    for (const unit of o.disaggregation ?? [])
      for (const seqs of o.maxNumSeqs) {
        const n = order++
        const l: SearchLayout = {
          id: `${g.id} P/D ${pdUnitLabel(unit)}${seqs === undefined ? "" : ` seqs${seqs}`}`,
          gpu: g.id,
          tp: unit.prefill.tp,
          ...(seqs === undefined ? {} : { maxNumSeqs: seqs }),
          gpuHourUsd: g.gpuHourUsd,
          maxReplicas: 0,
          disaggregation: unit,
        }
        const per = gpusPerReplica(l)
        if (per <= o.maxGpus) out.push({ ...l, maxReplicas: Math.floor(o.maxGpus / per), order: n })
      }
  out.sort((a, b) => replicaUsdPerHour(a) - replicaUsdPerHour(b) || a.order - b.order)
  return out.map(({ order: _order, ...l }) => l)
}

/** How far one SLO bound is missed (value > limit). */
export interface SloMiss {
  readonly metric: "TTFT" | "TPOT" | "E2EL"
  readonly stat: SloSpec["stat"]
  readonly valueMs: number
  readonly limitMs: number
}

type LatencyMetrics = Pick<
  BenchMetrics,
  "mean_ttft_ms" | "median_ttft_ms" | "p99_ttft_ms" | "mean_tpot_ms" | "median_tpot_ms" | "p99_tpot_ms" | "mean_e2el_ms" | "median_e2el_ms" | "p99_e2el_ms"
>

/** The bounds a run misses, with by how much (same statistic and rule as saturation.ts checkSlo). */
export const sloMisses = (m: LatencyMetrics, slo: SloSpec): SloMiss[] => {
  const v = {
    mean: [m.mean_ttft_ms, m.mean_tpot_ms, m.mean_e2el_ms],
    median: [m.median_ttft_ms, m.median_tpot_ms, m.median_e2el_ms],
    p99: [m.p99_ttft_ms, m.p99_tpot_ms, m.p99_e2el_ms],
  }[slo.stat]
  const out: SloMiss[] = []
  const check = (metric: SloMiss["metric"], value: number | undefined, limit: number | undefined) => {
    if (limit === undefined || value === undefined) return
    if (!(value <= limit)) out.push({ metric, stat: slo.stat, valueMs: value, limitMs: limit })
  }
  check("TTFT", v[0], slo.ttftMs)
  check("TPOT", v[1], slo.tpotMs)
  check("E2EL", v[2], slo.e2elMs)
  return out
}

const fmt = (x: number): string => (!Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3))

export const formatMiss = (m: SloMiss): string =>
  `${m.stat} ${m.metric} ${fmt(m.valueMs)} ms > ${fmt(m.limitMs)} ms (+${fmt(m.valueMs - m.limitMs)} ms, +${fmt((100 * (m.valueMs - m.limitMs)) / m.limitMs)}%)`

/** One simulated candidate. */
export interface ProbeResult {
  readonly layoutId: string
  readonly replicas: number
  readonly misses: ReadonlyArray<SloMiss>
  /** Seed-mean metrics. */
  readonly metrics: BenchMetrics
  /** Simulated USD per 1M output tokens (tie-break). */
  readonly usdPerMOutput: number
}

export interface Probe {
  readonly layoutId: string
  readonly replicas: number
}

const meets = (r: ProbeResult): boolean => r.misses.length === 0

interface LayoutState {
  /** Largest replicas count known to miss the SLOs (0 = none). */
  readonly lowFail: number
  /** Smallest replicas count known to meet them. */
  readonly highOk: number | undefined
  readonly probed: ReadonlySet<number>
}

const stateOf = (layout: SearchLayout, results: ReadonlyArray<ProbeResult>): LayoutState => {
  let lowFail = 0
  let highOk: number | undefined
  const probed = new Set<number>()
  for (const r of results) {
    if (r.layoutId !== layout.id) continue
    probed.add(r.replicas)
    if (meets(r)) highOk = highOk === undefined ? r.replicas : Math.min(highOk, r.replicas)
    else lowFail = Math.max(lowFail, r.replicas)
  }
  return { lowFail, highOk, probed }
}

const EPS = 1e-9

/** Lowest $/h among candidates known to meet the SLOs (Infinity when none yet). */
export const bestUsdPerHour = (layouts: ReadonlyArray<SearchLayout>, results: ReadonlyArray<ProbeResult>): number => {
  let best = Number.POSITIVE_INFINITY
  for (const l of layouts) {
    const s = stateOf(l, results)
    if (s.highOk !== undefined) best = Math.min(best, replicaUsdPerHour(l) * s.highOk)
  }
  return best
}

/** Replicas of a layout that cost no more than `bound` $/h (ties included), capped by maxGpus. */
const affordable = (l: SearchLayout, bound: number): number =>
  Number.isFinite(bound) ? Math.min(l.maxReplicas, Math.floor(bound / replicaUsdPerHour(l) + EPS)) : l.maxReplicas

/** The next probe of one layout, or undefined when its cheapest SLO-meeting candidate is settled. */
const nextProbe = (l: SearchLayout, s: LayoutState, bound: number): number | undefined => {
  const cap = affordable(l, bound)
  if (cap <= s.lowFail) return undefined // nothing affordable can meet the SLOs
  if (s.highOk === undefined || s.highOk > cap) return s.probed.has(cap) ? undefined : cap
  if (s.highOk - s.lowFail <= 1) return undefined // smallest meeting replicas found
  return Math.floor((s.lowFail + s.highOk) / 2)
}

/**
 * The next round of probes (at most maxProbes), given every result so far; empty when the search is
 * done. Deterministic: a function of the results only.
 */
export const planProbes = (layouts: ReadonlyArray<SearchLayout>, results: ReadonlyArray<ProbeResult>, maxProbes: number): Probe[] => {
  const bound = bestUsdPerHour(layouts, results)
  const out: Probe[] = []
  for (const l of layouts) {
    if (out.length >= maxProbes) break
    const r = nextProbe(l, stateOf(l, results), bound)
    if (r !== undefined) out.push({ layoutId: l.id, replicas: r })
  }
  return out
}

/** What the search says about one layout. */
export interface LayoutVerdict {
  readonly layout: SearchLayout
  /** "best": the answer; "meets": meets the SLOs but costs more (or ties and loses the tie-break); "misses":
   * no affordable replica count meets them; "pricier": not simulated, dearer than the answer even with one replica. */
  readonly kind: "best" | "meets" | "misses" | "pricier"
  /** Replicas of the candidate reported (the cheapest meeting one, or the most replicas tried). */
  readonly replicas: number
  readonly numGpus: number
  readonly usdPerHour: number
  /** The simulated run of that candidate (absent for "pricier"). */
  readonly result?: ProbeResult
  /** For "meets": the most replicas found to miss the SLOs, when any. */
  readonly fewerReplicas?: ProbeResult
  /** For "meets": `replicas` is the fewest that meet the SLOs (false when the search stopped early because
   * every count in between costs more than the answer). */
  readonly minimal?: boolean
  /** Why it loses to the answer (empty for the answer). */
  readonly why: string
}

export interface SearchOutcome {
  readonly best?: LayoutVerdict
  /** Every other layout, best first: meets (by $/h), then misses, then pricier. */
  readonly others: ReadonlyArray<LayoutVerdict>
  readonly probes: number
}

const money = (x: number): string => `$${x.toFixed(2)}`

/** Ranks the layouts after the search and says why each loses. */
export const rankSearch = (layouts: ReadonlyArray<SearchLayout>, results: ReadonlyArray<ProbeResult>): SearchOutcome => {
  const verdicts: Array<Omit<LayoutVerdict, "why" | "kind"> & { kind: "meets" | "misses" | "pricier" }> = []
  for (const l of layouts) {
    const s = stateOf(l, results)
    const unit = replicaUsdPerHour(l)
    if (s.highOk !== undefined) {
      const res = results.find((r) => r.layoutId === l.id && r.replicas === s.highOk)
      const fewer = results.find((r) => r.layoutId === l.id && r.replicas === s.lowFail)
      verdicts.push({
        layout: l,
        kind: "meets",
        replicas: s.highOk,
        numGpus: s.highOk * gpusPerReplica(l),
        usdPerHour: unit * s.highOk,
        ...(res === undefined ? {} : { result: res }),
        ...(fewer === undefined ? {} : { fewerReplicas: fewer }),
        minimal: s.highOk - s.lowFail <= 1,
      })
    } else if (s.lowFail > 0) {
      const res = results.find((r) => r.layoutId === l.id && r.replicas === s.lowFail)
      verdicts.push({ layout: l, kind: "misses", replicas: s.lowFail, numGpus: s.lowFail * gpusPerReplica(l), usdPerHour: unit * s.lowFail, ...(res === undefined ? {} : { result: res }) })
    } else verdicts.push({ layout: l, kind: "pricier", replicas: 1, numGpus: gpusPerReplica(l), usdPerHour: unit })
  }
  const meeting = verdicts
    .filter((v) => v.kind === "meets")
    .sort(
      (a, b) =>
        a.usdPerHour - b.usdPerHour ||
        (a.result?.usdPerMOutput ?? Number.POSITIVE_INFINITY) - (b.result?.usdPerMOutput ?? Number.POSITIVE_INFINITY) ||
        a.numGpus - b.numGpus,
    )
  const winner = meeting[0]
  const best: LayoutVerdict | undefined = winner === undefined ? undefined : { ...winner, kind: "best", why: "" }
  const whyMeets = (v: (typeof verdicts)[number]): string => {
    if (best === undefined) return ""
    const d = v.usdPerHour - best.usdPerHour
    const f = v.fewerReplicas
    const fewer = f === undefined ? "" : `; with ${f.replicas} replica${f.replicas === 1 ? "" : "s"}: ${f.misses.map(formatMiss).join("; ")}`
    if (v.minimal === false) {
      const lo = (f?.replicas ?? 0) + 1
      const from = lo * replicaUsdPerHour(v.layout)
      const range = lo === v.replicas - 1 ? `${lo} replicas` : `${lo}–${v.replicas - 1} replicas`
      return `meets the SLOs with ${v.replicas} replicas (${money(v.usdPerHour)}/h)${fewer}; ${range} would cost ${money(from)}/h or more, ${money(from - best.usdPerHour)}/h more than the answer; not simulated`
    }
    if (d > EPS) return `meets the SLOs with ${v.replicas} replica${v.replicas === 1 ? "" : "s"} but costs ${money(d)}/h more (+${fmt((100 * d) / best.usdPerHour)}%)${fewer}`
    const a = v.result?.usdPerMOutput ?? Number.NaN
    const b = best.result?.usdPerMOutput ?? Number.NaN
    return `same ${money(v.usdPerHour)}/h; loses the tie-break on $/1M output tokens (${fmt(a)} vs ${fmt(b)})`
  }
  const whyMisses = (v: (typeof verdicts)[number]): string => {
    const misses = v.result?.misses.map(formatMiss).join("; ") ?? "misses the SLOs"
    const more = best !== undefined && v.replicas < v.layout.maxReplicas ? "; more replicas would cost more than the answer" : ""
    return `${misses} with ${v.replicas} replica${v.replicas === 1 ? "" : "s"} (${v.numGpus} GPU${v.numGpus === 1 ? "" : "s"})${more}`
  }
  const whyPricier = (v: (typeof verdicts)[number]): string => {
    if (best === undefined) return "not simulated"
    const d = v.usdPerHour - best.usdPerHour
    return `one replica already costs ${money(v.usdPerHour)}/h, ${money(d)}/h more (+${fmt((100 * d) / best.usdPerHour)}%) than the answer; not simulated`
  }
  const rank = { meets: 0, misses: 1, pricier: 2 } as const
  const others: LayoutVerdict[] = verdicts
    .filter((v) => v !== winner)
    .sort((a, b) => rank[a.kind] - rank[b.kind] || a.usdPerHour - b.usdPerHour)
    .map((v) => ({ ...v, why: v.kind === "meets" ? whyMeets(v) : v.kind === "misses" ? whyMisses(v) : whyPricier(v) }))
  return { ...(best === undefined ? {} : { best }), others, probes: results.length }
}
