import { DumpError } from "./errors.js";
import type { DumpFormatter, FooterContext, FormatContext, TableInfo } from "./formatters/formatter.js";
import type { JobRecord } from "./job-store.js";
import { PartWriter, TAIL_CHUNK_BYTES } from "./part-writer.js";
import { SchemaReader } from "./schema-reader.js";
import { TableReader } from "./table-reader.js";
import { GzipStage } from "./gzip-stage.js";
import { JOB_METADATA_KEY } from "./output-keys.js";
import { openOutput } from "./output-upload.js";

/** A synchronous slice of work aims at this many milliseconds, so the host keeps serving requests. */
const SLICE_MS = 20;
/**
 * Characters (UTF-8 bytes for batches concatenated by SQLite) of rendered rows one synchronous
 * slice writes at most. 512 Ki keeps a slice short (bench, 1M rows: ping p99 28 ms vs 94 ms at
 * 1 Mi) at no cost in throughput; 256 Ki is slower.
 */
const MAX_SLICE_CHARS = 512 * 1024;
/**
 * UTF-8 bytes one query renders at most; a slice runs several. 256 Ki took 6% less CPU than 96 Ki
 * (bench, 1M rows, engine alone); a batch's bytes are freed as soon as they are written. Batches
 * read row by row, as text, are smaller (see TableReader).
 */
const MAX_BATCH_BYTES = 256 * 1024;
const MIN_BATCH_ROWS = 16;
const MAX_BATCH_ROWS = 20_000;

/** Lets queued requests and events in between two synchronous slices. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** What a runner needs from its engine. */
export interface RunnerDeps {
  sql: SqlStorage;
  bucket: R2Bucket;
  formatter: DumpFormatter;
  now: () => number;
}

/**
 * Advances one job through its steps (header, tables, footer, finish), writing the output through
 * a {@link PartWriter}. It changes the record in memory only; the engine persists it.
 */
export class JobRunner {
  readonly #record: JobRecord;
  readonly #deps: RunnerDeps;
  readonly #schema: SchemaReader;
  #writer: PartWriter | null;
  #tables: TableInfo[] | null = null;
  #reader: { name: string; reader: TableReader } | null = null;
  #batchRows = 256;

  constructor(record: JobRecord, writer: PartWriter | null, deps: RunnerDeps) {
    this.#record = record;
    this.#writer = writer;
    this.#deps = deps;
    this.#schema = new SchemaReader(deps.sql);
  }

  /** The writer of the open upload, if any. */
  get writer(): PartWriter | null {
    return this.#writer;
  }

  /**
   * Works until the deadline, until the job is done, or until an upload is ready to be completed.
   * Takes at least one step, so that every tick makes progress however slow the clock. Past the
   * deadline, amid a table's rows, it runs on until `graceUntil` at most, while the bytes not yet
   * uploaded would take more than one tail chunk: the checkpoint then saves at most 1 MiB instead
   * of up to a whole part (megabytes of storage writes per tick, which also grew workerd's memory).
   */
  async run(deadline: number, graceUntil = deadline): Promise<void> {
    const cursor = this.#record.cursor;
    const open = () => cursor.step !== "done" && cursor.step !== "finish";
    if (open()) await this.#step();
    while (open() && this.#deps.now() < deadline) await this.#step();
    while (cursor.step === "rows" && (this.#writer?.tailLength ?? 0) > TAIL_CHUNK_BYTES && this.#deps.now() < graceUntil) await this.#step();
    // A part upload may still be in flight: its part must be recorded before the checkpoint.
    await this.#writer?.settle();
  }

  /** Frees the table reader's buffers; call it once the tick is done with this runner. */
  release(): void {
    this.#reader?.reader.release();
    this.#reader = null;
  }

  /**
   * Uploads the bytes not uploaded yet as the object's last part, at the "finish" step. It comes
   * before the checkpoint that precedes {@link finish}, so that this checkpoint holds no tail (it
   * wrote up to a whole part into storage) and yet records every part.
   */
  async uploadLastPart(): Promise<void> {
    await this.#writer?.finish();
  }

  /**
   * Completes the open upload. The record must have been saved after {@link uploadLastPart}: an
   * attempt cut off after complete() then finds every part, and the completed object, next time.
   */
  async finish(): Promise<void> {
    const record = this.#record;
    const upload = record.upload;
    const writer = this.#writer;
    if (!upload || !writer) throw new Error("durable-dump: finish without an open upload");
    const parts = [...writer.parts];
    try {
      await this.#deps.bucket.resumeMultipartUpload(upload.key, upload.uploadId).complete(parts.map(({ partNumber, etag }) => ({ partNumber, etag })));
    } catch (error) {
      // An earlier attempt may have completed the upload and been cut off before saving that.
      const head = await this.#deps.bucket.head(upload.key);
      if (head?.customMetadata?.[JOB_METADATA_KEY] !== record.id || head.size !== writer.bytes) throw error;
    }
    record.outputs.push({ key: upload.key, table: upload.table, bytes: writer.bytes, parts });
    record.upload = null;
    writer.release();
    this.#writer = null;
    if (this.#formatter.objectPerTable) this.#nextTable();
    else record.cursor.step = "done";
  }

  get #formatter(): DumpFormatter {
    return this.#deps.formatter;
  }

  async #step(): Promise<void> {
    const record = this.#record;
    const cursor = record.cursor;
    switch (cursor.step) {
      case "header": {
        if (!this.#writer) await this.#openUpload();
        cursor.written = 0;
        await this.#write(this.#formatter.header?.(this.#context()) ?? "");
        cursor.step = record.tables.length === 0 ? "footer" : "tableHeader";
        return;
      }
      case "tableHeader": {
        const table = this.#currentTable();
        cursor.key = null;
        cursor.rowsInTable = 0;
        cursor.snapshot = table;
        if (table) {
          await this.#write(this.#formatter.tableHeader?.(table, this.#context()) ?? "");
          cursor.written = (cursor.written ?? 0) + 1;
        }
        cursor.step = table && this.#formatter.row(table, this.#context()) ? "rows" : "tableFooter";
        return;
      }
      case "rows":
        return this.#rows();
      case "tableFooter": {
        const table = cursor.snapshot ?? null;
        if (table) await this.#write(this.#formatter.tableFooter?.(table, this.#context()) ?? "");
        cursor.snapshot = null;
        record.stats.tablesDone++;
        (record.stats.tableRows ??= [])[cursor.table] = cursor.rowsInTable;
        if (this.#formatter.objectPerTable) cursor.step = "footer";
        else this.#nextTable();
        return;
      }
      case "footer": {
        await this.#write(this.#formatter.footer?.(this.#footerContext()) ?? "");
        await this.#writer?.endCompression();
        cursor.step = "finish";
        return;
      }
      case "finish":
      case "done":
        return;
    }
  }

  /** Writes one slice of rows (a few batches), then yields to the host's requests. */
  async #rows(): Promise<void> {
    const cursor = this.#record.cursor;
    const table = cursor.snapshot;
    if (!table) {
      cursor.step = "tableFooter";
      return;
    }
    const started = this.#deps.now();
    let rows = 0;
    let chars = 0;
    let batch;
    do {
      try {
        batch = this.#tableReader(table).read(cursor.key, this.#batchRows - rows, MAX_BATCH_BYTES, cursor.rowsInTable === 0);
      } catch (error) {
        // A table dropped while it was being exported ends where it was; anything else is an error.
        if (this.#schema.table(table.name) === null) {
          this.#tables = null;
          cursor.step = "tableFooter";
          return;
        }
        throw new DumpError("SQL_ERROR", `Reading table ${table.name} failed: ${String(error)}`, { cause: error, retryable: true });
      }
      await this.#write(batch.text);
      cursor.key = batch.last;
      cursor.rowsInTable += batch.rows;
      this.#record.stats.rowsWritten += batch.rows;
      rows += batch.rows;
      chars += batch.text.length;
    } while (!batch.done && batch.rows > 0 && rows < this.#batchRows && chars < MAX_SLICE_CHARS);
    if (batch.done) cursor.step = "tableFooter";
    // Date.now() does not advance during synchronous work in workerd, so the slice is timed across the yield.
    await yieldToEvents();
    this.#adaptBatch(this.#deps.now() - started);
  }

  /** Scales the batch so that one synchronous slice takes about {@link SLICE_MS}. */
  #adaptBatch(elapsedMs: number): void {
    const scaled = elapsedMs <= 0 ? this.#batchRows * 2 : Math.round((this.#batchRows * SLICE_MS) / elapsedMs);
    this.#batchRows = Math.max(MIN_BATCH_ROWS, Math.min(MAX_BATCH_ROWS, scaled, this.#batchRows * 2));
  }

  async #write(text: string | Uint8Array): Promise<void> {
    if (text.length === 0) return;
    if (!this.#writer) throw new Error("durable-dump: write without an open upload");
    await (typeof text === "string" ? this.#writer.writeText(text) : this.#writer.write(text));
  }

  async #openUpload(): Promise<void> {
    const record = this.#record;
    const table = this.#formatter.objectPerTable ? (record.tables[record.cursor.table] ?? null) : null;
    const opened = await openOutput(this.#deps.bucket, record, this.#formatter, table);
    record.upload = opened.record;
    const gzip = opened.record.gzip ? new GzipStage(opened.record.gzip, new Uint8Array(0)) : null;
    this.#writer = new PartWriter(opened.upload, record.partSize, [], new Uint8Array(0), gzip);
  }

  #nextTable(): void {
    const record = this.#record;
    const cursor = record.cursor;
    cursor.table++;
    cursor.key = null;
    cursor.rowsInTable = 0;
    const more = cursor.table < record.tables.length;
    if (this.#formatter.objectPerTable) cursor.step = more ? "header" : "done";
    else cursor.step = more ? "tableHeader" : "footer";
  }

  #currentTable(): TableInfo | null {
    const name = this.#record.tables[this.#record.cursor.table];
    if (name === undefined) return null;
    return this.#tables ? (this.#tables.find((t) => t.name === name) ?? null) : this.#schema.table(name);
  }

  #tableReader(table: TableInfo): TableReader {
    if (this.#reader?.name !== table.name) {
      this.#reader?.reader.release();
      const template = this.#formatter.row(table, this.#context()) ?? [];
      const reader = new TableReader(this.#deps.sql, table, this.#schema.keyColumns(table), template, this.#formatter.rowSeparator ?? "");
      this.#reader = { name: table.name, reader };
    }
    return this.#reader.reader;
  }

  /** The job's tables as they are now (dropped ones left out), read once per tick. */
  #allTables(): TableInfo[] {
    this.#tables ??= this.#record.tables.map((name) => this.#schema.table(name)).filter((t): t is TableInfo => t !== null);
    return this.#tables;
  }

  /**
   * The formatter's context. `tables` is read on first use only: reading every table's schema costs
   * a few queries per table, and most calls (row templates, headers) never look at it.
   */
  #context(): FormatContext {
    const { schema, data } = this.#record.options;
    const allTables = () => this.#allTables();
    return {
      schema,
      data,
      get tables() {
        return allTables();
      },
      tableIndex: this.#record.cursor.written ?? 0,
    };
  }

  #footerContext(): FooterContext {
    const names = new Set(this.#allTables().map((t) => t.name));
    return { ...this.#context(), schemaObjects: this.#schema.schemaObjects(names), sequences: this.#schema.sequences(names) };
  }
}
