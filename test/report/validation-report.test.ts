// `servesim report` on a validate result and on a probe run directory: measured vs predicted (parity
// plot, signed-error strip, per-point error table); unknown inputs refused with one line and exit 2.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, test } from "vitest"
import { MANIFEST_FORMAT, type Manifest } from "../../src/probe/run-dir.ts"
import type { RequestRecord } from "../../src/probe/types.ts"
import { kvLineOf, reportProgram } from "../../src/cli/report.ts"
import { validateReport } from "../../src/cli/validate.ts"
import { buildValidationReport } from "../../src/report/build-report.ts"
import { escapeHtml } from "../../src/report/html.ts"
import { loadCurveRows, parseLoad } from "../../src/report/measured-vs-load-chart.ts"
import { parityDomain, parityRows } from "../../src/report/parity-chart.ts"
import { countLayerMarks } from "../../src/report/render-svg.ts"
import type { ValidationResult } from "../../src/report/validation-result.ts"
import { runCli } from "../cli/cli-helpers.ts"
import { failure } from "./effect-failure.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-vreport-"))


const svgOf = (html: string, id: string): string =>
  new RegExp(`<figure class="chart" id="chart-${id}"[\\s\\S]*?(<svg[\\s\\S]*?</svg>)`).exec(html)?.[1] ?? ""

/** A validate result with known numbers: two points, errors +25% / −10% (TTFT) and +5% / −2% (TPOT). */
const known: ValidationResult = {
  sources: ["bench/a.json", "bench/b.json"],
  engine: "vllm",
  profile: "defaults",
  points: 2,
  skipped: [{ source: "bench/c.json", reason: "model: unknown model \"x\"" }],
  medianAbsErrorPct: { ttft: { medianAbsPct: 17.5, n: 2 }, tpot: { medianAbsPct: 3.5, n: 2 } },
  rows: [
    {
      source: "bench/a.json",
      label: "c=4 <b>x</b>",
      model: "meta-llama/Llama-3.1-8B-Instruct",
      gpu: "h100-sxm",
      tp: 1,
      load: "c=4",
      isl: 1024,
      osl: 128,
      comparisons: [
        { metric: "ttft", measuredMs: 40, predictedMs: 50, errorPct: 25 },
        { metric: "tpot", measuredMs: 10, predictedMs: 10.5, errorPct: 5 },
      ],
    },
    {
      source: "bench/b.json",
      label: "c=16",
      model: "meta-llama/Llama-3.1-8B-Instruct",
      gpu: "h100-sxm",
      tp: 1,
      load: "c=16",
      isl: 1024,
      osl: 128,
      comparisons: [
        { metric: "ttft", measuredMs: 100, predictedMs: 90, errorPct: -10 },
        { metric: "tpot", measuredMs: 20, predictedMs: 19.6, errorPct: -2 },
      ],
    },
  ],
  warnings: [],
}

describe("report from a validate result", () => {
  test("parity plot, error strip and the per-point table carry every comparison", async () => {
    const path = join(dir, "validate.json")
    writeFileSync(path, JSON.stringify(known))
    const out = join(dir, "v.html")
    await Effect.runPromise(reportProgram(path, { out }))
    const html = readFileSync(out, "utf8")
    expect(html).not.toMatch(/<script|<link/)
    expect([...html.matchAll(/<figure class="chart" id="chart-([a-z-]+)"/g)].map((m) => m[1])).toEqual(["parity", "error-strip", "ttft-measured-vs-load", "tpot-measured-vs-load"])
    // One setting at two loads: a measured and a predicted line, a dot per measured point.
    expect(countLayerMarks(svgOf(html, "ttft-measured-vs-load"), "line")).toBe(2)
    expect(countLayerMarks(svgOf(html, "ttft-measured-vs-load"), "points")).toBe(2)
    expect(countLayerMarks(svgOf(html, "parity"), "points")).toBe(4)
    expect(countLayerMarks(svgOf(html, "parity"), "diagonal")).toBe(1)
    expect(countLayerMarks(svgOf(html, "error-strip"), "points")).toBe(4)
    expect(html).toContain("3 of 4 comparisons fall within ±20%")
    // The table: signed errors, the one beyond ±20% flagged; medians; the skipped source and its reason.
    expect(html).toContain('<td class="bad">+25.0%</td>')
    expect(html).toContain("<td>-10.0%</td>")
    expect(html).toContain("<td>TTFT</td><td>17.5%</td><td>2</td>")
    expect(html).toContain(escapeHtml('model: unknown model "x"'))
    expect(html).toContain(`<td class="label">${escapeHtml("c=4 <b>x</b>")}</td>`)
    expect(html).not.toContain("<b>x</b>")
  })

  test("every user string of a validate result is escaped; the page stays static", async () => {
    const EVIL = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
    const poisoned: ValidationResult = {
      ...known,
      sources: known.sources.map((s) => s + EVIL),
      profile: `p${EVIL}`,
      engine: `e${EVIL}`,
      skipped: [{ source: `s${EVIL}`, reason: `r${EVIL}` }],
      warnings: [`w${EVIL}`],
      rows: known.rows.map((r) => ({ ...r, label: r.label + EVIL, model: r.model + EVIL, gpu: r.gpu + EVIL, load: r.load + EVIL })),
    }
    const { html } = await buildValidationReport(poisoned, `title${EVIL}`)
    expect(html).not.toMatch(/<script|<img/i)
    const handlers = [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0].replace(/"[^"]*"/g, '""')).filter((t) => /\son[a-z]+\s*=/i.test(t))
    expect(handlers).toEqual([])
    expect(html).toContain(`<title>${escapeHtml(`title${EVIL}`)}</title>`)
    // sources ×2, profile, engine, skipped ×2, warning, 2 rows × (label, model, gpu, load) in the table, title ×2.
    expect(html.split("&lt;script&gt;").length - 1).toBeGreaterThanOrEqual(17)
  })

  test("both axes share one log range that holds every value", () => {
    const rows = parityRows(known)
    expect(rows).toHaveLength(4)
    const [lo, hi] = parityDomain(rows)
    expect(lo).toBeCloseTo(10 / 1.25, 12)
    expect(hi).toBeCloseTo(100 * 1.25, 12)
  })

  test("load curves: loads parsed from validate's text, only settings measured at two loads or more", () => {
    expect(parseLoad("c=16")).toEqual({ kind: "concurrency", value: 16 })
    expect(parseLoad("2.5 req/s")).toEqual({ kind: "rate", value: 2.5 })
    expect(parseLoad("burst")).toBeUndefined()
    const lone = { ...known.rows[0]!, gpu: "a800-sxm", label: "lone" }
    const rows = loadCurveRows({ ...known, rows: [...known.rows, lone, { ...known.rows[0]!, load: "burst" }] }, "ttft")
    expect(rows.map((r) => [r.load, r.source, r.ms])).toEqual([
      [4, "measured", 40],
      [4, "predicted", 50],
      [16, "measured", 100],
      [16, "predicted", 90],
    ])
    expect(rows[0]!.setting).toBe("Llama-3.1-8B-Instruct h100-sxm tp1 1024/128 concurrency")
  })

  test("a bad validate file fails with one line naming the field", async () => {
    const bad = join(dir, "bad-validate.json")
    const broken = JSON.parse(JSON.stringify(known)) as { rows: Array<{ comparisons: Array<{ errorPct: unknown }> }> }
    broken.rows[1]!.comparisons[0]!.errorPct = "big"
    writeFileSync(bad, JSON.stringify(broken))
    const msg = await failure(reportProgram(bad, { out: join(dir, "x.html") }))
    expect(msg).toContain("rows[1].comparisons[0].errorPct")
    expect(msg).not.toContain("\n")
    expect(await failure(reportProgram(bad.replace("bad-", ""), { out: join(dir, "x.html"), gpu: "h100-sxm" }))).toBe(
      "--gpu applies to a probe run directory, not to a validate result",
    )
  })
})

// A probe run of Llama-3.1-8B at concurrency 1 and 4: 6 requests each, 64 prompt tokens, 8 output
// tokens, TTFT 30 ms and 10 ms between tokens, requests back to back (enough for validate to simulate).
const writeRunDir = (root: string): string => {
  const run = join(root, "run")
  mkdirSync(join(run, "points"), { recursive: true })
  mkdirSync(join(run, "metrics"), { recursive: true })
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    createdAt: "2026-12-01T00:00:00.000Z",
    tool: { name: "servesim", version: "0.1.0", node: "v20", platform: "linux-x64" },
    plan: {
      url: "http://127.0.0.1:8000",
      model: "meta-llama/Llama-3.1-8B-Instruct",
      endpoint: "completions",
      mode: "concurrency",
      points: [
        { id: "concurrency-1", kind: "concurrency", concurrency: 1 },
        { id: "concurrency-4", kind: "concurrency", concurrency: 4 },
      ],
      isl: 64,
      osl: 8,
      numRequests: 6,
      warmup: 0,
      timeoutS: 10,
      seed: "0",
    },
    prompt: { overhead: 1, perWord: 1, words: 63, calibration: [] },
    server: { models: [{ id: "meta-llama/Llama-3.1-8B-Instruct" }], metricsAvailable: false },
    sessions: [{ session: 0, startedAt: "2026-12-01T00:00:00.000Z" }],
  }
  writeFileSync(join(run, "manifest.json"), JSON.stringify(manifest))
  const lines: string[] = []
  for (const [point, c] of [["concurrency-1", 1], ["concurrency-4", 4]] as const) {
    for (let i = 0; i < 6; i++) {
      const sentAt = 1_000_000 + Math.floor(i / c) * 200
      const chunks: Array<[number, number]> = Array.from({ length: 8 }, (_, k) => [30 + 10 * k, 1])
      const r: RequestRecord = {
        point,
        index: i,
        warmup: false,
        session: 0,
        intendedAt: sentAt,
        sentAt,
        firstTokenMs: 30,
        lastChunkMs: 100,
        endMs: 101,
        chunks,
        status: 200,
        ok: true,
        finishReason: "length",
        usage: { prompt_tokens: 64, completion_tokens: 8 },
        continuousUsage: true,
        done: true,
        promptTokensRequested: 64,
        promptWords: 63,
        maxTokens: 8,
      }
      lines.push(JSON.stringify(r))
    }
  }
  writeFileSync(join(run, "requests.jsonl"), `${lines.join("\n")}\n`)
  // /metrics samples of the first point only: KV usage 10%, 30%, 20% a second apart.
  const scrapes = [0.1, 0.3, 0.2].map((kvCacheUsage, i) => JSON.stringify({ point: "concurrency-1", session: 0, at: 1_000_000 + 1000 * i, kvCacheUsage }))
  writeFileSync(join(run, "metrics", "concurrency-1.jsonl"), `${scrapes.join("\n")}\n`)
  // The probe marked the second point lagged.
  writeFileSync(join(run, "points", "concurrency-4.summary.json"), JSON.stringify({ lag: { lagged: true, reason: "client lag <5> ms" } }))
  return run
}

describe("report from a probe run directory", () => {
  test("validates the run (measured vs predicted) and renders the same rows validate computes", async () => {
    const run = writeRunDir(dir)
    const out = join(dir, "run.html")
    await Effect.runPromise(reportProgram(run, { out, gpu: "h100-sxm" }))
    const html = readFileSync(out, "utf8")
    const v = await Effect.runPromise(validateReport([run], { engine: "all", harness: "auto", gpu: "h100-sxm" }))
    expect(v.rows).toHaveLength(2)
    expect(v.rows.map((r) => r.gpu)).toEqual(["h100-sxm", "h100-sxm"]) // the GPU given, as simulated
    expect(html).toContain(`<title>servesim probe run: ${escapeHtml(run)}, measured vs predicted</title>`)
    const comparisons = v.rows.flatMap((r) => r.comparisons)
    expect(countLayerMarks(svgOf(html, "parity"), "points")).toBe(comparisons.length)
    for (const r of v.rows) expect(html).toContain(`<td class="label">${escapeHtml(r.label)}`)
    // The measured TTFT is the records' 30 ms, whatever the prediction.
    const ttft = v.rows[0]!.comparisons.find((c) => c.metric === "ttft")!
    expect(ttft.measuredMs).toBeCloseTo(30, 6)
    const built = await buildValidationReport(v, "t")
    expect(built.charts.map((c) => c.pointCount).slice(0, 2)).toEqual([comparisons.length, comparisons.length])
    // The lagged point is flagged with the probe's reason, in the summary and the table.
    expect(v.rows.map((r) => r.lagged)).toEqual([undefined, "client lag <5> ms"])
    expect(html).toContain("1 of 2 points were marked lagged by the probe")
    expect(html).toContain(`<span class="badge miss" title="${escapeHtml("client lag <5> ms")}">lagged</span>`)
    // The measured KV plot: one line (the point with /metrics samples), peak 30%.
    expect(countLayerMarks(svgOf(html, "kv-measured"), "points")).toBe(1)
    expect(html).toContain("Peak 30.0%")
  })

  test("measured KV samples: seconds since the first sample, a scaled twin's in server time", () => {
    const s = [0.5, 0.25].map((kvCacheUsage, i) => ({ point: "p", session: 0, at: 5000 + 2000 * i, kvCacheUsage }))
    expect(kvLineOf("p", [...s, { point: "p", session: 0, at: 9000 }], 10)).toEqual({ label: "p", time: [0, 20], usage: [0.5, 0.25] })
  })

  test("the CLI refuses what it cannot report on with one line and exit 2", () => {
    const odd = join(dir, "odd.json")
    writeFileSync(odd, JSON.stringify({ format: "something-else" }))
    const empty = join(dir, "empty-dir")
    mkdirSync(empty)
    for (const [input, expected] of [
      [odd, `${odd}: not a sweep result (sweep --json --out), a validate result (validate --json/--out) or a probe run directory (format "something-else")`],
      [empty, `${empty}: a directory without manifest.json: not a sweep result`],
    ] as const) {
      const r = runCli(["report", input, "--out", join(dir, "never.html")])
      expect(r.status).toBe(2)
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
      expect(r.stderr).toContain(expected)
    }
  })
})
