import { describe, expect, test } from "vitest";
import { RESTORE_RECORD_VERSION, parseRestoreRecord } from "../../src/persisted/restore-record.js";
import { ShapeError } from "../../src/persisted/shape.js";

/** A version 1 restore record, as the release before key-value restores wrote it: a gzip dump half applied. */
function recordV1() {
  return {
    v: 1,
    id: "20261126T093015042Z-9c2k4m7q",
    state: "running",
    options: { tables: null, exclude: [], schema: true, data: true, replace: false },
    sources: [
      {
        kind: "sql",
        key: "durable-dump/20261125T201648123Z-4k7q2m9x.sql.gz",
        etag: "1cfd2498ec3db1fe3361f445e2f700b2-2",
        size: 7_340_032,
        encoding: "segments",
        manifestKey: "durable-dump/20261125T201648123Z-4k7q2m9x.manifest.json",
        partPages: [2],
        segmentBytes: 262_144,
      },
    ],
    cursor: { phase: "statements", source: 0, offset: 18_874_911, consumed: 5_242_880, transaction: true, announced: null, checked: null },
    stats: { statements: 41_203, skipped: 2, rows: 41_180, tablesCreated: 6, currentTable: "orders" },
    rebuild: [],
    triggers: [],
    foreignKeyViolations: null,
    failure: null,
    createdAt: 1_795_728_615_042,
    startedAt: 1_795_728_615_060,
    updatedAt: 1_795_728_619_060,
    finishedAt: null,
    error: null,
    attempts: 0,
    retryAt: null,
    seq: 212,
    cleanup: false,
    callbackUrl: null,
    notify: null,
  };
}

describe("restore records", () => {
  test("version 1 reads as version 2: the SQL dump alone, no key-value entries, the rest as it was", () => {
    const old = recordV1();
    const { record, pages } = parseRestoreRecord(structuredClone(old), "r");
    expect(pages).toEqual({});
    expect(record.v).toBe(RESTORE_RECORD_VERSION);
    expect(record.options).toEqual({ ...old.options, key: old.sources[0]!.key, kv: false });
    expect(record.sources).toEqual([{ ...old.sources[0], entries: null }]);
    expect(record.cursor).toEqual({ ...old.cursor, kv: null });
    expect(record.stats).toEqual({ ...old.stats, kvEntries: 0 });
    const { options: _o, sources: _s, cursor: _c, stats: _t, v: _v, ...rest } = record;
    const { options: _p, sources: _r, cursor: _d, stats: _u, v: _w, ...restOld } = old;
    expect(rest).toEqual(restOld);
  });

  test("a version 2 record reads as it is; damaged ones and other versions are refused", () => {
    const { record } = parseRestoreRecord(structuredClone(recordV1()), "r");
    expect(parseRestoreRecord(structuredClone(record), "r").record).toEqual(record);
    expect(() => parseRestoreRecord({ ...record, v: 3 }, "r")).toThrow(ShapeError);
    expect(() => parseRestoreRecord({ ...recordV1(), cursor: { phase: "entries" } }, "r")).toThrow(ShapeError);
    expect(() => parseRestoreRecord({ ...record, sources: [{ ...record.sources[0], kind: "csv" }] }, "r")).toThrow(ShapeError);
  });
});
