/** SQLite's character classes on the UTF-8 bytes of SQL text, shared by the restore's scanners. */

/** SQLite's `IdChar`: letters, digits, `_`, `$` and every byte of a multi-byte UTF-8 character. */
export function isIdChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x24 || c >= 0x80;
}

/** The whitespace SQLite skips between tokens (false past the end of the text). */
export function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c;
}
