// How long wrangler's SQL splitter takes over a 100 KB statement of the d1 dialect's shape (a
// staged blob: `UPDATE … SET v = CAST(v || <balanced || tree of X'…' pieces> AS BLOB)`), by
// piece size. It is wrangler's own function, cut out of the pinned release's bundle
// (src/d1/splitter.ts), which `wrangler d1 execute --local --file` runs over the whole file
// before sending each statement to D1. Usage: node bench/d1-splitter.mjs [statements per size]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../examples/demo/runtime.mjs";

const bundle = readFileSync(join(ROOT, "node_modules", "wrangler", "wrangler-dist", "cli.js"), "utf8");
const from = bundle.indexOf("// src/d1/splitter.ts");
const split = new Function(`${bundle.slice(from, bundle.indexOf("var init_splitter", from))}; return splitSqlIntoStatements;`)();

/** Literals joined as a balanced `||` tree, as the d1 dialect writes them. */
function tree(pieces) {
  if (pieces.length === 1) return pieces[0];
  const half = pieces.length >> 1;
  const side = (p) => (p.length === 1 ? p[0] : `(${tree(p)})`);
  return `${side(pieces.slice(0, half))}||${side(pieces.slice(half))}`;
}

const count = Number(process.argv[2] ?? 30);
console.log("piece bytes | pieces per statement | ms per 100 KB statement");
for (const piece of [100, 250, 500, 1000, 2000]) {
  const literal = `X'${"AB".repeat(piece)}'`;
  const pieces = Math.floor(98_000 / (literal.length + 4));
  const statement = `UPDATE "_durable_dump_stage" SET v = CAST(v || ${tree(Array(pieces).fill(literal))} AS BLOB) WHERE k = 1;\n`;
  const started = performance.now();
  const statements = split(statement.repeat(count));
  if (statements.length !== count) throw new Error(`split into ${statements.length} statements, not ${count}`);
  console.log(`${String(piece).padStart(11)} | ${String(pieces).padStart(20)} | ${((performance.now() - started) / count).toFixed(1).padStart(23)}`);
}
