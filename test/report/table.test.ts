// The terminal table of one simulation: the counts row and the latency rows.
import { describe, expect, it } from "vitest"
import { formatSummaryTable } from "../../src/report/table.ts"
import { simulate } from "../../src/sim/simulate.ts"
import { summarize } from "../../src/sim/summary.ts"
import { engineConfig, linearStepTime, listWorkload, request, spec } from "../sim/helpers.ts"

const table = (reqs: ReturnType<typeof request>[]) =>
  formatSummaryTable(summarize(simulate(spec({ stepTime: linearStepTime(0.01, 1e-5), engine: engineConfig({ maxModelLen: 1000 }), workload: listWorkload(reqs) }))), "t")

const row = (text: string, first: string): string[] => text.split("\n").find((l) => l.trimStart().startsWith(first))!.trim().split(/\s+/)

describe("formatSummaryTable", () => {
  it("the requests column counts every request generated; completed + failed add up to it", () => {
    const t = table([request(0, 100, 10), request(0, 100, 10), request(0, 2000, 10)])
    const counts = t.split("\n")[t.split("\n").findIndex((l) => l.startsWith("requests")) + 1]!.trim().split(/\s+/)
    expect(counts.slice(0, 3)).toEqual(["3", "2", "1"])
  })

  it("with no completed request the latencies are '-', not 0.00", () => {
    const t = table([request(0, 2000, 10)])
    expect(row(t, "TTFT")).toEqual(["TTFT", "-", "-", "-", "-"])
    expect(row(t, "E2E")).toEqual(["E2E", "-", "-", "-", "-"])
  })
})
