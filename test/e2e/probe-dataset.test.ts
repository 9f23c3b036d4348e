// `servesim probe` with vllm bench's dataset and burstiness flags against the twin: the ShareGPT file's
// prompts go out at gamma arrival times, and the points record the dataset and burstiness as vllm
// bench's result does. Bad dataset input is one line and exit 2.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { measuredPointsFromRunDir } from "../../src/calibrate/measurements.ts"
import { planFromFlags } from "../../src/cli/probe.ts"
import { readRunDir } from "../../src/probe/run-dir.ts"
import { arrivalOffsetsMs } from "../../src/probe/runner.ts"
import { runCli } from "../cli/cli-helpers.ts"
import { startTwinProcess } from "./twin-process.ts"

const dir = mkdtempSync(join(tmpdir(), "servesim-probe-dataset-"))
const MODEL = "meta-llama/Llama-3.1-8B-Instruct"
const FIXTURE = resolve("test/fixtures/sharegpt-small.json")

interface Rec {
  point: string
  index: number
  intendedAt: number
  promptTokensRequested: number
  maxTokens: number
  ok: boolean
  usage?: { prompt_tokens: number; completion_tokens: number }
}

describe("probe --dataset-name sharegpt --burstiness against the twin", () => {
  it("sends the file's prompts at vllm bench's gamma times and records dataset and burstiness", async () => {
    const file = join(dir, "sharegpt.json")
    copyFileSync(FIXTURE, file)
    const { url, proc } = await startTwinProcess(["--model", MODEL, "--gpu", "h100-sxm", "--num-gpu-blocks", "4000"])
    try {
      const run = join(dir, "run")
      const args = ["--request-rate", "10", "--burstiness", "0.5", "--dataset-name", "sharegpt", "--dataset-path", file, "--num-prompts", "16"]
      const r = runCli(["probe", "--url", url, "--model", MODEL, ...args, "--scrape-interval", "0", "--out", run])
      expect(r.status, r.stderr).toBe(0)
      const summary = JSON.parse(readFileSync(join(run, "points", "rate-10.summary.json"), "utf8")) as Record<string, unknown>
      expect(summary).toMatchObject({ request_rate: 10, burstiness: 0.5, max_concurrency: null, dataset_name: "sharegpt", dataset_path: file, num_prompts: 16, completed: 16 })
      const manifest = JSON.parse(readFileSync(join(run, "manifest.json"), "utf8")) as { plan: Record<string, unknown> }
      expect(manifest.plan).toMatchObject({ burstiness: 0.5, dataset: { name: "sharegpt", path: file } })

      const recs = readFileSync(join(run, "requests.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Rec)
      expect(recs).toHaveLength(16)
      // The requests the plan samples from the file, in index order: lengths and output caps as sent.
      const plan = planFromFlags(
        { url, model: MODEL, rate: "10", burstiness: 0.5, datasetName: "sharegpt", datasetPath: file, isl: "1024", osl: "128", numRequests: "16", warmup: "0", seed: "0", scrapeInterval: "0" },
        { datasetText: readFileSync(file, "utf8") }
      )
      if (typeof plan === "string") throw new Error(plan)
      const byIndex = [...recs].sort((a, b) => a.index - b.index)
      expect(byIndex.map((x) => [x.promptTokensRequested, x.maxTokens])).toEqual(plan.dataset!.requests.map((q) => [q.input, q.output]))
      // The server tokenised texts of different lengths (not one filler length) and generated each reply's length.
      expect(new Set(byIndex.map((x) => x.usage?.prompt_tokens)).size).toBeGreaterThan(3)
      expect(byIndex.map((x) => x.usage?.completion_tokens)).toEqual(plan.dataset!.requests.map((q) => q.output))
      // Intended send times are vllm's gamma schedule (relative to request 0, which arrives after one gap).
      const offsets = arrivalOffsetsMs("0", "rate-10", 10, 16, 0.5)
      const t0 = byIndex[0]!.intendedAt
      for (const x of byIndex) expect(x.intendedAt - t0).toBeCloseTo(offsets[x.index]! - offsets[0]!, 1)

      // calibrate and validate simulate the point with its rate and burstiness.
      const measured = measuredPointsFromRunDir(await Effect.runPromise(readRunDir(run))).points[0]!
      expect([measured.requestRate, measured.burstiness, measured.concurrency]).toEqual([10, 0.5, undefined])

      // A resumed run must send the same prompts: a file that changed since is refused in one line.
      writeFileSync(file, readFileSync(file, "utf8").replace("quick", "slow"))
      const resumed = runCli(["probe", "--resume", run])
      expect(resumed.status).toBe(2)
      expect(resumed.stderr.trim().split("\n")).toHaveLength(1)
      expect(resumed.stderr).toMatch(/--dataset-path .*sharegpt\.json: the file changed since the run started/)
    } finally {
      proc.kill("SIGTERM")
    }
  }, 600_000)

  it("bad dataset input: one line naming the flag or the line, exit 2", () => {
    const bad = join(dir, "bad.jsonl")
    writeFileSync(bad, '{"prompt": "a fine first prompt"}\n{"prompt": "second"}\n{"prompt": oops}\n')
    const cases: Array<[ReadonlyArray<string>, RegExp]> = [
      [["--dataset-name", "sharegpt"], /--dataset-name sharegpt needs --dataset-path FILE/],
      [["--dataset-name", "custom", "--dataset-path", bad], /--dataset-path .*bad\.jsonl: line 3: not valid JSON/],
      [["--dataset-name", "custom", "--dataset-path", join(dir, "missing.jsonl")], /cannot read .*missing\.jsonl/],
      [["--dataset-name", "sharegpt", "--dataset-path", FIXTURE, "--random-range-ratio", "0.2"], /--random-\* flags belong to --dataset-name random/],
      [["--burstiness", "0"], /--burstiness/],
    ]
    for (const [extra, message] of cases) {
      // Refused before any request: the URL need not answer.
      const r = runCli(["probe", "--url", "http://127.0.0.1:9", "--model", MODEL, "--request-rate", "2", ...extra, "--out", join(dir, "never")])
      expect([r.status, r.stderr.trim().split("\n").length], r.stderr).toEqual([2, 1])
      expect(r.stderr).toMatch(message)
    }
  })
})
