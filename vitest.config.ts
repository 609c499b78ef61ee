import { defineConfig } from "vitest/config"

// Two projects: `unit` (in-process: pure functions, services over the in-memory
// filesystem, real SMTP/HTTP servers on 127.0.0.1) and `e2e` (the built daemon
// as a process, real users, mounts and browsers). `npm run test:unit` and
// `npm run test:e2e` run one each; `npm test` runs both.
export default defineConfig({
  test: {
    // End-to-end tests spawn the built daemon and watch real folders: give them room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ["default", "./test/support/summaryReporter.ts"],
    // The run's own temporary folder, the copy other users run, and the check that nothing is left behind.
    globalSetup: ["./test/support/globalSetup.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/e2e/**", "test/consumer/**"] } },
      { extends: true, test: { name: "e2e", include: ["test/e2e/**/*.test.ts"] } }
    ]
  }
})
