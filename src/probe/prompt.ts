// Prompts of a requested token length without a tokenizer: random sequences of common English words
// that are one token each in the usual BPE vocabularies (" the", " of", ...). Random order keeps
// prompts distinct so vLLM's prefix cache does not turn the sweep into cache hits. The server's
// usage.prompt_tokens is the truth: the runner fits tokens ≈ overhead + perWord·words from two
// calibration requests and every record keeps the real count. Pure and seeded.
import seedrandom from "seedrandom"

export const FILLER_WORDS: ReadonlyArray<string> = [
  " the", " of", " and", " to", " in", " is", " that", " for", " it", " as", " was", " with", " be",
  " by", " on", " not", " he", " this", " are", " or", " his", " from", " at", " which", " but",
  " have", " an", " had", " they", " you", " were", " their", " one", " all", " we", " can", " her",
  " has", " there", " been", " if", " more", " when", " will", " would", " who", " so", " no"
]

/** `words` filler words in a seeded random order. */
export const makePrompt = (words: number, seed: string): string => {
  const rng = seedrandom.alea(seed)
  const parts: string[] = []
  for (let i = 0; i < words; i++) parts.push(FILLER_WORDS[Math.floor(rng() * FILLER_WORDS.length)]!)
  // Drop the leading space of the first word: prompts then start like ordinary text.
  return parts.join("").replace(/^ /, "")
}

/** tokens ≈ overhead + perWord · words (chat templates and BOS make the overhead). */
export interface PromptModel {
  readonly overhead: number
  readonly perWord: number
}

export const IDENTITY_PROMPT_MODEL: PromptModel = { overhead: 0, perWord: 1 }

/** Fits the line through two (words, tokens) observations; falls back to a pure offset. */
export const fitPromptModel = (a: { words: number; tokens: number }, b: { words: number; tokens: number }): PromptModel => {
  if (a.words === b.words) return { overhead: a.tokens - a.words, perWord: 1 }
  const perWord = (b.tokens - a.tokens) / (b.words - a.words)
  if (!Number.isFinite(perWord) || perWord <= 0.2 || perWord > 5) return { overhead: a.tokens - a.words, perWord: 1 }
  return { overhead: a.tokens - perWord * a.words, perWord }
}

/** Words to send for `tokens` prompt tokens (at least 1). */
export const wordsForTokens = (model: PromptModel, tokens: number): number =>
  Math.max(1, Math.round((tokens - model.overhead) / model.perWord))

/** Whitespace-separated words of a prompt (what the record keeps beside the requested tokens). */
export const wordCount = (text: string): number => {
  const m = text.match(/\S+/g)
  return m === null ? 0 : m.length
}
