/**
 * durable-dump/fleet: nightly backups of every Durable Object of a namespace, on Cloudflare
 * Workflows. Everything public of the subpath is exported from here, and only from here.
 *
 * - In the Worker: extend {@link FleetBackupWorkflow} and export it; start runs with
 *   {@link startFleetBackup} from a cron trigger.
 * - In each backed-up Durable Object: compose {@link FleetExports} and expose its `handle` as the
 *   `fleetBackup` RPC method ({@link FleetBackupTarget}).
 * - To restore: {@link restoreFromFleetRun} (or {@link findFleetBackup}) in the object that
 *   receives the data.
 */
export { FleetBackupWorkflow } from "./workflow.js";
export { FleetExports, type FleetEventTarget, type FleetExportsOptions } from "./host.js";
export { startFleetBackup, type StartFleetBackupOptions, type StartFleetBackupResult } from "./start.js";
export { findFleetBackup, restoreFromFleetRun, type FleetRestoreEngine } from "./restore.js";
export { fleetEntries, findFleetEntry, listFleetRuns, readFleetManifest, readFleetPage, readFleetProgress, type FleetRunLocation } from "./manifest.js";
export { DEFAULT_FLEET_PREFIX, exportFolder } from "./names.js";
export { FLEET_LIMITS } from "./config.js";
export type {
  FleetBackupCall,
  FleetBackupConfig,
  FleetBackupTarget,
  FleetEntry,
  FleetExportOptions,
  FleetExportResult,
  FleetNamespace,
  FleetNotify,
  FleetObjectPage,
  FleetPage,
  FleetProgress,
  FleetRunManifest,
  FleetRunOutput,
  FleetRunParams,
  FleetRunSummary,
  FleetStepRetries,
  FleetTotals,
} from "./types.js";
