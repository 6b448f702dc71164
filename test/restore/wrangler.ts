import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../harness/build.js";
import { offlineWranglerEnv } from "../harness/d1.js";

/** A local D1 database seeded by `wrangler d1 execute`, and what `wrangler d1 export` writes of it. */
export interface WranglerExport {
  /** The export's bytes. */
  dump: Uint8Array;
  /** The D1 database file (SQLite), to read with the sqlite3 CLI. */
  databaseFile: string;
  dispose(): void;
}

/**
 * Seeds a local D1 database with `seed` (an SQL file run by `wrangler d1 execute --local`) and
 * exports it with `wrangler d1 export --local`, all offline: metrics, update checks and the
 * account lookup are off, and wrangler's config and temp files stay in a scratch directory.
 */
export function wranglerExport(seed: string): WranglerExport {
  const dir = mkdtempSync(join(tmpdir(), "dd-wrangler-"));
  const env = offlineWranglerEnv(dir);
  const config = join(dir, "wrangler.jsonc");
  writeFileSync(
    config,
    JSON.stringify({
      name: "restore-test",
      compatibility_date: "2025-04-01",
      d1_databases: [{ binding: "DB", database_name: "restore-test", database_id: "local" }],
    }),
  );
  writeFileSync(join(dir, "seed.sql"), seed);
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
  const run = (args: string[]) => {
    const r = spawnSync(wrangler, [...args, "--local", "-c", config], { cwd: dir, env, encoding: "utf8", maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  };
  try {
    run(["d1", "execute", "DB", "--file", join(dir, "seed.sql")]);
    run(["d1", "export", "DB", "--output", join(dir, "export.sql")]);
    const d1 = join(dir, ".wrangler", "state", "v3", "d1", "miniflare-D1DatabaseObject");
    const file = readdirSync(d1).find((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
    if (!file) throw new Error(`no D1 database file in ${d1}`);
    return {
      dump: new Uint8Array(readFileSync(join(dir, "export.sql"))),
      databaseFile: join(d1, file),
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
