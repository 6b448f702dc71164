/** What one statement of a dump does, read from its leading keywords: the restore plans it from this. */
import { SqlLexer, type SqlToken, Tok } from "./sql-lexer.js";

/** Kinds of statement the restore tells apart. */
export type StatementKind =
  | "empty"
  | "create"
  | "insert"
  | "update"
  | "delete"
  | "drop"
  | "alter"
  | "pragma"
  | "begin"
  | "commit"
  | "rollback"
  | "analyze"
  | "unsupported"
  | "other";

/** Schema objects a CREATE or DROP names. */
export type ObjectType = "table" | "index" | "view" | "trigger";

/** A statement, as far as the restore needs to know it. */
export interface StatementInfo {
  kind: StatementKind;
  /** The keyword that starts it (lower case), for messages. */
  keyword: string;
  /** What a CREATE or DROP makes or removes. */
  object: ObjectType | null;
  /** `CREATE VIRTUAL TABLE`. */
  virtual: boolean;
  /** The object a CREATE or DROP names; a PRAGMA's name. */
  name: string | null;
  /**
   * The table the statement belongs to: the one an INSERT, UPDATE or DELETE writes, the table of
   * an index or trigger, the table or view a CREATE makes.
   */
  table: string | null;
  /** INSERT: where what follows the target (and its column list) starts: `VALUES`, `SELECT`, `DEFAULT`. */
  body: number | null;
  /** PRAGMA: its value as written (a word in lower case), or null. */
  value: string | null;
}

const TRANSACTION_START = new Set(["begin", "savepoint"]);
const TRANSACTION_END = new Set(["commit", "end", "release"]);
const UNSUPPORTED = new Set(["attach", "detach", "vacuum"]);

/** Reads what `bytes` (one statement) does. */
export function describeStatement(bytes: Uint8Array): StatementInfo {
  const lex = new SqlLexer(bytes);
  const first = lex.next();
  const info: StatementInfo = { kind: "other", keyword: lex.word(first) ?? "", object: null, virtual: false, name: null, table: null, body: null, value: null };
  if (!first || (first.type === Tok.Punct && bytes[first.start] === 0x3b)) {
    info.kind = "empty";
    return info;
  }
  const keyword = info.keyword;
  if (TRANSACTION_START.has(keyword)) info.kind = "begin";
  else if (TRANSACTION_END.has(keyword)) info.kind = "commit";
  else if (keyword === "rollback") info.kind = "rollback";
  else if (keyword === "analyze") info.kind = "analyze";
  else if (UNSUPPORTED.has(keyword)) info.kind = "unsupported";
  else if (keyword === "pragma") readPragma(lex, info);
  else if (keyword === "create") readCreate(lex, info);
  else if (keyword === "drop") readDrop(lex, info);
  else if (keyword === "alter") {
    info.kind = "alter";
    if (lex.is(lex.next(), "table")) info.table = qualifiedName(lex, lex.next());
  } else if (keyword === "insert" || keyword === "replace") readInsert(lex, info, keyword === "insert");
  else if (keyword === "update") {
    info.kind = "update";
    let token = lex.next();
    if (lex.is(token, "or")) {
      lex.next();
      token = lex.next();
    }
    info.table = qualifiedName(lex, token);
  } else if (keyword === "delete") {
    info.kind = "delete";
    if (lex.is(lex.next(), "from")) info.table = qualifiedName(lex, lex.next());
  }
  return info;
}

/**
 * A name that may be qualified by a schema (`main.t`): the name itself. Consumes the tokens of
 * the name; returns null when `token` is not a name.
 */
function qualifiedName(lex: SqlLexer, token: SqlToken | null): string | null {
  const first = lex.name(token);
  if (first === null) return null;
  const dot = lex.peek();
  if (dot?.type !== Tok.Punct || lex.bytes[dot.start] !== 0x2e) return first;
  lex.next();
  return lex.name(lex.next());
}

function readPragma(lex: SqlLexer, info: StatementInfo): void {
  info.kind = "pragma";
  info.name = qualifiedName(lex, lex.next())?.toLowerCase() ?? null;
  let token = lex.next();
  if (token?.type === Tok.Punct && (lex.bytes[token.start] === 0x3d || lex.bytes[token.start] === 0x28)) token = lex.next();
  if (token && token.type !== Tok.Punct) info.value = lex.word(token) ?? lex.name(token);
}

function readCreate(lex: SqlLexer, info: StatementInfo): void {
  info.kind = "create";
  let token = lex.next();
  while (lex.is(token, "temp") || lex.is(token, "temporary") || lex.is(token, "unique") || lex.is(token, "virtual")) {
    if (lex.is(token, "virtual")) info.virtual = true;
    token = lex.next();
  }
  const object = lex.word(token);
  if (object !== "table" && object !== "index" && object !== "view" && object !== "trigger") {
    info.kind = "other";
    return;
  }
  info.object = object;
  token = lex.next();
  if (lex.is(token, "if")) {
    lex.next(); // not
    lex.next(); // exists
    token = lex.next();
  }
  info.name = qualifiedName(lex, token);
  if (object === "table" || object === "view") {
    info.table = info.name;
    return;
  }
  // An index or trigger belongs to the table after the first ON (a bare "on" cannot be a column name).
  for (let t = lex.next(); t; t = lex.next()) {
    if (lex.is(t, "on")) {
      info.table = qualifiedName(lex, lex.next());
      return;
    }
  }
}

function readDrop(lex: SqlLexer, info: StatementInfo): void {
  info.kind = "drop";
  const object = lex.word(lex.next());
  if (object !== "table" && object !== "index" && object !== "view" && object !== "trigger") return;
  info.object = object;
  let token = lex.next();
  if (lex.is(token, "if")) {
    lex.next(); // exists
    token = lex.next();
  }
  info.name = qualifiedName(lex, token);
  if (object === "table" || object === "view") info.table = info.name;
}

function readInsert(lex: SqlLexer, info: StatementInfo, insert: boolean): void {
  info.kind = "insert";
  let token = lex.next();
  if (insert && lex.is(token, "or")) {
    lex.next();
    token = lex.next();
  }
  if (!lex.is(token, "into")) return;
  info.table = qualifiedName(lex, lex.next());
  let next = lex.next();
  if (lex.is(next, "as")) {
    lex.next();
    next = lex.next();
  }
  if (next?.type === Tok.Punct && lex.bytes[next.start] === 0x28) {
    let depth = 1;
    for (let t = lex.next(); t && depth > 0; t = depth > 0 ? lex.next() : null) {
      if (t.type !== Tok.Punct) continue;
      if (lex.bytes[t.start] === 0x28) depth++;
      else if (lex.bytes[t.start] === 0x29) depth--;
    }
    next = lex.next();
  }
  info.body = next?.start ?? null;
}

/** A literal of a VALUES tuple: a string's text, a number's digits, null; `undefined` for anything else (an expression). */
export type TupleValue = string | null | undefined;

/**
 * The values of the first tuple after `VALUES` at `body`, as far as they are plain literals
 * (strings, numbers, NULL); what is not comes back `undefined`.
 */
export function firstTuple(bytes: Uint8Array, body: number): TupleValue[] {
  const lex = new SqlLexer(bytes.subarray(body));
  if (!lex.is(lex.next(), "values")) return [];
  const open = lex.next();
  if (open?.type !== Tok.Punct || lex.bytes[open.start] !== 0x28) return [];
  const values: TupleValue[] = [];
  let current: TupleValue;
  let tokens = 0;
  for (let t = lex.next(); t; t = lex.next()) {
    const punct = t.type === Tok.Punct ? lex.bytes[t.start] : -1;
    if (punct === 0x2c || punct === 0x29) {
      values.push(tokens === 1 ? current : undefined);
      if (punct === 0x29) break;
      current = undefined;
      tokens = 0;
      continue;
    }
    tokens++;
    if (t.type === Tok.String) current = lex.stringValue(t);
    else if (lex.is(t, "null")) current = null;
    else if (t.type === Tok.Word && /^[0-9]/.test(lex.word(t) ?? "")) current = lex.word(t);
    else current = undefined;
  }
  return values;
}
