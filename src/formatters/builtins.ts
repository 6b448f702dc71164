import type { DumpFormatter } from "./formatter.js";
import { sqlFormatter } from "./sql.js";

/** Formatters every engine knows, by name. */
export const builtinFormatters: Record<string, DumpFormatter> = {
  sql: sqlFormatter,
};
