import { Command } from "commander"
import { describe, expect, it } from "vitest"
import { planFromFlags, register } from "../../src/cli/probe.ts"

const base = { isl: "1024", osl: "128", numRequests: "200", warmup: "0", seed: "0", scrapeInterval: "1" }

describe("servesim probe flags", () => {
  it("build a plan: closed loop, URL normalised, ids per point", () => {
    const plan = planFromFlags({ ...base, url: "http://h:8000/v1/", model: "m", concurrency: "1,4,16,64" })
    expect(typeof plan).toBe("object")
    if (typeof plan === "string") return
    expect(plan.url).toBe("http://h:8000")
    expect(plan.points.map((p) => p.id)).toEqual(["concurrency-1", "concurrency-4", "concurrency-16", "concurrency-64"])
    expect(plan.timeoutS).toBe(600)
    expect(plan.endpoint).toBe("completions")
  })

  it("name the flag that is wrong", () => {
    expect(planFromFlags({ ...base, model: "m", concurrency: "1" })).toMatch(/^--url is required/)
    expect(planFromFlags({ ...base, url: "http://h", model: "m" })).toMatch(/--concurrency .* or --rate/)
    expect(planFromFlags({ ...base, url: "http://h", model: "m", concurrency: "1", rate: "2" })).toBe("give --concurrency or --rate, not both")
    expect(planFromFlags({ ...base, url: "http://h", model: "m", concurrency: "1,x" })).toBe('--concurrency 1,x: "x" is not a positive number')
    expect(planFromFlags({ ...base, url: "http://h", model: "m", concurrency: "1.5" })).toMatch(/expected integers/)
    expect(planFromFlags({ ...base, url: "http://h", model: "m", rate: "2", isl: "0" })).toMatch(/^--isl 0: expected an integer ≥ 1/)
    expect(planFromFlags({ ...base, url: "http://h", model: "m", concurrency: "4", maxConcurrency: "2" })).toMatch(/--max-concurrency caps an open-loop/)
  })

  it("registers the probe command with its flags", () => {
    const program = new Command()
    register(program)
    const probe = program.commands.find((c) => c.name() === "probe")!
    const flags = probe.options.map((o) => o.long)
    for (const f of ["--url", "--model", "--concurrency", "--rate", "--isl", "--osl", "--num-requests", "--warmup", "--timeout", "--api-key-env", "--chat", "--out", "--resume", "--seed"]) {
      expect(flags).toContain(f)
    }
  })
})
