import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { expect, test } from "vitest";
import { type DeflateEngine, deflaterFor } from "../../src/output/deflater.js";
import { GZIP_SEGMENT_BYTES, GzipStage } from "../../src/output/gzip-stage.js";
import { concatBytes } from "../../src/util/bytes.js";

/** Text with runs (compressible) and random bytes, `size` bytes long. */
function sample(size: number): Uint8Array {
  const text = new TextEncoder().encode("INSERT INTO \"t\" VALUES(1,'some text',X'00FF');\n".repeat(Math.ceil(size / 40) + 1));
  const out = text.subarray(0, size);
  out.set(randomBytes(Math.min(4_096, size - Math.floor(size / 3))), Math.floor(size / 3));
  return out;
}

/** Compresses `input` written in `chunks`, rebuilding the stage from its saved state after each chunk when `interrupted`. */
async function compress(input: Uint8Array, chunk: number, interrupted: boolean, engine: DeflateEngine = "pako"): Promise<Uint8Array> {
  const deflater = deflaterFor(engine, 6);
  const out: Uint8Array[] = [];
  const sink = async (bytes: Uint8Array) => {
    out.push(bytes.slice());
  };
  let stage = new GzipStage(GzipStage.initialState(), new Uint8Array(0), deflater);
  for (let offset = 0; offset < input.length; offset += chunk) {
    await stage.write(input.subarray(offset, offset + chunk), sink);
    if (interrupted) {
      const pending = stage.dirtyPending() ?? new Uint8Array(0);
      stage = new GzipStage(stage.state, pending.subarray(0, stage.state.pending), deflater);
    }
  }
  await stage.end(sink);
  return concatBytes(out);
}

test.each([0, 1, 1_000, GZIP_SEGMENT_BYTES, GZIP_SEGMENT_BYTES + 1, 3 * GZIP_SEGMENT_BYTES + 12_345])(
  "%i bytes: one standard gzip member, the same bytes whether or not the stage was rebuilt between writes",
  async (size) => {
    const input = sample(size);
    const whole = await compress(input, 70_001, false);
    expect(await compress(input, 70_001, true)).toEqual(whole);
    expect(await compress(input, 70_001, true, "node:zlib"), "Node's native zlib writes the same bytes").toEqual(whole);
    expect(new Uint8Array(gunzipSync(whole))).toEqual(input);
    const state = new GzipStage(GzipStage.initialState(), new Uint8Array(0), deflaterFor("pako", 6)).state;
    expect(state).toEqual({ crc: 0, inputBytes: 0, pending: 0 });
  },
);

test("a stage refuses pending bytes that do not match its state", () => {
  expect(() => new GzipStage({ crc: 0, inputBytes: 10, pending: 10 }, new Uint8Array(5), deflaterFor("pako", 6))).toThrow();
});
