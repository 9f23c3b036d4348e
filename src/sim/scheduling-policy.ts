// Built-in scheduling policies: the order of the waiting queue and the preemption victim
// (vllm/v1/core/sched/scheduler.py: fcfs preempts the last request in `running`; priority preempts
// the running request with the largest (priority, arrival)).
import type { PolicyRequestView, SchedulingPolicy } from "./spec.ts"

/** Newest admitted request: the tail of vLLM's running list. */
const lastAdmitted = (running: ReadonlyArray<PolicyRequestView>): number => running.length - 1

export const fcfs: SchedulingPolicy = {
  name: "fcfs",
  waitingKey: (req) => req.arrival,
  pickVictim: lastAdmitted,
}

export const priority: SchedulingPolicy = {
  name: "priority",
  waitingKey: (req) => req.priority,
  pickVictim: (running) => {
    let victim = running.length - 1
    for (let i = running.length - 2; i >= 0; i--) {
      const r = running[i]!
      const v = running[victim]!
      if (r.priority > v.priority || (r.priority === v.priority && r.arrival > v.arrival)) victim = i
    }
    return victim
  },
}

/** Shortest prompt first: fewer tokens left to prefill runs first; the newest admitted is preempted. */
export const shortestPromptFirst: SchedulingPolicy = {
  name: "spf",
  waitingKey: (req) => req.inputTokens + req.numOutputTokensDone - req.numComputedTokens,
  pickVictim: lastAdmitted,
}

export const builtinPolicies: Readonly<Record<string, SchedulingPolicy>> = {
  fcfs,
  priority,
  spf: shortestPromptFirst,
  "shortest-prompt-first": shortestPromptFirst,
}

/** Checks that a value loaded from a user module implements SchedulingPolicy; returns an error line or undefined. */
export const policyShapeError = (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null) return "the module's default export must be an object implementing SchedulingPolicy"
  const v = value as Record<string, unknown>
  if (typeof v.name !== "string") return "policy.name: expected a string"
  if (typeof v.waitingKey !== "function") return "policy.waitingKey: expected a function (request) => number"
  if (typeof v.pickVictim !== "function") return "policy.pickVictim: expected a function (running) => index"
  return undefined
}
