// A tiny calibrated profile with an uncertainty block, made as a user would: three simulated "measured"
// runs with a TTFT the physics does not reproduce exactly (so the fit has residuals), then calibrate.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { expect } from "vitest"
import { runCli } from "./cli-helpers.ts"

export const INTERVAL_MODEL = ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpu", "h100-sxm"]

/** CLI runs of one test are many child processes on a shared machine: their bound is the run's, not vitest's 60 s. */
export const LONG = 600_000

/** Writes dir/bench.json and dir/profile.json (calibrated, with uncertainty); returns their paths. */
export const makeIntervalProfile = (dir: string): { readonly bench: string; readonly profile: string } => {
  const bench = join(dir, "bench.json")
  const profile = join(dir, "profile.json")
  const results = [1, 2, 4].map((c) => {
    const r = runCli(["simulate", "--json", ...INTERVAL_MODEL, "--concurrency", String(c), "--num-requests", String(8 * c), "--isl", "256", "--osl", "32", "--seed", String(c)])
    expect(r.status).toBe(0)
    const s = JSON.parse(r.stdout) as Record<string, number>
    return { ...s, mean_ttft_ms: s.mean_ttft_ms! * [1.1, 0.9, 1.05][c >> 1]!, max_concurrency: c, num_prompts: 8 * c, backend: "vllm", model_id: "meta-llama/Llama-3.1-8B-Instruct" }
  })
  writeFileSync(bench, JSON.stringify(results))
  const cal = runCli(["calibrate", bench, ...INTERVAL_MODEL, "--out", profile, "--no-cv"], LONG)
  expect(cal.status).toBe(0)
  return { bench, profile }
}
