import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../src/config.ts";
import { migrate } from "../src/db/migrate.ts";
import { seedDemo } from "../src/seed/demo.ts";
import { startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp({ CORS_ADMIN_ORIGINS: "https://newsroom.example" });
});
after(() => t.close());

describe("operations", () => {
  it("reports liveness and readiness", async () => {
    const h = await t.get("/healthz");
    assert.equal(h.status, 200);
    const r = await t.get("/readyz");
    assert.equal(r.status, 200);
    assert.equal(r.body.database, t.db.kind);
  });

  it("serves openapi.yaml and Swagger UI", async () => {
    const spec = await t.get("/openapi.yaml");
    assert.equal(spec.status, 200);
    assert.match(spec.text, /^openapi: 3\.1/m);
    const json = await t.get("/openapi.json");
    assert.equal(json.body.openapi, "3.1.0");
    assert.ok(Object.keys(json.body.paths).length > 40);
    const index = await t.get("/");
    assert.deepEqual(index.body, { name: "Dateline", docs: "/docs", openapi: "/openapi.yaml", api: "/api/v1" });
    const docs = await fetch(new URL("/docs/", `http://127.0.0.1:${(t.server.address() as { port: number }).port}`));
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui/);
    assert.match(docs.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  });

  it("sets security headers, a request id and cache policy", async () => {
    const res = await t.get("/api/v1/sections", { headers: { "X-Request-Id": "abc-123" } });
    assert.equal(res.headers["x-request-id"], "abc-123");
    assert.equal(res.headers["x-content-type-options"], "nosniff");
    assert.ok(res.headers["content-security-policy"]);
    assert.equal(res.headers["x-powered-by"], undefined);
    assert.equal(res.headers["cache-control"], "public, max-age=60, s-maxage=600, stale-while-revalidate=300, stale-if-error=86400");
    const generated = await t.get("/api/v1/sections", { headers: { "X-Request-Id": "bad id with spaces" } });
    assert.match(generated.headers["x-request-id"], /^[0-9a-f-]{36}$/);
    const err = await t.get("/api/v1/articles/missing");
    assert.equal(err.headers["cache-control"], "no-store");
    assert.equal(err.body.requestId, err.headers["x-request-id"]);
  });

  it("answers CORS for any origin on public reads, only listed origins on the editor API", async () => {
    const pub = await t.get("/api/v1/sections", { headers: { Origin: "https://anywhere.example" } });
    assert.equal(pub.headers["access-control-allow-origin"], "*");
    const me = await t.get("/api/v1/admin/me", { token: t.admin.token, headers: { Origin: "https://newsroom.example" } });
    assert.equal(me.headers["access-control-allow-origin"], "https://newsroom.example");
    const other = await t.get("/api/v1/admin/me", { token: t.admin.token, headers: { Origin: "https://evil.example" } });
    assert.equal(other.headers["access-control-allow-origin"], undefined);
  });

  it("applies migrations idempotently", async () => {
    assert.deepEqual(await migrate(t.db), []);
  });
});

describe("demo content", () => {
  it("seeds an empty database once, in the reference page's shape", async () => {
    const d = await startTestApp();
    try {
      const { localDiskStorage } = await import("../src/media/storage.ts");
      assert.equal(await seedDemo(d.db.prisma, localDiskStorage(d.mediaDir)), true);
      assert.equal(await seedDemo(d.db.prisma), false, "never seeds a non-empty database");
      const picks = await d.get("/api/v1/collections/selections-for-you");
      assert.ok(picks.body.items.length >= 4);
      assert.ok(picks.body.items.every((i: { image: unknown; kind: string }) => i.image && i.kind === "PHOTO_STORY"));
      const img = await fetch(`http://127.0.0.1:${(d.server.address() as { port: number }).port}${picks.body.items[0].image.url}`);
      assert.equal(img.status, 200);
      assert.equal(img.headers.get("content-type"), "image/png");
      const china = await d.get("/api/v1/articles?section=china&limit=100");
      assert.ok(china.body.data.length >= 10);
      const photos = await d.get("/api/v1/articles?section=photos&kind=PHOTO_STORY&limit=100");
      assert.ok(photos.body.data.length >= 8);
      const fa = await d.get("/api/v1/articles?section=foreign-affairs&limit=100");
      const flagship = fa.body.data.find((a: { publishedAt: string }) => a.publishedAt === "2013-06-08T06:55:00.000Z");
      assert.ok(flagship, "the flagship story published 14:55 June 08, 2013 UTC+8");
      const full = await d.get(`/api/v1/articles/${flagship.slug}`);
      assert.equal(full.body.dateline, "CHENGDU");
      assert.ok(full.body.source);
      assert.equal(full.body.editors.length, 2);
      assert.deepEqual(full.body.breadcrumb.map((b: { name: string }) => b.name), ["English", "Foreign Affairs"]);
      assert.ok(full.body.related.length >= 3);
      assert.ok(full.body.related.some((r: { kind: string }) => r.kind === "ANALYSIS"));
      assert.ok(full.body.commentCount >= 2);
      const comments = await d.get(`/api/v1/articles/${flagship.slug}/comments`);
      assert.equal(comments.body.data.length, full.body.commentCount);
    } finally {
      await d.close();
    }
  });
});

describe("configuration", () => {
  it("refuses to start in production without JWT_SECRET, naming the variable", () => {
    assert.throws(() => loadConfig({ NODE_ENV: "production" }), /JWT_SECRET/);
    assert.throws(() => loadConfig({ PORT: "eighty" }), /PORT/);
    assert.throws(() => loadConfig({ DATABASE_URL: "mysql://x" }), /DATABASE_URL/);
    assert.throws(() => loadConfig({ ADMIN_EMAIL: "a@b.c" }), /ADMIN_PASSWORD/);
    const c = loadConfig({});
    assert.equal(c.PORT, 3000);
    assert.equal(c.BODY_LIMIT, 1024 * 1024);
    assert.equal(c.JWT_TTL_SECONDS, 900);
  });
});
