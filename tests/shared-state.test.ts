// Several app instances on one database: view beacons de-duplicated and
// limited across them through Redis (REDIS_URL, here the machine's Redis at
// 127.0.0.1:6379 under a key prefix of this run, removed afterwards), and
// every answer still 2xx/200 when an instance's Redis is unreachable or hangs.
// The instances are separate apps in this process, each with its own view
// counter, event bus, response cache and Redis client, as processes would be:
// on PostgreSQL each with its own pool on the file's schema, on PGlite sharing
// the one in-process database (a PGlite database is a single connection).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { pino, type Logger } from "pino";
import request from "supertest";
import { createApp, stopApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import type { Database } from "../src/db/client.ts";
import { createEventBus, type EventBus } from "../src/events/bus.ts";
import { clientHasher } from "../src/http/client-hash.ts";
import { localDiskStorage } from "../src/media/storage.ts";
import { createSharedState, processSharedState, redisHealth, type SharedState } from "../src/shared-state/index.ts";
import { connectionName } from "../src/shared-state/redis.ts";
import { countInstances, watchInstances } from "../src/shared-state/instances.ts";
import { createViewCounter, type ViewCounter } from "../src/views/counter.ts";
import { assertMatchesSpec } from "./support/contract.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

const REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
const PREFIX = `dateline-test:${crypto.randomBytes(6).toString("hex")}:`;
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const silent = pino({ level: "silent" });

let t: TestApp;
const cleanups: (() => Promise<void>)[] = [];

before(async () => {
  t = await startTestApp();
  await makeSection(t, "news");
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
  // Every key this run wrote, whatever failed before.
  const raw = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await raw.connect();
    let cursor = "0";
    do {
      const [next, keys] = await raw.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 1000);
      if (keys.length) await raw.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    raw.disconnect();
  }
  await t.close();
});

interface Instance {
  views: ViewCounter;
  events: EventBus;
  shared: SharedState;
  post(path: string, opts?: { ua?: string | null; client?: string }): Promise<request.Response>;
  get(path: string): Promise<request.Response>;
}

/** Another instance of the app on the test database, with its own state; `redisUrl` undefined: no Redis. */
async function instance(redisUrl: string | undefined, env: Record<string, string> = {}, logger: Logger = silent): Promise<Instance> {
  const config = loadConfig({
    NODE_ENV: "test", LOG_LEVEL: "silent", JWT_SECRET: t.secret, SEED_DEMO: "false", SCHEDULER_ENABLED: "false",
    ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: PREFIX } : {}),
    ...env,
  });
  const db: Database = t.db.kind === "postgresql" ? await t.openPeer() : t.db;
  const shared = createSharedState(config, logger);
  const limits = {
    dedupSeconds: config.VIEW_DEDUP_SECONDS,
    rateMaxPerMinute: config.VIEW_RATE_MAX_PER_MINUTE,
    maxPerNetworkPerArticle: config.VIEW_MAX_PER_ADDRESS_PER_ARTICLE,
  };
  const views = createViewCounter(db.prisma, logger, {
    flushIntervalMs: config.VIEW_FLUSH_INTERVAL_MS, ...limits, gate: shared.kind === "redis" ? shared.beaconGate(limits) : undefined,
  });
  const events = createEventBus(db, logger, { pollIntervalMs: config.EVENTS_POLL_INTERVAL_MS });
  await events.start();
  const app = createApp({
    config, db, prisma: db.prisma, tokens: t.tokens, logger, media: localDiskStorage(t.mediaDir), views,
    sanitizer: t.sanitizer, events, hashClient: clientHasher(t.secret),
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopApp(app);
    await views.stop();
    await events.stop();
    await shared.close();
    if (db !== t.db) await db.close();
  });
  const checked = (method: string, path: string, res: request.Response) => {
    assertMatchesSpec(method, path, { status: res.status, headers: res.headers as Record<string, string>, body: res.body, text: res.text });
    return res;
  };
  return {
    views, events, shared,
    async post(path, opts = {}) {
      let req = request(server).post(path).set("X-Forwarded-For", `203.0.113.${opts.client ?? "1"}`);
      if (opts.ua !== null) req = req.set("User-Agent", opts.ua ?? BROWSER);
      return checked("POST", path, await req);
    },
    async get(path) {
      return checked("GET", path, await request(server).get(path));
    },
  };
}

let n = 0;
async function article() {
  n += 1;
  const a = await makeArticle(t, { headline: `Shared story ${n}`, section: "news" });
  await publish(t, a.id);
  return { id: a.id as number, slug: a.slug as string };
}

const beaconPath = (slug: string) => `/api/v1/articles/${slug}/views`;

async function stored(articleId: number) {
  const agg = await t.db.prisma.articleViewHourly.aggregate({ where: { articleId }, _sum: { views: true } });
  return agg._sum.views ?? 0;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A client's Redis must be ready before a test relies on it (start-up does not wait for it). */
const ready = (i: Instance) => until(() => i.shared.health().connected);

describe("with Redis: two instances share beacon state", () => {
  let a: Instance;
  let b: Instance;
  before(async () => {
    a = await instance(REDIS_URL, { VIEW_RATE_MAX_PER_MINUTE: "5", VIEW_MAX_PER_ADDRESS_PER_ARTICLE: "3" });
    b = await instance(REDIS_URL, { VIEW_RATE_MAX_PER_MINUTE: "5", VIEW_MAX_PER_ADDRESS_PER_ARTICLE: "3" });
    await Promise.all([ready(a), ready(b)]);
  });

  it("counts a reader once across both instances, and writes one view", async () => {
    const story = await article();
    const first = await a.post(beaconPath(story.slug), { client: "10" });
    assert.equal(first.status, 202);
    assert.deepEqual(first.body, { counted: true });
    const again = await b.post(beaconPath(story.slug), { client: "10" });
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, { counted: false, reason: "duplicate" });
    // Another reader behind the same address (another User-Agent) is someone else.
    const other = await b.post(beaconPath(story.slug), { client: "10", ua: `${BROWSER} Firefox` });
    assert.deepEqual(other.body, { counted: true });
    await Promise.all([a.views.flush(), b.views.flush()]);
    assert.equal(await stored(story.id), 2);
  });

  it("shares the per-address rate limit and the per-article cap", async () => {
    const [s1, s2] = [await article(), await article()];
    // Cap 3 per address per article: readers 1 and 3 on one instance, 2 on the other, then 4 is over.
    const caps = [];
    for (const [i, inst] of [a, b, a, b].entries()) caps.push((await inst.post(beaconPath(s1.slug), { client: "20", ua: `${BROWSER} r${i}` })).body);
    assert.deepEqual(caps, [{ counted: true }, { counted: true }, { counted: true }, { counted: false, reason: "address-limit" }]);
    // Rate 5 a minute per address: four used above, the fifth passes, the sixth (on either instance) is 429.
    assert.equal((await a.post(beaconPath(s2.slug), { client: "20" })).status, 202);
    const limited = await b.post(beaconPath(s2.slug), { client: "20", ua: `${BROWSER} other` });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers["retry-after"], "60");
    assert.equal((await a.post(beaconPath(s2.slug), { client: "20", ua: `${BROWSER} third` })).status, 429);
    // Another address has its own budget.
    assert.equal((await b.post(beaconPath(s2.slug), { client: "21" })).status, 202);
    await Promise.all([a.views.flush(), b.views.flush()]);
    assert.equal(await stored(s1.id), 3);
    assert.equal(await stored(s2.id), 2);
  });

  it("keeps its keys under REDIS_KEY_PREFIX, each expiring", async () => {
    const raw = new Redis(REDIS_URL);
    try {
      const keys = await raw.keys(`${PREFIX}views:*`);
      assert.ok(keys.length >= 3, keys.join(", "));
      for (const k of keys) assert.ok((await raw.pttl(k)) > 0, `${k} has no expiry`);
      assert.ok(keys.some((k) => k.startsWith(`${PREFIX}views:seen:`)));
      assert.ok(keys.some((k) => k.startsWith(`${PREFIX}views:rate:`)));
    } finally {
      raw.disconnect();
    }
  });

  it("reconnects after losing its connection, and shares state again", async () => {
    const story = await article();
    // Close this process's Redis connections (a's and b's) from the server side; nobody else's.
    const killedAt = Date.now();
    const raw = new Redis(REDIS_URL);
    try {
      const name = connectionName();
      const ids = ((await raw.client("LIST")) as string).split("\n").filter((l) => l.includes(` name=${name} `)).map((l) => /id=(\d+)/.exec(l)![1]);
      assert.ok(ids.length >= 2, "both instances' connections are named");
      for (const id of ids) await raw.client("KILL", "ID", id);
    } finally {
      raw.disconnect();
    }
    // Whatever the state of the connection, a beacon answers.
    assert.equal((await a.post(beaconPath(story.slug), { client: "30" })).status, 202);
    const back = (i: Instance) => until(() => (i.shared.health().connectedSince?.getTime() ?? 0) > killedAt);
    await Promise.all([back(a), back(b)]);
    const reader = { client: "31" };
    assert.deepEqual((await a.post(beaconPath(story.slug), reader)).body, { counted: true });
    assert.deepEqual((await b.post(beaconPath(story.slug), reader)).body, { counted: false, reason: "duplicate" });
  });

  it("reports health for metrics (redisHealth)", () => {
    const h = redisHealth();
    assert.equal(h.configured, true);
    assert.equal(typeof h.connected, "boolean");
    assert.equal(typeof h.failedCommands, "number");
  });
});

describe("with Redis unreachable", () => {
  it("an instance pointed at a closed port still counts (on its own), reads, and never answers 500", async () => {
    const story = await article();
    const down = await instance("redis://127.0.0.1:1");
    const r1 = await down.post(beaconPath(story.slug), { client: "40" });
    assert.equal(r1.status, 202);
    assert.deepEqual(r1.body, { counted: true });
    // Without Redis it de-duplicates on its own.
    assert.deepEqual((await down.post(beaconPath(story.slug), { client: "40" })).body, { counted: false, reason: "duplicate" });
    assert.equal((await down.get(`/api/v1/articles/${story.slug}`)).status, 200);
    assert.equal((await down.get("/api/v1/popular")).status, 200);
    assert.equal((await down.get("/readyz")).status, 200);
    await down.views.flush();
    assert.equal(await stored(story.id), 1);
    const h = down.shared.health();
    assert.equal(h.configured, true);
    assert.equal(h.connected, false);
    assert.ok(h.failedCommands >= 2);
    assert.ok(h.lastError, "the last error is kept");
    assert.equal(redisHealth().connected, false, "one instance of this process is not connected");
  });

  it("a Redis that accepts connections and never answers costs a beacon no more than the command timeout", async () => {
    const sockets = new Set<net.Socket>();
    const hole = net.createServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => hole.listen(0, "127.0.0.1", r));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => hole.close(() => r()));
    });
    const story = await article();
    const hung = await instance(`redis://127.0.0.1:${(hole.address() as net.AddressInfo).port}`, { REDIS_COMMAND_TIMEOUT_MS: "100" });
    const started = Date.now();
    const r = await hung.post(beaconPath(story.slug), { client: "50" });
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { counted: true });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.equal((await hung.get(`/api/v1/articles/${story.slug}`)).status, 200);
    assert.equal(hung.shared.health().connected, false);
  });
});

describe("without Redis", () => {
  it("each instance keeps its own state: a reader may count once per instance", async () => {
    const story = await article();
    const [x, y] = [await instance(undefined), await instance(undefined)];
    assert.equal(x.shared.kind, "process");
    assert.deepEqual((await x.post(beaconPath(story.slug), { client: "60" })).body, { counted: true });
    assert.deepEqual((await x.post(beaconPath(story.slug), { client: "60" })).body, { counted: false, reason: "duplicate" });
    assert.deepEqual((await y.post(beaconPath(story.slug), { client: "60" })).body, { counted: true });
    await Promise.all([x.views.flush(), y.views.flush()]);
    assert.equal(await stored(story.id), 2);
  });

  it("an article unpublished on one instance stops counting on another as soon as the event arrives", async () => {
    const story = await article();
    const other = await instance(undefined);
    assert.equal((await other.post(beaconPath(story.slug), { client: "70" })).status, 202); // its slug is cached now
    const res = await t.post(`/api/v1/admin/articles/${story.id}/unpublish`, undefined, { token: t.editor.token });
    assert.equal(res.status, 200, res.text);
    await other.events.poll();
    assert.equal((await other.post(beaconPath(story.slug), { client: "71" })).status, 404);
    // And a slug remembered as missing counts once it is published.
    await publish(t, story.id);
    await other.events.poll();
    assert.equal((await other.post(beaconPath(story.slug), { client: "72" })).status, 202);
  });

  it("on PostgreSQL, says what is per instance and warns when several instances share the database", { skip: !process.env.DATABASE_URL && "PGlite: one process per data directory" }, async () => {
    const lines: { level: number; msg: string; instances?: number }[] = [];
    const logger = pino({ level: "info" }, new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }));
    await instance(undefined); // a second event-bus listener on this schema, besides the test app's
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set("schema", t.schema!);
    assert.ok((await countInstances(t.db, url.toString())) >= 2);
    const watch = watchInstances(t.db, url.toString(), processSharedState(), logger, 50);
    try {
      await until(() => lines.some((l) => l.level === 40));
    } finally {
      watch.stop();
    }
    assert.ok(lines.some((l) => l.level === 30 && /REDIS_URL is not set/.test(l.msg)));
    const warning = lines.find((l) => l.level === 40)!;
    assert.match(warning.msg, /instances are running on this database without REDIS_URL/);
    assert.ok(warning.instances! >= 2);
    // With Redis nothing is per instance: nothing to say.
    const quiet: unknown[] = [];
    const w2 = watchInstances(t.db, url.toString(), { ...processSharedState(), kind: "redis" }, pino({ level: "info" }, new Writable({
      write(chunk, _enc, done) {
        quiet.push(chunk);
        done();
      },
    })), 50);
    await new Promise((r) => setTimeout(r, 200));
    w2.stop();
    assert.equal(quiet.length, 0);
  });
});
