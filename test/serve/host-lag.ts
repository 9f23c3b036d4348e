// How late this process ran what it was due to run, measured while a wall-clock test runs: the twin's
// own worst event lag plus the event loop's worst delay (the client reads its chunks on the same loop,
// so a busy host delays them too). A test that compares wall times with simulated ones widens its
// upper bounds by this — lag only ever makes things later, so lower bounds stay as they are.
import { monitorEventLoopDelay } from "node:perf_hooks"
import type { Twin } from "../../src/serve/twin.ts"

const RESOLUTION_MS = 10

/** Starts measuring; call the returned function once, at the end: the lag seen, wall ms (twin + client loop). */
export const watchLag = (twin: Twin): (() => number) => {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  h.enable()
  return () => {
    h.disable()
    return Math.max(0, twin.sim.maxLagMs) + (h.count === 0 ? 0 : Math.max(0, h.max / 1e6 - RESOLUTION_MS))
  }
}
