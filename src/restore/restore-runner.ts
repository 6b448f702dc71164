/**
 * The steps of a restore within one tick: `prepare` (is the target free?), `replace` (drop what
 * the restore replaces, one table or a batch of key-value entries per commit), `statements` (an
 * SQL dump, a batch per commit, see statements-phase.ts), `entries` (a key-value file, a batch
 * per commit, see entries-phase.ts) and `finish` (triggers set aside, FTS5 tables `.dump` wrote,
 * foreign-key check). Every commit applies its work and saves the checkpoint in one transaction
 * (`CommitSync`), so a tick cut off anywhere neither skips a statement nor applies one twice: the
 * next one starts from the last checkpoint.
 */
import { DumpError } from "../errors.js";
import type { CommitSync } from "../jobs/job-kind.js";
import type { JobState } from "../persisted/job-record.js";
import type { RestoreRecord } from "../persisted/restore-record.js";
import { quoteIdentifier } from "../util/sql-text.js";
import { EntriesPhase, type KvStorage, assertNoKvEntries, deleteKvBatch } from "./entries-phase.js";
import type { ForeignKeyGuard } from "./foreign-keys.js";
import { type RestoreWork, restoresSql, sourcePhase } from "./restore-work.js";
import type { StatementApplier } from "./statement-applier.js";
import { StatementsPhase } from "./statements-phase.js";
import { Scope, type TargetSchema } from "./target-schema.js";

/** What a runner needs from its engine. */
export interface RunnerDeps {
  sql: SqlStorage;
  kv: KvStorage;
  target: TargetSchema;
  applier: StatementApplier;
  foreignKeys: ForeignKeyGuard;
  now: () => number;
  commitSync: CommitSync<RestoreRecord>;
}

export class RestoreRunner {
  readonly #work: RestoreWork;
  readonly #deps: RunnerDeps;
  readonly #scope: Scope;
  readonly #statements: StatementsPhase;
  readonly #entries: EntriesPhase;

  constructor(work: RestoreWork, deps: RunnerDeps) {
    this.#work = work;
    this.#deps = deps;
    const { tables, exclude } = work.record.options;
    this.#scope = new Scope(tables, exclude);
    const commit = (apply: () => void, foreignKeysOff?: boolean) => this.#commit(apply, foreignKeysOff);
    this.#statements = new StatementsPhase(work, this.#scope, { ...deps, commit });
    this.#entries = new EntriesPhase(work, { ...deps, commit });
  }

  get #record(): RestoreRecord {
    return this.#work.record;
  }

  /** Works until the deadline (at least one step); returns the job's state after the tick. */
  async run(deadline: number): Promise<JobState> {
    for (;;) {
      if (!(await this.#step())) return "aborted";
      if (this.#record.state === "completed" || this.#deps.now() >= deadline) return this.#record.state;
    }
  }

  /** One step: one commit. False when the job was aborted meanwhile. */
  async #step(): Promise<boolean> {
    switch (this.#record.cursor.phase) {
      case "prepare":
        return this.#prepare();
      case "replace":
        return this.#replaceOne();
      case "statements":
        return this.#statements.step();
      case "entries":
        return this.#entries.step();
      case "finish":
        return this.#finishOne();
    }
  }

  /** Applies `apply` and saves the record in one transaction, foreign keys off when they could get in the way. */
  async #commit(apply: () => void, foreignKeysOff = false): Promise<boolean> {
    return this.#deps.foreignKeys.around(foreignKeysOff, () => this.#deps.commitSync(this.#record, apply));
  }

  /**
   * Refuses a target that holds what the restore would create (tables, key-value entries), unless
   * it replaces it. A data-only restore sets the triggers of the tables it fills aside (dropped,
   * and created again at the end), so that they do not fire for the rows it restores.
   */
  async #prepare(): Promise<boolean> {
    const record = this.#record;
    const { replace, schema, data, kv } = record.options;
    const sql = restoresSql(record);
    if (!replace && schema && sql) assertNoConflict(this.#deps.target, this.#scope);
    if (!replace && kv) assertNoKvEntries(this.#deps.kv);
    const triggers = sql && data && !schema ? this.#deps.target.triggers((table) => this.#scope.includes(table)) : [];
    return this.#commit(() => {
      for (const t of triggers) this.#deps.sql.exec(`DROP TRIGGER ${quoteIdentifier(t.name)}`);
      record.triggers = triggers;
      record.cursor.phase = replace ? "replace" : sourcePhase(record);
    });
  }

  /** Drops the first table or view the restore replaces, or deletes a batch of key-value entries; moves on when none is left. */
  async #replaceOne(): Promise<boolean> {
    const record = this.#record;
    const { schema, kv } = record.options;
    const next = schema && restoresSql(record) ? this.#deps.target.userObjects().find((o) => this.#scope.includes(o.name)) : undefined;
    if (!next) {
      return this.#commit(() => {
        if (!kv || !deleteKvBatch(this.#deps.kv)) record.cursor.phase = sourcePhase(record);
      });
    }
    const saved = await this.#commit(() => {
      this.#deps.sql.exec(`DROP ${next.type === "view" ? "VIEW" : "TABLE"} ${quoteIdentifier(next.name)}`);
    }, this.#deps.target.hasForeignKeys());
    this.#deps.target.changed();
    return saved;
  }

  /** One step of the finish: an FTS5 rebuild, the triggers set aside, one table's foreign-key check, or completion. */
  async #finishOne(): Promise<boolean> {
    const record = this.#record;
    const sql = this.#deps.sql;
    if (record.triggers.length > 0) {
      return this.#commit(() => {
        this.#deps.target.createTriggers(record.triggers);
        record.triggers = [];
      });
    }
    const rebuild = record.rebuild[0];
    if (rebuild !== undefined) {
      return this.#commit(() => {
        if (this.#deps.target.virtualTable(rebuild)) sql.exec(`INSERT INTO ${quoteIdentifier(rebuild)}(${quoteIdentifier(rebuild)}) VALUES('rebuild')`);
        record.rebuild.shift();
      });
    }
    // A restore of key-value entries alone does not check the tables it did not write.
    const table = restoresSql(record) ? this.#deps.target.nextTableWithForeignKeys(record.cursor.checked) : null;
    return this.#commit(() => {
      if (table === null) {
        record.state = "completed";
        return;
      }
      record.foreignKeyViolations = (record.foreignKeyViolations ?? 0) + this.#deps.target.foreignKeyViolations(table);
      record.cursor.checked = table;
    });
  }
}

/**
 * Throws `TARGET_NOT_EMPTY` when the database holds a table or view the restore would create.
 *
 * @throws {DumpError} `TARGET_NOT_EMPTY`.
 */
export function assertNoConflict(target: TargetSchema, scope: Scope): void {
  const conflicts = target.userObjects().filter((o) => scope.includes(o.name));
  if (conflicts.length === 0) return;
  const names = conflicts
    .slice(0, 10)
    .map((o) => JSON.stringify(o.name))
    .join(", ");
  throw new DumpError(
    "TARGET_NOT_EMPTY",
    `The database already holds ${conflicts.length} table(s) or view(s) the restore would create (${names}${conflicts.length > 10 ? ", …" : ""}). Pass replace: true to drop them first, or restore into another object.`,
  );
}
