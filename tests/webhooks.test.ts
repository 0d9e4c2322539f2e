// Webhooks (issue 10 §1): endpoint management, signed deliveries, retries with
// backoff on an injected clock, Retry-After, 410 and repeated-failure disabling,
// restart survival, exactly-once with two instances, the private-address guard.
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { pino } from "pino";
import sharp from "sharp";
import request from "supertest";
import { assertMatchesSpec } from "./support/contract.ts";
import { startTestApp, makeSection, makeArticle, publish, type TestApp } from "./support/harness.ts";
import { CONSUMER_NAME, createWebhookRuntime, dropWebhookPosition, type WebhookRuntime } from "../src/distribution/webhooks/service.ts";
import { backoffMs, createDispatcher, httpSender, retryAfterMs, type Clock } from "../src/distribution/webhooks/delivery.ts";
import { blockedReason, vetTarget } from "../src/distribution/webhooks/ssrf.ts";
import type { Config } from "../src/config.ts";

const onPostgres = !!process.env.DATABASE_URL;
const logger = pino({ level: "silent" });

// ---- a local receiver ----

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Reply = { status: number; headers?: Record<string, string>; body?: string };

class Receiver {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.received.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const r = this.replies.shift() ?? this.fallback;
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.body ?? "");
    });
  });
  received: Received[] = [];
  replies: Reply[] = [];
  fallback: Reply = { status: 200 };
  port = 0;
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
  }
  url(path = "/hook") {
    return `http://127.0.0.1:${this.port}${path}`;
  }
  reset() {
    this.received = [];
    this.replies = [];
    this.fallback = { status: 200 };
  }
  close() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// The receiver side, as README "Webhooks" shows it.
function verify(secret: string, headers: http.IncomingHttpHeaders, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const ts = Number(headers["dateline-timestamp"]);
  if (!Number.isFinite(ts) || Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(crypto.createHmac("sha256", secret).update(`${ts}.${body}`).digest("hex"));
  return String(headers["dateline-signature"]).split(",").some((part) => {
    const sig = Buffer.from(part.trim().replace(/^v1=/, ""));
    return sig.length === expected.length && crypto.timingSafeEqual(sig, expected);
  });
}

class FakeClock implements Clock {
  offset = 0;
  now() {
    return new Date(Date.now() + this.offset);
  }
  advance(ms: number) {
    this.offset += ms;
  }
}

describe("webhooks", () => {
  let t: TestApp;
  let rx: Receiver;
  let clock: FakeClock;
  let rt: WebhookRuntime;
  let n = 0;

  const runtime = (config: Partial<Config> = {}, c: Clock = clock, prisma = t.db.prisma) =>
    createWebhookRuntime(prisma, logger, { ...t.config, ...config }, { clock: c, random: () => 0.5 });

  /** Queue deliveries for every committed event, then send whatever is due. */
  const pump = async (r: WebhookRuntime = rt) => {
    while ((await r.consumer.run()) > 0);
    return r.dispatcher.runOnce();
  };

  const endpoint = async (body: Record<string, unknown>) => {
    const res = await t.post("/api/v1/admin/webhooks", { url: rx.url(), events: ["*"], ...body }, { token: t.admin.token });
    assert.equal(res.status, 201, res.text);
    return res.body as { id: number; secret: string };
  };

  const deliveries = async (id: number, query = "") => {
    const res = await t.get(`/api/v1/admin/webhooks/${id}/deliveries${query}`, { token: t.admin.token });
    assert.equal(res.status, 200, res.text);
    return res.body.data as any[];
  };

  const publishedArticle = async (sectionSlug: string) => {
    n += 1;
    const a = await makeArticle(t, { headline: `Story ${n}`, slug: `story-${n}`, section: sectionSlug });
    await publish(t, a.id);
    return a;
  };

  before(async () => {
    t = await startTestApp({ WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" });
    rx = new Receiver();
    await rx.start();
    await makeSection(t, "news");
    await makeSection(t, "sport");
  });
  after(async () => {
    await rx.close();
    await t.close();
  });
  beforeEach(async () => {
    clock = new FakeClock();
    rt = runtime();
    // Events of earlier tests are handled (with no endpoint) before this test registers one.
    while ((await rt.consumer.run()) > 0);
    rx.reset();
  });
  afterEach(async () => {
    await rt.stop();
    await t.db.prisma.webhookEndpoint.deleteMany({});
  });

  test("ADMIN only; the secret is shown once; bad input is a 400 with field details", async () => {
    for (const token of [t.editor.token, t.writer.token]) {
      assert.equal((await t.post("/api/v1/admin/webhooks", { url: rx.url(), events: ["*"] }, { token })).status, 403);
      assert.equal((await t.get("/api/v1/admin/webhooks", { token })).status, 403);
    }
    assert.equal((await t.get("/api/v1/admin/webhooks")).status, 401);

    const e = await endpoint({ events: ["article.*", "comment.created"] });
    assert.match(e.secret, /^whsec_[A-Za-z0-9_-]{40,}$/);
    const one = await t.get(`/api/v1/admin/webhooks/${e.id}`, { token: t.admin.token });
    assert.equal(one.status, 200);
    assert.equal(one.body.secret, undefined);
    assert.ok(!one.text.includes(e.secret));
    const list = await t.get("/api/v1/admin/webhooks", { token: t.admin.token });
    assert.ok(!list.text.includes(e.secret));
    assert.deepEqual(list.body.data.map((x: any) => x.id), [e.id]);

    const bad = async (body: unknown, path: string) => {
      const res = await t.post("/api/v1/admin/webhooks", body, { token: t.admin.token });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.ok(res.body.errors.some((x: any) => x.path === path), `${JSON.stringify(body)}: ${res.text}`);
    };
    await bad({ url: "ftp://example.com/", events: ["*"] }, "body.url");
    await bad({ url: "not a url", events: ["*"] }, "body.url");
    await bad({ url: "https://user:pw@example.com/", events: ["*"] }, "body.url");
    await bad({ url: "http://10.1.2.3/", events: ["*"] }, "body.url");
    await bad({ url: "http://169.254.169.254/latest/meta-data", events: ["*"] }, "body.url");
    await bad({ url: "http://[::1]/", events: ["*"] }, "body.url");
    await bad({ url: "http://[::ffff:127.0.0.1]/", events: ["*"] }, "body.url");
    await bad({ url: "https://example.com/", events: ["article.exploded"] }, "body.events.0");
    await bad({ url: "https://example.com/", events: [] }, "body.events");
    await bad({ url: "https://example.com/" }, "body.events");
    await bad({ url: "https://example.com/", events: ["*"], sectionId: 999999 }, "body.sectionId");
    await bad({ url: "https://example.com/", events: ["*"], secret: "mine" }, "body.secret");

    const patched = await t.patch(`/api/v1/admin/webhooks/${e.id}`, { description: "ISR", active: false }, { token: t.admin.token });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.active, false);
    assert.equal((await t.patch(`/api/v1/admin/webhooks/${e.id}`, {}, { token: t.admin.token })).status, 400);
    assert.equal((await t.get("/api/v1/admin/webhooks/999999", { token: t.admin.token })).status, 404);

    const audit = await t.get("/api/v1/admin/audit?action=webhook.create", { token: t.admin.token });
    assert.equal(audit.status, 200);
    assert.ok(audit.body.data.some((a: any) => a.targetId === e.id));
    assert.ok(!JSON.stringify(audit.body).includes(e.secret));

    assert.equal((await t.del(`/api/v1/admin/webhooks/${e.id}`, { token: t.admin.token })).status, 204);
    assert.equal((await t.get(`/api/v1/admin/webhooks/${e.id}`, { token: t.admin.token })).status, 404);
  });

  test("media.*: an upload, an edit of its text and a delete are each delivered with {id}", async () => {
    await endpoint({ events: ["media.*"] });
    const file = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 200, g: 80, b: 40 } } }).png().toBuffer();
    const up = await request(t.server).post("/api/v1/admin/media").set("Authorization", `Bearer ${t.editor.token}`)
      .attach("file", file, { filename: "x.png", contentType: "image/png" });
    assertMatchesSpec("POST", "/api/v1/admin/media", { status: up.status, headers: up.headers as Record<string, string>, body: up.body, text: up.text });
    assert.equal(up.status, 201, up.text);
    const id = up.body.id as number;
    assert.equal(await pump(), 1);
    assert.equal(rx.received.length, 1);
    assert.equal(rx.received[0].headers["dateline-event-type"], "media.created");
    assert.deepEqual(JSON.parse(rx.received[0].body).data, { id });
    assert.equal((await t.patch(`/api/v1/admin/media/${id}`, { caption: "Kiln at dusk" }, { token: t.editor.token })).status, 200);
    assert.equal(await pump(), 1);
    assert.equal(rx.received[1].headers["dateline-event-type"], "media.updated");
    assert.deepEqual(JSON.parse(rx.received[1].body).data, { id });
    assert.equal((await t.del(`/api/v1/admin/media/${id}`, { token: t.editor.token })).status, 204);
    assert.equal(await pump(), 1);
    assert.equal(rx.received[2].headers["dateline-event-type"], "media.deleted");
    assert.deepEqual(JSON.parse(rx.received[2].body).data, { id });
  });

  test("publish: one signed delivery with the public article; unpublish sends {id, slug}", async () => {
    const e = await endpoint({ events: ["article.*"] });
    const a = await publishedArticle("news");
    assert.equal(await pump(), 1); // article.created (a draft) is not sent
    assert.equal(rx.received.length, 1);
    const got = rx.received[0];
    assert.equal(got.path, "/hook");
    assert.equal(got.headers["content-type"], "application/json");
    assert.equal(got.headers["dateline-event-type"], "article.published");
    assert.equal(got.headers["dateline-delivery-attempt"], "1");
    assert.match(String(got.headers["dateline-event-id"]), /^evt_\d+$/);
    assert.match(String(got.headers["dateline-signature"]), /^v1=[0-9a-f]{64}$/);
    assert.ok(verify(e.secret, got.headers, got.body, Math.floor(clock.now().getTime() / 1000)));
    assert.ok(!verify("whsec_wrong", got.headers, got.body, Math.floor(clock.now().getTime() / 1000)));
    assert.ok(!verify(e.secret, got.headers, got.body + " ", Math.floor(clock.now().getTime() / 1000)));
    assert.ok(!verify(e.secret, got.headers, got.body, Math.floor(clock.now().getTime() / 1000) + 3600), "stale timestamp");

    const body = JSON.parse(got.body);
    assert.deepEqual(Object.keys(body).sort(), ["data", "id", "occurredAt", "type"]);
    assert.equal(body.id, got.headers["dateline-event-id"]);
    assert.equal(body.type, "article.published");
    assert.ok(!Number.isNaN(Date.parse(body.occurredAt)));
    const pub = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(pub.status, 200);
    assert.deepEqual(body.data, pub.body, "data is the public representation");

    const [d] = await deliveries(e.id);
    assert.equal(d.status, "succeeded");
    assert.equal(d.attempts, 1);
    assert.equal(d.lastStatusCode, 200);
    assert.equal(typeof d.durationMs, "number");
    assert.equal(d.nextAttemptAt, null);
    assert.ok(d.deliveredAt);

    // Sent once: running again sends nothing.
    assert.equal(await pump(), 0);

    const un = await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, undefined, { token: t.editor.token });
    assert.equal(un.status, 200, un.text);
    await pump();
    assert.equal(rx.received.length, 2);
    const u = JSON.parse(rx.received[1].body);
    assert.equal(u.type, "article.unpublished");
    assert.deepEqual(u.data, { id: a.id, slug: a.slug });
    assert.notEqual(u.id, body.id);
  });

  test("events filter and section filter; section and comment events", async () => {
    const news = (await t.get("/api/v1/admin/sections", { token: t.admin.token })).body.data.find((s: any) => s.slug === "news");
    const e = await endpoint({ events: ["article.published", "section.*", "comment.created"], sectionId: news.id });
    const other = await endpoint({ events: ["comment.*"], url: rx.url("/comments") });
    const inNews = await publishedArticle("news");
    await publishedArticle("sport");
    const c = await t.post(`/api/v1/articles/${inNews.slug}/comments`, { name: "Reader", body: "A thoughtful remark." });
    assert.equal(c.status, 202, c.text);
    const renamed = await t.patch(`/api/v1/admin/sections/${news.id}`, { name: "News desk" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${news.id}`) });
    assert.equal(renamed.status, 200, renamed.text);
    await pump();

    const types = rx.received.filter((r) => r.path === "/hook").map((r) => JSON.parse(r.body));
    assert.deepEqual(types.map((b) => b.type), ["article.published", "comment.created", "section.renamed"]);
    assert.equal(types[0].data.slug, inNews.slug);
    assert.equal(types[1].data.status, "PENDING");
    assert.equal(types[1].data.articleId, inNews.id);
    assert.equal(types[1].data.body, "A thoughtful remark.");
    assert.deepEqual(types[2].data, { id: news.id, slug: "news", name: "News desk", parentId: null });
    const comments = rx.received.filter((r) => r.path === "/comments").map((r) => JSON.parse(r.body));
    assert.deepEqual(comments.map((b) => b.type), ["comment.created"]);
    assert.equal(comments[0].id, types[1].id, "one event, one id, for every endpoint");
    assert.equal((await deliveries(other.id)).length, 1);
    await t.patch(`/api/v1/admin/sections/${news.id}`, { name: "news" }, { token: t.admin.token, headers: await t.ifMatch(`/api/v1/admin/sections/${news.id}`) });
  });

  test("retries with exponential backoff, then Retry-After, on the injected clock", async () => {
    assert.equal(backoffMs(1, () => 0.5), 60_000);
    assert.equal(backoffMs(2, () => 0.5), 180_000);
    assert.equal(backoffMs(3, () => 0.5), 540_000);
    assert.equal(backoffMs(1, () => 0), 48_000);
    assert.equal(backoffMs(1, () => 1), 72_000);
    assert.equal(backoffMs(9, () => 0.5), 24 * 3600_000);
    assert.equal(backoffMs(20, () => 1), 24 * 3600_000);
    const now = new Date("2026-11-27T10:00:00Z");
    assert.equal(retryAfterMs("120", now), 120_000);
    assert.equal(retryAfterMs("Fri, 27 Nov 2026 10:05:00 GMT", now), 300_000);
    assert.equal(retryAfterMs("soon", now), undefined);
    assert.equal(retryAfterMs("9999999", now), 24 * 3600_000);

    const e = await endpoint({ events: ["article.published"] });
    rx.replies = [{ status: 503 }, { status: 429, headers: { "Retry-After": "120" } }, { status: 200 }];
    await publishedArticle("news");
    await pump();
    let [d] = await deliveries(e.id);
    assert.equal(d.status, "pending");
    assert.equal(d.attempts, 1);
    assert.equal(d.lastStatusCode, 503);
    const wait1 = Date.parse(d.nextAttemptAt) - clock.now().getTime();
    assert.ok(wait1 > 55_000 && wait1 <= 60_000, `first retry in ~1 min, got ${wait1}`);

    assert.equal(await rt.dispatcher.runOnce(), 0, "not due yet");
    clock.advance(61_000);
    assert.equal(await rt.dispatcher.runOnce(), 1);
    [d] = await deliveries(e.id);
    assert.equal(d.attempts, 2);
    assert.equal(d.lastStatusCode, 429);
    const wait2 = Date.parse(d.nextAttemptAt) - clock.now().getTime();
    assert.ok(wait2 > 115_000 && wait2 <= 120_000, `Retry-After honoured, got ${wait2}`);
    clock.advance(100_000);
    assert.equal(await rt.dispatcher.runOnce(), 0);
    clock.advance(21_000);
    assert.equal(await rt.dispatcher.runOnce(), 1);
    [d] = await deliveries(e.id);
    assert.equal(d.status, "succeeded");
    assert.equal(d.attempts, 3);

    assert.deepEqual(rx.received.map((r) => r.headers["dateline-delivery-attempt"]), ["1", "2", "3"]);
    assert.equal(new Set(rx.received.map((r) => r.headers["dateline-event-id"])).size, 1, "one event id across retries");
    assert.equal(new Set(rx.received.map((r) => r.body)).size, 1, "the same body");
    for (const r of rx.received) assert.ok(verify(e.secret, r.headers, r.body, Number(r.headers["dateline-timestamp"])));
  });

  test("timeouts and connection errors are retried; attempts run out (dead); repeated failure disables the endpoint", async () => {
    await rt.stop();
    rt = runtime({ WEBHOOK_MAX_ATTEMPTS: 2, WEBHOOK_DISABLE_AFTER_FAILURES: 2, WEBHOOK_TIMEOUT_MS: 300 });
    // Nothing listens on this port: connection refused.
    const closed = new Receiver();
    await closed.start();
    const deadUrl = closed.url();
    await closed.close();
    const e = await endpoint({ url: deadUrl, events: ["article.published"] });
    await publishedArticle("news");
    await pump();
    let [d] = await deliveries(e.id);
    assert.equal(d.status, "pending");
    assert.match(d.lastError, /connection/);
    assert.equal(d.lastStatusCode, null);
    clock.advance(25 * 3600_000);
    await rt.dispatcher.runOnce();
    [d] = await deliveries(e.id);
    assert.equal(d.status, "dead");
    assert.equal(d.attempts, 2);
    assert.equal(d.nextAttemptAt, null);
    let ep = (await t.get(`/api/v1/admin/webhooks/${e.id}`, { token: t.admin.token })).body;
    assert.equal(ep.active, true);
    assert.equal(ep.consecutiveFailures, 1);

    // A receiver that never answers in time.
    const slow = http.createServer(() => { /* never answers */ });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    const slowUrl = `http://127.0.0.1:${(slow.address() as { port: number }).port}/`;
    const patched = await t.patch(`/api/v1/admin/webhooks/${e.id}`, { url: slowUrl }, { token: t.admin.token });
    assert.equal(patched.status, 200);
    const ping = await t.post(`/api/v1/admin/webhooks/${e.id}/ping`, undefined, { token: t.admin.token });
    assert.equal(ping.status, 202);
    await rt.dispatcher.runOnce();
    [d] = await deliveries(e.id);
    assert.equal(d.type, "ping");
    assert.match(d.lastError, /timeout after 300 ms/);
    assert.equal(d.status, "pending");
    clock.advance(25 * 3600_000);
    await rt.dispatcher.runOnce();
    slow.closeAllConnections();
    slow.close();
    ep = (await t.get(`/api/v1/admin/webhooks/${e.id}`, { token: t.admin.token })).body;
    assert.equal(ep.active, false);
    assert.equal(ep.consecutiveFailures, 2);
    assert.match(ep.disabledReason, /2 deliveries in a row failed; the last: timeout/);
    assert.ok(ep.disabledAt);
  });

  test("410 Gone disables the endpoint; re-enabling sends what waited; redeliver repeats with the same id", async () => {
    const e = await endpoint({ events: ["article.published"] });
    rx.replies = [{ status: 410 }];
    await publishedArticle("news");
    await pump();
    let [d] = await deliveries(e.id);
    assert.equal(d.status, "failed");
    assert.equal(d.lastStatusCode, 410);
    let ep = (await t.get(`/api/v1/admin/webhooks/${e.id}`, { token: t.admin.token })).body;
    assert.equal(ep.active, false);
    assert.match(ep.disabledReason, /410/);

    // Disabled: a ping waits; no new events are queued for it.
    assert.equal((await t.post(`/api/v1/admin/webhooks/${e.id}/ping`, undefined, { token: t.admin.token })).status, 202);
    await publishedArticle("news");
    await pump();
    assert.equal(rx.received.length, 1);
    assert.equal((await deliveries(e.id)).length, 2);

    ep = (await t.patch(`/api/v1/admin/webhooks/${e.id}`, { active: true }, { token: t.admin.token })).body;
    assert.equal(ep.active, true);
    assert.equal(ep.disabledReason, null);
    await pump();
    assert.equal(rx.received.length, 2);
    assert.equal(rx.received[1].headers["dateline-event-type"], "ping");
    assert.equal(JSON.parse(rx.received[1].body).data.endpointId, e.id);

    // Redeliver the failed one: same event id, the attempt number says it is a repeat.
    const failed = (await deliveries(e.id, "?status=failed"))[0];
    const re = await t.post(`/api/v1/admin/webhooks/${e.id}/deliveries/${failed.id}/redeliver`, undefined, { token: t.admin.token });
    assert.equal(re.status, 202, re.text);
    assert.equal(re.body.status, "pending");
    await rt.dispatcher.runOnce();
    assert.equal(rx.received.length, 3);
    assert.equal(rx.received[2].headers["dateline-event-id"], failed.eventId);
    assert.equal(rx.received[2].headers["dateline-delivery-attempt"], "2");
    [d] = await deliveries(e.id, "?status=succeeded&limit=1");
    assert.ok(d);
    assert.equal((await t.post(`/api/v1/admin/webhooks/${e.id}/deliveries/999999/redeliver`, undefined, { token: t.admin.token })).status, 404);

    // Paging through the log.
    const page1 = await t.get(`/api/v1/admin/webhooks/${e.id}/deliveries?limit=1`, { token: t.admin.token });
    assert.equal(page1.body.data.length, 1);
    assert.ok(page1.body.meta.nextCursor);
    const page2 = await t.get(`/api/v1/admin/webhooks/${e.id}/deliveries?limit=1&cursor=${page1.body.meta.nextCursor}`, { token: t.admin.token });
    assert.equal(page2.body.data.length, 1);
    assert.ok(page2.body.data[0].id < page1.body.data[0].id);
    assert.equal((await t.get(`/api/v1/admin/webhooks/${e.id}/deliveries?cursor=zzz`, { token: t.admin.token })).status, 400);
    assert.equal((await t.get(`/api/v1/admin/webhooks/${e.id}/deliveries?status=lost`, { token: t.admin.token })).status, 400);
  });

  test("redirects are not followed", async () => {
    const e = await endpoint({ events: ["article.published"] });
    rx.replies = [{ status: 302, headers: { Location: rx.url("/elsewhere") } }];
    await publishedArticle("news");
    await pump();
    assert.deepEqual(rx.received.map((r) => r.path), ["/hook"]);
    const [d] = await deliveries(e.id);
    assert.equal(d.status, "failed");
    assert.equal(d.lastStatusCode, 302);
    assert.match(d.lastError, /redirects are not followed/);
  });

  test("secret rotation: both signatures during the overlap, only the new one after", async () => {
    const e = await endpoint({ events: ["article.published"] });
    const rot = await t.post(`/api/v1/admin/webhooks/${e.id}/rotate-secret`, { overlapSeconds: 3600 }, { token: t.admin.token });
    assert.equal(rot.status, 200, rot.text);
    assert.notEqual(rot.body.secret, e.secret);
    assert.ok(rot.body.previousSecretExpiresAt);
    assert.equal((await t.get(`/api/v1/admin/webhooks/${e.id}`, { token: t.admin.token })).body.secret, undefined);
    await t.post(`/api/v1/admin/webhooks/${e.id}/ping`, undefined, { token: t.admin.token });
    await rt.dispatcher.runOnce();
    const r = rx.received[0];
    const sigs = String(r.headers["dateline-signature"]).split(",");
    assert.equal(sigs.length, 2);
    const now = Number(r.headers["dateline-timestamp"]);
    assert.ok(verify(rot.body.secret, r.headers, r.body, now), "a receiver with the new secret accepts it");
    assert.ok(verify(e.secret, r.headers, r.body, now), "a receiver still on the old secret accepts it");

    clock.advance(3601_000);
    await t.post(`/api/v1/admin/webhooks/${e.id}/ping`, undefined, { token: t.admin.token });
    await rt.dispatcher.runOnce();
    const r2 = rx.received[1];
    assert.equal(String(r2.headers["dateline-signature"]).split(",").length, 1);
    assert.ok(verify(rot.body.secret, r2.headers, r2.body, Number(r2.headers["dateline-timestamp"])));
    assert.ok(!verify(e.secret, r2.headers, r2.body, Number(r2.headers["dateline-timestamp"])));

    const bad = await t.post(`/api/v1/admin/webhooks/${e.id}/rotate-secret`, { overlapSeconds: -1 }, { token: t.admin.token });
    assert.equal(bad.status, 400);
    assert.equal((await t.post(`/api/v1/admin/webhooks/${e.id}/rotate-secret`, {}, { token: t.editor.token })).status, 403);
  });

  test("pending deliveries survive a restart: a new dispatcher on the same database sends them", async () => {
    const e = await endpoint({ events: ["article.published"] });
    rx.replies = [{ status: 500 }, { status: 500 }];
    await publishedArticle("news");
    await publishedArticle("news");
    // The first instance queues both and fails the first attempt of each, then stops.
    await pump();
    assert.equal(rx.received.length, 2);
    await rt.stop();
    // A delivery queued while no dispatcher runs.
    await publishedArticle("news");

    const clock2 = new FakeClock();
    clock2.advance(2 * 3600_000);
    rt = runtime({}, clock2);
    await pump();
    const ids = rx.received.map((r) => r.headers["dateline-event-id"]);
    assert.equal(rx.received.length, 5);
    assert.equal(new Set(ids).size, 3);
    const all = await deliveries(e.id);
    assert.deepEqual(all.map((d) => d.status), ["succeeded", "succeeded", "succeeded"]);
  });

  test("started as the server starts it: a committed event wakes the consumer and the dispatcher", async () => {
    const e = await endpoint({ events: ["article.published"] });
    await rt.start(t.events);
    await publishedArticle("news");
    const deadline = Date.now() + 10_000;
    while (rx.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(rx.received.length, 1);
    assert.equal(rx.received[0].headers["dateline-event-type"], "article.published");
    await rt.stop();
    assert.equal((await deliveries(e.id))[0].status, "succeeded");
  });

  test("an instance that dies mid-send: once its lease runs out, another instance sends the delivery again (same id, next attempt)", async () => {
    const e = await endpoint({ events: ["article.published"] });
    await publishedArticle("news");
    while ((await rt.consumer.run()) > 0);
    // Instance A claims the delivery and never finishes (it "died" while sending).
    let release: (v: { durationMs: number }) => void = () => {};
    const hung = createDispatcher(t.db.prisma, logger, {
      sender: () => new Promise((resolve) => { release = resolve; }), clock, timeoutMs: 1000, maxAttempts: 10, disableAfterFailures: 5, pollIntervalMs: 1000,
    });
    const aRun = hung.runOnce();
    const deadline = Date.now() + 10_000;
    while ((await deliveries(e.id))[0].attempts === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Within the lease, instance B does not send it.
    assert.equal(await rt.dispatcher.runOnce(), 0);
    clock.advance(1000 + 61_000);
    assert.equal(await rt.dispatcher.runOnce(), 1);
    assert.equal(rx.received.length, 1);
    assert.equal(rx.received[0].headers["dateline-delivery-attempt"], "2");
    // A's late answer does not overwrite B's outcome.
    release({ durationMs: 1 });
    await aRun;
    const [d] = await deliveries(e.id);
    assert.equal(d.status, "succeeded");
    assert.equal(d.attempts, 2);
    assert.equal(d.lastStatusCode, 200);
  });

  test("finished deliveries are pruned after the retention period; pending ones stay", async () => {
    const e = await endpoint({ events: ["article.published"] });
    const old = new Date(Date.now() - 31 * 86_400_000);
    const row = (eventId: string, status: string) => ({
      endpointId: e.id, eventId, type: "ping", status, occurredAt: old, createdAt: old, nextAttemptAt: status === "pending" ? new Date(Date.now() + 3600_000) : null,
      payload: { id: eventId, type: "ping", occurredAt: old.toISOString(), data: {} },
    });
    await t.db.prisma.webhookDelivery.createMany({
      data: [row("ping_old1", "succeeded"), row("ping_old2", "dead"), row("ping_old3", "failed"), row("ping_old4", "pending")],
    });
    await t.post(`/api/v1/admin/webhooks/${e.id}/ping`, undefined, { token: t.admin.token });
    await rt.dispatcher.runOnce();
    assert.equal(await rt.dispatcher.prune(), 3);
    const left = await deliveries(e.id);
    assert.deepEqual(left.map((d) => d.eventId).filter((id) => id.startsWith("ping_old")), ["ping_old4"]);
    assert.equal(left.length, 2, "the recent ping stays");
  });

  test("a first start begins at the newest event; WEBHOOKS_ENABLED=false drops the position", async () => {
    await dropWebhookPosition(t.db.prisma);
    assert.equal(await t.db.prisma.eventConsumer.count({ where: { name: CONSUMER_NAME } }), 0);
    const e = await endpoint({ events: ["article.published"] });
    await publishedArticle("news"); // before the first start: history, not sent
    const [max] = await t.db.prisma.$queryRaw<{ max: bigint }[]>`SELECT max(id) AS max FROM "ChangeEvent"`;
    await rt.start(t.events);
    await rt.stop();
    const row = await t.db.prisma.eventConsumer.findUniqueOrThrow({ where: { name: CONSUMER_NAME } });
    assert.equal(row.position, max.max);
    assert.equal(rx.received.length, 0);
    assert.equal((await deliveries(e.id)).length, 0);
    await publishedArticle("news");
    await pump();
    assert.equal(rx.received.length, 1);
  });

  test("exactly once per endpoint with two instances on one database", { skip: !onPostgres && "needs two connections (PostgreSQL); PGlite is one connection in one process", timeout: 60_000 }, async () => {
    const peer = await t.openPeer();
    try {
      const e1 = await endpoint({ events: ["article.published"], url: rx.url("/one") });
      const e2 = await endpoint({ events: ["article.*"], url: rx.url("/two") });
      for (let i = 0; i < 6; i++) await publishedArticle(i % 2 ? "news" : "sport");
      const a = runtime({}, clock, t.db.prisma);
      const b = runtime({}, clock, peer.prisma);
      // Both instances consume the same events at the same time…
      const drain = async (r: WebhookRuntime) => { while ((await r.consumer.run()) > 0); };
      await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
      // …and dispatch with small claims, interleaving.
      const d1 = createDispatcher(t.db.prisma, logger, { sender: httpSender({ allowedHosts: ["127.0.0.1"] }), clock, timeoutMs: 5000, maxAttempts: 10, disableAfterFailures: 5, pollIntervalMs: 1000, batch: 1 });
      const d2 = createDispatcher(peer.prisma, logger, { sender: httpSender({ allowedHosts: ["127.0.0.1"] }), clock, timeoutMs: 5000, maxAttempts: 10, disableAfterFailures: 5, pollIntervalMs: 1000, batch: 1 });
      const sent = await Promise.all([d1.runOnce(), d2.runOnce(), d1.runOnce(), d2.runOnce()]);
      assert.equal(sent[0] + sent[1], 12, `sent ${sent}`);
      const seen = rx.received.map((r) => `${r.path} ${r.headers["dateline-event-id"]}`);
      assert.equal(seen.length, 12);
      assert.equal(new Set(seen).size, 12, "no delivery sent twice");
      assert.ok(rx.received.every((r) => r.headers["dateline-delivery-attempt"] === "1"));
      for (const id of [e1.id, e2.id]) assert.ok((await deliveries(id)).every((d) => d.status === "succeeded"));
      await a.stop();
      await b.stop();
    } finally {
      await peer.close();
    }
  });

  test("private-address guard at send time: loopback, private, link-local, CGNAT, IPv6 forms, names resolving inside", async () => {
    for (const addr of ["127.0.0.1", "127.8.9.1", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254",
      "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
      "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:a9fe:a9fe", "ff02::1", "64:ff9b::7f00:1"]) {
      assert.ok(blockedReason(addr), `${addr} must be refused`);
    }
    for (const addr of ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
      assert.equal(blockedReason(addr), undefined, `${addr} is public`);
    }

    const guarded = httpSender({ allowedHosts: [] });
    const p = rx.port;
    for (const url of [`http://127.0.0.1:${p}/`, `http://[::1]:${p}/`, `http://[::ffff:127.0.0.1]:${p}/`, `http://localhost:${p}/`,
      `http://0.0.0.0:${p}/`, "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://[fe80::1]/", "http://[fd00::1]/"]) {
      const r = await guarded({ url, headers: {}, body: "{}", timeoutMs: 1000 });
      assert.equal(r.blocked, true, `${url}: ${JSON.stringify(r)}`);
      assert.match(r.error!, /refused/);
    }
    assert.equal(rx.received.length, 0, "nothing reached the receiver");

    // A name whose answers include a private address is refused, whatever else it resolves to.
    const lookup = async () => [{ address: "93.184.216.34", family: 4 }, { address: "10.9.8.7", family: 4 }];
    await assert.rejects(vetTarget(new URL("http://rebind.example/"), { allowedHosts: [], lookup }), /10\.9\.8\.7/);
    // A resolver that never answers counts against the timeout.
    const hang = httpSender({ allowedHosts: [], lookup: () => new Promise(() => {}) });
    const slowDns = await hang({ url: "http://slow-dns.example/", headers: {}, body: "{}", timeoutMs: 100 });
    assert.equal(slowDns.blocked, undefined);
    assert.match(slowDns.error!, /DNS: timeout after 100 ms/);
    // The allow-list names hosts as written in URLs.
    assert.deepEqual(await vetTarget(new URL(`http://127.0.0.1:${p}/`), { allowedHosts: ["127.0.0.1"] }), { address: "127.0.0.1", family: 4 });

    // End to end: "localhost" is not allow-listed (only 127.0.0.1 is), so the delivery is refused at send time and not retried.
    const e = await endpoint({ url: `http://localhost:${p}/hook`, events: ["article.published"] });
    await publishedArticle("news");
    await pump();
    assert.equal(rx.received.length, 0);
    const [d] = await deliveries(e.id);
    assert.equal(d.status, "failed");
    assert.match(d.lastError, /refused: localhost resolves to/);
  });
});
