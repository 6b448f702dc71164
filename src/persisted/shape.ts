import { DumpError } from "../errors.js";

/**
 * A small schema language for what the library persists: each shape checks a value read back
 * from storage and names the first field that does not fit, and {@link Infer} turns a shape into
 * its TypeScript type, so a record's type and its check are written once.
 */

/** Checks `value`; returns it typed, or throws {@link ShapeError} naming the path that failed. */
export interface Shape<T> {
  readonly check: (value: unknown, path: string) => T;
}

/** The type a shape accepts. */
export type Infer<S> = S extends Shape<infer T> ? T : never;

/** A persisted value that does not have the shape its version promises. */
export class ShapeError extends Error {
  override readonly name = "ShapeError";
}

/**
 * Runs `read`, turning a {@link ShapeError} into the `RECORD_UNREADABLE` {@link DumpError} a job
 * fails with: a stored value the library cannot read fails that job, never the object.
 */
export function readable<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ShapeError) throw new DumpError("RECORD_UNREADABLE", `Stored state cannot be read: ${error.message}.`, { cause: error });
    throw error;
  }
}

function fail(path: string, expected: string, value: unknown): never {
  const got = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  throw new ShapeError(`${path || "value"}: expected ${expected}, got ${got}`);
}

const primitive = <T>(expected: string, test: (v: unknown) => boolean): Shape<T> => ({
  check: (value, path) => (test(value) ? (value as T) : fail(path, expected, value)),
});

export const string = primitive<string>("a string", (v) => typeof v === "string");
export const boolean = primitive<boolean>("a boolean", (v) => typeof v === "boolean");
/** A finite number. */
export const number = primitive<number>("a finite number", (v) => typeof v === "number" && Number.isFinite(v));
/** Any number, ±Infinity and -0 included (a REAL key of a row). */
export const float = primitive<number>("a number", (v) => typeof v === "number");
/** A safe integer ≥ 0 (counts, sizes, epoch milliseconds). */
export const count = primitive<number>("an integer ≥ 0", (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0);
/** Bytes, as storage gives them back (a Uint8Array or an ArrayBuffer). */
export const bytes = primitive<Uint8Array | ArrayBuffer>("bytes", (v) => v instanceof Uint8Array || v instanceof ArrayBuffer);
/** Anything: for values another module checks (a table snapshot, a cursor key). */
export const unknown = primitive<unknown>("anything", () => true);

export function literal<const T extends string | number | boolean>(...values: T[]): Shape<T> {
  return primitive<T>(values.map((v) => JSON.stringify(v)).join(" or "), (v) => (values as unknown[]).includes(v));
}

export function nullable<T>(shape: Shape<T>): Shape<T | null> {
  return { check: (value, path) => (value === null ? null : shape.check(value, path)) };
}

/** A field that may be missing (older records lack it); reads back as `fallback`. */
export function optional<T>(shape: Shape<T>, fallback: T): Shape<T> {
  return { check: (value, path) => (value === undefined ? fallback : shape.check(value, path)) };
}

export function array<T>(shape: Shape<T>): Shape<T[]> {
  return {
    check: (value, path) => (Array.isArray(value) ? value.map((item, i) => shape.check(item, `${path}[${i}]`)) : fail(path, "an array", value)),
  };
}

/** An object with these fields; other fields are dropped from the result. */
export function object<F extends Record<string, Shape<unknown>>>(fields: F): Shape<{ [K in keyof F]: Infer<F[K]> }> {
  return {
    check(value, path) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) fail(path, "an object", value);
      const out: Record<string, unknown> = {};
      for (const [name, shape] of Object.entries(fields)) {
        const checked = shape.check((value as Record<string, unknown>)[name], path ? `${path}.${name}` : name);
        if (checked !== undefined) out[name] = checked;
      }
      return out as { [K in keyof F]: Infer<F[K]> };
    },
  };
}

/** One of several object shapes, told apart by the string field `tag`. */
export function variant<const Tag extends string, V extends Record<string, Shape<object>>>(tag: Tag, variants: V): Shape<Infer<V[keyof V]>> {
  return {
    check(value, path) {
      const key = (value as Record<string, unknown> | null)?.[tag];
      const shape = typeof key === "string" && Object.hasOwn(variants, key) ? variants[key] : undefined;
      if (!shape) fail(path ? `${path}.${tag}` : tag, Object.keys(variants).join(" | "), key);
      return shape.check(value, path) as Infer<V[keyof V]>;
    },
  };
}
