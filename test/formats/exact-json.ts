/**
 * Parses JSON keeping every number's exact text: numbers outside strings are rewritten to
 * `{"$n":"<text>"}` before `JSON.parse`, so 64-bit integers are not rounded. The raw text is
 * also parsed as is, so invalid JSON fails.
 */
export function parseExactJson(text: string): unknown {
  JSON.parse(text);
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i, i + 64))!;
      out += `{"$n":"${m[0]}"}`;
      i += m[0].length;
    } else {
      out += ch;
      i++;
    }
  }
  return JSON.parse(out);
}

/** A value from {@link parseExactJson} in the shape the canonical comparison takes. */
export function jsonParsed(v: unknown): import("./canonical.js").Parsed {
  if (v === null) return { kind: "null" };
  if (typeof v === "string") return { kind: "string", text: v };
  if (typeof v === "object" && v !== null && "$n" in v) return { kind: "number", text: (v as { $n: string }).$n };
  throw new Error(`unexpected JSON value ${JSON.stringify(v)}`);
}
