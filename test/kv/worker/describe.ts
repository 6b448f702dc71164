/**
 * An identity-aware description of a structured-clone value, for comparing values "type for
 * type": two values are equal iff their descriptions are. It records the prototype and internal
 * type of every object, -0, NaN, the bits of buffers, views' offsets and shared buffers, holes and
 * extra properties of arrays, Errors' name, message, stack and cause, and references back to an
 * object already seen (cycles, shared references). Runs in workerd and in Node.
 */

/** The twelve typed array classes. */
export const TYPED_ARRAYS = [
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
] as const;

function primitive(v: unknown): string | null {
  switch (typeof v) {
    case "number":
      return Object.is(v, -0) ? "num:-0" : `num:${String(v)}`;
    case "bigint":
      return `big:${v.toString()}`;
    case "string":
      return `str:${JSON.stringify(v)}`;
    case "undefined":
      return "undef";
    case "boolean":
      return `bool:${v}`;
    case "symbol":
      return `sym:${String(v.description)}`;
    case "function":
      return "fn";
  }
  return v === null ? "null" : null;
}

function protoName(o: object): string {
  const p = Object.getPrototypeOf(o);
  if (p === null) return "null";
  const c = p.constructor;
  return typeof c === "function" ? c.name : "?";
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

const isIndex = (k: string) => String(Number(k) >>> 0) === k && k !== "4294967295";

/** The description of `root`. */
export function describe(root: unknown): string {
  const ids = new Map<object, number>();
  let next = 0;
  const d = (v: any): string => {
    const p = primitive(v);
    if (p !== null) return p;
    if (ids.has(v)) return `#ref${ids.get(v)}`;
    const id = next++;
    ids.set(v, id);
    const tag = Object.prototype.toString.call(v).slice(8, -1);
    const own = (skipIndices: boolean, skip: string[] = []) =>
      Reflect.ownKeys(v)
        .filter((k) => typeof k === "symbol" || (!skip.includes(k) && !(skipIndices && isIndex(k)) && Object.getOwnPropertyDescriptor(v, k)?.enumerable))
        .map((k) => (typeof k === "symbol" ? `[sym ${String(k.description)}]=SYMKEY` : `${JSON.stringify(k)}=${d(v[k])}`))
        .join(",");
    let body: string;
    if (tag === "Array") {
      const items: string[] = [];
      // Holes are counted in runs, so that a very sparse array stays short.
      let previous = -1;
      for (const i of Object.keys(v).filter(isIndex).map(Number)) {
        if (i - previous > 1) items.push(`<${i - previous - 1} holes>`);
        items.push(d(v[i]));
        previous = i;
      }
      if (v.length - previous > 1) items.push(`<${v.length - previous - 1} holes>`);
      body = `len=${v.length}[${items.join(",")}]{${own(true, ["length"])}}`;
    } else if (tag === "Date") body = String(v.getTime());
    else if (tag === "RegExp") body = `/${v.source}/${v.flags} lastIndex=${v.lastIndex}`;
    else if (tag === "Map") body = [...v].map(([k, x]) => `${d(k)}=>${d(x)}`).join(",");
    else if (tag === "Set") body = [...v].map(d).join(",");
    else if (tag === "ArrayBuffer") body = `bytes=${v.byteLength} resizable=${!!v.resizable} max=${v.maxByteLength} ${hex(new Uint8Array(v))}`;
    else if ((TYPED_ARRAYS as readonly string[]).includes(tag) || tag === "DataView")
      body = `off=${v.byteOffset} blen=${v.byteLength} len=${v.length} buf=${d(v.buffer)}`;
    else if (tag === "Number" || tag === "String" || tag === "Boolean" || tag === "BigInt") body = String(primitive(v.valueOf()));
    else if (tag === "Error" || v instanceof Error) {
      const stack = Object.hasOwn(v, "stack") || typeof v.stack === "string" ? JSON.stringify(String(v.stack)) : "no";
      body = `name=${v.name} msg=${JSON.stringify(v.message)} ownName=${Object.hasOwn(v, "name")} stack=${stack} cause=${"cause" in v ? d(v.cause) : "-"} {${own(false, ["stack", "message", "cause", "name"])}}`;
    } else body = `{${own(false)}}`;
    return `${tag}<${protoName(v)}>#${id}(${body})`;
  };
  return d(root);
}
