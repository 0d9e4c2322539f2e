// HTTP caching of the public read API: strong ETags, 304 from the in-process
// cache without SQL, Cache-Control / Surrogate-Key / Cache-Tag per endpoint,
// HEAD, invalidation by change events (on this instance and on another one),
// and the cache's byte bound. Statement counts come from Server-Timing.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Writable } from "node:stream";
import { pino } from "pino";
import request from "supertest";
import { createApp, stopApp } from "../src/app.ts";
import { createEventBus } from "../src/events/bus.ts";
import { localDiskStorage } from "../src/media/storage.ts";
import { clientHasher } from "../src/http/client-hash.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { statementsOf } from "./support/statements.ts";

const ARTICLE_CC = "public, max-age=30, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400";
const LIST_CC = "public, max-age=15, s-maxage=60, stale-while-revalidate=30, stale-if-error=86400";
const SECTIONS_CC = "public, max-age=60, s-maxage=600, stale-while-revalidate=300, stale-if-error=86400";
const COMMENTS_CC = "public, max-age=15, s-maxage=60, stale-while-revalidate=30, stale-if-error=3600";
const STRONG = /^"[A-Za-z0-9_-]+"$/;

let seq = 0;
async function publishedArticle(t: TestApp, section: string, fields: Record<string, unknown> = {}) {
  seq += 1;
  const a = await makeArticle(t, { headline: `Cached story ${seq}`, section, ...fields });
  await publish(t, a.id);
  return a as { id: number; slug: string };
}

/** GETs `path` until it is served from the cache (0 statements); returns that response. */
async function warm(t: TestApp, path: string) {
  const first = await t.get(path);
  assert.equal(first.status, 200, `${path}: ${first.text}`);
  const second = await t.get(path);
  assert.equal(statementsOf(second), 0, `${path} is served from the cache on the second read`);
  return second;
}

describe("HTTP caching of public GETs", () => {
  let t: TestApp;
  let sectionId: number;
  before(async () => {
    t = await startTestApp();
    sectionId = (await makeSection(t, "cached")).id;
  });
  after(() => t.close());

  it("sends a strong ETag that is stable across reads and hits, with the endpoint's Cache-Control and keys", async () => {
    const a = await publishedArticle(t, "cached");
    const first = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(first.status, 200);
    assert.match(first.headers.etag, STRONG);
    assert.ok(statementsOf(first) > 0, "the first read goes to the database");
    const second = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(second.headers.etag, first.headers.etag);
    assert.equal(second.text, first.text);
    assert.equal(statementsOf(second), 0);
    for (const res of [first, second]) {
      assert.equal(res.headers["cache-control"], ARTICLE_CC);
      const keys = res.headers["surrogate-key"].split(" ");
      for (const k of [`article:${a.id}`, `section:${sectionId}`, `comments:${a.id}`]) assert.ok(keys.includes(k), `${k} in ${keys}`);
      assert.equal(res.headers["cache-tag"], keys.join(","));
      assert.equal(res.headers.vary, undefined, "the article does not vary");
      assert.match(res.headers["content-type"], /^application\/json/);
      assert.equal(res.headers["x-content-type-options"], "nosniff", "security headers on hits too");
    }

    const expected: [string, string, string[]][] = [
      ["/api/v1/latest", LIST_CC, ["latest", `article:${a.id}`]],
      ["/api/v1/articles?section=cached", LIST_CC, ["articles", `article:${a.id}`]],
      ["/api/v1/sections/cached/front", LIST_CC, ["front:cached", `section:${sectionId}`, `article:${a.id}`]],
      ["/api/v1/sections", SECTIONS_CC, ["sections"]],
      ["/api/v1/sections/cached", SECTIONS_CC, ["sections"]],
      [`/api/v1/articles/${a.slug}/comments`, COMMENTS_CC, [`comments:${a.id}`]],
      ["/api/v1/popular", "public, max-age=60, s-maxage=60, stale-while-revalidate=60, stale-if-error=3600", ["popular"]],
    ];
    for (const [path, cc, keys] of expected) {
      const res = await t.get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.etag, STRONG, path);
      assert.equal(res.headers["cache-control"], cc, path);
      const sent = res.headers["surrogate-key"].split(" ");
      for (const k of keys) assert.ok(sent.includes(k), `${path}: ${k} in ${sent}`);
      assert.equal(res.headers["cache-tag"], sent.join(","), path);
      const again = await t.get(path);
      assert.equal(again.headers.etag, res.headers.etag, path);
    }
  });

  it("answers If-None-Match with 304 and no SQL from a warm cache, and with 304 after reading on a miss", async () => {
    const a = await publishedArticle(t, "cached");
    const path = `/api/v1/articles/${a.slug}`;
    const hit = await warm(t, path);
    const notModified = await t.get(path, { headers: { "If-None-Match": hit.headers.etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.text, "");
    assert.equal(statementsOf(notModified), 0, "no SQL for a 304 from the cache");
    assert.equal(notModified.headers.etag, hit.headers.etag);
    assert.equal(notModified.headers["cache-control"], ARTICLE_CC);
    // A list of tags and the weak form match too (RFC 9110 weak comparison).
    const listed = await t.get(path, { headers: { "If-None-Match": `"other", W/${hit.headers.etag}` } });
    assert.equal(listed.status, 304);
    const stale = await t.get(path, { headers: { "If-None-Match": '"not-the-current-one"' } });
    assert.equal(stale.status, 200);
    assert.equal(statementsOf(stale), 0);

    // Same bytes under another cache key (an explicit default): a miss that still answers 304.
    const latest = await warm(t, "/api/v1/latest");
    const cold = await t.get("/api/v1/latest?limit=10", { headers: { "If-None-Match": latest.headers.etag } });
    assert.equal(cold.status, 304);
    assert.ok(statementsOf(cold) > 0, "a miss reads");
  });

  it("keys the cache by path and sorted query", async () => {
    await warm(t, "/api/v1/articles?section=cached&limit=2");
    const reordered = await t.get("/api/v1/articles?limit=2&section=cached");
    assert.equal(reordered.status, 200);
    assert.equal(statementsOf(reordered), 0, "the same query in another order is the same entry");
    const other = await t.get("/api/v1/articles?section=cached&limit=3");
    assert.ok(statementsOf(other) > 0, "another query is another entry");
  });

  it("answers HEAD with the GET's headers and no body, from the cache without SQL", async () => {
    const a = await publishedArticle(t, "cached");
    const path = `/api/v1/articles/${a.slug}`;
    const coldHead = await request(t.server).head(path);
    assert.equal(coldHead.status, 200);
    assert.equal(coldHead.text, undefined);
    assert.match(coldHead.headers.etag, STRONG);
    const get = await t.get(path);
    assert.equal(get.headers.etag, coldHead.headers.etag);
    assert.equal(statementsOf(get), 0, "HEAD and GET share the entry");
    const head = await request(t.server).head(path);
    assert.equal(statementsOf(head), 0);
    assert.equal(Number(head.headers["content-length"]), Buffer.byteLength(get.text));
    assert.equal(head.headers["cache-control"], ARTICLE_CC);
    const conditional = await request(t.server).head(path).set("If-None-Match", get.headers.etag);
    assert.equal(conditional.status, 304);
    assert.equal(statementsOf(conditional), 0);
  });

  it("varies the print page on Accept only, keeping its content type and CSP on hits", async () => {
    const a = await publishedArticle(t, "cached");
    const path = `/api/v1/articles/${a.slug}/print`;
    const html = await warm(t, path);
    assert.equal(html.headers.vary, "Accept");
    assert.match(html.headers["content-type"], /^text\/html/);
    assert.match(html.headers["content-security-policy"], /^default-src 'none'/);
    const text = await t.get(path, { headers: { Accept: "text/plain" } });
    assert.match(text.headers["content-type"], /^text\/plain/);
    assert.notEqual(text.headers.etag, html.headers.etag);
    const textHit = await t.get(path, { headers: { Accept: "text/plain" } });
    assert.equal(statementsOf(textHit), 0);
    assert.match(textHit.headers["content-type"], /^text\/plain/);
    assert.equal(textHit.text, text.text);
  });

  it("keeps previews private and errors uncached", async () => {
    const draft = await makeArticle(t, { headline: "Preview me", section: "cached" });
    const link = await t.post(`/api/v1/admin/articles/${draft.id}/preview`, undefined, { token: t.editor.token });
    assert.ok(link.status < 300, link.text);
    const preview = await t.get(`/api/v1/preview/${link.body.token}`);
    assert.equal(preview.status, 200);
    assert.equal(preview.headers["cache-control"], "private, no-store");
    assert.equal(preview.headers["surrogate-key"], undefined);
    const missing = await t.get(`/api/v1/articles/${draft.slug}`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers["cache-control"], "no-store");
    assert.equal(missing.headers["surrogate-key"], undefined);
    const again = await t.get(`/api/v1/articles/${draft.slug}`);
    assert.ok(statementsOf(again) > 0, "a 404 is not kept");
  });

  it("never serves a stale article: update, unpublish, republish and comment approval show on the next read", async () => {
    const a = await publishedArticle(t, "cached");
    const path = `/api/v1/articles/${a.slug}`;
    await warm(t, path);
    await warm(t, "/api/v1/latest");

    const update = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "Updated while cached" },
      { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(update.status, 200, update.text);
    assert.equal((await t.get(path)).body.headline, "Updated while cached");
    assert.ok((await t.get("/api/v1/latest")).body.data.some((x: { headline: string }) => x.headline === "Updated while cached"));

    await warm(t, path);
    const unpublish = await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, undefined, { token: t.editor.token });
    assert.equal(unpublish.status, 200, unpublish.text);
    assert.equal((await t.get(path)).status, 404, "an unpublished article is never served from the cache");
    assert.ok(!(await t.get("/api/v1/latest")).body.data.some((x: { slug: string }) => x.slug === a.slug));

    await publish(t, a.id);
    const back = await warm(t, path);
    assert.equal(back.body.commentCount, 0);
    await warm(t, `/api/v1/articles/${a.slug}/comments`);
    const submitted = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Reader", body: "First!" });
    assert.equal(submitted.status, 202, submitted.text);
    const approve = await t.patch(`/api/v1/admin/comments/${submitted.body.id}`, { status: "APPROVED" }, { token: t.editor.token });
    assert.ok(approve.status < 300, approve.text);
    assert.equal((await t.get(path)).body.commentCount, 1);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}/comments`)).body.data.length, 1);

    const trash = await t.del(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.ok(trash.status < 300, trash.text);
    assert.equal((await t.get(path)).status, 404, "a trashed article is never served from the cache");
  });
});

describe("the response cache's byte bound", () => {
  const MAX = 12_000;
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ DELIVERY_CACHE_MAX_BYTES: String(MAX) });
    await makeSection(t, "bound");
  });
  after(() => t.close());

  it("evicts the least recently used entries beyond DELIVERY_CACHE_MAX_BYTES and never stores a larger response", async () => {
    const paths: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await publishedArticle(t, "bound", { body: `<p>${"word ".repeat(300)}</p>` });
      paths.push(`/api/v1/articles/${a.slug}`);
    }
    const size = Buffer.byteLength((await warm(t, paths[0])).text);
    // Two entries (body plus bookkeeping, under 1 KB) fit; three do not.
    assert.ok(2 * (size + 1024) < MAX && 3 * size > MAX, `an article answer is ${size} bytes`);
    await warm(t, paths[1]);
    await warm(t, paths[2]);
    assert.equal(statementsOf(await t.get(paths[2])), 0, "the newest entry stays");
    assert.ok(statementsOf(await t.get(paths[0])) > 0, "the least recently used entry was evicted");

    const big = await publishedArticle(t, "bound", { body: `<p>${"word ".repeat(2000)}</p>` });
    const path = `/api/v1/articles/${big.slug}`;
    assert.equal((await t.get(path)).status, 200);
    const again = await t.get(path);
    assert.ok(statementsOf(again) > 0, "a response larger than the cache is not stored");
    assert.match(again.headers.etag, STRONG, "but still gets its ETag");
  });
});

describe("access logs of cache hits", () => {
  const lines: { req?: { url?: string }; res?: { statusCode?: number } }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ ACCESS_LOG_CACHE_HIT_SAMPLE: "0" }, { logger: pino({ level: "info" }, stream) });
    await makeSection(t, "logged");
  });
  after(() => t.close());

  it("with ACCESS_LOG_CACHE_HIT_SAMPLE=0 logs misses, writes and errors but not hits", async () => {
    const logged = (url: string) => lines.filter((l) => l.req?.url === url).length;
    await warm(t, "/api/v1/sections/logged/front");
    await t.get("/api/v1/sections/logged/front", { headers: { "If-None-Match": '"x"' } });
    await t.get("/api/v1/articles/nothing-here");
    await new Promise((r) => setImmediate(r));
    assert.equal(logged("/api/v1/sections/logged/front"), 1, "only the miss");
    assert.equal(logged("/api/v1/articles/nothing-here"), 1, "errors are logged");
    assert.ok(logged("/api/v1/admin/sections") >= 1, "writes are logged");
  });
});

describe("two instances on one database", { skip: !process.env.DATABASE_URL && "needs PostgreSQL (DATABASE_URL)" }, () => {
  let t: TestApp;
  let serverB: http.Server;
  let stopB: () => Promise<void>;
  before(async () => {
    t = await startTestApp();
    const peer = await t.openPeer();
    const logger = pino({ level: "silent" });
    const events = createEventBus(peer, logger, { pollIntervalMs: 200 });
    await events.start();
    const app = createApp({
      config: t.config, db: peer, prisma: peer.prisma, tokens: t.tokens, logger, media: localDiskStorage(t.mediaDir),
      views: t.views, events, sanitizer: t.sanitizer, hashClient: clientHasher(t.secret),
    });
    serverB = http.createServer(app);
    await new Promise<void>((resolve) => serverB.listen(0, "127.0.0.1", resolve));
    stopB = async () => {
      await new Promise<void>((resolve) => serverB.close(() => resolve()));
      await stopApp(app);
      await events.stop();
      await peer.close();
    };
    await makeSection(t, "shared");
  });
  after(async () => {
    await stopB();
    await t.close();
  });

  /** Reads `path` on B until `done` holds (at most `tries` times, 50 ms apart); returns the last response. */
  async function pollB(path: string, done: (res: request.Response) => boolean, tries = 100) {
    let res = await request(serverB).get(path);
    for (let i = 0; i < tries && !done(res); i++) {
      await new Promise((r) => setTimeout(r, 50));
      res = await request(serverB).get(path);
    }
    return res;
  }

  it("a write on A reaches B's cache: B serves the new version, never the old one after it", async () => {
    const a = await publishedArticle(t, "shared");
    const path = `/api/v1/articles/${a.slug}`;
    // Warm B's cache.
    assert.equal((await request(serverB).get(path)).status, 200);
    const cached = await request(serverB).get(path);
    assert.equal(statementsOf(cached), 0);

    const update = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "Seen on B" },
      { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal(update.status, 200);
    const fresh = await pollB(path, (res) => res.body.headline === "Seen on B");
    assert.equal(fresh.body.headline, "Seen on B", "B drops its entry when the event arrives");
    assert.equal((await request(serverB).get(path)).body.headline, "Seen on B", "and never goes back");

    const unpublish = await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, undefined, { token: t.editor.token });
    assert.equal(unpublish.status, 200);
    assert.equal((await pollB(path, (res) => res.status === 404)).status, 404);
  });
});
