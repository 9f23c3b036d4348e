// A resolved scenario (the same one `simulate` runs) turned into the twin's options: engine limits,
// step-time model (defaults or --profile), policy, replicas and router, and the workload's output
// lengths for requests that do not set ignore_eos. The workload's arrivals and prompts are ignored:
// requests come from HTTP.
import type { ResolvedScenario } from "../scenario/resolve.ts"
import { builtinRouters } from "../sim/router.ts"
import type { Workload } from "../sim/spec.ts"
import type { MisbehaviourRates } from "./misbehaviour.ts"
import type { TwinOptions } from "./twin.ts"

/**
 * Output length of the i-th request: the i-th request of the scenario's workload (seeded); when the
 * workload runs out it is made again with seed "<seed>/<cycle>". Undefined when it yields nothing.
 */
export const outputLengthsOf = (r: ResolvedScenario, seed: string | number): ((index: number) => number | undefined) => {
  const drawn: number[] = []
  let cycle = 0
  let workload: Workload | undefined
  let sent = 0
  let exhausted = false
  const draw = (): number | undefined => {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (workload === undefined) {
        workload = r.makeWorkload(cycle === 0 ? seed : `${String(seed)}/${cycle}`).workload
        sent = 0
      }
      const spec = workload.kind === "open" ? workload.next() : sent < workload.numRequests ? workload.next(0) : undefined
      sent++
      if (spec !== undefined) return spec.outputTokens
      workload = undefined
      cycle++
    }
    return undefined
  }
  return (index) => {
    while (!exhausted && drawn.length <= index) {
      const v = draw()
      if (v === undefined) exhausted = true
      else drawn.push(v)
    }
    return drawn[index]
  }
}

export interface ServeSettings {
  readonly host?: string
  readonly port?: number
  readonly timeScale?: number
  readonly servedModelName?: string
  readonly misbehaviour?: Partial<MisbehaviourRates>
  readonly log?: (line: string) => void
}

export const twinOptionsFromScenario = (r: ResolvedScenario, s: ServeSettings): TwinOptions => {
  const sc = r.scenario
  const seed = sc.seed ?? 0
  return {
    engine: r.engine,
    stepTime: r.stepTime,
    policy: r.policy,
    replicas: sc.replicas ?? 1,
    router: builtinRouters[sc.router ?? "round-robin"]!(),
    model: r.model.id,
    seed,
    outputLength: outputLengthsOf(r, seed),
    gpuMemoryUtilization: sc.engine?.gpuMemoryUtilization ?? 0.9,
    cacheDtype: r.kvCacheDtype,
    ...(r.numGpuBlocksSource === "given" ? { numGpuBlocksOverride: r.engine.numGpuBlocks } : {}),
    ...(s.servedModelName !== undefined ? { servedModelName: s.servedModelName } : {}),
    ...(s.host !== undefined ? { host: s.host } : {}),
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.timeScale !== undefined ? { timeScale: s.timeScale } : {}),
    ...(s.misbehaviour !== undefined ? { misbehaviour: s.misbehaviour } : {}),
    ...(s.log !== undefined ? { log: s.log } : {}),
  }
}
