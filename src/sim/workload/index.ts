// Workload generators: what requests arrive when, with which lengths and shared prefixes.
export { makeRng, shuffledIndices, STREAMS, type Rng } from "./random.ts"
export {
  lengthSampler,
  lognormalParams,
  meanLength,
  parseLengthDist,
  sampleLength,
  sharegptInput,
  sharegptOutput,
  type LengthDist,
  type LengthPreset,
} from "./lengths.ts"
export {
  arrivalStageCount,
  arrivalStream,
  parseArrivalSpec,
  parseStages,
  stageRequestCount,
  type Arrival,
  type ArrivalSpec,
  type ArrivalStream,
  type RateStage,
} from "./arrivals.ts"
export {
  closedLoopWorkload,
  openLoopWorkload,
  type ClosedLoopOptions,
  type CountedClosedLoopWorkload,
  type CountedOpenLoopWorkload,
  type OpenLoopOptions,
  type PriorityDist,
  type SyntheticOptions,
} from "./synthetic.ts"
export {
  asRunByInferencePerf,
  INFERENCE_PERF_RETOKENIZE_SCALE,
  parseSharedPrefixSpec,
  sharedPrefixWorkload,
  type SharedPrefixOptions,
  type SharedPrefixSpec,
} from "./shared-prefix.ts"
export { parseTrace, traceWorkload, type TraceFormat } from "./trace.ts"
