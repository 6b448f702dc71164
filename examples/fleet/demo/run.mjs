#!/usr/bin/env node
// npm run demo:fleet: fleet backups end to end, on this machine. Seeds tenant objects of varied
// sizes (listed in local D1), starts a run through the Worker's cron handler, follows its progress,
// checks the run manifest against R2 and every dump against its object (restored into the sqlite3
// CLI), and restores one tenant into a fresh object. Exits non-zero on any failure.
//
//   --tenants N               tenant objects (default 200; --smoke: 60)
//   --objects-per-instance M  objects per workflow instance (default 100, --smoke 25: the run fans out over children)
//   --concurrency C           exports at once (default: the library's, 20)
//   --no-verify               skip the dump checks (the benchmark's mode)
//   --json                    print the summary as one JSON line at the end
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nightlyRunId, seedFleet } from "./plan.mjs";
import { miniflareWorkDir, useWorkerdV8Flags } from "../../../tools/workerd/index.mjs";
import { FleetClient, buildFleetWorker, startFleetRuntime } from "./runtime.mjs";
import { checkDump, checkManifest, sqliteCli } from "./verify.mjs";

// Local workerd on a 2-core machine can livelock in V8's garbage collector: see tools/workerd/index.mjs.
useWorkerdV8Flags();

const { values: args } = parseArgs({
  options: {
    tenants: { type: "string" },
    "objects-per-instance": { type: "string" },
    concurrency: { type: "string" },
    smoke: { type: "boolean", default: false },
    "no-verify": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const TENANTS = Number(args.tenants ?? (args.smoke ? 60 : 200));
const PER_INSTANCE = args["objects-per-instance"] ?? (args.smoke ? "25" : "100");
const TTY = Boolean(process.stdout.isTTY);
const c = (code) => (s) => (TTY ? `\x1b[${code}m${s}\x1b[0m` : s);
const [bold, dim, green, red, cyan] = [c("1"), c("2"), c("32"), c("31"), c("36")];
const step = (title) => console.log(`${cyan("▸")} ${bold(title)}`);
const fmt = {
  int: (n) => Math.round(n).toLocaleString("en-US"),
  mb: (b) => `${(b / 1e6).toFixed(1)} MB`,
  s: (ms) => `${(ms / 1000).toFixed(1)} s`,
  eta: (s) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}` : "--:--"),
};

/** A status line rewritten in place on a terminal, printed every few seconds otherwise. */
function statusLine() {
  let last = 0;
  let width = 0;
  return {
    update(text) {
      if (TTY) {
        process.stdout.write(`\r${text}${" ".repeat(Math.max(0, width - text.length))}`);
        width = text.length;
      } else if (performance.now() - last > 2_000) {
        last = performance.now();
        console.log(text);
      }
    },
    done(text) {
      if (TTY) process.stdout.write(`\r${text}${" ".repeat(Math.max(0, width - text.length))}\n`);
      else console.log(text);
      width = 0;
    },
  };
}

const work = miniflareWorkDir("durable-dump-fleet-demo-");
let mf;

async function main() {
  console.log(`${bold("durable-dump fleet backups demo")}${dim(`  (${TENANTS} tenants, work dir ${work})`)}`);
  step("Building the fleet example with esbuild and starting it in Miniflare (Durable Objects, R2, D1, Workflows)");
  const bindings = { FLEET_OBJECTS_PER_INSTANCE: PER_INSTANCE, FLEET_PROGRESS_INTERVAL_MS: "500", DUMP_TICK_BUDGET_MS: "1000" };
  if (args.concurrency) bindings.FLEET_CONCURRENCY = args.concurrency;
  mf = await startFleetRuntime({ scriptPath: await buildFleetWorker(join(work, "worker.js")), bindings });
  const client = new FleetClient(mf);

  step(`Seeding ${TENANTS} tenant objects of varied sizes, each registered in D1`);
  const line = statusLine();
  const seedStart = performance.now();
  const { names, rows } = await seedFleet(client, TENANTS, {
    large: args.smoke ? 2_000 : 20_000,
    onTenant: (i, rows) => line.update(`  ${i + 1}/${TENANTS} tenants, ${fmt.int(rows)} notes`),
  });
  line.done(`  ${green("✓")} ${TENANTS} tenants, ${fmt.int(rows)} notes in ${fmt.s(performance.now() - seedStart)}`);

  const night = Date.UTC(2026, 0, 15, 3);
  step("Firing the nightly cron: the Worker's scheduled() handler starts a run");
  await client.cron(night);
  const runId = nightlyRunId(night);
  console.log(`  run ${runId} started`);
  const runStart = performance.now();
  let checkedDouble = false;
  const { manifest } = await client.waitForRun(runId, {
    onProgress: async (p) => {
      const elapsed = (performance.now() - runStart) / 1000;
      const rate = p.done / Math.max(elapsed, 0.001);
      const eta = rate > 0 && p.listed > 0 ? (p.listed - p.done) / rate : Number.POSITIVE_INFINITY;
      line.update(
        `  objects ${String(p.done).padStart(4)}/${p.listed || "?"} │ failed ${p.failed} │ ${fmt.mb(p.bytes).padStart(8)} │ ${rate.toFixed(1).padStart(5)} objects/s │ ETA ${fmt.eta(eta)}`,
      );
      if (!checkedDouble && p.done > 0) {
        // The next night's trigger, while this run is still going: it must not start a second run.
        checkedDouble = true;
        await client.cron(night + 86_400_000);
      }
    },
  });
  const runMs = manifest.finishedAt - manifest.startedAt;
  line.done(
    `  ${manifest.failed === 0 ? green("✓") : red("✗")} ${manifest.completed}/${manifest.objects} completed, ${manifest.failed} failed, ${fmt.mb(manifest.bytes)}, ${manifest.instances} instance(s), ${fmt.s(runMs)}`,
  );
  const second = await client.instanceStatus(nightlyRunId(night + 86_400_000));
  let failures = manifest.failed + (second === null ? 0 : 1);
  console.log(
    `  ${second === null ? green("✓") : red("✗")} the next night's trigger, fired mid-run, started no second run${checkedDouble ? "" : dim(" (run ended before it fired)")}`,
  );

  const bucket = await mf.getR2Bucket("DUMPS");
  step("Checking the run manifest against R2");
  const { problems, entries } = await checkManifest(bucket, manifest, `durable-dump/fleet/${runId}/`, names);
  for (const p of problems.slice(0, 20)) console.log(`  ${red("✗")} ${p}`);
  failures += problems.length;
  if (problems.length === 0) console.log(`  ${green("✓")} ${entries.length} entries; every dump in R2 with its size; nothing else under the run's prefix`);

  const cli = sqliteCli();
  if (args["no-verify"]) console.log(`  ${dim("dumps not checked (--no-verify)")}`);
  else if (!cli) console.log(`  ${dim("no sqlite3 CLI: dumps not checked")}`);
  else {
    step("Checking every dump against its object: restored with the sqlite3 CLI, every table's rows hashed on both sides");
    let checked = 0;
    for (const entry of entries) {
      const dump = new Uint8Array(await (await bucket.get(entry.dumpKey)).arrayBuffer());
      const dumpProblems = checkDump(cli, dump, entry.dumpKey.endsWith(".gz"), await client.checksum(entry.object), join(work, `${entry.object}.db`));
      rmSync(join(work, `${entry.object}.db`), { force: true });
      for (const p of dumpProblems) console.log(`  ${red("✗")} ${entry.object}: ${p}`);
      failures += dumpProblems.length;
      line.update(`  ${++checked}/${entries.length} dumps restored and compared`);
    }
    line.done(`  ${failures === 0 ? green("✓") : red("✗")} ${checked} dumps restored and compared, table by table`);
  }

  const tenant = entries.toSorted((a, b) => b.rows - a.rows)[0].object;
  step(`Restoring ${tenant} from the run's manifest into a fresh object`);
  failures += await restoreOne(client, runId, tenant);

  console.log("");
  console.log(bold("Summary"));
  const perMinute = (manifest.objects / runMs) * 60_000;
  console.log(`  objects         ${manifest.objects} (${manifest.completed} completed, ${manifest.failed} failed) in ${manifest.instances} instance(s)`);
  console.log(`  backed up       ${fmt.int(manifest.rows)} rows, ${fmt.mb(manifest.bytes)} gzipped`);
  console.log(`  run time        ${fmt.s(runMs)}: ${fmt.int(perMinute)} objects/minute at concurrency ${args.concurrency ?? 20}`);
  if (args.json)
    console.log(
      JSON.stringify({
        tenants: TENANTS,
        objectsPerInstance: Number(PER_INSTANCE),
        concurrency: Number(args.concurrency ?? 20),
        runMs,
        perMinute,
        instances: manifest.instances,
        bytes: manifest.bytes,
        rows: manifest.rows,
        failed: manifest.failed,
      }),
    );
  if (failures > 0) throw new Error(`${failures} check(s) failed`);
  console.log(`  result          ${green("every object backed up and verified")}`);
}

/** Restores `tenant`'s backup into `<tenant>-restored` and compares both; 0 when they match. */
async function restoreOne(client, runId, tenant) {
  const into = `${tenant}-restored`;
  const started = await client.post("/_demo/restore", { runId, tenant, into });
  let status = started.status;
  for (let n = 0; status.state === "queued" || status.state === "running"; n++) {
    if (n > 2_400) throw new Error(`restore ${status.id} still ${status.state} after 2 minutes`);
    await new Promise((r) => setTimeout(r, 50));
    status = await client.json(`/_demo/restore/${into}/${status.id}`);
  }
  const [source, copy] = [await client.checksum(tenant), await client.checksum(into)];
  const same =
    status.state === "completed" && JSON.stringify(source.tables.map(({ query: _, ...t }) => t)) === JSON.stringify(copy.tables.map(({ query: _, ...t }) => t));
  console.log(
    `  ${same ? green("✓") : red("✗")} ${into}: restore ${status.state}; ${copy.tables.map((t) => `${t.name} ${t.rows} rows`).join(", ")}${same ? ", identical to the source" : red(" (differs)")}`,
  );
  return same ? 0 : 1;
}

main()
  .then(
    () => 0,
    (e) => {
      console.error(`\n${red("✗ fleet demo failed: ")}${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return 1;
    },
  )
  .then(async (code) => {
    await Promise.race([mf?.dispose().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
    rmSync(work, { recursive: true, force: true });
    process.exit(code);
  });
