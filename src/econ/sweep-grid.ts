// The grid of `servesim sweep`: list-valued axes (loads and configurations), their cartesian product,
// and how one grid point is written into a plain scenario object. Also the prompt-cache-share what-if
// (a share of each prompt mapped onto a shared prefix). Pure: plain data in, plain data out.
import type { ParseResult } from "./pareto.ts"
import { parsePdUnit } from "./search.ts"
import { meanLength, sharegptInput, sharegptOutput, type LengthDist } from "../sim/workload/lengths.ts"
import { isRecord } from "../format/json.ts"

export type AxisValue = string | number

/** Every axis the sweep can vary, in grid order (outermost first); the load axis comes last. */
export const AXIS_KEYS = [
  "model",
  "gpu",
  "precision",
  "kvCacheDtype",
  "tp",
  "pp",
  "replicas",
  "disagg",
  "maxNumSeqs",
  "maxNumBatchedTokens",
  "oslMultiplier",
  "prefixShare",
  "specTokens",
  "specAcceptance",
  "concurrency",
  "rate",
] as const

export type AxisKey = (typeof AXIS_KEYS)[number]

type ValueKind =
  | { readonly kind: "int" }
  | { readonly kind: "positive" }
  | { readonly kind: "fraction"; readonly below1: boolean }
  | { readonly kind: "string" }
  | { readonly kind: "choice"; readonly choices: ReadonlyArray<string> }
  | { readonly kind: "pd" }

interface AxisDef {
  readonly key: AxisKey
  /** The command-line flag that sets it. */
  readonly flag: string
  readonly value: ValueKind
  /** Where the value goes in a scenario object. */
  readonly path: ReadonlyArray<string>
}

const INT: ValueKind = { kind: "int" }

export const AXES: Readonly<Record<AxisKey, AxisDef>> = {
  model: { key: "model", flag: "--model", value: { kind: "string" }, path: ["model"] },
  gpu: { key: "gpu", flag: "--gpu", value: { kind: "string" }, path: ["gpu"] },
  precision: {
    key: "precision",
    flag: "--precision",
    value: { kind: "choice", choices: ["bf16", "fp16", "fp8", "fp4", "int4"] },
    path: ["precision"],
  },
  kvCacheDtype: { key: "kvCacheDtype", flag: "--kv-cache-dtype", value: { kind: "choice", choices: ["auto", "fp8"] }, path: ["kvCacheDtype"] },
  tp: { key: "tp", flag: "--tp", value: INT, path: ["tp"] },
  pp: { key: "pp", flag: "--pp", value: INT, path: ["pp"] },
  replicas: { key: "replicas", flag: "--replicas", value: INT, path: ["replicas"] },
  /** "agg" (aggregated) or a P/D unit prefill:decode such as 1xtp4:1xtp4. */
  disagg: { key: "disagg", flag: "--disagg", value: { kind: "pd" }, path: ["disaggregation"] },
  maxNumSeqs: { key: "maxNumSeqs", flag: "--max-num-seqs", value: INT, path: ["engine", "maxNumSeqs"] },
  maxNumBatchedTokens: { key: "maxNumBatchedTokens", flag: "--max-num-batched-tokens", value: INT, path: ["engine", "maxNumBatchedTokens"] },
  oslMultiplier: { key: "oslMultiplier", flag: "--osl-multiplier", value: { kind: "positive" }, path: ["workload", "oslMultiplier"] },
  prefixShare: { key: "prefixShare", flag: "--prefix-share", value: { kind: "fraction", below1: true }, path: ["workload", "prefixShare"] },
  specTokens: { key: "specTokens", flag: "--spec-tokens", value: INT, path: ["speculative", "numTokens"] },
  specAcceptance: { key: "specAcceptance", flag: "--spec-acceptance", value: { kind: "fraction", below1: false }, path: ["speculative", "acceptance"] },
  concurrency: { key: "concurrency", flag: "--concurrency", value: INT, path: ["workload", "concurrency"] },
  rate: { key: "rate", flag: "--rate", value: { kind: "positive" }, path: ["workload", "rate"] },
}

export const LOAD_AXES: ReadonlyArray<AxisKey> = ["concurrency", "rate"]

export interface GridAxis {
  readonly key: AxisKey
  readonly values: ReadonlyArray<AxisValue>
}


const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

const parseOne = (v: ValueKind, text: string): ParseResult<AxisValue> => {
  const ok = (value: AxisValue): ParseResult<AxisValue> => ({ ok: true, value })
  const bad = (error: string): ParseResult<AxisValue> => ({ ok: false, error })
  const n = Number(text)
  switch (v.kind) {
    case "string":
      return text === "" ? bad("expected a non-empty value") : ok(text)
    case "choice":
      return v.choices.includes(text) ? ok(text) : bad(`"${text}" is not one of ${v.choices.join(", ")}`)
    case "int":
      return /^\d+$/.test(text) && Number.isSafeInteger(n) && n >= 1 ? ok(n) : bad(`"${text}" is not a positive integer`)
    case "positive":
      return NUMBER.test(text) && n > 0 && Number.isFinite(n) ? ok(n) : bad(`"${text}" is not a number > 0`)
    case "fraction":
      return NUMBER.test(text) && n >= 0 && (v.below1 ? n < 1 : n <= 1) ? ok(n) : bad(`"${text}" is not a number in [0, ${v.below1 ? "1)" : "1]"}`)
    case "pd":
      return text === AGGREGATED || parsePdUnit(text) !== undefined ? ok(text) : bad(`"${text}" is not ${AGGREGATED} or prefill:decode pools like 1xtp4:1xtp4`)
  }
}

/**
 * Parses one axis list: "8,16,32" (or a JSON array of the same values, from a scenario's sweep block).
 * `where` names the flag or field in errors. Values must be distinct.
 */
export const parseAxis = (key: AxisKey, raw: string | ReadonlyArray<AxisValue>, where: string = AXES[key].flag): ParseResult<GridAxis> => {
  const def = AXES[key]
  const texts = typeof raw === "string" ? raw.split(",").map((s) => s.trim()) : raw.map((x) => String(x).trim())
  if (texts.length === 0 || (texts.length === 1 && texts[0] === "")) return { ok: false, error: `${where}: expected a comma-separated list, got nothing` }
  const values: AxisValue[] = []
  for (const t of texts) {
    const v = parseOne(def.value, t)
    if (!v.ok) return { ok: false, error: `${where}: ${v.error}` }
    if (values.includes(v.value)) return { ok: false, error: `${where}: ${t} is listed twice` }
    values.push(v.value)
  }
  return { ok: true, value: { key, values } }
}

/** Axes in grid order (AXIS_KEYS order), so the load varies fastest and each series is contiguous. */
export const orderAxes = (axes: ReadonlyArray<GridAxis>): GridAxis[] =>
  [...axes].sort((a, b) => AXIS_KEYS.indexOf(a.key) - AXIS_KEYS.indexOf(b.key))

/** One grid point: a value per axis, in axis order. */
export type GridPoint = ReadonlyArray<readonly [AxisKey, AxisValue]>

/** The cartesian product of the axes, first axis outermost (varies slowest). No axes → one empty point. */
export const expandGrid = (axes: ReadonlyArray<GridAxis>): GridPoint[] => {
  let out: Array<Array<readonly [AxisKey, AxisValue]>> = [[]]
  for (const axis of axes) {
    const next: Array<Array<readonly [AxisKey, AxisValue]>> = []
    for (const prefix of out) for (const v of axis.values) next.push([...prefix, [axis.key, v] as const])
    out = next
  }
  return out
}


/** A copy of `obj` with `value` at `path` (objects along the path are copied, not shared). */
const setPath = (obj: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): Record<string, unknown> => {
  const [head, ...rest] = path
  if (head === undefined) return obj
  if (rest.length === 0) return { ...obj, [head]: value }
  const child = obj[head]
  return { ...obj, [head]: setPath(isRecord(child) ? child : {}, rest, value) }
}

const withoutKeys = (obj: Record<string, unknown>, keys: ReadonlyArray<string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(obj).filter(([k]) => !keys.includes(k)))

/** Workload fields that name another kind of load than the one a load axis sets. */
const OTHER_LOAD_KEYS: Readonly<Record<"concurrency" | "rate" | "capped", ReadonlyArray<string>>> = {
  concurrency: ["rate", "burstiness", "stages", "arrival", "file", "trace"],
  rate: ["concurrency", "stages", "arrival", "file", "trace"],
  // A point with both: arrivals at the rate, the concurrency a cap on them (vllm bench --request-rate with --max-concurrency).
  capped: ["stages", "arrival", "file", "trace"],
}

/** The disagg axis value of an aggregated deployment. */
export const AGGREGATED = "agg"

/** A scenario with the P/D pools of a disagg axis value ("agg": none), keeping the scenario's link. */
const withDisaggregation = (s: Record<string, unknown>, value: string): Record<string, unknown> => {
  const { disaggregation: pd, ...rest } = s
  const unit = parsePdUnit(value)
  if (unit === undefined) return rest
  const kvTransfer = isRecord(pd) ? pd.kvTransfer : undefined
  return { ...rest, disaggregation: { prefill: unit.prefill, decode: unit.decode, ...(kvTransfer !== undefined ? { kvTransfer } : {}) } }
}

/** The scenario object of one grid point: `base` with each axis value written at its path. */
export const applyPoint = (base: Readonly<Record<string, unknown>>, point: GridPoint): Record<string, unknown> => {
  let out: Record<string, unknown> = { ...base }
  const capped = point.some(([k]) => k === "rate") && point.some(([k]) => k === "concurrency")
  for (const [key, value] of point) {
    if (key === "disagg") {
      out = withDisaggregation(out, String(value))
      continue
    }
    if (key === "concurrency" || key === "rate" || key === "prefixShare") {
      const wl = isRecord(out.workload) ? out.workload : {}
      const drop = key === "prefixShare" ? ["prefix"] : OTHER_LOAD_KEYS[capped ? "capped" : key]
      out = { ...out, workload: withoutKeys(wl, drop) }
    }
    out = setPath(out, AXES[key].path, value)
  }
  return out
}

const num = (x: unknown, fallback: number): number => (typeof x === "number" && Number.isFinite(x) ? x : fallback)

/** GPUs a scenario object occupies: tp × pp × replicas (defaults 1), over both pools when disaggregated. */
export const gpuCountOf = (scenario: Readonly<Record<string, unknown>>): number => {
  const pd = scenario.disaggregation
  if (isRecord(pd) && isRecord(pd.prefill) && isRecord(pd.decode)) {
    const pool = (p: Record<string, unknown>) => num(p.tp, num(scenario.tp, 1)) * num(scenario.pp, 1) * num(p.replicas, 1)
    return pool(pd.prefill) + pool(pd.decode)
  }
  return num(scenario.tp, 1) * num(scenario.pp, 1) * num(scenario.replicas, 1)
}

/** Short "key=value" label of a point's non-load axes, in axis order. */
export const pointLabel = (point: GridPoint): string =>
  point
    .filter(([k]) => !LOAD_AXES.includes(k))
    .map(([k, v]) => `${k}=${v}`)
    .join(" ")

// ---- what-if: prompt-cache share ----

/** A length distribution scaled by `factor` (every length × factor, at least 1 token). */
export const scaleLength = (dist: LengthDist, factor: number): LengthDist => {
  const d = dist.kind === "preset" ? (dist.name === "sharegpt-input" ? sharegptInput : sharegptOutput) : dist
  const s = (x: number) => x * factor
  switch (d.kind) {
    case "preset":
      return d
    case "fixed":
      return { kind: "fixed", value: Math.max(1, Math.round(s(d.value))) }
    case "uniform": {
      const lo = Math.max(1, Math.round(s(d.min)))
      return { kind: "uniform", min: lo, max: Math.max(lo, Math.round(s(d.max))) }
    }
    case "normal":
    case "lognormal":
      return {
        ...d,
        mean: s(d.mean),
        sd: s(d.sd),
        ...(d.min !== undefined ? { min: Math.max(1, s(d.min)) } : {}),
        ...(d.max !== undefined ? { max: Math.max(1, s(d.max)) } : {}),
      }
    case "empirical":
      return { ...d, values: d.values.map((v) => Math.max(1, s(v))) }
  }
}

export interface PrefixShareSplit {
  /** The unique part of each prompt: the input distribution scaled by (1 − share). */
  readonly input: LengthDist
  /** The shared prefix: share × mean prompt length, one of `numGroups` prefixes per request. */
  readonly prefix: { readonly numGroups: number; readonly length: number }
}

/**
 * Maps "a fraction `share` of prompt tokens is shared" onto the synthetic workload's prefix
 * (vllm bench --random-prefix-len style): the prefix is round(share × mean input) tokens and the
 * sampled part shrinks by (1 − share), so the mean prompt length stays the same and only the shared
 * fraction changes. Undefined when the share rounds to no prefix token.
 */
export const prefixShareSplit = (input: LengthDist, share: number, numGroups = 1): PrefixShareSplit | undefined => {
  const length = Math.round(share * meanLength(input))
  if (!(share > 0) || length < 1) return undefined
  return { input: scaleLength(input, 1 - share), prefix: { numGroups, length } }
}
