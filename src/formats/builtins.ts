import type { DumpFormatter } from "./formatter.js";
import { csvFormatter } from "./csv.js";
import { jsonFormatter } from "./json.js";
import { ndjsonFormatter } from "./ndjson.js";
import { sqlFormatter } from "./sql.js";

/** Formatters every engine knows, by name. */
export const builtinFormatters: Record<string, DumpFormatter> = {
  sql: sqlFormatter,
  csv: csvFormatter,
  json: jsonFormatter,
  ndjson: ndjsonFormatter,
};
