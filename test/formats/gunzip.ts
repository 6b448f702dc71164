import { Miniflare } from "miniflare";
import { gunzipSync, inflateRawSync } from "node:zlib";
import { expect } from "vitest";

/** A workerd instance whose only route gunzips the request body with workerd's own DecompressionStream. */
export async function workerdGunzip(): Promise<{ gunzip(bytes: Uint8Array): Promise<Uint8Array>; dispose(): Promise<void> }> {
  const mf = new Miniflare({
    modules: true,
    compatibilityDate: "2025-04-01",
    script: `export default { async fetch(request) {
      try {
        const body = request.body.pipeThrough(new DecompressionStream("gzip"));
        return new Response(await new Response(body).arrayBuffer());
      } catch (e) { return new Response(String(e), { status: 500 }); }
    } };`,
  });
  await mf.ready;
  return {
    async gunzip(bytes) {
      const res = await mf.dispatchFetch("http://gunzip/", { method: "POST", body: bytes });
      const out = new Uint8Array(await res.arrayBuffer());
      if (!res.ok) throw new Error(`workerd DecompressionStream: ${Buffer.from(out).toString()}`);
      return out;
    },
    dispose: () => mf.dispose(),
  };
}

/**
 * Decompresses a gzip object with three independent decoders (Node's zlib, Node's
 * DecompressionStream, workerd's DecompressionStream), checks they agree and that the object is
 * exactly ONE member (the raw deflate stream ends 8 bytes before the end of the object).
 */
export async function gunzipEverywhere(bytes: Uint8Array, workerd: { gunzip(b: Uint8Array): Promise<Uint8Array> }): Promise<Buffer> {
  const zlib = gunzipSync(bytes);
  expect([...bytes.subarray(0, 3)], "gzip magic and deflate").toEqual([0x1f, 0x8b, 0x08]);
  const raw = inflateRawSync(bytes.subarray(10), { info: true }) as unknown as { engine: { bytesWritten: number } };
  expect(raw.engine.bytesWritten, "one member: deflate data ends where the trailer starts").toBe(bytes.length - 18);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const node = Buffer.from(await new Response(stream).arrayBuffer());
  expect(node.equals(zlib), "Node DecompressionStream = zlib").toBe(true);
  const inWorkerd = Buffer.from(await workerd.gunzip(bytes));
  expect(inWorkerd.equals(zlib), "workerd DecompressionStream = zlib").toBe(true);
  return zlib;
}
