import { createHash } from "node:crypto";
import { expect, test } from "vitest";
import { doBackend } from "../harness/backends.js";
import { type TablePlan, planTables, takeSnapshot } from "../harness/snapshot.js";
import { describeRestoreCrashes } from "./crash-suite.js";
import type { RestoreObject } from "./harness.js";

/**
 * A restore broken at every I/O step (crash-suite.ts) ends with the database of an undisturbed
 * run, value by value. The dump: a gzip dump of this library (its part verified, decoded from a
 * recorded segment start), with foreign keys in the wrong order, FTS5, a trigger, rows over
 * 100 KB (bound as parameters). One part: the restart test (restart.test.ts) and the round trips
 * resume multi-part dumps; kv-crash-every-step.test.ts breaks a multi-part key-value restore.
 */

function seed(): string[] {
  return [
    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent(id), note TEXT)",
    "CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, blob BLOB)",
    "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT)",
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 60)
      INSERT INTO parent (name, blob) SELECT 'parent ' || i, CASE WHEN i % 10 = 0 THEN randomblob(60000) ELSE zeroblob(i * 100) END FROM s`,
    `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 2000)
      INSERT INTO child (parent, note) SELECT 1 + i % 60, 'note ' || i || char(10) || hex(randomblob(i % 50)) FROM s`,
    "CREATE TRIGGER parent_ai AFTER INSERT ON parent BEGIN INSERT INTO audit (what) VALUES ('parent ' || NEW.id); END",
    "CREATE VIEW busy AS SELECT parent, count(*) AS n FROM child GROUP BY parent",
    "CREATE VIRTUAL TABLE notes USING fts5(body)",
    "INSERT INTO notes (rowid, body) SELECT id, note FROM child WHERE id % 10 = 0",
    "CREATE INDEX child_parent ON child (parent)",
  ];
}

let plans: TablePlan[];
let sourceDigest: string;

async function digest(obj: RestoreObject): Promise<string> {
  return createHash("sha256")
    .update(JSON.stringify(await takeSnapshot(doBackend(obj), plans)))
    .digest("hex");
}

describeRestoreCrashes("a crash at any I/O step leaves the restored database identical", {
  config: { tickBudgetMs: 100, clockStepMs: 5, faultSql: true },
  perKind: Number(process.env.DD_RESTORE_FAULTS_PER_KIND ?? 12),
  kinds: ["r2.head", "r2.get", "storage.put", "storage.transactionSync", "storage.kv.put", "storage.sync", "sql.exec", "storage.delete"],
  async prepare(h) {
    const source = h.object();
    await source.exec(seed());
    const dump = await source.dump({ format: "sql", gzip: true });
    plans = await planTables(doBackend(source));
    sourceDigest = await digest(source);
    return { key: dump.outputs[0]!.key };
  },
  digest,
  baselineTests(run) {
    test("the undisturbed run restores the source, from a verified gzip part", async () => {
      const { h, status, digest } = run();
      const manifest = JSON.parse(Buffer.from(await h.readObject(status.source.manifestKey!)).toString());
      expect(manifest.objects[0].parts[0].gzipSegment).toEqual({ index: 0, offset: 10 });
      expect(status.source.gzip).toBe(true);
      expect(digest).toBe(sourceDigest);
    });
  },
});
