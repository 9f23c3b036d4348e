// `probe --workload`: a shared-prefix workload spec sent to a fake vLLM (node:http on 127.0.0.1,
// ephemeral port, bounded requests) and to the twin. The requests follow the spec as the simulator
// generates it (counts per stage, arrival times, shared system-prompt text, lengths, multi-turn
// history), and the run directory reloads as measured points whose scenario simulates that stage.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import path from "node:path"
import { Command } from "commander"
import { Effect, Exit, Fiber } from "effect"
import { FetchHttpClient } from "effect/http"
import { afterEach, describe, expect, it } from "vitest"
import { dataPath, hasData, IN_CI, skipReason } from "../hw/shared-data.ts"
import { measuredPointsFromRunDir } from "../../src/calibrate/measurements.ts"
import { scenarioForPoint, workloadSpecPath } from "../../src/calibrate/point-scenario.ts"
import { predictPoint } from "../../src/calibrate/predict-point.ts"
import { readRunDir, requestsPath, stageSpecPath, summaryPath } from "../../src/probe/run-dir.ts"
import { resumeProbe, startProbe } from "../../src/probe/runner.ts"
import type { ProbePlan } from "../../src/probe/runner.ts"
import type { RequestRecord } from "../../src/probe/types.ts"
import {
  makeWorkloadTexts,
  remainingStageTasks,
  sharedPrefixSpecJson,
  stageRequests,
  workloadWords
} from "../../src/probe/workload.ts"
import { planFromFlags, register } from "../../src/cli/probe.ts"
import { zeroOverheads } from "../../src/hw/types.ts"
import type { BatchShape } from "../../src/hw/types.ts"
import { startTwin } from "../../src/serve/twin.ts"
import { asRunByInferencePerf, parseSharedPrefixSpec, sharedPrefixWorkload } from "../../src/sim/workload/shared-prefix.ts"
import type { SharedPrefixSpec } from "../../src/sim/workload/shared-prefix.ts"

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const tempDir = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), "servesim-probe-wl-"))
  cleanups.push(() => rmSync(d, { recursive: true, force: true }))
  return d
}

const provide = <A, E>(eff: Effect.Effect<A, E, import("effect/http").HttpClient.HttpClient>) => eff.pipe(Effect.provide(FetchHttpClient.layer))

/** A small inference-perf spec in the inference-sim key style of ../shared/data/serving/workloads. */
const specJson = (over: { multiTurn?: boolean; stages?: ReadonlyArray<{ rate: number; duration: number }>; system?: number } = {}) => ({
  source: "test",
  server: { model: "fake-model", max_model_len: "4096", max_num_seqs: "64", max_num_batched_tokens: "2048" },
  data: {
    type: "shared_prefix",
    shared_prefix: {
      enable_multi_turn_chat: over.multiTurn ?? false,
      num_unique_system_prompts: 2,
      num_users_per_system_prompt: 3,
      system_prompt_len: over.system ?? 24,
      question_len: 8,
      output_len: 4
    }
  },
  load: { type: "constant", stages: over.stages ?? [{ rate: 20, duration: 1 }, { rate: 10, duration: 1 }] },
  api: { streaming: true, type: "completion" },
  ignore_eos: true
})

const writeSpec = (dir: string, json: unknown): string => {
  const file = path.join(dir, "spec.json")
  writeFileSync(file, JSON.stringify(json, null, 1))
  return file
}

const parsed = (json: unknown): SharedPrefixSpec => {
  const s = parseSharedPrefixSpec(json)
  if (typeof s === "string") throw new Error(s)
  return s
}

const workloadProbePlan = (url: string, file: string, json: unknown, flags: { stages?: string; inferencePerfDefaults?: boolean; seed?: string } = {}): ProbePlan => {
  const plan = planFromFlags(
    {
      url,
      model: "fake-model",
      isl: "1024",
      osl: "128",
      numRequests: "200",
      warmup: "0",
      seed: flags.seed ?? "0",
      scrapeInterval: "1",
      timeout: "10",
      workload: file,
      ...(flags.stages === undefined ? {} : { stages: flags.stages }),
      ...(flags.inferencePerfDefaults === undefined ? {} : { inferencePerfDefaults: flags.inferencePerfDefaults })
    },
    { workloadSpec: json }
  )
  if (typeof plan === "string") throw new Error(plan)
  return plan
}

interface Seen {
  readonly id: string | undefined
  readonly prompt: string
  readonly maxTokens: number | undefined
  readonly ignoreEos: unknown
  readonly receivedAt: number
}

/** A fake vLLM: prompt_tokens = words + 1 (BOS); each output token is " tok"; usage on every chunk. */
/** holdAfter: completions after the first N get their headers and then nothing, while `holding` is set. */
const startFake = async (options: { readonly tokenDelayMs?: number; readonly maxRequests?: number; readonly holdAfter?: number } = {}) => {
  const delay = options.tokenDelayMs ?? 2
  const maxRequests = options.maxRequests ?? 400
  const hold = { holding: options.holdAfter !== undefined }
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c: Buffer) => (body += c.toString("utf8")))
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ object: "list", data: [{ id: "fake-model", object: "model", root: "fake-model", max_model_len: 4096 }] }))
        return
      }
      if (req.method === "GET" && req.url === "/version") {
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify({ version: "0.0.0-fake" }))
        return
      }
      if (req.method !== "POST" || req.url !== "/v1/completions") {
        res.writeHead(404)
        res.end()
        return
      }
      const rid = req.headers["x-request-id"]
      const b = JSON.parse(body) as { prompt: string; max_tokens?: number; ignore_eos?: unknown }
      seen.push({ id: Array.isArray(rid) ? rid[0] : rid, prompt: b.prompt, maxTokens: b.max_tokens, ignoreEos: b.ignore_eos, receivedAt: performance.timeOrigin + performance.now() })
      if (seen.length > maxRequests) {
        res.writeHead(503, { "content-type": "application/json" })
        res.end(JSON.stringify({ error: { message: "budget exhausted", type: "ServiceUnavailable", param: null, code: 503 } }))
        return
      }
      const promptTokens = b.prompt.split(" ").length + 1
      const n = b.max_tokens ?? 16
      res.writeHead(200, { "content-type": "text/event-stream" })
      if (hold.holding && seen.length > options.holdAfter!) return // never answered: the client's interrupt closes it
      let sent = 0
      let closed = false
      res.on("close", () => (closed = true))
      const tick = () => {
        if (closed) return
        if (sent < n) {
          sent++
          res.write(`data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"fake-model","choices":[{"index":0,"text":" tok","logprobs":null,"finish_reason":${sent === n ? '"length"' : "null"},"stop_reason":null}],"usage":{"prompt_tokens":${promptTokens},"completion_tokens":${sent},"total_tokens":${promptTokens + sent}}}\n\n`)
          setTimeout(tick, delay)
          return
        }
        res.end("data: [DONE]\n\n")
      }
      setTimeout(tick, delay)
    })
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  cleanups.push(() => new Promise<void>((r) => {
    server.closeAllConnections()
    server.close(() => r())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, hold }
}

/** Point and index from the probe's request id `servesim-<tag>-s<session>-<point>-<index>`. */
const parseId = (id: string | undefined) => {
  const m = id === undefined ? null : /-s(\d+)-(stage-\d+)-(\d+)$/.exec(id)
  return m === null ? undefined : { session: Number(m[1]), point: m[2]!, index: Number(m[3]) }
}

describe("workload spec → probe plan", () => {
  it("one point per stage with trunc(rate × duration) requests; the spec kept in inference-perf's key names", () => {
    const json = specJson({ stages: [{ rate: 20, duration: 1 }, { rate: 2.5, duration: 3 }] })
    const plan = workloadProbePlan("http://h:8000/v1", "/abs/spec.json", json)
    expect(plan.mode).toBe("workload")
    expect(plan.url).toBe("http://h:8000")
    expect(plan.points).toEqual([
      { id: "stage-0", kind: "stage", stage: 0, rate: 20, duration: 1, numRequests: 20 },
      { id: "stage-1", kind: "stage", stage: 1, rate: 2.5, duration: 3, numRequests: 7 }
    ])
    expect([plan.isl, plan.osl, plan.numRequests, plan.warmup]).toEqual([32, 4, 27, 0])
    const w = plan.workload!
    expect(w.spec.numGroups).toBe(2)
    expect(w.spec.promptsPerGroup).toBe(3)
    // Round trip: the JSON the run directory keeps parses back to the same configuration.
    const back = parsed(sharedPrefixSpecJson(w.spec))
    expect({ ...back, keyStyle: w.spec.keyStyle }).toEqual(w.spec)
    expect(back.keyStyle).toBe("inference-perf")
    expect(asRunByInferencePerf(back)).toBe(back)
    // As inference-perf ran such files: its defaults.
    const ipd = workloadProbePlan("http://h", "/abs/spec.json", json, { inferencePerfDefaults: true, stages: "1" })
    expect(ipd.workload!.spec.numGroups).toBe(10)
    expect(ipd.workload!.spec.promptsPerGroup).toBe(10)
    expect(ipd.points.map((p) => p.id)).toEqual(["stage-1"])
  })

  it("names the flag that is wrong", () => {
    const base = { url: "http://h", model: "m", isl: "1024", osl: "128", numRequests: "200", warmup: "0", seed: "0", scrapeInterval: "1" }
    const json = specJson()
    expect(planFromFlags({ ...base, workload: "s.json", stages: "2" }, { workloadSpec: json })).toMatch(/--stages: no stage 2 .*has 2: 0\.\.1/)
    expect(planFromFlags({ ...base, workload: "s.json", stages: "0,0" }, { workloadSpec: json })).toMatch(/stage 0 is listed twice/)
    expect(planFromFlags({ ...base, workload: "s.json", stages: "x" }, { workloadSpec: json })).toMatch(/"x" is not a stage index/)
    expect(planFromFlags({ ...base, workload: "s.json", rate: "2" }, { workloadSpec: json })).toMatch(/^--rate: --workload runs the spec's own arrivals/)
    expect(planFromFlags({ ...base, workload: "s.json" }, { workloadSpec: json, given: (a) => a === "numRequests" })).toMatch(/^--num-requests: --workload takes/)
    expect(planFromFlags({ ...base, workload: "s.json" }, { workloadSpec: { data: {} } })).toMatch(/^--workload s\.json: data\.shared_prefix/)
    expect(planFromFlags({ ...base, workload: "s.json" }, { workloadSpec: specJson({ stages: [{ rate: 0.5, duration: 1 }] }) })).toMatch(/stage 0 .* sends no request/)
    expect(planFromFlags({ ...base, rate: "2", stages: "0" })).toMatch(/--stages selects stages of a --workload/)
    const program = new Command()
    register(program)
    const flags = program.commands.find((c) => c.name() === "probe")!.options.map((o) => o.long)
    for (const f of ["--workload", "--stages", "--inference-perf-defaults"]) expect(flags).toContain(f)
  })

  it("texts: one fixed system prompt per group, a question per prompt; lengths from the prompt calibration", () => {
    const spec = parsed(specJson())
    const words = workloadWords({ overhead: 1, perWord: 1 }, spec)
    expect(words).toEqual({ system: 24, question: 7 }) // 24 + 7 words + BOS = 32 tokens
    expect(workloadWords({ overhead: 0, perWord: 2 }, spec)).toEqual({ system: 12, question: 4 })
    const t = makeWorkloadTexts("salt", words)
    expect(t.system(0)).toBe(t.system(0))
    expect(t.system(0)).not.toBe(t.system(1))
    expect(t.system(0).split(" ").length).toBe(24)
    expect(t.question(3).split(" ").length).toBe(7)
    expect(makeWorkloadTexts("other", words).system(0)).not.toBe(t.system(0))
  })

  it("a stage's requests are the simulator's for that stage; a resume keeps the gaps", () => {
    const spec = parsed(specJson())
    const reqs = stageRequests(spec, 1, "3")
    const wl = sharedPrefixWorkload(spec, { seed: 3, stages: [1] })
    for (const r of reqs) {
      const s = wl.next()!
      expect(r.offsetMs).toBeCloseTo(s.arrival * 1000, 9)
      expect([r.group, r.contentId, r.inputTokens, r.outputTokens]).toEqual([s.prefixes[0]!.id, s.contentId, s.inputTokens, s.outputTokens])
    }
    expect(wl.next()).toBeUndefined()
    expect(reqs.length).toBe(10)
    expect(reqs.at(-1)!.offsetMs).toBeCloseTo(1000, 6) // ConstantLoadTimer: the last one lands on the stage's end
    const tasks = remainingStageTasks(reqs, new Set([0, 1, 2]))
    expect(tasks.map((x) => x.index)).toEqual([3, 4, 5, 6, 7, 8, 9])
    expect(tasks[0]!.offsetMs).toBeCloseTo(reqs[0]!.offsetMs, 9)
    expect(tasks[1]!.offsetMs - tasks[0]!.offsetMs).toBeCloseTo(reqs[4]!.offsetMs - reqs[3]!.offsetMs, 9)
  })

  const SPEC = ["serving", "workloads", "20260217-155451-llama-2-7b-tp1-codegen.json"] as const
  it.skipIf(!hasData(...SPEC))(`reads the spec files of ../shared/data/serving/workloads ${hasData(...SPEC) ? "" : skipReason(...SPEC)}`, () => {
    const file = dataPath(...SPEC)
    const json: unknown = JSON.parse(readFileSync(file, "utf8"))
    const plan = workloadProbePlan("http://h", file, json, { stages: "0" })
    expect(plan.points).toEqual([{ id: "stage-0", kind: "stage", stage: 0, rate: 5, duration: 600, numRequests: 3000 }])
    expect(plan.workload!.spec.multiTurn).toBe(true)
    expect([plan.isl, plan.osl]).toEqual([566, 247])
  })
  it.runIf(!hasData(...SPEC) && IN_CI)(`CI requires ${dataPath(...SPEC)}`, () => {
    expect.fail(`${dataPath(...SPEC)} is missing`)
  })
})

describe("probe --workload end to end against a fake vLLM", () => {
  it("single turn: per-stage counts, arrivals, shared system-prompt text, lengths; reloads as simulable points", async () => {
    const f = await startFake()
    const tmp = tempDir()
    const json = specJson()
    const file = writeSpec(tmp, json)
    const dir = path.join(tmp, "run")
    const plan = workloadProbePlan(f.url, file, json)
    const result = await Effect.runPromise(provide(startProbe(plan, { outDir: dir, scrapeIntervalMs: 0 })))
    expect(result.points.map((p) => [p.id, p.summary.completed, p.summary.failed, p.summary.request_rate, p.summary.num_prompts])).toEqual([
      ["stage-0", 20, 0, 20, 20],
      ["stage-1", 10, 0, 10, 10]
    ])
    expect(result.points[0]!.summary.workload).toMatchObject({ file, stage: 0, duration_s: 1, multi_turn: false, system_prompt_len: 24 })

    // What the server saw: 2 calibration requests, then 20 + 10 requests of the stages.
    const sent = f.seen.filter((s) => parseId(s.id) !== undefined)
    expect(f.seen.length).toBe(2 + 30)
    const byPoint = (p: string) => sent.filter((s) => parseId(s.id)!.point === p)
    expect(byPoint("stage-0").length).toBe(20)
    expect(byPoint("stage-1").length).toBe(10)
    for (const s of sent) {
      expect(s.maxTokens).toBe(4)
      expect(s.ignoreEos).toBe(true)
    }

    const run = await Effect.runPromise(readRunDir(dir))
    expect(run.manifest.plan.mode).toBe("workload")
    expect(run.manifest.plan.workload?.file).toBe(file)
    const spec = parsed(json)
    for (const point of ["stage-0", "stage-1"] as const) {
      const stage = point === "stage-0" ? 0 : 1
      const reqs = stageRequests(spec, stage, "0", 4096)
      const prompts = new Map(byPoint(point).map((s) => [parseId(s.id)!.index, s.prompt]))
      // Same system prompt ⇒ identical first 24 words; another system prompt ⇒ a different text.
      const systemOf = (i: number) => prompts.get(i)!.split(" ").slice(0, 24).join(" ")
      const groups = new Map<number, string>()
      for (const r of reqs) {
        const sys = systemOf(r.index)
        const known = groups.get(r.group)
        if (known === undefined) groups.set(r.group, sys)
        else expect(sys).toBe(known)
        // A prompt that recurs (same contentId) is the same text: the whole prompt can hit the cache.
        const again = reqs.find((o) => o.contentId === r.contentId && o.index !== r.index)
        if (again !== undefined) expect(prompts.get(again.index)).toBe(prompts.get(r.index))
      }
      expect(groups.size).toBe(2)
      expect(groups.get(0)).not.toBe(groups.get(1))
      // Arrivals: the simulator's for the stage (intendedAt relative to the first request).
      const recs = run.requests.filter((r) => r.point === point).sort((a, b) => a.index - b.index)
      expect(recs.map((r) => r.index)).toEqual(reqs.map((r) => r.index))
      for (const r of recs) {
        expect(r.intendedAt - recs[0]!.intendedAt).toBeCloseTo(reqs[r.index]!.offsetMs - reqs[0]!.offsetMs, 3)
        expect(r.sentAt).toBeGreaterThanOrEqual(r.intendedAt)
        // prompt_tokens = system_prompt_len + question_len (the fake counts words + BOS; calibration made it exact)
        expect(r.usage?.prompt_tokens).toBe(32)
        expect(r.promptTokensRequested).toBe(32)
        expect(r.responseText).toBeUndefined()
      }
      // The stage took about its duration (the last arrival is on the stage's end).
      const last = recs.at(-1)!
      expect(last.intendedAt - recs[0]!.intendedAt).toBeCloseTo(1000 - reqs[0]!.offsetMs, 3)
    }
    // Prompts differ between stages (each stage starts with a cold prefix cache, like its simulation).
    const systems = (p: string) => new Set(byPoint(p).map((s) => s.prompt.split(" ").slice(0, 24).join(" ")))
    const stage1 = systems("stage-1")
    expect(stage1.size).toBe(2)
    for (const t of systems("stage-0")) expect(stage1.has(t)).toBe(false)

    // The run reloads as measured points that name their one-stage spec.
    const set = measuredPointsFromRunDir(run)
    expect(set.warnings).toEqual([])
    expect(set.points.map((p) => [p.source.split("#")[1], p.requestRate, p.numRequests, p.completed, p.isl, p.osl, p.concurrency])).toEqual([
      ["stage-0", 20, 20, 20, 32, 4, undefined],
      ["stage-1", 10, 10, 10, 32, 4, undefined]
    ])
    const p1 = set.points[1]!
    expect(p1.workload).toBe(path.resolve(stageSpecPath(dir, "stage-1")))
    expect(path.isAbsolute(p1.workload!)).toBe(true)
    expect(workloadSpecPath(p1)).toBe(p1.workload)
    const stageSpec = parsed(JSON.parse(readFileSync(p1.workload!, "utf8")))
    expect(stageSpec.load.stages).toEqual([{ rate: 10, duration: 1 }])
    expect(stageSpec.numGroups).toBe(2)
    const scenario = scenarioForPoint(p1, { spec: stageSpec, model: "facebook/opt-125m", gpu: "a100-sxm" })
    expect(typeof scenario).toBe("object")
    if (typeof scenario === "string") return
    expect(scenario.workload).toEqual({ file: p1.workload, fileStages: [0], inferencePerfDefaults: true, inputScale: 1, numRequests: 10 })
    // The simulator's requests for that scenario are the ones the probe sent.
    const simWl = sharedPrefixWorkload(asRunByInferencePerf(stageSpec), { seed: 0, stages: [0], numRequests: 10 })
    const recs1 = run.requests.filter((r) => r.point === "stage-1").sort((a, b) => a.index - b.index)
    const t0 = recs1[0]!.intendedAt
    const first = simWl.next()!
    expect(first.inputTokens).toBe(32)
    for (let i = 1; i < recs1.length; i++) {
      const s = simWl.next()!
      expect(recs1[i]!.intendedAt - t0).toBeCloseTo((s.arrival - first.arrival) * 1000, 3)
    }
    // ...and it simulates.
    const sim = await Effect.runPromise(predictPoint(p1, { model: "facebook/opt-125m", gpu: "a100-sxm" }))
    expect(sim.completed).toBe(10)
  })

  it("multi turn: history of prompts and responses, turns serialised per conversation, rebuilt on --resume", async () => {
    // The server holds every completion after its 14th until the first run is interrupted, so that run
    // ends mid-stage however slow the host is (a timer-based interrupt on a busy host came after all 20).
    const f = await startFake({ tokenDelayMs: 3, holdAfter: 14 })
    const tmp = tempDir()
    const json = specJson({ multiTurn: true, stages: [{ rate: 10, duration: 2 }] })
    const file = writeSpec(tmp, json)
    const dir = path.join(tmp, "run")
    const plan = workloadProbePlan(f.url, file, json)
    expect(plan.points.map((p) => p.kind === "stage" && p.numRequests)).toEqual([20])
    const fiber = Effect.runFork(provide(startProbe(plan, { outDir: dir, scrapeIntervalMs: 0 })))
    const lines = () => (existsSync(requestsPath(dir)) ? readFileSync(requestsPath(dir), "utf8").split("\n").length - 1 : 0)
    for (const deadline = performance.now() + 120_000; lines() < 9 && performance.now() < deadline; ) await new Promise((r) => setTimeout(r, 10))
    const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
    f.hold.holding = false
    expect(Exit.hasInterrupts(exit)).toBe(true)
    const first = await Effect.runPromise(readRunDir(dir))
    expect(first.requests.length).toBeGreaterThanOrEqual(9)
    expect(first.requests.length).toBeLessThan(20)
    expect(existsSync(summaryPath(dir, "stage-0"))).toBe(false)

    const resumed = await Effect.runPromise(provide(resumeProbe({}, { outDir: dir, scrapeIntervalMs: 0 })))
    expect(resumed.points[0]!.summary.completed).toBe(20)
    expect(resumed.points[0]!.summary.sessions).toEqual([0, 1])
    const run = await Effect.runPromise(readRunDir(dir))
    const recs = [...run.requests].sort((a, b) => a.index - b.index)
    expect(recs.map((r) => r.index)).toEqual(Array.from({ length: 20 }, (_, i) => i))

    // Every request the server answered, by index (a request interrupted in flight was re-sent on resume: keep the last).
    const prompts = new Map<number, string>()
    for (const s of f.seen) {
      const id = parseId(s.id)
      if (id !== undefined) prompts.set(id.index, s.prompt)
    }
    const reqs = stageRequests(parsed(json), 0, "0", 4096)
    const byIndex = new Map<number, RequestRecord>(recs.map((r) => [r.index, r]))
    const lastTurn = new Map<number, number>()
    for (const r of reqs) {
      const prompt = prompts.get(r.index)!
      const rec = byIndex.get(r.index)!
      expect(rec.responseText).toBe(" tok tok tok tok")
      expect(rec.promptTokensRequested).toBe(r.inputTokens)
      const prev = lastTurn.get(r.contentId)
      if (prev === undefined) {
        expect(prompt.split(" ").length).toBe(31) // system + question
      } else {
        // context = previous prompt + " " + its response; this turn = context + " " + question.
        const prevPrompt = prompts.get(prev)!
        const prevRec = byIndex.get(prev)!
        expect(prompt.startsWith(`${prevPrompt} ${prevRec.responseText!} `)).toBe(true)
        expect(prompt.slice(prevPrompt.length + prevRec.responseText!.length + 2)).toBe(prevPrompt.split(" ").slice(-7).join(" "))
        // Served tokens follow the simulator's nominal growth: system + (k+1)·question + k·output.
        expect(Math.abs(rec.usage!.prompt_tokens - r.inputTokens)).toBeLessThanOrEqual(1)
        // The turn waited for the previous one (sessions serialised, as inference-perf does).
        if (prevRec.session === rec.session) expect(rec.sentAt).toBeGreaterThanOrEqual(prevRec.sentAt + prevRec.endMs - 1)
      }
      lastTurn.set(r.contentId, r.index)
    }
    // At least one conversation continued across the resume with its history rebuilt from the records.
    const crossed = reqs.some((r) => {
      const prev = [...reqs].reverse().find((o) => o.index < r.index && o.contentId === r.contentId)
      return prev !== undefined && byIndex.get(prev.index)!.session === 0 && byIndex.get(r.index)!.session === 1
    })
    expect(crossed).toBe(true)
  })
})

describe("probe --workload against the twin", () => {
  it("the shared system prompts hit the twin's prefix cache", async () => {
    const twin = await startTwin({
      engine: {
        maxNumSeqs: 16,
        maxNumBatchedTokens: 2048,
        maxModelLen: 2048,
        blockSize: 16,
        numGpuBlocks: 4096,
        enableChunkedPrefill: true,
        enablePrefixCaching: true,
        longPrefillTokenThreshold: 0
      },
      stepTime: { name: "linear-test", stepTime: (b: BatchShape) => 0.005 + 0.00001 * b.numTokens, overheads: zeroOverheads },
      model: "test/model-1b",
      timeScale: 1
    })
    cleanups.push(() => twin.close())
    const tmp = tempDir()
    const json = specJson({ system: 64, stages: [{ rate: 20, duration: 1 }] })
    const file = writeSpec(tmp, json)
    const plan = { ...workloadProbePlan(twin.url, file, json), model: "test/model-1b" }
    const result = await Effect.runPromise(provide(startProbe(plan, { outDir: path.join(tmp, "run"), scrapeIntervalMs: 200 })))
    const s = result.points[0]!.summary
    expect(s.completed).toBe(20)
    expect(s.total_input_tokens / s.completed).toBeCloseTo(72, 0)
    // 20 requests over 6 prompts of 2 system prompts: most of the prompt tokens come from the cache.
    expect(s.server_metrics?.prompt_tokens_cached).toBeGreaterThan(0.5 * s.total_input_tokens)
  })
})
