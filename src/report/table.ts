// The compact human-readable form of a simulation result (what `simulate` prints without --json).
import type { RunCost } from "../econ/run-cost.ts"
import type { LatencyMetric } from "../sim/bench-summary.ts"
import type { DisaggregationSummary, PoolSummary, SimSummary } from "../sim/summary.ts"

const fmt = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "-")

const pad = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)))
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n")
}

export const formatSummaryTable = (s: SimSummary & { readonly cost?: RunCost }, title: string): string => {
  const cfg = (s.config ?? {}) as Record<string, unknown>
  const lines: string[] = []
  lines.push(`${title}`)
  const describe = [
    `${String(cfg.model ?? "?")} on ${String(cfg.replicas ?? 1)}× ${String(cfg.tp ?? 1) === "1" ? "" : `TP${String(cfg.tp)} `}${String(cfg.gpu ?? "?")} (${String(cfg.precision ?? "")})`,
    `max_num_seqs ${String(cfg.max_num_seqs)}, max_num_batched_tokens ${String(cfg.max_num_batched_tokens)}, num_gpu_blocks ${String(cfg.num_gpu_blocks)} (${String(cfg.num_gpu_blocks_source ?? "")}), ${cfg.async_scheduling === true ? "async" : "sync"} scheduling, step time: ${String(cfg.step_time_model)}`,
  ]
  const pd = cfg.disaggregation as Record<string, Record<string, unknown>> | undefined
  if (pd !== undefined) {
    // P/D: say what each pool is instead of the prefill pool alone.
    const pool = (name: string, p: Record<string, unknown> | undefined) =>
      `${name} ${String(p?.replicas)}× ${String(p?.tp) === "1" ? "" : `TP${String(p?.tp)} `}${String(p?.gpu)} (max_num_seqs ${String(p?.max_num_seqs)}, num_gpu_blocks ${String(p?.num_gpu_blocks)})`
    const link = pd.kv_transfer
    describe.splice(
      0,
      2,
      `${String(cfg.model ?? "?")} (${String(cfg.precision ?? "")}), P/D disaggregated: ${pool("prefill", pd.prefill)} + ${pool("decode", pd.decode)}`,
      `KV transfer: ${String(link?.connector)} link ${String(link?.bandwidth_gbps)} GB/s shared, ${String(link?.latency_ms)} ms per transfer; ${cfg.async_scheduling === true ? "async" : "sync"} scheduling, step time: ${String(cfg.step_time_model)}`,
    )
  }
  lines.push(...describe.map((d) => `  ${d}`))
  for (const n of (cfg.notes as ReadonlyArray<string> | undefined) ?? []) lines.push(`  note: ${n}`)
  lines.push("")
  lines.push(
    pad([
      ["requests", "completed", "failed", "duration s", "req/s", "out tok/s", "total tok/s"],
      [
        String(s.requests_generated),
        String(s.completed),
        String(s.failed),
        fmt(s.duration),
        fmt(s.request_throughput, 3),
        fmt(s.output_throughput, 1),
        fmt(s.total_token_throughput, 1),
      ],
    ]),
  )
  lines.push("")
  // With no completed request there is no latency to show (the statistics are 0 only by convention).
  const latency = (x: number): string => (s.completed === 0 ? "-" : fmt(x))
  const metricRow = (label: string, key: LatencyMetric): string[] => [
    label,
    latency(s[`mean_${key}_ms`]),
    latency(s[`median_${key}_ms`]),
    latency(s[`p90_${key}_ms`]),
    latency(s[`p99_${key}_ms`]),
  ]
  lines.push(
    pad([
      ["latency (ms)", "mean", "median", "p90", "p99"],
      metricRow("TTFT", "ttft"),
      metricRow("TPOT", "tpot"),
      metricRow("ITL", "itl"),
      metricRow("E2E", "e2el"),
    ]),
  )
  lines.push("")
  const extra = [
    `queue time mean ${fmt(s.mean_queue_time_ms)} ms`,
    `batch mean ${fmt(s.mean_batch_size, 1)} (max ${s.max_batch_size})`,
    `KV usage mean ${fmt(100 * s.mean_kv_cache_usage, 1)}% (max ${fmt(100 * s.max_kv_cache_usage, 1)}%)`,
    `preemptions ${s.num_preemptions}`,
    `prefix cache hit rate ${fmt(100 * s.prefix_cache_hit_rate, 1)}%`,
  ]
  if (s.request_goodput !== undefined) extra.push(`goodput ${fmt(s.request_goodput, 3)} req/s`)
  lines.push(`  ${extra.join(" · ")}`)
  if (s.disaggregation !== undefined) lines.push(...disaggregationLines(s.disaggregation))
  const offload = s.kv_offload
  if (offload !== undefined)
    lines.push(
      `  KV offload: ${offload.cpu_blocks} CPU blocks, ${offload.loaded_tokens} tokens loaded back instead of recomputed, ${offload.stored_blocks} blocks stored, ${offload.evicted_blocks} evicted · prefill tokens computed ${s.prefill_tokens_computed}`,
    )
  const cost = s.cost
  if (cost !== undefined) {
    lines.push(
      `  cost at $${fmt(cost.gpuHourUsd, 3)}/GPU-h × ${cost.numGpus} GPU: $${fmt(cost.usdPerMInput, 4)}/1M input, $${fmt(cost.usdPerMOutput, 4)}/1M output, $${cost.usdPerRequest.toPrecision(3)}/request, $${cost.runCostUsd.toPrecision(3)} for the run`,
    )
    for (const a of cost.api) lines.push(`  vs ${a.provider}: self-hosted costs ${fmt(a.costRatio, 2)}× the API price for this request set`)
  }
  const rejected = s.rejected as Record<string, number> | undefined
  if (rejected !== undefined) for (const [reason, n] of Object.entries(rejected)) lines.push(`  rejected ${n}: ${reason}`)
  const stages = s.stages as ReadonlyArray<Record<string, number>> | undefined
  if (stages !== undefined) {
    lines.push("")
    lines.push(
      pad([
        ["stage", "completed", "req/s", "TTFT mean", "TPOT mean", "E2E mean"],
        ...stages.map((st) => [
          String(st.stage),
          String(st.completed),
          fmt(st.request_throughput ?? Number.NaN, 3),
          fmt(st.mean_ttft_ms ?? Number.NaN),
          fmt(st.mean_tpot_ms ?? Number.NaN),
          fmt(st.mean_e2el_ms ?? Number.NaN),
        ]),
      ]),
    )
  }
  return lines.join("\n")
}

/** Per-pool and link lines of a P/D-disaggregated run. */
const disaggregationLines = (d: DisaggregationSummary): string[] => {
  const pool = (name: string, p: PoolSummary): string =>
    `  ${name}: busy ${fmt(p.engine_busy_time, 1)} s · batch mean ${fmt(p.mean_batch_size, 1)} (max ${p.max_batch_size}) · KV usage mean ${fmt(100 * p.mean_kv_cache_usage, 1)}% (max ${fmt(100 * p.max_kv_cache_usage, 1)}%) · preemptions ${p.num_preemptions} · prefill tokens ${p.prefill_tokens_computed}`
  const l = d.kv_transfer
  return [
    pool("prefill pool", d.prefill),
    pool("decode pool", d.decode),
    `  KV link: ${l.num_transfers} transfers, ${fmt(l.mean_bytes / 2 ** 20, 1)} MiB mean · wait mean ${fmt(l.mean_link_wait_ms)} ms (max ${fmt(l.max_link_wait_ms)}) · utilization ${fmt(100 * l.link_utilization, 1)}% · prefill phase mean ${fmt(l.mean_prefill_phase_ms)} ms`,
  ]
}
