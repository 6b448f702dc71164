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

  test("the app's own routes need the token too", async () => {
    const res = await rt.fetch("/acme/events", { ...jsonBody("POST", { kind: "login" }), auth: false });
    expect(res.status).toBe(401);
    await res.arrayBuffer();
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
