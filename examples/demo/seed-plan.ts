/**
 * The demo's database: a small shop. Related tables with foreign keys and indexes, a view, a
 * trigger feeding an FTS5 index, an `events` table the example's cleanup trims, and attachments
 * with values up to 1 MB. Just over a million rows, generated inside the Durable Object by
 * recursive CTEs, in slices that each take well under a second.
 */
export interface SeedSlice {
  /** Table the slice fills (or "schema"). */
  table: string;
  /** Rows the slice inserts (not counting rows written by triggers). */
  rows: number;
  /** Statements to run, given the current time in ms. */
  statements: (now: number) => string[];
}

const SCHEMA = `
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, country TEXT, created_at INTEGER NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, title TEXT NOT NULL, price_cents INTEGER NOT NULL, weight_kg REAL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), placed_at INTEGER NOT NULL, status TEXT NOT NULL, total_cents INTEGER NOT NULL);
CREATE INDEX orders_customer ON orders (customer_id, placed_at);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), product_id INTEGER NOT NULL REFERENCES products(id), qty INTEGER NOT NULL, unit_price REAL NOT NULL);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE INDEX order_items_product ON order_items (product_id);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES products(id), customer_id INTEGER NOT NULL REFERENCES customers(id), rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5), body TEXT NOT NULL);
CREATE INDEX reviews_product ON reviews (product_id);
CREATE VIRTUAL TABLE reviews_fts USING fts5 (body);
CREATE TRIGGER reviews_index AFTER INSERT ON reviews BEGIN INSERT INTO reviews_fts (rowid, body) VALUES (new.id, new.body); END;
CREATE TABLE attachments (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), name TEXT NOT NULL, data BLOB, note TEXT);
CREATE VIEW customer_totals AS
  SELECT c.id, c.email, count(o.id) AS orders, sum(o.total_cents) AS spent_cents
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
`;

/** Integers from..to as `s(i)`. */
function series(from: number, to: number): string {
  return `WITH RECURSIVE s(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM s WHERE i < ${to})`;
}

/** Slices of `total` rows, `size` at a time. */
function sliced(table: string, total: number, size: number, insert: (from: number, to: number, now: number) => string): SeedSlice[] {
  const out: SeedSlice[] = [];
  for (let from = 1; from <= total; from += size) {
    const to = Math.min(total, from + size - 1);
    out.push({ table, rows: to - from + 1, statements: (now) => [insert(from, to, now)] });
  }
  return out;
}

const DAY = 86_400_000;

export const SEED_PLAN: SeedSlice[] = [
  { table: "schema", rows: 0, statements: () => [SCHEMA] },
  ...sliced(
    "customers",
    50_000,
    50_000,
    (a, b, now) =>
      `${series(a, b)} INSERT INTO customers (id, email, name, country, created_at)
     SELECT i, 'user' || i || '@example.com',
       CASE i % 6 WHEN 0 THEN 'Ada Lovelace' WHEN 1 THEN 'José Martínez' WHEN 2 THEN 'Zoë O''Brien' WHEN 3 THEN '李小龙' WHEN 4 THEN 'Søren Kierkegaard' ELSE 'Grace "Amazing" Hopper' END || ' ' || i,
       substr('USGBDEFRJPBRINCA', (i % 8) * 2 + 1, 2), ${now} - (i * 7919) % (900 * ${DAY}) FROM s`,
  ),
  ...sliced(
    "products",
    10_000,
    10_000,
    (a, b) =>
      `${series(a, b)} INSERT INTO products (id, sku, title, price_cents, weight_kg)
     SELECT i, printf('SKU-%06d', i), 'Product ' || i || ' — ' || CASE i % 4 WHEN 0 THEN 'mug' WHEN 1 THEN 'T-shirt, size M' WHEN 2 THEN 'poster 50×70' ELSE 'sticker pack' END,
       (i * 7919) % 50000 + 99, ((i * 37) % 1000) / 100.0 FROM s`,
  ),
  ...sliced(
    "orders",
    200_000,
    100_000,
    (a, b, now) =>
      `${series(a, b)} INSERT INTO orders (id, customer_id, placed_at, status, total_cents)
     SELECT i, (i * 7907) % 50000 + 1, ${now} - (i * 104729) % (365 * ${DAY}),
       CASE i % 4 WHEN 0 THEN 'paid' WHEN 1 THEN 'shipped' WHEN 2 THEN 'delivered' ELSE 'refunded' END, (i * 31) % 100000 FROM s`,
  ),
  ...sliced(
    "order_items",
    600_000,
    100_000,
    (a, b) =>
      `${series(a, b)} INSERT INTO order_items (id, order_id, product_id, qty, unit_price)
     SELECT i, (i - 1) / 3 + 1, (i * 104729) % 10000 + 1, i % 5 + 1, ((i * 13) % 20000) / 100.0 FROM s`,
  ),
  ...sliced(
    "reviews",
    40_000,
    20_000,
    (a, b) =>
      `${series(a, b)} INSERT INTO reviews (id, product_id, customer_id, rating, body)
     SELECT i, (i * 31) % 10000 + 1, (i * 17) % 50000 + 1, i % 5 + 1,
       'Review #' || i || char(10) || CASE i % 3 WHEN 0 THEN 'Great mug, would buy again 👍' WHEN 1 THEN 'Fine; the "fit" was off' || char(13, 10) || 'but it''s OK' ELSE 'Terrible poster — returned it' END FROM s`,
  ),
  ...sliced(
    "events",
    100_000,
    100_000,
    (a, b, now) =>
      `${series(a, b)} INSERT INTO events (id, at, kind, payload)
     SELECT i, ${now} - (i * 6047) % (7 * ${DAY}), CASE i % 3 WHEN 0 THEN 'login' WHEN 1 THEN 'checkout' ELSE 'search' END,
       json_object('ip', '10.0.' || (i % 256) || '.' || (i * 7 % 256), 'ok', json(CASE WHEN i % 10 = 0 THEN 'false' ELSE 'true' END)) FROM s`,
  ),
  // 24 attachments from 40 kB to 1,000,000 bytes of random bytes; four carry a 1 MB text note.
  ...sliced(
    "attachments",
    24,
    8,
    (a, b) =>
      `${series(a, b)} INSERT INTO attachments (id, order_id, name, data, note)
     SELECT i, i * 1000, 'scan-' || i || '.bin', randomblob(CASE i % 6 WHEN 0 THEN 1000000 WHEN 1 THEN 1000 ELSE 40000 * i END),
       CASE WHEN i % 6 = 1 THEN substr(replace(hex(zeroblob(83334)), '00', 'lorem ipsum '), 1, 1000000) END FROM s`,
  ),
];
