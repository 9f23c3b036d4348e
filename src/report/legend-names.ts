// Legend names that stay whole: the words every series label shares ("h100-sxm", the model id) move
// into the legend title once, and each entry keeps only what tells it apart. Nothing is truncated or
// replaced by an id. Pure.

export interface LegendNames {
  /** The words all labels share, in order ("" when none or only one label). */
  readonly shared: string
  /** label → its distinguishing words (the whole label when it has none of its own). */
  readonly names: ReadonlyMap<string, string>
  /** Length of the longest name, for the legend layout. */
  readonly longest: number
}

export const legendNames = (labels: ReadonlyArray<string>): LegendNames => {
  const unique = [...new Set(labels)]
  const words = unique.map((l) => l.split(" ").filter((w) => w !== ""))
  const first = words[0] ?? []
  const shared = unique.length < 2 ? [] : first.filter((w) => /[\p{L}\p{N}]/u.test(w) && words.every((ws) => ws.includes(w)))
  const names = new Map<string, string>()
  unique.forEach((label, i) => {
    const own = (words[i] ?? []).filter((w) => !shared.includes(w)).join(" ")
    names.set(label, own === "" ? label : own)
  })
  // Shortening must leave every entry words of its own and keep the entries apart; else full labels.
  const distinct = [...names].every(([label, own]) => own !== label || shared.length === 0) && new Set(names.values()).size === unique.length
  const final = distinct ? names : new Map(unique.map((l) => [l, l]))
  return {
    shared: distinct ? shared.join(" ") : "",
    names: final,
    longest: Math.max(0, ...[...final.values()].map((n) => n.length)),
  }
}

/** "configuration (h100-sxm meta-llama/Llama-3.1-8B-Instruct)" or just "configuration". */
export const legendTitle = (what: string, n: LegendNames): string => (n.shared === "" ? what : `${what}: ${n.shared}`)
