/**
 * The identifiers a SQL statement names, found in one pass over its text. Comments, string and
 * blob literals and numbers are skipped; quoted identifiers (`"…"`, `[…]`, `` `…` ``) are
 * unquoted. Every character is read at most twice (once, plus a look-ahead after `-`, `/` and
 * closing quotes), so crafted SQL such as an unmatched `[` or `"` costs time linear in its length.
 */

const DASH = 0x2d;
const SLASH = 0x2f;
const STAR = 0x2a;
const NEWLINE = 0x0a;
const APOSTROPHE = 0x27;
const DOUBLE_QUOTE = 0x22;
const BACKTICK = 0x60;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const DOT = 0x2e;

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A character that may continue a bare identifier (or a number such as `0x1F` or `1e5`). */
function continuesWord(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 0x24;
}

/** Every identifier `sql` names, lower-cased (as SQLite compares them), in order of appearance. */
export function identifiersIn(sql: string): string[] {
  const names: string[] = [];
  const end = sql.length;
  let i = 0;
  while (i < end) {
    const c = sql.charCodeAt(i);
    if (c === DASH && sql.charCodeAt(i + 1) === DASH) {
      i = lineEnd(sql, i + 2);
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      i = commentEnd(sql, i + 2);
    } else if (c === APOSTROPHE) {
      i = closingQuote(sql, i + 1, APOSTROPHE) + 1;
    } else if (c === DOUBLE_QUOTE || c === BACKTICK) {
      const close = closingQuote(sql, i + 1, c);
      const quote = String.fromCharCode(c);
      names.push(
        sql
          .slice(i + 1, close)
          .replaceAll(quote + quote, quote)
          .toLowerCase(),
      );
      i = close + 1;
    } else if (c === OPEN_BRACKET) {
      let close = i + 1;
      while (close < end && sql.charCodeAt(close) !== CLOSE_BRACKET) close++;
      names.push(sql.slice(i + 1, close).toLowerCase());
      i = close + 1;
    } else if (isLetter(c)) {
      let j = i + 1;
      while (j < end && continuesWord(sql.charCodeAt(j))) j++;
      if (j === i + 1 && (c === 0x78 || c === 0x58) && sql.charCodeAt(j) === APOSTROPHE) {
        i = closingQuote(sql, j + 1, APOSTROPHE) + 1; // a blob literal X'…'
      } else {
        names.push(sql.slice(i, j).toLowerCase());
        i = j;
      }
    } else if (isDigit(c)) {
      // A number: digits, then letters, digits and dots (1.5e3, 0x1F), none of which name anything.
      let j = i + 1;
      let next = sql.charCodeAt(j);
      while (j < end && (continuesWord(next) || next === DOT)) next = sql.charCodeAt(++j);
      i = j;
    } else {
      i++;
    }
  }
  return names;
}

/** Position after the end of a `--` comment: past its newline, or the end of the text. */
function lineEnd(sql: string, from: number): number {
  let i = from;
  while (i < sql.length && sql.charCodeAt(i) !== NEWLINE) i++;
  return i + 1;
}

/** Position after the `*\/` closing a block comment, or the end of the text (SQLite accepts an unclosed one). */
function commentEnd(sql: string, from: number): number {
  let i = from;
  while (i < sql.length) {
    if (sql.charCodeAt(i) === STAR && sql.charCodeAt(i + 1) === SLASH) return i + 2;
    i++;
  }
  return sql.length;
}

/**
 * Index of the quote closing a quoted run that starts at `from` (a doubled quote stands for
 * itself), or the length of the text when the run is not closed.
 */
function closingQuote(sql: string, from: number, quote: number): number {
  let i = from;
  while (i < sql.length) {
    if (sql.charCodeAt(i) !== quote) i++;
    else if (sql.charCodeAt(i + 1) === quote) i += 2;
    else return i;
  }
  return sql.length;
}
