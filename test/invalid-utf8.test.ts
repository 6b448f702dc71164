import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createRelHarness, drive, type RelHarness } from "./reliability/harness.js";

// Text holding invalid UTF-8 (only SQL such as CAST(x'ff' AS TEXT) can store it) is written as
// docs/formatters.md says: byte for byte where SQLite concatenates the batch (rowid tables), with
// U+FFFD per invalid sequence where rows are read one by one (WITHOUT ROWID tables).
describe("text that is not valid UTF-8", () => {
  let h: RelHarness;
  beforeAll(async () => {
    h = await createRelHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const STORED = Buffer.from([0x41, 0xff, 0x42]);
  const REPLACED = Buffer.from("A\uFFFDB", "utf8");

  test.each(["sql", "csv", "ndjson"])("%s: kept byte for byte in a rowid table, U+FFFD in a WITHOUT ROWID table", async (format) => {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 1_000, clockStepMs: 1 });
    await obj.exec([
      "CREATE TABLE r (id INTEGER PRIMARY KEY, t)",
      "CREATE TABLE w (id INTEGER PRIMARY KEY, t) WITHOUT ROWID",
      // Past the first batch, which is always read row by row.
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) INSERT INTO r SELECT i, 'x' || i FROM c",
      "INSERT INTO r VALUES (5000, CAST(x'41ff42' AS TEXT))",
      "INSERT INTO w VALUES (1, CAST(x'41ff42' AS TEXT))",
    ]);
    const status = await drive(obj, (await obj.start({ format })).result!.id);
    expect(status.state).toBe("completed");
    const bytes = await Promise.all(status.outputs.map(async (o) => Buffer.from((await h.readObject(o.key))!)));
    // Table r's part of the output, then w's: one object per table, or the SQL dump cut at w's CREATE.
    const [r, w] =
      format === "sql"
        ? cut(bytes[0]!, "CREATE TABLE w")
        : [bytes[status.outputs.findIndex((o) => o.table === "r")]!, bytes[status.outputs.findIndex((o) => o.table === "w")]!];
    expect([r.includes(STORED), r.includes(REPLACED)]).toEqual([true, false]);
    expect([w.includes(STORED), w.includes(REPLACED)]).toEqual([false, true]);
  });
});

function cut(bytes: Buffer, marker: string): [Buffer, Buffer] {
  const at = bytes.indexOf(marker);
  expect(at).toBeGreaterThan(0);
  return [bytes.subarray(0, at), bytes.subarray(at)];
}
