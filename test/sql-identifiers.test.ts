import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { identifiersIn } from "../src/sqlite/sql-identifiers.js";
import { createRelHarness, drive, type RelHarness } from "./reliability/harness.js";

/** A string that counts how often its characters are read (the tokenizer reads only through charCodeAt). */
class CountingString extends String {
  reads = 0;
  override charCodeAt(index: number): number {
    this.reads++;
    return super.charCodeAt(index);
  }
}

/** Character reads the tokenizer makes on `text`. */
function readsOf(text: string): number {
  const counting = new CountingString(text);
  identifiersIn(counting as unknown as string);
  return counting.reads;
}

/** The crafted inputs that made the old regex quadratic: runs of unmatched openers, inside and outside comments. */
const CRAFTED: ((n: number) => string)[] = [
  (n) => `CREATE VIEW v AS SELECT 1 /* ${"[".repeat(n)} */`,
  (n) => `CREATE VIEW v AS SELECT 1 -- ${"[".repeat(n)}`,
  (n) => `CREATE VIEW v AS SELECT ${"[".repeat(n)}`,
  (n) => `CREATE VIEW v AS SELECT ${'"'.repeat(n - 1)}`,
  (n) => `CREATE VIEW v AS SELECT ${"`x".repeat(n / 2)}`,
  (n) => `CREATE VIEW v AS SELECT ${"'".repeat(n - 1)}`,
  (n) => `CREATE VIEW v AS SELECT 1 ${"/*".repeat(n / 2)}`,
  (n) => `CREATE VIEW v AS SELECT ${"a.".repeat(n / 2)}`,
  (n) => `CREATE VIEW v AS SELECT ${"-/*-".repeat(n / 4)}`,
];

describe("identifiersIn: one linear pass", () => {
  test("reads each character at most twice, whatever the input (the crafted 100 KB view definitions included)", () => {
    for (const make of CRAFTED) {
      for (const size of [1_000, 100_000, 400_000]) {
        const text = make(size);
        expect(readsOf(text), `${text.slice(0, 40)}… (${text.length} characters)`).toBeLessThanOrEqual(2 * text.length + 2);
      }
    }
  });

  test("names bare, quoted, bracketed and backticked identifiers, lower-cased", () => {
    expect(identifiersIn('SELECT a.x, "Quoted ""b""", [c d], `e``f` FROM main.T1 JOIN g ON g.id = T1.id')).toEqual([
      "select",
      "a",
      "x",
      'quoted "b"',
      "c d",
      "e`f",
      "from",
      "main",
      "t1",
      "join",
      "g",
      "on",
      "g",
      "id",
      "t1",
      "id",
    ]);
  });

  test("skips comments, strings, blob literals and numbers", () => {
    const sql = `SELECT 1.5e3, 0x1F, .5, X'0A0B', x'ff', 'it''s b' -- c, [d]
      /* e "f" [g */ FROM h`;
    expect(identifiersIn(sql)).toEqual(["select", "from", "h"]);
  });

  test("unclosed quotes, brackets and comments run to the end of the text", () => {
    expect(identifiersIn('SELECT "a b')).toEqual(["select", "a b"]);
    expect(identifiersIn("SELECT [a b")).toEqual(["select", "a b"]);
    expect(identifiersIn("SELECT a /* b")).toEqual(["select", "a"]);
    expect(identifiersIn("SELECT a -- b")).toEqual(["select", "a"]);
    expect(identifiersIn("SELECT 'a b")).toEqual(["select"]);
  });
});

// End to end: a view is kept when the tables it reads are exported, however comments and strings
// mention other tables.
describe("views in a dump of some tables", () => {
  let h: RelHarness;
  beforeAll(async () => {
    h = await createRelHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  test("comments and strings that mention a table left out do not drop a view; real references do", async () => {
    const obj = h.object();
    await obj.config({ tickBudgetMs: 1_000 });
    const crafted = `CREATE VIEW crafted AS SELECT x FROM a /* ${"[".repeat(90_000)} */`;
    await obj.exec([
      "CREATE TABLE a (x)",
      "CREATE TABLE b (y)",
      "INSERT INTO a VALUES (1)",
      "CREATE VIEW in_line_comment AS SELECT x FROM a -- joins b one day",
      'CREATE VIEW in_block_comment AS SELECT x FROM a /* not [b] nor "b" */',
      "CREATE VIEW in_string AS SELECT x, 'b' AS kind FROM a WHERE 'from b' <> ''",
      crafted,
      'CREATE VIEW quoted_ref AS SELECT y FROM "b"',
      "CREATE VIEW bracket_ref AS SELECT y FROM [B]",
      "CREATE VIEW via_view AS SELECT * FROM quoted_ref",
    ]);
    const started = await obj.start({ format: "sql", tables: ["a"] });
    const done = await drive(obj, started.result!.id);
    expect(done.state).toBe("completed");
    const dump = new TextDecoder().decode((await h.readObject(done.outputs[0]!.key))!);
    const views = [...dump.matchAll(/CREATE VIEW (\w+)/g)].map((m) => m[1]);
    expect(views).toEqual(["in_line_comment", "in_block_comment", "in_string", "crafted"]);
  });
});
