import { DumpError } from "../errors.js";
import type { RowByValues } from "./row-by-values.js";
import { type Batch, type KeyPart, type KeyPlan, KeyRun, type RowSelector } from "./row-key.js";

/**
 * Reads batches of a table too wide for one query that renders its rows (100 columns with long
 * names: the query would pass 100 KB): each group of values is selected by a query of its own
 * over the same rows, and JavaScript puts each row together ({@link RowByValues}). The queries run
 * one after the other without yielding, so they see the same rows.
 */
export class WideBatchReader {
  readonly #sql: SqlStorage;
  readonly #table: string;
  readonly #key: KeyPlan;
  readonly #values: RowByValues;
  readonly #separator: string;

  constructor(sql: SqlStorage, table: string, key: KeyPlan, values: RowByValues, separator: string) {
    this.#sql = sql;
    this.#table = table;
    this.#key = key;
    this.#values = values;
    this.#separator = separator;
  }

  /** Reads up to `limit` rows after (`after`, `skip`), stopping once the text reaches `maxChars`; `first` as in TableReader.read. */
  read(after: KeyPart[] | null, skip: number, limit: number, maxChars: number, first: boolean): Batch {
    const { where, bindings, offset } = this.#key.after(after, skip);
    const tail = `${where} ORDER BY ${this.#key.order} LIMIT ?${offset > 0 ? " OFFSET ?" : ""}`;
    const params = [...bindings, limit, ...(offset > 0 ? [offset] : [])];
    const rows: { key: SqlStorageValue[]; values: SqlStorageValue[] }[] = [];
    for (const [g, list] of this.#values.lists.entries()) {
      let i = 0;
      for (const row of this.#sql.exec(`SELECT ${this.#key.select}, ${list} FROM ${this.#table}${tail}`, ...params).raw()) {
        if (g === 0) rows.push({ key: row.slice(0, this.#key.width), values: [] });
        else if (i >= rows.length || rows[i]!.key.some((k, c) => k !== row[c]))
          throw new DumpError("INTERNAL", "durable-dump: the value groups of a wide table read different rows (a bug; please report it)");
        this.#values.collect(rows[i]!.values, g, row, this.#key.width);
        i++;
      }
    }
    const run = new KeyRun(this.#key, after, skip);
    let text = "";
    let count = 0;
    for (const row of rows) {
      run.next(row.key);
      const selector: RowSelector = run.selector();
      text += (first && count === 0 ? "" : this.#separator) + this.#values.assemble(row.values, selector);
      count++;
      if (text.length >= maxChars) break;
    }
    return { text, rows: count, last: run.key, skip: run.skip, done: count === rows.length && rows.length < limit };
  }
}
