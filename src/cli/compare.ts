// `servesim compare [A.json B.json …] [--policy fcfs --policy spf | --router a --router b] --seeds N`:
// two or more variants of a scenario simulated on the same seeds — seed i gives every variant the same
// arrivals and lengths (src/sim/workload/random.ts draws them from streams keyed by the seed alone) —
// and, per metric, the paired t-test of each variant against the first (src/econ/compare.ts).
import { Command } from "commander"
import { Console, Effect } from "effect"
import { availableParallelism } from "node:os"
import { basename, extname } from "node:path"
import { COMPARE_ALPHA, compareVariants, formatP, type Comparison, type MetricComparison } from "../econ/compare.ts"
import type { BenchMetrics } from "../econ/point.ts"
import { builtinRouters } from "../sim/router.ts"
import { resolveScenario, type ResolvedScenario } from "../scenario/resolve.ts"
import { InputError } from "../scenario/errors.ts"
import { flagsToScenario, workloadKindOverride, type ScenarioFlags } from "./flags.ts"
import { defaultScenarioPath } from "./load-scenario.ts"
import { runCommand } from "./run-effect.ts"
import { decodeScenario, mergeScenario, readScenarioFile } from "../scenario/schema.ts"
import {
  addScalarScenarioFlags,
  nonNegativeFlag,
  positiveIntFlag,
  progressReporter,
  scalarScenarioFlags,
  sloFrom,
  writeText,
} from "./sweep.ts"
import { seedList } from "../sweep/plan.ts"
import { makeSimPool } from "../sweep/pool.ts"
import { withSloGoodput } from "../sweep/sweep-scenario.ts"
import type { SimTask } from "../sweep/worker.ts"

interface CompareFlags extends Omit<ScenarioFlags, "policy" | "router"> {
  policy?: string[]
  router?: string[]
  seeds?: string
  slo?: string
  workers?: string
  json?: boolean
  out?: string
  quiet?: boolean
}

const OWN_FLAGS = ["policy", "router", "seeds", "slo", "workers", "json", "out", "quiet"]
const DEFAULT_SEEDS = 10
const LEVEL = 0.95

interface Variant {
  readonly label: string
  /** What varies: the policy, the router, or the scenario file. */
  readonly kind: "policy" | "router" | "scenario"
  readonly source: string
  readonly scenario: Record<string, unknown>
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/** Labels made unique ("fcfs", "fcfs#2") so a variant compared with itself stays readable. */
const uniqueLabels = (labels: ReadonlyArray<string>): string[] => {
  const seen = new Map<string, number>()
  return labels.map((l) => {
    const k = (seen.get(l) ?? 0) + 1
    seen.set(l, k)
    return k === 1 ? l : `${l}#${k}`
  })
}

const labelOfPath = (p: string): string => basename(p, extname(p))

const variantsOf = (files: ReadonlyArray<string>, flags: CompareFlags) =>
  Effect.gen(function* () {
    const policies = flags.policy ?? []
    const routers = flags.router ?? []
    const axes = [files.length >= 2, policies.length >= 2, routers.length >= 2].filter(Boolean).length
    if (axes === 0)
      return yield* new InputError({ message: "compare needs two or more variants: --policy fcfs --policy spf, --router A --router B, or two scenario files" })
    if (axes > 1)
      return yield* new InputError({ message: "compare varies one thing at a time: two or more scenario files, --policy values or --router values, not several of these" })
    for (const r of routers)
      if (builtinRouters[r] === undefined) return yield* new InputError({ message: `--router: unknown router "${r}" (${Object.keys(builtinRouters).join(", ")})` })

    const scalar = scalarScenarioFlags(flags as Record<string, unknown>, OWN_FLAGS)
    const slo = flags.slo === undefined ? undefined : yield* sloFrom(flags.slo, "--slo")
    const scenarioOf = (raw: Record<string, unknown>, policy: string | undefined, router: string | undefined): Record<string, unknown> => {
      const { sweep: _sweep, ...fileScenario } = raw
      const merged = mergeScenario(workloadKindOverride(fileScenario, scalar), flagsToScenario({ ...scalar, policy, router }))
      return slo === undefined ? merged : withSloGoodput(merged, slo)
    }
    // A single --policy or --router applies to every variant.
    const onePolicy = policies.length === 1 ? policies[0] : undefined
    const oneRouter = routers.length === 1 ? routers[0] : undefined
    const out: Variant[] = []
    if (files.length >= 2) {
      const labels = uniqueLabels(files.map(labelOfPath))
      for (const [i, f] of files.entries())
        out.push({ label: labels[i] ?? f, kind: "scenario", source: f, scenario: scenarioOf(yield* readScenarioFile(f), onePolicy, oneRouter) })
      return out
    }
    const file = files[0] ?? defaultScenarioPath
    const raw = yield* readScenarioFile(file)
    const values = policies.length >= 2 ? policies : routers
    const kind = policies.length >= 2 ? "policy" : "router"
    const labels = uniqueLabels(values.map((v) => (/\.(ts|js|mjs)$/.test(v) ? labelOfPath(v) : v)))
    for (const [i, v] of values.entries())
      out.push({
        label: labels[i] ?? v,
        kind,
        source: files[0] ?? "scenarios/default.json",
        scenario: kind === "policy" ? scenarioOf(raw, v, oneRouter) : scenarioOf(raw, onePolicy, v),
      })
    return out
  })

/** Every variant's runs share the seed's request set: the input-token totals agree seed by seed. */
const sameWorkload = (runs: ReadonlyArray<ReadonlyArray<BenchMetrics>>): boolean => {
  const first = runs[0] ?? []
  return runs.every((rs) => rs.every((r, i) => r.total_input_tokens === first[i]?.total_input_tokens && r.completed === first[i]?.completed))
}

export const COMPARE_FORMAT = "servesim-compare"
const TEST_NAME = "paired t-test (two-sided; Student t with n − 1 df over the per-seed differences variant − baseline)"

const program = (files: ReadonlyArray<string>, flags: CompareFlags) =>
  Effect.gen(function* () {
    const seeds = (yield* positiveIntFlag("--seeds", flags.seeds)) ?? DEFAULT_SEEDS
    if (seeds < 2)
      return yield* new InputError({ message: `--seeds ${seeds}: a paired comparison needs at least 2 seeds (the spread of the differences comes from them)` })
    const workers = (yield* nonNegativeFlag("--workers", flags.workers)) ?? availableParallelism()
    if (!Number.isInteger(workers)) return yield* new InputError({ message: `--workers: "${flags.workers}" is not an integer` })
    const variants = yield* variantsOf(files, flags)

    // Check every variant before simulating (one line for a bad scenario, policy or router use).
    const resolved: ResolvedScenario[] = []
    for (const v of variants) {
      const r = yield* resolveScenario(yield* decodeScenario(v.scenario, v.source))
      if (v.kind === "router" && (r.scenario.replicas ?? 1) < 2)
        return yield* new InputError({ message: `--router ${v.label}: routers only differ with several replicas; give --replicas N (N ≥ 2)` })
      resolved.push(r)
    }
    // The first variant's seeds for all, so scenario files with different `seed` fields still pair.
    const seedValues = seedList(resolved[0]?.scenario.seed, seeds)
    const tasks: SimTask[] = []
    for (const v of variants) for (const seed of seedValues) tasks.push({ id: tasks.length, scenario: v.scenario, seed, timelineInterval: 0 })

    const quiet = flags.quiet === true
    if (!quiet) yield* Effect.sync(() => process.stderr.write(`compare: ${variants.length} variants × ${seeds} seeds = ${tasks.length} runs\n`))
    const bar = progressReporter("compare", tasks.length)
    const pool = yield* makeSimPool(workers)
    const results = yield* pool.run(tasks, quiet ? undefined : bar.tick)
    if (!quiet) bar.end()

    const runs = variants.map((_, i) => results.slice(i * seeds, (i + 1) * seeds).map((r) => r.run.metrics))
    const compared = compareVariants(
      variants.map((v, i) => ({ label: v.label, runs: runs[i] ?? [] })),
      LEVEL,
    )
    if (!compared.ok) return yield* new InputError({ message: compared.error })
    const shared = sameWorkload(runs)
    const report = {
      format: COMPARE_FORMAT,
      version: 1,
      createdBy: `servesim ${process.argv.slice(2).join(" ")}`,
      test: TEST_NAME,
      level: LEVEL,
      alpha: COMPARE_ALPHA,
      seeds: seedValues,
      variants: variants.map((v) => ({ label: v.label, kind: v.kind, source: v.source })),
      sameWorkload: shared,
      comparisons: compared.value.map((c) => ({
        ...c,
        // ±Infinity (no spread, non-zero difference) has no JSON form.
        metrics: c.metrics.map((m) => ({ ...m, test: { ...m.test, t: Number.isFinite(m.test.t) ? m.test.t : null } })),
      })),
    }
    const json = `${JSON.stringify(report, null, 2)}\n`
    if (flags.out !== undefined) yield* writeText(flags.out, json)
    if (flags.json === true) yield* Console.log(json.trimEnd())
    else yield* Console.log(formatCompare(compared.value, variants, seedValues, shared))
  })

// ---------------------------------------------------------------------------------------------------
// Output

const num = (x: number): string => {
  if (!Number.isFinite(x)) return "–"
  if (x === 0) return "0"
  return Math.abs(x) >= 1000 ? x.toFixed(0) : Number(x.toPrecision(3)).toString()
}

const pct = (m: MetricComparison): string => (m.relative === undefined ? "" : ` (${m.relative >= 0 ? "+" : ""}${(100 * m.relative).toFixed(1)}%)`)

const formatCompare = (
  comparisons: ReadonlyArray<Comparison>,
  variants: ReadonlyArray<Variant>,
  seeds: ReadonlyArray<number | string>,
  shared: boolean,
): string => {
  const lines: string[] = []
  const base = variants[0]?.label ?? ""
  lines.push(`compare: ${variants.map((v, i) => (i === 0 ? `${v.label} (baseline)` : v.label)).join(" vs ")} on ${seeds.length} seeds (${seeds[0]}…${seeds[seeds.length - 1]})`)
  lines.push(`test: ${TEST_NAME}; ${100 * LEVEL}% CI of the mean difference; significant at p < ${COMPARE_ALPHA}`)
  lines.push(
    shared
      ? "workloads: every variant served the same requests on each seed (equal input-token totals)"
      : "workloads: the variants' request sets differ on some seed (their scenarios change the workload): the differences include that change",
  )
  for (const c of comparisons) {
    lines.push("")
    lines.push(`${c.variant} vs ${base}`)
    const head = ["metric".padEnd(22), base.padStart(10), c.variant.padStart(10), "difference".padStart(20), "95% CI".padStart(22), "p".padStart(9)]
    lines.push(head.join(" "))
    for (const m of c.metrics) {
      const unit = m.unit === "ms" ? "ms" : m.unit
      lines.push(
        [
          `${m.label} ${unit}`.padEnd(22),
          num(m.baselineMean).padStart(10),
          num(m.variantMean).padStart(10),
          `${num(m.test.meanDiff)}${pct(m)}`.padStart(20),
          `[${num(m.test.ciLow)}, ${num(m.test.ciHigh)}]`.padStart(22),
          (m.test.p < 0.001 ? "<0.001" : formatP(m.test.p).replace("p = ", "")).padStart(9),
        ].join(" "),
      )
    }
    lines.push("verdict:")
    for (const m of c.metrics) if (m.headline) lines.push(`  ${m.verdict}`)
  }
  return lines.join("\n")
}

export const register = (cli: Command): void => {
  const cmd = cli
    .command("compare")
    .description(
      "compare two or more policies, routers or scenario files on the same seeded workloads: per metric the paired differences over seeds, their 95% CI and a paired t-test p-value, and a verdict line per headline metric",
    )
    .argument("[scenarios...]", "scenario files to compare (two or more), or one base scenario for --policy/--router variants; default scenarios/default.json")
    .showHelpAfterError(false)
  addScalarScenarioFlags(cmd, new Set(["--policy", "--router"]))
  cmd
    .option("--policy <name|module>", "a scheduling policy to compare (repeat: --policy fcfs --policy spf; fcfs, priority, spf or a .ts/.js module); the first is the baseline", collect)
    .option("--router <name>", `a replica router to compare (repeat; ${Object.keys(builtinRouters).join(", ")}); needs --replicas ≥ 2`, collect)
    .option("--seeds <n>", `paired seeds, at least 2 (default ${DEFAULT_SEEDS}); seed i is the scenario's seed + i, the same for every variant`)
    .option("--slo <spec>", "SLOs that define goodput, e.g. ttft:1000,tpot:50 (adds a goodput comparison)")
    .option("--workers <n>", "worker threads (default: CPU count; 0 = run in this thread)")
    .option("--json", "print the comparison as JSON")
    .option("--out <file>", "write the comparison JSON")
    .option("--quiet", "no progress on stderr")
    .addHelpText(
      "after",
      `
The test is the paired t-test: for each metric and seed, d = variant − baseline; mean d, the ${100 * LEVEL}% CI
mean d ± t(0.975, n−1)·sd(d)/√n and the two-sided p-value from Student's t with n − 1 degrees of freedom
(computed exactly, through the regularized incomplete beta function). Each metric is tested on its own
(no correction for testing several). Same seed ⇒ same arrivals and lengths for every variant.`,
    )
    .action((files: string[], flags: CompareFlags) => runCommand(Effect.scoped(program(files, flags))))
}
