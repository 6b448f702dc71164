import initSqlJs, { type Database } from "sql.js";
import { beforeAll, describe, expect, test } from "vitest";
import { encodeValue, realText } from "../../src/sqlite/value-encoders.js";

/**
 * The SQL expressions that render values, run in an independent SQLite (sql.js): each literal
 * they produce must read back as the same value, storage class and bits. The engine's own
 * round trips run in workerd (test/roundtrip.test.ts); this pins the expressions themselves.
 */
let db: Database;

beforeAll(async () => {
  db = new (await initSqlJs()).Database();
  db.exec("CREATE TABLE v (id INTEGER PRIMARY KEY, x)");
});

/** Storage class and exact content of a value: integers as text, reals as their 8 bytes, text and blobs as hex. */
const identity = "typeof(x), CASE typeof(x) WHEN 'integer' THEN CAST(x AS TEXT) WHEN 'real' THEN x WHEN 'null' THEN NULL ELSE hex(x) END";

function one(sql: string): unknown[] {
  return db.exec(sql)[0]?.values[0] ?? [];
}

function bits(value: unknown): unknown {
  if (typeof value !== "number") return value;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0).toString(16);
}

const VALUES: [string, string][] = [
  ["int max", "9223372036854775807"],
  ["int min", "(-9223372036854775807 - 1)"],
  ["2^53+1", "9007199254740993"],
  ["zero", "0"],
  ["0.1", "0.1"],
  ["-0.0", "-0.0"],
  ["+inf", "1e999"],
  ["-inf", "-1e999"],
  ["subnormal", "5e-324"],
  ["tiny", "1e-300"],
  ["huge", "1.7976931348623157e308"],
  ["1e150", "1e150"],
  ["text", "'it''s'"],
  ["nul text", "'a' || char(0) || 'b'"],
  ["cr text", "'a' || char(13) || char(10) || 'b'"],
  ["unicode", "'😀 é'"],
  ["empty text", "''"],
  ["blob", "x'00ff10'"],
  ["empty blob", "x''"],
  ["null", "NULL"],
];

describe("SQL literals read back exactly", () => {
  test.each(VALUES)("%s", (_label, expr) => {
    db.exec(`DELETE FROM v; INSERT INTO v (id, x) VALUES (1, ${expr})`);
    const [literal, real] = one(`SELECT (${encodeValue("x", "sql")}), x FROM v`);
    // NULL from the expression means JavaScript writes the value (a real outside quote()'s exact range).
    const text = literal === null ? realText(real as number, "sql") : (literal as string);
    const source = one(`SELECT ${identity} FROM v`).map(bits);
    db.exec(`DELETE FROM v; INSERT INTO v (id, x) VALUES (1, ${text})`);
    expect(one(`SELECT ${identity} FROM v`).map(bits), text).toEqual(source);
  });
});

describe("JSON values parse back exactly (integers as digits)", () => {
  test.each(VALUES.filter(([label]) => !/blob/.test(label)))("%s", (_label, expr) => {
    db.exec(`DELETE FROM v; INSERT INTO v (id, x) VALUES (1, ${expr})`);
    const [json, real, type] = one(`SELECT (${encodeValue("x", "json")}), x, typeof(x) FROM v`);
    const text = json === null ? realText(real as number, "json") : (json as string);
    if (type === "integer") expect(text).toBe(one("SELECT CAST(x AS TEXT) FROM v")[0]);
    else if (type === "real") expect(bits(text === "9.0e+999" ? Infinity : text === "-9.0e+999" ? -Infinity : JSON.parse(text))).toEqual(bits(real));
    else if (type === "null") expect(text).toBe("null");
    else expect(new TextEncoder().encode(JSON.parse(text))).toEqual(new Uint8Array(one("SELECT CAST(x AS BLOB) FROM v")[0] as Uint8Array));
  });
});
