import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT } from "../examples/demo/runtime.mjs";
import { FleetClient, buildFleetWorker, startFleetRuntime } from "../examples/fleet/demo/runtime.mjs";
import { jsonBody, startExample, waitForJob } from "./example/harness.js";

// The package as npm ships it: dist/, which `npm test` builds first. Every other suite bundles
// src/, so these tests are what catches a broken build, exports map or declaration file.
describe("the built package", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string | Record<string, string>>; files: string[] };

  test("every path in package.json's exports exists, inside the published files", () => {
    const paths = Object.values(pkg.exports).flatMap((target) => (typeof target === "string" ? [target] : Object.values(target)));
    expect(paths.length).toBeGreaterThan(2);
    for (const path of paths) {
      expect(existsSync(join(ROOT, path)), `${path} (run npm run build first)`).toBe(true);
      expect(path === "./package.json" || pkg.files.some((dir) => path.startsWith(`./${dir}/`)), path).toBe(true);
    }
  });

  test("durable-dump/fleet is a subpath of its own; only it imports cloudflare:*", () => {
    expect(pkg.exports["./fleet"]).toEqual({ types: "./dist/fleet.d.ts", import: "./dist/fleet.js" });
    const imports = (file: string) => [...readFileSync(join(ROOT, "dist", file), "utf8").matchAll(/from\s*"([^"]+)"/g)].map((m) => m[1]);
    expect(imports("fleet.js")).toContain("cloudflare:workers");
    const core = [
      "index.js",
      ...imports("index.js")
        .filter((i) => i?.startsWith("./"))
        .map((i) => i!.slice(2)),
    ];
    for (const file of core)
      expect(
        imports(file).filter((i) => i?.startsWith("cloudflare:")),
        file,
      ).toEqual([]);
  });

  test("the example Workers type-check against the declarations, resolved through the exports map", () => {
    // test/package/tsconfig.json drops the examples' path mapping to src/, so "durable-dump" and
    // "durable-dump/fleet" resolve as a consumer's would: package.json "exports" → "types".
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "test", "package", "tsconfig.json"), "--traceResolution"], { encoding: "utf8" });
    const resolved = (name: string) => new RegExp(`Module name '${name}' was successfully resolved to '([^']+)'`).exec(run.stdout)?.[1];
    expect(resolved("durable-dump")).toBe(join(ROOT, "dist", "index.d.ts"));
    expect(resolved("durable-dump/fleet")).toBe(join(ROOT, "dist", "fleet.d.ts"));
    expect(run.stdout.split("\n").filter((line) => /error TS/.test(line))).toEqual([]);
    expect(run.status).toBe(0);
  });

  test("the example Worker built against dist/ exports through real alarms", async () => {
    const rt = await startExample("example", { DUMP_TICK_BUDGET_MS: "100" }, "dist");
    try {
      const bundle = readFileSync(join(ROOT, "test", ".tmp", "example-example-dist.js"), "utf8");
      expect(bundle).toContain("// dist/index.js");
      expect(bundle).not.toContain("// src/engine.ts");
      await rt.json("/acme/events", { ...jsonBody("POST", { kind: "from-dist" }), expected: 201 });
      const job = await rt.json("/acme/dumps", { ...jsonBody("POST", {}), expected: 202 });
      const done = await waitForJob(rt, "acme", job.id);
      expect(done.state).toBe("completed");
      const text = await (await rt.fetch(`/acme/dumps/${job.id}/download`)).text();
      expect(text).toContain("from-dist");
    } finally {
      await rt.dispose();
    }
  });

  test("the fleet example built against dist/ backs up its tenants", async () => {
    const scriptPath = await buildFleetWorker(join(ROOT, "test", ".tmp", "fleet-demo-dist.js"), { library: "dist" });
    const bundle = readFileSync(scriptPath, "utf8");
    expect(bundle).toContain("// dist/fleet.js");
    expect(bundle).not.toContain("// src/fleet/");
    const mf = await startFleetRuntime({ scriptPath, bindings: { FLEET_PROGRESS_INTERVAL_MS: "0" } });
    try {
      const client = new FleetClient(mf);
      for (const [i, name] of ["one", "two", "three"].entries()) await client.seed(name, 10 * (i + 1), i);
      await client.cron(Date.UTC(2026, 4, 1, 3));
      const { manifest } = await client.waitForRun("nightly-20260501T030000Z", { timeoutMs: 120_000 });
      expect(manifest).toMatchObject({ objects: 3, completed: 3, failed: 0, instances: 1 });
    } finally {
      await mf.dispose();
    }
  });
});
