// The twin's /metrics page against a real vLLM 0.25.1 page (the capture is the referee): the same
// vllm:* families with the same TYPE and HELP lines, the same label names, the same histogram bucket
// bounds (with max_model_len 2048 like the captured opt-125m server), parsed by the probe's parser.
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parsePrometheusText, vllmSnapshot, type Scrape } from "../../src/probe/metrics-parser.ts"
import { zeroOverheads, type BatchShape } from "../../src/hw/types.ts"
import { startTwin, type Twin } from "../../src/serve/twin.ts"
import { IN_CI, dataPath, hasData, skipReason } from "../hw/shared-data.ts"

const CAPTURE = ["vllm-captures", "metrics_v1_0.25.1_loaded-64run-64wait_opt125m-tp2_2xRTX3090__er0080-vllm-benchmarking.txt"] as const
const haveCapture = hasData(...CAPTURE)

const scrape = (text: string): Scrape => {
  const s = parsePrometheusText(text)
  if (typeof s === "string") throw new Error(s)
  return s
}

/** family → sorted label-name sets of its samples (without `le`), and its `le` values. */
const shapeOf = (s: Scrape, family: string): { type: string; help: string | undefined; labelSets: string[]; les: string[] } => {
  const f = s.families.get(family)!
  const labelSets = new Set<string>()
  const les = new Set<string>()
  for (const x of f.samples) {
    const { le, ...rest } = x.labels
    if (le !== undefined) les.add(le)
    labelSets.add(`${x.name.slice(family.length)}{${Object.keys(rest).sort().join(",")}}`)
  }
  return { type: f.type, help: f.help, labelSets: [...labelSets].sort(), les: [...les].sort() }
}

/** Label values that name states (finished_reason, source, reason, sleep_state), per family. */
const enumLabels = (s: Scrape, family: string): string[] => {
  const out = new Set<string>()
  for (const x of s.families.get(family)!.samples) {
    for (const k of ["finished_reason", "source", "reason", "sleep_state"]) if (x.labels[k] !== undefined) out.add(`${k}=${x.labels[k]}`)
  }
  return [...out].sort()
}

describe.skipIf(!haveCapture)(`twin /metrics has the shape of vLLM 0.25.1's ${haveCapture ? "" : skipReason(...CAPTURE)}`, () => {
  let twin: Twin
  let real: Scrape
  let mine: Scrape
  beforeAll(async () => {
    real = scrape(readFileSync(dataPath(...CAPTURE), "utf8"))
    twin = await startTwin({
      engine: { maxNumSeqs: 4, maxNumBatchedTokens: 2048, maxModelLen: 2048, blockSize: 16, numGpuBlocks: 25028, enableChunkedPrefill: true, enablePrefixCaching: true, longPrefillTokenThreshold: 0 },
      stepTime: { name: "t", stepTime: (b: BatchShape) => 0.01 + 1e-5 * b.numTokens, overheads: zeroOverheads },
      model: "facebook/opt-125m",
      servedModelName: "opt-125m-tp2",
      timeScale: 100,
      gpuMemoryUtilization: 0.3,
    })
    // Some traffic, so that every series exists and /v1/models shows in the HTTP metrics.
    await fetch(`${twin.url}/v1/models`)
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${twin.url}/v1/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "opt-125m-tp2", prompt: `the of and to ${i} `.repeat(40), max_tokens: 8, ignore_eos: true }),
        }).then((r) => r.text()),
      ),
    )
    mine = scrape(await (await fetch(`${twin.url}/metrics`)).text())
  })
  afterAll(() => twin?.close())

  it("serves the page as prometheus_client does", async () => {
    const res = await fetch(`${twin.url}/metrics`)
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8")
  })

  it("declares every vllm:* family of the capture with the same TYPE and HELP, and no other", () => {
    const theirs = [...real.families.keys()].filter((n) => n.startsWith("vllm:")).sort()
    const ours = [...mine.families.keys()].filter((n) => n.startsWith("vllm:")).sort()
    expect(ours).toEqual(theirs)
    for (const name of theirs) {
      expect({ name, type: mine.families.get(name)!.type, help: mine.families.get(name)!.help }).toEqual({
        name,
        type: real.families.get(name)!.type,
        help: real.families.get(name)!.help,
      })
    }
  })

  it("uses the same label names and histogram buckets per family", () => {
    for (const name of [...real.families.keys()].filter((n) => n.startsWith("vllm:"))) {
      const a = shapeOf(real, name)
      const b = shapeOf(mine, name)
      expect({ name, labelSets: b.labelSets, les: b.les }).toEqual({ name, labelSets: a.labelSets, les: a.les })
      expect({ name, values: enumLabels(mine, name) }).toEqual({ name, values: enumLabels(real, name) })
    }
  })

  it("labels cache_config_info like vLLM (same keys; num_gpu_blocks, block_size, … from the engine)", () => {
    const theirs = real.families.get("vllm:cache_config_info")!.samples[0]!.labels
    const ours = mine.families.get("vllm:cache_config_info")!.samples[0]!.labels
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort())
    expect(ours).toMatchObject({ num_gpu_blocks: "25028", block_size: "16", kv_cache_size_tokens: "400448", kv_cache_max_concurrency: "195.53125", gpu_memory_utilization: "0.3" })
  })

  it("has the HTTP instrumentator families of the capture", () => {
    for (const name of ["http_requests_total", "http_request_size_bytes", "http_response_size_bytes", "http_request_duration_highr_seconds", "http_request_duration_seconds"]) {
      expect({ name, has: mine.families.has(name), type: mine.families.get(name)?.type, help: mine.families.get(name)?.help }).toEqual({
        name,
        has: true,
        type: real.families.get(name)!.type,
        help: real.families.get(name)!.help,
      })
    }
    for (const name of ["http_request_duration_highr_seconds", "http_request_duration_seconds"]) expect(shapeOf(mine, name).les).toEqual(shapeOf(real, name).les)
  })

  it("reads back through the probe's vLLM snapshot with consistent counts", () => {
    const snap = vllmSnapshot(mine)
    expect(snap.running).toBe(0)
    expect(snap.waiting).toBe(0)
    expect(snap.generationTokens).toBe(48)
    expect(snap.requestSuccess).toMatchObject({ length: 6, stop: 0, abort: 0, error: 0, repetition: 0 })
    expect(snap.cacheConfig).toMatchObject({ numGpuBlocks: 25028, blockSize: 16, enablePrefixCaching: true })
    expect(snap.iterationTokens!.count).toBeGreaterThan(0)
    expect(snap.latencySums!["vllm:time_to_first_token_seconds"]!.count).toBe(6)
    expect(snap.latencySums!["vllm:inter_token_latency_seconds"]!.count).toBe(6 * 7)
    expect(snap.vllmFamilies).toEqual([...real.families.keys()].filter((n) => n.startsWith("vllm:")).sort())
  })
})

it.runIf(!haveCapture && IN_CI)(`CI requires ${dataPath(...CAPTURE)}`, () => {
  expect(haveCapture).toBe(true)
})
