#!/usr/bin/env node
/**
 * durable-dump benchmark. See bench/README.md.
 *
 *   npm run bench                       1M mixed rows (plus a 100k point), sql/csv/ndjson/sql.gz, naive baseline
 *   npm run bench -- --scale            adds the 5M run (5M/1M scaling, memory flatness)
 *   npm run bench -- --rows 200000,1000000 --formats sql --no-naive
 *   npm run bench -- --smoke            CI: small sizes, asserts the suite still runs (< 1 min)
 *   npm run bench -- --profile          also runs the phase profile ("where the time goes")
 *   npm run bench -- --r2-inline        local R2 in the object's own workerd process (default: a second one)
 *   npm run bench -- --sink-latency 30  the production-like sink's answer delay per call, ms
 *   npm run bench -- --sink local       headline figures into local R2 (default: the production-like sink; `null` counts parts only)
 *   npm run bench -- --real-sweep       also measures where SQLite writes doubles exactly (`--real-sweep-per N`)
 *   npm run bench -- --warm             keep one object process for all exports (default: a fresh one per format)
 *   npm run bench -- --no-restore       leave out the restores of the sql/sql.gz dumps (`--restore-rows N`: their size)
 *   npm run bench -- --single-threaded-gc  workerd with V8's single-threaded collector (implied by --smoke; bench/README.md)
 *
 * Databases are built INSIDE workerd (a SQLite-backed Durable Object, Miniflare, persisted in a
 * temp dir); every export runs through real alarms (`engine.tick()` from `alarm()`) into the
 * production-like sink (bench/r2-sink.mjs, a process of its own that keeps no bytes and answers
 * after a network-like delay), and again into local R2, which by default runs in a second workerd
 * process (bench/r2-process.mjs).
 */
import { coldHost } from "./cold-host.mjs";
import { execSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../tools/bundle-worker.mjs";
import { miniflareWorkDir, useWorkerdV8Flags } from "../tools/workerd/index.mjs";
import { renderChart } from "./chart.mjs";
import { startR2Process } from "./r2-process.mjs";
import { startR2Sink } from "./r2-sink.mjs";
import { RESTORABLE, measureRestores } from "./restore-measure.mjs";
import { rssSampler } from "./measure.mjs";
import { newWorkerdPid } from "./process-stats.mjs";
import { summaryTable } from "./summary-table.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..");

// ---------- arguments ----------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : def;
};
const smoke = flag("smoke");
// A smoke run (CI) must not hang on local workerd's GC livelock (tools/workerd/index.mjs); measurements keep V8's default collector.
if (smoke || flag("single-threaded-gc")) useWorkerdV8Flags();
let sizes = opt("rows", smoke ? "20000" : "100000,1000000")
  .split(",")
  .map(Number);
if (flag("scale") && !sizes.includes(5_000_000)) sizes.push(5_000_000);
sizes = [...new Set(sizes)].sort((a, b) => a - b);
/** Export variants: a format, `.gz` for gzip at `--gzip-level` (the reference then pipes the CLI through `gzip -<level>`). */
const formats = opt("formats", "sql,csv,ndjson,sql.gz").split(",");
const gzipLevel = Number(opt("gzip-level", "6"));
const variant = (v) => ({ format: v.replace(/\.gz$/, ""), gzip: v.endsWith(".gz") ? gzipLevel : null });
const naiveMax = Number(opt("naive-max", smoke ? "20000" : "1000000"));
const runNaive = !flag("no-naive");
const doProfile = flag("profile");
const realSweep = flag("real-sweep");
const warm = flag("warm");
const realSweepPer = Number(opt("real-sweep-per", "1000"));
const tickBudgetMs = opt("tick-budget", undefined);
const partSize = opt("part-size", undefined);
const outDir = opt("out", smoke ? join(ROOT, "bench", ".data", "smoke") : join(ROOT, "bench", "results"));
const keep = flag("keep");
const sink = flag("null-sink") ? "null" : opt("sink", "prod");
if (!["prod", "local", "null"].includes(sink)) throw new Error(`--sink ${sink}: prod, local or null`);
const sinkLatencyMs = Number(opt("sink-latency", "30"));
/** The second column: every export again into local R2 (not when local R2 is the headline already). */
const localColumn = sink === "prod" && !flag("no-local");
const nodejsCompat = !flag("no-nodejs-compat");
const repeat = Number(opt("repeat", "1"));
/** Restores of the dump, for the SQL variants of the run, at the verdict table's size (1M rows when measured). */
const restoreVariants = flag("no-restore") ? [] : formats.filter((f) => RESTORABLE.includes(f));
const restoreRows = Number(opt("restore-rows", sizes.includes(1_000_000) ? "1000000" : String(sizes.at(-1))));
if (flag("r2-inline") && flag("r2-process")) throw new Error("--r2-inline and --r2-process exclude each other");
const r2Layout = flag("r2-inline") ? "inline" : "process";
const log = (...a) => console.log(`[bench ${((performance.now() - T0) / 1000).toFixed(1)}s]`, ...a);
const T0 = performance.now();

// ---------- build + start ----------
const bundle = join(ROOT, "bench", ".data", "host.js");
await bundleWorker({ entry: join(HERE, "host.ts"), outfile: bundle, sourcemap: false });
const work = miniflareWorkDir("durable-dump-bench-");
const persist = { do: join(work, "do"), r2: join(work, "r2") };
// Process B (local R2) starts first: A's binding needs its address. Each process is told apart
// by the workerd child that appeared when it started.
const usesLocalR2 = sink === "local" || localColumn;
const r2Process = r2Layout === "process" && usesLocalR2 ? await startR2Process({ persist: persist.r2 }) : null;
const pidLocalR2 = r2Process ? newWorkerdPid([]) : null;
// The production-like sink: a Node child process (its CPU is its own, reported apart).
const r2Sink = await startR2Sink({ latencyMs: sinkLatencyMs });
/**
 * The object's process (A), over the persisted Durable Object data; `host.start()` starts it, or
 * restarts it cold: the objects keep their databases and come back with nothing in memory, as an
 * object woken by its alarm does.
 */
const host = coldHost(
  () => ({
    modules: true,
    scriptPath: bundle,
    compatibilityDate: "2025-04-01",
    // nodejs_compat gives the object node:zlib, so gzip deflates natively (pako without it).
    compatibilityFlags: nodejsCompat ? ["nodejs_compat"] : [],
    durableObjects: { BENCH: { className: "BenchHost", useSQLite: true } },
    durableObjectsPersist: persist.do,
    ...(r2Process
      ? { unsafeBindings: [r2Process.bucketBinding("DUMPS"), r2Sink.binding("SINK")] }
      : { r2Buckets: ["DUMPS"], r2Persist: persist.r2, unsafeBindings: [r2Sink.binding("SINK")] }),
  }),
  pidLocalR2 ? [pidLocalR2] : [],
);
await host.start();
log(
  `local R2: ${r2Process ? `second workerd process (pid ${pidLocalR2}, ${r2Process.address}); the object's process is pid ${host.pid}` : `inline, in the object's workerd process (pid ${host.pid})`}`,
);
log(
  `production-like sink: pid ${r2Sink.pid}, ${r2Sink.address}, ${sinkLatencyMs} ms per call; headline figures into ${sink === "prod" ? "it" : sink === "local" ? "local R2" : "a null sink"}`,
);

async function call(name, route, { method = "GET" } = {}) {
  const res = await host.mf.dispatchFetch(`http://bench/${encodeURIComponent(name)}/${route}`, { method });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

// ---------- helpers ----------
function findFile(dir, name) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    } else if (entry.name === name) return p;
  }
  return null;
}

/**
 * Sends trivial requests (`ping`) to the object one after the other, after `delayMs`, until
 * stopped; `stop()` resolves to their latencies in ms.
 */
function pingLoop(name, delayMs = 0) {
  let done = false;
  const pings = [];
  const loop = (async () => {
    await sleep(delayMs);
    while (!done) {
      const t = performance.now();
      await call(name, "ping");
      pings.push(performance.now() - t);
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      return pings;
    },
  };
}
/**
 * Time the process's main thread (the one running all JavaScript) was runnable but waited for a
 * CPU, in ms (/proc/<pid>/schedstat, field 2). With local R2 in its own process, the object's
 * thread competes with it (and with this Node process) for the cores: wall ≈ CPU + this.
 */
function runQueueMs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
  } catch {
    return 0;
  }
}
/** CPU time (user + system, all threads) of a process, in ms. */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}
const pct = (arr, p) => {
  if (arr.length === 0) return null;
  const s = [...arr].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const median = (arr) => pct(arr, 50);
const round = (x, d = 2) => (x === null || x === undefined ? x : Math.round(x * 10 ** d) / 10 ** d);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function timeShell(cmd, repeat) {
  const times = [];
  const cpus = [];
  for (let i = 0; i < repeat; i++) {
    const t = performance.now();
    // bash's `time` reports the child's user + system CPU seconds.
    const out = execSync(`TIMEFORMAT='%U %S'; { time ${cmd} ; } 2>&1`, { stdio: ["ignore", "pipe", "inherit"], shell: "/bin/bash" })
      .toString()
      .trim()
      .split(/\s+/);
    times.push(performance.now() - t);
    cpus.push((Number(out[out.length - 2]) + Number(out[out.length - 1])) * 1000);
  }
  return { ms: Math.min(...times), cpuMs: Math.min(...cpus), all: times.map((x) => round(x, 0)) };
}

/**
 * Runs one export through alarms, with the ping loop (unless `pings` is false) and the RSS sampler
 * around it. RSS and CPU are the object's process's (A); local R2's process (B, `--r2-process`) is
 * reported apart.
 */
async function exportRun(name, run, { pings: withPings = true, into = sink } = {}) {
  const { format, gzip } = variant(run);
  const pid = host.pid;
  // Idle ping baseline; it also wakes the object, so that no run pays for the first request.
  const idle = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await call(name, "ping");
    idle.push(performance.now() - t);
  }
  const sampler = rssSampler(pid);
  // Local R2's process, or the sink's: whichever receives the parts.
  const pidB = into === "local" ? pidLocalR2 : into === "prod" ? r2Sink.pid : null;
  const samplerB = pidB ? rssSampler(pidB) : null;
  const q = new URLSearchParams({ format, sink: into });
  if (gzip) q.set("gzip", String(gzip));
  if (tickBudgetMs) q.set("tickBudgetMs", tickBudgetMs);
  if (partSize) q.set("partSize", partSize);
  const cpu0 = cpuMs(pid);
  const wait0 = runQueueMs(pid);
  const cpuB0 = pidB ? cpuMs(pidB) : 0;
  if (into === "prod") await r2Sink.reset();
  const tStart = performance.now();
  try {
    await call(name, `start?${q}`, { method: "POST" });
  } catch (e) {
    sampler.stop();
    samplerB?.stop();
    if (/UNKNOWN_FORMAT|Unknown format/.test(String(e))) return { skipped: `format ${format} not registered` };
    throw e;
  }
  const pinger = withPings ? pingLoop(name) : null;
  let result;
  for (;;) {
    await sleep(100);
    result = await call(name, "result");
    if (result.done) break;
  }
  const nodeWallMs = performance.now() - tStart;
  const workerdCpuMs = cpuMs(pid) - cpu0;
  const workerdRunQueueMs = Math.round(runQueueMs(pid) - wait0);
  // CPU of the process that received the parts: local R2's (B) or the production-like sink's.
  const r2ProcessCpuMs = pidB ? cpuMs(pidB) - cpuB0 : null;
  const sinkStats = into === "prod" ? await r2Sink.stats() : null;
  const pings = pinger ? await pinger.stop() : [];
  const { samples, ...memory } = sampler.stop();
  const memoryB = samplerB?.stop();
  const ticks = result.ticks;
  const c = result.counters;
  const bytes = (result.status?.outputs ?? []).reduce((s, o) => s + (o.bytes ?? 0), 0) || c.uploadBytes;
  const gb = bytes / 1e9;
  const classA = Object.values(c.classA).reduce((a, b) => a + b, 0);
  return {
    sink: into,
    sinkStats,
    deflater: result.deflater ?? null,
    state: result.state,
    error: result.error ?? null,
    wallMs: result.wallMs,
    nodeWallMs: round(nodeWallMs, 0),
    workerdCpuMs,
    workerdRunQueueMs,
    r2ProcessCpuMs,
    outputBytes: bytes,
    outputs: (result.status?.outputs ?? []).map((o) => o.key),
    ticks: ticks.length,
    tickStartsMs: ticks.map((t) => t.startMs),
    tickMs: { median: median(ticks.map((t) => t.ms)), max: Math.max(...ticks.map((t) => t.ms)) },
    classA: { ...c.classA, total: classA, perGB: round(classA / gb, 1) },
    classB: c.classB,
    storage: {
      ...c.storage,
      putKeysPerTick: round(c.storage.putKeys / Math.max(1, ticks.length), 2),
      putBytesPerTick: Math.round(c.storage.putBytes / Math.max(1, ticks.length)),
      putKeysPerGB: round(c.storage.putKeys / gb, 1),
      putBytesPerGB: Math.round(c.storage.putBytes / gb),
    },
    latency: withPings && {
      pings: pings.length,
      p50: round(pct(pings, 50)),
      p99: round(pct(pings, 99)),
      max: round(Math.max(...pings)),
      idleP50: round(pct(idle, 50)),
      idleP99: round(pct(idle, 99)),
    },
    rssSeriesMiB: samples.filter((_, i) => i % 10 === 0).map((b) => round(b / 2 ** 20, 0)),
    memory: { ...memory, samples: samples.length, r2ProcessGrowthMiB: memoryB ? memoryB.growthMiB : null },
  };
}

/** Adds the ratios of an export to the CLI's time for the same variant (and to `.dump`). */
function compare(r, ref, v) {
  r.vsSqlite3Dump = round(r.wallMs / ref.sql.ms);
  r.vsSqlite3SameFormat = round(r.wallMs / ref[v].ms);
  r.cpuVsSqlite3SameFormat = round(r.workerdCpuMs / ref[v].cpuMs);
}

function logExport(r) {
  const receiver = r.sink === "prod" ? "sink process" : "R2 process";
  log(
    `  ${r.state} in ${r.wallMs} ms (${r.vsSqlite3SameFormat}x sqlite3; workerd CPU ${r.workerdCpuMs} ms, ${r.cpuVsSqlite3SameFormat}x sqlite3 CPU, run queue ${r.workerdRunQueueMs} ms` +
      `${r.r2ProcessCpuMs !== null ? `; ${receiver} CPU ${r.r2ProcessCpuMs} ms, RSS +${r.memory.r2ProcessGrowthMiB} MiB` : ""}), ` +
      `${(r.outputBytes / 2 ** 20).toFixed(1)} MiB, ${r.ticks} ticks, ` +
      `p99 ${r.latency.p99} ms (${r.latency.pings} pings), RSS of the now warm process +${r.memory.growthMiB} MiB, class A ${r.classA.total}, puts ${r.storage.putKeys} keys` +
      `${r.deflater ? `, deflate: ${r.deflater}` : ""}`,
  );
}

/**
 * Local R2's floor for as many bytes as export `r` wrote, measured right after it in the same
 * layout; best of 3, as the simulator's time for the same bytes varies by up to ~40% between runs.
 */
async function localR2Floor(name, r, refOfVariant) {
  const floors = [];
  for (let i = 0; i < 3; i++)
    floors.push((await call(name, `r2floor?bytes=${r.outputBytes}${partSize ? `&partSize=${partSize}` : ""}`, { method: "POST" })).ms);
  const floor = { ms: Math.min(...floors), all: floors, vsSqlite3SameFormat: round(Math.min(...floors) / refOfVariant.ms) };
  log(`  local R2 floor for the same bytes: ${floor.ms} ms (${floor.vsSqlite3SameFormat}x sqlite3)`);
  return floor;
}

// ---------- run ----------
const results = {
  when: new Date().toISOString(),
  mode: smoke ? "smoke" : "full",
  machine: { cpus: (await import("node:os")).cpus().length, node: process.version, sqlite3: execSync("sqlite3 --version").toString().split(" ")[0] },
  options: {
    sizes,
    formats,
    sink: sink === "null" ? "null" : sink === "local" ? "local R2" : "production-like",
    sinkLatencyMs,
    localColumn,
    nodejsCompat,
    gzipLevel,
    deflater: null,
    tickBudgetMs: tickBudgetMs ?? "default",
    partSize: partSize ?? "default",
    naiveMax,
    r2Layout,
    freshProcessPerFormat: !warm,
    restore: restoreVariants.length ? { variants: restoreVariants, rows: restoreRows } : null,
  },
  sizes: [],
};
const failures = [];
try {
  results.selfcheck = await call("selfcheck", "selfcheck", { method: "POST" });
  log(`selfcheck (fast paths == per-row path): ${JSON.stringify(results.selfcheck)}`);
  if (realSweep) {
    results.realSweep = await call("realsweep", `realsweep?per=${realSweepPer}`, { method: "POST" });
    log(`real sweep (where SQLite's decimal conversions of doubles are exact): ${JSON.stringify(results.realSweep)}`);
  }
  for (const rows of sizes) {
    const name = `db-${rows}`;
    log(`seeding ${rows} rows`);
    const tSeed = performance.now();
    const step = 250_000;
    for (let from = 1; from <= rows; from += step) await call(name, `seed?from=${from}&to=${Math.min(rows, from + step - 1)}`, { method: "POST" });
    const info = await call(name, "info");
    log(`seeded ${info.rows} rows, ${(info.databaseSize / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - tSeed) / 1000).toFixed(1)} s`);
    const entry = { rows, databaseSize: info.databaseSize, reference: {}, exports: {}, naive: null, profile: null };
    results.sizes.push(entry);

    // The reference: the sqlite3 CLI on a copy of the object's own database file.
    const dbFile = findFile(persist.do, `${info.id}.sqlite`);
    if (!dbFile) throw new Error(`cannot find ${info.id}.sqlite under ${persist.do}`);
    const copy = join(work, `${name}.sqlite`);
    for (const suffix of ["", "-wal", "-shm"]) if (existsSync(dbFile + suffix)) copyFileSync(dbFile + suffix, copy + suffix);
    const refRepeat = rows >= 5_000_000 ? 1 : 3;
    // Written data still waiting for the disk (seeding, earlier exports into local R2: gigabytes
    // at 5M rows) is flushed first: its writeback slowed whatever ran next, the CLI included.
    execSync("sync");
    const out = join(work, "ref.out");
    const cli = {
      sql: `sqlite3 ${copy} '.dump bench'`,
      csv: `sqlite3 -csv -header ${copy} 'SELECT * FROM bench'`,
      ndjson: `sqlite3 -json ${copy} 'SELECT * FROM bench'`,
    };
    const ref = {};
    for (const v of new Set(["sql", "csv", "ndjson", ...formats])) {
      const { format, gzip } = variant(v);
      ref[v] = timeShell(`${cli[format]}${gzip ? ` | gzip -${gzip}` : ""} > ${out}`, refRepeat);
    }
    ref.sql.bytes = execSync(`sqlite3 ${copy} '.dump bench' | wc -c`, { shell: "/bin/bash" }).toString().trim() * 1;
    if (rows === sizes[0]) {
      // What the CLI adds when told to dump everything: the platform's tables.
      const full = execSync(`sqlite3 ${copy} .dump | grep -c '_cf_' || true`, { shell: "/bin/bash" }).toString().trim();
      results.cliFullDumpCfLines = Number(full);
    }
    entry.reference = ref;
    log(
      `sqlite3: ${Object.entries(ref)
        .map(([v, r]) => `${v} ${r.ms.toFixed(0)} ms (CPU ${r.cpuMs})`)
        .join(", ")}`,
    );

    for (const [run, v] of formats.flatMap((f) => Array.from({ length: repeat }, (_, i) => [i === 0 ? f : `${f}#${i + 1}`, f]))) {
      // Each variant's first export starts in a fresh object process, so that its memory growth is
      // the export's own (page cache, buffers, heap) and not what seeding or the last export left.
      if (!warm && run === v) await host.start();
      execSync("sync");
      // Memory first, with no other request: each request to the object costs its process memory
      // too (2,000 sequential pings alone: RSS +25 MiB from a cold start), and a ping loop runs
      // longer, so more requests, in a longer export. The ping loop runs in the export after it.
      let quiet = null;
      if (run === v) {
        quiet = await exportRun(name, v, { pings: false });
        if (quiet.skipped) {
          log(`  skipped: ${quiet.skipped}`);
          entry.exports[run] = quiet;
          continue;
        }
        // Its output goes at once: 0.7 GB more on disk at 5M rows slowed the local R2 process down.
        await call(name, "forget", { method: "POST" });
        log(
          `export ${run} (${rows} rows)${warm ? "" : `, fresh object process (pid ${host.pid})`}, no other request: ${quiet.state} in ${quiet.wallMs} ms, ` +
            `RSS +${quiet.memory.growthMiB} MiB (anon +${quiet.memory.anonGrowthMiB}, file +${quiet.memory.fileGrowthMiB})`,
        );
      }
      log(
        `export ${run} (${rows} rows) with the ping loop, into ${sink === "prod" ? "the production-like sink" : sink === "local" ? "local R2" : "a null sink"}`,
      );
      const r = await exportRun(name, v);
      await call(name, "forget", { method: "POST" });
      if (quiet) {
        r.quiet = {
          state: quiet.state,
          wallMs: quiet.wallMs,
          workerdCpuMs: quiet.workerdCpuMs,
          memory: quiet.memory,
          rssSeriesMiB: quiet.rssSeriesMiB,
          tickStartsMs: quiet.tickStartsMs,
        };
        if (quiet.state !== "completed") failures.push(`${v} ${rows} (no pings): ${quiet.state} ${JSON.stringify(quiet.error)}`);
      }
      if (r.skipped) {
        log(`  skipped: ${r.skipped}`);
        entry.exports[run] = r;
        continue;
      }
      compare(r, ref, v);
      if (r.deflater) results.options.deflater = r.deflater;
      entry.exports[run] = r;
      if (r.state !== "completed") failures.push(`${v} ${rows}: ${r.state} ${JSON.stringify(r.error)}`);
      logExport(r);
      if (sink === "local" && r.state === "completed") r.r2Floor = await localR2Floor(name, r, ref[v]);

      // The floor of this variant: the engine's own scan and render (and deflate) of the same rows,
      // nothing uploaded or checkpointed, best of 2, in the same (warm) process.
      const { format, gzip } = variant(v);
      const floors = [];
      for (let i = 0; i < 2; i++) floors.push(await call(name, `renderfloor?format=${format}${gzip ? `&gzip=${gzip}` : ""}`, { method: "POST" }));
      const best = floors.reduce((a, b) => (b.ms < a.ms ? b : a));
      r.renderFloor = { ...best, all: floors.map((f) => f.ms), vsSqlite3SameFormat: round(best.ms / ref[v].ms) };
      log(
        `  render floor (the engine's scan and render${gzip ? " and deflate" : ""}, nothing uploaded): ${best.ms} ms (${r.renderFloor.vsSqlite3SameFormat}x sqlite3)`,
      );

      if (localColumn && run === v) {
        // The second column: the same export into local R2 (Miniflare's simulator), ping loop on.
        log(`export ${run} (${rows} rows) with the ping loop, into local R2`);
        const local = await exportRun(name, v, { into: "local" });
        compare(local, ref, v);
        logExport(local);
        if (local.state === "completed") local.r2Floor = await localR2Floor(name, local, ref[v]);
        else failures.push(`${v} ${rows} (local R2): ${local.state} ${JSON.stringify(local.error)}`);
        await call(name, "forget", { method: "POST" });
        const { rssSeriesMiB: _series, tickStartsMs: _starts, ...kept } = local;
        r.localR2 = kept;
      }
    }

    {
      // The memory floor: a plain scan of the same rows (every column into JS, nothing rendered or
      // uploaded) in a fresh object process, with no other request, like the quiet export. SQLite's
      // page cache and the runtime's first-use growth come with any read of the data.
      if (!warm) await host.start();
      for (let i = 0; i < 30; i++) await call(name, "ping");
      const sampler = rssSampler(host.pid);
      const scan = await call(name, "scan?batch=2000", { method: "POST" });
      const { samples, ...memory } = sampler.stop();
      entry.scanFloor = { ...scan, memory };
      log(
        `plain scan floor (${scan.rows} rows${warm ? "" : `, fresh object process (pid ${host.pid})`}): ${scan.ms} ms, RSS +${memory.growthMiB} MiB (anon +${memory.anonGrowthMiB}, file +${memory.fileGrowthMiB})`,
      );
    }

    if (runNaive && rows <= naiveMax) {
      if (!warm) await host.start();
      log(`naive baseline (${rows} rows)${warm ? "" : `, fresh object process (pid ${host.pid})`}`);
      const pid = host.pid;
      const sampler = rssSampler(pid);
      const pinger = pingLoop(name, 200);
      try {
        entry.naive = await call(name, `naive?max=${rows}&page=1000&sink=${sink === "prod" ? "prod" : "local"}`, { method: "POST" });
      } catch (e) {
        entry.naive = { ok: false, error: String(e) };
      }
      const pings = await pinger.stop();
      entry.naive.memoryGrowthMiB = sampler.stop().growthMiB;
      entry.naive.pingMax = round(Math.max(0, ...pings));
      entry.naive.vsSqlite3Dump = round(entry.naive.ms / ref.sql.ms);
      log(`  naive: ${JSON.stringify(entry.naive)}`);
    }

    if (doProfile && rows <= 1_000_000) {
      for (const format of formats.filter((f) => !f.endsWith(".gz"))) {
        try {
          entry.profile ??= {};
          entry.profile[format] = await call(name, `profile?format=${format}&batch=2000`, { method: "POST" });
          log(`  profile ${format}: ${JSON.stringify(entry.profile[format])}`);
        } catch (e) {
          log(`  profile ${format} failed: ${e}`);
        }
      }
    }
    rmSync(copy, { force: true });
    rmSync(copy + "-wal", { force: true });
    rmSync(copy + "-shm", { force: true });
  }

  if (restoreVariants.length) {
    // Its own processes (a host with a RestoreEngine, local R2 apart): bench/restore-measure.mjs.
    try {
      const measured = await measureRestores({ rows: restoreRows, variants: restoreVariants, keep, log });
      results.restore = Object.fromEntries(
        Object.entries(measured.variants).map(([v, r]) => [v, { vsSqlite3: r.loudRatio, growthMiB: r.memory.growthMiB, p99: r.requests.p99Ms, ...r }]),
      );
      results.restoreControls = measured.controlMemory;
    } catch (e) {
      failures.push(`restore: ${e?.stack ?? e}`);
    }
  }

  // Scaling and summary.
  const at = (n) => results.sizes.find((s) => s.rows === n);
  const summary = {};
  for (const format of formats) {
    const big = at(5_000_000)?.exports[format];
    const one = at(1_000_000)?.exports[format];
    summary[format] = {
      ratioVsSqlite3: Object.fromEntries(results.sizes.map((s) => [s.rows, s.exports[format]?.vsSqlite3SameFormat ?? null])),
      scaling5Mover1M: big?.wallMs && one?.wallMs ? round(big.wallMs / one.wallMs) : null,
      p99Ms: Object.fromEntries(results.sizes.map((s) => [s.rows, s.exports[format]?.latency?.p99 ?? null])),
      memoryGrowthMiB: Object.fromEntries(results.sizes.map((s) => [s.rows, s.exports[format]?.quiet?.memory?.growthMiB ?? null])),
    };
  }
  results.summary = summary;
} finally {
  mkdirSync(outDir, { recursive: true });
  const stamp = smoke ? "smoke" : "latest";
  writeFileSync(join(outDir, `${stamp}.json`), JSON.stringify(results, null, 2) + "\n");
  const table = summaryTable(results);
  if (table) {
    writeFileSync(join(outDir, `${stamp}.md`), table);
    console.log(`\n${table}`);
  }
  if (results.sizes.length > 0) writeFileSync(join(outDir, `${stamp}.svg`), renderChart(results));
  log(`wrote ${join(outDir, stamp + ".json")}`);
  await host.dispose();
  await r2Process?.mf.dispose();
  await r2Sink.stop();
  if (!keep) rmSync(work, { recursive: true, force: true });
}
if (smoke) {
  const s = results.sizes[0];
  if (!Object.values(results.selfcheck ?? {}).every((r) => r.identical)) failures.push(`selfcheck: ${JSON.stringify(results.selfcheck)}`);
  const ok = s && s.exports.sql?.state === "completed" && (!runNaive || s.naive?.ok) && failures.length === 0;
  if (!ok) {
    console.error("bench smoke failed:", failures, JSON.stringify(s?.exports?.sql));
    process.exit(1);
  }
  log("smoke ok");
} else if (failures.length) {
  console.error("failures:", failures);
  process.exit(1);
}
