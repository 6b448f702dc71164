/**
 * Captures an upgrade fixture: jobs of every state, stopped mid-way by THIS checkout of the
 * library, as Miniflare persists them (the objects' SQLite files, local R2), plus what the same
 * release writes when it finishes them. `upgrade.test.ts` resumes the copy with the current code
 * and demands the same bytes. Run once per release whose records must stay readable:
 *
 *   npx esbuild test/upgrade/capture-fixture.ts --bundle --platform=node --format=esm \
 *     --packages=external --outfile=test/.tmp/capture-fixture.mjs && node test/.tmp/capture-fixture.mjs 0.1.0
 *
 * The fixture of 0.1.0 was captured at commit b1a3529.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UPGRADE_OBJECTS, fixtureDir, outputDigests, startUpgradeRuntime, type UpgradeObject } from "./runtime.js";

const release = process.argv[2];
if (!release) throw new Error("usage: capture-fixture <release>");

const work = mkdtempSync(join(tmpdir(), "dd-upgrade-"));
try {
  let rt = await startUpgradeRuntime(work);
  for (const spec of UPGRADE_OBJECTS) await spec.prepare(rt.object(spec.name));
  await rt.dispose();

  const target = fixtureDir(release);
  rmSync(target, { recursive: true, force: true });
  cpSync(work, target, { recursive: true });
  checkpointDatabases(target);

  // The same release finishes every job: what the next release must reproduce.
  rt = await startUpgradeRuntime(work);
  const expected: Record<string, unknown> = {};
  for (const spec of UPGRADE_OBJECTS) expected[spec.name] = await finish(rt.object(spec.name), rt.readObject);
  await rt.dispose();
  writeFileSync(join(target, "expected.json"), JSON.stringify(expected, null, 2) + "\n");
  console.log(`fixture of ${release} written to ${target}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

async function finish(obj: UpgradeObject, read: (key: string) => Promise<Uint8Array>) {
  await obj.drain();
  return outputDigests(await obj.list(), read);
}

/** Folds each SQLite write-ahead log into its database, so that the fixture is one file per database. */
function checkpointDatabases(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".sqlite")) execFileSync("sqlite3", [join(entry.parentPath, entry.name), "PRAGMA wal_checkpoint(TRUNCATE);"]);
  }
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && /\.sqlite-(wal|shm)$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name));
  }
}
