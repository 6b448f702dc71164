import { doBackend, type SqlBackend } from "./backends.js";
import { corpusStatements } from "./corpus.js";
import type { HostObject } from "./host-client.js";
import { createHarness, type Harness } from "./miniflare.js";
import { planTables, takeSnapshot, type Snapshot, type TablePlan } from "./snapshot.js";

/** An object holding the tricky corpus, and the snapshot of its data to compare exports with. */
export interface CorpusObject {
  h: Harness;
  obj: HostObject;
  src: SqlBackend;
  plans: TablePlan[];
  source: Snapshot;
}

/**
 * Starts a harness with one object filled with the corpus, in manual mode with tiny ticks: every
 * clock read advances `clockStepMs`, so a 100 ms budget allows about one step per tick.
 */
export async function corpusObject(clockStepMs: number): Promise<CorpusObject> {
  const h = await createHarness();
  try {
    const obj = h.object();
    await obj.exec(corpusStatements());
    await obj.config({ tickBudgetMs: 100, clockStepMs });
    await obj.mode("manual");
    const src = doBackend(obj);
    const plans = await planTables(src);
    return { h, obj, src, plans, source: await takeSnapshot(src, plans) };
  } catch (error) {
    await h.dispose();
    throw error;
  }
}
