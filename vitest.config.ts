import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // Timeouts catch hangs, not slowness: CPU-bound tests get 15 minutes, over 10× what the slowest
    // needs at a load average of 10 on 2 cores (a 60 s limit failed tests there for nothing).
    testTimeout: 900_000,
    hookTimeout: 900_000,
  },
})
