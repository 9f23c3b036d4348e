// vllm bench's flags as aliases of ours: the mapping onto scenario flags and fields (no CLI process).
import { describe, expect, it } from "vitest"
import { planFromFlags } from "../../src/cli/probe.ts"
import { listAliases, probeVllmAliases, scenarioWithFlags, vllmBenchMapping } from "../../src/cli/vllm-bench-flags.ts"

const file = { model: "m", gpu: "g", workload: { concurrency: 32, numRequests: 1000, input: "sharegpt", output: "sharegpt" } }

describe("vllm bench flags → scenario", () => {
  it("random: vllm's bounds floor(L·(1−r)) and ceil(L·(1+r)); a prefix of its own; defaults 1024/128", () => {
    const m = vllmBenchMapping({ randomInputLen: 1000, randomOutputLen: 100, randomRangeRatio: 0.25, randomPrefixLen: 7 }, false)
    if (typeof m === "string") throw new Error(m)
    expect(m.flags.isl).toEqual({ kind: "uniform", min: 750, max: 1250 })
    expect(m.flags.osl).toEqual({ kind: "uniform", min: 75, max: 125 })
    expect(m.workload).toEqual({ prefix: { numGroups: 1, length: 7 } })
    const d = vllmBenchMapping({ maxConcurrency: 4 }, false)
    if (typeof d === "string") throw new Error(d)
    expect([d.flags.isl, d.flags.osl, d.flags.concurrency]).toEqual([1024, 128, 4])
  })

  it("a named scenario file keeps its lengths unless a dataset flag is given", () => {
    const kept = scenarioWithFlags(file, { maxConcurrency: 4, requestRate: 2 }, true)
    if (typeof kept === "string") throw new Error(kept)
    expect(kept.scenario.workload).toEqual({ concurrency: 4, rate: 2, numRequests: 1000, input: "sharegpt", output: "sharegpt" })
    const replaced = scenarioWithFlags(file, { datasetName: "random", numPrompts: 10 }, true)
    if (typeof replaced === "string") throw new Error(replaced)
    expect(replaced.scenario.workload).toEqual({ concurrency: 32, numRequests: 10, input: 1024, output: 128 })
  })

  it("prefix_repetition sends num_prefixes × (N // num_prefixes) and refuses N < num_prefixes", () => {
    const m = vllmBenchMapping({ datasetName: "prefix_repetition", numPrompts: 1005 }, false)
    if (typeof m === "string") throw new Error(m)
    expect([m.flags.numRequests, m.flags.isl, m.flags.osl, m.workload]).toEqual([1000, 256, 128, { prefix: { numGroups: 10, length: 256 } }])
    expect(vllmBenchMapping({ datasetName: "prefix_repetition", numPrompts: 5 }, false)).toMatch(/must be at least/)
  })

  it("refuses two spellings that disagree, accepts them when they agree", () => {
    expect(vllmBenchMapping({ tp: 2, tensorParallelSize: 4 }, false)).toMatch(/--tensor-parallel-size 4 and --tp 2/)
    expect(vllmBenchMapping({ numRequests: 5, numPrompts: 5 }, false)).not.toBeTypeOf("string")
    expect(listAliases({ rate: "1,2", requestRate: "1,2" }, [["rate", "requestRate", "--rate", "--request-rate"]])).toEqual({ rate: "1,2" })
    expect(listAliases({ tp: "1", tensorParallelSize: "2" }, [["tp", "tensorParallelSize", "--tp", "--tensor-parallel-size"]])).toMatch(/give one/)
  })

  it("probe: vllm spellings replace defaults, not typed values; --max-concurrency alone is a closed loop", () => {
    const typed = (keys: string[]) => (k: string) => keys.includes(k)
    expect(probeVllmAliases({ numRequests: "200", numPrompts: "50" }, typed([]))).toEqual({ numRequests: "50" })
    expect(probeVllmAliases({ numRequests: "200", numPrompts: "50" }, typed(["numRequests"]))).toMatch(/--num-prompts 50 and --num-requests 200/)
    const closed = probeVllmAliases({ maxConcurrency: "16", isl: "1024", osl: "128", numRequests: "200" }, typed([]))
    expect(closed).toMatchObject({ concurrency: "16" })
    const plan = planFromFlags({ isl: "1024", osl: "128", numRequests: "200", scrapeInterval: "1", ...(closed as object), url: "http://h", model: "m", warmup: "0", seed: "0" })
    expect(plan).toMatchObject({ points: [{ kind: "concurrency", concurrency: 16 }] })
    expect(probeVllmAliases({ maxConcurrency: "16", requestRate: "2" }, typed([]))).toEqual({ maxConcurrency: "16", rate: "2" })
  })
})
