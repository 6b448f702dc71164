/**
 * The steps of an export (header, tables, footer, finish, then the key-value object with
 * `kv: true`), writing the output through the job's {@link DumpWork}. It changes the record in
 * memory only; the engine checkpoints it.
 */
import { DumpError } from "../errors.js";
import type { DumpFormatter, FooterContext, FormatContext } from "../formats/formatter.js";
import { TAIL_CHUNK_BYTES } from "../output/part-writer.js";
import type { KvLister } from "../kv/entry-reader.js";
import type { DumpStep } from "../persisted/dump-record.js";
import type { TableInfo } from "../sqlite/schema-types.js";
import { SchemaReader } from "../sqlite/schema-reader.js";
import type { TableReader } from "../sqlite/table-reader.js";
import { adaptBatch, yieldToEvents } from "../util/timing.js";
import type { DumpWork } from "./dump-work.js";
import { openOutput } from "./output-upload.js";
import { KvSteps } from "./kv-steps.js";
import { maxSliceChars } from "./slices.js";
import { openTableReader } from "./table-plan.js";

/**
 * UTF-8 bytes one query renders at most; a slice runs several. Batches read row by row, as text,
 * are smaller (see TableReader); bench/README.md, "What was optimised".
 */
const MAX_BATCH_BYTES = 256 * 1024;
const MIN_BATCH_ROWS = 16;
const MAX_BATCH_ROWS = 20_000;

/** What a runner needs from its engine. */
export interface RunnerDeps {
  sql: SqlStorage;
  bucket: R2Bucket;
  /** The object's key-value entries (jobs with `kv: true`); null when the engine's storage has no `kv`. */
  kv: KvLister | null;
  formatter: DumpFormatter;
  now: () => number;
}

/** Advances one export job through its steps within one tick. */
export class ExportRunner {
  readonly #work: DumpWork;
  readonly #deps: RunnerDeps;
  readonly #schema: SchemaReader;
  readonly #kv: KvSteps;
  #tables: TableInfo[] | null = null;
  #reader: { name: string; reader: TableReader } | null = null;
  #batchRows = 256;

  constructor(work: DumpWork, deps: RunnerDeps) {
    this.#work = work;
    this.#deps = deps;
    this.#schema = new SchemaReader(deps.sql);
    this.#kv = new KvSteps(work, deps, (text) => this.#write(text));
  }

  /**
   * Works until the deadline, until the job is done, or until an upload is ready to be completed.
   * Takes at least one step, so that every tick makes progress however slow the clock. Past the
   * deadline, amid a table's rows, it runs on until `graceUntil` at most, while the bytes not yet
   * uploaded would take more than one tail chunk: the checkpoint then saves at most 1 MiB instead
   * of up to a whole part.
   */
  async run(deadline: number, graceUntil = deadline): Promise<void> {
    const cursor = this.#work.record.cursor;
    const open = () => cursor.step !== "done" && cursor.step !== "finish";
    if (open()) await this.#step();
    while (open() && this.#deps.now() < deadline) await this.#step();
    const amid = () => cursor.step === "rows" || cursor.step === "kvEntries";
    while (amid() && (this.#work.writer?.tailLength ?? 0) > TAIL_CHUNK_BYTES && this.#deps.now() < graceUntil) await this.#step();
    // A part upload may still be in flight: its part must be recorded before the checkpoint.
    await this.#work.writer?.settle();
  }

  /** Frees the table reader's buffers; call it once the tick is done with this runner. */
  release(): void {
    this.#reader?.reader.release();
    this.#reader = null;
  }

  /**
   * Uploads the bytes not uploaded yet as the object's last part, at the "finish" step. It comes
   * before the checkpoint that precedes {@link finish}, so that this checkpoint holds no tail (it
   * would write up to a whole part into storage) and yet records every part.
   */
  async uploadLastPart(): Promise<void> {
    await this.#work.writer?.finish();
  }

  /** Completes the open upload (after the checkpoint that followed {@link uploadLastPart}) and moves on. */
  async finish(): Promise<void> {
    await this.#work.complete(this.#deps.bucket);
    const cursor = this.#work.record.cursor;
    if (cursor.kv === null && this.#formatter.objectPerTable) this.#nextTable();
    else cursor.step = this.#afterTables();
  }

  /** What follows the tables' objects: the key-value object if the job wants one and has not written it, else the end. */
  #afterTables(): DumpStep {
    const record = this.#work.record;
    return record.options.kv && record.cursor.kv === null ? "kvHeader" : "done";
  }

  get #formatter(): DumpFormatter {
    return this.#deps.formatter;
  }

  async #step(): Promise<void> {
    const record = this.#work.record;
    const cursor = record.cursor;
    switch (cursor.step) {
      case "header": {
        if (!this.#work.writer) await this.#openUpload();
        cursor.written = 0;
        await this.#write(this.#formatter.header?.(await this.#context()) ?? "");
        cursor.step = this.#work.plan.length === 0 ? "footer" : "tableHeader";
        return;
      }
      case "tableHeader": {
        const table = await this.#currentTable();
        cursor.key = null;
        cursor.skip = 0;
        cursor.rowsInTable = 0;
        cursor.snapshot = table;
        cursor.name = await this.#work.plan.at(cursor.table);
        if (table) {
          await this.#write(this.#formatter.tableHeader?.(table, await this.#context()) ?? "");
          cursor.written++;
        }
        cursor.step = table && this.#formatter.row(table, await this.#context()) ? "rows" : "tableFooter";
        return;
      }
      case "rows":
        return this.#rows();
      case "tableFooter": {
        const table = cursor.snapshot;
        if (table) await this.#write(this.#formatter.tableFooter?.(table, await this.#context()) ?? "");
        cursor.snapshot = null;
        cursor.name = null;
        record.stats.tablesDone++;
        await this.#work.rows.push(cursor.rowsInTable);
        if (this.#formatter.objectPerTable) cursor.step = "footer";
        else this.#nextTable();
        return;
      }
      case "footer": {
        await this.#write(this.#formatter.footer?.(await this.#footerContext()) ?? "");
        await this.#work.writer?.endCompression();
        cursor.step = "finish";
        return;
      }
      case "kvHeader":
        return this.#kv.header();
      case "kvEntries":
        return this.#kv.entries();
      case "kvFooter":
        return this.#kv.footer();
      case "finish":
      case "done":
        return;
    }
  }

  /** Writes one slice of rows (a few batches), then yields to the host's requests. */
  async #rows(): Promise<void> {
    const record = this.#work.record;
    const cursor = record.cursor;
    const table = cursor.snapshot;
    if (!table) {
      cursor.step = "tableFooter";
      return;
    }
    const started = this.#deps.now();
    const sliceChars = maxSliceChars(record.options.gzip);
    let rows = 0;
    let chars = 0;
    let batch: ReturnType<TableReader["read"]>;
    do {
      try {
        batch = (await this.#tableReader(table)).read(cursor.key, cursor.skip, this.#batchRows - rows, MAX_BATCH_BYTES, cursor.rowsInTable === 0);
      } catch (error) {
        // A table dropped while it was being exported ends where it was; anything else is an error.
        if (this.#schema.table(table.name) === null) {
          this.#tables = null;
          cursor.step = "tableFooter";
          return;
        }
        throw new DumpError("SQL_ERROR", `Reading table ${table.name} failed: ${String(error)}`, { cause: error });
      }
      await this.#write(batch.text);
      cursor.key = batch.last;
      cursor.skip = batch.skip;
      cursor.rowsInTable += batch.rows;
      record.stats.rowsWritten += batch.rows;
      rows += batch.rows;
      chars += batch.text.length;
    } while (!batch.done && batch.rows > 0 && rows < this.#batchRows && chars < sliceChars);
    if (batch.done) cursor.step = "tableFooter";
    // Date.now() does not advance during synchronous work in workerd, so the slice is timed across the yield.
    await yieldToEvents();
    this.#batchRows = adaptBatch(this.#batchRows, this.#deps.now() - started, MIN_BATCH_ROWS, MAX_BATCH_ROWS);
  }

  async #write(text: string | Uint8Array): Promise<void> {
    if (text.length === 0) return;
    const writer = this.#work.writer;
    if (!writer) throw new DumpError("INTERNAL", "durable-dump: write without an open upload (a bug; please report it)");
    await (typeof text === "string" ? writer.writeText(text) : writer.write(text));
  }

  async #openUpload(): Promise<void> {
    const work = this.#work;
    const table = this.#formatter.objectPerTable ? await work.plan.at(work.record.cursor.table) : null;
    const opened = await openOutput(this.#deps.bucket, work.record, this.#formatter, table, work.objects.length);
    work.begin(opened.upload, opened.state);
  }

  #nextTable(): void {
    const cursor = this.#work.record.cursor;
    cursor.table++;
    cursor.key = null;
    cursor.skip = 0;
    cursor.rowsInTable = 0;
    const more = cursor.table < this.#work.plan.length;
    if (this.#formatter.objectPerTable) cursor.step = more ? "header" : this.#afterTables();
    else cursor.step = more ? "tableHeader" : "footer";
  }

  async #currentTable(): Promise<TableInfo | null> {
    const name = await this.#work.plan.at(this.#work.record.cursor.table);
    return this.#tables ? (this.#tables.find((t) => t.name === name) ?? null) : this.#schema.table(name);
  }

  async #tableReader(table: TableInfo): Promise<TableReader> {
    if (this.#reader?.name !== table.name) {
      this.#reader?.reader.release();
      const reader = openTableReader(this.#deps.sql, this.#schema, table, this.#formatter, await this.#context());
      this.#reader = { name: table.name, reader };
    }
    return this.#reader.reader;
  }

  /** The job's tables as they are now (dropped ones left out), read once per tick. */
  async #allTables(): Promise<TableInfo[]> {
    this.#tables ??= (await this.#work.plan.all()).map((name) => this.#schema.table(name)).filter((t): t is TableInfo => t !== null);
    return this.#tables;
  }

  /**
   * The formatter's context. `tables` is read on first use only: reading every table's schema costs
   * a few queries per table, and most calls (row templates, headers) never look at it. The plan is
   * read ahead, as the getter cannot wait for storage.
   */
  async #context(): Promise<FormatContext> {
    const { schema, data, dialect } = this.#work.record.options;
    const names = this.#tables ? null : await this.#work.plan.all();
    let tables = this.#tables;
    const read = () => (tables ??= this.#tables ?? names!.map((name) => this.#schema.table(name)).filter((t): t is TableInfo => t !== null));
    return {
      dialect,
      schema,
      data,
      get tables() {
        return read();
      },
      tableIndex: this.#work.record.cursor.written,
    };
  }

  async #footerContext(): Promise<FooterContext> {
    const tables = await this.#allTables();
    const names = new Set(tables.map((t) => t.name));
    const context = await this.#context();
    const sequences = this.#schema.sequences(names, context.dialect === "d1" ? "d1" : "sql");
    return { ...context, schemaObjects: this.#schema.schemaObjects(names), sequences };
  }
}
