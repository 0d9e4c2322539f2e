// The stored public JSON of articles (src/delivery/rendered.ts): rendered in
// the background, served as stored only under the reader's own render key,
// cleared in the writer's transaction, and byte-for-byte what rendering the
// document at read time gives.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp({ COMMENTS_AUTO_APPROVE: "true", COMMENT_RATE_MAX: "1000" });
  await makeSection(t, "region", undefined, "Region");
});
after(() => t.close());

interface Stored { json: string | null; etag: string | null; renderKey: string | null; jsonKeys: string | null }
async function stored(id: number): Promise<Stored | undefined> {
  const rows = await t.db.prisma.$queryRaw<Stored[]>`
    SELECT json, etag, "renderKey", "jsonKeys" FROM "PublishedArticle" WHERE "articleId" = ${id}`;
  return rows[0];
}
/** Waits until the background renderer has stored the article's JSON. */
async function rendered(id: number): Promise<Stored> {
  for (let i = 0; i < 200; i++) {
    const s = await stored(id);
    if (s?.json) return s;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`article ${id}: no stored JSON after 5 s`);
}

/** A plain node:http GET (every header as the server sent it). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { port } = t.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on("error", reject);
  });
}

async function live(headline: string) {
  const a = await makeArticle(t, { headline, section: "region", tags: ["harbour"] });
  await publish(t, a.id);
  return a;
}

describe("stored article JSON", () => {
  it("is rendered after publishing and served byte for byte as rendering the document gives", async () => {
    const a = await live("Stored bytes");
    const s = await rendered(a.id);
    assert.ok(s.etag && s.renderKey && s.jsonKeys);
    assert.ok(s.jsonKeys!.split(" ").includes(`article:${a.id}`));

    const fromStore = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(fromStore.status, 200);
    assert.equal(statementsOf(fromStore), 1);
    assert.equal(fromStore.text, s.json, "the stored bytes are what is sent");
    assert.equal(fromStore.headers.etag, s.etag);
    assert.equal(fromStore.headers["content-type"], "application/json; charset=utf-8");

    // The same article rendered at read time (stored JSON under another key: not used).
    await t.db.prisma.$executeRaw`UPDATE "PublishedArticle" SET "renderKey" = 'another-instance', json = '{"stale":true}' WHERE "articleId" = ${a.id}`;
    // Drop this instance's cached response (any change event drops its keys).
    await t.db.prisma.$executeRaw`INSERT INTO "ChangeEvent" (type, "entityType", keys) VALUES ('test.nudge', 'test', ARRAY[${`article:${a.id}`}])`;
    await t.events.poll();
    const fromDoc = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(fromDoc.status, 200);
    assert.equal(statementsOf(fromDoc), 1, "rendering at read time is still one statement");
    assert.equal(fromDoc.text, s.json, "identical bytes");
    assert.equal(fromDoc.headers.etag, s.etag, "identical ETag");
    assert.equal(fromDoc.headers["surrogate-key"], fromStore.headers["surrogate-key"]);
  });

  it("is cleared in the writer's transaction: a read right after the write never gets the old bytes", async () => {
    const a = await live("Before the edit");
    await rendered(a.id);
    const path = `/api/v1/admin/articles/${a.id}`;
    const res = await t.patch(path, { headline: "After the edit" }, { token: t.editor.token, headers: await t.ifMatch(path) });
    assert.equal(res.status, 200);
    // However far the renderer has got, no stale JSON is left to serve.
    const s = await stored(a.id);
    assert.ok(s!.json === null || JSON.parse(s!.json).headline === "After the edit");
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.headline, "After the edit");
    assert.equal(JSON.parse((await rendered(a.id)).json!).headline, "After the edit");
  });

  it("follows comment counts", async () => {
    const a = await live("Counted");
    await rendered(a.id);
    const c = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Reader", body: "A first comment." });
    assert.equal(c.status, 202);
    await t.events.poll();
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).body.commentCount, 1);
    assert.equal(JSON.parse((await rendered(a.id)).json!).commentCount, 1);
  });

  it("changes key with the section tree: a renamed section shows at once, then the JSON is rendered again", async () => {
    const coast = await makeSection(t, "coast", undefined, "Coast");
    const a = await makeArticle(t, { headline: "On the coast", section: "coast" });
    await publish(t, a.id);
    const before = await rendered(a.id);
    const path = `/api/v1/admin/sections/${coast.id}`;
    const r = await t.patch(path, { name: "Shoreline" }, { token: t.admin.token, headers: await t.ifMatch(path) });
    assert.equal(r.status, 200);
    const read = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(read.body.section.name, "Shoreline");
    assert.equal(statementsOf(read), 1);
    // The renderer catches up under the new key.
    for (let i = 0; i < 200; i++) {
      const s = await stored(a.id);
      if (s?.renderKey && s.renderKey !== before.renderKey) {
        assert.equal(JSON.parse(s.json!).section.name, "Shoreline");
        return;
      }
      await new Promise((res) => setTimeout(res, 25));
    }
    assert.fail("not rendered again under the new key");
  });

  it("the cache-hit fast path replays helmet's and CORS's headers, with a request id and no SQL", async () => {
    const a = await live("Fast path");
    const path = `/api/v1/articles/${a.slug}`;
    const miss = await rawGet(path);
    const hit = await rawGet(path, { "X-Request-Id": "trace-123" });
    assert.equal(hit.status, 200);
    assert.equal(hit.body, miss.body);
    assert.match(String(hit.headers["server-timing"]), /db;desc="0 statements"/);
    assert.equal(hit.headers["x-request-id"], "trace-123");
    for (const h of ["etag", "cache-control", "surrogate-key", "cache-tag", "content-type", "content-security-policy",
      "x-content-type-options", "strict-transport-security", "access-control-allow-origin", "access-control-expose-headers"]) {
      assert.equal(hit.headers[h], miss.headers[h], h);
    }
    assert.notEqual(hit.headers["x-request-id"], miss.headers["x-request-id"]);
    const notModified = await rawGet(path, { "If-None-Match": String(hit.headers.etag) });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers["content-type"], undefined);
    assert.equal(notModified.headers.etag, hit.headers.etag);
    // A spelling the fast path does not answer itself still meets the same entry further down.
    const spelled = await rawGet(`${path}?`);
    assert.equal(spelled.status, 200);
    assert.equal(spelled.body, miss.body);
  });

  it("a missed article with stored JSON is answered by the fast path too: same headers, one statement", async () => {
    const warm = await live("Warms the template");
    await rawGet(`/api/v1/articles/${warm.slug}`);
    const a = await live("Answered early");
    const s = await rendered(a.id);
    const miss = await rawGet(`/api/v1/articles/${a.slug}`);
    assert.equal(miss.status, 200);
    assert.equal(miss.body, s.json);
    assert.equal(miss.headers.etag, s.etag);
    assert.match(String(miss.headers["server-timing"]), /db;desc="1 statements"/);
    const chain = await rawGet(`/api/v1/articles/${warm.slug}?`);
    for (const h of ["cache-control", "content-type", "content-security-policy", "x-content-type-options",
      "strict-transport-security", "access-control-allow-origin", "access-control-expose-headers", "referrer-policy"]) {
      assert.equal(miss.headers[h], chain.headers[h], h);
    }
    assert.ok(String(miss.headers["surrogate-key"]).split(" ").includes(`article:${a.id}`));
    assert.ok(miss.headers["x-request-id"]);
    const hit = await rawGet(`/api/v1/articles/${a.slug}`);
    assert.match(String(hit.headers["server-timing"]), /db;desc="0 statements"/);
    // Unknown and invalid slugs go down the chain: a problem with every header, one statement (or none).
    const missing = await rawGet("/api/v1/articles/no-such-story-here");
    assert.equal(missing.status, 404);
    assert.match(String(missing.headers["content-type"]), /application\/problem\+json/);
    assert.equal(missing.headers["access-control-allow-origin"], "*");
    assert.ok(missing.headers["content-security-policy"]);
    assert.match(String(missing.headers["server-timing"]), /db;desc="1 statements"/);
    const invalid = await rawGet("/api/v1/articles/Not_A_Slug");
    assert.equal(invalid.status, 400);
    // Not rendered under this key yet: the chain renders it, still one statement.
    await t.db.prisma.$executeRaw`UPDATE "PublishedArticle" SET "renderKey" = NULL, json = NULL WHERE "articleId" = ${warm.id}`;
    await t.db.prisma.$executeRaw`INSERT INTO "ChangeEvent" (type, "entityType", keys) VALUES ('test.nudge', 'test', ARRAY[${`article:${warm.id}`}])`;
    await t.events.poll();
    const unrendered = await rawGet(`/api/v1/articles/${warm.slug}`);
    assert.equal(unrendered.status, 200);
    assert.match(String(unrendered.headers["server-timing"]), /db;desc="1 statements"/);
    assert.equal(JSON.parse(unrendered.body).headline, "Warms the template");
  });
});
