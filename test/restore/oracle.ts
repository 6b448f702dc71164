import { spawnSync } from "node:child_process";
import { expect } from "vitest";
import { StatementSplitter } from "../../src/restore/statement-splitter.js";

/** Python's `sqlite3.complete_statement`, i.e. SQLite's own `sqlite3_complete()`, over many texts in one process. */
const ORACLE = `
import sys, json, base64, sqlite3
out = []
for item in json.load(sys.stdin):
    text = base64.b64decode(item).decode("latin-1")
    # The first prefix ending in ";" that SQLite calls complete, or -1.
    first = -1
    for i, ch in enumerate(text):
        if ch == ";" and sqlite3.complete_statement(text[: i + 1]):
            first = i + 1
            break
    out.append(first)
json.dump(out, sys.stdout)
`;

/**
 * For each text, the length of its shortest prefix ending in ";" that `sqlite3_complete()` calls
 * complete (-1 when none is). Bytes are passed as Latin-1 characters: SQLite sees every byte of
 * 0x80 and above as part of an identifier, in whatever UTF-8 form, so the split points agree.
 */
export function sqliteCompletePrefixes(texts: Uint8Array[]): number[] {
  const input = JSON.stringify(texts.map((t) => Buffer.from(t).toString("base64")));
  const r = spawnSync("python3", ["-c", ORACLE], { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as number[];
}

/** Splits `bytes` with the splitter, fed in chunks of the given sizes (cycled). */
export function split(bytes: Uint8Array, chunkSizes: number[] = [bytes.length || 1]): { statements: Uint8Array[]; rest: number | null } {
  const splitter = new StatementSplitter();
  const statements: Uint8Array[] = [];
  let offset = 0;
  for (let k = 0; offset < bytes.length; k++) {
    const size = chunkSizes[k % chunkSizes.length]!;
    splitter.push(bytes.subarray(offset, offset + size));
    offset += size;
    for (let s = splitter.next(); s; s = splitter.next()) {
      expect(s.offset).toBe(statements.reduce((sum, x) => sum + x.length, 0));
      statements.push(s.bytes.slice());
    }
  }
  return { statements, rest: splitter.finish() };
}

/**
 * Asserts that the splitter cuts `bytes` where SQLite does: every statement is complete for
 * `sqlite3_complete()` and no shorter prefix of it ending in ";" is; the statements and the rest
 * add up to the input; whatever the sizes of the pieces it is fed in.
 */
export function expectSplitsLikeSqlite(bytes: Uint8Array, chunkings: number[][] = [[bytes.length || 1], [1], [7, 64, 4093], [65536]]): Uint8Array[] {
  const reference = split(bytes, chunkings[0]);
  for (const sizes of chunkings.slice(1)) {
    const other = split(bytes, sizes);
    expect(other.statements.length, `statements when fed in pieces of ${sizes.join(",")}`).toBe(reference.statements.length);
    expect(Buffer.concat(other.statements).equals(Buffer.concat(reference.statements))).toBe(true);
    expect(other.rest).toBe(reference.rest);
  }
  const used = reference.statements.reduce((sum, s) => sum + s.length, 0);
  const prefixes = sqliteCompletePrefixes([...reference.statements, bytes.subarray(used)]);
  const problems: string[] = [];
  reference.statements.forEach((s, i) => {
    if (prefixes[i] !== s.length)
      problems.push(`statement ${i} (${s.length} bytes) is complete after ${prefixes[i]} bytes for SQLite: ${Buffer.from(s.subarray(0, 200)).toString()}`);
  });
  const restComplete = prefixes[prefixes.length - 1]!;
  if (restComplete !== -1) problems.push(`the rest holds a complete statement of ${restComplete} bytes`);
  expect(problems).toEqual([]);
  return reference.statements;
}
