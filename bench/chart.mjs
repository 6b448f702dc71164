/**
 * Hand-written SVG chart of a bench result: export wall time against rows, log-log, one line per
 * export variant into the headline sink (the production-like one by default), the sqlite3 CLI
 * references, the SQL export into local R2 (the second column), and the naive baseline. No
 * dependencies.
 */
const COLORS = { sql: "#1f77b4", csv: "#2ca02c", ndjson: "#9467bd", "sql.gz": "#8c564b", naive: "#d62728", ref: "#7f7f7f" };

export function renderChart(results) {
  const W = 760,
    H = 460,
    L = 70,
    R = 190,
    T = 40,
    B = 60;
  const series = [];
  const formats = results.options.formats;
  for (const f of formats) {
    const pts = results.sizes.filter((s) => s.exports[f]?.wallMs).map((s) => [s.rows, s.exports[f].wallMs]);
    if (pts.length) series.push({ label: `durable-dump ${f}`, color: COLORS[f] ?? "#333", pts });
  }
  const gz = formats.find((f) => f.endsWith(".gz"));
  const gzRef = gz ? results.sizes.filter((s) => s.reference?.[gz]).map((s) => [s.rows, s.reference[gz].ms]) : [];
  if (gzRef.length) series.push({ label: `sqlite3 .dump | gzip -${results.options.gzipLevel}`, color: COLORS["sql.gz"], pts: gzRef, dash: "6 4" });
  const refPts = results.sizes.filter((s) => s.reference?.sql).map((s) => [s.rows, s.reference.sql.ms]);
  if (refPts.length) series.push({ label: "sqlite3 .dump", color: COLORS.ref, pts: refPts, dash: "6 4" });
  const csvRef = results.sizes.filter((s) => s.reference?.csv).map((s) => [s.rows, s.reference.csv.ms]);
  if (csvRef.length && formats.includes("csv")) series.push({ label: "sqlite3 -csv", color: COLORS.csv, pts: csvRef, dash: "2 3" });
  const localPts = results.sizes.filter((s) => s.exports.sql?.localR2?.wallMs).map((s) => [s.rows, s.exports.sql.localR2.wallMs]);
  if (localPts.length) series.push({ label: "sql into local R2", color: "#ff7f0e", pts: localPts, dash: "1 3" });
  const naivePts = results.sizes.filter((s) => s.naive?.ok).map((s) => [s.rows, s.naive.ms]);
  if (naivePts.length) series.push({ label: "naive (OFFSET + JS)", color: COLORS.naive, pts: naivePts });

  const all = series.flatMap((s) => s.pts);
  if (all.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><text x="20" y="40">no data</text></svg>\n`;
  const lx = (v) => Math.log10(v);
  let [x0, x1] = [Math.floor(lx(Math.min(...all.map((p) => p[0])))), Math.ceil(lx(Math.max(...all.map((p) => p[0]))))];
  let [y0, y1] = [Math.floor(lx(Math.min(...all.map((p) => p[1])))), Math.ceil(lx(Math.max(...all.map((p) => p[1]))))];
  if (x0 === x1) x1++;
  if (y0 === y1) y1++;
  const px = (v) => L + ((lx(v) - x0) / (x1 - x0)) * (W - L - R);
  const py = (v) => H - B - ((lx(v) - y0) / (y1 - y0)) * (H - T - B);
  const fmtRows = (v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v));
  const fmtMs = (v) => (v >= 1000 ? `${v / 1000} s` : `${v} ms`);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">\n`;
  svg += `<rect width="${W}" height="${H}" fill="white"/>\n`;
  const sink = results.options.sink === "production-like" ? `production-like sink, ${results.options.sinkLatencyMs} ms per call` : results.options.sink;
  svg += `<text x="${L}" y="22" font-size="15" font-weight="bold">Export wall time vs rows (log-log; lower is better; ${sink})</text>\n`;
  for (let e = x0; e <= x1; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (lx(v) > x1) break;
      const x = px(v);
      svg += `<line x1="${x}" y1="${T}" x2="${x}" y2="${H - B}" stroke="#eee"/>\n`;
      svg += `<text x="${x}" y="${H - B + 18}" text-anchor="middle">${fmtRows(v)}</text>\n`;
    }
  }
  for (let e = y0; e <= y1; e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (lx(v) > y1) break;
      const y = py(v);
      svg += `<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#eee"/>\n`;
      svg += `<text x="${L - 6}" y="${y + 4}" text-anchor="end">${fmtMs(v)}</text>\n`;
    }
  }
  svg += `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>\n`;
  svg += `<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">rows (mixed: ints, reals, text with newlines, blobs, NULLs)</text>\n`;
  series.forEach((s, i) => {
    const d = s.pts.map((p, j) => `${j ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" ");
    svg += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>\n`;
    for (const p of s.pts)
      svg += `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3.5" fill="${s.color}"><title>${s.label}: ${fmtRows(p[0])} rows, ${Math.round(p[1])} ms</title></circle>\n`;
    const ly = T + 10 + i * 20;
    svg += `<line x1="${W - R + 12}" y1="${ly}" x2="${W - R + 36}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>\n`;
    svg += `<text x="${W - R + 42}" y="${ly + 4}">${s.label}</text>\n`;
  });
  const capped = results.sizes.filter((s) => !s.naive && results.options.naiveMax < s.rows).map((s) => fmtRows(s.rows));
  if (capped.length)
    svg += `<text x="${W - R + 12}" y="${T + 10 + series.length * 20 + 10}" fill="${COLORS.naive}">naive not run at ${capped.join(", ")}</text>\n`;
  svg += `<text x="${L}" y="${H - 4}" fill="#666" font-size="10">${results.when} · ${results.machine.cpus} cores · node ${results.machine.node} · sqlite3 ${results.machine.sqlite3}</text>\n`;
  return svg + "</svg>\n";
}
