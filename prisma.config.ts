// Prisma CLI configuration. Prisma 6.19 with the Wasm schema engine over a
// driver adapter: nothing is downloaded, so the CLI works offline. The CLI
// talks to the same database the app would use (PGlite in DATA_DIR, or
// DATABASE_URL). The app itself applies migrations with src/db/migrate.ts.
import fs from "node:fs";
import path from "node:path";
import { defineConfig } from "prisma/config";
import type { PrismaPg } from "@prisma/adapter-pg";

process.env.PRISMA_SCHEMA_URL ??= "postgresql://unused@localhost/unused";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  async adapter() {
    if (process.env.DATABASE_URL) {
      const { PrismaPg } = await import("@prisma/adapter-pg");
      const url = new URL(process.env.DATABASE_URL);
      const schema = url.searchParams.get("schema") ?? undefined;
      url.searchParams.delete("schema");
      // allowExitOnIdle: an idle pool must not keep the CLI process alive.
      return new PrismaPg(
        { connectionString: url.toString(), allowExitOnIdle: true, options: schema ? `-c search_path=${schema}` : undefined },
        schema ? { schema } : undefined,
      );
    }
    const { PGlite } = await import("@electric-sql/pglite");
    const { PrismaPGlite } = await import("pglite-prisma-adapter");
    const dir = path.resolve(process.env.DATA_DIR ?? "data", "pglite");
    // Opened only when a command needs the database, and closed with the
    // adapter, so commands like `migrate diff` neither create ./data nor hang.
    const open = async (dataDir?: string) => {
      if (dataDir) fs.mkdirSync(path.dirname(dataDir), { recursive: true });
      const db = dataDir ? new PGlite(dataDir) : new PGlite();
      const adapter = await new PrismaPGlite(db).connect();
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        await dispose();
        await db.close();
      };
      return adapter;
    };
    // Typed against an older driver-adapter-utils; same runtime contract.
    return {
      provider: "postgres",
      adapterName: "pglite-prisma-adapter",
      connect: () => open(dir),
      connectToShadowDb: () => open(),
    } as unknown as PrismaPg;
  },
});
