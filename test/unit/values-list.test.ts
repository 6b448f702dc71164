import { describe, expect, test } from "vitest";
import { describeStatement } from "../../src/restore/statement-info.js";
import { valuesList } from "../../src/restore/values-list.js";

/** The tuples `valuesList` finds in `sql`, as text, or null. */
function tuplesOf(sql: string): string | null {
  const bytes = new TextEncoder().encode(sql);
  const info = describeStatement(bytes);
  if (info.kind !== "insert" || info.body === null) throw new Error(`not an INSERT: ${sql}`);
  const found = valuesList(bytes, info.body);
  return found ? new TextDecoder().decode(bytes.subarray(found.start, found.end)) : null;
}

describe("the tuples of an INSERT that may be merged", () => {
  test.each([
    ["INSERT INTO t VALUES(1,'a');", "(1,'a')"],
    ["\nINSERT INTO \"t\" VALUES(1,'it''s','),(',X'00ff',NULL,-1.5e10,1e999,.5,+7);\n", "(1,'it''s','),(',X'00ff',NULL,-1.5e10,1e999,.5,+7)"],
    ["INSERT INTO t(a,b) values (1, 2) , (3, 4) ;  \n", "(1, 2) , (3, 4)"],
    ["INSERT INTO t VALUES(replace('a\\nb','\\n',char(10)),unistr('\\u00e9'));", "(replace('a\\nb','\\n',char(10)),unistr('\\u00e9'))"],
    ["INSERT INTO t VALUES('semi;colon','--','/*',''''),('');", "('semi;colon','--','/*',''''),('')"],
    ["INSERT INTO t VALUES('é ✓ 𝄞')", "('é ✓ 𝄞')"],
  ])("%s", (sql, tuples) => {
    expect(tuplesOf(sql)).toBe(tuples);
  });

  test.each([
    ["an upsert", "INSERT INTO t VALUES(1) ON CONFLICT DO NOTHING;"],
    ["an upsert ending in a parenthesis", "INSERT INTO t VALUES(1) ON CONFLICT(id) DO UPDATE SET v=(1);"],
    ["RETURNING", "INSERT INTO t VALUES(1) RETURNING (id);"],
    ["a SELECT", "INSERT INTO t SELECT 1;"],
    ["DEFAULT VALUES", "INSERT INTO t DEFAULT VALUES;"],
    ["a subquery", "INSERT INTO t VALUES((SELECT count(*) FROM t));"],
    ["a function reading state", "INSERT INTO t VALUES(last_insert_rowid());"],
    ["a column or other word", "INSERT INTO t VALUES(abs(-1));"],
    ["a parameter", "INSERT INTO t VALUES(?);"],
    ["an operator", "INSERT INTO t VALUES(2*3);"],
    ["a hexadecimal integer", "INSERT INTO t VALUES(0x10);"],
    ["a quoted identifier", 'INSERT INTO t VALUES("a");'],
    ["a comment inside", "INSERT INTO t VALUES(1 -- one\n);"],
    ["a comment after", "INSERT INTO t VALUES(1) /* one */;"],
    ["an unterminated string", "INSERT INTO t VALUES('a);"],
    ["an unclosed tuple", "INSERT INTO t VALUES(1,(2);"],
  ])("left as it is: %s", (_name, sql) => {
    expect(tuplesOf(sql)).toBeNull();
  });
});
