// Preloaded (node --import) into the processes bench/simulate-1m.ts starts: at exit, writes the process's
// own CPU time and peak RSS as one JSON line to the file named by SERVESIM_BENCH_RUSAGE.
import { writeFileSync } from "node:fs"

const out = process.env.SERVESIM_BENCH_RUSAGE
if (out !== undefined && out !== "")
  process.on("exit", () => {
    const r = process.resourceUsage()
    writeFileSync(out, `${JSON.stringify({ userS: r.userCPUTime / 1e6, systemS: r.systemCPUTime / 1e6, maxRssMiB: r.maxRSS / 1024 })}\n`)
  })
