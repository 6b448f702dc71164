import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RestoreStatus } from "../../src/index.js";
import { createRestoreHarness, driveRestore, type RestoreHarness, restoreUpload } from "./harness.js";

/**
 * Bad input fails the job (never tick()) with a typed error that says where, and what was
 * committed before: everything before the offending statement, nothing after it.
 */
describe("bad input", () => {
  let h: RestoreHarness;

  beforeAll(async () => {
    h = await createRestoreHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  /** Uploads `bytes` and restores them into a fresh object (no manifest). */
  async function restoreBytes(
    bytes: Uint8Array | string,
    options: { readBytes?: number } = {},
  ): Promise<{ status: RestoreStatus; rows: (sql: string) => Promise<unknown[][]> }> {
    const { status, target } = await restoreUpload(h, bytes, options);
    return { status, rows: async (sql) => (await target.query(sql)).rows };
  }

  const HEAD = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO t VALUES(1,'one');\n";

  test("a failing statement: STATEMENT_FAILED at its offset, everything before it committed", async () => {
    const text = `${HEAD}INSERT INTO t VALUES(2,'two');\nINSERT INTO missing VALUES(3);\nINSERT INTO t VALUES(4,'four');\nCOMMIT;\n`;
    const { status, rows } = await restoreBytes(text);
    const offset = Buffer.byteLength(text.slice(0, text.indexOf("\nINSERT INTO missing")));
    expect(status.state).toBe("failed");
    expect(status.error?.code).toBe("STATEMENT_FAILED");
    expect(status.error?.message).toContain(`at byte ${offset} `);
    expect(status.error?.message).toContain("no such table: missing");
    expect(status.failedStatement).toEqual({ offset, statement: "INSERT INTO missing VALUES(3);" });
    expect(status.progress.offset).toBe(offset);
    expect(await rows("SELECT id FROM t ORDER BY id")).toEqual([[1], [2]]);
  });

  test.each([
    ["inside a string", `${HEAD}INSERT INTO t VALUES(2,'tw`, "ends inside the statement that starts at byte"],
    ["at a statement boundary, before COMMIT", `${HEAD}INSERT INTO t VALUES(2,'two');\n`, "never commits"],
    ["ROLLBACK: .dump met an error", `${HEAD}ROLLBACK; -- due to errors\n`, "ROLLBACK"],
  ])("a truncated dump, %s: TRUNCATED_DUMP", async (_name, text, says) => {
    const { status, rows } = await restoreBytes(text);
    expect(status.state).toBe("failed");
    expect(status.error?.code).toBe("TRUNCATED_DUMP");
    expect(status.error?.message).toContain(says);
    expect((await rows("SELECT count(*) FROM t"))[0]![0]).toBeGreaterThanOrEqual(1);
  });

  test.each([
    ["binary", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
    ["JSON", '{"orders":[{"id":1}]}\n'],
    ["CSV", "id,name\r\n1,ann\r\n"],
    ["empty", ""],
    ["a NUL byte later on", `${HEAD}INSERT INTO t VALUES(2,'a\u0000b');\nCOMMIT;\n`],
  ])("not a dump (%s): NOT_A_DUMP", async (_name, bytes) => {
    const { status } = await restoreBytes(bytes);
    expect(status.state).toBe("failed");
    expect(status.error?.code).toBe("NOT_A_DUMP");
  });

  test("a truncated and a damaged gzip (without a manifest): TRUNCATED_DUMP, CORRUPT_GZIP", async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `INSERT INTO t VALUES(NULL, '${createHash("sha256").update(String(i)).digest("hex")}');\n`);
    const gz = gzipSync(`${HEAD}${rows.join("")}COMMIT;\n`);
    expect(gz.length).toBeGreaterThan(150_000);
    const cut = await restoreBytes(gz.subarray(0, Math.floor(gz.length / 2)), { readBytes: 64 * 1024 });
    expect(cut.status.error?.code).toBe("TRUNCATED_DUMP");
    // A foreign gzip's CRC-32 is known only at its end (data damaged further in may fail as a statement first).
    const badCrc = Buffer.from(gz);
    badCrc[gz.length - 8] = badCrc[gz.length - 8]! ^ 0xff;
    const crc = await restoreBytes(badCrc, { readBytes: 64 * 1024 });
    expect(crc.status.error?.code).toBe("CORRUPT_GZIP");
    expect(crc.status.error?.message).toContain("incorrect data check");
    const badMethod = Buffer.from(gz);
    badMethod[2] = 7;
    const method = await restoreBytes(badMethod);
    expect(method.status.error?.code).toBe("CORRUPT_GZIP");
    expect(method.status.progress.statements).toBe(0);
  });

  test.each([
    ["ATTACH", `${HEAD}ATTACH DATABASE 'x.db' AS x;\nCOMMIT;\n`],
    [
      "an R*Tree written by .dump",
      `${HEAD}PRAGMA writable_schema=ON;\nINSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table','r','r',0,'CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)');\nCOMMIT;\n`,
    ],
    [
      "a contentless FTS5 table written by .dump",
      `${HEAD}PRAGMA writable_schema=ON;\nINSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES('table','c','c',0,'CREATE VIRTUAL TABLE c USING fts5(t, content='''')');\nCOMMIT;\n`,
    ],
  ])("%s: UNSUPPORTED_STATEMENT", async (_name, text) => {
    const { status } = await restoreBytes(text);
    expect(status.error?.code).toBe("UNSUPPORTED_STATEMENT");
    const statement = text.search(/(ATTACH|INSERT INTO sqlite_schema)/);
    expect(status.failedStatement?.offset).toBe(Buffer.byteLength(text.slice(0, statement)) - 1);
  });

  test("a statement that no binding brings under 100 KB: STATEMENT_TOO_LARGE", async () => {
    // 400 literals of 400 bytes: binding the 100 largest still leaves 120 KB of text.
    const values = Array.from({ length: 400 }, (_, i) => `('${String(i).padStart(400, "x")}')`).join(",");
    const { status } = await restoreBytes(`${HEAD}INSERT INTO t(v) VALUES${values};\nCOMMIT;\n`);
    expect(status.error?.code).toBe("STATEMENT_TOO_LARGE");
  });

  test("a part that does not match its manifest: CHECKSUM_MISMATCH, nothing of it applied", async () => {
    const source = h.object();
    await source.exec([HEAD.replace(/PRAGMA.*\n|BEGIN.*\n/g, ""), "INSERT INTO t VALUES(2,'two')"]);
    const dump = await source.dump({ format: "sql" });
    const manifest = JSON.parse(Buffer.from(await h.readObject(dump.manifestKey!)).toString());
    manifest.objects[0].parts[0].sha256 = "0".repeat(64);
    await h.putObject("tampered.manifest.json", JSON.stringify(manifest));
    const target = h.object();
    const started = await target.start({ key: dump.outputs[0]!.key, manifestKey: "tampered.manifest.json" });
    const status = await driveRestore(target, started.result!.id);
    expect(status.error?.code).toBe("CHECKSUM_MISMATCH");
    expect(status.error?.message).toMatch(/^Part 1 of /);
    expect((await target.query("SELECT count(*) FROM sqlite_master WHERE name = 't'")).rows).toEqual([[0]]);
  });

  test("the object replaced while it is restored: SOURCE_CHANGED", async () => {
    const text = `${HEAD}${"INSERT INTO t VALUES(NULL, 'padding padding padding');\n".repeat(20000)}COMMIT;\n`;
    await h.putObject("changing.sql", text);
    const target = h.object();
    await target.config({ tickBudgetMs: 100, clockStepMs: 50, readBytes: 64 * 1024 });
    const started = await target.start({ key: "changing.sql" });
    for (let i = 0; i < 3; i++) expect((await target.tick()).error).toBeUndefined();
    // Same size, other bytes (the same bytes would have the same ETag).
    await h.putObject("changing.sql", text.replace("padding", "PADDING"));
    const status = await driveRestore(target, started.result!.id);
    expect(status.error?.code).toBe("SOURCE_CHANGED");
    expect(status.progress.statements).toBeGreaterThan(0);
  });
});
