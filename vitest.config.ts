import { defineConfig } from "vitest/config";

/**
 * End-to-end tests run in Node and drive a real workerd (Miniflare 4) per test file. Files run
 * one at a time: each starts its own workerd, and CI has 2 cores.
 */
export default defineConfig({
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: "forks",
  },
});
