#!/usr/bin/env node
/**
 * The restore benchmark: `npm run bench:restore` (bench/README.md, "Restores"). `npm run bench`
 * measures the same restores in its own run (bench/restore-measure.mjs does the work for both).
 *
 *   npm run bench:restore                 1M mixed rows, plain SQL
 *   npm run bench:restore -- --gzip       the same dump gzip-compressed
 *   npm run bench:restore -- --both       plain and gzip in one run (one seeding, the controls once)
 *   npm run bench:restore -- --rows 200000 --smoke
 *   npm run bench:restore -- --heap       also samples the isolate's V8 heap (inspector) during the quiet restore
 *   npm run bench:restore -- --no-controls
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONTROLS, RESTORE_TARGETS, measureRestores } from "./restore-measure.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const smoke = flag("smoke");
const heap = flag("heap");
if (heap && typeof WebSocket !== "function") {
  // Node 20 has a global WebSocket only behind this flag: run again with it.
  const { status } = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(status ?? 1);
}
const rows = Number(opt("rows", smoke ? "20000" : "1000000"));
const variants = flag("both") ? ["sql", "sql.gz"] : flag("gzip") ? ["sql.gz"] : ["sql"];
const outDir = opt("out", smoke ? join(ROOT, "bench", ".data", "smoke") : join(ROOT, "bench", "results"));
const T0 = performance.now();
const log = (...a) => console.log(`[bench:restore ${((performance.now() - T0) / 1000).toFixed(1)}s]`, ...a);

const measured = await measureRestores({ rows, variants, heap, controls: !flag("no-controls"), keep: flag("keep"), log });
const controls = measured.controlMemory;
const mark = (ok) => (ok ? "✓" : "✗");
mkdirSync(outDir, { recursive: true });
for (const [v, r] of Object.entries(measured.variants)) {
  const result = { ...r, controlMemory: controls };
  writeFileSync(join(outDir, `restore-latest${r.gzip ? "-gzip" : ""}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const mem = r.memory;
  const controlRows = Object.entries(controls).map(
    ([name, c]) =>
      `| control: ${CONTROLS[name].label}, cold process | ${c.growthMiB} MiB (anonymous ${c.anonGrowthMiB}; ${(c.ms / 1000).toFixed(2)} s` +
      `${c.requests ? `; again with requests: p99 ${c.requests.p99Ms} ms, p50 ${c.requests.p50Ms}` : ""}) | |`,
  );
  console.log(`
| ${rows.toLocaleString("en-US")} rows, ${v} | figure | target |
| --- | ---: | --- |
| restore into a Durable Object (real alarms, local R2), cold process, no other request | ${(r.restoreMs / 1000).toFixed(2)} s (${r.ratio}×) | |
| the same with requests meanwhile, warm process | ${(r.loudRestoreMs / 1000).toFixed(2)} s | |
| \`sqlite3 new.db < dump.sql\`, same dump | ${(r.cliMs / 1000).toFixed(2)} s | |
| × the CLI, requests meanwhile | ${r.loudRatio} | ${mark(r.verdicts.ratio)} ≤ ${RESTORE_TARGETS.ratio} |
| memory growth of the object's process (peak), quiet restore | ${mem.growthMiB} MiB (anonymous ${mem.anonGrowthMiB}${mem.v8TotalPeakMiB === undefined ? "" : `; V8 heap ≤ ${mem.v8TotalPeakMiB}, buffers ≤ ${mem.backingPeakMiB}`}) | ${mark(r.verdicts.memory)} ≤ ${RESTORE_TARGETS.memoryMiB} MiB |
${controlRows.join("\n")}
| p99 of ${r.requests.count} requests during the second restore | ${r.requests.p99Ms} ms (p50 ${r.requests.p50Ms}, max ${r.requests.maxMs}; idle p50 ${r.requests.idleP50Ms}, p99 ${r.requests.idleP99Ms}) | ${mark(r.verdicts.p99)} ≤ ${RESTORE_TARGETS.p99Ms} ms |
| CPU of the object's process, quiet restore | ${(r.cpuMs / 1000).toFixed(2)} s | |
`);
}
