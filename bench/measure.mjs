// What the benchmarks measure around a job: request latency, a process's memory and CPU.
import { readFileSync } from "node:fs";
import { rssParts } from "./process-stats.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The p-th percentile (0-100) of `values`, by nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Count, median, p99 and maximum of request latencies (ms, rounded to 0.1). */
export function latencySummary(latencies) {
  return {
    count: latencies.length,
    p50Ms: round(percentile(latencies, 50) ?? 0, 1),
    p99Ms: round(percentile(latencies, 99) ?? 0, 1),
    maxMs: round(Math.max(0, ...latencies), 1),
  };
}

/**
 * Sends `request()` again and again, one at a time, until stopped; `stop()` resolves to the
 * latencies in ms.
 */
export function requestLoop(request) {
  let done = false;
  const latencies = [];
  const loop = (async () => {
    while (!done) {
      const t = performance.now();
      await request();
      latencies.push(performance.now() - t);
      await sleep(5);
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      return latencies;
    },
  };
}

/**
 * Samples a process's RSS every 50 ms until stopped; `stop()` returns its growth at the peak
 * (MiB, split into anonymous memory and file pages) and the samples.
 */
export function rssSampler(pid) {
  const start = rssParts(pid);
  const t0 = performance.now();
  let peak = start;
  let peakAt = 0;
  const samples = [];
  const timer = setInterval(() => {
    const parts = rssParts(pid);
    samples.push(parts.rss);
    if (parts.rss > peak.rss) {
      peak = parts;
      peakAt = performance.now() - t0;
    }
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return {
        rssStartMiB: round(start.rss / 2 ** 20, 1),
        rssPeakMiB: round(peak.rss / 2 ** 20, 1),
        growthMiB: round((peak.rss - start.rss) / 2 ** 20, 1),
        // The peak's growth split: anonymous memory (heaps, buffers) and file pages (workerd's code, first run).
        anonGrowthMiB: round((peak.anon - start.anon) / 2 ** 20, 1),
        fileGrowthMiB: round((peak.file - start.file) / 2 ** 20, 1),
        /** When the peak was sampled, ms after the sampler started: a transient peak shows as one late sample. */
        peakAtMs: Math.round(peakAt),
        samples,
      };
    },
  };
}

/** CPU time (user + system, all threads) of a process, in ms. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The isolate's inspector (the user Worker's target) on `port`, with a promise-returning `send`. Needs a global WebSocket (Node 20: --experimental-websocket). */
export async function connectInspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => /core:user/.test(t.title ?? "")) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const settle = pending.get(message.id);
    if (!settle) return;
    pending.delete(message.id);
    if (message.error) settle.reject(new Error(`${message.error.message}`));
    else settle.resolve(message.result);
  };
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      pending.set(++id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Runtime.enable");
  await send("HeapProfiler.enable");
  return { send, close: () => ws.close() };
}
