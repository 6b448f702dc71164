import type { RelHarness } from "./harness.js";
import { describeCrashAtEveryStep } from "./crash-suite.js";

/**
 * A multi-part export (5 MiB parts, ~12.6 MB of text) broken at every I/O step (crash-suite.ts),
 * in two formats: a SQL dump (one object) and NDJSON (one object per table, so uploads open and
 * complete in the middle of the job).
 */

const MiB = 1024 * 1024;
const CONFIG = { tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20 };
const SEED = { rows: 6000, maxText: 4000 };

async function prepare(h: RelHarness) {
  const obj = h.object();
  await obj.config(CONFIG);
  await obj.seed(SEED.rows, SEED.maxText);
  return obj;
}

const largest = { parts: 3, minBytes: 12e6 };
describeCrashAtEveryStep("SQL dump", { options: {}, prepare, largest });
describeCrashAtEveryStep("NDJSON, one object per table", { options: { format: "ndjson" }, prepare, largest });
