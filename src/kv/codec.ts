/**
 * The encoding of one key-value value: devalue's JSON form (pinned exactly, see {@link KV_CODEC}),
 * plus reducers and revivers for what devalue leaves out and structured clone keeps: Errors
 * (the seven standard classes: message, stack, cause), DOMException, resizable ArrayBuffers,
 * arrays with extra properties and objects with an own `__proto__` key.
 *
 * A value is one JSON text with no raw newline (devalue escapes U+2028/U+2029 and lone
 * surrogates), so it fits one NDJSON line. Research and the types measured in workerd:
 * docs/kv.md.
 */
import { DevalueError, type ParseOptions, type ViewTag, defaultParseOperations, parse, stringify, unflatten } from "devalue";

/**
 * Names the encoding in every key-value file: devalue's format is not promised to stay the same
 * across its versions, so the library pins it exactly (`package.json`), and a test checks that
 * the installed devalue is this one and that committed fixture lines still decode and encode alike.
 */
export const KV_CODEC = "devalue@6.0.3";

/** A value the codec cannot encode exactly; the caller names the key. */
export class KvEncodeError extends Error {
  override readonly name = "KvEncodeError";
}

/** How `decodeKvValue` treats a Float16Array where the runtime has none (Node 20, 22). */
export interface KvDecodeOptions {
  /**
   * When true and the runtime lacks `Float16Array`, a Float16Array comes back as a `Uint16Array`
   * over the same bytes (the raw half-precision bits) instead of failing. Default false.
   */
  float16AsUint16?: boolean;
}

const ERROR_CONSTRUCTORS: Record<string, ErrorConstructor> = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

/** Whether `key` is an array index (what devalue writes as an element). */
const isIndex = (key: string): boolean => String(Number(key) >>> 0) === key && key !== "4294967295";

function defineData(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function setStack(error: Error, stack: string | undefined): void {
  if (stack === undefined) Reflect.deleteProperty(error, "stack");
  else Object.defineProperty(error, "stack", { value: stack, writable: true, configurable: true, enumerable: false });
}

type Reducer = (value: unknown) => unknown;

/** ES2024's resizable ArrayBuffer, which the project's `lib` (ES2023) does not declare. */
type MaybeResizable = ArrayBuffer & { readonly resizable?: boolean; readonly maxByteLength?: number };
const ResizableArrayBuffer = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;

/**
 * The reducers, tried in this order for every object devalue meets (DOMException before Error:
 * in workerd a DOMException is an Error too). `structural` is called when one fires that may not
 * revive identically when the value refers back to itself through it.
 */
function reducers(structural: () => void): Record<string, Reducer> {
  return {
    "dd:DOMException": (v) => {
      if (typeof DOMException !== "function" || !(v instanceof DOMException)) return false;
      structural();
      return [v.name, v.message, typeof v.stack === "string" ? v.stack : undefined];
    },
    "dd:Error": (v) => {
      if (!(v instanceof Error)) return false;
      structural();
      return [v.name, v.message, typeof v.stack === "string" ? v.stack : undefined, Object.hasOwn(v, "cause") ? [v.cause] : []];
    },
    "dd:RAB": (v) => {
      if (!(v instanceof ArrayBuffer) || (v as MaybeResizable).resizable !== true) return false;
      structural();
      // slice() copies the bytes into a fixed-length buffer, so the payload cannot refer back to the value.
      return [(v as MaybeResizable).maxByteLength, new Uint8Array(v.slice(0))];
    },
    "dd:ArrayProps": (v) => {
      if (!Array.isArray(v)) return false;
      // Object.keys lists indices first, so the last key tells whether any other property exists.
      const keys = Object.keys(v);
      const last = keys[keys.length - 1];
      if (last === undefined || isIndex(last)) return false;
      structural();
      return [v.slice(), keys.filter((k) => !isIndex(k)).map((k) => [k, (v as unknown as Record<string, unknown>)[k]])];
    },
    "dd:ProtoKey": (v) => {
      if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype || !Object.hasOwn(v, "__proto__")) return false;
      structural();
      return Object.keys(v).map((k) => [k, (v as Record<string, unknown>)[k]]);
    },
  };
}

const REVIVERS: Record<string, (payload: any) => unknown> = {
  "dd:DOMException": ([name, message, stack]: [string, string, string | undefined]) => {
    const error = new DOMException(message, name);
    setStack(error, stack);
    return error;
  },
  "dd:Error": ([name, message, stack, cause]: [string, string, string | undefined, [unknown] | []]) => {
    // Only own entries: a name such as "constructor" must not reach Object.
    const Constructor = Object.hasOwn(ERROR_CONSTRUCTORS, name) ? ERROR_CONSTRUCTORS[name]! : Error;
    const error = cause.length > 0 ? new Constructor(message, { cause: cause[0] }) : new Constructor(message);
    if (error.name !== name) defineData(error, "name", name);
    setStack(error, stack);
    return error;
  },
  "dd:RAB": ([maxByteLength, bytes]: [number, Uint8Array]) => {
    const buffer = new ResizableArrayBuffer(bytes.byteLength, { maxByteLength });
    new Uint8Array(buffer).set(bytes);
    return buffer;
  },
  "dd:ArrayProps": ([array, props]: [unknown[], [string, unknown][]]) => {
    for (const [key, value] of props) defineData(array, key, value);
    return array;
  },
  "dd:ProtoKey": (entries: [string, unknown][]) => {
    const object = {};
    for (const [key, value] of entries) defineData(object, key, value);
    return object;
  },
};

/** devalue's parse operations with Float16Array read as Uint16Array where the runtime has none. */
const FLOAT16_AS_UINT16: ParseOptions = {
  operations: {
    fromViewInfo: (tag: ViewTag, buffer: ArrayBuffer, byteOffset: number | undefined, length: number | undefined) =>
      tag === "Float16Array" && typeof (globalThis as { Float16Array?: unknown }).Float16Array !== "function"
        ? new Uint16Array(buffer, byteOffset ?? 0, length ?? (buffer.byteLength - (byteOffset ?? 0)) / 2)
        : defaultParseOperations.fromViewInfo(tag, buffer, byteOffset, length),
  },
};

/**
 * The JSON text of `value` (as `ctx.storage.list()` gives it). When a structural reducer fired,
 * the text is decoded and encoded again and must come out the same: values that refer back to
 * themselves through an Error, an array with extra properties or a `__proto__`-keyed object, and
 * views of a resizable ArrayBuffer, cannot be revived exactly and are refused.
 *
 * @throws {KvEncodeError} when the value cannot be encoded exactly.
 */
export function encodeKvValue(value: unknown): string {
  let checked = false;
  let text: string;
  try {
    text = stringify(
      value,
      reducers(() => {
        checked = true;
      }),
    );
  } catch (error) {
    throw new KvEncodeError(describeFailure(error), { cause: error });
  }
  if (checked) {
    let again: string;
    try {
      again = stringify(
        parse(text, REVIVERS),
        reducers(() => {}),
      );
    } catch (error) {
      throw new KvEncodeError(`it does not decode again (${describeFailure(error)}); ${EXOTIC}`, { cause: error });
    }
    if (again !== text) throw new KvEncodeError(`it decodes to a different value; ${EXOTIC}`);
  }
  return text;
}

const EXOTIC =
  "values that refer back to themselves through an Error, an array with extra properties or an object with an own __proto__ key, and views of a resizable ArrayBuffer, cannot be written exactly";

function describeFailure(error: unknown): string {
  if (error instanceof DevalueError) return `${error.message}${error.path ? ` at ${error.path}` : ""}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The value of a parsed payload (devalue's flattened form, the second element of an entry line).
 * Throws the error devalue or a reviver throws for a payload that is not one this codec wrote.
 */
export function decodeKvPayload(payload: unknown, options: KvDecodeOptions = {}): unknown {
  return unflatten(payload as number | unknown[], REVIVERS, options.float16AsUint16 ? FLOAT16_AS_UINT16 : undefined);
}
