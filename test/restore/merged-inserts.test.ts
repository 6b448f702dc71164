import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { doBackend } from "../harness/backends.js";
import { expectSameSnapshot } from "../harness/compare.js";
import { restoreWithSqlite3 } from "../harness/restore.js";
import { planTables, takeSnapshot } from "../harness/snapshot.js";
import { createRestoreHarness, type RestoreHarness, restoreUpload } from "./harness.js";

/**
 * The restore runs consecutive INSERTs into the same table with the same column list as one
 * multi-row INSERT. These dumps hold the INSERTs where that could go wrong; the restored database
 * must equal what the sqlite3 CLI makes of the same text, statement by statement, value by value.
 */
describe("consecutive INSERTs merged into multi-row INSERTs", () => {
  let h: RestoreHarness;

  beforeAll(async () => {
    h = await createRestoreHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const HEAD = [
    "PRAGMA foreign_keys=OFF;",
    "BEGIN TRANSACTION;",
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w TEXT);",
    "CREATE TABLE u(id INTEGER PRIMARY KEY AUTOINCREMENT, v);",
    "CREATE TABLE tiny(n);",
    "CREATE TABLE log(n INTEGER, v);",
    // Fires for each row, and reads the table the row went into: rows of one INSERT see the rows before them.
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES((SELECT count(*) FROM t), new.v); END;",
  ];

  test("literals of every kind, other column lists, upserts, subqueries, comments, text that is not UTF-8: as sqlite3 restores them", async () => {
    const lines = [...HEAD];
    const tricky = [
      "'a),(b'",
      "'semi;colon'",
      "'it''s'",
      "''",
      "''''",
      "'--not a comment'",
      "'/* nor this */'",
      "'line\nbreak'",
      "X'00ff'",
      "x''",
      "NULL",
      "-1.5e10",
      "1e999",
      "-1e999",
      "9223372036854775807",
      "-9223372036854775808",
      ".5",
      "+7",
      "0.1",
      "replace('a\\nb','\\n',char(10))",
      "'é ✓ 𝄞'",
    ];
    lines.push(...tricky.map((literal, i) => `INSERT INTO t VALUES(${i + 1},${literal},'w${i}');`));
    lines.push(
      "INSERT INTO t(w,id) VALUES('w-a',100);",
      "INSERT INTO t(id,w) VALUES(101,'w-b');",
      "INSERT INTO t VALUES(102,'v','w');",
      "INSERT INTO t VALUES(1,'dup','d') ON CONFLICT(id) DO UPDATE SET v=excluded.v;",
      "INSERT INTO t VALUES(103,'after the upsert','w');",
      "INSERT OR IGNORE INTO t VALUES(2,'ignored','x');",
      "INSERT OR IGNORE INTO t VALUES(104,'not ignored','x');",
      "REPLACE INTO t VALUES(3,'replaced','y');",
      "INSERT INTO t VALUES(200,'a','b'),(201,'c','d');",
      "INSERT INTO t VALUES(202,'e','f');",
      "INSERT INTO t VALUES(300,'c','d') /* a comment */;",
      "INSERT INTO t VALUES(301,'c','d');",
      'INSERT INTO "t"("id","v") VALUES(400,\'q\');',
      'INSERT INTO "t"("id","v") VALUES(401,\'r\');',
      "INSERT INTO t VALUES(402, 1 + 2, 'w');",
      "INSERT INTO t VALUES(403, abs(-4), 'w');",
    );
    // Each sees the rows before it (0, 1, 2): not as one multi-row INSERT, which reads the table first.
    for (let i = 0; i < 3; i++) lines.push("INSERT INTO u(v) VALUES((SELECT count(*) FROM u));");
    for (let i = 0; i < 2; i++) lines.push("INSERT INTO u VALUES(NULL, last_insert_rowid());");
    // More rows than one compound SELECT may have (500), in one query.
    for (let i = 0; i < 2000; i++) lines.push(`INSERT INTO tiny VALUES(${i});`);
    lines.push("INSERT INTO t VALUES(500,'ok','before');");
    const text = Buffer.from(`${lines.join("\n")}\n`);
    // Text that is not valid UTF-8 (its INSERT runs with the text bound as bytes), amid rows that merge.
    const invalid = Buffer.from([...Buffer.from("INSERT INTO t VALUES(501,'"), 0xff, 0xfe, ...Buffer.from("','bad');\n")]);
    const tail = Buffer.from("INSERT INTO t VALUES(502,'ok','after');\nCOMMIT;\n");
    const dump = new Uint8Array(Buffer.concat([text, invalid, tail]));

    const { status, target } = await restoreUpload(h, dump);
    expect(status.error, JSON.stringify(status.error)).toBeNull();
    expect(status.state).toBe("completed");
    const cli = restoreWithSqlite3(dump);
    try {
      const plans = await planTables(doBackend(target));
      expectSameSnapshot(await takeSnapshot(doBackend(target), plans), await takeSnapshot(cli.backend, plans), "restored");
    } finally {
      cli.dispose();
    }
    expect((await target.query("SELECT group_concat(v) FROM (SELECT v FROM u ORDER BY id)")).rows).toEqual([["0,1,2,3,4"]]);
    expect((await target.query("SELECT count(*), sum(n) FROM tiny")).rows).toEqual([[2000, 1999000]]);
  });

  test("consecutive INSERTs do run as one statement: changes() after them counts their rows", async () => {
    // changes() is the one thing a merged INSERT changes: the rows of the last INSERT statement.
    const rows = Array.from({ length: 100 }, (_, i) => `INSERT INTO tiny VALUES(${i});`);
    const text = `${[...HEAD, ...rows, "INSERT INTO log VALUES(changes(), 'probe');"].join("\n")}\nCOMMIT;\n`;
    const { status, target } = await restoreUpload(h, new Uint8Array(Buffer.from(text)));
    expect(status.state, JSON.stringify(status.error)).toBe("completed");
    expect((await target.query("SELECT n FROM log WHERE v = 'probe'")).rows).toEqual([[100]]);
    expect((await target.query("SELECT count(*), sum(n) FROM tiny")).rows).toEqual([[100, 4950]]);
  });

  test("a row that fails amid rows that merge: STATEMENT_FAILED at its offset, every row before it committed, none after", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `INSERT INTO t VALUES(${i + 1},'v${i}','w');`);
    rows.splice(30, 0, "INSERT INTO t VALUES(7,'duplicate','w');");
    const text = `${[...HEAD, ...rows].join("\n")}\nCOMMIT;\n`;
    const { status, target } = await restoreUpload(h, new Uint8Array(Buffer.from(text)));
    const offset = Buffer.byteLength(text.slice(0, text.indexOf("\nINSERT INTO t VALUES(7,'duplicate'")));
    expect(status.state).toBe("failed");
    expect(status.error?.code).toBe("STATEMENT_FAILED");
    expect(status.failedStatement).toEqual({ offset, statement: "INSERT INTO t VALUES(7,'duplicate','w');" });
    expect((await target.query("SELECT count(*), max(id) FROM t")).rows).toEqual([[30, 30]]);
    expect((await target.query("SELECT count(*) FROM log")).rows).toEqual([[30]]);
  });
});
