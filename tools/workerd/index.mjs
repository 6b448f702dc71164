import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * V8 flags for every workerd that Miniflare (ours, and wrangler's) starts from this process on.
 *
 * `--single-threaded-gc` works around a livelock of local workerd on small machines: V8's only
 * background thread (2 cores give one) parks in a compile job until the main thread collects
 * garbage, while the main thread spins posting cppgc sweep tasks that wait for a concurrent sweep
 * that never gets that thread. The object's request never answers and workerd burns a core; seen
 * about once in ten runs of a gzip key-value restore (gdb: the main thread in
 * `IncrementalSweepTask` under `IoContext::runImpl`, the worker in
 * `CollectionBarrier::AwaitCollectionBackground`; no JavaScript frame: the library's code is not
 * in the loop). Miniflare 4.20260421 cannot set V8 flags (4.20260722.1 and later read
 * `MINIFLARE_WORKERD_V8_FLAGS`, but need Node 22), so workerd is started through
 * with-v8-flags.sh, which adds them to its config. Linux only, where the hang was seen (the wrapper
 * is a bash script). A MINIFLARE_WORKERD_PATH already set is kept.
 *
 * @param {string[]} flags
 */
export function useWorkerdV8Flags(flags = ["--single-threaded-gc"]) {
  if (process.platform !== "linux" || process.env.MINIFLARE_WORKERD_PATH) return;
  const require = createRequire(import.meta.url);
  process.env.DD_WORKERD_BINARY = require("workerd").default ?? require("workerd");
  process.env.DD_WORKERD_V8_FLAGS = flags.join(" ");
  process.env.MINIFLARE_WORKERD_PATH = join(dirname(fileURLToPath(import.meta.url)), "with-v8-flags.sh");
}

/**
 * A new temporary directory (its name starts with `prefix`), made TMPDIR of this process and of
 * those it starts from now on: Miniflare's own `miniflare-*` directories then go under it and are
 * removed with it. Miniflare removes them only fire-and-forget at `dispose()`, which the process's
 * exit cuts short; left in the system's temporary directory, they add up to gigabytes.
 *
 * @param {string} prefix
 * @returns {string} the directory
 */
export function miniflareWorkDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.env.TMPDIR = dir;
  return dir;
}
