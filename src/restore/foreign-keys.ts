/**
 * Foreign keys during a restore. A Durable Object enforces them by default, and a dump may hold
 * a child table's rows before its parent's (this library's dumps follow `sqlite_master` order;
 * D1's defer the check instead). Deferring does not help across commits, so each commit that
 * needs it runs with enforcement off, and enforcement is back on before any other event of the
 * object runs:
 *
 * `PRAGMA foreign_keys` is a no-op inside a transaction, and the runtime keeps an implicit
 * transaction open until the current turn's writes are committed. `storage.sync()` commits them,
 * and no other event of the object runs while it is awaited; so: sync if a transaction is open,
 * turn enforcement off, commit the batch, sync, turn it back on.
 */
import { internalError } from "../errors.js";
import type { TransactionalStorage } from "../persisted/storage.js";

export class ForeignKeyGuard {
  readonly #sql: SqlStorage;
  readonly #storage: TransactionalStorage;

  constructor(sql: SqlStorage, storage: TransactionalStorage) {
    this.#sql = sql;
    this.#storage = storage;
  }

  /** Whether foreign keys are enforced now. */
  enforced(): boolean {
    return this.#sql.exec<{ foreign_keys: number }>("PRAGMA foreign_keys").one().foreign_keys === 1;
  }

  /**
   * Runs `commit` (synchronous) with foreign-key enforcement off when `needed` and it is on,
   * restoring it after, whether `commit` returns or throws.
   */
  async around<T>(needed: boolean, commit: () => T): Promise<T> {
    if (!needed || !this.enforced()) return commit();
    await this.#set(false);
    try {
      return commit();
    } finally {
      await this.#set(true);
    }
  }

  /** Sets enforcement, committing the open implicit transaction first when the pragma does not take. */
  async #set(on: boolean): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#sql.exec(`PRAGMA foreign_keys=${on ? "ON" : "OFF"}`);
      if (this.enforced() === on) return;
      await this.#storage.sync();
    }
    throw internalError(`PRAGMA foreign_keys=${on ? "ON" : "OFF"} did not take effect`);
  }
}
