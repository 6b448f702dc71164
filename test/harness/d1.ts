/**
 * Imports an SQL dump the way a user would move it into Cloudflare D1: `wrangler d1 execute DB
 * --local --file dump.sql` (wrangler's local D1, workerd with its D1 database object), then reads
 * the SQLite file it wrote with the sqlite3 CLI. Each import runs in its own directory with the
 * environment that keeps wrangler off the network (no metrics, update check or cf.json fetch).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sqlite3Backend, type SqlBackend } from "./backends.js";

const WRANGLER = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "node_modules", ".bin", "wrangler");

/** A database imported into wrangler's local D1; `dispose` removes its files. */
export interface D1Database {
  /** The D1 database file (WAL mode), read with the sqlite3 CLI. */
  path: string;
  backend: SqlBackend;
  dispose(): void;
}

/** What wrangler answered to an import that failed: its exit code and its error text. */
export class D1ImportError extends Error {
  constructor(
    readonly status: number | null,
    readonly output: string,
  ) {
    super(`wrangler d1 execute failed (exit ${status}): ${output.slice(0, 4000)}`);
    this.name = "D1ImportError";
  }
}

/**
 * The environment that runs wrangler offline (no metrics, update checks or account lookup), its
 * config and temp files in `dir` (whose `xdg` and `tmp` folders it creates).
 */
export function offlineWranglerEnv(dir: string): NodeJS.ProcessEnv {
  for (const sub of ["xdg", "tmp"]) mkdirSync(join(dir, sub), { recursive: true });
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    XDG_CONFIG_HOME: join(dir, "xdg"),
    TMPDIR: join(dir, "tmp"),
    NO_COLOR: "1",
  };
}

/**
 * Imports `dump` into a fresh local D1 database with wrangler and returns it. Throws
 * {@link D1ImportError} when wrangler refuses the file or a statement fails (D1 then rolls the
 * whole file back).
 */
export function importIntoD1(dump: Uint8Array | string): D1Database {
  const dir = mkdtempSync(join(tmpdir(), "durable-dump-d1-"));
  try {
    writeFileSync(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({ name: "d1-import", compatibility_date: "2026-04-01", d1_databases: [{ binding: "DB", database_name: "import", database_id: "local" }] }),
    );
    writeFileSync(join(dir, "dump.sql"), dump);
    const state = join(dir, "state");
    const r = spawnSync(
      WRANGLER,
      ["d1", "execute", "DB", "--local", "--file", join(dir, "dump.sql"), "--persist-to", state, "-c", join(dir, "wrangler.jsonc")],
      {
        cwd: dir,
        env: offlineWranglerEnv(dir),
        maxBuffer: 1 << 28,
        timeout: 300_000,
      },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new D1ImportError(r.status, `${r.stderr.toString()}\n${r.stdout.toString()}`.replace(/\u001b\[[0-9;]*m/g, ""));
    const objects = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
    const file = readdirSync(objects).find((f) => /^[0-9a-f]{64}\.sqlite$/.test(f));
    if (!file) throw new Error(`no D1 database file under ${objects}`);
    const path = join(objects, file);
    return { path, backend: sqlite3Backend(path), dispose: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
