/**
 * A small tokenizer for one SQL statement, on its UTF-8 bytes: enough to tell what a statement
 * of a dump does (its leading keywords and the names it touches) and where its literals are, so
 * that large ones can be bound as parameters. It follows SQLite's rules for quotes and comments;
 * numbers and operators come out as words and punctuation, which is all the restore needs.
 */

import { isIdChar, isSpace } from "./sql-bytes.js";

/** Kinds of token. */
export enum Tok {
  /** A keyword, a bare identifier or a number (SQLite's IdChar run). */
  Word = 0,
  /** `'…'`, quotes doubled inside. */
  String = 1,
  /** `X'…'`. */
  Blob = 2,
  /** `"…"`, `[…]` or `` `…` ``: an identifier. */
  Quoted = 3,
  /** Any other single byte: `(`, `,`, `.`, `;`, operators. */
  Punct = 4,
}

/** A token: its kind and its bytes `[start, end)` in the statement. */
export interface SqlToken {
  type: Tok;
  start: number;
  end: number;
}

const UTF8 = new TextDecoder();

/** Reads the tokens of one statement, one at a time. */
export class SqlLexer {
  readonly bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The next token, or null at the end (unterminated quotes run to the end). */
  next(): SqlToken | null {
    const b = this.bytes;
    let i = this.#at;
    for (;;) {
      while (i < b.length && isSpace(b[i]!)) i++;
      if (b[i] === 0x2d && b[i + 1] === 0x2d) {
        while (i < b.length && b[i] !== 0x0a) i++;
        continue;
      }
      if (b[i] === 0x2f && b[i + 1] === 0x2a) {
        i += 2;
        while (i < b.length && !(b[i] === 0x2a && b[i + 1] === 0x2f)) i++;
        i += 2;
        continue;
      }
      break;
    }
    if (i >= b.length) {
      this.#at = b.length;
      return null;
    }
    const start = i;
    const c = b[i]!;
    let type: Tok;
    if ((c === 0x78 || c === 0x58) && b[i + 1] === 0x27) {
      i = this.#closeQuote(i + 2, 0x27);
      type = Tok.Blob;
    } else if (c === 0x27) {
      i = this.#closeQuote(i + 1, 0x27);
      type = Tok.String;
    } else if (c === 0x22 || c === 0x60) {
      i = this.#closeQuote(i + 1, c);
      type = Tok.Quoted;
    } else if (c === 0x5b) {
      const close = b.indexOf(0x5d, i + 1);
      i = close < 0 ? b.length : close + 1;
      type = Tok.Quoted;
    } else if (isIdChar(c)) {
      while (i < b.length && isIdChar(b[i]!)) i++;
      type = Tok.Word;
    } else {
      i++;
      type = Tok.Punct;
    }
    this.#at = i;
    return { type, start, end: i };
  }

  /** The next token, without consuming it. */
  peek(): SqlToken | null {
    const at = this.#at;
    const token = this.next();
    this.#at = at;
    return token;
  }

  /** Position just past the closing `quote` (a doubled quote is part of the text). */
  #closeQuote(from: number, quote: number): number {
    const b = this.bytes;
    let i = from;
    for (;;) {
      const close = b.indexOf(quote, i);
      if (close < 0) return b.length;
      if (b[close + 1] !== quote) return close + 1;
      i = close + 2;
    }
  }

  /** A word in lower case (ASCII letters only, as SQLite folds keywords), or null for other tokens. */
  word(token: SqlToken | null): string | null {
    if (!token || token.type !== Tok.Word || token.end - token.start > 32) return null;
    let out = "";
    for (let i = token.start; i < token.end; i++) {
      const c = this.bytes[i]!;
      out += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
    }
    return out;
  }

  /** Whether `token` is the keyword `word` (lower case). */
  is(token: SqlToken | null, word: string): boolean {
    return token !== null && token.type === Tok.Word && token.end - token.start === word.length && this.word(token) === word;
  }

  /** The name a token stands for: a bare word, a quoted identifier or a string (SQLite accepts 'name' there too), unquoted. */
  name(token: SqlToken | null): string | null {
    if (!token) return null;
    const text = UTF8.decode(this.bytes.subarray(token.start, token.end));
    switch (token.type) {
      case Tok.Word:
        return text;
      case Tok.String:
        return unquote(text, "'");
      case Tok.Quoted:
        return text.startsWith("[") ? text.slice(1, -1) : unquote(text, text[0]!);
      default:
        return null;
    }
  }

  /** The text of a string literal, quotes removed and doubled quotes undone; null for other tokens. */
  stringValue(token: SqlToken | null): string | null {
    return token?.type === Tok.String ? unquote(UTF8.decode(this.bytes.subarray(token.start, token.end)), "'") : null;
  }
}

function unquote(text: string, quote: string): string {
  return text.slice(1, text.endsWith(quote) && text.length > 1 ? -1 : undefined).replaceAll(quote + quote, quote);
}
