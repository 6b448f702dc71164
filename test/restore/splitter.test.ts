import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { corpusStatements } from "../harness/corpus.js";
import { expectSplitsLikeSqlite, split, sqliteCompletePrefixes } from "./oracle.js";
import { D1_DIALECT_FIXTURE, WRANGLER_EXPORT_FIXTURE } from "./fixtures.js";

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

/** `sqlite3 .dump` of a database built by the CLI from the tricky corpus (FTS5, triggers, big rows). */
function cliDumpOfCorpus(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "dd-split-"));
  try {
    const db = join(dir, "c.db");
    const script = corpusStatements()
      .map((s) => `${s.sql};`)
      .join("\n");
    const build = spawnSync("sqlite3", ["-bail", db], { input: script, maxBuffer: 1 << 30 });
    if (build.status !== 0) throw new Error(build.stderr.toString());
    const dump = spawnSync("sqlite3", [db, ".dump"], { maxBuffer: 1 << 30 });
    if (dump.status !== 0) throw new Error(dump.stderr.toString());
    return new Uint8Array(dump.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the statement splitter cuts where sqlite3_complete() does", () => {
  test("sqlite3 .dump of the corpus, fed whole, byte by byte and in odd pieces", () => {
    const dump = cliDumpOfCorpus();
    expect(dump.length).toBeGreaterThan(4_000_000);
    const statements = expectSplitsLikeSqlite(dump);
    expect(statements.length).toBeGreaterThan(100);
    expect(split(dump).rest).toBeNull();
  });

  test("wrangler d1 export and the D1 dialect", () => {
    expectSplitsLikeSqlite(bytes(WRANGLER_EXPORT_FIXTURE));
    expectSplitsLikeSqlite(bytes(D1_DIALECT_FIXTURE));
  });

  test("triggers, CASE … END, comments, quotes of every kind", () => {
    const text = [
      "CREATE TRIGGER t1 AFTER INSERT ON a BEGIN INSERT INTO b VALUES(';'); UPDATE c SET x = CASE WHEN 1 THEN 'end;' END; END;",
      'create temp trigger "t;2" before delete on [a;b] begin select 1; end ;',
      'CREATE TABLE `x;y`("a;" TEXT, [b;] INT); -- a comment; with semicolons\n',
      "/* block; comment */ INSERT INTO x VALUES('it''s; fine', x'3b3b', \"q;\"\"\"); ",
      "EXPLAIN CREATE TRIGGER t3 AFTER INSERT ON a BEGIN SELECT 1; END;",
      "CREATE VIEW v AS SELECT CASE x WHEN 1 THEN 2 END AS y FROM t;",
      "SELECT 'END'; SELECT end_time FROM t; SELECT \"end\"; ;;",
      "INSERT INTO t VALUES('é😀;', 'a-b', 6/3, -1);--tail",
    ].join("\n");
    const statements = expectSplitsLikeSqlite(bytes(text));
    expect(statements.length).toBe(12);
    expect(split(bytes(text)).rest).toBeNull();
  });

  test("a statement cut short is reported with its offset, trailing whitespace and comments are not", () => {
    for (const tail of ["INSERT INTO t VALUES('abc", "CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1;", "/* open", "SELECT 1", "SELECT 1 -", "x"]) {
      const text = `SELECT 1;\n${tail}`;
      expect(split(bytes(text), [3]).rest, tail).toBe(9);
    }
    for (const tail of ["", "  \n", "-- comment", "/* done */\n", "-- a\n/* b */ "]) expect(split(bytes(`SELECT 1;${tail}`), [2]).rest, tail).toBeNull();
  });

  test("random token soups split as SQLite says, in any pieces", () => {
    const piece = fc.constantFrom(
      ";",
      " ",
      "\n",
      "'a;b'",
      "''",
      '"x;"',
      "[q;]",
      "`b;`",
      "-- c;\n",
      "/* d; */",
      "CREATE",
      "TRIGGER",
      "TEMP",
      "BEGIN",
      "END",
      "EXPLAIN",
      "CASE",
      "select",
      "x",
      "é",
      "-",
      "/",
      "*",
      "(",
      ",",
      "1.5",
    );
    const soups = fc.sample(
      fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(" ")),
      { numRuns: 400, seed: 42 },
    );
    const texts = soups.map(bytes);
    const results = texts.map((t) => split(t, [5]));
    // Every statement ends at its first complete prefix, and the rest holds none.
    const pieces: Uint8Array[] = [];
    results.forEach((r, i) => {
      const used = r.statements.reduce((sum, s) => sum + s.length, 0);
      pieces.push(...r.statements, texts[i]!.subarray(used));
    });
    const prefixes = sqliteCompletePrefixes(pieces);
    let k = 0;
    const problems: string[] = [];
    results.forEach((r, i) => {
      for (const s of r.statements) if (prefixes[k++] !== s.length) problems.push(`${soups[i]} → ${Buffer.from(s).toString()}`);
      if (prefixes[k++] !== -1) problems.push(`${soups[i]}: rest is complete`);
    });
    expect(problems).toEqual([]);
  });
});
