/**
 * The library's HTTP routes inside the reliability host: `createDumpHandler` over the host's
 * engine, mounted at `/http`, with the `authorize` hook and body limit a test configures; and a
 * probe that sends the handler a streamed body built inside workerd, counting the bytes it pulls.
 */
import { type DumpEngine, bearerAuth, createDumpHandler } from "../../../src/index.js";

/** How the routes are set up. */
export interface HttpConfig {
  /** `{ bearer }`: `bearerAuth(bearer)`; `{ returns }`: a hook returning that value as is; `"response"`: a hook returning a Response. */
  authorize?: { bearer: string } | { returns: unknown } | "response";
  /** Passed through `Number()`, so that JSON can carry `"NaN"` and `"Infinity"`. */
  maxBodyBytes?: number | string;
}

/** The routes, mounted at `/http`. */
export function dumpRoutes(engine: DumpEngine, bucket: R2Bucket, config: HttpConfig = {}): (request: Request) => Promise<Response> {
  const auth = config.authorize ?? { returns: true };
  const authorize =
    auth === "response" ? () => new Response("ok") as unknown as boolean : "bearer" in auth ? bearerAuth(auth.bearer) : () => auth.returns as boolean;
  return createDumpHandler({
    engine,
    bucket,
    authorize,
    basePath: "/http",
    ...(config.maxBodyBytes === undefined ? {} : { maxBodyBytes: Number(config.maxBodyBytes) }),
  });
}

/** A body streamed without `Content-Length`: `prefix`, `count` times `unit`, `suffix`, in chunks of about `chunkBytes`. */
export interface BodyProbe {
  prefix: string;
  unit: string;
  count: number;
  suffix: string;
  chunkBytes: number;
}

/** POSTs the probe's body to `POST /http/dumps` and reports the answer and how many bytes the handler pulled. */
export async function probeBody(
  handler: (request: Request) => Promise<Response>,
  probe: BodyProbe,
): Promise<{ status: number; code: string | null; pulled: number; total: number }> {
  const encoder = new TextEncoder();
  const unit = encoder.encode(probe.unit);
  const perChunk = Math.max(1, Math.floor(probe.chunkBytes / unit.length));
  const chunk = encoder.encode(probe.unit.repeat(perChunk));
  const suffix = encoder.encode(probe.suffix);
  let sent = 0;
  let pulled = 0;
  const total = encoder.encode(probe.prefix).length + unit.length * probe.count + suffix.length;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const prefix = encoder.encode(probe.prefix);
      pulled += prefix.length;
      controller.enqueue(prefix);
    },
    pull(controller) {
      if (sent >= probe.count) {
        pulled += suffix.length;
        controller.enqueue(suffix);
        controller.close();
        return;
      }
      const n = Math.min(perChunk, probe.count - sent);
      const piece = n === perChunk ? chunk : chunk.subarray(0, n * unit.length);
      sent += n;
      pulled += piece.length;
      controller.enqueue(piece);
    },
  });
  const request = new Request("http://host/http/dumps", { method: "POST", body, headers: { "content-type": "application/json" } });
  const response = await handler(request);
  const answer = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: answer.error?.code ?? null, pulled, total };
}
