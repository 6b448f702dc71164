/**
 * Splits a stream of SQL text into statements, incrementally, exactly where SQLite's own
 * `sqlite3_complete()` (and so the `sqlite3` CLI) ends them: semicolons inside strings, quoted
 * identifiers (`""`, `[]`, backticks) and comments do not count, and `CREATE TRIGGER … BEGIN …
 * END;` is one statement. It works on UTF-8 bytes (every byte SQL syntax depends on is ASCII), so
 * text that is not valid UTF-8 splits like any other.
 *
 * Between two statements the splitter holds no state at all, so a checkpoint is just the offset
 * of the next statement. Within a statement it keeps the statement's bytes and where its scan
 * stands, so a statement larger than one read (a 2 MB blob is 4 MB of hex) costs one pass.
 */
import { isIdChar, isSpace } from "./sql-bytes.js";

/** Token classes of `sqlite3_complete()`. */
enum Token {
  Semi = 0,
  Ws = 1,
  Other = 2,
  Explain = 3,
  Create = 4,
  Temp = 5,
  Trigger = 6,
  End = 7,
}

/** States of `sqlite3_complete()`: 0 invalid, 1 start, 2 normal, 3 explain, 4 create, 5 trigger, 6 semi, 7 end. */
const START = 1;
/** In this state every token but a semicolon leaves the state as it is: words need no reading. */
const NORMAL = 2;

/** Bytes that may start a token other than a word or whitespace: `;`, quotes, `[`, and `-`/`/` (comments). */
const SPECIAL = (() => {
  const table = new Uint8Array(256);
  for (const c of ";'\"`[-/") table[c.charCodeAt(0)] = 1;
  return table;
})();

/** `sqlite3_complete()`'s transition table, `TRANSITIONS[state][token]` (SQLite's complete.c). */
const TRANSITIONS: readonly (readonly number[])[] = [
  /* 0 INVALID */ [1, 0, 2, 3, 4, 2, 2, 2],
  /* 1 START   */ [1, 1, 2, 3, 4, 2, 2, 2],
  /* 2 NORMAL  */ [1, 2, 2, 2, 2, 2, 2, 2],
  /* 3 EXPLAIN */ [1, 3, 3, 2, 4, 2, 2, 2],
  /* 4 CREATE  */ [1, 4, 2, 2, 2, 4, 5, 2],
  /* 5 TRIGGER */ [6, 5, 5, 5, 5, 5, 5, 5],
  /* 6 SEMI    */ [6, 6, 5, 5, 5, 5, 5, 7],
  /* 7 END     */ [1, 7, 5, 5, 5, 5, 5, 5],
];

/** Where the scan stands inside a token that the bytes so far did not close. */
enum Inside {
  Nothing = 0,
  /** A quoted string or identifier; `#quote` is its closing byte. */
  Quote = 1,
  LineComment = 2,
  BlockComment = 3,
  /** A keyword or identifier; `#wordStart` is where it began. */
  Word = 4,
}

/** The `sqlite3_complete()` token of the identifier or keyword `bytes[start, end)`. */
function wordToken(bytes: Uint8Array, start: number, end: number): Token {
  const n = end - start;
  if (n !== 3 && n !== 4 && n !== 6 && n !== 7 && n !== 9) return Token.Other;
  let word = "";
  for (let i = start; i < end; i++) word += String.fromCharCode(bytes[i]! | 0x20);
  switch (word) {
    case "create":
      return Token.Create;
    case "trigger":
      return Token.Trigger;
    case "temp":
    case "temporary":
      return Token.Temp;
    case "end":
      return Token.End;
    case "explain":
      return Token.Explain;
    default:
      return Token.Other;
  }
}

/** A complete statement: its bytes (a view, valid until the splitter is fed again) and where it starts. */
export interface SplitStatement {
  /** Offset of its first byte in the whole stream (leading whitespace and comments included). */
  offset: number;
  /** Its bytes up to and including the semicolon that ends it. */
  bytes: Uint8Array;
}

/**
 * Incremental statement splitter. Feed it bytes with {@link push}, take statements with
 * {@link next}; at the end of the stream, {@link finish} says whether what is left is a
 * statement cut short.
 */
export class StatementSplitter {
  #buffer: Uint8Array;
  /** Bytes held: `#buffer[0, #length)`; `#buffer[0]` is at stream offset `#base`. */
  #length = 0;
  #base: number;
  /** Start of the statement being scanned, in the buffer. */
  #start = 0;
  /** Where the scan goes on, in the buffer. */
  #scan = 0;
  #state = START;
  #inside = Inside.Nothing;
  #quote = 0;
  #wordStart = 0;
  /** Whether the statement being scanned has anything but whitespace and comments. */
  #tokens = false;

  /** A splitter whose first byte is at `offset` of the stream (a statement boundary). */
  constructor(offset = 0, capacity = 64 * 1024) {
    this.#base = offset;
    this.#buffer = new Uint8Array(capacity);
  }

  /** Stream offset of the next statement: where a checkpoint resumes. */
  get offset(): number {
    return this.#base + this.#start;
  }

  /** Bytes held that belong to no complete statement yet. */
  get pending(): number {
    return this.#length - this.#start;
  }

  /**
   * Goes back to the statement boundary at stream offset `offset`, one of the statements handed
   * out since the last {@link push} (their bytes are still held): they will be handed out again.
   */
  rewind(offset: number): void {
    const start = offset - this.#base;
    if (start < 0 || start > this.#start) throw new RangeError(`cannot rewind to ${offset}: the splitter holds bytes from ${this.#base} on`);
    this.#start = start;
    this.#scan = start;
    this.#state = START;
    this.#inside = Inside.Nothing;
    this.#tokens = false;
  }

  /** Appends bytes of the stream. */
  push(bytes: Uint8Array): void {
    if (this.#length + bytes.length > this.#buffer.length) this.#makeRoom(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** The next complete statement, or null when the bytes pushed so far end inside one. */
  next(): SplitStatement | null {
    const b = this.#buffer;
    const length = this.#length;
    const held = b.subarray(0, length);
    let i = this.#scan;
    while (i < length) {
      let token: Token;
      if (this.#state === NORMAL && this.#inside === Inside.Nothing) {
        // Most of a dump: the values of an INSERT. Only a semicolon, a quote or a comment matters here.
        while (i < length && SPECIAL[b[i]!] === 0) i++;
        if (i === length) break;
      }
      switch (this.#inside) {
        case Inside.Quote: {
          const close = held.indexOf(this.#quote, i);
          if (close < 0) {
            this.#scan = length;
            return null;
          }
          i = close + 1;
          this.#inside = Inside.Nothing;
          this.#advance(Token.Other);
          continue;
        }
        case Inside.LineComment: {
          const newline = held.indexOf(0x0a, i);
          if (newline < 0) {
            this.#scan = length;
            return null;
          }
          i = newline + 1;
          this.#inside = Inside.Nothing;
          this.#advance(Token.Ws);
          continue;
        }
        case Inside.BlockComment: {
          let j = i;
          while (j + 1 < length && !(b[j] === 0x2a && b[j + 1] === 0x2f)) j++;
          if (j + 1 >= length) {
            // Not closed yet; a final "*" may be the start of "*/".
            this.#scan = Math.max(i, length - 1);
            return null;
          }
          i = j + 2;
          this.#inside = Inside.Nothing;
          this.#advance(Token.Ws);
          continue;
        }
        case Inside.Word: {
          let j = i;
          while (j < length && isIdChar(b[j]!)) j++;
          if (j === length) {
            this.#scan = length;
            return null;
          }
          i = j;
          this.#inside = Inside.Nothing;
          this.#advance(wordToken(b, this.#wordStart, j));
          continue;
        }
        case Inside.Nothing:
          break;
      }
      const c = b[i]!;
      if (c === 0x3b) {
        token = Token.Semi;
        i++;
      } else if (isSpace(c)) {
        token = Token.Ws;
        i++;
      } else if (c === 0x2f || c === 0x2d) {
        // "/*" or "--" open a comment; a lone "/" or "-" is an operator. Wait for the next byte.
        if (i + 1 >= length) break;
        if (b[i + 1] === (c === 0x2f ? 0x2a : 0x2d)) {
          this.#inside = c === 0x2f ? Inside.BlockComment : Inside.LineComment;
          i += 2;
          continue;
        }
        token = Token.Other;
        i++;
      } else if (c === 0x5b || c === 0x60 || c === 0x22 || c === 0x27) {
        this.#inside = Inside.Quote;
        this.#quote = c === 0x5b ? 0x5d : c;
        i++;
        continue;
      } else if (isIdChar(c)) {
        this.#inside = Inside.Word;
        this.#wordStart = i;
        i++;
        continue;
      } else {
        token = Token.Other;
        i++;
      }
      this.#advance(token);
      if (token === Token.Semi && this.#state === START) {
        const statement = { offset: this.#base + this.#start, bytes: b.subarray(this.#start, i) };
        this.#start = i;
        this.#scan = i;
        this.#tokens = false;
        return statement;
      }
    }
    this.#scan = i;
    return null;
  }

  /**
   * At the end of the stream: null when what is left is only whitespace and comments (or
   * nothing), else the offset where the unfinished statement starts.
   */
  finish(): number | null {
    const open = this.#inside === Inside.Quote || this.#inside === Inside.BlockComment || this.#inside === Inside.Word;
    // A "/" or "-" waiting for the byte after it is an operator: a token like any other.
    return open || this.#scan < this.#length || this.#tokens ? this.offset : null;
  }

  #advance(token: Token): void {
    if (token !== Token.Ws) this.#tokens = true;
    this.#state = TRANSITIONS[this.#state]![token]!;
  }

  /** Drops the bytes of statements already taken and grows the buffer if that is not enough. */
  #makeRoom(more: number): void {
    const keep = this.#length - this.#start;
    let target = this.#buffer;
    if (keep + more > this.#buffer.length) {
      let size = this.#buffer.length;
      while (size < keep + more) size *= 2;
      target = new Uint8Array(size);
    }
    target.set(this.#buffer.subarray(this.#start, this.#length));
    this.#buffer = target;
    this.#base += this.#start;
    this.#length = keep;
    this.#scan -= this.#start;
    this.#wordStart -= this.#start;
    this.#start = 0;
  }
}
