/** The public types of fleet backups: what a run asks of an object, what it records, how it is configured. */
import type { DumpState, JobError } from "../jobs/job-types.js";

/** Options of every export a run starts: those of `DumpEngine.start` that make sense for a backup (the format is SQL). */
export interface FleetExportOptions {
  /** Compress each dump (`.sql.gz`). Default false. */
  gzip?: boolean;
  /** Back up only these tables. */
  tables?: string[];
  /** Leave these tables out. */
  exclude?: string[];
}

/** Where an object announces the end of its export: the waiting workflow instance and the event type. */
export interface FleetNotify {
  instanceId: string;
  type: string;
}

/**
 * What a run asks of one object through its `fleetBackup` RPC method ({@link FleetBackupTarget}):
 * start attempt `attempt` of the run's export (idempotent: asking again answers the same export),
 * report on it, or abort it.
 */
export type FleetBackupCall =
  | { action: "start"; runId: string; object: string; attempt: number; notify: FleetNotify | null; options: FleetExportOptions }
  | { action: "status"; runId: string }
  | { action: "abort"; runId: string };

/** What an object's export of a run came to: the fields a result and a manifest entry share. */
export interface FleetExportOutcome {
  /** The export job in the object (`DumpEngine` job id), null when none could be started. */
  jobId: string | null;
  /** R2 key of the dump once started (`.sql`, or `.sql.gz`). */
  dumpKey: string | null;
  /** R2 key of the dump's manifest once completed. */
  manifestKey: string | null;
  bytes: number;
  rows: number;
  error: JobError | null;
  /** Epoch milliseconds: when the job was created and when it ended. */
  startedAt: number | null;
  finishedAt: number | null;
}

/** The state of a run's export in one object, as the object reports it. Small and JSON-serialisable. */
export interface FleetExportResult extends FleetExportOutcome {
  runId: string;
  /** The object's name as the run listed it. */
  object: string;
  attempt: number;
  /** The job's state; `unknown` when the object has no record of the run or of its job. */
  state: DumpState | "unknown";
  /** The object's clock when it answered (epoch ms). */
  at: number;
}

/**
 * The RPC surface of a Durable Object that fleet backups can back up. `FleetExports.handle`
 * implements it: `fleetBackup(call) { return this.backups.handle(call); }`.
 */
export interface FleetBackupTarget {
  fleetBackup(call: FleetBackupCall): Promise<FleetExportResult>;
}

/** The Durable Object namespace of the objects to back up (any `DurableObjectNamespace` whose class implements {@link FleetBackupTarget}). */
export interface FleetNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): FleetBackupTarget;
}

/** One page of the objects to back up, and the cursor of the next page (null after the last). */
export interface FleetObjectPage {
  /** Object names (for the namespace's `idFromName`), 1-256 characters without control characters, at most 1,000 per page. */
  names: string[];
  cursor: string | null;
}

/** Step retries of a run's own I/O (R2, RPC to an object), as a Workflows step config. */
export interface FleetStepRetries {
  limit: number;
  delayMs: number;
  backoff?: "constant" | "linear" | "exponential";
}

/** Configuration of a {@link FleetBackupWorkflow}, returned by its `fleet()` method. */
export interface FleetBackupConfig {
  /** The Durable Objects to back up; each must implement {@link FleetBackupTarget}. */
  namespace: FleetNamespace;
  /** Where the run's manifest, pages and index go (the objects write their dumps to their own bucket). */
  bucket: R2Bucket;
  /** This workflow's own binding: the run creates its child instances and receives events through it. */
  workflow: Workflow;
  /**
   * The names of the objects to back up, page by page: called with null, then with each returned
   * cursor until it returns null. Each call runs in a step of its own (retried, its result kept).
   * A Worker cannot list a namespace's objects: read them from D1, KV or a list the app keeps.
   */
  objects(cursor: string | null): Promise<FleetObjectPage>;
  /** Prefix of everything the run writes in R2. Default `"durable-dump/fleet/"`. */
  prefix?: string;
  /** Exports running at once. Default 20; 1 to 100. */
  concurrency?: number;
  /** Objects one workflow instance backs up; a run with more fans out over child instances of this many. Default 1,000; 1 to 1,000. */
  objectsPerInstance?: number;
  /** Exports tried per object before it is reported failed. Default 2; 1 to 5. */
  attempts?: number;
  /** Runs kept in R2; what older runs wrote is deleted when a run ends. Default 7; 1 to 1,000. */
  keepRuns?: number;
  /** Options of every export. */
  export?: FleetExportOptions;
  /** Retries of each step's I/O. Default 5 retries, 10 s doubling. */
  stepRetries?: FleetStepRetries;
  /** How long to wait for an object's completion event before asking the object. Default 15 min; 1 s to 24 h. */
  waitTimeoutMs?: number;
  /** An export still running this long after it started is aborted and reported failed (`EXPORT_TIMEOUT`). Default 12 h. */
  objectTimeoutMs?: number;
  /** Progress is written to R2 at most this often per instance. Default 10 s; 0 writes it only at the end. */
  progressIntervalMs?: number;
  /** Steps one instance may take (the account's limit: 10,000 unless raised, up to 25,000). Default 10,000. */
  maxSteps?: number;
}

/** One object's line in a run manifest's pages. */
export interface FleetEntry extends FleetExportOutcome {
  object: string;
  state: "completed" | "failed";
  /** Exports tried. */
  attempts: number;
}

/** Counts over a run or a part of it. */
export interface FleetTotals {
  objects: number;
  completed: number;
  failed: number;
  bytes: number;
  rows: number;
}

/** A page of a run manifest: the entries of one instance's objects, in the order they were listed. */
export interface FleetPage extends FleetTotals {
  key: string;
}

/** The run manifest at `<prefix><runId>/manifest.json`. */
export interface FleetRunManifest extends FleetTotals {
  format: "durable-dump-fleet-run";
  version: 1;
  runId: string;
  /** Epoch milliseconds. */
  startedAt: number;
  finishedAt: number;
  /** Workflow instances that backed up objects: 1 (the run itself) or the number of children. */
  instances: number;
  pages: FleetPage[];
}

/** A run in the runs index (`<prefix>runs.json`). */
export interface FleetRunSummary {
  runId: string;
  /** `abandoned`: its instance ended without finishing (errored or terminated); `deleting`: being removed by retention. */
  state: "running" | "completed" | "abandoned" | "deleting";
  startedAt: number;
  finishedAt: number | null;
  manifestKey: string | null;
  totals: FleetTotals | null;
}

/** Progress of a run, summed over its instances' progress documents (updated every `progressIntervalMs`). */
export interface FleetProgress {
  /** Objects listed so far (the whole run once listing ended). */
  listed: number;
  /** Objects whose backup ended: completed or failed. */
  done: number;
  completed: number;
  failed: number;
  bytes: number;
  rows: number;
  /** Epoch ms of the newest document; null before the first. */
  updatedAt: number | null;
}

/** What a run's instance returns (its output in `instance.status()`). */
export type FleetRunOutput =
  | { runId: string; state: "completed"; manifestKey: string; totals: FleetTotals; deletedRuns: string[] }
  | { runId: string; state: "skipped"; heldBy: string };

/** Parameters of a run's instance: none are needed; `note` is kept for the user. Child instances get their own. */
export interface FleetRunParams {
  note?: string;
}
