// The simulation pool of sweep, search and compare: tasks (a scenario object and a seed) run on worker
// threads (src/sweep/worker.ts) or in this thread, results in task order.
import { Effect, Scope } from "effect"
import { Worker } from "node:worker_threads"
import { InputError } from "../scenario/errors.ts"
import { runSimTask, type SimTask, type SimTaskResult } from "./worker.ts"

/** Bundled (scripts/build.mjs), this module is a chunk in dist/cli/ beside the worker entry sweep-worker.js. */
const BUNDLED = !import.meta.url.endsWith(".ts")
const WORKER_URL = new URL(BUNDLED ? "./sweep-worker.js" : "./worker.ts", import.meta.url)

/** Under tsx the worker runs TypeScript: it registers tsx's loader before importing the worker module. */
const spawnWorker = (): Worker => {
  if (BUNDLED) return new Worker(WORKER_URL)
  const tsx = import.meta.resolve("tsx/esm/api")
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}) })`
  return new Worker(code, { eval: true })
}

type OkResult = Extract<SimTaskResult, { ok: true }>

/** Simulation tasks on a fixed set of worker threads, reused across calls (the search runs rounds). */
export interface SimPool {
  /**
   * Runs the tasks and returns their results in task order (so the output does not depend on which
   * worker finished first). A task the scenario cannot run fails with its message; a crash is a defect.
   */
  readonly run: (tasks: ReadonlyArray<SimTask>, onProgress?: (done: number) => void) => Effect.Effect<OkResult[], InputError>
}

interface Job {
  readonly tasks: ReadonlyArray<SimTask>
  readonly results: Array<SimTaskResult | undefined>
  next: number
  done: number
  /** Message id → task index (ids are unique over the pool's life, so a late reply of a failed job is ignored). */
  readonly index: Map<number, number>
  readonly onProgress: ((done: number) => void) | undefined
  readonly finish: (e: Effect.Effect<void>) => void
}

const collect = (results: ReadonlyArray<SimTaskResult | undefined>): Effect.Effect<OkResult[], InputError> =>
  Effect.gen(function* () {
    const out: OkResult[] = []
    for (const r of results) {
      if (r === undefined) continue
      if (!r.ok) {
        if (r.defect === true) return yield* Effect.die(new Error(r.error))
        return yield* new InputError({ message: r.error })
      }
      out.push(r)
    }
    return out
  })

/**
 * A pool of `workers` threads (0: run in this thread, same results), started on first use and
 * terminated when the scope closes (or at once when a run is interrupted).
 */
export const makeSimPool = (workers: number): Effect.Effect<SimPool, never, Scope.Scope> =>
  Effect.gen(function* () {
    const threads: Worker[] = []
    const idle: Worker[] = []
    let job: Job | undefined
    let seq = 0
    const terminate = () => {
      for (const w of threads) void w.terminate()
      threads.length = 0
      idle.length = 0
    }
    yield* Effect.addFinalizer(() => Effect.sync(terminate))
    const feed = (w: Worker) => {
      const j = job
      const task = j?.tasks[j.next]
      if (j === undefined || task === undefined) {
        idle.push(w)
        return
      }
      const id = seq++
      j.index.set(id, j.next)
      j.next++
      w.postMessage({ ...task, id })
    }
    const spawn = () => {
      const w = spawnWorker()
      threads.push(w)
      w.on("message", (r: SimTaskResult) => {
        const j = job
        const i = j?.index.get(r.id)
        if (j === undefined || i === undefined) {
          feed(w)
          return
        }
        j.results[i] = { ...r, id: i }
        j.done++
        j.onProgress?.(j.done)
        if (!r.ok || j.done === j.tasks.length) {
          job = undefined
          idle.push(w)
          j.finish(Effect.void)
        } else feed(w)
      })
      w.on("error", (e: Error) => {
        const j = job
        job = undefined
        terminate()
        j?.finish(Effect.die(e))
      })
      return w
    }
    const run = (tasks: ReadonlyArray<SimTask>, onProgress?: (done: number) => void): Effect.Effect<OkResult[], InputError> =>
      Effect.gen(function* () {
        const results = new Array<SimTaskResult | undefined>(tasks.length)
        if (tasks.length === 0) return []
        if (workers <= 0) {
          for (const [i, task] of tasks.entries()) {
            results[i] = yield* Effect.promise(() => runSimTask({ ...task, id: i }))
            onProgress?.(i + 1)
            if (results[i]?.ok === false) break
          }
          return yield* collect(results)
        }
        yield* Effect.callback<void>((resume) => {
          job = { tasks, results, next: 0, done: 0, index: new Map(), onProgress, finish: resume }
          while (threads.length < Math.min(workers, tasks.length)) idle.push(spawn())
          for (const w of idle.splice(0)) feed(w)
          return Effect.sync(() => {
            job = undefined
            terminate()
          })
        })
        return yield* collect(results)
      })
    return { run }
  })
