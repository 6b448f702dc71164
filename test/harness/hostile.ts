/**
 * A database written by a program that tries to smuggle SQL into its dumps: hostile text in every
 * place a dump copies from the database (table, column, index, view and trigger names,
 * `sqlite_sequence` names and values, schema SQL and its comments, values), and text that
 * wrangler's D1 import treats specially (`BEGIN TRANSACTION`, `COMMIT;`, `END;`, `CASE`).
 * Restoring a dump of it must never run any of it: the `canary` table stays as it is and every
 * value comes back as stored.
 */
import type { Statement } from "./host-client.js";
import { quoteIdent } from "./sql-text.js";

/** Text that ends a string or identifier, ends the statement and drops the canary. */
const INJECT = "'); DROP TABLE canary; --";

/** Table and column names holding SQL. */
export const HOSTILE_NAMES = {
  table: `t${INJECT}`,
  column: `c"); DROP TABLE canary; --`,
  blobColumn: `*/ b /*`,
  second: `s"${INJECT} END; CASE`,
  view: `v${INJECT}`,
  trigger: `tr${INJECT}`,
  index: `i${INJECT}`,
};

/** Values that look like SQL or like the markers of wrangler's SQL splitter, and their labels. */
export const HOSTILE_TEXTS: [string, string][] = [
  ["inject", `'${INJECT.replaceAll("'", "''")}'`],
  ["close-comment", `'*/; DROP TABLE canary; /*'`],
  ["begin-transaction", `'BEGIN TRANSACTION;'`],
  ["begin-transaction-twice", `'x BEGIN TRANSACTION; y BEGIN TRANSACTION'`],
  ["commit", `'COMMIT;'`],
  ["end", `' END; END;' || char(10) || 'END '`],
  ["case", `' CASE WHEN 1 THEN 2 END) '`],
  ["begin", `' BEGIN '`],
  ["dollar", `'$tag$ ; $tag$'`],
  ["line-comment", `'-- ;'`],
  ["nul-commit", `'COMMIT;' || char(0) || ' BEGIN TRANSACTION'`],
  ["cr-end", `' END;' || char(13) || char(10) || 'BEGIN TRANSACTION'`],
  ["long-begin", `replace(hex(zeroblob(3000)), '00', 'BEGIN TRANSACTION; ')`],
];

/** The statements creating the hostile database. */
export function hostileStatements(): Statement[] {
  const n = HOSTILE_NAMES;
  const t = quoteIdent(n.table);
  const s: string[] = [
    "CREATE TABLE canary (x TEXT)",
    "INSERT INTO canary VALUES ('alive')",
    `CREATE TABLE ${t} (id INTEGER PRIMARY KEY AUTOINCREMENT, ${quoteIdent(n.column)} TEXT DEFAULT 'd${INJECT.replaceAll("'", "''")}', ${quoteIdent(n.blobColumn)} BLOB, label TEXT)`,
    `INSERT INTO ${t} (${quoteIdent(n.column)}, ${quoteIdent(n.blobColumn)}, label) VALUES ${HOSTILE_TEXTS.map(([label, expr]) => `(${expr}, CAST(${expr} AS BLOB), '${label}')`).join(", ")}`,
    `INSERT INTO ${t} (label) VALUES ('default')`,
    // sqlite_sequence holds whatever the program writes there: text that is SQL, a blob, a real, text with NUL.
    `UPDATE sqlite_sequence SET seq = '1); DROP TABLE canary; --' WHERE name = '${n.table.replaceAll("'", "''")}'`,
    `CREATE TABLE ${quoteIdent(n.second)} (id INTEGER PRIMARY KEY AUTOINCREMENT, v)`,
    `INSERT INTO ${quoteIdent(n.second)} (v) VALUES ('x')`,
    `UPDATE sqlite_sequence SET seq = x'00ff3b' WHERE name = '${n.second.replaceAll("'", "''")}'`,
    "CREATE TABLE seq_real (id INTEGER PRIMARY KEY AUTOINCREMENT)",
    "INSERT INTO seq_real DEFAULT VALUES",
    "UPDATE sqlite_sequence SET seq = -0.0 WHERE name = 'seq_real'",
    "CREATE TABLE seq_nul (id INTEGER PRIMARY KEY AUTOINCREMENT)",
    "INSERT INTO seq_nul DEFAULT VALUES",
    "UPDATE sqlite_sequence SET seq = 'a' || char(0) || '); DROP TABLE canary; --' WHERE name = 'seq_nul'",
    // Schema SQL ending in comments: a dump that wrote `;` right after them would end the
    // statement inside the comment; the open block comment would swallow what follows up to the
    // `*/` in the index below, after which `; DROP TABLE canary` would run.
    `CREATE VIEW ${quoteIdent(n.view)} AS SELECT id, label FROM ${t} -- ${INJECT}`,
    `CREATE VIEW open_comment AS SELECT 1 AS one /* ${INJECT}`,
    `CREATE INDEX ${quoteIdent(n.index)} ON ${t} (label) WHERE label <> '*/; DROP TABLE canary; --'`,
    `CREATE TRIGGER ${quoteIdent(n.trigger)} AFTER INSERT ON ${t} BEGIN
      INSERT INTO canary VALUES ('trigger ${INJECT.replaceAll("'", "''")} END; BEGIN TRANS' || 'ACTION'); END`,
  ];
  return s.map((sql) => ({ sql }));
}

/**
 * How a restore stores schema SQL that ended in a comment: the dump ends the statement after a
 * line break (line comments) or a `*`+`/` (an open block comment), and SQLite keeps that in the
 * index's text (a view's trailing line break it trims).
 */
export function closedSchemaSql(row: string): string {
  if (row.startsWith("view|open_comment|")) return `${row}*/`;
  return row;
}
