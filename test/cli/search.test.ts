import { describe, expect, it } from "vitest"
import type { SearchReport } from "../../src/cli/search.ts"
import { runCliAsync as runAsync } from "./cli-helpers.ts"

describe("servesim search", () => {
  it("picks the GPU that can meet the SLO when the cheaper one cannot (known by construction)", async () => {
    // At 1 req/s Llama-3.1-8B decodes in ~12.5 ms per token on an A800 whatever the replica count
    // (replicas do not shorten one request's steps) and in ~6 ms on an H200: a 10 ms TPOT bound rules
    // the cheaper A800 out, and one H200 is enough.
    const args = ["search", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--gpus", "a800-sxm,h200-sxm", "--tp", "1", "--max-gpus", "2", "--rate", "1", "--num-requests", "100", "--slo", "ttft:1000,tpot:10"]
    const [json, table] = await Promise.all([runAsync([...args, "--json"]), runAsync(args)])
    expect(json.status).toBe(0)
    const r = JSON.parse(json.stdout) as SearchReport
    expect(r.best?.gpu).toBe("h200-sxm")
    expect(r.best?.numGpus).toBe(1)
    expect(r.best?.replicas).toBe(1)
    expect(r.best?.tp).toBe(1)
    expect(r.best?.maxNumSeqs).toBeGreaterThan(0)
    expect(r.best?.meetsSlo).toBe(true)
    expect(r.best?.usdPerHour).toBeCloseTo(r.gpus.find((g) => g.gpu === "h200-sxm")!.usdPerGpuHour, 9)
    const a800 = r.others.find((v) => v.gpu === "a800-sxm")
    expect(a800?.verdict).toBe("misses")
    // The first round tries each layout with the most replicas allowed: two A800s still miss.
    expect(a800?.replicas).toBe(2)
    expect(a800?.sloMisses?.[0]).toMatch(/^mean TPOT \d+(\.\d+)? ms > 10\.0 ms \(\+/)
    expect(a800?.why).toMatch(/^mean TPOT .* > 10\.0 ms .* with 2 replicas \(2 GPUs\)$/)
    expect(r.simulations).toBe(3)
    // The launch line is the chosen configuration, flag for flag.
    const serve = r.best?.vllmServe
    expect(serve?.args.slice(0, 5)).toEqual(["vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct", "--tensor-parallel-size", "1"])
    const flag = (name: string) => serve?.args[(serve?.args.indexOf(name) ?? -2) + 1]
    expect(flag("--max-num-seqs")).toBe(String(r.best?.maxNumSeqs))
    expect(flag("--gpu-memory-utilization")).toBe("0.9")
    expect(serve?.args).not.toContain("--data-parallel-size")

    expect(table.status).toBe(0)
    expect(table.stdout).toMatch(/cheapest: 1× h200-sxm \(tp 1 × 1 replica, max_num_seqs \d+\), \$\d+\.\d\d\/h/)
    expect(table.stdout).toContain(`  launch: ${serve?.command}\n`)
    expect(table.stdout).toMatch(/runners-up and why each loses:/)
    expect(table.stdout).toMatch(/a800-sxm tp1 +mean TPOT/)
  })

  it("skips layouts the model does not fit, with the reason; a 70B model ends up on TP ≥ 2", async () => {
    const r = await runAsync(["search", "--model", "meta-llama/Llama-3.1-70B-Instruct", "--gpus", "h100-sxm,h200-sxm", "--tp", "1,2", "--max-gpus", "2", "--rate", "1", "--num-requests", "60", "--json", "--quiet"])
    expect(r.status).toBe(0)
    expect(r.stderr).toBe("")
    const j = JSON.parse(r.stdout) as SearchReport
    expect(j.skipped.map((s) => s.layout).sort()).toEqual(["h100-sxm tp1", "h200-sxm tp1"])
    for (const s of j.skipped) expect(s.reason).toMatch(/does not fit on 1× h[12]00-sxm: weights take \d+\.\d GiB per GPU/)
    expect(j.best?.tp).toBe(2)
    expect(j.best?.numGpus).toBe(2)
    expect(j.best?.vllmServe.command).toMatch(/^vllm serve meta-llama\/Llama-3\.1-70B-Instruct --tensor-parallel-size 2 --max-num-seqs \d+ --max-num-batched-tokens \d+ /)
  })

  it("exits 2 with one line when nothing meets the SLOs or a flag is bad", async () => {
    const [none, badTp, badGpu, badSlo] = await Promise.all([
      runAsync(["search", "--gpus", "a800-sxm", "--tp", "1", "--max-gpus", "1", "--rate", "1", "--num-requests", "40", "--slo", "tpot:1", "--quiet"]),
      runAsync(["search", "--rate", "1", "--tp", "1,x"]),
      runAsync(["search", "--rate", "1", "--gpus", "a800-sxm,nope"]),
      runAsync(["search", "--rate", "1", "--slo", "ttft"]),
    ])
    expect(none.status).toBe(2)
    expect(none.stdout).toMatch(/cheapest: none/)
    expect(none.stdout).toMatch(/a800-sxm tp1 +mean TPOT .* > 1\.00 ms/)
    expect(none.stderr.trim().split("\n")).toHaveLength(1)
    expect(none.stderr).toMatch(/no configuration within 1 GPUs meets the SLOs/)
    for (const [r, re] of [
      [badTp, /--tp: "x" is not a positive integer/],
      [badGpu, /no price for GPU "nope"/],
      [badSlo, /--slo: SLO term "ttft" is not key:value/],
    ] as const) {
      expect(r.status).toBe(2)
      expect(r.stderr.trim().split("\n")).toHaveLength(1)
      expect(r.stderr).toMatch(re)
    }
  })
})
