// The fleet the demo and the benchmark seed, and the run ids of the example's cron handler.

/** Name of tenant `i`. */
export const tenantName = (i) => `tenant-${String(i).padStart(4, "0")}`;

/** Rows of tenant `i`: mostly 20-420, every 10th 2,000, every 50th `large` (20,000), every 7th empty. */
export function rowsOf(i, large = 20_000) {
  if (i % 50 === 0) return large;
  if (i % 10 === 0) return 2_000;
  if (i % 7 === 0) return 0;
  return 20 + ((i * 37) % 400);
}

/** The run id the example's cron handler gives a run scheduled at `time` (startFleetBackup's default, name "nightly"). */
export const nightlyRunId = (time) =>
  `nightly-${new Date(time)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}`;

/**
 * Seeds tenants 0 … count-1 through `client` (a FleetClient); `onTenant(i, rows)` after each.
 * Returns the names and the rows seeded.
 */
export async function seedFleet(client, count, { large = 20_000, onTenant = () => {} } = {}) {
  const names = [];
  let rows = 0;
  for (let i = 0; i < count; i++) {
    names.push(tenantName(i));
    rows += (await client.seed(tenantName(i), rowsOf(i, large), i)).rows;
    onTenant(i, rows);
  }
  return { names, rows };
}
