// Injected failures (--fail-rate, --error-chunk-rate, --drop-rate, --stall-rate/--stall-ms): each
// request index misbehaves exactly as misbehaviourFor(seed, index) says, the client sees vLLM's
// formats (500 body, error chunk inside HTTP 200, a cut connection, a pause then coalesced tokens),
// and /metrics counts errors and aborts.
import { describe, expect, it } from "vitest"
import { parseErrorBody, makeSseParser, makeStreamAccumulator, type StreamTally } from "../../src/probe/sse.ts"
import { parseVllmMetrics } from "../../src/probe/metrics-parser.ts"
import { zeroOverheads, type BatchShape } from "../../src/hw/types.ts"
import { chunkIndexAt, misbehaviourFor, noMisbehaviour, type MisbehaviourRates } from "../../src/serve/misbehaviour.ts"
import { startTwin, type Twin } from "../../src/serve/twin.ts"

const MODEL = "m"
const OSL = 10

const start = (misbehaviour: Partial<MisbehaviourRates>, seed: string | number = 11, timeScale = 100): Promise<Twin> =>
  startTwin({
    engine: { maxNumSeqs: 16, maxNumBatchedTokens: 2048, maxModelLen: 2048, blockSize: 16, numGpuBlocks: 4096, enableChunkedPrefill: true, enablePrefixCaching: true, longPrefillTokenThreshold: 0 },
    stepTime: { name: "t", stepTime: (b: BatchShape) => 0.02 + 1e-5 * b.numTokens, overheads: zeroOverheads },
    model: MODEL,
    timeScale,
    seed,
    misbehaviour,
  })

interface Outcome {
  readonly status: number
  readonly tally?: StreamTally
  readonly events: ReadonlyArray<{ readonly t: number; readonly data: string }>
  readonly broken: boolean
  readonly body?: unknown
}

const stream = async (url: string, i: number): Promise<Outcome> => {
  const t0 = performance.now()
  let res: Response
  try {
    res = await fetch(`${url}/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, prompt: `req ${i} the of and`, max_tokens: OSL, ignore_eos: true, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } }),
    })
  } catch {
    return { status: 0, events: [], broken: true }
  }
  if (res.status !== 200) return { status: res.status, events: [], broken: false, body: await res.json() }
  const parser = makeSseParser()
  const acc = makeStreamAccumulator()
  const events: Array<{ t: number; data: string }> = []
  const decoder = new TextDecoder()
  let broken = false
  try {
    const reader = res.body!.getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      const t = performance.now() - t0
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
        events.push({ t, data: ev.data })
        acc.onEvent(ev, t)
      }
    }
  } catch {
    broken = true
  }
  return { status: 200, tally: acc.tally(), events, broken }
}

type Kind = "fail" | "error" | "drop" | "ok"

/** What request `index` must do (stalls aside): the earliest of error and drop wins. */
const predicted = (seed: string | number, index: number, rates: MisbehaviourRates): { kind: Kind; at: number } => {
  const m = misbehaviourFor(seed, index, rates)
  if (m.fail) return { kind: "fail", at: 0 }
  const e = m.errorAt === undefined ? Infinity : chunkIndexAt(m.errorAt, OSL)
  const d = m.dropAt === undefined ? Infinity : chunkIndexAt(m.dropAt, OSL)
  if (d <= e && Number.isFinite(d)) return { kind: "drop", at: d }
  if (Number.isFinite(e)) return { kind: "error", at: e }
  return { kind: "ok", at: OSL }
}

const contentChunks = (o: Outcome): number => (o.tally?.chunks.length ?? 0)

describe("twin misbehaviour", () => {
  it("fails, errors and drops exactly the requests the seeded decisions name, in vLLM's formats", async () => {
    const seed = 11
    const rates: MisbehaviourRates = { ...noMisbehaviour, failRate: 0.25, errorChunkRate: 0.25, dropRate: 0.25 }
    // Scale 10: a chunk every 2 ms of wall time, so the client has read the chunks before a drop cuts
    // the connection (a fetch body stream discards chunks still queued when it errors).
    const twin = await start(rates, seed, 10)
    try {
      const counts: Record<Kind, number> = { fail: 0, error: 0, drop: 0, ok: 0 }
      for (let i = 0; i < 24; i++) {
        const o = await stream(twin.url, i)
        const p = predicted(seed, i, rates)
        counts[p.kind]++
        if (p.kind === "fail") {
          expect(o.status).toBe(500)
          expect(o.body).toMatchObject({ error: { type: "InternalServerError", code: 500, param: null } })
          expect(parseErrorBody(o.body)).toMatchObject({ code: 500 })
        } else if (p.kind === "error") {
          expect(o.status).toBe(200)
          expect(o.tally!.error).toMatchObject({ type: "InternalServerError", code: 500 })
          expect(contentChunks(o)).toBe(p.at)
          expect(o.events[o.events.length - 1]!.data).toBe("[DONE]")
          expect(o.broken).toBe(false)
        } else if (p.kind === "drop") {
          expect(o.status === 0 || o.broken).toBe(true)
          expect(o.tally?.done ?? false).toBe(false)
          // The twin wrote p.at chunks before cutting the connection; a fetch body stream drops chunks it
          // had not handed to the reader when the error arrives, so a slow client may see fewer.
          expect(contentChunks(o)).toBeLessThanOrEqual(p.at)
        } else {
          expect(o.tally!.done).toBe(true)
          expect(o.tally!.usage?.completion_tokens).toBe(OSL)
        }
      }
      // Every kind happened (seed 11 gives a mix); the server counted errors and aborts.
      expect(counts.fail).toBeGreaterThan(0)
      expect(counts.error).toBeGreaterThan(0)
      expect(counts.drop).toBeGreaterThan(0)
      expect(counts.ok).toBeGreaterThan(0)
      expect(twin.accepted()).toBe(24)
      const snap = parseVllmMetrics(await (await fetch(`${twin.url}/metrics`)).text())
      if (typeof snap === "string") throw new Error(snap)
      expect(snap.requestSuccess).toMatchObject({ length: counts.ok, error: counts.error, abort: counts.drop })
    } finally {
      await twin.close()
    }
  })

  it("stalls a stream for --stall-ms, then sends the tokens made meanwhile in one chunk", async () => {
    const stallMs = 150
    const twin = await start({ stallRate: 1, stallMs })
    try {
      const o = await stream(twin.url, 0)
      const t = o.tally!
      expect(t.done).toBe(true)
      expect(t.usage?.completion_tokens).toBe(OSL)
      const at = chunkIndexAt(misbehaviourFor(11, 0, { ...noMisbehaviour, stallRate: 1, stallMs }).stallAt!, OSL)
      // The whole output takes 10 × 0.02 s / 100 = 2 ms of wall time: every token after the stall point is
      // ready when the stall ends, so one coalesced chunk carries them.
      const gaps = t.chunks.map((c, k) => (k === 0 ? c.t : c.t - t.chunks[k - 1]!.t))
      expect(Math.max(...gaps)).toBeGreaterThanOrEqual(stallMs - 5)
      expect(t.chunks.length).toBe(at + 1)
      expect(t.chunks[at]!.tokens).toBe(OSL - at)
    } finally {
      await twin.close()
    }
  })

  it("counts a client that goes away as an abort", async () => {
    const twin = await startTwin({
      engine: { maxNumSeqs: 4, maxNumBatchedTokens: 2048, maxModelLen: 2048, blockSize: 16, numGpuBlocks: 4096, enableChunkedPrefill: true, enablePrefixCaching: true, longPrefillTokenThreshold: 0 },
      stepTime: { name: "slow", stepTime: () => 0.1, overheads: zeroOverheads },
      model: MODEL,
      timeScale: 1,
    })
    try {
      const ac = new AbortController()
      const res = await fetch(`${twin.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: MODEL, prompt: "x", max_tokens: 100, ignore_eos: true, stream: true }),
        signal: ac.signal,
      })
      const reader = res.body!.getReader()
      await reader.read() // first token after ~0.1 s
      ac.abort()
      // The twin sees the close when its event loop gets to it — soon on an idle host, later on a busy
      // one: poll /metrics rather than sleep a fixed time. A twin that never counted it fails at 20 s.
      const scrape = async () => {
        const snap = parseVllmMetrics(await (await fetch(`${twin.url}/metrics`)).text())
        if (typeof snap === "string") throw new Error(snap)
        return snap
      }
      let snap = await scrape()
      for (const deadline = performance.now() + 20_000; snap.requestSuccess?.abort !== 1 && performance.now() < deadline; snap = await scrape()) await new Promise((r) => setTimeout(r, 20))
      expect(snap.requestSuccess).toMatchObject({ abort: 1, length: 0 })
    } finally {
      await twin.close()
    }
  })
})
