// Which command-line flag sets which scenario field: what error messages name instead of the file
// when a flag gave the bad value (schema.ts decodeScenario, withFlagNames). The CLI's flag parsers
// (src/cli/flags.ts) build scenario objects from the same table.
/**
 * Where each scenario flag goes in a scenario object. The flag is `--` and its attribute name in
 * kebab case (`maxNumSeqs` → `--max-num-seqs`), as commander derives it.
 */
export const FLAG_FIELDS: ReadonlyArray<readonly [attribute: string, path: string]> = [
  ["model", "model"],
  ["gpu", "gpu"],
  ["tp", "tp"],
  ["pp", "pp"],
  ["ep", "ep"],
  ["replicas", "replicas"],
  ["precision", "precision"],
  ["kvCacheDtype", "kvCacheDtype"],
  ["policy", "policy"],
  ["router", "router"],
  ["seed", "seed"],
  ["maxRequests", "maxRequests"],
  ["goodput", "goodput"],
  ["profile", "profile"],
  ["specMethod", "speculative.method"],
  ["specTokens", "speculative.numTokens"],
  ["specAcceptance", "speculative.acceptance"],
  ["draftModel", "speculative.draftModel"],
  ["maxNumSeqs", "engine.maxNumSeqs"],
  ["maxNumBatchedTokens", "engine.maxNumBatchedTokens"],
  ["maxModelLen", "engine.maxModelLen"],
  ["gpuMemoryUtilization", "engine.gpuMemoryUtilization"],
  ["numGpuBlocks", "engine.numGpuBlocks"],
  ["blockSize", "engine.blockSize"],
  ["enablePrefixCaching", "engine.enablePrefixCaching"],
  ["enableChunkedPrefill", "engine.enableChunkedPrefill"],
  ["longPrefillTokenThreshold", "engine.longPrefillTokenThreshold"],
  ["asyncScheduling", "engine.asyncScheduling"],
  ["kvOffloadingSize", "engine.kvOffloadingSize"],
  // --disagg's pools first: the KV link's fields go under the same object.
  ["disagg", "disaggregation"],
  ["kvTransferGbps", "disaggregation.kvTransfer.bandwidthGBps"],
  ["kvTransferLatencyMs", "disaggregation.kvTransfer.latencyMs"],
  ["concurrency", "workload.concurrency"],
  ["rate", "workload.rate"],
  ["burstiness", "workload.burstiness"],
  ["stages", "workload.stages"],
  ["isl", "workload.input"],
  ["osl", "workload.output"],
  ["oslMultiplier", "workload.oslMultiplier"],
  ["prefixShare", "workload.prefixShare"],
  ["prefixGroups", "workload.prefixGroups"],
  ["workload", "workload.file"],
  ["trace", "workload.trace"],
  ["numRequests", "workload.numRequests"],
  ["warmup", "workload.warmup"],
]

export const flagName = (attribute: string): string => `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`

/** Every scenario field a flag can set, with its flag ("workload.rate" → "--rate"). */
export const FIELD_FLAGS: ReadonlyMap<string, string> = new Map(FLAG_FIELDS.map(([attr, path]) => [path, flagName(attr)]))
