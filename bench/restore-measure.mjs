/**
 * The restore measurement shared by `npm run bench:restore` (bench/restore.mjs) and `npm run bench`
 * (bench/run.mjs): bench/README.md, "Restores".
 *
 * In one call: builds the mixed table in a source Durable Object (workerd, persisted in a temp
 * dir), exports it with DumpEngine into local R2 (in its own workerd process, as bench/run.mjs
 * does) once per variant (`sql`, `sql.gz`), times `sqlite3 new.db < dump.sql` on each dump, then
 * for each variant restarts the object's process (cold, as an object woken by its alarm) and
 * restores the dump with RestoreEngine through real alarms into a fresh object with no other
 * request (time, memory, CPU), and again into a second object in the same, now warm, process while
 * a request loop measures latency. Then the controls of what the runtime itself costs, each in a
 * cold process. Every restored table must give the source's aggregates, and the CLI's.
 */
import { miniflareWorkDir } from "../tools/workerd/index.mjs";
import { coldHost } from "./cold-host.mjs";
import { spawnSync } from "node:child_process";
import { closeSync, createWriteStream, openSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../tools/bundle-worker.mjs";
import { connectInspector, cpuMs, latencySummary, percentile, requestLoop, rssSampler } from "./measure.mjs";
import { newWorkerdPid, workerdPids } from "./process-stats.mjs";
import { startR2Process } from "./r2-process.mjs";
import { DIGEST_SQL } from "./restore-digest.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Targets of issue 18, item 3: wall time against the CLI, memory growth, p99 of requests meanwhile. */
export const RESTORE_TARGETS = { ratio: 1.5, memoryMiB: 32, p99Ms: 50 };
/** The variants a restore can be measured for: the SQL dump, plain or gzip. */
export const RESTORABLE = ["sql", "sql.gz"];

/**
 * The controls, each in a cold process, no durable-dump involved: the same rows written by SQL
 * alone (10,000 per request, one commit each), and rows like them as INSERT text run from
 * JavaScript 16 KB at a time, eight queries per transaction, as a restore runs them, with one row
 * per INSERT and with many rows per INSERT (as text, and as bound parameters). Those marked
 * `latency` run a second time with the request loop, as the loud restore does.
 */
export const CONTROLS = {
  sqlOnly: { route: "seed", step: 10_000, label: "the same rows written by SQL alone (INSERT … SELECT)" },
  sqlText: {
    route: "control-sql",
    step: 100_000,
    latency: true,
    label: "rows like them as INSERT text run from JavaScript, 16 KB per query, one row per INSERT",
  },
  sqlTextMultiRow: {
    route: "control-sql?rowsPerInsert=100",
    step: 100_000,
    latency: true,
    label: "… the same text with 100 rows per INSERT (`VALUES (…),(…)`)",
  },
  sqlBound: {
    route: "control-sql?bound=1",
    step: 100_000,
    label: "… the same rows as one prepared 16-row INSERT with 96 bound parameters, the same text every time",
  },
};

/**
 * Measures restores of the mixed table's dump.
 *
 * @param {{ rows: number, variants: string[], heap?: boolean, inspectorPort?: number, controls?: string[] | boolean, keep?: boolean, log: (...a: unknown[]) => void }} options
 *   `variants`: some of {@link RESTORABLE}; `heap`: also sample the isolate's V8 heap during each
 *   quiet restore (needs a global WebSocket); `controls`: which of {@link CONTROLS} (`true`: all).
 * @returns {Promise<{ rows: number, variants: Record<string, object>, controlMemory: Record<string, object> }>}
 */
export async function measureRestores({ rows, variants, heap = false, inspectorPort = 9341, controls = true, keep = false, log }) {
  for (const v of variants) if (!RESTORABLE.includes(v)) throw new Error(`restore variant ${v}: one of ${RESTORABLE.join(", ")}`);
  const bundle = join(ROOT, "bench", ".data", "restore-host.js");
  await bundleWorker({ entry: join(HERE, "restore-host.ts"), outfile: bundle, sourcemap: false });
  const tmpBefore = process.env.TMPDIR;
  const work = miniflareWorkDir("durable-dump-bench-restore-");
  // Workerd processes started by the caller (bench/run.mjs's) are not ours to measure.
  const others = workerdPids();
  const r2 = await startR2Process({ persist: join(work, "r2") });
  const pidB = newWorkerdPid(others);
  /** The object's process, started (or restarted, cold) over the persisted objects. */
  const host = coldHost(
    () => ({
      modules: true,
      scriptPath: bundle,
      compatibilityDate: "2025-04-01",
      durableObjects: { BENCH: { className: "RestoreBench", useSQLite: true } },
      durableObjectsPersist: join(work, "do"),
      unsafeBindings: [r2.bucketBinding("DUMPS")],
      ...(heap ? { inspectorPort } : {}),
    }),
    [...others, pidB],
  );

  async function call(object, route) {
    const res = await host.mf.dispatchFetch(`http://bench/${object}/${route}`, { method: "POST" });
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

  /** Restores `key` into `object` through real alarms: its status, time, the process's memory growth and CPU, and the latencies of requests sent meanwhile. */
  async function restoreInto(object, key, withRequests) {
    // The request loop's idle latency first (it also wakes the object).
    const idle = [];
    for (let i = 0; withRequests && i < 30; i++) {
      const t = performance.now();
      await call(object, "ping");
      idle.push(performance.now() - t);
    }
    const cpu0 = cpuMs(host.pid);
    const memory = rssSampler(host.pid);
    const pings = withRequests ? requestLoop(() => call(object, "ping")) : null;
    const v8 = heap && !withRequests ? await heapSampler(inspectorPort) : null;
    const started = await call(object, `restore?key=${encodeURIComponent(key)}`);
    const restored = await until(object, "restore-status", started.id);
    const latencies = pings ? await pings.stop() : [];
    const mem = { ...memory.stop(), ...(v8 ? await v8.stop() : {}) };
    if (restored.state !== "completed") throw new Error(`restore ${restored.state}: ${JSON.stringify(restored.error)}`);
    return { restored, wallMs: restored.finishedAt - restored.createdAt, mem, cpu: cpuMs(host.pid) - cpu0, latencies, idle };
  }

  try {
    log(`restore: seeding ${rows.toLocaleString("en-US")} rows`);
    await host.start();
    for (let from = 1; from <= rows; from += 250_000) await call("source", `seed?from=${from}&to=${Math.min(rows, from + 249_999)}`);
    const dumps = {};
    for (const v of variants) {
      const gzip = v === "sql.gz";
      const dump = await until("source", "dump-status", (await call("source", `dump?gzip=${gzip}`)).id);
      if (dump.state !== "completed") throw new Error(`export ${dump.state}: ${JSON.stringify(dump.error)}`);
      const key = dump.outputs[0].key;
      const path = join(work, gzip ? "dump.sql.gz" : "dump.sql");
      const res = await host.mf.dispatchFetch(`http://bench/source/download?key=${encodeURIComponent(key)}`);
      await pipeline(Readable.fromWeb(res.body), createWriteStream(path));
      const cli = cliRestore(work, path, gzip);
      dumps[v] = { key, path, gzip, cli };
      log(`restore: ${v} dump of ${(dump.outputs[0].bytes / 1e6).toFixed(1)} MB; sqlite3 restored it in ${(cli.wallMs / 1000).toFixed(2)} s`);
    }
    const source = await call("source", "digest");

    const results = {};
    for (const v of variants) {
      const { key, path, gzip, cli } = dumps[v];
      // Quiet: a cold process restores with no request but the poll for completion (memory, time).
      await host.start();
      const quiet = await restoreInto(`quiet-${v}`, key, false);
      // Loud: the same in the same (now warm) process, with a request loop (latency, time).
      const loud = await restoreInto(`target-${v}`, key, true);
      const fromCli = cliDigest(cli.db, DIGEST_SQL);
      for (const [name, digest] of [
        ["quiet", await call(`quiet-${v}`, "digest")],
        ["loud", await call(`target-${v}`, "digest")],
        ["sqlite3", fromCli],
      ]) {
        if (JSON.stringify(digest) !== JSON.stringify(source))
          throw new Error(`restored data differs (${v}, ${name}):\n source ${JSON.stringify(source)}\n ${name} ${JSON.stringify(digest)}`);
      }
      const latencies = loud.latencies;
      const p99 = percentile(latencies, 99) ?? 0;
      results[v] = {
        rows,
        gzip,
        dumpBytes: statSync(path).size,
        cliMs: Math.round(cli.wallMs),
        restoreMs: quiet.wallMs,
        ratio: round(quiet.wallMs / cli.wallMs),
        loudRestoreMs: loud.wallMs,
        loudRatio: round(loud.wallMs / cli.wallMs),
        cpuMs: Math.round(quiet.cpu),
        memory: quiet.mem,
        loudMemory: loud.mem,
        requests: {
          ...latencySummary(latencies),
          idleP50Ms: round(percentile(loud.idle, 50) ?? 0, 1),
          idleP99Ms: round(percentile(loud.idle, 99) ?? 0, 1),
        },
        statements: quiet.restored.progress.statements,
        rowsWritten: quiet.restored.progress.rowsWritten,
        verdicts: {
          ratio: loud.wallMs / cli.wallMs <= RESTORE_TARGETS.ratio,
          memory: quiet.mem.growthMiB <= RESTORE_TARGETS.memoryMiB,
          p99: p99 <= RESTORE_TARGETS.p99Ms,
        },
      };
      log(
        `restore ${v}: ${(quiet.wallMs / 1000).toFixed(2)} s quiet (${results[v].ratio}× sqlite3), ${(loud.wallMs / 1000).toFixed(2)} s with requests (${results[v].loudRatio}×), ` +
          `RSS +${quiet.mem.growthMiB} MiB (anon +${quiet.mem.anonGrowthMiB}), p99 ${results[v].requests.p99Ms} ms of ${latencies.length}`,
      );
    }

    const controlMemory = {};
    const names = controls === true ? Object.keys(CONTROLS) : controls || [];
    for (const name of names) {
      const { route, step, latency } = CONTROLS[name];
      const [path, query] = route.split("?");
      const runControl = async (object) => {
        for (let from = 1; from <= rows; from += step) {
          const range = `from=${from}&to=${Math.min(rows, from + step - 1)}`;
          await call(object, `${path}?${query ? `${query}&` : ""}${range}`);
        }
      };
      await host.start();
      const sampler = rssSampler(host.pid);
      const t0 = performance.now();
      await runControl(`control-${name}`);
      const control = { ...sampler.stop(), ms: Math.round(performance.now() - t0) };
      if (latency) {
        // Again in the same (now warm) process with the request loop, as the loud restore: the latency the runtime gives.
        const pings = requestLoop(() => call(`control-${name}-loud`, "ping"));
        await runControl(`control-${name}-loud`);
        const latencies = await pings.stop();
        control.requests = latencySummary(latencies);
      }
      controlMemory[name] = control;
      log(
        `restore control ${name}: RSS +${control.growthMiB} MiB (anon +${control.anonGrowthMiB}) in ${control.ms} ms` +
          `${control.requests ? `; with requests: p99 ${control.requests.p99Ms} ms (p50 ${control.requests.p50Ms}) of ${control.requests.count}` : ""}`,
      );
    }
    return { rows, variants: results, controlMemory };
  } finally {
    await host.dispose();
    await r2.mf.dispose();
    if (tmpBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpBefore;
    if (!keep) rmSync(work, { recursive: true, force: true });
    else log(`restore: kept ${work}`);
  }
}

/** Samples the isolate's V8 heap every 250 ms; `stop()` gives the peaks (MiB) and the heap after a forced full collection. */
async function heapSampler(port) {
  const inspector = await connectInspector(port);
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
      const r = (x) => round(x / MiB, 1);
      return { v8UsedPeakMiB: r(usedPeak), v8TotalPeakMiB: r(totalPeak), backingPeakMiB: r(backingPeak), v8UsedAfterGcMiB: r(after.usedSize) };
    },
  };
}

/** `sqlite3 new.db < dump` (gunzipped through a pipe for a gzip dump): wall time. */
function cliRestore(work, dumpPath, gzip) {
  const db = join(work, gzip ? "cli-gz.db" : "cli.db");
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
