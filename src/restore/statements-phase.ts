/**
 * The statements phase of a restore: one batch of the current source per step, applied and
 * checkpointed in one transaction, the batch sized so that a step takes about {@link STATEMENTS_SLICE_MS}.
 */
import { DumpError } from "../errors.js";
import type { RestoreRecord } from "../persisted/restore-record.js";
import { adaptBatch, yieldToEvents } from "../util/timing.js";
import { type Pipeline, type RestoreWork, moveToNextSource } from "./restore-work.js";
import { type BatchOutcome, BatchFailed, type StatementApplier } from "./statement-applier.js";
import { describeStatement } from "./statement-info.js";
import type { SplitStatement } from "./statement-splitter.js";
import type { Scope, TargetSchema } from "./target-schema.js";

/**
 * A slice of statements aims at this many milliseconds, half the other slices' (`SLICE_MS`): a
 * request waits about one slice and a half for its turn, and with 20 ms the p99 of requests during
 * a restore stayed over 50 ms (bench/README.md, "Restores").
 */
const STATEMENTS_SLICE_MS = 10;
/** Bounds of a batch, in bytes of SQL text: it adapts so that a slice takes about {@link STATEMENTS_SLICE_MS}. */
const BATCH_BYTES = { initial: 128 * 1024, min: 8 * 1024, max: 4 * 1024 * 1024 };
/** Statements in one batch at most. */
const MAX_BATCH_STATEMENTS = 20_000;
/** The largest statement the restore holds in memory: a 2 MB row is at most about 4 MB of SQL. */
const MAX_STATEMENT_BYTES = 16 * 1024 * 1024;
/** Characters of a failed statement kept for the status. */
const EXCERPT_CHARS = 200;
/** Keywords a dump's first statement may start with; anything else is not a dump. */
const SQL_KEYWORDS = new Set([
  "pragma",
  "begin",
  "create",
  "insert",
  "replace",
  "update",
  "delete",
  "drop",
  "alter",
  "analyze",
  "commit",
  "end",
  "savepoint",
  "release",
  "rollback",
  "select",
  "with",
  "values",
  "explain",
  "reindex",
  "attach",
  "detach",
  "vacuum",
]);

/** Applies `apply` and saves the record in one transaction (foreign keys off when asked); false when the job was aborted. */
export type PhaseCommit = (apply: () => void, foreignKeysOff?: boolean) => Promise<boolean>;

/** What the statements phase needs. */
export interface StatementsDeps {
  target: TargetSchema;
  applier: StatementApplier;
  now: () => number;
  commit: PhaseCommit;
}

export class StatementsPhase {
  readonly #work: RestoreWork;
  readonly #deps: StatementsDeps;
  readonly #scope: Scope;
  #batchBytes = BATCH_BYTES.initial;

  constructor(work: RestoreWork, scope: Scope, deps: StatementsDeps) {
    this.#work = work;
    this.#scope = scope;
    this.#deps = deps;
  }

  get #record(): RestoreRecord {
    return this.#work.record;
  }

  /** Applies one batch of statements of the current source, or ends the source. */
  async step(): Promise<boolean> {
    const pipeline = await this.#work.pipeline();
    // Decoding and splitting the batch is part of the slice: it runs synchronously between reads.
    const started = this.#deps.now();
    const batch = await this.#batch(pipeline);
    if (batch.length === 0) return this.#endSource(pipeline);
    const saved = await this.#applyBatch(pipeline, batch);
    // Date.now() does not advance during synchronous work in workerd: the slice is timed across the yield.
    await yieldToEvents();
    this.#batchBytes = adaptBatch(this.#batchBytes, this.#deps.now() - started, BATCH_BYTES.min, BATCH_BYTES.max, STATEMENTS_SLICE_MS);
    return saved;
  }

  /**
   * The next statements, about `#batchBytes` of them (at least one unless the text ended). Reads
   * and splits more text only while no statement is taken: a taken statement is a view of the
   * splitter's buffer, which feeding it may move.
   */
  async #batch(pipeline: Pipeline): Promise<SplitStatement[]> {
    const splitter = pipeline.splitter;
    const statements: SplitStatement[] = [];
    let bytes = 0;
    for (;;) {
      while (!pipeline.ended && splitter.pending < this.#batchBytes) {
        const piece = await pipeline.stream.next();
        if (!piece) {
          pipeline.ended = true;
          break;
        }
        const nul = piece.bytes.indexOf(0);
        if (nul >= 0) throw this.#notADump(piece.offset + nul, "it holds a NUL byte, which SQL text never does");
        splitter.push(piece.bytes);
      }
      for (let s = splitter.next(); s; s = statements.length < MAX_BATCH_STATEMENTS && bytes < this.#batchBytes ? splitter.next() : null) {
        if (s.offset === 0 && !looksLikeSql(s.bytes)) throw this.#notADump(0, "it does not begin with an SQL statement");
        statements.push(s);
        bytes += s.bytes.length;
      }
      if (statements.length > 0 || pipeline.ended) return statements;
      if (splitter.pending > MAX_STATEMENT_BYTES) {
        if (splitter.offset === 0) throw this.#notADump(0, "no statement ends in its first 16 MiB");
        throw new DumpError(
          "STATEMENT_TOO_LARGE",
          `The statement at byte ${splitter.offset} of ${this.#sourceKey()} is over ${MAX_STATEMENT_BYTES} bytes long (a row holds at most 2 MB). Nothing from there on was applied.`,
        );
      }
      // One statement larger than the batch: read on.
      this.#batchBytes = Math.min(this.#batchBytes * 2, MAX_STATEMENT_BYTES + 1);
    }
  }

  /**
   * Applies a batch and saves the checkpoint after it, in one transaction. A failure rolls the
   * transaction back; the batch is then applied statement by statement up to the one that
   * fails, which is saved, and the job fails with that statement's offset.
   */
  async #applyBatch(pipeline: Pipeline, batch: SplitStatement[]): Promise<boolean> {
    // Foreign keys are turned off when the schema declares some; a batch that fails with them on
    // may have created the first ones (its rows then fail on them, or on a parent table still
    // missing): it is applied again with them off.
    for (const foreignKeysOff of this.#deps.target.hasForeignKeys() ? [true] : [false, true]) {
      try {
        return await this.#commitBatch(pipeline, batch, false, foreignKeysOff);
      } catch (error) {
        if (!(error instanceof BatchFailed)) throw error;
      }
    }
    // Applied one by one, up to the statement that fails.
    let failure: BatchOutcome["failure"] = null;
    const saved = await this.#commitBatch(pipeline, batch, true, true, (f) => {
      failure = f;
    });
    if (!saved) return false;
    if (failure) throw this.#statementFailed(batch, failure);
    return true;
  }

  async #commitBatch(
    pipeline: Pipeline,
    batch: SplitStatement[],
    single: boolean,
    foreignKeysOff: boolean,
    onFailure?: (failure: NonNullable<BatchOutcome["failure"]>) => void,
  ): Promise<boolean> {
    const record = this.#record;
    const { schema, data } = record.options;
    const saved = await this.#deps.commit(() => {
      const outcome = this.#deps.applier.apply(
        batch,
        { scope: this.#scope, schema, data, target: this.#deps.target },
        { transaction: record.cursor.transaction, announced: record.cursor.announced },
        single,
      );
      const last = batch[outcome.done - 1];
      const cursor = record.cursor;
      cursor.offset = outcome.done === 0 ? batch[0]!.offset : last!.offset + last!.bytes.length;
      cursor.consumed = Math.max(cursor.consumed, pipeline.stream.consumed);
      cursor.transaction = outcome.state.transaction;
      cursor.announced = outcome.state.announced;
      const stats = record.stats;
      stats.statements += outcome.run;
      stats.skipped += outcome.skipped;
      stats.rows += outcome.rows;
      stats.tablesCreated += outcome.tablesCreated;
      stats.currentTable = outcome.currentTable ?? stats.currentTable;
      for (const name of outcome.rebuild) if (!record.rebuild.includes(name)) record.rebuild.push(name);
      if (outcome.failure) {
        const statement = batch[outcome.failure.index]!;
        record.failure = { offset: statement.offset, statement: excerpt(statement.bytes) };
        onFailure?.(outcome.failure);
      }
    }, foreignKeysOff);
    // A batch applied in part: its other statements are handed out again.
    if (saved && record.cursor.offset !== pipeline.splitter.offset) pipeline.splitter.rewind(record.cursor.offset);
    return saved;
  }

  /** The end of the current source: checks it ended cleanly, then moves to the next source or the finish. */
  async #endSource(pipeline: Pipeline): Promise<boolean> {
    const record = this.#record;
    const rest = pipeline.splitter.finish();
    if (rest !== null) {
      if (rest === 0) throw this.#notADump(0, "it holds no complete SQL statement");
      throw new DumpError(
        "TRUNCATED_DUMP",
        `${this.#sourceKey()} ends inside the statement that starts at byte ${rest}: the dump is cut short. Everything before that statement is committed.`,
      );
    }
    if (record.cursor.offset === 0) throw this.#notADump(0, "it holds no SQL statement");
    if (record.cursor.transaction) {
      throw new DumpError(
        "TRUNCATED_DUMP",
        `${this.#sourceKey()} began a transaction (BEGIN) that it never commits: the dump is cut short. Everything it holds is committed.`,
      );
    }
    this.#work.dropPipeline();
    return this.#deps.commit(() => moveToNextSource(record));
  }

  #sourceKey(): string {
    return this.#record.sources[this.#record.cursor.source]!.key;
  }

  #notADump(offset: number, why: string): DumpError {
    return new DumpError("NOT_A_DUMP", `${this.#sourceKey()} is not an SQL dump: ${why} (byte ${offset}). Nothing was applied from it.`);
  }

  #statementFailed(batch: SplitStatement[], failure: NonNullable<BatchOutcome["failure"]>): DumpError {
    const statement = batch[failure.index]!;
    const record = this.#record;
    const encoded = record.sources[record.cursor.source]!.encoding !== "plain" ? " of the decompressed text" : "";
    return new DumpError(
      failure.error.code,
      `The statement at byte ${statement.offset}${encoded} of ${this.#sourceKey()} failed: ${failure.error.message}. It begins: ${excerpt(statement.bytes)} ` +
        `Every statement before it is committed (${record.stats.statements} applied, ${record.stats.skipped} skipped); nothing from it on was applied.`,
      { cause: failure.error },
    );
  }
}

/** Whether a dump's first statement starts like SQL. */
function looksLikeSql(bytes: Uint8Array): boolean {
  const info = describeStatement(bytes);
  return info.kind === "empty" || SQL_KEYWORDS.has(info.keyword);
}

const LENIENT = new TextDecoder();

/** The first characters of a statement, whitespace folded. */
function excerpt(bytes: Uint8Array): string {
  const text = LENIENT.decode(bytes.subarray(0, EXCERPT_CHARS * 4))
    .trim()
    .replace(/\s+/g, " ");
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
}
