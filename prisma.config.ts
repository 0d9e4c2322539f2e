// Prisma CLI configuration. Prisma 6.19 with the Wasm schema engine over a
// driver adapter: nothing is downloaded, so the CLI works offline. The CLI
// talks to the same database the app would use (PGlite in DATA_DIR, or
// DATABASE_URL). The app itself applies migrations with src/db/migrate.ts.
import path from "node:path";
import { defineConfig } from "prisma/config";

process.env.PRISMA_SCHEMA_URL ??= "postgresql://unused@localhost/unused";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  async adapter() {
    if (process.env.DATABASE_URL) {
      const { PrismaPg } = await import("@prisma/adapter-pg");
      return new PrismaPg({ connectionString: process.env.DATABASE_URL });
    }
    const { PGlite } = await import("@electric-sql/pglite");
    const { PrismaPGlite } = await import("pglite-prisma-adapter");
    const fs = await import("node:fs");
    const dir = path.resolve(process.env.DATA_DIR ?? "data", "pglite");
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    // Typed against an older driver-adapter-utils; same runtime contract.
    return new PrismaPGlite(new PGlite(dir)) as unknown as import("@prisma/adapter-pg").PrismaPg;
  },
});
