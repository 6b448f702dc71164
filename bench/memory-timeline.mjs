#!/usr/bin/env node
/**
 * Memory over one long export (bench/README.md, "Memory over a long export"):
 *
 *   npm run bench:memory -- --rows 20000000 --format csv [--gc-every-ms 6000] [--single-threaded-gc]
 *
 * Seeds the bench table inside workerd, restarts the object's process cold with the V8 inspector
 * on, runs one export into a null sink through real alarms, and samples every second the
 * process's anonymous RSS and the isolate's V8 heap: in use, committed, and ArrayBuffer backing
 * stores (the engine's part and batch buffers). With `--gc-every-ms`, a full collection is forced
 * that often through the inspector: what it frees was garbage, what stays was held.
 */
import { Miniflare } from "miniflare";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../tools/bundle-worker.mjs";
import { connectInspector } from "./measure.mjs";
import { miniflareWorkDir, useWorkerdV8Flags } from "../tools/workerd/index.mjs";
import { newWorkerdPid, rssParts } from "./process-stats.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const rows = Number(opt("rows", "20000000"));
const format = opt("format", "csv");
const gcEveryMs = Number(opt("gc-every-ms", "0"));
// For CI's small run: no hang on local workerd's GC livelock (tools/workerd/index.mjs).
if (argv.includes("--single-threaded-gc")) useWorkerdV8Flags();
const out = opt("out", join(HERE, "results", `memory-${format}-${rows / 1e6}M${gcEveryMs ? "-gc" : ""}.json`));
const INSPECTOR_PORT = 9339;
const MiB = 2 ** 20;
const round = (x) => Math.round(x * 10) / 10;

if (typeof WebSocket !== "function") {
  // Node 20 has a global WebSocket only behind this flag (Node 22 and later: always): run again with it.
  const { status } = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}

const bundle = join(HERE, ".data", "host.js");
await bundleWorker({ entry: join(HERE, "host.ts"), outfile: bundle, sourcemap: false });
const work = miniflareWorkDir("durable-dump-memory-");
const options = (inspect) => ({
  modules: true,
  scriptPath: bundle,
  compatibilityDate: "2025-04-01",
  durableObjects: { BENCH: { className: "BenchHost", useSQLite: true } },
  durableObjectsPersist: join(work, "do"),
  r2Buckets: ["DUMPS"],
  r2Persist: join(work, "r2"),
  ...(inspect ? { inspectorPort: INSPECTOR_PORT } : {}),
});

let mf = new Miniflare(options(false));
const call = async (route, method = "POST") => {
  const res = await mf.dispatchFetch(`http://bench/memory/${route}`, { method });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(body)}`);
  return body;
};
const log = (...a) => console.log(`[memory ${(performance.now() / 1000).toFixed(1)}s]`, ...a);

try {
  for (let from = 1; from <= rows; from += 250_000) await call(`seed?from=${from}&to=${Math.min(rows, from + 249_999)}`);
  log(`seeded ${rows.toLocaleString("en-US")} rows`);
  await mf.dispose();
  mf = new Miniflare(options(true));
  await mf.ready;
  const pid = newWorkerdPid([]);
  await call("ping", "GET");
  const inspector = await connectInspector(INSPECTOR_PORT);
  const heap = async () => {
    const u = await inspector.send("Runtime.getHeapUsage");
    return { usedMiB: round(u.usedSize / MiB), totalMiB: round(u.totalSize / MiB), backingMiB: round((u.backingStorageSize ?? 0) / MiB) };
  };
  const sample = async (t0, extra = {}) => ({ ms: Math.round(performance.now() - t0), anonMiB: round(rssParts(pid).anon / MiB), ...(await heap()), ...extra });

  const t0 = performance.now();
  const before = await sample(t0);
  await call(`start?format=${format}&sink=null`);
  const samples = [];
  let lastGc = performance.now();
  for (;;) {
    const result = await call("result", "GET");
    samples.push(await sample(t0, { ticks: result.ticks?.length ?? 0 }));
    if (samples.length % 5 === 0) log(JSON.stringify(samples.at(-1)));
    if (gcEveryMs && performance.now() - lastGc >= gcEveryMs) {
      await inspector.send("HeapProfiler.collectGarbage");
      lastGc = performance.now();
      samples.push(await sample(t0, { afterForcedGc: true }));
    }
    if (result.done) {
      if (result.state !== "completed") throw new Error(`export ended ${result.state}: ${JSON.stringify(result.error)}`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  inspector.close();
  const settled = samples.filter((s) => s.ms >= 1000 && !s.afterForcedGc);
  const summary = {
    rows,
    format,
    gcEveryMs,
    exportMs: samples.at(-1).ms,
    anonStartMiB: before.anonMiB,
    anonAt1sMiB: settled[0]?.anonMiB ?? null,
    anonPeakMiB: Math.max(...samples.map((s) => s.anonMiB)),
    v8UsedMaxMiB: Math.max(...samples.map((s) => s.usedMiB)),
    v8TotalMaxMiB: Math.max(...samples.map((s) => s.totalMiB)),
    backingMaxMiB: Math.max(...samples.map((s) => s.backingMiB)),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), summary, before, samples }, null, 2) + "\n");
  log(JSON.stringify(summary));
  log(`wrote ${out}`);
} finally {
  await mf.dispose();
  rmSync(work, { recursive: true, force: true });
}
