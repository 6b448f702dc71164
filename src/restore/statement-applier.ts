/**
 * Applies a batch of statements to the database, inside the transaction that also saves the
 * checkpoint (see RestoreRunner). Each statement is planned just before it runs, so it sees what
 * the statements before it did. Statements that run as written are joined into queries of up to
 * 100,000 bytes (fewer calls into SQLite); translated ones, those with bound parameters and those
 * that change the schema run alone.
 */
import { DumpError } from "../errors.js";
import { MAX_QUERY_BYTES, toQuery } from "./literal-binder.js";
import { type PlanContext, planStatement } from "./statement-plan.js";
import { describeStatement } from "./statement-info.js";
import type { SplitStatement } from "./statement-splitter.js";
import type { TargetSchema } from "./target-schema.js";

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

export class StatementApplier {
  readonly #sql: SqlStorage;
  readonly #target: TargetSchema;

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
    const before = this.#totalChanges();
    let group = "";
    let groupBytes = 0;
    const flush = () => {
      if (group === "") return;
      const query = group;
      group = "";
      groupBytes = 0;
      try {
        this.#sql.exec(query);
      } catch (error) {
        const failure = statementError(error);
        throw new BatchFailed(failure.message, { cause: failure });
      }
    };
    for (const [index, statement] of statements.entries()) {
      try {
        const info = describeStatement(statement.bytes);
        const planned = planStatement(statement.bytes, info, ctx);
        if (planned.action === "skip") {
          outcome.skipped += info.kind === "empty" ? 0 : 1;
          if (planned.transaction) outcome.state.transaction = planned.transaction === "begin";
        } else {
          const query = toQuery(planned.bytes, planned.mayBind);
          const alone = single || query.params.length > 0 || planned.schemaChange || planned.bytes !== statement.bytes;
          if (alone || groupBytes + planned.bytes.length > MAX_QUERY_BYTES) flush();
          if (alone) {
            this.#sql.exec(query.sql, ...query.params);
            if (planned.schemaChange) {
              this.#target.changed();
              outcome.schemaChanged = true;
            }
          } else {
            group += query.sql;
            groupBytes += planned.bytes.length;
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
    flush();
    outcome.state.announced = announced.name;
    outcome.rows = this.#totalChanges() - before;
    return outcome;
  }

  #totalChanges(): number {
    return this.#sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n;
  }
}
