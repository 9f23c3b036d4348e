// The twin has no tokenizer. Prompt tokens are a deterministic word-piece approximation of the text,
// chosen so that common English words are one token each (as in BPE vocabularies):
//   - a run of letters (with combining marks) is one token per 8 characters ("the" = 1, "internationalization" = 3),
//   - a Han, Hiragana, Katakana or Hangul character is one token,
//   - a run of digits is one token per 3 digits ("2026" = 2),
//   - every other non-space character (punctuation, symbols, emoji) is one token,
//   - whitespace belongs to the token after it (" the" is one token); trailing whitespace is one token.
// A prompt given as token ids (a list of integers) counts exactly its length.
// Chat prompts are rendered through a fixed template: 1 BOS token, then for each message a role
// token, the content tokens and an end-of-message token, then 2 tokens of assistant generation prompt
// (prompt_tokens = 3 + Σ (content tokens + 2)). The count is what the engine is given and what
// `usage.prompt_tokens` reports.
//
// Output text is placeholder words, one token each under the rule above, so a client that re-counts
// the text with the same approximation gets usage.completion_tokens.

const CJK = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}"
const TOKEN_RE = new RegExp(`\\s*(?:[${CJK}]|(?:(?![${CJK}])[\\p{L}\\p{M}]){1,8}|\\p{N}{1,3}|[^\\s\\p{L}\\p{M}\\p{N}])|\\s+$`, "gu")

/** Token strings of a text under the approximation (their count is the prompt length). */
export const tokenizeText = (text: string): string[] => text.match(TOKEN_RE) ?? []

export const countTextTokens = (text: string): number => tokenizeText(text).length

export interface ChatMessage {
  readonly role: string
  readonly content: string
}

/** Template tokens around each message and at the ends. */
export const CHAT_BOS = "<s>"
export const CHAT_GENERATION_PROMPT: ReadonlyArray<string> = ["<|assistant|>", "\n"]

/** Token strings of a chat conversation rendered through the twin's fixed template. */
export const tokenizeChat = (messages: ReadonlyArray<ChatMessage>): string[] => {
  const out: string[] = [CHAT_BOS]
  for (const m of messages) {
    out.push(`<|${m.role}|>`)
    for (const t of tokenizeText(m.content)) out.push(t)
    out.push("<|end|>")
  }
  for (const t of CHAT_GENERATION_PROMPT) out.push(t)
  return out
}

/** Placeholder output words: each is a single token (a space and ≤ 8 letters). */
export const OUTPUT_WORDS: ReadonlyArray<string> = [
  " lorem", " ipsum", " dolor", " sit", " amet", " consec", " adipis", " elit", " sed", " do", " eiusmod", " tempor",
  " incidid", " ut", " labore", " et", " dolore", " magna", " aliqua", " enim", " ad", " minim", " veniam", " quis",
]

/** Text of output token `j` (0-based) of a request; the EOS token of a "stop" finish is "". */
export const outputToken = (j: number): string => OUTPUT_WORDS[j % OUTPUT_WORDS.length]!

/** A stable placeholder id for output token `j` (for return_token_ids). */
export const outputTokenId = (j: number): number => 1000 + (j % OUTPUT_WORDS.length)

/** A placeholder id for a prompt token string (for return_token_ids): FNV-1a folded into [3, 50000). */
export const promptTokenId = (token: string): number => 3 + (fnv1a(token, 0x811c9dc5) % 49997)

const fnv1a = (s: string, seed: number): number => {
  let h = seed >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/**
 * vLLM's prefix-cache hash chain over full blocks: block k's identity is a hash of every token in
 * blocks 0..k. Returns one 64-bit (two 32-bit halves) key string per full block, at most `maxBlocks`.
 */
export const blockHashChain = (tokens: ReadonlyArray<string>, blockSize: number, maxBlocks: number): string[] => {
  const out: string[] = []
  let h1 = 0x811c9dc5
  let h2 = 0x01234567
  const full = Math.min(Math.floor(tokens.length / blockSize), maxBlocks)
  for (let b = 0; b < full; b++) {
    for (let i = b * blockSize; i < (b + 1) * blockSize; i++) {
      const t = tokens[i]!
      h1 = fnv1a(t, h1 ^ 0x9e3779b9)
      h2 = fnv1a(t, (h2 + 0x7f4a7c15) >>> 0)
      // a separator so ["ab","c"] and ["a","bc"] differ
      h1 = Math.imul(h1 ^ 0x1f, 0x01000193) >>> 0
      h2 = Math.imul(h2 ^ 0x2f, 0x01000193) >>> 0
    }
    out.push(`${h1.toString(36)}.${h2.toString(36)}`)
  }
  return out
}
