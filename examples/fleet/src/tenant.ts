import { DurableObject } from "cloudflare:workers";
import { RestoreEngine } from "durable-dump";
import { type FleetBackupCall, type FleetBackupTarget, FleetExports, restoreFromFleetRun } from "durable-dump/fleet";
import type { Env } from "./env.js";

/** The app's table, created by the first write: an object that only receives a restore starts empty. */
export function notesTable(sql: SqlStorage): SqlStorage {
  sql.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, text TEXT NOT NULL, data BLOB)");
  return sql;
}

/**
 * One tenant's Durable Object: its data (a `notes` table), the exports fleet backups ask of it
 * (`fleetBackup`, the RPC method the Workflow calls), and restores from a run's manifest.
 */
export class Tenant extends DurableObject<Env> implements FleetBackupTarget {
  /** Runs the fleet's exports in this object and tells the waiting Workflow instance when each ends. */
  readonly backups: FleetExports;
  /** Restores a backup into this object's database. */
  readonly restores: RestoreEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const tickBudgetMs = env.DUMP_TICK_BUDGET_MS ? Number(env.DUMP_TICK_BUDGET_MS) : undefined;
    this.backups = new FleetExports({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, workflow: env.TENANT_BACKUPS, tickBudgetMs });
    // Both engines keep their wake-ups in one scheduler over the object's single alarm.
    this.restores = new RestoreEngine({ sql: ctx.storage.sql, bucket: env.DUMPS, storage: ctx.storage, scheduler: this.backups.engine.scheduler });
  }

  /** The fleet's RPC surface: start, follow or abort this object's export of a run. */
  fleetBackup(call: FleetBackupCall) {
    return this.backups.handle(call);
  }

  /** Restores this object's database from `tenant`'s backup in run `runId` (this object may be `tenant` or a new one). */
  async restoreFromRun(runId: string, tenant: string) {
    return restoreFromFleetRun(this.restores, this.env.DUMPS, { runId, object: tenant });
  }

  async restoreStatus(id: string) {
    return this.restores.status(id);
  }

  /** Runs whatever is due: export ticks, restore ticks. */
  override async alarm(): Promise<void> {
    await this.backups.engine.scheduler.run();
  }

  /** The app's own data: adds a note. */
  addNote(text: string, data: ArrayBuffer | null = null): number {
    return notesTable(this.ctx.storage.sql)
      .exec<{ id: number }>("INSERT INTO notes (at, text, data) VALUES (?, ?, ?) RETURNING id", Date.now(), text, data)
      .one().id;
  }

  countNotes(): number {
    return notesTable(this.ctx.storage.sql).exec<{ n: number }>("SELECT count(*) AS n FROM notes").one().n;
  }
}
