// Opens the report in headless Chromium and checks that every plot rendered with a nonzero size and
// visible marks. Skipped, with the reason, when Chromium is not installed; fails instead when CI=true
// (.ci/run installs it: apt-get install -y chromium).
import { spawnSync } from "node:child_process"
import { mkdtempSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, test } from "vitest"
import { buildReport, buildValidationReport } from "../../src/report/build-report.ts"
import { sampleSweepResult } from "../../src/report/sample-sweep.ts"
import type { ValidationResult } from "../../src/report/validation-result.ts"

const CANDIDATES = [process.env.CHROMIUM_BIN, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]

const findChromium = (): string | undefined => {
  for (const c of CANDIDATES) {
    if (c === undefined || c === "") continue
    const r = spawnSync(c, ["--version"], { encoding: "utf8", timeout: 30_000 })
    if (r.status === 0) return c
  }
  return undefined
}

// Measures each plot inside the page and writes the result into the DOM for --dump-dom.
const MEASURE = `<script>
const out = [...document.querySelectorAll("figure.chart")].map((f) => {
  const svg = f.querySelector("svg")
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 }
  const marks = svg ? [...svg.querySelectorAll("g.role-mark > *")] : []
  const visible = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0 }).length
  return { id: f.dataset.chart, width: box.width, height: box.height, marks: marks.length, visible }
})
const pre = document.createElement("pre")
pre.id = "measure"
pre.textContent = JSON.stringify(out)
document.body.appendChild(pre)
</script>`

interface Measured {
  readonly id: string
  readonly width: number
  readonly height: number
  readonly marks: number
  readonly visible: number
}

const chromiumArgs = (profile: string) => [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--hide-scrollbars",
  `--user-data-dir=${profile}`,
]

const skipWithoutChromium = (ctx: { skip: (reason: string) => void }): string | undefined => {
  const chromium = findChromium()
  if (chromium !== undefined) return chromium
  if (process.env.CI === "true") throw new Error("chromium not found on CI: install it with apt-get install -y chromium")
  const reason = "chromium not installed (apt-get install -y chromium); this test fails instead when CI=true"
  console.warn(`SKIPPED browser test: ${reason}`)
  ctx.skip(reason)
  return undefined
}

/** Loads the page with the measuring script and returns what it measured per figure. */
const measurePage = (chromium: string, dir: string, html: string): Measured[] => {
  const probe = join(dir, "probe.html")
  writeFileSync(probe, html.replace("</body>", `${MEASURE}\n</body>`))
  const dump = spawnSync(
    chromium,
    [...chromiumArgs(join(dir, "profile-a")), "--virtual-time-budget=10000", "--dump-dom", pathToFileURL(probe).href],
    { encoding: "utf8", timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  )
  expect(dump.status, dump.stderr).toBe(0)
  const m = /<pre id="measure">([\s\S]*?)<\/pre>/.exec(dump.stdout)
  expect(m, "measurement script did not run").not.toBeNull()
  const text = (m?.[1] ?? "[]").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")
  return JSON.parse(text) as Measured[]
}

const expectVisible = (measured: ReadonlyArray<Measured>, ids: ReadonlyArray<string>): void => {
  expect(measured.map((x) => x.id)).toEqual(ids)
  for (const x of measured) {
    expect(x.width, x.id).toBeGreaterThan(200)
    expect(x.height, x.id).toBeGreaterThan(100)
    expect(x.marks, x.id).toBeGreaterThan(0)
    expect(x.visible, x.id).toBeGreaterThan(0)
  }
}

describe("report in a browser", () => {
  test("headless Chromium renders every plot with nonzero size and visible marks", async (ctx) => {
    const chromium = skipWithoutChromium(ctx)
    if (chromium === undefined) return
    const dir = mkdtempSync(join(tmpdir(), "servesim-browser-"))
    const report = await buildReport(sampleSweepResult())
    const page = join(dir, "report.html")
    writeFileSync(page, report.html)
    expectVisible(measurePage(chromium, dir, report.html), report.charts.map((c) => c.id))

    // A screenshot of the real page (no probe script) for people to look at.
    const png = join(dir, "report.png")
    const shot = spawnSync(
      chromium,
      [...chromiumArgs(join(dir, "profile-b")), "--window-size=1280,2400", `--screenshot=${png}`, pathToFileURL(page).href],
      { encoding: "utf8", timeout: 120_000 },
    )
    expect(shot.status, shot.stderr).toBe(0)
    expect(statSync(png).size).toBeGreaterThan(50_000)
    console.log(`report screenshot: ${png}`)
  })

  test("the measured-vs-predicted page renders its plots too", async (ctx) => {
    const chromium = skipWithoutChromium(ctx)
    if (chromium === undefined) return
    const dir = mkdtempSync(join(tmpdir(), "servesim-browser-v-"))
    const row = (label: string, k: number) => ({
      source: `s${k}`,
      label,
      model: "meta-llama/Llama-3.1-8B-Instruct",
      gpu: "h100-sxm",
      tp: 1,
      load: `c=${k}`,
      isl: 512,
      osl: 128,
      comparisons: [
        { metric: "ttft" as const, measuredMs: 30 * k, predictedMs: 33 * k, errorPct: 10 },
        { metric: "tpot" as const, measuredMs: 8 + k, predictedMs: 7.5 + k, errorPct: (-0.5 / (8 + k)) * 100 },
      ],
    })
    const v: ValidationResult = {
      sources: ["bench.json"],
      engine: "vllm",
      profile: "defaults",
      points: 3,
      skipped: [],
      medianAbsErrorPct: { ttft: { medianAbsPct: 10, n: 3 }, tpot: { medianAbsPct: 5, n: 3 } },
      rows: [row("c=1", 1), row("c=4", 4), row("c=16", 16)],
      warnings: [],
    }
    const report = await buildValidationReport(v, "validation")
    expectVisible(measurePage(chromium, dir, report.html), report.charts.map((c) => c.id))
  })
})
