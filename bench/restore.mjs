#!/usr/bin/env node
/**
 * The restore benchmark: `npm run bench:restore` (bench/README.md, "Restores").
 *
 *   npm run bench:restore                 1M mixed rows, plain SQL
 *   npm run bench:restore -- --gzip       the same dump gzip-compressed
 *   npm run bench:restore -- --rows 200000 --smoke
 *   npm run bench:restore -- --heap       also samples the isolate's V8 heap (inspector) during the quiet restore
 *
 * In one run: builds the mixed table in a Durable Object (workerd, persisted in a temp dir),
 * exports it with DumpEngine into local R2 (in its own workerd process, as bench/run.mjs does),
 * times `sqlite3 new.db < dump.sql` on the same dump, then restarts the object's process (cold,
 * as an object woken by its alarm) and restores the dump into another object with RestoreEngine
 * through real alarms, while a request loop measures latency and the process's memory is
 * sampled. The restored table must give the source's aggregates, and the CLI's.
 */
import { Miniflare } from "miniflare";
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../tools/bundle-worker.mjs";
import { connectInspector, cpuMs, percentile, requestLoop, rssSampler } from "./measure.mjs";
import { DIGEST_SQL } from "./restore-digest.mjs";
import { newWorkerdPid } from "./process-stats.mjs";
import { startR2Process } from "./r2-process.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const smoke = flag("smoke");
const heap = flag("heap");
const INSPECTOR_PORT = 9341;
if (heap && typeof WebSocket !== "function") {
  // Node 20 has a global WebSocket only behind this flag: run again with it.
  const { status } = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}
const rows = Number(opt("rows", smoke ? "20000" : "1000000"));
const gzip = flag("gzip");
const outDir = opt("out", smoke ? join(ROOT, "bench", ".data", "smoke") : join(ROOT, "bench", "results"));
const T0 = performance.now();
const log = (...a) => console.log(`[bench:restore ${((performance.now() - T0) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Targets of issue 13: wall time against the CLI, memory growth, p99 of requests meanwhile. */
const TARGETS = { ratio: 1.5, memoryMiB: 32, p99Ms: 50 };

const bundle = join(ROOT, "bench", ".data", "restore-host.js");
await bundleWorker({ entry: join(HERE, "restore-host.ts"), outfile: bundle, sourcemap: false });
const work = mkdtempSync(join(tmpdir(), "durable-dump-bench-restore-"));
const r2 = await startR2Process({ persist: join(work, "r2") });
const pidB = newWorkerdPid([]);
let mf = null;
let pidA = null;

/** Starts (or restarts, cold) the object's process over the persisted objects. */
async function startHost() {
  const known = [pidB];
  if (mf) {
    known.push(pidA);
    await mf.dispose();
  }
  mf = new Miniflare({
    modules: true,
    scriptPath: bundle,
    compatibilityDate: "2025-04-01",
    durableObjects: { BENCH: { className: "RestoreBench", useSQLite: true } },
    durableObjectsPersist: join(work, "do"),
    unsafeBindings: [r2.bucketBinding("DUMPS")],
    ...(heap ? { inspectorPort: INSPECTOR_PORT } : {}),
  });
  await mf.ready;
  pidA = newWorkerdPid(known);
}

async function call(object, route) {
  const res = await mf.dispatchFetch(`http://bench/${object}/${route}`, { method: "POST" });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function until(object, route, id) {
  for (;;) {
    const status = await call(object, `${route}?id=${id}`);
    if (status.state !== "queued" && status.state !== "running") return status;
    await sleep(100);
  }
}

/** Restores `key` into object `object` through real alarms: its status, time, the process's memory growth and CPU, and the latencies of requests sent meanwhile. */
async function restoreInto(object, key, withRequests) {
  const cpu0 = cpuMs(pidA);
  const memory = rssSampler(pidA);
  const pings = withRequests ? requestLoop(() => call(object, "ping")) : null;
  const v8 = heap && !withRequests ? await heapSampler() : null;
  const started = await call(object, `restore?key=${encodeURIComponent(key)}`);
  const restored = await until(object, "restore-status", started.id);
  const latencies = pings ? await pings.stop() : [];
  const mem = { ...memory.stop(), ...(v8 ? await v8.stop() : {}) };
  if (restored.state !== "completed") throw new Error(`restore ${restored.state}: ${JSON.stringify(restored.error)}`);
  return { restored, wallMs: restored.finishedAt - restored.createdAt, mem, cpu: cpuMs(pidA) - cpu0, latencies };
}

/** Samples the isolate's V8 heap every 250 ms; `stop()` gives the peaks (MiB) and the heap after a forced full collection. */
async function heapSampler() {
  const inspector = await connectInspector(INSPECTOR_PORT);
  const usage = async () => inspector.send("Runtime.getHeapUsage");
  const MiB = 2 ** 20;
  let usedPeak = 0;
  let totalPeak = 0;
  let backingPeak = 0;
  const timer = setInterval(async () => {
    const u = await usage();
    usedPeak = Math.max(usedPeak, u.usedSize);
    totalPeak = Math.max(totalPeak, u.totalSize);
    backingPeak = Math.max(backingPeak, u.backingStorageSize ?? 0);
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await inspector.send("HeapProfiler.collectGarbage");
      const after = await usage();
      inspector.close();
      const r = (x) => Math.round((x / MiB) * 10) / 10;
      return { v8UsedPeakMiB: r(usedPeak), v8TotalPeakMiB: r(totalPeak), backingPeakMiB: r(backingPeak), v8UsedAfterGcMiB: r(after.usedSize) };
    },
  };
}

/** `sqlite3 new.db < dump` (gunzipped through a pipe for a gzip dump): wall and CPU time. */
function cliRestore(dumpPath) {
  const db = join(work, "cli.db");
  rmSync(db, { force: true });
  const t0 = performance.now();
  const r = gzip
    ? spawnSync("sh", ["-c", `gzip -dc '${dumpPath}' | sqlite3 -bail '${db}'`], { stdio: ["ignore", "ignore", "pipe"] })
    : (() => {
        const fd = openSync(dumpPath, "r");
        try {
          return spawnSync("sqlite3", ["-bail", db], { stdio: [fd, "ignore", "pipe"] });
        } finally {
          closeSync(fd);
        }
      })();
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
  return { db, wallMs };
}

function cliDigest(db, query) {
  const r = spawnSync("sqlite3", ["-json", db, query], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout)[0];
}

try {
  log(`seeding ${rows.toLocaleString("en-US")} rows`);
  await startHost();
  for (let from = 1; from <= rows; from += 250_000) await call("source", `seed?from=${from}&to=${Math.min(rows, from + 249_999)}`);
  const dump = await until("source", "dump-status", (await call("source", `dump?gzip=${gzip}`)).id);
  if (dump.state !== "completed") throw new Error(`export ${dump.state}: ${JSON.stringify(dump.error)}`);
  const key = dump.outputs[0].key;
  log(`exported ${(dump.outputs[0].bytes / 1e6).toFixed(1)} MB to ${key}`);

  const dumpPath = join(work, gzip ? "dump.sql.gz" : "dump.sql");
  const res = await mf.dispatchFetch(`http://bench/source/download?key=${encodeURIComponent(key)}`);
  await pipeline(Readable.fromWeb(res.body), createWriteStream(dumpPath));
  const cli = cliRestore(dumpPath);
  log(`sqlite3 restored it in ${(cli.wallMs / 1000).toFixed(2)} s`);

  // Quiet: a cold process restores with no request but the poll for completion (memory, time).
  await startHost();
  const quiet = await restoreInto("quiet", key, false);
  // Loud: the same in the same (now warm) process, with a request loop (latency).
  const loud = await restoreInto("target", key, true);
  // Controls, each in a cold process, no durable-dump involved: the same rows written by SQL alone
  // (10,000 per request, one commit each), and rows like them as INSERT text run from JavaScript
  // 16 KB at a time, a few queries per transaction, as a restore runs them.
  const controls = {};
  for (const [name, route, step] of [
    ["sqlOnly", "seed", 10_000],
    ["sqlText", "control-sql", 100_000],
  ]) {
    await startHost();
    const sampler = rssSampler(pidA);
    for (let from = 1; from <= rows; from += step) await call(`control-${name}`, `${route}?from=${from}&to=${Math.min(rows, from + step - 1)}`);
    controls[name] = sampler.stop();
  }
  const { restored, wallMs, mem, cpu, latencies } = { ...quiet, latencies: loud.latencies };

  const [source, target] = [await call("source", "digest"), await call("quiet", "digest")];
  const fromCli = cliDigest(cli.db, DIGEST_SQL);
  const same = JSON.stringify(source) === JSON.stringify(target) && JSON.stringify(source) === JSON.stringify(fromCli);
  if (!same)
    throw new Error(`restored data differs:\n source ${JSON.stringify(source)}\n target ${JSON.stringify(target)}\n cli    ${JSON.stringify(fromCli)}`);

  const result = {
    rows,
    gzip,
    dumpBytes: statSync(dumpPath).size,
    cliMs: Math.round(cli.wallMs),
    restoreMs: wallMs,
    ratio: Math.round((wallMs / cli.wallMs) * 100) / 100,
    cpuMs: Math.round(cpu),
    memory: mem,
    controlMemory: controls,
    requests: { count: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: Math.max(...latencies) },
    statements: restored.progress.statements,
    rowsWritten: restored.progress.rowsWritten,
    verdicts: {
      ratio: wallMs / cli.wallMs <= TARGETS.ratio,
      memory: mem.growthMiB <= TARGETS.memoryMiB,
      p99: (percentile(latencies, 99) ?? 0) <= TARGETS.p99Ms,
    },
  };
  for (const k of ["p50Ms", "p99Ms", "maxMs"]) result.requests[k] = Math.round(result.requests[k] * 10) / 10;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `restore-latest${gzip ? "-gzip" : ""}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const mark = (ok) => (ok ? "✓" : "✗");
  console.log(`
| ${rows.toLocaleString("en-US")} rows${gzip ? ", gzip" : ""} | figure | target |
| --- | ---: | --- |
| restore into a Durable Object (real alarms, local R2) | ${(wallMs / 1000).toFixed(2)} s | |
| \`sqlite3 new.db < dump.sql\`, same dump | ${(cli.wallMs / 1000).toFixed(2)} s | |
| × the CLI | ${result.ratio} | ${mark(result.verdicts.ratio)} ≤ ${TARGETS.ratio} |
| memory growth of the object's process (peak) | ${mem.growthMiB} MiB (anonymous ${mem.anonGrowthMiB}${mem.v8TotalPeakMiB === undefined ? "" : `; V8 heap ≤ ${mem.v8TotalPeakMiB}, buffers ≤ ${mem.backingPeakMiB}`}) | ${mark(result.verdicts.memory)} ≤ ${TARGETS.memoryMiB} MiB |
| control: the same rows written by SQL alone (INSERT … SELECT), cold process | ${controls.sqlOnly.growthMiB} MiB (anonymous ${controls.sqlOnly.anonGrowthMiB}) | |
| control: rows like them as INSERT text run from JavaScript, 16 KB per query, cold process | ${controls.sqlText.growthMiB} MiB (anonymous ${controls.sqlText.anonGrowthMiB}) | |
| p99 of ${latencies.length} requests during a second restore | ${result.requests.p99Ms} ms (max ${result.requests.maxMs}; that restore took ${(loud.wallMs / 1000).toFixed(2)} s) | ${mark(result.verdicts.p99)} ≤ ${TARGETS.p99Ms} ms |
| CPU of the object's process | ${(cpu / 1000).toFixed(2)} s | |
`);
  if (smoke && !same) process.exitCode = 1;
} finally {
  await mf?.dispose();
  await r2.mf.dispose();
  if (!flag("keep")) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}
