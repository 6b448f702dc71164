/**
 * A tricky SQLite corpus, as statements for the test host's `/exec` route. Every statement is
 * accepted by a SQLite-backed Durable Object (no ATTACH, TEMP, BEGIN, writable_schema, ...),
 * stays under the 100 KB statement limit and every row under the 2 MB row limit.
 *
 * Platform facts it relies on (checked in workerd via Miniflare 4.20260421.0):
 * - foreign keys are enforced in a DO, so parents are inserted before children (the child
 *   *table* is still created first, so it precedes its parent in sqlite_master);
 * - -0.0 keeps its sign in a column without declared type and in a STRICT `ANY` column, but a
 *   REAL (or NUMERIC/INTEGER) affinity column stores it as integer 0 on disk: SQLite itself loses
 *   the sign there, so the corpus keeps its -0.0 in untyped and ANY columns.
 */
import type { Statement } from "./host-client.js";

/** FTS5 tables of the corpus (the stock sql.js build has no FTS5 module). */
export const CORPUS_FTS5_TABLES = ["docs", "articles_fts"];

/** Name of the table whose identifier uses every quoting character. */
export const WEIRD_TABLE = "weird \"name\" 'q' `b` [br] ✓ 表";

/** `'x'` repeated to build text of a given size inside SQLite. */
const repeat = (ch: string, n: number) => `replace(hex(zeroblob(${n})), '00', ${ch})`;

const TEXTS: [string, string][] = [
  ["empty", "''"],
  ["newline", "'line1' || char(10) || 'line2'"],
  ["cr", "'a' || char(13) || 'b'"],
  ["crlf", "'a' || char(13, 10) || 'b' || char(13, 10)"],
  ["tab", "'a' || char(9) || 'b'"],
  ["nul", "'a' || char(0) || 'b'"],
  ["nul-only", "char(0)"],
  ["emoji", "'😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈'"],
  ["combining", "'e' || char(769) || ' vs ' || char(233)"],
  ["quotes", `'it''s "quoted" \`b\` [x] \\ back\\slash'`],
  ["sql-ish", "'''); DROP TABLE orders; --'"],
  ["bom", "char(65279) || 'bom'"],
  ["surrogate-range", "char(55295) || char(57344) || char(1114111)"],
  ["long-mixed", `${repeat("'é😀'", 3000)}`],
];

const INTEGERS: [string, string][] = [
  ["max", "9223372036854775807"],
  ["min+1", "-9223372036854775807"],
  ["min", "(-9223372036854775807 - 1)"],
  ["2^53+1", "9007199254740993"],
  ["-2^53-1", "-9007199254740993"],
  ["zero", "0"],
  ["minus-one", "-1"],
];

const REALS: [string, string][] = [
  ["0.1", "0.1"],
  ["0.1+0.2", "0.1 + 0.2"],
  ["subnormal-1e-320", "1e-320"],
  ["min-subnormal", "5e-324"],
  ["max-double", "1.7976931348623157e308"],
  ["inf", "1e999"],
  ["-inf", "-1e999"],
  ["-0.0", "-0.0"],
  ["integral", "1.0"],
  ["big-integral", "9007199254740993.0"],
  ["tiny-neg", "-123.456e-7"],
  ["third", "1.0 / 3"],
];

const BLOBS: [string, string][] = [
  ["empty", "x''"],
  ["zeroblob", "zeroblob(10)"],
  ["random", "randomblob(64)"],
  ["00ff", "x'00ff'"],
  ["utf8-bytes", "CAST('héllo' AS BLOB)"],
  ["invalid-utf8", "x'c328ff'"],
];

/** Statements creating and filling the corpus, in order. */
export function corpusStatements(): Statement[] {
  const s: string[] = [];

  // Foreign keys: the child table is created before its parent.
  s.push(`CREATE TABLE "order items" (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    sku TEXT COLLATE NOCASE,
    qty INTEGER CHECK (qty > 0)
  )`);
  s.push(`CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, customer TEXT NOT NULL, total REAL, note)`);
  s.push(`CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT, ref INTEGER)`);
  s.push(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12)
    INSERT INTO orders (customer, total, note) SELECT 'customer ' || i, i * 37.5, CASE WHEN i % 3 = 0 THEN NULL ELSE i END FROM n`);
  s.push(`DELETE FROM orders WHERE id IN (3, 11, 12)`); // sqlite_sequence (12) > max(id) (10)
  s.push(`INSERT INTO "order items" (order_id, sku, qty) SELECT id, 'SKU-' || id, id FROM orders`);
  s.push(`INSERT INTO "order items" (id, order_id, sku, qty) VALUES (1000, 1, 'sku-1', 2)`);
  // Triggers are created after the rows, so audit holds only what happened later.
  s.push(`CREATE TRIGGER orders_audit AFTER INSERT ON orders BEGIN INSERT INTO audit (what, ref) VALUES ('insert', NEW.id); END`);
  s.push(`CREATE TRIGGER "orders update" AFTER UPDATE OF total ON orders WHEN NEW.total > 400 BEGIN
    INSERT INTO audit (what, ref) VALUES ('big total', NEW.id); END`);
  s.push(`INSERT INTO orders (customer, total) VALUES ('late', 1.5)`); // fires orders_audit; id 13
  s.push(`UPDATE orders SET total = 450.25 WHERE id = 2`);
  s.push(`DELETE FROM audit WHERE id = 1`); // audit's sequence ahead of its rows too

  // Every kind of value, in an untyped column (no affinity: values kept as given).
  s.push(`CREATE TABLE "values" (id INTEGER PRIMARY KEY, kind TEXT, label TEXT, v)`);
  const vals = [
    ...INTEGERS.map(([l, e]) => ["integer", l, e]),
    ...REALS.map(([l, e]) => ["real", l, e]),
    ...TEXTS.map(([l, e]) => ["text", l, e]),
    ...BLOBS.map(([l, e]) => ["blob", l, e]),
    ["null", "null", "NULL"],
  ];
  s.push(`INSERT INTO "values" (kind, label, v) VALUES ${vals.map(([k, l, e]) => `('${k}', '${l}', ${e})`).join(",\n")}`);

  // Affinity: REAL/NUMERIC/INTEGER/TEXT columns convert what they get.
  s.push(`CREATE TABLE affinity (r REAL, n NUMERIC, i INTEGER, t TEXT, b BLOB, d DECIMAL(10,2), f FLOAT)`);
  s.push(`INSERT INTO affinity VALUES
    (1.5, '12', '34', 56, x'01', '1.10', 2),
    (-0.0, -0.0, -0.0, -0.0, -0.0, -0.0, -0.0),
    (0.1 + 0.2, 9223372036854775807, 9007199254740993, 1e999, 'text', 'x', 1e-320),
    ('abc', '1e3', '2.0', NULL, 3, '0x10', '5e-324'),
    (100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0)`);

  // STRICT tables.
  s.push(`CREATE TABLE strict_t (id INTEGER PRIMARY KEY, i INT, r REAL, t TEXT NOT NULL DEFAULT '', b BLOB, a ANY) STRICT`);
  s.push(`INSERT INTO strict_t (i, r, t, b, a) VALUES
    (9223372036854775807, 1e999, 'x', x'', -0.0),
    ((-9223372036854775807 - 1), 5e-324, 'nul' || char(0) || 'in', zeroblob(3), 9007199254740993),
    (NULL, NULL, '', NULL, 'any text'),
    (0, -0.0, '😀', randomblob(16), x'ff00'),
    (1, 2, '3', x'04', 5.5)`);
  s.push(`CREATE TABLE wr_strict (code TEXT PRIMARY KEY COLLATE NOCASE, val ANY) STRICT, WITHOUT ROWID`);
  s.push(`INSERT INTO wr_strict VALUES ('b', 1), ('A', 2.5), ('c', 'three'), ('D', x'04'), ('é', NULL), ('', -0.0)`);

  // WITHOUT ROWID with a composite key, a NOCASE text part and a descending part.
  s.push(`CREATE TABLE kv (k TEXT COLLATE NOCASE, n INTEGER, v BLOB, PRIMARY KEY (k, n DESC)) WITHOUT ROWID`);
  s.push(`INSERT INTO kv VALUES ('alpha', 1, x'01'), ('Beta', 2, NULL), ('beta', 1, zeroblob(0)),
    ('ALPHA', 3, randomblob(100)), ('', 0, x''), ('gamma' || char(10), -1, 'text in blob col')`);

  // Generated columns, VIRTUAL and STORED.
  s.push(`CREATE TABLE gen (
    a INTEGER,
    b TEXT,
    c INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
    d TEXT GENERATED ALWAYS AS (upper(b)) STORED,
    e AS (a + length(b)),
    f REAL
  )`);
  s.push(`INSERT INTO gen (a, b, f) VALUES (1, 'one', 0.5), (NULL, 'null a', NULL), (9223372036854775807, '', -1e999), (-4, NULL, 2)`);

  // Columns shadowing the rowid aliases.
  s.push(`CREATE TABLE shadow_partial (rowid TEXT, oid INTEGER, data)`); // real rowid only as _rowid_
  s.push(`INSERT INTO shadow_partial (_rowid_, rowid, oid, data) VALUES (5, 'r5', 50, 'five'), (-7, 'neg', -70, x'07'), (9223372036854775807, 'max', 1, NULL)`);
  s.push(`CREATE TABLE shadow_ipk (id INTEGER PRIMARY KEY, rowid, _rowid_, oid)`);
  s.push(`INSERT INTO shadow_ipk VALUES (10, 'a', 'b', 'c'), (2, 1, 2.5, x'00'), (-3, NULL, NULL, NULL)`);

  // INTEGER PRIMARY KEY variants.
  s.push(`CREATE TABLE ipk_desc (id INTEGER, name TEXT, PRIMARY KEY (id DESC))`); // not a rowid alias
  s.push(`INSERT INTO ipk_desc VALUES (3, 'three'), (1, 'one'), (2, 'two')`);
  s.push(`CREATE TABLE text_pk (code TEXT PRIMARY KEY COLLATE NOCASE, n INTEGER UNIQUE)`);
  s.push(`INSERT INTO text_pk VALUES ('X', 1), ('y', 2), ('Zé', 3)`);

  // Identifiers with spaces, quotes, backticks, brackets, unicode and keywords.
  const weird = `"${WEIRD_TABLE.replaceAll('"', '""')}"`;
  s.push(`CREATE TABLE ${weird} ("col one" TEXT, "select" INTEGER, "x""y" BLOB, "\`tick\`" REAL, "[br]" TEXT, "ünï 😀" TEXT, "from" DEFAULT 'dflt')`);
  s.push(`INSERT INTO ${weird} VALUES ('a b', 1, x'22', 2.5, '[', 'ü', NULL), ('"', -1, NULL, -0.5, ']', '', 'x')`);
  s.push(`CREATE TABLE "group" ("order" INTEGER PRIMARY KEY, "where" TEXT, "table" TEXT)`);
  s.push(`INSERT INTO "group" VALUES (1, 'w', 't'), (2, NULL, '')`);

  // Indexes: plain on a quoted name, unique, partial, expression.
  s.push(`CREATE INDEX "idx order items sku" ON "order items" (sku)`);
  s.push(`CREATE UNIQUE INDEX orders_customer ON orders (customer)`);
  s.push(`CREATE INDEX orders_big ON orders (total) WHERE total > 100`);
  s.push(`CREATE INDEX gen_expr ON gen (lower(b), a + 1)`);
  s.push(`CREATE INDEX ${`"${"idx " + WEIRD_TABLE.replaceAll('"', '""')}"`} ON ${weird} ("select", "from")`);

  // Views, one on another.
  s.push(`CREATE VIEW order_totals AS SELECT o.id, o.customer, sum(i.qty) AS qty FROM orders o JOIN "order items" i ON i.order_id = o.id GROUP BY o.id`);
  s.push(`CREATE VIEW "big orders" AS SELECT * FROM order_totals WHERE qty > 5`);

  // FTS5 with content, and an external-content FTS5 kept in sync by triggers.
  s.push(`CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2')`);
  s.push(`INSERT INTO docs (rowid, title, body) VALUES
    (1, 'The quick brown fox', 'jumps over the lazy dog'),
    (5, 'Café crème', 'résumé naïve' || char(10) || 'second line'),
    (7, 'empty body', ''),
    (8, NULL, 'quick quick quick')`);
  s.push(`DELETE FROM docs WHERE rowid = 7`);
  s.push(`CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT)`);
  s.push(`CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content = 'articles', content_rowid = 'id')`);
  s.push(`CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body); END`);
  s.push(`CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END`);
  s.push(`INSERT INTO articles (id, title, body) VALUES
    (1, 'Durable Objects', 'durable storage with sqlite'),
    (2, 'R2 multipart', 'parts of five mebibytes'),
    (4, 'Alarms', 'durable alarms retry'),
    (6, 'gone', 'deleted durable row')`);
  s.push(`DELETE FROM articles WHERE id = 6`);

  // Rows of very different sizes, up to ~1.9 MB (under the 2 MB row limit).
  s.push(`CREATE TABLE sizes (id INTEGER PRIMARY KEY, kind TEXT, payload)`);
  for (const n of [0, 1, 100, 4000, 70_000, 500_000, 1_900_000]) s.push(`INSERT INTO sizes (kind, payload) VALUES ('blob ${n}', randomblob(${n}))`);
  s.push(`INSERT INTO sizes (kind, payload) VALUES ('text 1.9MB', hex(randomblob(950000)))`);
  s.push(`INSERT INTO sizes (kind, payload) VALUES ('unicode text', ${repeat("'😀é" + "'||char(10)", 150_000)})`);
  s.push(`INSERT INTO sizes (kind, payload) VALUES ('nul text', ${repeat("'a'||char(0)", 300_000)})`);
  s.push(`INSERT INTO sizes (kind, payload) VALUES ('crlf text', ${repeat("'line'||char(13, 10)", 100_000)})`);

  return s.map((sql) => ({ sql }));
}

/**
 * Queries whose answers must be the same in the source and in a restore, beyond the row
 * comparison: FTS5 indexes (also of the external-content table), views, and counts.
 */
export const CORPUS_PROBES: string[] = [
  `SELECT rowid, highlight(docs, 0, '[', ']') FROM docs WHERE docs MATCH 'quick' ORDER BY rowid`,
  `SELECT rowid FROM docs WHERE docs MATCH 'cafe OR resume' ORDER BY rowid`,
  `SELECT rowid, title FROM articles_fts WHERE articles_fts MATCH 'durable' ORDER BY rowid`,
  `SELECT * FROM "big orders" ORDER BY id`,
  `SELECT count(*), sum(qty) FROM order_totals`,
];

/** Probes that need FTS5 (left out with sql.js). */
export const CORPUS_FTS5_PROBES = new Set(CORPUS_PROBES.slice(0, 3));
