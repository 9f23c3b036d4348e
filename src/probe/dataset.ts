// vllm bench's datasets in the probe (`--dataset-name random|sharegpt|prefix_repetition|custom`): the
// prompt and output length of every request of a point, warm-ups first. One list for the whole run, as
// vllm bench samples its dataset once per run (same seed, same requests at every point).
//
// - random (vllm/benchmarks/datasets/datasets.py RandomDataset): input and output lengths uniform
//   integers in [floor(L·(1−r)), ceil(L·(1+r))] (the bounds come from the flags' mapping,
//   src/cli/vllm-bench-flags.ts), after one shared prefix of --random-prefix-len tokens.
// - prefix_repetition (prefix_repetition.py): --prefix-repetition-num-prefixes prefixes, each sent by
//   an equal share of the requests, with a unique suffix; the requests shuffled.
// - sharegpt / custom: the file's prompt texts, sampled as the simulator samples their lengths
//   (src/sim/workload/vllm-datasets.ts sampleDatasetRequests), sent verbatim; output lengths are the
//   completion's (ShareGPT, tokens estimated as characters / 4) unless --sharegpt-output-len, or
//   --custom-output-len (custom, default 256).
// Filler prompts (random, prefix_repetition) are made of one-token words (prompt.ts); the shared
// prefix text is salted per run and point, so every point starts with a cold prefix cache.
import { createHash } from "node:crypto"
import { makeRng, shuffledIndices } from "../sim/workload/random.ts"
import { parseDatasetFile, sampleDatasetRequests } from "../sim/workload/vllm-datasets.ts"
import { makePrompt, wordCount, wordsForTokens } from "./prompt.ts"
import type { PromptModel } from "./prompt.ts"

/** Integer token lengths drawn uniformly in [min, max] (min = max: fixed). */
export interface LengthRange {
  readonly min: number
  readonly max: number
}

/** What --dataset-name asks for (manifest.plan.dataset). */
export type ProbeDatasetSpec =
  | { readonly name: "random"; readonly input: LengthRange; readonly output: LengthRange; readonly prefixLen: number }
  | {
    readonly name: "prefix_repetition"
    readonly prefixLen: number
    readonly suffixLen: number
    readonly numPrefixes: number
    readonly outputLen: number
  }
  | {
    readonly name: "sharegpt" | "custom"
    /** Absolute path of the file. */
    readonly path: string
    readonly outputLen?: number
    /** sha256 of the file's text: a resumed run refuses a file that changed. */
    readonly sha256: string
  }

/** One request of the dataset. */
export interface DatasetRequest {
  /** Prompt tokens (a file's: estimated as characters / 4), shared prefix included. */
  readonly input: number
  readonly output: number
  /** Tokens of the shared prefix it starts with, and which prefix (random: 0; prefix_repetition: 0..n-1). */
  readonly prefix?: { readonly group: number; readonly length: number }
  /** A file's prompt, sent as it is. */
  readonly text?: string
}

export interface ProbeDataset {
  readonly spec: ProbeDatasetSpec
  /** warm-up requests, then the measured ones. */
  readonly requests: ReadonlyArray<DatasetRequest>
}

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

const STREAM = "probe-dataset"

/**
 * The `count` requests of a dataset (warm-ups first), or a one-line reason. `fileText`: the contents of
 * a sharegpt/custom spec's file.
 */
export const datasetRequests = (
  spec: ProbeDatasetSpec,
  count: number,
  seed: string,
  fileText?: string
): DatasetRequest[] | string => {
  if (spec.name === "random") {
    const rng = makeRng(seed, STREAM)
    const prefix = spec.prefixLen > 0 ? { group: 0, length: spec.prefixLen } : undefined
    return Array.from({ length: count }, () => {
      const input = rng.int(spec.input.min, spec.input.max)
      const output = rng.int(spec.output.min, spec.output.max)
      return { input: spec.prefixLen + input, output, ...(prefix === undefined ? {} : { prefix }) }
    })
  }
  if (spec.name === "prefix_repetition") {
    const order = shuffledIndices(count, makeRng(seed, STREAM))
    return order.map((i) => ({
      input: spec.prefixLen + spec.suffixLen,
      output: spec.outputLen,
      prefix: { group: i % spec.numPrefixes, length: spec.prefixLen }
    }))
  }
  if (fileText === undefined) return `${spec.path}: the file was not read`
  const pairs = parseDatasetFile(spec.name, fileText)
  if (typeof pairs === "string") return pairs
  const sampled = sampleDatasetRequests(pairs, {
    seed,
    numRequests: count,
    kind: spec.name,
    ...(spec.outputLen === undefined ? {} : { outputLen: spec.outputLen })
  })
  if (typeof sampled === "string") return sampled
  return sampled.map((r) => ({ input: r.input, output: r.output, text: r.prompt }))
}

/** What one request sends. */
export interface DatasetPrompt {
  readonly prompt: string
  readonly promptTokensRequested: number
  readonly promptWords: number
  readonly maxTokens: number
}

/**
 * The prompt of a request: a file's text, or filler words of its length after its prefix's text
 * (`salt`: the run and the point; `key`: the request).
 */
export const datasetPrompt = (r: DatasetRequest, model: PromptModel, salt: string, key: string): DatasetPrompt => {
  if (r.text !== undefined) return { prompt: r.text, promptTokensRequested: r.input, promptWords: wordCount(r.text), maxTokens: r.output }
  const words = wordsForTokens(model, r.input)
  if (r.prefix === undefined) return { prompt: makePrompt(words, key), promptTokensRequested: r.input, promptWords: words, maxTokens: r.output }
  const prefixWords = Math.max(1, Math.round(r.prefix.length / model.perWord))
  const rest = Math.max(1, words - prefixWords)
  return {
    prompt: `${makePrompt(prefixWords, `${salt}:prefix:${r.prefix.group}`)} ${makePrompt(rest, key)}`,
    promptTokensRequested: r.input,
    promptWords: prefixWords + rest,
    maxTokens: r.output
  }
}

/** Mean prompt and output tokens of the measured requests (the plan's nominal isl/osl). */
export const datasetMeans = (d: ProbeDataset, warmup: number): { readonly isl: number; readonly osl: number; readonly longest: number } => {
  const measured = d.requests.slice(warmup)
  const n = Math.max(1, measured.length)
  return {
    isl: Math.max(1, Math.round(measured.reduce((a, r) => a + r.input, 0) / n)),
    osl: Math.max(1, Math.round(measured.reduce((a, r) => a + r.output, 0) / n)),
    longest: d.requests.reduce((a, r) => Math.max(a, r.input + r.output), 0)
  }
}

/** How messages and summaries name the dataset: "sharegpt (/path/file.json)", "random 900–1100/128". */
export const datasetLabel = (s: ProbeDatasetSpec): string => {
  const range = (r: LengthRange) => (r.min === r.max ? String(r.min) : `${r.min}–${r.max}`)
  if (s.name === "random") return `random ${range(s.input)}/${range(s.output)}${s.prefixLen > 0 ? ` after a ${s.prefixLen}-token prefix` : ""}`
  if (s.name === "prefix_repetition") return `prefix_repetition ${s.numPrefixes} × ${s.prefixLen}-token prefixes + ${s.suffixLen}/${s.outputLen}`
  return `${s.name} ${s.path}`
}
