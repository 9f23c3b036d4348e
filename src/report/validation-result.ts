// What `servesim validate --json/--out` writes (per measured point: predicted vs measured means), decoded
// so `servesim report validate.json` can refuse a bad file with one line naming the field. The shape is
// src/cli/validate.ts's report; src/cli/report.ts checks at compile time that the two agree.
import { Result, Schema } from "effect"
import { firstIssueLine } from "../scenario/schema-issue.ts"

const Num = Schema.Finite
const opt = Schema.optionalKey

const Metric = Schema.Literals(["ttft", "tpot", "e2el", "itl"])

const Comparison = Schema.Struct({ metric: Metric, measuredMs: Num, predictedMs: Num, errorPct: Num })

const Row = Schema.Struct({
  source: Schema.String,
  label: Schema.String,
  model: Schema.String,
  gpu: Schema.String,
  tp: Num,
  load: Schema.String,
  isl: Num,
  osl: Num,
  harness: opt(Schema.Literals(["fixed", "inferencex"])),
  comparisons: Schema.Array(Comparison),
  lagged: opt(Schema.String),
})

const Median = Schema.Struct({ medianAbsPct: Num, n: Num })

export const ValidationResultSchema = Schema.Struct({
  sources: Schema.Array(Schema.String),
  engine: Schema.String,
  profile: Schema.String,
  points: Num,
  skipped: Schema.Array(Schema.Struct({ source: Schema.String, reason: Schema.String })),
  medianAbsErrorPct: Schema.Struct({ ttft: opt(Median), tpot: opt(Median), e2el: opt(Median), itl: opt(Median) }),
  rows: Schema.Array(Row),
  warnings: Schema.Array(Schema.String),
})

export type ValidationResult = typeof ValidationResultSchema.Type
export type ValidationRow = ValidationResult["rows"][number]
export type ValidationMetric = typeof Metric.Type

/** Whether parsed JSON looks like a validate result at all (before decoding it field by field). */
export const looksLikeValidation = (u: unknown): boolean =>
  typeof u === "object" && u !== null && !Array.isArray(u) && "rows" in u && "medianAbsErrorPct" in u

/** Decodes a parsed validate result; the error is one line naming the first bad field. */
export const decodeValidationResult = (
  input: unknown,
  fileName: string,
): { readonly ok: true; readonly value: ValidationResult } | { readonly ok: false; readonly error: string } => {
  const result = Schema.decodeUnknownResult(ValidationResultSchema)(input)
  return Result.isSuccess(result) ? { ok: true, value: result.success } : { ok: false, error: firstIssueLine(result.failure, fileName) }
}
