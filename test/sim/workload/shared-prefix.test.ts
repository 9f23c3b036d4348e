import { existsSync, readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { OpenLoopWorkload } from "../../../src/sim/spec.ts"
import type { RequestSpec } from "../../../src/sim/types.ts"
import {
  asRunByInferencePerf,
  INFERENCE_PERF_RETOKENIZE_SCALE,
  parseSharedPrefixSpec,
  sharedPrefixWorkload,
  type SharedPrefixSpec,
} from "../../../src/sim/workload/shared-prefix.ts"

// ../shared/data next to the repository (CI has it there too).
const DATA = fileURLToPath(new URL("../../../../shared/data/serving/", import.meta.url))
const haveData = existsSync(`${DATA}workloads`)
const inCI = process.env["CI"] === "true"

const drain = (w: OpenLoopWorkload): RequestSpec[] => {
  const out: RequestSpec[] = []
  for (let r = w.next(); r !== undefined; r = w.next()) out.push(r)
  return out
}

const valid = {
  data: {
    type: "shared_prefix",
    shared_prefix: { num_groups: 3, num_prompts_per_group: 4, system_prompt_len: 100, question_len: 50, output_len: 20 },
  },
  load: { type: "constant", stages: [{ rate: 5, duration: 20 }, { rate: 10, duration: 10 }] },
  server: { model: "m", max_model_len: "4096" },
}
const parse = (raw: unknown): SharedPrefixSpec => {
  const s = parseSharedPrefixSpec(raw)
  if (typeof s === "string") throw new Error(s)
  return s
}

describe("parseSharedPrefixSpec", () => {
  it("reads inference-perf's own key names", () => {
    expect(parse(valid)).toMatchObject({
      numGroups: 3,
      promptsPerGroup: 4,
      systemPromptLen: 100,
      questionLen: 50,
      outputLen: 20,
      multiTurn: false,
      load: { type: "constant", stages: [{ rate: 5, duration: 20 }, { rate: 10, duration: 10 }] },
      server: { model: "m", maxModelLen: 4096 },
      keyStyle: "inference-perf",
    })
  })

  const withSp = (sp: Record<string, unknown>) => ({ ...valid, data: { ...valid.data, shared_prefix: { ...valid.data.shared_prefix, ...sp } } })
  it.each([
    [withSp({ question_len: 0 }), "data.shared_prefix.question_len: expected a positive integer"],
    [withSp({ question_len: 46.5 }), "data.shared_prefix.question_len: expected a positive integer"],
    [withSp({ num_unique_system_prompts: "11" }), "data.shared_prefix.num_unique_system_prompts: expected a positive integer"],
    [withSp({ enable_multi_turn_chat: "yes" }), "data.shared_prefix.enable_multi_turn_chat: expected a boolean"],
    [{ ...valid, data: { type: "random" } }, 'data.type: expected "shared_prefix"'],
    [{ ...valid, data: { type: "shared_prefix" } }, "data.shared_prefix: expected an object"],
    [{ ...valid, load: { type: "trace", stages: [] } }, 'load.type: expected "constant" or "poisson"'],
    [{ ...valid, load: { stages: [{ rate: 5, duration: -1 }] } }, "load.stages[0].duration: expected a positive number"],
    [{ ...valid, load: { stages: [] } }, "load.stages: expected a non-empty array of {rate, duration}"],
    [{ ...valid, server: { max_num_seqs: "lots" } }, "server.max_num_seqs: expected a positive integer"],
    [[], "spec: expected a JSON object"],
  ])("reports the failing field: %#", (raw, msg) => {
    expect(parseSharedPrefixSpec(raw)).toBe(msg)
  })
})

describe("sharedPrefixWorkload, single turn", () => {
  const spec = parse(valid)

  it("sends exactly rate·duration per stage and records the stage", () => {
    const w = sharedPrefixWorkload(spec, { seed: 1 })
    expect(w.countRequests).toBe(200)
    expect(w.stageCount).toBe(2)
    const rs = drain(w)
    expect(rs.filter((r) => r.stage === 0)).toHaveLength(100)
    expect(rs.filter((r) => r.stage === 1)).toHaveLength(100)
    expect(rs.filter((r) => r.stage === 0).every((r) => r.arrival > 0 && r.arrival <= 20)).toBe(true)
    expect(rs.filter((r) => r.stage === 1).every((r) => r.arrival > 20 && r.arrival <= 30)).toBe(true)
  })

  it("cycles through G·U fixed prompts in one shuffled order; the system prompt is the group's prefix", () => {
    const rs = drain(sharedPrefixWorkload(spec, { seed: 1 }))
    const P = 12
    rs.forEach((r, i) => {
      expect(r.inputTokens).toBe(150)
      expect(r.outputTokens).toBe(20)
      expect(r.prefixes).toEqual([{ id: Math.floor(r.contentId / 4), length: 100 }])
      if (i >= P) expect(r.contentId).toBe((rs[i - P] as RequestSpec).contentId)
    })
    expect(new Set(rs.slice(0, P).map((r) => r.contentId)).size).toBe(P)
    expect(rs.slice(0, P).map((r) => r.contentId)).not.toEqual(Array.from({ length: P }, (_, i) => i))
  })

  it("stages [1] runs only that stage from t = 0, keeping its index", () => {
    const rs = drain(sharedPrefixWorkload(spec, { seed: 1, stages: [1] }))
    expect(rs).toHaveLength(100)
    expect(rs.every((r) => r.stage === 1 && r.arrival > 0 && r.arrival <= 10)).toBe(true)
    expect(() => sharedPrefixWorkload(spec, { seed: 1, stages: [2] })).toThrow(/no stage 2/)
  })

  it("inputScale scales prompt and prefix lengths", () => {
    const r = sharedPrefixWorkload(spec, { seed: 1, inputScale: 1.05 }).next()!
    expect(r.inputTokens).toBe(158)
    expect(r.prefixes[0]!.length).toBe(105)
  })

  it("is deterministic per seed", () => {
    expect(drain(sharedPrefixWorkload(spec, { seed: 3 }))).toEqual(drain(sharedPrefixWorkload(spec, { seed: 3 })))
    expect(drain(sharedPrefixWorkload(spec, { seed: 3 }))).not.toEqual(drain(sharedPrefixWorkload(spec, { seed: 4 })))
  })
})

describe("sharedPrefixWorkload, multi turn", () => {
  const spec = { ...parse(valid), multiTurn: true }

  it("grows each session's prompt by question + output per turn, as inference-perf's user sessions do", () => {
    const rs = drain(sharedPrefixWorkload(spec, { seed: 1 }))
    const bySession = new Map<number, RequestSpec[]>()
    for (const r of rs) bySession.set(r.contentId, [...(bySession.get(r.contentId) ?? []), r])
    expect(bySession.size).toBe(12)
    for (const turns of bySession.values()) {
      turns.forEach((r, k) => expect(r.inputTokens).toBe(100 + (k + 1) * 50 + k * 20))
      expect(new Set(turns.map((r) => r.prefixes[0]!.id)).size).toBe(1)
    }
  })

  it("starts a new conversation when the next turn would exceed maxModelLen", () => {
    const rs = drain(sharedPrefixWorkload(spec, { seed: 1, maxModelLen: 400 }))
    expect(rs.every((r) => r.inputTokens + r.outputTokens <= 400)).toBe(true)
    expect(new Set(rs.map((r) => r.contentId)).size).toBeGreaterThan(12)
  })
})

describe.skipIf(!haveData)("real inference-perf workload files (../shared/data/serving/workloads)", () => {
  const files = haveData ? readdirSync(`${DATA}workloads`).filter((f) => f.endsWith(".json")) : []

  it("has all 12 files", () => {
    expect(files).toHaveLength(12)
  })

  it.each(files)("parses %s", (f) => {
    const s = parse(JSON.parse(readFileSync(`${DATA}workloads/${f}`, "utf8")))
    expect(s.keyStyle).toBe("inference-sim")
    expect(s.multiTurn).toBe(true)
    expect(s.load.type).toBe("constant")
    expect(s.server).toMatchObject({ maxModelLen: 4096, maxNumBatchedTokens: 2048, maxNumSeqs: 128 })
    expect([1, 2, 4]).toContain(s.server.tensorParallelism)
  })

  // The CSV rows are stage 0 of these runs; prompt lengths show single-turn prompts (see shared-prefix.ts).
  const rows = haveData
    ? readFileSync(`${DATA}inference-sim-h100-poisson.csv`, "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.split(","))
    : []
  it.each(rows.map((r) => [r[9] as string, Number(r[10]), Number(r[14])] as const))("%s as run: mean input ≈ measured %f, count = %i", (wf, isl, n) => {
    const spec = asRunByInferencePerf(parse(JSON.parse(readFileSync(`${DATA}${wf}`, "utf8"))))
    expect(spec).toMatchObject({ numGroups: 10, promptsPerGroup: 10, multiTurn: false })
    const rs = drain(sharedPrefixWorkload(spec, { seed: 1, stages: [0], inputScale: INFERENCE_PERF_RETOKENIZE_SCALE }))
    expect(rs).toHaveLength(n)
    const meanIn = rs.reduce((a, r) => a + r.inputTokens, 0) / rs.length
    expect(Math.abs(meanIn - isl) / isl).toBeLessThan(0.01)
    // The declared multi-turn model would put the mean far above what was measured.
    const declared = drain(sharedPrefixWorkload(parse(JSON.parse(readFileSync(`${DATA}${wf}`, "utf8"))), { seed: 1, stages: [0], maxModelLen: 4096 }))
    expect(declared.reduce((a, r) => a + r.inputTokens, 0) / declared.length).toBeGreaterThan(2 * isl)
  })
})

describe.runIf(!haveData && inCI)("shared data in CI", () => {
  it("../shared/data must be present when CI=true", () => {
    expect(haveData, `missing ${DATA}`).toBe(true)
  })
})

if (!haveData && !inCI) console.warn(`shared-prefix.test.ts: skipping real-file tests, ${DATA} not found`)
