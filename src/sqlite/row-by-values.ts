import type { Piece, ValueEncoding } from "./row-template.js";
import { VALUE_SLICE_BYTES, blobFraming, encodeValueOrDefer, realText, sqlNeedsHexText, textSlicing } from "./value-encoders.js";

/**
 * Renders one row (the one `key` selects) value by value, slicing large values so that no SQLite
 * string exceeds its limit: the path of rows too large to render in one SQLite string, and of
 * blobs that need base64.
 */
export function renderRowByValues(sql: SqlStorage, table: string, pieces: readonly Piece[], key: { where: string; bindings: unknown[] }): string {
  const { where, bindings } = key;
  const exprs = pieces.map((p) => (p.kind === "text" ? "NULL" : p.kind === "expr" ? p.sql : encodeValueOrDefer(p.ref, p.encoding)));
  const row = sql
    .exec(`SELECT ${exprs.join(", ")} FROM ${table}${where}`, ...bindings)
    .raw()
    .next().value;
  if (!row) return "";
  let text = "";
  pieces.forEach((p, i) => {
    const value = row[i] ?? null;
    if (p.kind === "text") text += p.text;
    else if (typeof value === "string") text += value;
    else if (typeof value === "number" && p.kind === "column") text += realText(value, p.encoding);
    else if (value instanceof ArrayBuffer && p.kind === "column") {
      const framing = blobFraming(p.encoding);
      text += framing.open + framing.body(new Uint8Array(value)) + framing.close;
    } else if (p.kind === "column") text += renderLarge(sql, table, p.ref, p.encoding, where, bindings);
  });
  return text;
}

/** Renders one large text or blob value of the row selected by `where`, slice by slice. */
function renderLarge(sql: SqlStorage, table: string, ref: string, encoding: ValueEncoding, where: string, bindings: unknown[]): string {
  const hexCheck = encoding === "sql" ? sqlNeedsHexText(ref) : `instr(${ref}, char(0)) > 0`;
  const info = sql
    .exec(`SELECT typeof(${ref}), octet_length(${ref}), length(${ref}), ${hexCheck} FROM ${table}${where}`, ...bindings)
    .raw()
    .next().value;
  if (!info) return "";
  const [type, bytes, length, hasNul] = info as [string, number, number, number];
  let text = "";
  if (type === "blob") {
    const framing = blobFraming(encoding);
    text += framing.open;
    for (let offset = 1; offset <= bytes; offset += VALUE_SLICE_BYTES) {
      const slice = sql
        .exec(`SELECT substr(${ref}, ?, ?) FROM ${table}${where}`, offset, VALUE_SLICE_BYTES, ...bindings)
        .raw()
        .next().value?.[0];
      text += framing.body(new Uint8Array(slice as ArrayBuffer));
    }
    return text + framing.close;
  }
  const slicing = textSlicing(encoding, hasNul === 1);
  const source = slicing.byBytes ? `CAST(${ref} AS BLOB)` : ref;
  const total = slicing.byBytes ? bytes : length;
  const decoder = slicing.escape ? new TextDecoder() : null;
  text += slicing.open;
  for (let offset = 1; offset <= total; offset += VALUE_SLICE_BYTES) {
    const expr = slicing.slice(`substr(${source}, ?1, ?2)`);
    const slice = sql
      .exec(`SELECT ${expr} FROM ${table}${where}`, offset, VALUE_SLICE_BYTES, ...bindings)
      .raw()
      .next().value?.[0];
    if (decoder && slicing.escape)
      text += slicing.escape(decoder.decode(new Uint8Array(slice as ArrayBuffer), { stream: offset + VALUE_SLICE_BYTES <= total }));
    else text += slice as string;
  }
  return text + slicing.close;
}
