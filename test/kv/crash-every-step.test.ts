import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { expect, test } from "vitest";
import type { DumpManifest } from "../../src/index.js";
import { KvFileDecoder, compareKeys } from "../../src/kv/kv-file.js";
import { type CrashScenario, describeCrashAtEveryStep } from "../reliability/crash-suite.js";
import type { RelHarness } from "../reliability/harness.js";

/**
 * A multi-part key-value export broken at every I/O step (crash-suite.ts): hundreds of entries of
 * varied types under keys whose UTF-8 order differs from their UTF-16 order, and values near the
 * 2 MB limit (one slice each), after a small SQL dump. Every run writes the same bytes; the
 * manifest lists the key-value object with its parts' checksums; the engine's keys never appear.
 */

const MiB = 1024 * 1024;
const CONFIG = { tickBudgetMs: 100, partSize: 5 * MiB, clockStepMs: 20 };

function scenario(options: CrashScenario["options"], big: number, largest: CrashScenario["largest"]): CrashScenario {
  return {
    options,
    largest,
    putStride: 1,
    async prepare(h: RelHarness) {
      const obj = h.object();
      await obj.config(CONFIG);
      await obj.seed(200, 300);
      await obj.seedKv(400, big);
      return obj;
    },
    baselineTests(run) {
      test("the key-value entries span several ticks, each ending with a checkpoint amid them", () => {
        const { status, ticks } = run();
        const amid = new Set(ticks.map((t) => t.progress.kvEntriesWritten).filter((n) => n > 0 && n < status.progress.kvEntriesWritten));
        expect(amid.size).toBeGreaterThanOrEqual(3);
      });

      test("the manifest lists the key-value object with each part's SHA-256", async () => {
        const { h, status } = run();
        const manifest = JSON.parse(new TextDecoder().decode((await h.readObject(status.manifestKey!))!)) as DumpManifest;
        const kvObject = manifest.objects.find((o) => o.kv)!;
        expect(manifest.kv?.key).toBe(kvObject.key);
        expect(manifest.kv?.entries).toBe(status.progress.kvEntriesWritten);
        const bytes = (await h.readObject(kvObject.key))!;
        let offset = 0;
        for (const part of kvObject.parts) {
          expect(
            createHash("sha256")
              .update(bytes.subarray(offset, offset + part.size))
              .digest("hex"),
          ).toBe(part.sha256);
          offset += part.size;
        }
        expect(offset).toBe(bytes.length);
        expect(kvObject.parts.length).toBeGreaterThan(1);
      });

      test("the file holds every entry of the object in UTF-8 key order, and none of the engine's", async () => {
        const { h, obj, status } = run();
        const kvOutput = status.outputs.find((o) => o.kv)!;
        const stored = (await h.readObject(kvOutput.key))!;
        const text = new TextDecoder().decode(options.gzip ? gunzipSync(stored) : stored);
        const decoder = new KvFileDecoder();
        const keys: string[] = [];
        for (const line of text.slice(0, -1).split("\n")) {
          const entry = decoder.accept(line);
          if (entry) keys.push(entry[0]);
        }
        decoder.finish();
        const stateKeys = await obj.keys("");
        expect(stateKeys.some((k) => k.startsWith("durable-dump:"))).toBe(true);
        expect(keys).toEqual(stateKeys.filter((k) => !k.startsWith("durable-dump:")));
        expect(keys.length).toBeGreaterThan(400);
        expect(keys).toEqual([...keys].sort(compareKeys));
        expect(keys, "UTF-16 order differs for these keys").not.toEqual([...keys].sort());
      });
    },
  };
}

describeCrashAtEveryStep("SQL dump and key-value object", scenario({ kv: true }, 6, { parts: 3, minBytes: 11.5e6 }));
