/**
 * What the restore does with each statement of a dump: run it as written, run a translation of
 * it, or skip it, according to the options (tables, schema, data) and to what a Durable Object
 * accepts. Statements it can neither run nor translate fail the job with a typed error.
 *
 * - Transaction statements (`BEGIN`, `COMMIT`, `SAVEPOINT`, `RELEASE`, `END`) are skipped: the
 *   restore commits in batches of its own. `ROLLBACK` means the dump says it is incomplete.
 * - `PRAGMA foreign_keys`, `defer_foreign_keys` and `writable_schema` are skipped: the restore
 *   manages foreign keys itself, and translates what `writable_schema` is for (below).
 * - `sqlite3 .dump` writes FTS5 tables as rows of `sqlite_schema` plus the rows of their shadow
 *   tables, which a Durable Object refuses to write. The schema row runs as the `CREATE VIRTUAL
 *   TABLE` it holds; the rows of the `_content` shadow table are inserted through the FTS5 table,
 *   which rebuilds its index; the other shadow tables are skipped; an external-content table is
 *   rebuilt at the end. Contentless FTS5 tables and other virtual table modules written this way
 *   cannot be restored (`UNSUPPORTED_STATEMENT`).
 * - `ATTACH`, `DETACH` and `VACUUM` are refused (`UNSUPPORTED_STATEMENT`).
 */
import { DumpError } from "../errors.js";
import { quoteIdentifier } from "../util/sql-text.js";
import { SqlLexer, Tok } from "./sql-lexer.js";
import { type StatementInfo, firstTuple } from "./statement-info.js";
import { type Scope, type TargetSchema, foldName } from "./target-schema.js";

/** What to do with one statement. */
export type Plan =
  | {
      action: "run";
      /** The statement to run: the one of the dump, or its translation. */
      bytes: Uint8Array;
      /** Whether its literals are values that may be bound as parameters. */
      mayBind: boolean;
      /** Whether it changes the schema (cached facts about it are dropped after). */
      schemaChange: boolean;
      /** Whether it creates a table; `virtual`, a virtual table. */
      createsTable: boolean | "virtual";
      /** The table it writes, for the progress. */
      table: string | null;
      /** An external-content FTS5 table to rebuild at the end of the restore. */
      rebuild: string | null;
      /** Whether the next statement with the same description gets the same plan (until the schema changes). */
      reusable: boolean;
    }
  | { action: "skip"; transaction: "begin" | "commit" | null; reusable: boolean };

/** What planning depends on besides the statement. */
export interface PlanContext {
  scope: Scope;
  schema: boolean;
  data: boolean;
  target: TargetSchema;
  /**
   * The last virtual table a `sqlite3 .dump` schema row announced, restored or not: the CREATE
   * and rows of its shadow tables follow that row. Kept in the checkpoint.
   */
  announced: { name: string | null };
}

/** Suffixes of the shadow tables of FTS5 (`t_data`, …), FTS3/4 and R*Tree tables. */
const SHADOW_SUFFIXES = ["data", "idx", "content", "docsize", "config", "segments", "segdir", "stat", "node", "rowid", "parent"];

/** Whether `table` is a shadow table of the virtual table last announced by a schema row that is not restored. */
function shadowOfSkipped(table: string, ctx: PlanContext): boolean {
  const announced = ctx.announced.name;
  if (announced === null || (ctx.schema && ctx.scope.includes(announced))) return false;
  const folded = foldName(table);
  return SHADOW_SUFFIXES.some((suffix) => folded === foldName(`${announced}_${suffix}`));
}

const SKIP: Plan = { action: "skip", transaction: null, reusable: false };
const MANAGED_PRAGMAS = new Set(["foreign_keys", "defer_foreign_keys", "writable_schema"]);
const SCHEMA_TABLES = new Set(["sqlite_schema", "sqlite_master"]);
/**
 * The staging table of the D1 dialect: a row over D1's statement limit has its largest values
 * built there first, then the row is inserted from it and the table dropped. Its statements serve
 * rows only: they run whenever rows are restored, whatever `schema`, `tables` or `exclude` say.
 */
const STAGE_TABLE = "_durable_dump_stage";
const STAT_TABLES = new Set(["sqlite_stat1", "sqlite_stat4"]);
const ENCODER = new TextEncoder();

function run(bytes: Uint8Array, info: StatementInfo, extra: Partial<Extract<Plan, { action: "run" }>> = {}): Plan {
  const dml = info.kind === "insert" || info.kind === "update" || info.kind === "delete";
  return {
    action: "run",
    bytes,
    mayBind: dml,
    schemaChange: !dml && info.kind !== "pragma" && info.kind !== "other",
    createsTable: info.kind === "create" && info.object === "table" && (info.virtual ? "virtual" : true),
    table: info.table,
    rebuild: null,
    reusable: false,
    ...extra,
  };
}

function unsupported(message: string): DumpError {
  return new DumpError("UNSUPPORTED_STATEMENT", message);
}

/**
 * Plans one statement.
 *
 * @throws {DumpError} `UNSUPPORTED_STATEMENT` for what a Durable Object cannot run and the restore cannot translate, `TRUNCATED_DUMP` for `ROLLBACK`.
 */
export function planStatement(bytes: Uint8Array, info: StatementInfo, ctx: PlanContext): Plan {
  if (info.table !== null && foldName(info.table) === STAGE_TABLE) return ctx.data ? run(bytes, info, { createsTable: false }) : SKIP;
  switch (info.kind) {
    case "empty":
      return SKIP;
    case "begin":
      return { action: "skip", transaction: info.keyword === "begin" ? "begin" : null, reusable: false };
    case "commit":
      return { action: "skip", transaction: info.keyword === "release" ? null : "commit", reusable: false };
    case "rollback":
      throw new DumpError(
        "TRUNCATED_DUMP",
        "The dump rolls its transaction back: whatever wrote it met an error and says the dump is incomplete (sqlite3 .dump writes ROLLBACK then).",
      );
    case "unsupported":
      throw unsupported(`${info.keyword.toUpperCase()} cannot run in a Durable Object.`);
    case "pragma":
      return info.name !== null && MANAGED_PRAGMAS.has(info.name) ? SKIP : run(bytes, info);
    case "analyze":
      return ctx.schema ? run(bytes, info) : SKIP;
    case "create":
      return planCreate(bytes, info, ctx);
    case "drop":
    case "alter":
      return ctx.schema && (info.table === null || ctx.scope.includes(info.table)) ? run(bytes, info) : SKIP;
    case "insert":
    case "update":
    case "delete":
      return planWrite(bytes, info, ctx);
    case "other":
      return run(bytes, info);
  }
}

function planCreate(bytes: Uint8Array, info: StatementInfo, ctx: PlanContext): Plan {
  if (!ctx.schema || info.table === null || !ctx.scope.includes(info.table) || shadowOfSkipped(info.table, ctx)) return SKIP;
  // sqlite3 .dump re-creates shadow tables with CREATE TABLE IF NOT EXISTS; the virtual table made them.
  if (info.object === "table" && !info.virtual && ctx.target.shadowOf(info.table)) return SKIP;
  return run(bytes, info);
}

function planWrite(bytes: Uint8Array, info: StatementInfo, ctx: PlanContext): Plan {
  const table = info.table;
  if (table === null) return ctx.data ? run(bytes, info) : SKIP;
  const folded = foldName(table);
  if (folded === "sqlite_sequence") {
    if (!ctx.data) return SKIP;
    if (info.kind === "delete") return ctx.target.hasTable("sqlite_sequence") ? run(bytes, info) : SKIP;
    return tupleInScope(bytes, info, ctx, 0) ? run(bytes, info, { table: null }) : SKIP;
  }
  if (STAT_TABLES.has(folded)) return ctx.schema && tupleInScope(bytes, info, ctx, 0) ? run(bytes, info, { table: null, schemaChange: false }) : SKIP;
  if (SCHEMA_TABLES.has(folded)) return planSchemaRow(bytes, info, ctx);
  if (shadowOfSkipped(table, ctx)) return SKIP;
  const shadow = ctx.target.shadowOf(table);
  if (shadow) {
    if (!ctx.data || !ctx.scope.includes(shadow.table.name)) return SKIP;
    if (shadow.table.module !== "fts5") {
      throw unsupported(
        `Rows of ${JSON.stringify(table)}, a shadow table of the ${shadow.table.module} table ${JSON.stringify(shadow.table.name)}: a Durable Object refuses to write shadow tables.`,
      );
    }
    if (shadow.suffix !== "content") return SKIP;
    return run(contentInsert(bytes, info, shadow.table.name, ctx.target), info, { table: shadow.table.name });
  }
  // An ordinary table's rows: the plan depends on the table's name only.
  return ctx.data && ctx.scope.includes(table) ? run(bytes, info, { reusable: true }) : { ...SKIP, reusable: true };
}

/** Whether the table named by value `index` of the statement's first VALUES tuple is in scope (rows of sqlite_sequence, sqlite_stat1). */
function tupleInScope(bytes: Uint8Array, info: StatementInfo, ctx: PlanContext, index: number): boolean {
  if (info.kind !== "insert" || info.body === null) return true;
  const name = firstTuple(bytes, info.body)[index];
  return typeof name !== "string" || ctx.scope.includes(name);
}

/**
 * `INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) VALUES('table','t','t',0,'CREATE
 * VIRTUAL TABLE …')`, as `sqlite3 .dump` writes virtual tables: runs the CREATE it holds.
 */
function planSchemaRow(bytes: Uint8Array, info: StatementInfo, ctx: PlanContext): Plan {
  const [type, name, , , sql] = info.kind === "insert" && info.body !== null ? firstTuple(bytes, info.body) : [];
  if (type !== "table" || typeof name !== "string" || typeof sql !== "string" || !/^\s*CREATE\s+VIRTUAL\s+TABLE\b/i.test(sql)) {
    throw unsupported("A write to sqlite_schema other than the virtual table rows sqlite3 .dump writes: a Durable Object refuses PRAGMA writable_schema.");
  }
  ctx.announced.name = name;
  if (!ctx.schema || !ctx.scope.includes(name)) return SKIP;
  const create = ENCODER.encode(sql);
  const module = /\bUSING\s+("?)(\w+)\1/i.exec(sql)?.[2]?.toLowerCase() ?? "";
  if (module !== "fts5") {
    throw unsupported(
      `The ${module} table ${JSON.stringify(name)} comes as sqlite3 .dump writes virtual tables (its shadow tables' rows, under PRAGMA writable_schema), which a Durable Object refuses; only FTS5 tables are translated.`,
    );
  }
  const content = fts5Content(create);
  if (content === "") {
    throw unsupported(`The contentless FTS5 table ${JSON.stringify(name)} keeps its data in shadow tables only, which a Durable Object refuses to write.`);
  }
  return {
    action: "run",
    bytes: create,
    mayBind: false,
    schemaChange: true,
    createsTable: "virtual",
    table: name,
    rebuild: content === null || !ctx.data ? null : name,
    reusable: false,
  };
}

/** The `content` option of an FTS5 CREATE: null for none (the table keeps its own), "" for contentless, else the table named. */
function fts5Content(create: Uint8Array): string | null {
  const lex = new SqlLexer(create);
  for (let t = lex.next(); t; t = lex.next()) {
    if (!lex.is(t, "content")) continue;
    const eq = lex.next();
    if (eq?.type !== Tok.Punct || create[eq.start] !== 0x3d) continue;
    return lex.name(lex.next()) ?? "";
  }
  return null;
}

/** `INSERT INTO t_content VALUES(id, c0, c1, …)` as an insert into the FTS5 table `t` itself: `INSERT INTO "t"(rowid,"a","b") VALUES(…)`. */
function contentInsert(bytes: Uint8Array, info: StatementInfo, table: string, target: TargetSchema): Uint8Array {
  if (info.kind !== "insert" || info.body === null) {
    throw unsupported(`${info.keyword.toUpperCase()} of the FTS5 shadow table of ${JSON.stringify(table)}: a Durable Object refuses to write shadow tables.`);
  }
  const columns = ["rowid", ...target.columns(table).map(quoteIdentifier)].join(",");
  const head = ENCODER.encode(`INSERT INTO ${quoteIdentifier(table)}(${columns}) `);
  const out = new Uint8Array(head.length + bytes.length - info.body);
  out.set(head);
  out.set(bytes.subarray(info.body), head.length);
  return out;
}
