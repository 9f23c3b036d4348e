import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Limits for a hung test, not for a slow host: most tests are CPU-bound (child CLI processes, fits,
    // property runs) and a 2-core machine at load 20 runs them 10–20× slower than idle. Tests that wait
    // on something (a server, a port) carry their own, tighter deadlines.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
})
