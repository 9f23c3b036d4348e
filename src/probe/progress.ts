// Progress of a sweep point on stderr: one rewritten line when stderr is a TTY, otherwise a plain line
// every 10 s (and at the end), so CI logs stay readable.

export interface PointProgress {
  readonly point: string
  readonly total: number
  readonly done: number
  readonly ok: number
  readonly failed: number
  readonly elapsedS: number
  readonly medianTtftMs?: number
}

export interface ProgressSink {
  readonly update: (p: PointProgress) => void
  /** Ends the point's progress line. */
  readonly finish: (p: PointProgress) => void
  readonly info: (message: string) => void
  readonly warn: (message: string) => void
}

export const silentProgress: ProgressSink = {
  update: () => undefined,
  finish: () => undefined,
  info: () => undefined,
  warn: () => undefined
}

const BAR_WIDTH = 24

export const formatProgress = (p: PointProgress, bar: boolean): string => {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1
  const filled = Math.round(frac * BAR_WIDTH)
  const barText = bar ? `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ` : ""
  const ttft = p.medianTtftMs === undefined ? "" : `  ttft p50 ${p.medianTtftMs.toFixed(0)} ms`
  const fail = p.failed > 0 ? `  failed ${p.failed}` : ""
  return `${p.point} ${barText}${p.done}/${p.total}${fail}${ttft}  ${p.elapsedS.toFixed(1)} s`
}

/** Writes to a stream (stderr by default); TTY-aware. */
export const streamProgress = (
  stream: { readonly isTTY?: boolean; readonly write: (s: string) => unknown } = process.stderr,
  intervalS = 10
): ProgressSink => {
  const tty = stream.isTTY === true
  let lastLine = -Infinity
  let lastDraw = -Infinity
  let open = false
  const clear = () => {
    if (open) {
      stream.write("\r\x1b[2K")
      open = false
    }
  }
  return {
    update: (p) => {
      const now = performance.now()
      if (tty) {
        if (now - lastDraw < 100) return
        lastDraw = now
        stream.write(`\r\x1b[2K${formatProgress(p, true)}`)
        open = true
      } else if (now - lastLine >= intervalS * 1000) {
        lastLine = now
        stream.write(`${formatProgress(p, false)}\n`)
      }
    },
    finish: (p) => {
      clear()
      stream.write(`${formatProgress(p, tty)}\n`)
      lastLine = -Infinity
    },
    info: (m) => {
      clear()
      stream.write(`${m}\n`)
    },
    warn: (m) => {
      clear()
      stream.write(`warning: ${m}\n`)
    }
  }
}
