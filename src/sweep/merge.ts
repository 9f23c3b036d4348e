// `servesim merge`: joins the part files of a sharded sweep (shard.ts) into the runs of the whole
// sweep, in canonical order, so the analysis (plan.ts) gives exactly what the unsharded sweep gives.
// Refuses parts of different sweeps (fingerprints differ), a shard given twice, a missing shard, a run
// present in two parts, and a part missing runs of its slice. Pure.
import type { ParseResult } from "../econ/pareto.ts"
import { planRunCount, type SweepPlan, type TaskRun } from "./plan.ts"
import { shardRunIndices, type SweepPart } from "./shard.ts"

export interface NamedPart {
  /** File name, for messages. */
  readonly name: string
  readonly part: SweepPart
}

export interface MergedSweep {
  readonly plan: SweepPlan
  readonly fingerprint: string
  /** runs[k] is run k of the canonical order. */
  readonly runs: ReadonlyArray<TaskRun>
}

const short = (fingerprint: string): string => fingerprint.slice(0, 12)

export const mergeParts = (parts: ReadonlyArray<NamedPart>): ParseResult<MergedSweep> => {
  const first = parts[0]
  if (first === undefined) return { ok: false, error: "merge needs the part files of a sharded sweep (servesim sweep --shard i/n --out part-i.json)" }
  const { count } = first.part.shard
  const byIndex = new Map<number, string>()
  for (const { name, part } of parts) {
    if (part.fingerprint !== first.part.fingerprint)
      return { ok: false, error: `${name} is a shard of a different sweep than ${first.name} (fingerprint ${short(part.fingerprint)}… vs ${short(first.part.fingerprint)}…)` }
    if (part.shard.count !== count)
      return { ok: false, error: `${name} is shard ${part.shard.index}/${part.shard.count} but ${first.name} is one of ${count} shards: the parts split the sweep differently` }
    const seen = byIndex.get(part.shard.index)
    if (seen !== undefined) return { ok: false, error: `shard ${part.shard.index}/${count} given twice: ${seen} and ${name}` }
    byIndex.set(part.shard.index, name)
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i))
  if (missing.length > 0)
    return { ok: false, error: `missing shard${missing.length === 1 ? "" : "s"} ${missing.map((i) => `${i}/${count}`).join(", ")} (got ${parts.length} of ${count} parts)` }

  const plan = first.part.plan
  const total = planRunCount(plan)
  const runs = new Array<TaskRun | undefined>(total)
  const owner = new Array<string | undefined>(total)
  for (const { name, part } of parts) {
    if (part.totalRuns !== total) return { ok: false, error: `${name}: totalRuns ${part.totalRuns} but its plan has ${total} runs` }
    for (const r of part.runs) {
      if (r.task >= total) return { ok: false, error: `${name}: run ${r.task} is outside the sweep's ${total} runs` }
      const other = owner[r.task]
      if (other !== undefined) return { ok: false, error: `run ${r.task} is in both ${other} and ${name}: the parts overlap` }
      if (r.task % count !== part.shard.index)
        return { ok: false, error: `${name}: run ${r.task} belongs to shard ${r.task % count}/${count}, not to this part's ${part.shard.index}/${count}: the parts overlap` }
      owner[r.task] = name
      runs[r.task] = { run: r.run, extras: r.extras }
    }
    const absent = shardRunIndices(total, part.shard).filter((k) => runs[k] === undefined)
    if (absent.length > 0) return { ok: false, error: `${name}: ${absent.length} of its runs are missing (run ${absent[0]} first): an incomplete part` }
  }
  const complete: TaskRun[] = []
  for (const r of runs) if (r !== undefined) complete.push(r)
  return { ok: true, value: { plan, fingerprint: first.part.fingerprint, runs: complete } }
}
