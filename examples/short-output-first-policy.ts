// An example scheduling policy for `servesim simulate --policy examples/short-output-first-policy.ts`.
// A policy module's default export implements SchedulingPolicy (src/sim/spec.ts):
//   waitingKey(req) — the waiting queue runs the lowest key first (ties: arrival, then id);
//   pickVictim(running) — index into `running` (admission order) of the request to preempt when the
//   KV cache is full. Policies decide; they never advance time or record metrics.
// This one is "shortest job first" on the requested output length (an oracle a real server only has
// when clients declare max_tokens honestly), and preempts the request with the most output left.
import type { PolicyRequestView, SchedulingPolicy } from "../src/sim/spec.ts"

const remainingOutput = (r: PolicyRequestView): number => r.outputTokens - r.numOutputTokensDone

const shortOutputFirst: SchedulingPolicy = {
  name: "short-output-first",
  waitingKey: (req) => remainingOutput(req),
  pickVictim: (running) => {
    let victim = 0
    for (let i = 1; i < running.length; i++) if (remainingOutput(running[i]!) >= remainingOutput(running[victim]!)) victim = i
    return victim
  },
}

export default shortOutputFirst
