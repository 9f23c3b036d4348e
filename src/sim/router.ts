// Routers for data-parallel replicas: pick a replica per request; they never advance time.
// Least-outstanding follows vLLM's DP load balancing (waiting × 4 + running, vllm/v1/engine/core_client.py);
// prefix-affinity follows the llm-d/BLIS idea of scoring cached prefix tokens.
import type { ReplicaLoad, Router } from "./spec.ts"

const outstanding = (r: ReplicaLoad): number => r.numWaiting * 4 + r.numRunning

const argMin = (replicas: ReadonlyArray<ReplicaLoad>, score: (r: ReplicaLoad) => number): number => {
  let best = 0
  let bestScore = Number.POSITIVE_INFINITY
  for (const r of replicas) {
    const s = score(r)
    if (s < bestScore) {
      bestScore = s
      best = r.index
    }
  }
  return best
}

export const roundRobin = (): Router => {
  let next = 0
  return {
    name: "round-robin",
    pick: (replicas) => {
      const i = next % replicas.length
      next = i + 1
      return i
    },
  }
}

export const leastOutstanding = (): Router => ({
  name: "least-outstanding-requests",
  pick: (replicas) => argMin(replicas, outstanding),
})

export const leastKvUsage = (): Router => ({
  name: "least-kv-usage",
  pick: (replicas) => argMin(replicas, (r) => r.kvCacheUsage + r.numWaiting * 1e-3),
})

/** Most cached prefix tokens wins; ties and misses go to the least loaded replica. */
export const prefixAffinity = (): Router => ({
  name: "prefix-affinity",
  pick: (replicas, req) => {
    let best = -1
    let bestCached = 0
    for (const r of replicas) {
      const cached = r.cachedPrefixTokens(req)
      if (cached > bestCached || (cached === bestCached && cached > 0 && best >= 0 && outstanding(r) < outstanding(replicas[best]!))) {
        bestCached = cached
        best = r.index
      }
    }
    return best >= 0 ? best : argMin(replicas, outstanding)
  },
})

export const builtinRouters: Readonly<Record<string, () => Router>> = {
  "round-robin": roundRobin,
  "least-outstanding-requests": leastOutstanding,
  "least-outstanding": leastOutstanding,
  "least-kv-usage": leastKvUsage,
  "prefix-affinity": prefixAffinity,
}
