import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ROOT } from "../examples/demo/runtime.mjs";
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

  test("the example Worker type-checks against the declarations, resolved through the exports map", () => {
    // test/package/tsconfig.json drops the examples' path mapping to src/, so "durable-dump"
    // resolves as a consumer's would: package.json "exports" → "types".
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "test", "package", "tsconfig.json"), "--traceResolution"], { encoding: "utf8" });
    const resolved = /Module name 'durable-dump' was successfully resolved to '([^']+)'/.exec(run.stdout)?.[1];
    expect(resolved).toBe(join(ROOT, "dist", "index.d.ts"));
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
});
