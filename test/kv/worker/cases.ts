/**
 * Values of every structured-clone type a Durable Object stores, by name, for the key-value
 * round-trip tests (docs/kv.md lists what is written exactly and what is refused). Built in the runtime
 * that stores them: some types exist only there (Float16Array in workerd, not in Node 20).
 */
import { TYPED_ARRAYS } from "./describe.js";

/** A resizable ArrayBuffer (ES2024; the project's lib is ES2023). */
function resizable(length: number, maxByteLength: number): ArrayBuffer {
  return new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(length, { maxByteLength });
}

/** `{ n: { n: … } }`, `depth` levels deep. */
function nested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let o = root;
  for (let i = 0; i < depth; i++) o = o.n = {};
  return root;
}

/** Every value the codec writes exactly, by name. */
export function storableCases(): Record<string, unknown> {
  const G = globalThis as unknown as Record<string, any>;
  const c: Record<string, unknown> = {};
  c.string = "hello";
  c.emptyString = "";
  c.loneSurrogate = "a\uD800b";
  c.separators = 'line\u2028para\u2029</script>\u0000\u001f\n\r\t"\\';
  c.emoji = "😀 é ü 中文";
  c.number = 1.5;
  c.negZero = -0;
  c.nan = Number.NaN;
  c.inf = Number.POSITIVE_INFINITY;
  c.negInf = Number.NEGATIVE_INFINITY;
  c.maxValue = Number.MAX_VALUE;
  c.minValue = Number.MIN_VALUE;
  c.maxSafe = Number.MAX_SAFE_INTEGER;
  c.bigint = 2n ** 100n;
  c.negBigint = -12345678901234567890n;
  c.zeroBigint = 0n;
  c.undefined = undefined;
  c.null = null;
  c.true = true;
  c.false = false;
  c.date = new Date(1700000000123);
  c.invalidDate = new Date(Number.NaN);
  c.dateExtremes = [new Date(8.64e15), new Date(-8.64e15), new Date(-0)];
  const re = /a+[/]b/gimsuy;
  re.lastIndex = 3;
  c.regexp = re;
  // biome-ignore lint/complexity/useRegexLiterals: the v flag is newer than the es2022 the test Worker is bundled for.
  c.regexpUnicodeSets = new RegExp("[\\p{L}--a]", "v");
  c.regexpIndices = /x(?<name>y)/d;
  c.map = new Map<unknown, unknown>([
    [1, "a"],
    [{ k: 1 }, [2]],
    ["s", new Set([1])],
    [Number.NaN, -0],
  ]);
  c.set = new Set([1, "x", { o: 1 }, -0]);
  c.arrayBuffer = new Uint8Array([0, 1, 2, 255]).buffer;
  c.emptyArrayBuffer = new ArrayBuffer(0);
  for (const name of TYPED_ARRAYS) {
    const Ctor = G[name];
    if (!Ctor) throw new Error(`${name} is missing in this runtime`);
    const a = new Ctor(3);
    if (name.startsWith("Big")) [a[0], a[1], a[2]] = [1n, name === "BigInt64Array" ? -2n : 2n ** 63n, 3n];
    else if (name.startsWith("Float")) [a[0], a[1], a[2]] = [1.5, -0, Number.NaN];
    else [a[0], a[1], a[2]] = [1, -1, 300];
    c[name] = a;
  }
  c.float64Odd = new Float64Array([5e-324, -0, Number.NaN, Number.POSITIVE_INFINITY]);
  c.dataView = new DataView(new Uint8Array([9, 8, 7, 6]).buffer);
  const big = new Uint8Array([10, 11, 12, 13, 14, 15, 16, 17]);
  c.subarray = big.subarray(2, 5);
  c.dataViewOffset = new DataView(big.buffer, 1, 3);
  const shared = new ArrayBuffer(8);
  c.twoViewsOneBuffer = { a: new Uint8Array(shared), b: new Uint16Array(shared, 2, 2), d: new DataView(shared, 4) };
  const rab = resizable(4, 16);
  new Uint8Array(rab).set([1, 2, 3, 4]);
  c.resizableArrayBuffer = rab;
  c.nested = { a: [1, { b: "c", d: [null, true] }], e: { f: { g: 1 } } };
  const sparse: unknown[] = [];
  sparse[0] = 1;
  sparse[2] = 3;
  sparse[10] = "x";
  c.sparseArray = sparse;
  const verySparse: unknown[] = [];
  verySparse[1_000_000] = 1;
  c.verySparseArray = verySparse;
  c.arrayOfUndefined = [undefined, undefined];
  const withProps: unknown[] & { extra?: string } = [1, 2];
  withProps.extra = "p";
  c.arrayWithProps = withProps;
  const sparseProps: unknown[] & { p?: string } = [];
  sparseProps[1] = 2;
  sparseProps.p = "q";
  c.sparseArrayWithProps = sparseProps;
  c.boxedNumber = Object(-0);
  c.boxedNaN = Object(Number.NaN);
  c.boxedString = Object("str");
  c.boxedBoolean = Object(false);
  c.boxedBigInt = Object(5n);
  c.error = new Error("boom");
  c.evalError = new EvalError("eval");
  c.rangeError = new RangeError("range");
  c.referenceError = new ReferenceError("ref");
  c.syntaxError = new SyntaxError("syntax");
  c.typeError = new TypeError("bad type");
  c.uriError = new URIError("uri");
  const named = new Error("custom");
  named.name = "MyError";
  c.customNameError = named;
  c.errorWithCause = new Error("outer", { cause: new Error("inner") });
  c.errorCauseUndefined = new Error("cu", { cause: undefined });
  c.errorCauseValue = new TypeError("cv", { cause: { code: 42, at: new Date(0) } });
  const withCode = Object.assign(new Error("props"), { code: "E_X" });
  c.errorWithProps = withCode;
  const inCycle = new Error("in cycle");
  const holder = { err: inCycle };
  (inCycle as Error & { cause?: unknown }).cause = holder;
  c.errorCauseCycle = holder;
  const sharedError = new TypeError("shared");
  c.sharedError = [sharedError, sharedError, { e: sharedError }];
  c.domException = new DOMException("dm", "AbortError");
  const cycle: Record<string, unknown> = { name: "cyc" };
  cycle.self = cycle;
  c.cycleObject = cycle;
  const cycleArray: unknown[] = [1];
  cycleArray.push(cycleArray);
  c.cycleArray = cycleArray;
  const cycleMap = new Map<string, unknown>();
  cycleMap.set("me", cycleMap);
  c.cycleMap = cycleMap;
  const cycleSet = new Set<unknown>();
  cycleSet.add(cycleSet);
  c.cycleSet = cycleSet;
  const s = { s: 1 };
  c.sharedRef = { a: s, b: s, c: [s], m: new Map([[s, s]]) };
  const nullProto = Object.create(null);
  nullProto.x = 1;
  c.nullProto = nullProto;
  c.symbolKey = { [Symbol("s")]: 1, plain: 2 };
  c.undefinedProperty = { u: undefined, v: 1 };
  c.protoKey = JSON.parse('{"__proto__": 1, "a": 2}');
  c.protoKeyObject = JSON.parse('{"__proto__": {"x": 1}, "b": 2}');
  c.numericKeys = { 2: "b", 1: "a", x: "c" };
  c.classInstance = new (class Point {
    x = 1;
    y = 2;
  })();
  // Deeper values hit the limits of recursion: devalue's from about 1,800 levels, storage's own
  // from about 2,500 (fewer, deep in a call stack); docs/kv.md.
  c.deepNest = nested(1000);
  c.bigString = "x".repeat(100_000) + "\u2028\u2029</script>";
  return c;
}

/** Values structured clone stores but the codec cannot write exactly: an export must refuse them, naming the key. */
export function refusedCases(): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  const selfCause = new Error("self");
  (selfCause as Error & { cause?: unknown }).cause = selfCause;
  c.errorSelfCause = selfCause;
  const arrayPropsCycle: unknown[] & { me?: unknown } = [1];
  arrayPropsCycle.me = arrayPropsCycle;
  arrayPropsCycle.push(arrayPropsCycle);
  c.arrayPropsCycle = arrayPropsCycle;
  const protoKeyCycle = JSON.parse('{"__proto__": {"x": 1}, "b": 2}');
  protoKeyCycle.self = protoKeyCycle;
  c.protoKeyCycle = protoKeyCycle;
  const rab = resizable(8, 32);
  new Uint8Array(rab).set([1, 2, 3, 4, 5, 6, 7, 8]);
  c.resizableWithViews = { rab, fixed: new Uint8Array(rab, 2, 3), tracking: new Uint16Array(rab) };
  // workerd stores these host objects too; they are not structured-clone types of the language.
  c.headers = new Headers({ a: "1" });
  c.request = new Request("https://example.com/x", { method: "POST", headers: { a: "1" } });
  return c;
}

/** A small value of one of eight types (number, string, Map of Set with -0, Date, bytes, a cycle, BigInt, undefined), by index. */
export function variedValue(i: number): unknown {
  const cycle: Record<string, unknown> = { i };
  cycle.self = cycle;
  const values = [
    i,
    `v${i} ✓ 😀`,
    new Map([[i, new Set([i, -0])]]),
    new Date(i * 1e9),
    new Uint8Array([i & 255, 1, 2]),
    cycle,
    2n ** BigInt(i % 70),
    undefined,
  ];
  return values[i % values.length];
}
