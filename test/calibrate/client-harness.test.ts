import { describe, expect, it } from "vitest"
import { HARNESSES, harnessOfLabel, lengthFor, meanLength } from "../../src/calibrate/client-harness.ts"
import { scenarioForPoint } from "../../src/calibrate/point-scenario.ts"
import type { MeasuredPoint } from "../../src/calibrate/measurements.ts"

const point = (label: string, over: Partial<MeasuredPoint> = {}): MeasuredPoint => ({
  source: "silicon-sweeps.csv:2",
  kind: "table",
  label,
  engine: "vllm",
  model: "meta-llama/Llama-3.1-70B",
  gpu: "h100-sxm",
  precision: "fp8",
  tp: 2,
  pp: 1,
  workload: "random-fixed",
  isl: 1024,
  osl: 8192,
  concurrency: 16,
  metrics: {},
  ...over,
})

describe("client harness of a measured row", () => {
  it("InferenceX runs in the silicon table (dated, cfg and gap-analysis copies) vs the fixed-length collection (_epnone_)", () => {
    expect(harnessOfLabel("aiconfigurator-silicon:2026_04_06_llama_3_1_70b_h100_sxm_vllm_fp8_agg_1024x1024_c4_tp2_ep1_738").name).toBe("inferencex")
    expect(harnessOfLabel("aiconfigurator-silicon:minimaxm2_5_h200_vllm_fp8_agg_1024x1024_c4_cfg606").name).toBe("inferencex")
    expect(harnessOfLabel("aiconfigurator-silicon:qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_vllm_agg_1024x128_c16_tp2_epnone_1").name).toBe("fixed")
    expect(harnessOfLabel("inference-sim-training:20260217-155451-llama-2-7b-tp1-codegen:stage0").name).toBe("fixed")
    expect(harnessOfLabel(undefined).name).toBe("fixed")
  })

  it("InferenceX lengths: np.random.randint(int(0.8·L), L), so uniform on [⌊0.8L⌋, L − 1] with mean below L", () => {
    expect(lengthFor(HARNESSES.inferencex, 1024)).toEqual({ kind: "uniform", min: 819, max: 1023 })
    expect(meanLength(HARNESSES.inferencex, 1024)).toBe(921)
    expect(lengthFor(HARNESSES.fixed, 1024)).toBe(1024)
    expect(meanLength(HARNESSES.fixed, 1024)).toBe(1024)
    expect(lengthFor(HARNESSES.inferencex, 1)).toBe(1)
  })

  it("the point's scenario sends what the client sent: lengths, 10 × c requests, and the server's scheduling mode by version", () => {
    const ix = scenarioForPoint(point("aiconfigurator-silicon:2026_04_06_llama_3_1_70b_h100_sxm_vllm_fp8_agg_1024x8192_c16_tp2_ep1_609", { engineVersion: "0.18.0" }))
    expect(ix).toMatchObject({ workload: { concurrency: 16, input: { kind: "uniform", min: 819, max: 1023 }, output: { kind: "uniform", min: 6553, max: 8191 }, numRequests: 160 } })
    expect(ix).toMatchObject({ engine: { asyncScheduling: true } })
    const fixed = scenarioForPoint(point("aiconfigurator-silicon:qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_vllm_agg_1024x128_c16_tp2_epnone_1", { engineVersion: "0.12.0" }))
    expect(fixed).toMatchObject({ workload: { input: 1024, output: 8192, numRequests: 160 }, engine: { asyncScheduling: false } })
    // An explicit harness wins over the provenance.
    const forced = scenarioForPoint(point("aiconfigurator-silicon:2026_04_06_llama_3_1_70b_h100_sxm_vllm_fp8_agg_1024x8192_c16_tp2_ep1_609"), { harness: HARNESSES.fixed })
    expect(forced).toMatchObject({ workload: { input: 1024, output: 8192 } })
    expect((forced as { engine?: unknown }).engine).toBeUndefined()
  })
})

describe("request count of a known client", () => {
  it("stays 10 × concurrency even when the caller would simulate fewer (calibration)", () => {
    const few = { closedLoopRequests: (c: number) => 5 * c }
    const ix = scenarioForPoint(point("aiconfigurator-silicon:2026_04_06_llama_3_1_70b_h100_sxm_vllm_fp8_agg_1024x8192_c16_tp2_ep1_609"), few)
    expect(ix).toMatchObject({ workload: { numRequests: 160 } })
    const fixed = scenarioForPoint(point("aiconfigurator-silicon:qwen_qwen3_32b_qwen_qwen3_32b_h100_sxm_vllm_agg_1024x128_c16_tp2_epnone_1"), few)
    expect(fixed).toMatchObject({ workload: { numRequests: 80 } })
  })
})
