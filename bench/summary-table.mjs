/**
 * The bench's verdict: one Markdown table with a row per measure of the performance targets
 * (docs in bench/README.md, "The verdict table"), a column per export variant, each cell the value
 * measured in this run and ✓ or ✗ against its target. Rows without a target explain the others:
 * the floor an export hits (the engine's own scan and render of the same rows, nothing uploaded),
 * the same exports into local R2, and local R2's own time for the same bytes.
 */

/** Wall time × the CLI for the same variant (`sql.gz`: `.dump | gzip -6`). */
const TARGET_RATIO = { sql: 1.2, csv: 1.5, ndjson: 1.5, json: 1.5, "sql.gz": 1.2 };
const MAX_SCALING = 5.5;
const MAX_P99_MS = 50;
const MAX_GROWTH_MIB = 32;
/** Restore × `sqlite3 new.db < dump.sql` (issue 18, item 3; `results.restore`, measured by bench/restore-measure.mjs). */
const MAX_RESTORE_RATIO = 1.5;

const mark = (ok) => (ok ? "✓" : "✗");
const fmt = (n, digits = 2) => (typeof n === "number" ? n.toFixed(digits) : "–");
const targetOf = (variant) => TARGET_RATIO[variant.replace(/#\d+$/, "")] ?? TARGET_RATIO[variant.replace(/\..*$/, "")];

/**
 * @param {any} results what `bench/run.mjs` writes to `latest.json`
 * @returns {string} the Markdown table (empty when no size was measured)
 */
export function summaryTable(results) {
  const formats = results.options.formats;
  const at = (n) => results.sizes.find((s) => s.rows === n);
  const main = at(1_000_000) ?? results.sizes.at(-1);
  const big = at(5_000_000);
  if (!main) return "";
  const rows = main.rows.toLocaleString("en-US");
  const sinks = {
    "production-like": `production-like sink (${results.options.sinkLatencyMs} ms per call)`,
    null: "null sink: the engine alone",
    "local R2": "into local R2",
  };
  const sink = sinks[results.options.sink] ?? results.options.sink;
  const cpus = results.machine.cpus;
  const line = (measure, target, cell) => `| ${measure} | ${target} | ${formats.map((f) => cell(f) ?? "–").join(" | ")} |`;
  const gz = formats.some((f) => f.endsWith(".gz"))
    ? `; \`.gz\`: × \`.dump \\| gzip -${results.options.gzipLevel}\`, deflate by ${results.options.deflater ?? "?"}`
    : "";
  const out = [`| measure (${rows} rows unless said, ${cpus} cores) | target | ${formats.join(" | ")} |`, `|---|---|${formats.map(() => "---:").join("|")}|`];

  out.push(
    line(`wall time × \`sqlite3\` (same format${gz}), ${sink}, requests meanwhile`, "≤ 1.2 SQL and SQL gzip, ≤ 1.5 CSV/NDJSON", (f) => {
      const r = main.exports[f]?.vsSqlite3SameFormat;
      return r === undefined ? null : `${fmt(r)} ${mark(r <= targetOf(f))}`;
    }),
  );
  out.push(
    line("floor: the engine's scan and render (and deflate) of the same rows, nothing uploaded, × `sqlite3`", "(no export is faster)", (f) =>
      fmt(main.exports[f]?.renderFloor?.vsSqlite3SameFormat),
    ),
  );
  if (results.options.localColumn) {
    out.push(
      line("wall time × `sqlite3` into local R2 (Miniflare's simulator, its own process), requests meanwhile", "(second column)", (f) =>
        fmt(main.exports[f]?.localR2?.vsSqlite3SameFormat),
      ),
    );
  }
  const localOf = (e) => (results.options.sink === "local R2" ? e : e?.localR2);
  if (results.options.localColumn || results.options.sink === "local R2") {
    out.push(
      line("local R2 alone storing the same bytes × `sqlite3`", "(no export into local R2 is faster)", (f) =>
        fmt(localOf(main.exports[f])?.r2Floor?.vsSqlite3SameFormat),
      ),
    );
    out.push(
      line(`(object CPU + local R2 CPU) / ${cpus} cores × \`sqlite3\``, "(no schedule into local R2 is faster)", (f) => {
        const e = localOf(main.exports[f]);
        return e && e.r2ProcessCpuMs !== null ? fmt((e.workerdCpuMs + e.r2ProcessCpuMs) / cpus / main.reference[f].ms) : null;
      }),
    );
  }
  if (big) {
    out.push(
      line("scaling: wall time 5M / 1M", `≤ ${MAX_SCALING}`, (f) => {
        const s = big.exports[f]?.wallMs / main.exports[f]?.wallMs;
        return Number.isFinite(s) ? `${fmt(s)} ${mark(s <= MAX_SCALING)}` : null;
      }),
    );
    out.push(
      line("scaling of `sqlite3` itself, and of local R2 alone", "(same run)", (f) => {
        const cli = big.reference[f]?.ms / main.reference[f]?.ms;
        const floor = big.exports[f]?.r2Floor?.ms / main.exports[f]?.r2Floor?.ms;
        return `${fmt(cli)}${Number.isFinite(floor) ? `, ${fmt(floor)}` : ""}`;
      }),
    );
  }
  const sized = big ? [main, big] : [main];
  const perSize = (f, pick) => sized.map((s) => pick(s.exports[f])).filter((v) => typeof v === "number");
  out.push(
    line(`p99 of a trivial request meanwhile, ms (${sized.map((s) => label(s.rows)).join(" / ")})`, `≤ ${MAX_P99_MS}`, (f) => {
      const v = perSize(f, (e) => e?.latency?.p99);
      return v.length ? `${v.map((x) => fmt(x, 0)).join(" / ")} ${mark(v.every((x) => x <= MAX_P99_MS))}` : null;
    }),
  );
  out.push(
    line(
      `RSS growth, quiet export from a cold process, MiB (${sized.map((s) => label(s.rows)).join(" / ")})`,
      `≤ ${MAX_GROWTH_MIB}, the same for both (difference shown)`,
      (f) => {
        const v = perSize(f, (e) => e?.quiet?.memory?.growthMiB);
        const difference = v.length === 2 ? ` (${v[1] - v[0] >= 0 ? "+" : ""}${fmt(v[1] - v[0], 1)})` : "";
        return v.length ? `${v.map((x) => fmt(x, 1)).join(" / ")}${difference} ${mark(v.every((x) => x <= MAX_GROWTH_MIB))}` : null;
      },
    ),
  );
  out.push(
    line("… of it anonymous memory (heaps, buffers; not workerd's code pages)", "", (f) => {
      const v = perSize(f, (e) => e?.quiet?.memory?.anonGrowthMiB);
      return v.length ? v.map((x) => fmt(x, 1)).join(" / ") : null;
    }),
  );
  out.push(
    line("R2 Class A operations (parts + 2 per object, + 1 manifest)", "parts + 2; per GB", (f) => {
      const a = main.exports[f]?.classA;
      if (!a) return null;
      const objects = a.createMultipartUpload;
      const expected = a.uploadPart + 2 * objects + 1;
      return `${a.total} = ${a.uploadPart} + ${2 * objects} + 1 ${mark(a.total === expected)}; ${fmt(a.perGB, 0)}/GB`;
    }),
  );
  out.push(
    line(
      `storage writes per tick (${sized.map((s) => label(s.rows)).join(" / ")})`,
      "small, constant; per GB",
      (f) =>
        sized
          .map((s) => s.exports[f]?.storage)
          .filter(Boolean)
          .map((st) => `${fmt(st.putKeysPerTick, 1)} keys, ${kb(st.putBytesPerTick)}; ${kb(st.putBytesPerGB)}/GB`)
          .join(" / ") || null,
    ),
  );
  const restore = results.restore ?? {};
  const restorable = (f) => /^sql(\.gz)?$/.test(f);
  const pending = (f) => (restorable(f) ? "not measured" : null);
  const restoreRows = results.options.restore?.rows;
  const restoreSize = restoreRows && restoreRows !== main.rows ? ` (${label(restoreRows)} rows)` : "";
  out.push(
    line(`restore of the dump${restoreSize} × \`sqlite3 new.db < dump.sql\`, requests meanwhile`, `≤ ${MAX_RESTORE_RATIO}`, (f) => {
      const r = restore[f]?.vsSqlite3;
      return typeof r === "number" ? `${fmt(r)} ${mark(r <= MAX_RESTORE_RATIO)}` : pending(f);
    }),
  );
  out.push(
    line("restore: RSS growth from a cold process, MiB", `≤ ${MAX_GROWTH_MIB}`, (f) => {
      const v = restore[f]?.growthMiB;
      return typeof v === "number" ? `${fmt(v, 1)} ${mark(v <= MAX_GROWTH_MIB)}` : pending(f);
    }),
  );
  out.push(
    line("restore: p99 of a trivial request meanwhile, ms", `≤ ${MAX_P99_MS}`, (f) => {
      const v = restore[f]?.p99;
      return typeof v === "number" ? `${fmt(v, 0)} ${mark(v <= MAX_P99_MS)}` : pending(f);
    }),
  );
  const controls = results.restoreControls ?? {};
  const controlNames = ["sqlOnly", "sqlText", "sqlTextMultiRow", "sqlBound"].filter((name) => typeof controls[name]?.growthMiB === "number");
  if (controlNames.length) {
    const names = { sqlOnly: "SQL alone", sqlText: "INSERT text, 1 row per INSERT", sqlTextMultiRow: "100 rows per INSERT", sqlBound: "bound parameters" };
    out.push(
      line(
        `restore controls, no durable-dump, cold process, RSS growth, MiB: ${controlNames.map((name) => names[name]).join(" / ")} (16 KB per query)`,
        "(the runtime's share)",
        (f) => (restore[f] ? controlNames.map((name) => fmt(controls[name].growthMiB, 1)).join(" / ") : null),
      ),
    );
  }
  return out.join("\n") + "\n";
}

function label(rows) {
  return rows >= 1e6 ? `${rows / 1e6}M` : `${rows / 1e3}k`;
}

function kb(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} KB`;
}
