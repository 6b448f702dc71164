/** Scanning SQL text as SQLite reads it: its tokens, and how to end a statement written as stored. */

/** A token of SQL text: a string or quoted identifier, a comment, a run of whitespace, a word, or any other character. */
export interface SqlToken {
  kind: "string" | "comment" | "space" | "word" | "other";
  text: string;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;
const SPACE = /\s/;

/**
 * The tokens of `sql` by SQLite's rules: `'…'`, `"…"`, `` `…` `` and `[…]` (a doubled quote stays
 * inside), `--` comments to the end of the line (the line break not included) and `/* … *\/`
 * comments; an unterminated comment or string runs to the end of the text.
 */
export function sqlTokens(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let i = 0;
  const take = (kind: SqlToken["kind"], end: number) => {
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      for (;;) {
        const at = sql.indexOf(close, j);
        if (at < 0 || close === "]" || sql[at + 1] !== close) {
          j = at < 0 ? sql.length : at + 1;
          break;
        }
        j = at + 2;
      }
      take("string", j);
    } else if (c === "-" && sql[i + 1] === "-") {
      const at = sql.indexOf("\n", i);
      take("comment", at < 0 ? sql.length : at);
    } else if (c === "/" && sql[i + 1] === "*") {
      const at = sql.indexOf("*/", i + 2);
      take("comment", at < 0 ? sql.length : at + 2);
    } else if (SPACE.test(c)) {
      let j = i + 1;
      while (j < sql.length && SPACE.test(sql[j]!)) j++;
      take("space", j);
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < sql.length && WORD.test(sql[j]!)) j++;
      take("word", j);
    } else take("other", i + 1);
  }
  return tokens;
}

/**
 * A statement as stored in `sqlite_master`, ended so that what follows it stays outside it:
 * `;` and a line break, after a line break when the text ends in a `--` comment, and after `*\/`
 * when it ends inside a `/*` comment (SQLite keeps a trailing comment in the text of an index or
 * a view, and accepts an unterminated one at the end of the input).
 */
export function endStatement(sql: string): string {
  const last = sqlTokens(sql).at(-1);
  if (last?.kind === "comment") {
    if (last.text.startsWith("--")) return `${sql}\n;\n`;
    if (!last.text.endsWith("*/") || last.text.length < 4) return `${sql}*/;\n`;
  }
  return `${sql};\n`;
}
