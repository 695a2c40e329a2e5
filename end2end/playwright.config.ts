import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";

// Each run starts its own Rampart on a fresh SQLite database and a random port. Workers load
// this file again: the environment carries the main process's choice to them.
process.env.E2E_PORT ??= String(40000 + Math.floor(Math.random() * 9000)); // no port Chromium blocks
process.env.E2E_RUN ??= `${process.pid}-${Date.now()}`;
const port = Number(process.env.E2E_PORT);
const dataDir = path.join(os.tmpdir(), `rampart-e2e-${process.env.E2E_RUN}`);
const root = path.resolve(__dirname, "..");
const bin = process.env.RAMPART_BIN ?? path.join(root, "target", "debug", "rampart");

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: true,
  workers: 2,
  // The first page of a run can take its wasm past the hydration wait on a busy two-core CI
  // machine; one retry there, none locally (a flaky test still shows as flaky in the report).
  retries: process.env.CI ? 1 : 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `"${bin}" serve`,
    url: `http://127.0.0.1:${port}/ready`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      RAMPART_BIND: `127.0.0.1:${port}`,
      RAMPART_DATA_DIR: dataDir,
      DATABASE_URL: `sqlite://${dataDir}/rampart.db`,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, "target", "site"),
      RUST_LOG: "warn",
      // No SMTP: every message stays in the dev outbox, where the console shows it (blank is
      // unset, whatever the shell that started the run exported).
      RAMPART_SMTP_URL: "",
      // Links in mail point back at this server.
      RAMPART_PUBLIC_URL: `http://127.0.0.1:${port}`,
      // The webhook test's receiver listens on loopback, which webhooks may not reach unless
      // the operator opens it.
      RAMPART_OUTBOUND_ALLOWED_NETWORKS: "127.0.0.0/8",
    },
  },
});
