import { doBackend, type SqlBackend } from "./backends.js";
import { corpusStatements } from "./corpus.js";
import type { HostConfig, HostObject, Statement } from "./host-client.js";
import { createHarness, type Harness } from "./miniflare.js";
import { planTables, takeSnapshot, type Snapshot, type TablePlan } from "./snapshot.js";

/** An object holding a test database, and the snapshot of its data to compare exports with. */
export interface CorpusObject {
  h: Harness;
  obj: HostObject;
  src: SqlBackend;
  plans: TablePlan[];
  source: Snapshot;
}

/**
 * Starts a harness with one object filled by `statements`, configured with `config` (in manual
 * mode: the tests call tick), and takes the snapshot of its data.
 */
export async function seededObject(statements: (Statement | string)[], config: HostConfig): Promise<CorpusObject> {
  const h = await createHarness();
  try {
    const obj = h.object();
    await obj.exec(statements);
    await obj.config(config);
    await obj.mode("manual");
    const src = doBackend(obj);
    const plans = await planTables(src);
    return { h, obj, src, plans, source: await takeSnapshot(src, plans) };
  } catch (error) {
    await h.dispose();
    throw error;
  }
}

/**
 * Starts a harness with one object filled with the corpus, in manual mode with tiny ticks: every
 * clock read advances `clockStepMs`, so a 100 ms budget allows about one step per tick.
 */
export function corpusObject(clockStepMs: number): Promise<CorpusObject> {
  return seededObject(corpusStatements(), { tickBudgetMs: 100, clockStepMs });
}
