// Dataset files of `vllm bench serve --dataset-name sharegpt|custom --dataset-path FILE`, turned into
// per-request (prompt tokens, output tokens) in vllm's order. Pure: text in, lengths out.
//
// Token counts: vllm tokenizes each text with the model's tokenizer. servesim has no tokenizer, so a
// text of C characters counts as ceil(C / CHARS_PER_TOKEN) tokens — 4 characters per token, OpenAI's
// rule of thumb for English with BPE vocabularies (Llama-3's 128k vocabulary averages ~4.2 on English
// prose; code and non-Latin scripts run fewer characters per token, so their prompts come out short).
import { makeRng, shuffledIndices } from "./random.ts"

export const CHARS_PER_TOKEN = 4

/** Estimated token count of a text (at least 1). */
export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN))

export interface SampledLengths {
  readonly input: number[]
  readonly output: number[]
}

/** A prompt/completion pair of a dataset file, as texts. */
export interface TextPair {
  readonly prompt: string
  /** The reference completion (ShareGPT) or a given output length (custom JSONL's output_tokens). */
  readonly completion: string | number | undefined
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/**
 * ShareGPT JSON: a list of {conversations: [{from, value}, ...]}. vllm keeps entries with at least two
 * turns and takes turn 0's value as the prompt, turn 1's as the completion
 * (vllm/benchmarks/datasets/sharegpt.py load_data/sample). Returns the pairs or a one-line reason.
 */
export const parseShareGpt = (text: string): TextPair[] | string => {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    return `not valid JSON: ${e instanceof Error ? e.message : String(e)}`
  }
  if (!Array.isArray(raw)) return "expected a JSON list of {conversations: [{from, value}, ...]} entries (the ShareGPT format)"
  const out: TextPair[] = []
  for (let i = 0; i < raw.length; i++) {
    const entry: unknown = raw[i]
    if (!isRecord(entry)) return `entry ${i}: expected an object with a conversations list`
    const conv = entry.conversations
    if (conv === undefined) continue // vllm skips entries without conversations
    if (!Array.isArray(conv)) return `entry ${i}: conversations is not a list`
    if (conv.length < 2) continue
    const [a, b] = conv as unknown[]
    if (!isRecord(a) || typeof a.value !== "string") return `entry ${i}: conversations[0].value is not a string`
    if (!isRecord(b) || typeof b.value !== "string") return `entry ${i}: conversations[1].value is not a string`
    out.push({ prompt: a.value, completion: b.value })
  }
  if (out.length === 0) return "no entry has two or more conversation turns"
  return out
}

/**
 * vllm's custom JSONL: one {"prompt": "..."} object per line (vllm/benchmarks/datasets/custom.py). An
 * optional "output_tokens" (positive integer) on a line sets that request's output length (a servesim
 * extension; vllm uses --custom-output-len for all).
 */
export const parseCustomJsonl = (text: string): TextPair[] | string => {
  const out: TextPair[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === "") continue
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch (e) {
      return `line ${i + 1}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`
    }
    if (!isRecord(row) || typeof row.prompt !== "string") return `line ${i + 1}: expected an object with a "prompt" string`
    const ot = row.output_tokens
    if (ot !== undefined && !(typeof ot === "number" && Number.isSafeInteger(ot) && ot >= 1)) return `line ${i + 1}: output_tokens must be a positive integer`
    out.push({ prompt: row.prompt, completion: ot as number | undefined })
  }
  if (out.length === 0) return 'no lines (expected one {"prompt": ...} object per line)'
  return out
}

/** vllm's is_valid_sequence (vllm/benchmarks/datasets/datasets.py): the ShareGPT pruning rule. */
export const isValidSequence = (promptLen: number, outputLen: number, skipMinOutputLenCheck: boolean): boolean =>
  !(promptLen < 4 || (!skipMinOutputLenCheck && outputLen < 4) || promptLen > 1024 || promptLen + outputLen > 2048)

export interface SampleOptions {
  readonly seed: string | number
  readonly numRequests: number
  /** --sharegpt-output-len / --custom-output-len: every request's output length. */
  readonly outputLen?: number
  /** "sharegpt" prunes with is_valid_sequence; "custom" keeps every line. */
  readonly kind: "sharegpt" | "custom"
}

/** The parser of a dataset file by vllm's --dataset-name. */
export const parseDatasetFile = (name: "sharegpt" | "custom", text: string): TextPair[] | string =>
  name === "sharegpt" ? parseShareGpt(text) : parseCustomJsonl(text)

/** One sampled request: the prompt text as the file has it, and its (estimated) token lengths. */
export interface SampledRequest {
  readonly prompt: string
  readonly input: number
  readonly output: number
}

/**
 * vllm's sampling: shuffle the entries with the seed, take them in order (ShareGPT: skipping invalid
 * ones) until numRequests, then oversample — random picks with replacement — when the file has too few
 * (maybe_oversample_requests). vllm shuffles with Python's `random`; this uses servesim's seeded stream,
 * so the same seed picks other entries than vllm does, from the same file and by the same rule.
 * The probe sends these prompts; the simulator uses their lengths (sampleDataset).
 */
export const sampleDatasetRequests = (pairs: ReadonlyArray<TextPair>, o: SampleOptions): SampledRequest[] | string => {
  const rng = makeRng(o.seed, "dataset-sample")
  const order = shuffledIndices(pairs.length, rng)
  const out: SampledRequest[] = []
  for (const idx of order) {
    if (out.length >= o.numRequests) break
    const p = pairs[idx]!
    const promptLen = estimateTokens(p.prompt)
    const given = typeof p.completion === "number" ? p.completion : undefined
    const outLen = o.outputLen ?? given ?? (typeof p.completion === "string" ? estimateTokens(p.completion) : 256)
    if (o.kind === "sharegpt" && !isValidSequence(promptLen, outLen, o.outputLen !== undefined)) continue
    out.push({ prompt: p.prompt, input: promptLen, output: outLen })
  }
  if (out.length === 0) return "no entry passes vllm's length filter (prompt 4–1024 tokens, prompt + output ≤ 2048; tokens estimated as characters / 4)"
  const have = out.length
  for (let k = have; k < o.numRequests; k++) out.push(out[rng.int(0, have - 1)]!)
  return out
}

/** The sampled requests' lengths (what the simulator needs). */
export const sampleDataset = (pairs: ReadonlyArray<TextPair>, o: SampleOptions): SampledLengths | string => {
  const requests = sampleDatasetRequests(pairs, o)
  if (typeof requests === "string") return requests
  return { input: requests.map((r) => r.input), output: requests.map((r) => r.output) }
}
