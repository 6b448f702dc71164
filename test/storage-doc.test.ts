import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { keys } from "../src/persisted/keys.js";
import type { Shape } from "../src/persisted/shape.js";

/**
 * docs/storage.md against src/persisted/: every key builder of keys.ts is documented and every
 * documented key is one the library writes; every sample record is read by its shape with no
 * field missing or left over, and every record shape has a sample. Generic on purpose: a new key
 * or record needs only its lines in the doc.
 */
const DOC = readFileSync(new URL("../docs/storage.md", import.meta.url), "utf8");
const PERSISTED = new URL("../src/persisted/", import.meta.url);

/** Keys in the first column of the doc's tables: `durable-dump:job:<id>`, … */
const documented = [...DOC.matchAll(/^\|\s*`(durable-dump:[^`]*)`/gm)].map((m) => m[1]!);

/** The parameter names of a key builder, from its source: `(ns, id) => …` gives ["ns", "id"]. */
function parameters(builder: (...args: never[]) => string): string[] {
  const list = /^\s*(?:function[^(]*)?\(([^)]*)\)/.exec(builder.toString())?.[1] ?? "";
  return list
    .split(",")
    .map((p) => p.replace(/[=:?].*$/s, "").trim())
    .filter(Boolean);
}

/**
 * Every key shape a builder makes, with `<param>` where it puts an argument (builders with
 * optional parameters make one per number of arguments). A `…Prefix` builder or constant makes
 * a prefix.
 */
function builderPatterns(): { name: string; pattern: string; prefix: boolean }[] {
  const out: { name: string; pattern: string; prefix: boolean }[] = [];
  for (const [name, builder] of Object.entries(keys)) {
    const prefix = name.endsWith("Prefix");
    if (typeof builder === "string") {
      out.push({ name, pattern: builder, prefix });
      continue;
    }
    const params = parameters(builder as (...args: never[]) => string);
    for (let n = 1; n <= params.length; n++) {
      const pattern = (builder as (...args: string[]) => string)(...params.slice(0, n).map((p) => `<${p}>`));
      if (!pattern.includes("undefined") && !out.some((o) => o.pattern === pattern)) out.push({ name, pattern, prefix });
    }
  }
  return out;
}

/** Whether a documented key is of a builder's shape: each `<param>` stands for the same placeholder in the doc, or for a literal word. */
function matches(doc: string, pattern: string, prefix: boolean): boolean {
  const source = pattern
    .split(/(<[a-zA-Z]+>)/)
    .map((part) => (/^<[a-zA-Z]+>$/.test(part) ? `(?:${part}|[a-z0-9_-]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}${prefix ? "" : "$"}`).test(doc);
}

/** Field paths of a value, for comparing a sample with what its shape keeps of it. Arrays are walked item by item. */
function fieldPaths(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => fieldPaths(v, `${path}[]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [`${path}.${k}`, ...fieldPaths(v, `${path}.${k}`)]);
}

describe("docs/storage.md matches src/persisted", () => {
  test("the doc's key table", () => {
    expect(documented.length).toBeGreaterThan(5);
    const patterns = builderPatterns();
    for (const { name, pattern, prefix } of patterns) {
      expect(
        documented.some((d) => matches(d, pattern, prefix)),
        `keys.${name} makes ${pattern}${prefix ? "…" : ""}: document it in docs/storage.md`,
      ).toBe(true);
    }
    for (const doc of documented) {
      expect(
        patterns.some((p) => !p.prefix && matches(doc, p.pattern, false)),
        `docs/storage.md lists ${doc}, which no builder of keys.ts makes`,
      ).toBe(true);
    }
  });

  const samples = [...DOC.matchAll(/<!-- sample: ([\w.-]+\.ts)#(\w+)(\[\])? -->\s*```json\n([\s\S]*?)```/g)].map((m) => ({
    module: m[1]!,
    shape: m[2]!,
    list: m[3] === "[]",
    json: m[4]!,
  }));

  test("every sample is read by its shape, with no field missing or left over", async () => {
    expect(samples.length).toBeGreaterThan(0);
    for (const { module, shape, list, json } of samples) {
      const exported = ((await import(new URL(module, PERSISTED).href)) as Record<string, Shape<unknown>>)[shape];
      expect(exported?.check, `${module} exports no shape ${shape}`).toBeTypeOf("function");
      const sample = JSON.parse(json) as unknown;
      const values = list ? (sample as unknown[]) : [sample];
      expect(Array.isArray(values) && values.length > 0, `${shape}: a list sample must be a non-empty array`).toBe(true);
      for (const value of values) {
        const read = exported!.check(value, shape);
        const given = new Set(fieldPaths(value));
        const kept = new Set(fieldPaths(read));
        expect(
          [...kept].filter((p) => !given.has(p)),
          `${shape}: fields the doc's sample lacks`,
        ).toEqual([]);
        expect(
          [...given].filter((p) => !kept.has(p)),
          `${shape}: fields of the doc's sample the record does not have`,
        ).toEqual([]);
      }
    }
  });

  test("every record shape of src/persisted has a sample", async () => {
    const sampled = new Set(samples.map((s) => `${s.module}#${s.shape}`));
    for (const file of readdirSync(PERSISTED).filter((f) => f.endsWith(".ts"))) {
      const module = (await import(new URL(file, PERSISTED).href)) as Record<string, unknown>;
      for (const name of Object.keys(module).filter((n) => /RecordShape$|^indexEntryShape$/.test(n))) {
        expect(sampled.has(`${file}#${name}`), `${file} exports ${name}: add a sample to docs/storage.md`).toBe(true);
      }
    }
  });
});
