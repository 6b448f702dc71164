// Checks of a finished fleet run, shared by the demo and the tests: the manifest against R2, and
// each dump against the object it came from (restored into an independent SQLite).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";

/** Every key under `prefix` with its size. */
export async function listAll(bucket, prefix) {
  const out = new Map();
  let cursor;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    for (const o of page.objects) out.set(o.key, o.size);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

/** The entries of every page of `manifest`. */
export async function manifestEntries(bucket, manifest) {
  const entries = [];
  for (const page of manifest.pages) {
    const text = await (await bucket.get(page.key)).text();
    entries.push(
      ...text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    );
  }
  return entries;
}

/**
 * Problems of a run's manifest against R2 (an empty list when it matches): totals add up, every
 * completed entry's dump and dump manifest exist with the entry's size, and under the run's
 * prefix there is nothing but the run's own files and the dumps its entries name (so no object
 * was backed up twice into different keys).
 */
export async function checkManifest(bucket, manifest, runPrefix, names) {
  const problems = [];
  const entries = await manifestEntries(bucket, manifest);
  const keys = await listAll(bucket, runPrefix);
  const listed = entries.map((e) => e.object).sort();
  if (JSON.stringify(listed) !== JSON.stringify([...names].sort())) problems.push(`manifest lists ${listed.length} objects, expected ${names.length}`);
  const sum = (f) => entries.reduce((s, e) => s + f(e), 0);
  const totals = {
    objects: entries.length,
    completed: sum((e) => e.state === "completed"),
    failed: sum((e) => e.state === "failed"),
    bytes: sum((e) => e.bytes),
    rows: sum((e) => e.rows),
  };
  for (const [k, v] of Object.entries(totals)) if (manifest[k] !== v) problems.push(`manifest ${k} ${manifest[k]}, entries add up to ${v}`);
  const expected = new Set([`${runPrefix}manifest.json`, ...manifest.pages.map((p) => p.key)]);
  for (const e of entries) {
    if (e.state !== "completed") continue;
    if (keys.get(e.dumpKey) !== e.bytes) problems.push(`${e.object}: dump ${e.dumpKey} is ${keys.get(e.dumpKey)} bytes in R2, ${e.bytes} in the manifest`);
    if (!keys.has(e.manifestKey)) problems.push(`${e.object}: no dump manifest ${e.manifestKey}`);
    expected.add(e.dumpKey).add(e.manifestKey);
  }
  const own = (key) => key.startsWith(`${runPrefix}progress/`) || key.startsWith(`${runPrefix}shards/`);
  for (const key of keys.keys()) if (!expected.has(key) && !own(key)) problems.push(`unexpected object in R2: ${key}`);
  return { problems, entries };
}

/** The sqlite3 CLI, or null. */
export function sqliteCli() {
  return ["/usr/bin/sqlite3", "sqlite3"].find((p) => spawnSync(p, ["-version"]).status === 0) ?? null;
}

/**
 * Restores `dump` (SQL, gzipped when `gzip`) into a fresh database at `dbPath` with the sqlite3 CLI
 * and compares every table with `checksums` (the object's, from `/_demo/checksum`). Returns problems.
 */
export function checkDump(cli, dump, gzip, checksums, dbPath) {
  const sql = gzip ? gunzipSync(dump) : dump;
  const restore = spawnSync(cli, ["-bail", dbPath], { input: sql, encoding: "buffer", maxBuffer: 1 << 28 });
  if (restore.status !== 0) return [`restore failed: ${restore.stderr.toString().slice(0, 500)}`];
  const problems = [];
  for (const table of checksums.tables) {
    const out = spawnSync(cli, ["-readonly", "-batch", "-noheader", "-list", dbPath, table.query], { encoding: "buffer", maxBuffer: 1 << 28 });
    if (out.status !== 0) {
      problems.push(`${table.name}: ${out.stderr.toString().slice(0, 300)}`);
      continue;
    }
    const rows = out.stdout.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
    const sha256 = createHash("sha256").update(out.stdout).digest("hex");
    if (rows !== table.rows || sha256 !== table.sha256)
      problems.push(`${table.name}: ${rows} rows ${sha256.slice(0, 12)} restored, ${table.rows} rows ${table.sha256.slice(0, 12)} in the object`);
  }
  const schema = spawnSync(
    cli,
    [
      "-readonly",
      "-batch",
      "-noheader",
      dbPath,
      `SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name`,
    ],
    {
      encoding: "utf8",
    },
  );
  const restored = schema.stdout.trim().split("\n").filter(Boolean);
  if (JSON.stringify(restored) !== JSON.stringify(checksums.schema))
    problems.push(`schema: ${restored.join(", ")} restored, ${checksums.schema.join(", ")} in the object`);
  return problems;
}
