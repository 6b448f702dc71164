import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ExampleRuntime, jsonBody, seed, startExample, waitForJob } from "../example/harness.js";

/** The restore routes of createDumpHandler, served by the example Worker in workerd, real alarms driving both engines. */
describe("createDumpHandler: restore routes", () => {
  let rt: ExampleRuntime;
  let key: string;

  beforeAll(async () => {
    rt = await startExample("demo", { DUMP_TICK_BUDGET_MS: "200" });
    await seed(rt, "source", ["customers", "products"]);
    // kv: the tenant's settings (key-value entries the demo's seeding puts) go with the tables.
    const started = await rt.json("/source/dumps", { ...jsonBody("POST", { kv: true }), expected: 202 });
    const done = await waitForJob(rt, "source", started.id);
    expect(done.state).toBe("completed");
    key = done.outputs[0].key;
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  /** A restore request that also proves the right to read the source tenant's dumps (examples/worker, "Auth model"). */
  function fromSource(body: unknown, tenant = "source"): RequestInit {
    const init = jsonBody("POST", body);
    return {
      ...init,
      headers: { ...(init.headers as Record<string, string>), "durable-dump-source": tenant, "durable-dump-source-token": rt.tokenFor(tenant) },
    };
  }

  async function waitForRestore(tenant: string, id: string): Promise<any> {
    for (;;) {
      const status = await rt.json(`/${tenant}/restores/${id}`);
      if (status.state !== "queued" && status.state !== "running") return status;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test("POST forks a tenant into another object: 202 with Location, then the same tables, row for row, and the same settings", async () => {
    // Another tenant's dump: only for a caller who holds that tenant's token too.
    const forbidden = await rt.fetch("/fork/restores", jsonBody("POST", { key, replace: true }));
    expect([forbidden.status, ((await forbidden.json()) as any).error.code]).toEqual([403, "FORBIDDEN"]);
    const wrongToken = await rt.fetch("/fork/restores", {
      ...fromSource({ key }),
      headers: { ...fromSource({ key }).headers, "durable-dump-source-token": rt.tokenFor("fork") },
    });
    expect(wrongToken.status).toBe(403);
    // Once the fork holds tables of its own, the restore refuses them unless told to replace them.
    await rt.json("/fork/events", { ...jsonBody("POST", { kind: "signup" }), expected: 201 });
    const refused = await rt.fetch("/fork/restores", fromSource({ key }));
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as any).error.code).toBe("TARGET_NOT_EMPTY");
    const res = await rt.fetch("/fork/restores", fromSource({ key, replace: true }));
    expect(res.status).toBe(202);
    const started = (await res.json()) as any;
    expect(res.headers.get("location")).toBe(`/fork/restores/${started.id}`);
    const done = await waitForRestore("fork", started.id);
    expect(done.state, JSON.stringify(done.error)).toBe("completed");
    expect(done.progress.bytesRead).toBe(done.progress.bytesTotal);
    const [source, fork] = [await rt.json("/source/_demo/checksum"), await rt.json("/fork/_demo/checksum")];
    expect(fork).toEqual(source);
    expect(source.tables.find((t: any) => t.name === "customers").rows).toBeGreaterThan(0);
    expect(source.settings.entries).toBeGreaterThan(0);
    expect((await rt.json("/fork/restores")).restores.map((r: any) => r.id)).toEqual([started.id]);
  });

  test("errors: the same shapes as the dump routes", async () => {
    const cases: [string, RequestInit & { auth?: boolean }, number, string][] = [
      ["/other/restores", { ...jsonBody("POST", { key }), auth: false }, 401, "UNAUTHORIZED"],
      ["/other/restores", jsonBody("POST", {}), 400, "INVALID_OPTIONS"],
      ["/other/restores", { method: "POST", body: "{", headers: { "content-type": "application/json" } }, 400, "INVALID_JSON"],
      ["/other/restores", jsonBody("POST", { key: "no/such.sql" }), 403, "FORBIDDEN"],
      ["/other/restores", fromSource({ key: key.replace(/[^/]+$/, "no-such.sql") }), 404, "SOURCE_NOT_FOUND"],
      ["/other/restores", { method: "PUT" }, 405, "METHOD_NOT_ALLOWED"],
      ["/other/restores/20260101T000000000Z-aaaaaaaa", {}, 404, "JOB_NOT_FOUND"],
      ["/other/restores/20260101T000000000Z-aaaaaaaa", { method: "DELETE" }, 404, "JOB_NOT_FOUND"],
      ["/other/restores/x/y", {}, 404, "NOT_FOUND"],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await rt.fetch(path, init);
      expect([res.status, ((await res.json()) as any).error.code], `${init.method ?? "GET"} ${path}`).toEqual([status, code]);
    }
    expect((await rt.json("/other/restores")).restores).toEqual([]);
  });

  test("DELETE aborts a restore; aborting again changes nothing", async () => {
    const started = await rt.json("/aborted/restores", { ...fromSource({ key, replace: true }), expected: 202 });
    const aborted = await rt.json(`/aborted/restores/${started.id}`, { method: "DELETE" });
    expect(aborted.state).toBe("aborted");
    expect((await rt.json(`/aborted/restores/${started.id}`, { method: "DELETE" })).state).toBe("aborted");
  });
});
