// The report writes user strings (point and series ids, labels, model ids, GPU names, titles) into
// HTML text, attributes and inline SVG: every one is escaped, and the page stays static (no script).
import { describe, expect, test } from "vitest"
import type { SweepResult } from "../../src/econ/sweep-result.ts"
import { buildReport } from "../../src/report/build-report.ts"
import { escapeHtml } from "../../src/report/html.ts"
import { sampleSweepResult } from "../../src/report/sample-sweep.ts"

const EVIL = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`

/** Every occurrence of each user string, as a JSON string value, gets the payload (references stay consistent). */
const poisoned = (r: SweepResult): SweepResult => {
  let text = JSON.stringify(r)
  const names = new Set<string>([
    ...r.points.flatMap((p) => [p.id, p.label, p.series]),
    ...r.series.flatMap((s) => [s.id, s.label]),
    ...r.gpuCosts.map((g) => g.gpu),
    ...(r.quality?.rows.map((q) => q.model) ?? []),
    ...(r.title === undefined ? [] : [r.title]),
    ...(r.createdBy === undefined ? [] : [r.createdBy]),
  ])
  // Longest first, so a name that contains another is replaced whole.
  for (const n of [...names].sort((a, b) => b.length - a.length)) {
    text = text.split(JSON.stringify(n)).join(JSON.stringify(`${n}${EVIL}`))
  }
  return { ...(JSON.parse(text) as SweepResult), scenario: `scenario${EVIL}` }
}

describe("report escaping", () => {
  test("escapeHtml covers text and both attribute quotes", () => {
    expect(escapeHtml(EVIL)).toBe("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;")
  })

  test("ids and names with <script> are written as text, and the page has no script or event handler", async () => {
    const r = poisoned(sampleSweepResult())
    const { html } = await buildReport(r)
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/<img/i)
    // No tag carries an event-handler attribute (attribute values, quoted, are skipped).
    const handlers = [...html.matchAll(/<[a-zA-Z][^>]*>/g)].map((m) => m[0].replace(/"[^"]*"/g, '""')).filter((t) => /\son[a-z]+\s*=/i.test(t))
    expect(handlers).toEqual([])
    // The strings are there, escaped: in the title, the tables and the plots.
    expect(html).toContain(`<title>${escapeHtml(r.title!)}</title>`)
    const escaped = html.split("&lt;script&gt;alert(1)&lt;/script&gt;").length - 1
    expect(escaped).toBeGreaterThan(r.points.length)
    // Every point's id cell is escaped text.
    for (const p of r.points) expect(html).toContain(`<td>${escapeHtml(p.id)}</td>`)
  })
})
