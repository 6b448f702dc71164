import { spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type SqlBackend, doBackend } from "../harness/backends.js";
import { expectSameSnapshot } from "../harness/compare.js";
import { CORPUS_PROBES, corpusStatements } from "../harness/corpus.js";
import { type RestoredFile, restoreWithSqlite3 } from "../harness/restore.js";
import { planTables, takeSnapshot } from "../harness/snapshot.js";
import { sqlite3Backend } from "../harness/backends.js";
import { D1_DIALECT_FIXTURE, D1_SEED } from "./fixtures.js";
import { createRestoreHarness, driveRestore, type RestoreHarness, type RestoreObject } from "./harness.js";
import { expectSplitsLikeSqlite } from "./oracle.js";
import { wranglerExport } from "./wrangler.js";

/**
 * Dumps written by other tools restore into a Durable Object as the sqlite3 CLI restores them:
 * the oracle is `sqlite3 new.db < dump.sql` of the very same text, compared value by value.
 */
describe("dumps of other tools", () => {
  let h: RestoreHarness;
  let cliDump: Uint8Array;

  beforeAll(async () => {
    h = await createRestoreHarness();
    // The corpus, exported by this library, restored by the CLI, then written by `sqlite3 .dump`.
    const source = h.object();
    await source.exec(corpusStatements());
    const ours = await source.dump({ format: "sql" });
    const db = restoreWithSqlite3(await h.readObject(ours.outputs[0]!.key));
    try {
      // .dump writes doubles with quote(), exact only for magnitudes from about 1e-83 to 1e118, and the
      // CLI here (3.40) and a Durable Object read the decimal literals of the smallest subnormals
      // differently (the CLI gets 0.0): give those values one that both read alike.
      db.run(`UPDATE "values" SET v = 0.125 WHERE typeof(v) = 'real' AND v > 0 AND v < 1e-320;
        UPDATE affinity SET f = 0.125 WHERE typeof(f) = 'real' AND f > 0 AND f < 1e-320;
        UPDATE strict_t SET r = 0.125 WHERE r > 0 AND r < 1e-320;`);
      const dump = spawnSync("sqlite3", [db.path, ".dump"], { maxBuffer: 1 << 30 });
      if (dump.status !== 0) throw new Error(dump.stderr.toString());
      cliDump = new Uint8Array(dump.stdout);
    } finally {
      db.dispose();
    }
  });
  afterAll(async () => {
    await h?.dispose();
  });

  /** Restores `key` into a fresh object (evicting its engines after every tick) and compares it with the CLI's restore of `text`. */
  async function expectRestoresLikeCli(key: string, text: Uint8Array | string, config: Parameters<RestoreObject["config"]>[0] = {}): Promise<RestoreObject> {
    const target = h.object();
    await target.config({ tickBudgetMs: 100, clockStepMs: 30, ...config });
    const started = await target.start({ key });
    expect(started.error).toBeUndefined();
    const status = await driveRestore(target, started.result!.id, { afterTick: () => target.ok("evict") });
    expect(status.error, JSON.stringify(status.error)).toBeNull();
    expect(status.state).toBe("completed");
    const cli: RestoredFile = restoreWithSqlite3(text);
    try {
      const plans = await planTables(cli.backend);
      expectSameSnapshot(await takeSnapshot(doBackend(target), plans), await takeSnapshot(cli.backend, plans), "restored");
    } finally {
      cli.dispose();
    }
    return target;
  }

  test("sqlite3 .dump of the corpus: FTS5 through PRAGMA writable_schema, 1.9 MB rows, NUL text", async () => {
    expectSplitsLikeSqlite(cliDump, [[cliDump.length]]);
    const text = Buffer.from(cliDump).toString("utf8");
    expect(text).toContain("PRAGMA writable_schema=ON;");
    expect(text).toContain("INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table','docs'");
    await h.putObject("cli/corpus.sql", cliDump);
    const target = await expectRestoresLikeCli("cli/corpus.sql", cliDump);
    const answers = async (db: SqlBackend) => Promise.all(CORPUS_PROBES.map(async (q) => JSON.stringify(await db.all(q))));
    const cli = restoreWithSqlite3(cliDump);
    try {
      expect(await answers(doBackend(target))).toEqual(await answers(cli.backend));
    } finally {
      cli.dispose();
    }
  });

  test("a foreign gzip of several members, read in small ranges and decoded from the start after each eviction", async () => {
    const half = Math.floor(cliDump.length / 2);
    const gz = Buffer.concat([gzipSync(cliDump.subarray(0, half)), gzipSync(cliDump.subarray(half))]);
    await h.putObject("cli/corpus.sql.gz", gz);
    await expectRestoresLikeCli("cli/corpus.sql.gz", cliDump, { readBytes: 64 * 1024 });
  });

  test("the D1 dialect: deferred foreign keys, a child's rows before its parent's, values appended by UPDATEs", async () => {
    expectSplitsLikeSqlite(Buffer.from(D1_DIALECT_FIXTURE));
    await h.putObject("d1/dialect.sql", D1_DIALECT_FIXTURE);
    const target = await expectRestoresLikeCli("d1/dialect.sql", D1_DIALECT_FIXTURE);
    const fk = await target.query("PRAGMA foreign_keys");
    expect(fk.rows).toEqual([[1]]);
    // Filtered, the rows built in the dialect's staging table still arrive.
    const files = h.object();
    const filtered = await driveRestore(files, (await files.start({ key: "d1/dialect.sql", tables: ["files"] })).result!.id);
    expect(filtered.state, JSON.stringify(filtered.error)).toBe("completed");
    const rows = await files.query(`SELECT id, name, length(body), hex(substr(body, 1, 4)) FROM files ORDER BY id`);
    expect(rows.rows).toEqual((await target.query(`SELECT id, name, length(body), hex(substr(body, 1, 4)) FROM files ORDER BY id`)).rows);
    expect(
      (await files.query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)).rows
        .map((r) => r[0])
        .filter((n) => !String(n).startsWith("_cf_")),
    ).toEqual(["files"]);
  });

  test("wrangler d1 export of a local D1 database: equal to the D1 database itself", async () => {
    const exported = wranglerExport(D1_SEED);
    try {
      expectSplitsLikeSqlite(exported.dump);
      await h.putObject("d1/export.sql", exported.dump);
      const target = await expectRestoresLikeCli("d1/export.sql", exported.dump);
      const d1 = sqlite3Backend(exported.databaseFile);
      const plans = await planTables(d1);
      expectSameSnapshot(await takeSnapshot(doBackend(target), plans), await takeSnapshot(d1, plans), "restored from D1");
    } finally {
      exported.dispose();
    }
  });
});
