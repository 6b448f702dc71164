import { afterAll, beforeAll, expect, test } from "vitest";
import { createHarness, type Harness } from "./harness/miniflare.js";
import type { HostObject } from "./harness/host-client.js";
import { expectSqlite3RestoresObject, expectSqlJsRestoresObject } from "./harness/compare.js";
import { runToCompletion } from "./harness/drive.js";
import { readSingleOutput } from "./harness/dump.js";
import { decodeHostValue, doubleBits } from "./harness/values.js";

/**
 * Doubles over the whole exponent range, where SQLite's own `quote()` is not exact: beyond about
 * 1e118 and below about 1e-83 workerd's SQLite writes digits that a correctly rounding parser maps
 * to a neighbouring double (one value in five). Every format must still carry each double bit for
 * bit: SQL restored by the sqlite3 CLI, CSV and NDJSON read by JavaScript's parser.
 */
let h: Harness;
let obj: HostObject;
let source: Map<number, string>;

const ROWS = 3000;

beforeAll(async () => {
  h = await createHarness();
  obj = h.object();
  // A deterministic mantissa in [1, 10) and a decimal exponent in [-323, 308] per row.
  const wide = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${ROWS})
    SELECT x, (1 + ((x * 2654435761) % 1000003) / 111111.5) * pow(10, (x * 7919) % 632 - 323) * iif(x % 2, 1, -1) FROM c`;
  await obj.exec([
    "CREATE TABLE wide (id INTEGER PRIMARY KEY, r)",
    `INSERT INTO wide ${wide}`,
    `INSERT INTO wide VALUES (${ROWS + 1}, 1e999), (${ROWS + 2}, -1e999), (${ROWS + 3}, -0.0), (${ROWS + 4}, 5e-324),
      (${ROWS + 5}, 1.7976931348623157e308), (${ROWS + 6}, 1e100), (${ROWS + 7}, 1e-60), (${ROWS + 8}, 9.999999999999999e99)`,
  ]);
  await obj.config({ tickBudgetMs: 100, clockStepMs: 10 });
  await obj.mode("manual");
  const rows = (await obj.query("SELECT id, r FROM wide ORDER BY id")).rows;
  source = new Map(rows.map((r) => [r[0] as number, doubleBits(decodeHostValue(r[1]) as number)]));
});
afterAll(async () => {
  await h?.dispose();
});

async function dump(format: string): Promise<Uint8Array> {
  const started = await obj.start({ format, tables: ["wide"] });
  const { status } = await runToCompletion(obj, started.id, { maxTicks: 10_000 });
  expect(status.state, JSON.stringify(status.error)).toBe("completed");
  return (await readSingleOutput(h, status)).bytes;
}

/** Rows whose double differs from the source's, as "id: got != expected" (empty when all match). */
function mismatches(parsed: [number, number][]): string[] {
  expect(parsed.length).toBe(source.size);
  return parsed.filter(([id, r]) => doubleBits(r) !== source.get(id)).map(([id, r]) => `${id}: ${doubleBits(r)} != ${source.get(id)}`);
}

test("the corpus holds doubles quote() writes inexactly", async () => {
  const r = await obj.query("SELECT count(*) FROM wide WHERE abs(r) > 1e118 OR (abs(r) < 1e-83 AND r <> 0)");
  expect(r.rows[0]![0]).toBeGreaterThan(ROWS / 3);
});

test("sql: the sqlite3 CLI and sql.js restore every double bit for bit", async () => {
  const bytes = await dump("sql");
  await expectSqlite3RestoresObject(obj, bytes);
  await expectSqlJsRestoresObject(obj, bytes);
});

test("ndjson: JSON.parse reads every double bit for bit", async () => {
  const text = Buffer.from(await dump("ndjson")).toString("utf8");
  const parsed = text
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as { id: number; r: number });
  expect(mismatches(parsed.map((o) => [o.id, o.r]))).toEqual([]);
});

test("csv: parseFloat reads every double bit for bit", async () => {
  const text = Buffer.from(await dump("csv")).toString("utf8");
  const [, ...lines] = text.trimEnd().split("\r\n");
  const parsed = lines
    .map((line) => line.split(","))
    .map(([id, r]) => [Number(id), r === "9.0e+999" ? Infinity : r === "-9.0e+999" ? -Infinity : parseFloat(r!)] as [number, number]);
  expect(mismatches(parsed)).toEqual([]);
});
