/** SQL text the library writes: quoted identifiers and string literals. */

/** Quotes an SQL identifier with double quotes, doubling any inside. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** An SQL string literal, single quotes doubled. Only for text without NUL (SQLite stops there). */
export function quoteString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
