import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jsonBody, seed, startExample, waitForJob, type ExampleRuntime } from "./example/harness.js";

// examples/worker as users deploy it: routing to per-tenant objects, auth, isolation, and the
// alarm shared between the export engine and the host's own periodic cleanup.
describe("example Worker", () => {
  let rt: ExampleRuntime;

  beforeAll(async () => {
    rt = await startExample("example", { DUMP_TICK_BUDGET_MS: "100" });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  test("paths outside /<tenant>/... and unknown routes are 404; the demo's routes do not exist here", async () => {
    for (const path of ["/", "/Upper/dumps", "/-x/dumps", "/a_b/dumps", `/${"a".repeat(64)}/dumps`, "/acme/_demo/seed", "/acme/other"]) {
      const res = await rt.fetch(path, { method: path.includes("seed") ? "POST" : "GET" });
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("NOT_FOUND");
    }
  });

  test("the app's own routes need the tenant's token too", async () => {
    for (const auth of [false, rt.tokenFor("other"), rt.tokenFor("acme").toUpperCase()]) {
      const res = await rt.fetch("/acme/events", { ...jsonBody("POST", { kind: "login" }), auth });
      expect(res.status).toBe(401);
      await res.arrayBuffer();
    }
    const bad = await rt.fetch("/acme/events", { method: "POST", body: "nope", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    await bad.arrayBuffer();
    expect((await rt.json("/acme/events", { ...jsonBody("POST", { kind: "login" }), expected: 201 })).id).toBe(1);
  });

  test("tenants are isolated: no route of one tenant reaches another's jobs or objects", async () => {
    for (let i = 0; i < 50; i++) {
      await rt.json("/alpha/events", { ...jsonBody("POST", { kind: "alpha-secret", payload: { i } }), expected: 201 });
    }
    await rt.json("/beta/events", { ...jsonBody("POST", { kind: "beta-only" }), expected: 201 });
    const a = await rt.json("/alpha/dumps", { ...jsonBody("POST", {}), expected: 202 });
    const b = await rt.json("/beta/dumps", { ...jsonBody("POST", {}), expected: 202 });
    const aDone = await waitForJob(rt, "alpha", a.id);
    const bDone = await waitForJob(rt, "beta", b.id);
    expect([aDone.state, bDone.state]).toEqual(["completed", "completed"]);

    for (const [method, path] of [
      ["GET", `/beta/dumps/${a.id}`],
      ["GET", `/beta/dumps/${a.id}/download`],
      ["DELETE", `/beta/dumps/${a.id}`],
      ["GET", `/alpha/dumps/${b.id}/download`],
    ]) {
      const res = await rt.fetch(path!, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(((await res.json()) as any).error.code).toBe("JOB_NOT_FOUND");
    }
    expect((await rt.json("/beta/dumps")).dumps.map((d: any) => d.id)).toEqual([b.id]);
    expect((await rt.json("/gamma/dumps")).dumps).toEqual([]);

    // Each object writes under its own R2 prefix, and each dump holds only its tenant's rows.
    const prefix = (k: string) => k.split("/").slice(0, 2).join("/");
    expect(prefix(aDone.outputs[0].key)).not.toBe(prefix(bDone.outputs[0].key));
    const aText = await (await rt.fetch(`/alpha/dumps/${a.id}/download`)).text();
    const bText = await (await rt.fetch(`/beta/dumps/${b.id}/download`)).text();
    expect(aText.match(/alpha-secret/g)).toHaveLength(50);
    expect(aText).not.toContain("beta-only");
    expect(bText).toContain("beta-only");
    expect(bText).not.toContain("alpha-secret");
  });
});

describe("example Worker: nothing is created for strangers", () => {
  let rt: ExampleRuntime;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dd-example-"));
    rt = await startExample("example", { DUMP_TICK_BUDGET_MS: "100", CLEANUP_INTERVAL_MS: "100", EVENT_RETENTION_MS: "1000" }, "src", dir);
  });
  afterAll(async () => {
    await rt?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** SQLite files of Durable Objects that came into being (metadata.sqlite is Miniflare's own). */
  function objectFiles(): string[] {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(d, entry.name));
        else if (entry.name.endsWith(".sqlite") && entry.name !== "metadata.sqlite") files.push(entry.name);
      }
    };
    walk(join(dir, "do"));
    return files;
  }

  test("requests without the tenant's own token are refused by the Worker, before any object exists", async () => {
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) {
      const tenant = `stranger-${i}-${Math.random().toString(36).slice(2, 8)}`;
      for (const auth of [false, "guess", rt.tokenFor("someone-else")]) {
        for (const [method, path] of [
          ["GET", `/${tenant}/dumps`],
          ["POST", `/${tenant}/dumps`],
          ["POST", `/${tenant}/events`],
          ["GET", `/${tenant}/anything`],
          ["DELETE", `/${tenant}`],
        ] as const) {
          const res = await rt.fetch(path, { method, auth, ...(method === "POST" ? jsonBody(method, {}) : {}) });
          answers.push(`${method} ${path}: ${res.status} ${((await res.json()) as any).error?.code}`);
        }
      }
    }
    expect(objectFiles(), "no Durable Object was created").toEqual([]);
    expect(answers.filter((a) => !a.endsWith(": 401 UNAUTHORIZED"))).toEqual([]);
  });

  test("a tenant's object stores nothing and arms no alarm until the tenant writes; the cleanup stops when no event is left", async () => {
    expect(await rt.json("/fresh/dumps")).toEqual({ dumps: [], next: null });
    const idle = await rt.json("/fresh/events");
    expect(idle).toMatchObject({ events: 0, alarm: null, wakes: [] });

    await rt.json("/fresh/events", { ...jsonBody("POST", { kind: "old", at: Date.now() - 60_000 }), expected: 201 });
    const written = await rt.json("/fresh/events");
    expect(written.events).toBe(1);
    expect(written.wakes.map((w: { name: string }) => w.name)).toEqual(["cleanup"]);
    expect(written.alarm).not.toBeNull();

    // The event is past the 1 s retention: the cleanup deletes it, and with nothing left it is not scheduled again.
    let state = written;
    for (const deadline = Date.now() + 10_000; (state.events !== 0 || state.alarm !== null) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      state = await rt.json("/fresh/events");
    }
    expect(state).toMatchObject({ events: 0, alarm: null, wakes: [] });
    expect(state.cleanup.deleted).toBe(1);
  });
});

describe("example Worker: one alarm for the export and the host's cleanup", () => {
  let rt: ExampleRuntime;

  beforeAll(async () => {
    rt = await startExample("demo", { DUMP_TICK_BUDGET_MS: "100", CLEANUP_INTERVAL_MS: "200", EVENT_RETENTION_MS: String(24 * 3600_000) });
  });
  afterAll(async () => {
    await rt?.dispose();
  });

  test("the cleanup keeps running during a long export, and the export completes", async () => {
    // 100,000 events spread over a week: most are past the 1-day retention, so every cleanup
    // run has work (5,000 rows, then again 200 ms later) while the export runs in 100 ms ticks.
    await seed(rt, "shop", ["customers", "products", "events"]);
    const before = (await rt.json("/shop/events")).cleanup;
    const started = await rt.json("/shop/dumps", { ...jsonBody("POST", {}), expected: 202 });
    const done = await waitForJob(rt, "shop", started.id, 120_000);
    expect(done.state, JSON.stringify(done.error)).toBe("completed");
    const during = (await rt.json("/shop/events")).cleanup;
    const elapsed = done.finishedAt - done.startedAt;
    // Several 100 ms ticks (4–5 since the row render got faster; it used to take more than 500 ms).
    expect(elapsed, "the export should span several ticks").toBeGreaterThan(300);
    expect(during.runs - before.runs, `cleanup runs during a ${elapsed} ms export`).toBeGreaterThanOrEqual(1);
    expect(during.deleted).toBeGreaterThan(before.deleted);

    // After the export, the engine's wake-up is gone; the host's own is still armed and keeps firing.
    const after = await rt.json("/shop/events");
    expect(after.alarm).not.toBeNull();
    expect(after.wakes.map((w: { name: string }) => w.name)).toEqual(["cleanup"]);
    let later = await rt.json("/shop/events");
    for (const deadline = Date.now() + 10_000; later.cleanup.runs <= during.runs && Date.now() < deadline; ) later = await rt.json("/shop/events");
    expect(later.cleanup.runs).toBeGreaterThan(during.runs);
    expect(later.alarm).not.toBeNull();
  });

  test("an idle object's alarm serves the cleanup alone, without engine work", async () => {
    await rt.json("/quiet/events", { ...jsonBody("POST", { kind: "old", at: Date.now() - 2 * 24 * 3600_000 }), expected: 201 });
    await rt.json("/quiet/events", { ...jsonBody("POST", { kind: "new" }), expected: 201 });
    const deadline = Date.now() + 10_000;
    let state = await rt.json("/quiet/events");
    while (state.events !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      state = await rt.json("/quiet/events");
    }
    expect(state.events).toBe(1);
    expect(state.cleanup.deleted).toBe(1);
    expect(state.alarm).not.toBeNull();
    expect(
      state.wakes.map((w: { name: string }) => w.name),
      "only the host's wake-up: the engine has none",
    ).toEqual(["cleanup"]);
  });
});
