/**
 * `RestoreEngine` (durable-dump's restore issue) when the installed durable-dump has it, else null:
 * it is looked up at run time so that this example builds with releases before it. With a release
 * that exports it, this file is simply `export { RestoreEngine } from "durable-dump"`.
 */
import * as durableDump from "durable-dump";
import type { AlarmScheduler, DumpStorage } from "durable-dump";
import type { FleetRestoreEngine } from "durable-dump/fleet";

/** The part of `RestoreEngine` the example uses. */
export interface RestoreEngineLike extends FleetRestoreEngine<{ id: string; state: string }> {
  status(id: string): Promise<unknown>;
}

type RestoreEngineClass = new (options: { sql: SqlStorage; bucket: R2Bucket; storage: DumpStorage; scheduler?: AlarmScheduler }) => RestoreEngineLike;

/** The class, or null when this build of durable-dump has none. */
export const RestoreEngine = ((durableDump as Record<string, unknown>)["RestoreEngine"] ?? null) as RestoreEngineClass | null;
