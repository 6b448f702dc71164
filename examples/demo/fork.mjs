// The demo's second half: the dump restored into another object (a fork of the tenant) through
// the restore routes, with a live progress line, and the fork checked against the source.
import { dim, fmt, green, progress, red, step } from "./ui.mjs";

/**
 * Restores `key` (the tables, then the key-value entries its manifest lists) into the object of
 * tenant `fork` and compares it with tenant `source`, table by table, and its settings entries.
 * `apiJson(method, path, body, expected, tenant, headers)` calls the Worker; `sourceHeaders` prove
 * the right to read the source tenant's dump. Tables in `skip` were left out of the dump. Returns
 * the number of failed checks, the restore's time and its status.
 */
export async function forkAndVerify({ apiJson, key, source, fork, sourceHeaders, skip }) {
  step(`Forking the tenant: POST /${fork}/restores {"key": …, "replace": true}; real alarms restore the dump into a new object`);
  // replace: whatever the fork object holds already gives way to the dump.
  const started = await apiJson("POST", "/restores", { key, replace: true }, [202], fork, sourceHeaders);
  const location = started.res.headers.get("location");
  console.log(`  202 Accepted, Location: ${location}`);
  const bar = progress();
  const t0 = performance.now();
  let status = started.data;
  while (status.state === "queued" || status.state === "running") {
    await new Promise((r) => setTimeout(r, process.stdout.isTTY ? 200 : 500));
    status = (await apiJson("GET", location.slice(fork.length + 1), undefined, [200], fork)).data;
    const p = status.progress;
    const elapsed = (performance.now() - t0) / 1000;
    const rate = p.rowsWritten / Math.max(elapsed, 0.001);
    const share = p.bytesTotal > 0 ? p.bytesRead / p.bytesTotal : 0;
    const eta = share > 0 ? (elapsed * (1 - share)) / share : Number.POSITIVE_INFINITY;
    bar.update(
      `  ${p.phase.padEnd(10)} ${(p.currentTable ?? "").padEnd(12)} │ ${fmt.mb(p.bytesRead).padStart(9)} of ${fmt.mb(p.bytesTotal)} │ ${(100 * share).toFixed(0).padStart(3)}% │ ${fmt.int(p.statements).padStart(9)} statements │ ${fmt.int(rate).padStart(7)} rows/s │ ETA ${fmt.eta(eta)}`,
    );
    if (elapsed > 600) throw new Error("restore did not finish in 10 minutes");
  }
  const ms = performance.now() - t0;
  if (status.state !== "completed") {
    bar.done("");
    throw new Error(`restore ended ${status.state}: ${JSON.stringify(status.error)}`);
  }
  bar.done(
    `  ${green("✓")} completed: ${fmt.int(status.progress.statements)} statements, ${fmt.int(status.progress.rowsWritten)} rows, ${fmt.mb(status.progress.bytesTotal)}, ${status.progress.kvEntriesRestored} key-value entries in ${fmt.s(ms)}; foreign-key violations: ${status.foreignKeyViolations}`,
  );

  step(
    `Verifying the fork against the source, table by table (row count and SHA-256 of the rows, computed by SQLite in each object), and its key-value entries`,
  );
  const [theirs, mine] = [
    (await apiJson("GET", "/_demo/checksum", undefined, [200], source)).data,
    (await apiJson("GET", "/_demo/checksum", undefined, [200], fork)).data,
  ];
  let failures = 0;
  for (const table of theirs.tables) {
    if (skip.has(table.name)) {
      console.log(`  ${dim("-")} ${table.name.padEnd(14)} ${dim("skipped: not in the dump")}`);
      continue;
    }
    const copy = mine.tables.find((t) => t.name === table.name);
    const ok = copy !== undefined && copy.rows === table.rows && copy.sha256 === table.sha256;
    if (!ok) failures++;
    console.log(
      `  ${ok ? green("✓") : red("✗")} ${table.name.padEnd(14)} ${fmt.int(table.rows).padStart(9)} rows  ${table.sha256.slice(0, 16)}${ok ? "" : red(`  fork: ${copy ? `${copy.rows} rows ${copy.sha256.slice(0, 16)}` : "missing"}`)}`,
    );
  }
  const kvSame = mine.settings.devalue === theirs.settings.devalue;
  if (!kvSame) failures++;
  console.log(
    `  ${kvSame ? green("✓") : red("✗")} key-value entries: ${kvSame ? `the same ${theirs.settings.entries} settings, type for type (Map, Set, Date, BigInt, RegExp, Uint8Array, -0)` : `differ\n    source: ${theirs.settings.devalue}\n    fork:   ${mine.settings.devalue}`}`,
  );
  const keep = (s) => !skip.has(s.split(" ")[1]?.replace(/_(data|idx|content|docsize|config)$/, "") ?? "");
  const same = JSON.stringify(mine.schema.filter(keep)) === JSON.stringify(theirs.schema.filter(keep));
  if (!same) failures++;
  console.log(
    `  ${same ? green("✓") : red("✗")} schema: ${same ? `the same ${theirs.schema.filter(keep).length} tables, indexes, views and triggers` : "differs"}`,
  );
  return { failures, ms, status };
}
