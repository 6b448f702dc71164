import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { UPGRADE_OBJECTS, fixtureDir, outputDigests, startUpgradeRuntime, type UpgradeRuntime } from "./runtime.js";

/**
 * Jobs started by an earlier release (running mid-table, mid-gzip-segment and mid-part, queued,
 * completed) resume under this one from the storage that release persisted, and end with the
 * objects and manifests that release itself wrote when it finished them (`capture-fixture.ts`).
 */
describe.each(["0.1.0"])("jobs persisted by release %s", (release) => {
  let work: string;
  let rt: UpgradeRuntime;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "dd-upgrade-"));
    cpSync(fixtureDir(release), work, { recursive: true });
    rt = await startUpgradeRuntime(work);
  });
  afterAll(async () => {
    await rt?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const expected = JSON.parse(readFileSync(join(fixtureDir(release), "expected.json"), "utf8")) as Record<string, unknown>;

  test.each(UPGRADE_OBJECTS.map((o) => o.name))("%s: every job finishes with the bytes the old release wrote", async (name) => {
    const obj = rt.object(name);
    const before = await obj.list();
    expect(before.some((j) => j.state === "running" || j.state === "queued")).toBe(true);
    await obj.drain();
    expect(withoutAdditions(await outputDigests(await obj.list(), rt.readObject))).toEqual(expected[name]);
    const temporary = (await obj.keys()).filter((k) => k.startsWith("durable-dump:") && !/^durable-dump:(job|jobs|parts):/.test(k));
    expect(temporary).toEqual([]);
  });
});

/**
 * The digests with what manifests gained since the fixture's release taken out, once checked:
 * `options.gzipLevel` (level 6 for a job of 0.1.0 that compresses, null for one that does not).
 */
function withoutAdditions(digests: Awaited<ReturnType<typeof outputDigests>>) {
  return digests.map((d) => {
    if (!d.manifest) return d;
    const { gzipLevel, ...options } = d.manifest.options as { gzip: boolean; gzipLevel?: number | null };
    // Absent from the manifests of jobs that 0.1.0 itself completed.
    if (gzipLevel !== undefined) expect(gzipLevel, `${d.id}: manifest options.gzipLevel`).toBe(options.gzip ? 6 : null);
    return { ...d, manifest: { ...d.manifest, options } };
  });
}
