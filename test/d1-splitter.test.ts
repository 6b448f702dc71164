import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DumpError } from "../src/errors.js";
import { d1SchemaStatement, wranglerStatements } from "../src/formats/d1-schema.js";
import { d1Statements, d1TextPieces, joinPieces } from "../src/sqlite/d1-statements.js";
import { ROOT } from "../examples/demo/runtime.mjs";

/** wrangler's own `splitSqlIntoStatements`, cut out of the pinned release's bundle (src/d1/splitter.ts). */
function wranglerSplitter(): (sql: string) => string[] {
  const bundle = readFileSync(join(ROOT, "node_modules", "wrangler", "wrangler-dist", "cli.js"), "utf8");
  const from = bundle.indexOf("// src/d1/splitter.ts");
  const to = bundle.indexOf("var init_splitter", from);
  expect(from).toBeGreaterThan(0);
  const code = bundle.slice(from, to);
  return new Function(`${code}; return splitSqlIntoStatements;`)() as (sql: string) => string[];
}

describe("wrangler's SQL splitter, rebuilt", () => {
  const real = wranglerSplitter();

  test("cuts like wrangler's on SQL made of the tokens it treats apart", () => {
    const token = fc.constantFrom(
      "'",
      '"',
      "`",
      "''",
      "$",
      "$a$",
      "$$",
      "$1",
      "--",
      "/*",
      "*/",
      ";",
      " ",
      "\n",
      "\t",
      "BEGIN",
      "begin",
      "CASE",
      "case",
      "END",
      "end",
      "END;",
      "x",
      "(",
      ")",
      ",",
      "-",
      "/",
      "é",
      "😀",
      "[",
      "]",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), (tokens) => {
        const sql = tokens.join("");
        expect(wranglerStatements(sql)).toEqual(real(sql));
      }),
      { numRuns: 5000 },
    );
  });

  test("cuts like wrangler's on statements the d1 dialect writes", () => {
    const samples = [
      "CREATE TRIGGER t AFTER INSERT ON x BEGIN INSERT INTO y VALUES (1); END;\nINSERT INTO y VALUES(2);",
      "CREATE VIEW v AS SELECT CASE WHEN a THEN 1 END, b FROM t;\nSELECT 1;",
      "CREATE VIEW v AS SELECT 1 -- c ; d\n;\nSELECT 2;",
      `INSERT INTO "t" VALUES(1,${joinPieces(d1TextPieces("it's ; END; CASE -- /* $a$ ".repeat(200)))});\n`,
      d1Statements(['INSERT INTO "t" VALUES(', { kind: "text", pieces: d1TextPieces("BEGIN TRANSACTION; ".repeat(8000)) }, ");\n"], '"_durable_dump_stage"'),
    ];
    for (const sql of samples) expect(wranglerStatements(sql)).toEqual(real(sql));
  });
});

describe("schema statements of a d1 dump", () => {
  test("are written as stored when wrangler cuts them right", () => {
    const trigger = "CREATE TRIGGER t AFTER INSERT ON x BEGIN\n  INSERT INTO y VALUES (CASE WHEN new.a THEN 1 ELSE 2 END);\nEND";
    expect(d1SchemaStatement(trigger, "t")).toBe(`${trigger};\n`);
    expect(d1SchemaStatement("CREATE VIEW v AS SELECT 1 -- note", "v")).toBe("CREATE VIEW v AS SELECT 1 -- note\n;\n");
  });

  test("get whitespace around CASE, BEGIN and END where wrangler would otherwise run on past them", () => {
    const view = "CREATE VIEW v AS SELECT a, CASE WHEN a > 0 THEN 'pos' END,b FROM t";
    expect(wranglerStatements(`${view};\nSELECT 1;`)).toHaveLength(1);
    const written = d1SchemaStatement(view, "v");
    expect(written).toBe("CREATE VIEW v AS SELECT a, CASE WHEN a > 0 THEN 'pos' END ,b FROM t;\n");
    expect(wranglerStatements(`${written}SELECT 1;`)).toEqual([written.slice(0, -2), "SELECT 1"]);
    const lower = "CREATE TRIGGER t AFTER INSERT ON x begin update x set a = case when new.a then 1 end; end";
    expect(d1SchemaStatement(lower, "t")).toBe("CREATE TRIGGER t AFTER INSERT ON x begin update x set a = case when new.a then 1 END; END;\n");
  });

  test("are refused when D1 cannot take them", () => {
    const refused = (sql: string) => {
      try {
        d1SchemaStatement(sql, "it");
      } catch (error) {
        return error instanceof DumpError ? error.code : String(error);
      }
      return "written";
    };
    expect(refused("CREATE TABLE t (a TEXT DEFAULT 'BEGIN TRANSACTION')")).toBe("UNSUPPORTED_SCHEMA");
    // wrangler does not know [identifiers]: the quote inside runs to the end of the file.
    expect(refused("CREATE TABLE t ([it's] TEXT)")).toBe("UNSUPPORTED_SCHEMA");
    expect(refused(`CREATE TABLE t (a DEFAULT '${"x".repeat(100_000)}')`)).toBe("UNSUPPORTED_SCHEMA");
    expect(refused("CREATE TABLE t ([a] TEXT)")).toBe("written");
  });
});
