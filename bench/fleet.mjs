#!/usr/bin/env node
// npm run bench:fleet: fleet backup throughput in Miniflare. For each fleet size, a fresh runtime
// seeds that many tenants (the demo's size mix), fires the cron and times the run from the run
// manifest (claim to manifest). Prints objects per minute per size and writes
// bench/results/fleet.json (--out to change). All of it runs in one workerd process on this
// machine, so figures compare sizes and settings, not production.
//
//   --sizes 50,100,200,400    fleet sizes (default)
//   --concurrency C           exports at once (default: the library's, 20)
//   --objects-per-instance M  objects per workflow instance (default: the library's, 1,000)
//   --rows N                  every tenant gets N rows instead of the demo's mix (--rows 20: the
//                             orchestration's own cost, exports that take almost nothing)
//   --repeat N                runs per size (default 1), each in a fresh runtime
//   --smoke                   sizes 20,40 once, into bench/.data/smoke/ (implies --single-threaded-gc)
//   --single-threaded-gc      workerd with V8's single-threaded collector (bench/README.md)
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nightlyRunId, seedFleet, tenantName } from "../examples/fleet/demo/plan.mjs";
import { FleetClient, ROOT, buildFleetWorker, startFleetRuntime } from "../examples/fleet/demo/runtime.mjs";
import { miniflareWorkDir, useWorkerdV8Flags } from "../tools/workerd/index.mjs";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "50,100,200,400" },
    concurrency: { type: "string" },
    "objects-per-instance": { type: "string" },
    repeat: { type: "string", default: "1" },
    rows: { type: "string" },
    smoke: { type: "boolean", default: false },
    "single-threaded-gc": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
// A smoke run must not hang on local workerd's GC livelock (tools/workerd/index.mjs); measurements keep V8's default collector.
if (args.smoke || args["single-threaded-gc"]) useWorkerdV8Flags();
const sizes = (args.smoke ? "20,40" : args.sizes).split(",").map(Number);
const repeat = args.smoke ? 1 : Number(args.repeat);
const outDir = args.out ?? join(ROOT, "bench", args.smoke ? ".data/smoke" : "results");
const work = miniflareWorkDir("durable-dump-bench-fleet-");
const bindings = { FLEET_PROGRESS_INTERVAL_MS: "0" };
if (args.concurrency) bindings.FLEET_CONCURRENCY = args.concurrency;
if (args["objects-per-instance"]) bindings.FLEET_OBJECTS_PER_INSTANCE = args["objects-per-instance"];

const scriptPath = await buildFleetWorker(join(work, "worker.js"));
const results = [];
try {
  for (const size of sizes) {
    for (let r = 0; r < repeat; r++) {
      const mf = await startFleetRuntime({ scriptPath, bindings });
      try {
        const client = new FleetClient(mf);
        let rows = 0;
        if (args.rows === undefined) rows = (await seedFleet(client, size)).rows;
        else for (let i = 0; i < size; i++) rows += (await client.seed(tenantName(i), Number(args.rows), i)).rows;
        const night = Date.UTC(2026, 0, 1, 3);
        const wallStart = performance.now();
        await client.cron(night);
        const { manifest } = await client.waitForRun(nightlyRunId(night), { intervalMs: 100, timeoutMs: 1_800_000 });
        const wallMs = performance.now() - wallStart;
        const runMs = manifest.finishedAt - manifest.startedAt;
        if (manifest.failed > 0) throw new Error(`${manifest.failed} of ${size} objects failed`);
        const result = {
          size,
          rows,
          bytes: manifest.bytes,
          instances: manifest.instances,
          runMs,
          wallMs: Math.round(wallMs),
          perMinute: Math.round((size / runMs) * 60_000),
        };
        results.push(result);
        console.log(
          `${String(size).padStart(5)} objects  ${String(result.instances).padStart(3)} instance(s)  run ${(runMs / 1000).toFixed(1).padStart(6)} s  ${String(result.perMinute).padStart(6)} objects/min  (${(manifest.bytes / 1e6).toFixed(1)} MB gzipped)`,
        );
      } finally {
        await mf.dispose();
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
mkdirSync(outDir, { recursive: true });
const file = join(outDir, args.rows === undefined ? "fleet.json" : `fleet-rows-${args.rows}.json`);
const settings = {
  concurrency: Number(args.concurrency ?? 20),
  objectsPerInstance: Number(args["objects-per-instance"] ?? 1000),
  rowsPerTenant: args.rows === undefined ? "demo mix" : Number(args.rows),
};
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), ...settings, results }, null, 2)}\n`);
console.log(`results: ${file}`);
