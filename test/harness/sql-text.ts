/** Quotes an SQL identifier with double quotes. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal with single quotes. */
export function quoteString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
