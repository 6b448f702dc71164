import type { DumpStorage } from "./types.js";

/**
 * Makes sure the object's alarm fires no later than `at`, never postponing an alarm that is
 * already set for earlier: the host may rely on it.
 */
export async function wakeNoLaterThan(storage: DumpStorage, at: number): Promise<void> {
  const current = await storage.getAlarm();
  if (current === null || current > at) await storage.setAlarm(at);
}
