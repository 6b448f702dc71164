import { createHash } from "node:crypto";
import { doubleBits } from "../harness/values.js";

/** Values up to this many bytes are compared by hex, longer ones by length and SHA-256 (as in harness/snapshot.ts). */
const INLINE_BYTES = 16 * 1024;

/**
 * A value parsed from an export: JSON gives numbers, strings and null; CSV gives bare (unquoted)
 * and quoted fields.
 */
export type Parsed =
  | { kind: "number"; text: string }
  | { kind: "string"; text: string }
  | { kind: "null" }
  | { kind: "bare"; text: string }
  | { kind: "quoted"; text: string };

/** Canonical text of bytes of a type, as harness/snapshot.ts writes it. */
export function bytesCanonical(type: "text" | "blob", bytes: Buffer): string {
  if (bytes.length > INLINE_BYTES) return `${type}:#${bytes.length}:${createHash("sha256").update(bytes).digest("hex")}`;
  return `${type}:${bytes.toString("hex").toUpperCase()}`;
}

/**
 * Canonical text of a parsed value, interpreted as the type the source says it has (`expected`
 * is the source's canonical text). A value of the wrong shape (quoted integer, unquoted text, ...)
 * gives a text that cannot match, so the comparison reports it.
 */
export function canonicalOf(expected: string, value: Parsed): string {
  const type = expected.slice(0, expected.indexOf(":"));
  const wrong = `wrong-shape(${type}):${JSON.stringify(value).slice(0, 200)}`;
  const numeric = value.kind === "number" || value.kind === "bare" ? value.text : null;
  const text = value.kind === "string" || value.kind === "quoted" ? value.text : null;
  const base64 = value.kind === "string" || value.kind === "bare" ? value.text : null;
  switch (type) {
    case "integer":
      return numeric !== null && /^-?\d+$/.test(numeric) ? `integer:${numeric}` : wrong;
    case "real":
      return numeric !== null && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(numeric) ? `real:${doubleBits(Number(numeric))}` : wrong;
    case "text":
      return text !== null ? bytesCanonical("text", Buffer.from(text, "utf8")) : wrong;
    case "blob":
      return base64 !== null && /^[A-Za-z0-9+/]*={0,2}$/.test(base64) ? bytesCanonical("blob", Buffer.from(base64, "base64")) : wrong;
    case "null":
      return value.kind === "null" || (value.kind === "bare" && value.text === "") ? "null:" : wrong;
    default:
      return wrong;
  }
}

/** Source rows of a snapshot without the leading `rowid:` field (the formats do not export hidden rowids). */
export function withoutRowid(rows: string[], hasRowid: boolean): string[][] {
  return rows.map((r) => (hasRowid ? r.split("|").slice(1) : r.split("|")));
}
