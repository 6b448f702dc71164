import { readdirSync, readFileSync } from "node:fs";

/** workerd child processes of this Node process (Miniflare spawns one per instance). */
export function workerdPids() {
  const pids = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (comm.startsWith("workerd") && ppid === process.pid) pids.push(Number(d));
    } catch {}
  }
  return pids;
}
/** The one workerd child that is not in `known` (the one the instance just started spawned). */
export function newWorkerdPid(known) {
  const pids = workerdPids().filter((p) => !known.includes(p));
  if (pids.length !== 1) throw new Error(`expected one new workerd child, found ${JSON.stringify(pids)} (known ${JSON.stringify(known)})`);
  return pids[0];
}
/** Resident bytes of a process: all of it, and its anonymous (heap) and file-backed (code) parts. */
export function rssParts(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") };
  } catch {
    return { rss: 0, anon: 0, file: 0 };
  }
}
