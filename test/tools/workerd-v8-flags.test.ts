import { Miniflare } from "miniflare";
import { afterEach, expect, test } from "vitest";

// Every workerd of the test run starts through tools/workerd/with-v8-flags.sh (test/global-setup.ts),
// which writes DD_WORKERD_V8_FLAGS into the config Miniflare hands it. `--expose-gc` shows whether
// the flags reach V8: without it, a Worker sees no global `gc`.
const flags = process.env.DD_WORKERD_V8_FLAGS;
let mf: Miniflare | null = null;

afterEach(async () => {
  await mf?.dispose();
  mf = null;
  if (flags === undefined) delete process.env.DD_WORKERD_V8_FLAGS;
  else process.env.DD_WORKERD_V8_FLAGS = flags;
});

async function typeofGc(): Promise<string> {
  mf = new Miniflare({ modules: true, compatibilityDate: "2025-04-01", script: "export default { fetch: () => new Response(typeof gc) };" });
  return (await mf.dispatchFetch("http://host/")).text();
}

test.runIf(process.platform === "linux")("the run's workerd gets the single-threaded collector", () => {
  expect(process.env.MINIFLARE_WORKERD_PATH).toMatch(/tools\/workerd\/with-v8-flags\.sh$/);
  expect(flags).toBe("--single-threaded-gc");
});

test.runIf(process.platform === "linux")("the flags reach V8, every one of them", async () => {
  process.env.DD_WORKERD_V8_FLAGS = "--single-threaded-gc --expose-gc";
  expect(await typeofGc()).toBe("function");
});

test("without flags, the config goes through unchanged", async () => {
  process.env.DD_WORKERD_V8_FLAGS = "";
  expect(await typeofGc()).toBe("undefined");
});
