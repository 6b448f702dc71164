import type { Miniflare } from "miniflare";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { ENTRIES, ROOT, buildWorker, startRuntime } from "../../examples/demo/runtime.mjs";
import { SEED_PLAN } from "../../examples/demo/seed-plan.js";

/** The example Worker running in Miniflare, with a client that adds the tenant's bearer token. */
export interface ExampleRuntime {
  mf: Miniflare;
  /** The token of `tenant`, as the example derives it from its TENANT_TOKEN_KEY (examples/worker/src/auth.ts). */
  tokenFor(tenant: string): string;
  /**
   * Fetches `path` (e.g. `/acme/dumps`) with `Authorization: Bearer <token>`: the token of the
   * path's tenant, unless `auth` is false (none) or a string (that token).
   */
  fetch(path: string, init?: RequestInit & { auth?: boolean | string }): Promise<Response>;
  /** Fetches and parses JSON, failing on any status other than `expected`. */
  json<T = any>(path: string, init?: RequestInit & { auth?: boolean | string; expected?: number }): Promise<T>;
  dispose(): Promise<void>;
}

/**
 * Builds and starts the example Worker: `variant: "example"` is exactly what users deploy,
 * `"demo"` adds the demo's seeding and checksum routes (`/_demo/seed`, `/_demo/checksum`).
 * `library: "dist"` builds it against the package as npm ships it (`npm run build` first). With
 * `persistDir`, objects and R2 live on disk there.
 */
export async function startExample(
  variant: "example" | "demo",
  bindings: Record<string, string> = {},
  library: "src" | "dist" = "src",
  persistDir?: string,
): Promise<ExampleRuntime> {
  const script = await buildWorker(ENTRIES[variant], join(ROOT, "test", ".tmp", `example-${variant}-${library}.js`), library);
  const key = "test-key-" + Math.random().toString(36).slice(2);
  const tokenFor = (tenant: string) => createHmac("sha256", key).update(tenant).digest("hex");
  const mf = (await startRuntime({
    scriptPath: script,
    className: variant === "demo" ? "DemoTenant" : "Tenant",
    bindings: { TENANT_TOKEN_KEY: key, ...bindings },
    ...(persistDir ? { persistDir } : {}),
  })) as Miniflare;
  const doFetch = (path: string, init: RequestInit & { auth?: boolean | string } = {}) => {
    const { auth = true, ...rest } = init;
    const headers = new Headers(rest.headers as HeadersInit | undefined);
    if (auth !== false) headers.set("authorization", `Bearer ${auth === true ? tokenFor(path.split("/")[1] ?? "") : auth}`);
    return mf.dispatchFetch(`http://example.test${path}`, { ...rest, headers } as never) as unknown as Promise<Response>;
  };
  return {
    mf,
    tokenFor,
    fetch: doFetch,
    async json(path, init = {}) {
      const { expected = 200, ...rest } = init;
      const res = await doFetch(path, rest);
      const text = await res.text();
      if (res.status !== expected) throw new Error(`${rest.method ?? "GET"} ${path}: expected ${expected}, got ${res.status}: ${text.slice(0, 500)}`);
      return JSON.parse(text);
    },
    dispose: () => mf.dispose(),
  };
}

/** JSON request init. */
export function jsonBody(method: string, body: unknown): RequestInit {
  return { method, body: JSON.stringify(body), headers: { "content-type": "application/json" } };
}

/** Polls a job until it leaves queued/running. */
export async function waitForJob(rt: ExampleRuntime, tenant: string, id: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await rt.json(`/${tenant}/dumps/${id}`);
    if (status.state !== "queued" && status.state !== "running") return status;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${status.state}: ${JSON.stringify(status.progress)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the schema step and the demo's seeding steps of `tables` (mind foreign keys: parents first). */
export async function seed(rt: ExampleRuntime, tenant: string, tables: string[]): Promise<void> {
  for (const [step, slice] of SEED_PLAN.entries()) {
    if (step !== 0 && !tables.includes(slice.table)) continue;
    await rt.json(`/${tenant}/_demo/seed`, jsonBody("POST", { step }));
  }
}
