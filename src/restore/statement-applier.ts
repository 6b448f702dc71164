/**
 * Applies a batch of statements to the database, inside the transaction that also saves the
 * checkpoint (see RestoreRunner). Each statement is planned just before it runs, so it sees what
 * the statements before it did. Statements that run as written are joined into queries of about
 * 16 KB (fewer calls into SQLite), consecutive rows of a table merged into multi-row INSERTs;
 * translated ones, those with bound parameters and those that change the schema run alone.
 */
import { DumpError } from "../errors.js";
import { concatBytes } from "../util/bytes.js";
import { MAX_QUERY_BYTES, toQuery, utf8OrNull } from "./literal-binder.js";
import { type Plan, type PlanContext, planStatement } from "./statement-plan.js";
import { type StatementInfo, describeStatement } from "./statement-info.js";
import type { SplitStatement } from "./statement-splitter.js";
import type { TargetSchema } from "./target-schema.js";
import { valuesList } from "./values-list.js";

/** What the restore tracks across statements, saved with each checkpoint. */
export interface ApplyState {
  /** The dump opened a transaction it has not committed. */
  transaction: boolean;
  /** The last virtual table a `.dump` schema row announced. */
  announced: string | null;
}

/** What applying (part of) a batch did. */
export interface BatchOutcome {
  /** Statements of the batch applied or skipped, from the first: all of them, or those before the failure. */
  done: number;
  run: number;
  skipped: number;
  /** Rows inserted, updated or deleted. */
  rows: number;
  tablesCreated: number;
  currentTable: string | null;
  state: ApplyState;
  /** External-content FTS5 tables to rebuild at the end. */
  rebuild: string[];
  /** Whether a statement changed the schema. */
  schemaChanged: boolean;
  /** The statement that failed (single mode only), and why. */
  failure: { index: number; error: DumpError } | null;
}

/**
 * Bytes of SQL text joined into one query at most. The runtime caches every query it runs (up to
 * 1 MiB of their text, compiled): smaller queries were faster and kept requests waiting less than
 * queries of 100 KB (bench/README.md, "Restores").
 */
const GROUP_BYTES = 16 * 1024;

/** A statement of a batch applied in groups failed (which one is not known): the caller rolls back and applies one by one. */
export class BatchFailed extends Error {
  override readonly name = "BatchFailed";
}

/** SQLite result codes that say nothing about the statement: the tick is retried. */
const TRANSIENT = /SQLITE_(BUSY|LOCKED|IOERR|NOMEM|INTERRUPT|PROTOCOL)\b/;

/** A statement's error as the job records it: `STATEMENT_FAILED` with SQLite's message, or a DumpError of planning as it is. */
function statementError(error: unknown): DumpError {
  if (error instanceof DumpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (TRANSIENT.test(message)) throw error;
  return new DumpError("STATEMENT_FAILED", message, { cause: error });
}

/**
 * Statements run as written, joined into one query of at most {@link GROUP_BYTES} (a statement
 * larger than that alone, up to {@link MAX_QUERY_BYTES}). Consecutive INSERTs into the same table
 * with the same column list (the same text up to `VALUES`, so the same description) are merged
 * into one multi-row INSERT: their tuples follow the first one's, separated by commas. A merged
 * INSERT inserts the same rows in the same order as the INSERTs it replaces, in the same
 * transaction; when any statement of the group fails the whole batch is rolled back and applied
 * again one statement at a time, with nothing merged.
 *
 * The last statement of a query always stays as the dump has it: the runtime runs every statement
 * of a query but the last at once, and keeps the last one compiled in its cache of queries
 * (workerd's `SqlStorage::exec`), where a multi-row INSERT would take much more memory than one
 * row's (bench/README.md, "Restores").
 */
class QueryGroup {
  readonly #sql: SqlStorage;
  /** The statements of the group, as the dump has them (run one by one if the text is not all valid UTF-8). */
  #statements: Uint8Array[] = [];
  /** The query's pieces: whole statements, an INSERT up to the end of its tuples, `,` and further tuples. */
  #pieces: Uint8Array[] = [];
  #bytes = 0;
  /** The description shared by the INSERT being merged (its text is open after its last tuple), or null. */
  #open: StatementInfo | null = null;
  /** Whether the last statement added had its tuples merged into the INSERT before it. */
  #merged = false;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  /** Whether a statement of `bytes` fits the group. */
  accepts(bytes: Uint8Array): boolean {
    return this.#bytes === 0 || this.#bytes + bytes.length <= GROUP_BYTES;
  }

  /** Adds a statement; `insert` describes it when it is an INSERT of rows whose tuples may be merged with the INSERT before it. */
  add(bytes: Uint8Array, insert: StatementInfo | null): void {
    this.#statements.push(bytes);
    this.#bytes += bytes.length;
    const tuples = insert?.body ? valuesList(bytes, insert.body) : null;
    this.#merged = tuples !== null && this.#open === insert;
    if (tuples && this.#merged) {
      this.#pieces.push(COMMA, bytes.subarray(tuples.start, tuples.end));
      return;
    }
    this.#close();
    if (tuples) {
      this.#pieces.push(bytes.subarray(0, tuples.end));
      this.#open = insert;
    } else this.#pieces.push(bytes);
  }

  #close(): void {
    if (this.#open) this.#pieces.push(SEMICOLON);
    this.#open = null;
  }

  /** Runs the group's statements (one query, or one per statement when the text is not all valid UTF-8) and empties it. */
  flush(): void {
    if (this.#merged) {
      // The last statement runs alone, as written (see above).
      this.#pieces.splice(-2, 2, SEMICOLON, this.#statements[this.#statements.length - 1]!);
      this.#open = null;
      this.#merged = false;
    }
    this.#close();
    const statements = this.#statements;
    const pieces = this.#pieces;
    if (statements.length === 0) return;
    this.#statements = [];
    this.#pieces = [];
    this.#bytes = 0;
    const text = utf8OrNull(pieces.length === 1 ? pieces[0]! : concatBytes(pieces));
    try {
      if (text !== null) run(this.#sql, text, []);
      else
        for (const bytes of statements) {
          const query = toQuery(bytes, true);
          run(this.#sql, query.sql, query.params);
        }
    } catch (error) {
      const failure = statementError(error);
      throw new BatchFailed(failure.message, { cause: failure });
    }
  }
}

const COMMA = new Uint8Array([0x2c]);
const SEMICOLON = new Uint8Array([0x3b]);

export class StatementApplier {
  readonly #sql: SqlStorage;
  readonly #target: TargetSchema;
  /** The head (up to its VALUES) of the last INSERT described, and what it said: the next ones mostly begin alike. */
  #head: { bytes: Uint8Array; info: StatementInfo } | null = null;
  /** The plan of the last statement of that head, when it depends on nothing else; dropped when the schema changes. */
  #reuse: { info: StatementInfo; plan: Extract<Plan, { action: "run" }> | null } | null = null;

  constructor(sql: SqlStorage, target: TargetSchema) {
    this.#sql = sql;
    this.#target = target;
  }

  /**
   * Applies `statements` in order. Grouped (`single` false): statements that run as written share
   * queries, and any failure throws {@link BatchFailed} (the caller rolls the transaction back).
   * Single: one query per statement, and a failure stops the batch there, reported in the outcome
   * with everything before it applied.
   */
  apply(statements: readonly SplitStatement[], plan: Omit<PlanContext, "announced">, start: ApplyState, single: boolean): BatchOutcome {
    const announced = { name: start.announced };
    const ctx: PlanContext = { ...plan, announced };
    const outcome: BatchOutcome = {
      done: 0,
      run: 0,
      skipped: 0,
      rows: 0,
      tablesCreated: 0,
      currentTable: null,
      state: { ...start },
      rebuild: [],
      schemaChanged: false,
      failure: null,
    };
    this.#reuse = null;
    const before = this.#totalChanges();
    const group = new QueryGroup(this.#sql);
    for (const [index, statement] of statements.entries()) {
      try {
        const info = this.#describe(statement.bytes);
        const planned = this.#plan(statement.bytes, info, ctx);
        if (planned.action === "skip") {
          outcome.skipped += info.kind === "empty" ? 0 : 1;
          if (planned.transaction) outcome.state.transaction = planned.transaction === "begin";
        } else {
          const asWritten = !single && !planned.schemaChange && planned.bytes === statement.bytes && planned.bytes.length <= MAX_QUERY_BYTES;
          if (!asWritten || !group.accepts(planned.bytes)) group.flush();
          // Rows of an ordinary table (a reusable plan) as the dump has them may be merged.
          if (asWritten) group.add(planned.bytes, info.kind === "insert" && planned.reusable ? info : null);
          else {
            const query = toQuery(planned.bytes, planned.mayBind);
            run(this.#sql, query.sql, query.params);
            if (planned.schemaChange) {
              this.#target.changed();
              this.#reuse = null;
              outcome.schemaChanged = true;
            }
          }
          outcome.run++;
          if (planned.createsTable) outcome.tablesCreated++;
          if (planned.table !== null) outcome.currentTable = planned.table;
          if (planned.rebuild !== null) outcome.rebuild.push(planned.rebuild);
        }
        outcome.done = index + 1;
        // A virtual table ends its batch: workerd cannot roll back a transaction that created an
        // FTS5 table and then wrote to it (the object is reset), so the two never share one.
        if (planned.action === "run" && planned.createsTable === "virtual") break;
      } catch (error) {
        if (error instanceof BatchFailed) throw error;
        const failure = statementError(error);
        if (!single) throw new BatchFailed(failure.message, { cause: failure });
        outcome.failure = { index, error: failure };
        break;
      }
    }
    group.flush();
    outcome.state.announced = announced.name;
    outcome.rows = this.#totalChanges() - before;
    return outcome;
  }

  /** What a statement does; an INSERT that begins like the last one described says the same. */
  #describe(bytes: Uint8Array): StatementInfo {
    const head = this.#head;
    if (head && bytes.length > head.bytes.length && startsWith(bytes, head.bytes)) return head.info;
    const info = describeStatement(bytes);
    if (info.kind === "insert" && info.body !== null && info.body > 0) this.#head = { bytes: bytes.slice(0, info.body), info };
    return info;
  }

  /** The statement's plan; the last one again for a statement that says the same (its plan depending on nothing else). */
  #plan(bytes: Uint8Array, info: StatementInfo, ctx: PlanContext): Plan {
    const reuse = this.#reuse;
    if (reuse?.info === info) return reuse.plan ? { ...reuse.plan, bytes } : SKIP_REUSED;
    const planned = planStatement(bytes, info, ctx);
    this.#reuse = planned.reusable ? { info, plan: planned.action === "run" ? planned : null } : null;
    return planned;
  }

  #totalChanges(): number {
    return this.#sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n;
  }
}

/**
 * Runs a query to its end. The cursor is drained, so that the runtime frees the statement now
 * rather than when the collector gets to the cursor (which it does not hurry to: the statement's
 * memory is not V8's).
 */
function run(sql: SqlStorage, query: string, params: SqlStorageValue[]): void {
  const cursor = sql.exec(query, ...params);
  while (!cursor.next().done);
}

const SKIP_REUSED: Plan = { action: "skip", transaction: null, reusable: true };

/** Whether `bytes` begins with `prefix`. */
function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
