/**
 * Schema SQL in a `d1` dump: the statements `wrangler d1 execute --file` sends to D1 one by one
 * after cutting the file with its own splitter, which knows less SQL than SQLite. Each statement
 * is checked against that splitter, rewritten where only whitespace and the case of a keyword
 * stand in its way, and refused otherwise.
 */
import { DumpError } from "../errors.js";
import { D1_STATEMENT_BYTES } from "../sqlite/d1-statements.js";
import { utf8Length } from "../util/bytes.js";
import { endStatement, sqlTokens } from "../util/sql-scan.js";

const COMPOUND_START = /\s(BEGIN|CASE)\s$/i;
const COMPOUND_END = /\sEND[;\s]$/;

/**
 * The statements wrangler's local file import runs for `sql`: its splitter (`splitSqlIntoStatements`
 * in wrangler 4.84.1's src/d1/splitter.ts), rebuilt rule for rule. It cuts at `;` outside quotes,
 * `$tag$` strings and comments, except inside a compound statement: one opens at whitespace,
 * `BEGIN` or `CASE` (any case), whitespace, and closes at whitespace, `END` (upper case only), `;`
 * or whitespace. It drops comments, keeping a line break for a `--` one, and does not know
 * `[…]` identifiers. The compound checks look at the end of the text only, so a window of it is
 * enough: linear time, where wrangler's takes time quadratic in the length of a statement.
 */
export function wranglerStatements(sql: string): string[] {
  const chars = Array.from(sql);
  const statements: string[] = [];
  // The statement being built, as code points: wrangler's string, without the cost of rebuilding it.
  let str: string[] = [];
  let open = 0;
  let i = 0;
  const tail = (extra = "") => str.slice(-8).join("") + extra;
  /** Code points up to and including the first place where they end with `marker` (or the end). */
  const until = (marker: string): string[] => {
    const end = Array.from(marker);
    const out: string[] = [];
    while (i < chars.length) {
      out.push(chars[i++]!);
      if (out.length >= end.length && end.every((m, k) => out[out.length - end.length + k] === m)) break;
    }
    return out;
  };
  while (i < chars.length) {
    const c = chars[i++]!;
    if (open > 0 && COMPOUND_END.test(tail(c))) open--;
    if (c === "'" || c === '"' || c === "`") str.push(c, ...until(c));
    else if (c === "$") {
      let tag = "$";
      while (i < chars.length) {
        const next = chars[i++]!;
        tag += next;
        if (next === "$" || !(/[0-9_]/.test(next) || next.toLowerCase() !== next.toUpperCase())) break;
      }
      str.push(...Array.from(tag));
      if (tag.endsWith("$")) str.push(...until(tag));
    } else if ((c === "-" && chars[i] === "-") || (c === "/" && chars[i] === "*")) {
      i++;
      until(c === "-" ? "\n" : "*/");
      if (c === "-") str.push("\n");
    } else if (c === ";" && open === 0) {
      statements.push(str.join(""));
      str = [];
    } else str.push(c);
    if (COMPOUND_START.test(tail())) open++;
  }
  statements.push(str.join(""));
  return statements.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** `sql` as wrangler's splitter leaves it when it reads it right: comments out (a line break for a `--` one), trimmed. */
function withoutComments(sql: string): string {
  return sqlTokens(sql)
    .map((t) => (t.kind !== "comment" ? t.text : t.text.startsWith("--") ? "\n" : ""))
    .join("")
    .trim();
}

/** Whether wrangler runs `sql` as one statement, as SQLite reads it, and the statements after it as they are. */
function splitsCleanly(sql: string): boolean {
  const probe = `${endStatement(sql)}SELECT 1;\n`;
  const statements = wranglerStatements(probe);
  return statements.length === 2 && statements[1] === "SELECT 1" && statements[0] === withoutComments(sql);
}

/**
 * The keywords `CASE`, `BEGIN` and `END` with whitespace around them and `END` in upper case, so
 * that wrangler's splitter opens and closes a compound statement at each. SQLite reads the text
 * as before; only the text kept in `sqlite_master` differs.
 */
function spacedKeywords(sql: string): string {
  const tokens = sqlTokens(sql);
  return tokens
    .map((t, k) => {
      if (t.kind !== "word" || !/^(case|begin|end)$/i.test(t.text)) return t.text;
      const before = k > 0 && tokens[k - 1]!.kind !== "space" ? " " : "";
      // `END;` closes as it is.
      const next = tokens[k + 1];
      const after = next !== undefined && next.kind !== "space" && !(next.text === ";" && /^end$/i.test(t.text)) ? " " : "";
      return `${before}${/^end$/i.test(t.text) ? "END" : t.text}${after}`;
    })
    .join("");
}

/**
 * A schema statement (`sql` as `sqlite_master` holds it) written for a d1 dump, ended by `;`
 * and a line break: as it is when wrangler's splitter reads it right, else with whitespace around
 * `CASE`, `BEGIN` and `END` and `END` in upper case when that is enough (a CASE expression ending
 * in `END)` or `end,` would otherwise swallow the rest of the file).
 *
 * @throws {DumpError} `UNSUPPORTED_SCHEMA` when the statement is longer than D1 takes, holds the
 * text `BEGIN TRANSACTION` (wrangler refuses such a file), or is cut wrongly either way.
 */
export function d1SchemaStatement(sql: string, what: string): string {
  const refuse = (why: string) => new DumpError("UNSUPPORTED_SCHEMA", `${what} cannot be imported into D1: ${why}. Leave it out of the dump, or change it.`);
  if (sql.includes("BEGIN TRANSACTION")) throw refuse("its SQL holds the text BEGIN TRANSACTION, which wrangler takes for a transaction of the file");
  let statement = sql;
  if (!splitsCleanly(sql)) {
    statement = spacedKeywords(sql);
    if (statement === sql || !splitsCleanly(statement)) throw refuse("wrangler's SQL splitter would cut its SQL in the wrong places");
  }
  const text = endStatement(statement);
  if (utf8Length(text) > D1_STATEMENT_BYTES) throw refuse(`its SQL takes ${utf8Length(text)} bytes; D1 takes statements of at most ${D1_STATEMENT_BYTES}`);
  return text;
}
