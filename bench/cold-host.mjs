// The object's process of a benchmark: a Miniflare instance over persisted Durable Object data,
// restarted cold (nothing in memory, as an object woken by its alarm) whenever asked.
import { Miniflare } from "miniflare";
import { newWorkerdPid } from "./process-stats.mjs";

/**
 * A host whose `start()` starts its Miniflare instance, or restarts it over the same persisted
 * state, and finds the pid of its workerd process among those not in `others` (workerd processes
 * started before it). `options()` gives the Miniflare options of each start.
 */
export function coldHost(options, others = []) {
  let mf = null;
  let pid = null;
  return {
    /** The running Miniflare instance. */
    get mf() {
      return mf;
    },
    /** The pid of its workerd process. */
    get pid() {
      return pid;
    },
    async start() {
      const known = [...others];
      if (mf) {
        known.push(pid);
        await mf.dispose();
      }
      mf = new Miniflare(options());
      await mf.ready;
      pid = newWorkerdPid(known);
    },
    async dispose() {
      await mf?.dispose();
    },
  };
}
