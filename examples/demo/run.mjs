#!/usr/bin/env node
// npm run demo: the whole job end to end, on this machine, in about a minute.
// Builds the example Worker, runs it in Miniflare (workerd) with a local R2 bucket, seeds a
// million-row database and the tenant's settings (key-value entries) through the Worker, exports
// both with real alarms, downloads the dump, restores it into an independent SQLite and checks
// every table, then restores the dump and the settings into a second object (a fork of the
// tenant) and checks that too. Exits non-zero on any failure.
import { spawn, spawnSync } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { forkAndVerify } from "./fork.mjs";
import { miniflareWorkDir, useWorkerdV8Flags } from "../../tools/workerd/index.mjs";
import { ENTRIES, buildWorker, startRuntime } from "./runtime.mjs";
import { bold, dim, fmt, green, isTty as TTY, progress, red, step } from "./ui.mjs";

// Local workerd on a 2-core machine can livelock in V8's garbage collector: see tools/workerd/index.mjs.
useWorkerdV8Flags();

const TENANT = "acme";
/** The Worker's TENANT_TOKEN_KEY; each tenant's token is derived from it (examples/worker/src/auth.ts). */
const TOKEN_KEY = randomBytes(24).toString("base64url");
const tokenFor = (tenant) => createHmac("sha256", TOKEN_KEY).update(tenant).digest("hex");
const FORK = "acme-fork";

const t0 = performance.now();
const work = miniflareWorkDir("durable-dump-demo-");
let mf;

async function api(method, path, body, headers = {}, tenant = TENANT) {
  const res = await mf.dispatchFetch(`http://demo.local/${tenant}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokenFor(tenant)}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res;
}

async function apiJson(method, path, body, expected = [200], tenant = TENANT, headers = {}) {
  const res = await api(method, path, body, headers, tenant);
  const text = await res.text();
  if (!expected.includes(res.status)) throw new Error(`${method} /${tenant}${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return { res, data: JSON.parse(text) };
}

async function main() {
  console.log(bold("durable-dump demo") + dim(`  (work dir ${work})`));

  step("Building the example Worker with esbuild and starting it in Miniflare (workerd)");
  const script = await buildWorker(ENTRIES.demo, join(work, "worker.js"));
  mf = await startRuntime({
    scriptPath: script,
    className: "DemoTenant",
    persistDir: join(work, "state"),
    bindings: { TENANT_TOKEN_KEY: TOKEN_KEY, CLEANUP_INTERVAL_MS: "5000", DUMP_TICK_BUDGET_MS: "2000" },
  });
  for (const authorization of [undefined, `Bearer ${tokenFor("globex")}`]) {
    const unauth = await mf.dispatchFetch(`http://demo.local/${TENANT}/dumps`, { headers: authorization ? { authorization } : {} });
    if (unauth.status !== 401) throw new Error(`expected 401 without ${TENANT}'s token, got ${unauth.status}`);
    await unauth.arrayBuffer();
  }
  console.log(`  ${green("✓")} runtime up; GET /${TENANT}/dumps without ${TENANT}'s token (none, or another tenant's) → 401`);

  step("Seeding a shop database inside the Durable Object (recursive CTEs, in slices)");
  const seedStart = performance.now();
  const bar = progress();
  let seeded = 0;
  for (let i = 0; ; i++) {
    const { data } = await apiJson("POST", "/_demo/seed", { step: i });
    seeded += data.rows;
    bar.update(`  seeding ${data.table.padEnd(12)} step ${i + 1}/${data.steps}  ${fmt.int(seeded)} rows`);
    if (data.done) break;
  }
  const seedMs = performance.now() - seedStart;
  bar.done(`  ${green("✓")} ${fmt.int(seeded)} rows in ${fmt.s(seedMs)} (+ the FTS5 index the trigger fed)`);
  const before = await apiJson("GET", "/_demo/checksum");
  const tableRows = Object.fromEntries(before.data.tables.map((t) => [t.name, t.rows]));
  const totalRows = before.data.tables.reduce((sum, t) => sum + t.rows, 0);
  const exportedRows = before.data.tables.reduce((sum, t) => sum + (pickRestorer().skip.has(t.name) ? 0 : t.rows), 0);
  const count = (k) => before.data.schema.filter((x) => x.startsWith(k + " ") && !/_fts_/.test(x)).length;
  const kinds = [`${count("table")} tables`, `${count("index")} indexes`, `${count("view")} view`, `${count("trigger")} trigger`];
  console.log(`  ${dim(`${kinds.join(", ")} (one an FTS5 table); ${fmt.int(totalRows)} rows with the FTS5 index`)}`);

  const restorer = pickRestorer();
  // kv: the tenant's key-value entries (its settings) go into the backup too, beside the SQL.
  const options = { format: "sql", kv: true, ...(restorer.skip.size ? { exclude: [...restorer.skip] } : {}) };
  step(`Exporting through the HTTP API: POST /${TENANT}/dumps ${JSON.stringify(options)}; real alarms do the work`);
  const started = await apiJson("POST", "/dumps", options, [202]);
  const location = started.res.headers.get("location");
  console.log(`  202 Accepted, Location: ${location}`);
  const exportStart = performance.now();
  let status = started.data;
  while (status.state === "queued" || status.state === "running") {
    await new Promise((r) => setTimeout(r, TTY ? 200 : 500));
    status = (await apiJson("GET", location.slice(TENANT.length + 1))).data;
    const p = status.progress;
    const elapsed = (performance.now() - exportStart) / 1000;
    const rate = p.rowsWritten / Math.max(elapsed, 0.001);
    const pct = Math.min(100, (100 * p.rowsWritten) / exportedRows);
    const eta = rate > 0 ? Math.max(0, exportedRows - p.rowsWritten) / rate : Infinity;
    bar.update(
      `  tables ${p.tablesDone}/${p.tablesTotal} ${(p.currentTable ?? "").padEnd(12)} │ rows ${fmt.int(p.rowsWritten).padStart(9)} │ ${fmt.mb(p.bytesWritten).padStart(9)} │ ${pct.toFixed(0).padStart(3)}% │ ${fmt.int(rate).padStart(7)} rows/s │ ETA ${fmt.eta(eta)}`,
    );
    if (elapsed > 600) throw new Error("export did not finish in 10 minutes");
  }
  const exportMs = performance.now() - exportStart;
  if (status.state !== "completed") {
    bar.done("");
    throw new Error(`export ended ${status.state}: ${JSON.stringify(status.error)}`);
  }
  const out = status.outputs[0];
  bar.done(
    `  ${green("✓")} completed: ${fmt.int(status.progress.rowsWritten)} rows, ${fmt.mb(out.bytes)} in ${out.parts} parts, and ${status.progress.kvEntriesWritten} key-value entries, ${fmt.s(exportMs)}`,
  );

  step("Downloading GET " + location + "/download");
  const dumpPath = join(work, "dump.sql");
  const dl = await api("GET", `/dumps/${encodeURIComponent(status.id)}/download`);
  if (dl.status !== 200) throw new Error(`download answered ${dl.status}: ${await dl.text()}`);
  await pipeline(Readable.fromWeb(dl.body), createWriteStream(dumpPath));
  const size = statSync(dumpPath).size;
  if (size !== out.bytes) throw new Error(`downloaded ${size} bytes, the job wrote ${out.bytes}`);
  const etag = dl.headers.get("etag");
  const again = await api("GET", `/dumps/${encodeURIComponent(status.id)}/download`, undefined, { "if-none-match": etag });
  await again.arrayBuffer();
  console.log(
    `  ${green("✓")} ${fmt.mb(size)}, ${dl.headers.get("content-type")}, ${dl.headers.get("content-disposition")?.split(";")[1]?.trim()}, ETag ${etag} (again with If-None-Match → ${again.status})`,
  );

  const restoreStart = performance.now();
  const restored = await restorer.restore(dumpPath);
  console.log(`  ${green("✓")} restored with ${restored.name} in ${fmt.s(performance.now() - restoreStart)}`);

  step("Verifying every table: row count and SHA-256 of the canonical rows, computed by SQLite on both sides");
  const after = await apiJson("GET", "/_demo/checksum");
  let failures = 0;
  for (const table of after.data.tables) {
    if (restored.skip.has(table.name)) {
      console.log(`  ${dim("-")} ${table.name.padEnd(14)} ${dim("skipped: " + restored.name + " has no FTS5")}`);
      continue;
    }
    const mine = await restored.checksum(table.query);
    const ok = mine.rows === table.rows && mine.sha256 === table.sha256 && table.rows === tableRows[table.name];
    if (!ok) failures++;
    console.log(
      `  ${ok ? green("✓") : red("✗")} ${table.name.padEnd(14)} ${fmt.int(table.rows).padStart(9)} rows  ${table.sha256.slice(0, 16)}${ok ? "" : red(`  restored: ${mine.rows} rows ${mine.sha256.slice(0, 16)}`)}`,
    );
  }
  // Tables left out of the dump (and their FTS5 shadow tables) are not compared.
  const keep = (s) => !restored.skip.has(s.split(" ")[1]?.replace(/_(data|idx|content|docsize|config)$/, "") ?? "");
  const schemaMine = restored.schema().filter(keep);
  const schemaTheirs = after.data.schema.filter(keep);
  if (JSON.stringify(schemaMine) !== JSON.stringify(schemaTheirs)) {
    failures++;
    console.log(`  ${red("✗")} schema differs:\n    source:   ${schemaTheirs.join(", ")}\n    restored: ${schemaMine.join(", ")}`);
  } else {
    console.log(`  ${green("✓")} schema: the same ${schemaMine.length} tables, indexes, views and triggers in sqlite_master`);
  }
  for (const extra of restored.extraChecks()) {
    if (!extra.ok) failures++;
    console.log(`  ${extra.ok ? green("✓") : red("✗")} ${extra.label}`);
  }
  const events = (await apiJson("GET", "/events")).data;
  console.log(`  ${dim(`the host's own cleanup shared the alarm: ${events.cleanup.runs} runs during the demo`)}`);
  restored.dispose();

  const fork = await forkAndVerify({
    apiJson,
    key: status.outputs[0].key,
    source: TENANT,
    fork: FORK,
    // The fork reads acme's dump: whoever asks holds acme's token too (examples/worker, "Auth model").
    sourceHeaders: { "durable-dump-source": TENANT, "durable-dump-source-token": tokenFor(TENANT) },
    skip: restored.skip,
  });
  failures += fork.failures;

  const totalMs = performance.now() - t0;
  console.log("");
  console.log(bold("Summary"));
  console.log(`  rows exported   ${fmt.int(status.progress.rowsWritten)} in ${status.progress.tablesTotal} tables`);
  console.log(`  dump            ${fmt.mb(out.bytes)} in ${out.parts} multipart parts (${status.outputs[0].key})`);
  console.log(
    `  export time     ${fmt.s(exportMs)}  (${fmt.mb(out.bytes / (exportMs / 1000))}/s, ${fmt.int(status.progress.rowsWritten / (exportMs / 1000))} rows/s)`,
  );
  console.log(
    `  restore time    ${fmt.s(fork.ms)}  (into ${FORK}: ${fmt.mb(fork.status.progress.bytesTotal / (fork.ms / 1000))}/s, ${fmt.int(fork.status.progress.rowsWritten / (fork.ms / 1000))} rows/s)`,
  );
  console.log(`  total time      ${fmt.s(totalMs)}  (seeding ${fmt.s(seedMs)})`);
  if (failures > 0) throw new Error(`${failures} check(s) failed`);
  console.log(`  result          ${green("every table matches, in the restored file and in the fork, and every setting in the fork")}`);
}

/** How the dump is restored: the sqlite3 CLI when present, else sql.js (which has no FTS5). */
function pickRestorer() {
  const cli = ["/usr/bin/sqlite3", "sqlite3"].find((p) => spawnSync(p, ["-version"]).status === 0);
  if (cli && process.env.DEMO_RESTORE !== "sql.js") return { skip: new Set(), restore: (path) => restoreCli(cli, path) };
  return { skip: new Set(["reviews_fts"]), restore: restoreSqlJs };
}

function restoreCli(cli, dumpPath) {
  const db = join(work, "restored.db");
  const r = spawnSync(cli, ["-bail", db, `.read '${dumpPath.replace(/'/g, "''")}'`], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0 || r.stderr) throw new Error(`sqlite3 restore failed (exit ${r.status}): ${r.stderr.slice(0, 2000)}`);
  const query = (sql) => {
    const x = spawnSync(cli, ["-bail", "-readonly", "-batch", "-noheader", "-list", db, sql], { encoding: "utf8", maxBuffer: 1 << 26 });
    if (x.status !== 0 || x.stderr) throw new Error(`sqlite3: ${x.stderr}`);
    return x.stdout;
  };
  const matches = query("SELECT count(*) FROM reviews_fts WHERE reviews_fts MATCH 'returned';").trim();
  return {
    name: `the sqlite3 CLI ${spawnSync(cli, ["-version"], { encoding: "utf8" }).stdout.split(" ")[0]}`,
    skip: new Set(),
    checksum: (sql) =>
      new Promise((resolve, reject) => {
        const child = spawn(cli, ["-bail", "-readonly", "-batch", "-noheader", "-list", db, sql], { stdio: ["ignore", "pipe", "pipe"] });
        const hash = createHash("sha256");
        let rows = 0;
        let err = "";
        child.stdout.on("data", (b) => {
          hash.update(b);
          for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) rows++;
        });
        child.stderr.on("data", (b) => (err += b));
        child.on("error", reject);
        child.on("close", (code) => (code === 0 && !err ? resolve({ rows, sha256: hash.digest("hex") }) : reject(new Error(`sqlite3 (exit ${code}): ${err}`))));
      }),
    schema: () => query(`SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name;`).trim().split("\n"),
    extraChecks: () => [
      { label: "PRAGMA integrity_check: ok", ok: query("PRAGMA integrity_check;").trim() === "ok" },
      { label: "PRAGMA foreign_key_check: no violations", ok: query("PRAGMA foreign_key_check;").trim() === "" },
      {
        label: "FTS5 integrity-check of reviews_fts",
        ok: spawnSync(cli, ["-bail", db, "INSERT INTO reviews_fts(reviews_fts) VALUES('integrity-check');"], { encoding: "utf8" }).status === 0,
      },
      { label: `full-text search on the copy: reviews_fts MATCH 'returned' → ${matches} rows`, ok: Number(matches) > 0 },
    ],
    dispose: () => {},
  };
}

async function restoreSqlJs(dumpPath) {
  const { default: initSqlJs } = await import("sql.js");
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.exec(readFileSync(dumpPath, "utf8"));
  const all = (sql) => db.exec(sql)[0]?.values ?? [];
  return {
    name: "sql.js (no sqlite3 CLI found; FTS5 tables left out)",
    skip: new Set(["reviews_fts"]),
    async checksum(sql) {
      const hash = createHash("sha256");
      let rows = 0;
      db.each(sql, {}, (row) => {
        rows++;
        hash.update(String(Object.values(row)[0]) + "\n");
      });
      return { rows, sha256: hash.digest("hex") };
    },
    schema: () =>
      all(`SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name`).map((r) => String(r[0])),
    extraChecks: () => [
      { label: "PRAGMA integrity_check: ok", ok: String(all("PRAGMA integrity_check")[0]?.[0]) === "ok" },
      { label: "PRAGMA foreign_key_check: no violations", ok: all("PRAGMA foreign_key_check").length === 0 },
    ],
    dispose: () => db.close(),
  };
}

main()
  .then(
    () => 0,
    (e) => {
      console.error("\n" + red("✗ demo failed: ") + (e instanceof Error ? (e.stack ?? e.message) : String(e)));
      return 1;
    },
  )
  .then(async (code) => {
    await Promise.race([mf?.dispose().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    rmSync(work, { recursive: true, force: true });
    // Exit explicitly: a runtime that failed to start can leave handles open.
    process.exit(code);
  });
