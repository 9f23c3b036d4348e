// Progress of a long command (validate, calibrate, search, sweep) on stderr. Nothing for the first
// ~2 s, so quick runs stay silent; then, on a terminal, one line redrawn in place (bar, count, elapsed,
// ETA); otherwise — stderr piped, or --json — a plain line every 10 s, plus a closing line if any was
// written. stdout is never touched. The stream and the clock are parameters, for tests.

export interface ProgressStream {
  readonly isTTY?: boolean
  readonly write: (s: string) => unknown
}

export interface ProgressOptions {
  readonly stream?: ProgressStream
  /** Milliseconds, monotonic (default performance.now). */
  readonly now?: () => number
  /** Nothing at all (--quiet). */
  readonly quiet?: boolean
  /** Machine-readable output was asked for (--json): periodic plain lines only, never a redrawn line. */
  readonly json?: boolean
  /** Seconds between plain lines (default 10). */
  readonly intervalS?: number
  /** Seconds before anything is shown (default 2). */
  readonly afterS?: number
  /** What one unit of work is called ("points", "runs"). */
  readonly unit?: string
}

export interface Progress {
  /** `done` of `total` units finished; `detail` names the current one; `total` when the amount of work changed. */
  readonly tick: (done: number, detail?: string, total?: number) => void
  /** Ends the progress line (call once, when the work is done or abandoned). */
  readonly end: () => void
}

const BAR = 24

const clock = (s: number): string => {
  const t = Math.max(0, Math.round(s))
  return t < 60 ? `${t}s` : t < 3600 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s` : `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`
}

/** One progress line: "label [####----] 3/10 points, 4s, ~9s left: detail". */
export const formatProgressLine = (label: string, done: number, total: number, elapsedS: number, o: { readonly bar: boolean; readonly unit?: string; readonly detail?: string }): string => {
  const frac = total > 0 ? Math.min(1, done / total) : 1
  const filled = Math.round(frac * BAR)
  const bar = o.bar ? ` [${"#".repeat(filled)}${"-".repeat(BAR - filled)}]` : ""
  const eta = done > 0 && done < total ? `, ~${clock((elapsedS / done) * (total - done))} left` : ""
  return `${label}${bar} ${done}/${total}${o.unit !== undefined ? ` ${o.unit}` : ""}, ${clock(elapsedS)}${eta}${o.detail !== undefined ? `: ${o.detail}` : ""}`
}

export const progress = (label: string, initialTotal: number, o: ProgressOptions = {}): Progress => {
  let total = initialTotal
  const stream = o.stream ?? process.stderr
  const now = o.now ?? (() => performance.now())
  if (o.quiet === true) return { tick: () => undefined, end: () => undefined }
  const live = stream.isTTY === true && o.json !== true
  const intervalMs = (o.intervalS ?? 10) * 1000
  const afterMs = (o.afterS ?? 2) * 1000
  const start = now()
  let lastDraw = Number.NEGATIVE_INFINITY
  let lastLine = start
  let open = false
  let wrote = false
  let last = { done: 0, detail: undefined as string | undefined }
  const line = (bar: boolean) => formatProgressLine(label, last.done, total, (now() - start) / 1000, { bar, ...(o.unit !== undefined ? { unit: o.unit } : {}), ...(last.detail !== undefined ? { detail: last.detail } : {}) })
  return {
    tick: (done, detail, newTotal) => {
      last = { done, detail }
      if (newTotal !== undefined) total = newTotal
      const t = now()
      if (t - start < afterMs) return
      if (live) {
        if (t - lastDraw < 100) return
        lastDraw = t
        stream.write(`\r\x1b[2K${line(true)}`)
        open = true
      } else if (t - lastLine >= intervalMs) {
        lastLine = t
        stream.write(`${line(false)}\n`)
        wrote = true
      }
    },
    end: () => {
      if (open) stream.write(`\r\x1b[2K${line(true)}\n`)
      else if (wrote) stream.write(`${line(false)}\n`)
      open = false
      wrote = false
    },
  }
}
