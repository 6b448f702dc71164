/** Reading a request's JSON body within a byte limit, whatever the client says about its size. */
import { concatBytes } from "../util/bytes.js";

/** Bounds of `maxBodyBytes`: 0 (no body at all) to 1 MiB; 64 KiB by default. */
export const BODY_LIMIT = { default: 65_536, min: 0, max: 1_048_576 } as const;

/** A body as read: its parsed JSON (`{}` when empty), or why it was refused. */
export type BodyResult = { ok: true; value: unknown } | { ok: false; reason: "too-large" | "invalid"; message: string };

/**
 * Reads the body of `request` as JSON, counting bytes as they arrive: a body over `limit` bytes
 * is refused as soon as it passes the limit (by its `Content-Length`, or while streaming when it
 * has none) and the rest is never read. The bytes must be UTF-8.
 */
export async function readJsonBody(request: Request, limit: number): Promise<BodyResult> {
  const tooLarge = { ok: false, reason: "too-large", message: `The body may hold at most ${limit} bytes.` } as const;
  const declared = request.headers.get("content-length");
  // Refused unread: the runtime discards what the client still sends.
  if (declared !== null && Number(declared) > limit) return tooLarge;
  const chunks: Uint8Array[] = [];
  if (request.body) {
    const reader = request.body.getReader();
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return tooLarge;
      }
      chunks.push(value);
    }
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(concatBytes(chunks));
  } catch {
    return { ok: false, reason: "invalid", message: "The body is not valid UTF-8." };
  }
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: "invalid", message: `The body is not valid JSON: ${(e as Error).message}` };
  }
}
