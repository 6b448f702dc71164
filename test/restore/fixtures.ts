/**
 * Dumps of other shapes than this library's SQL dialect, for the restore tests: what `wrangler
 * d1 export` writes, and the D1 dialect (no transaction, deferred foreign keys, large values
 * appended by UPDATEs under D1's 100 KB statement limit).
 */
import { createHash } from "node:crypto";

/** `wrangler d1 export --local` of a small database, as wrangler 4.86 wrote it (no trailing newline). */
export const WRANGLER_EXPORT_FIXTURE = `PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE IF NOT EXISTS "items"(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, data BLOB, score REAL, n);
INSERT INTO "items" VALUES(1,'a''b',X'00ff10',1,9007199254740992);
INSERT INTO "items" VALUES(2,replace('line1\\nline2\\nliteral','\\n',char(10)),NULL,0,12.5);
INSERT INTO "items" VALUES(3,'A BC',X'',0.1,1);
CREATE TABLE audit(id INTEGER PRIMARY KEY, msg TEXT);
INSERT INTO "audit" VALUES(1,'added a''b');
INSERT INTO "audit" VALUES(2,replace('added line1\\nline2\\nliteral','\\n',char(10)));
INSERT INTO "audit" VALUES(3,'added A BC');
CREATE TABLE child(id INTEGER PRIMARY KEY, item_id INTEGER REFERENCES items(id));
INSERT INTO "child" VALUES(1,2);
DELETE FROM sqlite_sequence;
INSERT INTO "sqlite_sequence" VALUES('items',3);
CREATE INDEX items_name ON items(name);
CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN INSERT INTO audit(msg) VALUES('added ' || NEW.name); END;
CREATE VIEW item_names AS SELECT id, name FROM items;`;

/** Deterministic bytes of a given length. */
function bytesOf(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0, n = 0; offset < length; n++) {
    const block = createHash("sha256").update(`${seed}:${n}`).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

/** A value written as a first INSERT then UPDATE appends of at most `piece` bytes each, as the D1 dialect does. */
function appended(table: string, column: string, rowid: number, bytes: Buffer, kind: "blob" | "text", piece = 45_000): string[] {
  const hex = (b: Buffer) => `X'${b.toString("hex").toUpperCase()}'`;
  const first = kind === "blob" ? `CAST(${hex(bytes.subarray(0, piece))} AS BLOB)` : `CAST(${hex(bytes.subarray(0, piece))} AS TEXT)`;
  const out = [`INSERT INTO "${table}"(rowid,"${column}") VALUES(${rowid},${first});`];
  for (let at = piece; at < bytes.length; at += piece) {
    const part = hex(bytes.subarray(at, at + piece));
    const value = kind === "blob" ? `CAST("${column}" || ${part} AS BLOB)` : `"${column}" || CAST(${part} AS TEXT)`;
    out.push(`UPDATE "${table}" SET "${column}" = ${value} WHERE rowid = ${rowid};`);
  }
  return out;
}

/** Text of valid UTF-8, with NUL and CR inside, of about `length` bytes. */
function text(length: number): Buffer {
  const unit = Buffer.from("línea 😀 with\r\nCRLF and a NUL\u0000 and more text; ", "utf8");
  return Buffer.concat(Array.from({ length: Math.ceil(length / unit.length) }, () => unit));
}

/**
 * A dump in the D1 dialect: `PRAGMA defer_foreign_keys=TRUE;`, no BEGIN/COMMIT, every CREATE
 * TABLE before any row (a child table's rows before its parent's), rows over 100 KB as a first
 * INSERT and UPDATE appends, indexes, views and triggers after the rows.
 */
export const D1_DIALECT_FIXTURE = [
  "PRAGMA defer_foreign_keys=TRUE;",
  `CREATE TABLE "lines" (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES "orders"(id), note TEXT);`,
  `CREATE TABLE "orders" (id INTEGER PRIMARY KEY AUTOINCREMENT, customer TEXT, total REAL);`,
  `CREATE TABLE "files" (id INTEGER PRIMARY KEY, name TEXT, body BLOB, notes TEXT);`,
  `CREATE TABLE "kv" (k TEXT PRIMARY KEY, v) WITHOUT ROWID;`,
  `INSERT INTO "lines" VALUES(1,2,'first line; of order 2');`,
  `INSERT INTO "lines" VALUES(2,2,NULL);`,
  `INSERT INTO "orders" VALUES(1,'ann',12.5);`,
  `INSERT INTO "orders" VALUES(2,'bob',-0.0);`,
  ...appended("files", "body", 1, bytesOf("files-1", 250_000), "blob"),
  `UPDATE "files" SET "name" = 'big.bin' WHERE rowid = 1;`,
  ...appended("files", "notes", 2, text(180_000), "text"),
  // A row over the limit built in the dialect's staging table, inserted from it, the table dropped.
  `CREATE TABLE "_durable_dump_stage"(k INTEGER PRIMARY KEY, v);`,
  `INSERT INTO "_durable_dump_stage" VALUES(1, X'${bytesOf("files-3", 40_000).toString("hex").toUpperCase()}');`,
  `UPDATE "_durable_dump_stage" SET v = CAST(v || X'${bytesOf("files-3b", 40_000).toString("hex").toUpperCase()}' AS BLOB) WHERE k = 1;`,
  `INSERT INTO "files" VALUES(3,'staged.bin',(SELECT v FROM "_durable_dump_stage" WHERE k = 1),NULL);`,
  `DROP TABLE "_durable_dump_stage";`,
  `INSERT INTO "kv" VALUES('a',9223372036854775807);`,
  `INSERT INTO "kv" VALUES('b',CAST(X'41FF42' AS TEXT));`,
  `DELETE FROM sqlite_sequence WHERE name IN ('orders');`,
  `INSERT INTO sqlite_sequence(name,seq) VALUES('orders',7);`,
  `CREATE INDEX "lines_order" ON "lines"(order_id);`,
  `CREATE VIEW "order_lines" AS SELECT o.id, count(l.id) AS n FROM "orders" o LEFT JOIN "lines" l ON l.order_id = o.id GROUP BY o.id;`,
  `CREATE TRIGGER "orders_ai" AFTER INSERT ON "orders" BEGIN INSERT INTO "lines"(order_id, note) VALUES (NEW.id, 'auto; line'); END;`,
  "",
].join("\n");

/**
 * A database for `wrangler d1 export` (which refuses FTS5 and writes integers beyond 2^53, -0.0 and
 * infinities lossily, so there are none): a child table created before its parent, AUTOINCREMENT,
 * text with newlines and emoji, a 150 KB blob (an INSERT over D1's 100 KB statement limit once
 * exported), WITHOUT ROWID, an index, a view and a trigger.
 */
export const D1_SEED = `PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), note TEXT);
CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, data BLOB, score REAL);
INSERT INTO child VALUES (1, 2, 'line1' || char(10) || 'line2; it''s');
INSERT INTO parent (name, data, score) VALUES ('a''b', x'00ff10', 1.5), ('ünï 😀', randomblob(150000), -2.25), ('gone', NULL, 0);
DELETE FROM parent WHERE name = 'gone';
CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
INSERT INTO kv VALUES ('x', 42), ('y', 'text'), ('z', NULL), ('w', 9007199254740991);
CREATE INDEX child_parent ON child(parent_id);
CREATE VIEW names AS SELECT id, name FROM parent;
CREATE TRIGGER parent_ai AFTER INSERT ON parent BEGIN INSERT INTO child(parent_id, note) VALUES (NEW.id, 'auto'); END;
`;
