/**
 * The `VALUES` tuples of a plain INSERT, so that consecutive INSERTs into the same table with the
 * same column list can run as one multi-row INSERT (see StatementApplier): SQLite parses and
 * compiles one statement per query instead of one per row (bench/README.md, "Restores").
 *
 * Only tuples of literals are read: numbers, strings, blobs, NULL, and the functions `sqlite3
 * .dump` writes text with (`replace(…)`, `char(…)`, `unistr(…)`). A tuple holding anything else
 * (a subquery, which in a multi-row INSERT would not see the rows before it; `last_insert_rowid()`;
 * a column name) keeps its INSERT as it is.
 */

import { isSpace } from "./sql-bytes.js";

const QUOTE = 0x27;
const OPEN = 0x28;
const CLOSE = 0x29;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
/** `values`; `| 0x20` folds an ASCII letter to lower case. */
const VALUES = "values";
/** Words a tuple of literals may hold (lower case): NULL, and the functions `sqlite3 .dump` writes text with. */
const WORDS = new Set(["null", "replace", "char", "unistr"]);

function isLetter(c: number | undefined): boolean {
  return c !== undefined && (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/**
 * Where the tuples after `VALUES` (at `body`) begin and end: from the first tuple's `(` to just
 * after the last tuple's `)`, when they hold literals only and nothing but whitespace and the
 * closing semicolon follows them. Null for anything else (no VALUES, `ON CONFLICT`, `RETURNING`,
 * a comment, an expression that is not a literal).
 */
export function valuesList(bytes: Uint8Array, body: number): { start: number; end: number } | null {
  for (let k = 0; k < VALUES.length; k++) if ((bytes[body + k]! | 0x20) !== VALUES.charCodeAt(k)) return null;
  let i = body + VALUES.length;
  while (isSpace(bytes[i])) i++;
  const start = i;
  let end = -1;
  for (;;) {
    if (bytes[i] !== OPEN) return null;
    const close = tupleEnd(bytes, i);
    if (close < 0) return null;
    end = close;
    i = close;
    while (isSpace(bytes[i])) i++;
    if (bytes[i] !== COMMA) break;
    i++;
    while (isSpace(bytes[i])) i++;
  }
  if (bytes[i] === SEMICOLON) i++;
  while (isSpace(bytes[i])) i++;
  return i === bytes.length ? { start, end } : null;
}

/** Just after the `)` that closes the tuple opened at `open`, or -1 when the tuple holds more than literals. */
function tupleEnd(bytes: Uint8Array, open: number): number {
  let depth = 0;
  for (let i = open; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === QUOTE) {
      i = stringEnd(bytes, i);
      if (i < 0) return -1;
    } else if (c === OPEN) depth++;
    else if (c === CLOSE) {
      if (--depth === 0) return i + 1;
    } else if (isDigit(c) || (c === 0x2e && isDigit(bytes[i + 1]))) i = numberEnd(bytes, i) - 1;
    else if (isLetter(c) || c === 0x5f) {
      // A blob literal (X'…'), or one of the words a tuple of literals holds.
      if ((c | 0x20) === 0x78 && bytes[i + 1] === QUOTE) continue;
      let j = i;
      let word = "";
      while (isLetter(bytes[j]) || isDigit(bytes[j]) || bytes[j] === 0x5f) word += String.fromCharCode(bytes[j++]! | 0x20);
      if (!WORDS.has(word)) return -1;
      i = j - 1;
    } else if (c === 0x2d && bytes[i + 1] === 0x2d) return -1;
    else if (!(isSpace(c) || c === COMMA || c === 0x2d || c === 0x2b)) return -1;
  }
  return -1;
}

/** The index of the quote that closes the string opened at `open` (`''` inside it is a quote), or -1. */
function stringEnd(bytes: Uint8Array, open: number): number {
  for (let i = open + 1; i < bytes.length; i++) {
    if (bytes[i] !== QUOTE) continue;
    if (bytes[i + 1] !== QUOTE) return i;
    i++;
  }
  return -1;
}

/** Just after the number that starts at `start`: digits, a point, an exponent with its sign. */
function numberEnd(bytes: Uint8Array, start: number): number {
  let i = start;
  while (isDigit(bytes[i]) || bytes[i] === 0x2e) i++;
  if ((bytes[i]! | 0x20) === 0x65) {
    i++;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
    while (isDigit(bytes[i])) i++;
  }
  return i;
}
