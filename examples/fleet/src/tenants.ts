/** The app's list of tenants in D1: what the fleet backs up, since a Worker cannot list a namespace's objects. */
import type { FleetObjectPage } from "durable-dump/fleet";

let table: Promise<unknown> | null = null;

function ensureTable(db: D1Database): Promise<unknown> {
  table ??= db.prepare("CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY)").run();
  return table;
}

/** Adds `name` to the list (the app calls it when a tenant first writes). */
export async function registerTenant(db: D1Database, name: string): Promise<void> {
  await ensureTable(db);
  await db.prepare("INSERT OR IGNORE INTO tenants (name) VALUES (?)").bind(name).run();
}

/** One page of tenant names after `cursor`, in name order: the fleet's object source. */
export async function tenantPage(db: D1Database, cursor: string | null, size = 1_000): Promise<FleetObjectPage> {
  await ensureTable(db);
  const { results } = await db
    .prepare("SELECT name FROM tenants WHERE name > ? ORDER BY name LIMIT ?")
    .bind(cursor ?? "", size)
    .all<{ name: string }>();
  return { names: results.map((r) => r.name), cursor: results.length === size ? results[size - 1]!.name : null };
}
