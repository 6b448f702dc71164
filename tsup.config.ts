import { defineConfig } from "tsup";

export default defineConfig({
  // The core, and fleet backups as the subpath durable-dump/fleet (the only entry that imports
  // cloudflare:workers); code they share goes into a common chunk.
  entry: { index: "src/index.ts", fleet: "src/fleet/index.ts" },
  format: ["esm"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
  external: [/^cloudflare:/],
});
