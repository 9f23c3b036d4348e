// `servesim validate <folder>`: the benchmark-folder form (actuals.csv + scenarios/), printed as a
// signed per-experiment/stage table and median |error| per model and overall.
import { Console, Effect } from "effect"
import { FOLDER_METRICS, validateFolder, type FolderRow, type MedianTable } from "../calibrate/benchmark-folder.ts"
import { writeJson } from "./simulate.ts"

const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${x.toFixed(1)}` : "-")

const align = (all: ReadonlyArray<ReadonlyArray<string>>, leftCols: number): string => {
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  return all.map((r) => r.map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n")
}

const rowTable = (rows: ReadonlyArray<FolderRow>): string =>
  align(
    [
      ["experiment", "stage", ...FOLDER_METRICS.map((m) => `${m} err%`), "e2e_mean act/pred ms", "itl act/pred ms"],
      ...rows.map((r) => [
        r.experiment,
        r.stage === -1 ? "all" : String(r.stage),
        ...FOLDER_METRICS.map((m) => signed(r.errorPct[m])),
        `${r.actual.e2e_mean.toFixed(0)}/${r.predicted.e2e_mean.toFixed(0)}`,
        `${r.actual.itl_mean.toFixed(2)}/${r.predicted.itl_mean.toFixed(2)}`,
      ]),
    ],
    1,
  )

const medianTables = (overall: MedianTable, byModel: Readonly<Record<string, MedianTable>>): string =>
  align(
    [
      ["median |error| %", "rows", ...FOLDER_METRICS],
      ...Object.entries(byModel).map(([m, t]) => [m.split("/").pop() ?? m, String(t.e2e_mean.n), ...FOLDER_METRICS.map((k) => t[k].medianAbsPct.toFixed(1))]),
      ["overall", String(overall.e2e_mean.n), ...FOLDER_METRICS.map((k) => overall[k].medianAbsPct.toFixed(1))],
    ],
    1,
  )

export const validateFolderProgram = (folder: string, flags: { readonly json?: boolean; readonly out?: string }) =>
  Effect.gen(function* () {
    const report = yield* validateFolder(folder)
    if (flags.out !== undefined) yield* writeJson(flags.out, report)
    if (flags.json === true) {
      yield* Console.log(JSON.stringify(report, null, 2))
      return
    }
    yield* Console.log(rowTable(report.rows))
    yield* Console.log("")
    yield* Console.log(medianTables(report.overall, report.byModel))
    yield* Console.log("")
    yield* Console.log(`${report.rows.length} experiment/stage rows (stage "all" = whole run); signed error = (pred − actual)/actual`)
    yield* Console.log("itl_mean as the benchmark computes it: (E2E mean − TTFT mean)/(mean counted output tokens − 1); counted = generated × the client's re-tokenisation fraction (Llama-2/CodeLlama tokenizer: 195/247, others 1)")
    if (report.duplicatesDropped > 0) yield* Console.log(`${report.duplicatesDropped} repeated actuals rows (same experiment and stage) counted once`)
    for (const u of report.unmatched) yield* Console.log(`not compared: ${u}`)
  })
