// MEDIA_STORAGE=s3 against a local S3-compatible server (s3rver behind a
// front that verifies every request's SigV4 signature: tests/support/s3-server.ts).
// The same upload is compared with the local-disk default, a second instance
// on the same database and bucket serves what the first stored, and a store
// that fails, hangs, refuses the connection or the credentials is a 503
// problem, never a 500.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import request from "supertest";
import { createApp, stopApp } from "../src/app.ts";
import { bodySanitizerOptions, createBodySanitizer } from "../src/articles/sanitize-pool.ts";
import { ConfigError, loadConfig } from "../src/config.ts";
import { createEventBus } from "../src/events/bus.ts";
import { clientHasher } from "../src/http/client-hash.ts";
import { mediaStorageFromConfig } from "../src/media/from-config.ts";
import { pngChunk } from "../src/seed/placeholder.ts";
import { createViewCounter } from "../src/views/counter.ts";
import { assertMatchesSpec } from "./support/contract.ts";
import { startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";
import { startTestS3, type TestS3 } from "./support/s3-server.ts";

/** An RGB PNG; `seed` varies the pixels so files differ. */
function png(width: number, height: number, seed = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0);
    for (let x = 0; x < width; x++) rows.push((x * 40 + seed) & 0xff, (y * 60) & 0xff, 128);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", zlib.deflateSync(Buffer.from(rows))),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

interface Instance {
  server: http.Server;
}

async function upload(app: Instance, token: string, data: Buffer): Promise<TestResponse> {
  const url = "/api/v1/admin/media";
  const res = await request(app.server).post(url).set("Authorization", `Bearer ${token}`)
    .field("caption", "Harbour").attach("file", data, { filename: "harbour.png", contentType: "image/png" });
  const out = { status: res.status, headers: res.headers as Record<string, string>, body: res.body, text: res.text };
  assertMatchesSpec("POST", url, out);
  return out;
}

/** GET (or HEAD) of a file under /media, binary bodies kept as Buffers, checked against openapi.yaml. */
async function file(app: Instance, url: string, headers: Record<string, string> = {}, method = "GET") {
  let req = (method === "HEAD" ? request(app.server).head(url) : request(app.server).get(url)).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => cb(null, Buffer.concat(chunks)));
  });
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const res = await req;
  const bytes = Buffer.isBuffer(res.body) ? res.body : Buffer.alloc(0);
  const isJson = String(res.headers["content-type"] ?? "").includes("json");
  const out = {
    status: res.status,
    headers: res.headers as Record<string, string>,
    body: isJson ? JSON.parse(bytes.toString("utf8")) : bytes,
    text: isJson ? bytes.toString("utf8") : "",
    bytes,
  };
  if (method === "GET") assertMatchesSpec("GET", url, out);
  return out;
}

/** The headers a reader's cache or browser acts on. */
const FILE_HEADER_NAMES = [
  "content-type", "content-length", "cache-control", "x-content-type-options", "cross-origin-resource-policy",
  "access-control-allow-origin", "accept-ranges",
];
const pick = (h: Record<string, string>, names = FILE_HEADER_NAMES) => Object.fromEntries(names.map((n) => [n, h[n]]));

/**
 * Another instance of the app on the same database with its own S3 client
 * (its own configuration), as a second process behind a load balancer would be.
 */
async function secondInstance(t: TestApp, env: Record<string, string>) {
  const mediaDir = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-media-"));
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", JWT_SECRET: t.secret, SEED_DEMO: "false", SCHEDULER_ENABLED: "false", ...env });
  const db = await t.openPeer();
  const logger = pino({ level: "silent" });
  const media = mediaStorageFromConfig(config, mediaDir);
  const views = createViewCounter(db.prisma, logger, {
    flushIntervalMs: config.VIEW_FLUSH_INTERVAL_MS, dedupSeconds: config.VIEW_DEDUP_SECONDS,
    rateMaxPerMinute: config.VIEW_RATE_MAX_PER_MINUTE, maxPerNetworkPerArticle: config.VIEW_MAX_PER_ADDRESS_PER_ARTICLE,
  });
  const sanitizer = createBodySanitizer(bodySanitizerOptions(config));
  const events = createEventBus(db, logger, { pollIntervalMs: config.EVENTS_POLL_INTERVAL_MS });
  await events.start();
  const app = createApp({ config, db, prisma: db.prisma, tokens: t.tokens, logger, media, views, sanitizer, events, hashClient: clientHasher(t.secret) });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    mediaDir,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopApp(app);
      await views.stop();
      await events.stop();
      await sanitizer.close();
      await media.close?.();
      if (db !== t.db) await db.close();
      fs.rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const keyOf = (url: string) => url.replace(/^\/media\//, "");

let s3: TestS3;
let t: TestApp;
/** The default local-disk store, as another instance on the same database: what the S3 backend must match. */
let local: Awaited<ReturnType<typeof secondInstance>>;
before(async () => {
  s3 = await startTestS3();
  // Two attempts of at most a second each: a hanging store answers 503 in about two seconds.
  t = await startTestApp({ ...s3.env, S3_MAX_ATTEMPTS: "2", S3_TIMEOUT_MS: "1000" });
  local = await secondInstance(t, { MEDIA_STORAGE: "local" });
});
after(async () => {
  await local?.close();
  await t?.close();
  await s3?.close();
});

describe("media in an S3-compatible bucket", () => {
  it("stores an upload in the bucket under S3_PREFIX, with its type and cache headers, every request signed", async () => {
    const bytes = png(3, 2);
    const before = s3.requests.length;
    const res = await upload(t, t.writer.token, bytes);
    assert.equal(res.status, 201);
    assert.match(res.body.url, /^\/media\/\d{4}\/\d{2}\/[0-9a-f-]{36}\.png$/);
    assert.equal(res.body.size, bytes.length);

    const stored = await s3.object(`media/${keyOf(res.body.url)}`);
    assert.ok(stored, "the object is in the bucket");
    assert.deepEqual(stored.bytes, bytes);
    assert.equal(stored.headers["content-type"], "image/png");
    // For readers sent straight to the bucket or a CDN (MEDIA_BASE_URL).
    assert.equal(stored.headers["cache-control"], "public, max-age=31536000, immutable");

    const made = s3.requests.slice(before);
    assert.deepEqual(made.map((r) => [r.method, r.path]), [["PUT", `/${s3.bucket}/media/${keyOf(res.body.url)}`]]);
    assert.ok(s3.requests.every((r) => r.verified), JSON.stringify(s3.requests.filter((r) => !r.verified)));
    // Nothing on the instance's own disk.
    assert.equal(fs.readdirSync(t.mediaDir).length, 0);
  });

  it("serves the same bytes and headers as the local disk: 200, HEAD, 304, a byte range, 404, 412, 416", async () => {
    const bytes = png(5, 4, 7);
    const [onS3, onDisk] = [await upload(t, t.writer.token, bytes), await upload(local, t.writer.token, bytes)];
    assert.equal(onS3.status, 201);
    assert.equal(onDisk.status, 201);

    const [a, b] = [await file(t, onS3.body.url), await file(local, onDisk.body.url)];
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.deepEqual(a.bytes, bytes);
    assert.deepEqual(a.bytes, b.bytes);
    assert.deepEqual(pick(a.headers), pick(b.headers));
    assert.equal(a.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.ok(a.headers.etag && a.headers["last-modified"]);

    const [headA, headB] = [await file(t, onS3.body.url, {}, "HEAD"), await file(local, onDisk.body.url, {}, "HEAD")];
    assert.equal(headA.status, 200);
    assert.equal(headA.bytes.length, 0);
    assert.deepEqual(pick(headA.headers), pick(headB.headers));
    assert.equal(headA.headers.etag, a.headers.etag);

    for (const [app, res] of [[t, a], [local, b]] as const) {
      const url = app === t ? onS3.body.url : onDisk.body.url;
      const byTag = await file(app, url, { "If-None-Match": res.headers.etag });
      assert.equal(byTag.status, 304);
      assert.equal(byTag.bytes.length, 0);
      assert.equal(byTag.headers.etag, res.headers.etag);
      assert.equal(byTag.headers["cache-control"], "public, max-age=31536000, immutable");
      const byDate = await file(app, url, { "If-Modified-Since": res.headers["last-modified"] });
      assert.equal(byDate.status, 304);
      // An old validator is a full answer.
      const stale = await file(app, url, { "If-None-Match": '"something-else"' });
      assert.equal(stale.status, 200);
      assert.deepEqual(stale.bytes, bytes);
    }

    const [rangeA, rangeB] = [await file(t, onS3.body.url, { Range: "bytes=0-9" }), await file(local, onDisk.body.url, { Range: "bytes=0-9" })];
    assert.equal(rangeA.status, 206);
    assert.equal(rangeB.status, 206);
    assert.deepEqual(rangeA.bytes, bytes.subarray(0, 10));
    assert.deepEqual(rangeA.bytes, rangeB.bytes);
    assert.equal(rangeA.headers["content-range"], `bytes 0-9/${bytes.length}`);
    assert.deepEqual(pick(rangeA.headers, [...FILE_HEADER_NAMES, "content-range"]), pick(rangeB.headers, [...FILE_HEADER_NAMES, "content-range"]));

    // The reader's own failed conditions are 4xx problems on both, never a 500.
    for (const [app, url] of [[t, onS3.body.url], [local, onDisk.body.url]] as const) {
      const outside = await file(app, url, { Range: `bytes=${bytes.length + 10}-` });
      assert.equal(outside.status, 416);
      assert.equal(outside.body.type, "urn:dateline:problem:range-not-satisfiable");
      assert.equal(outside.body.title, "Range Not Satisfiable");
      const notThis = await file(app, url, { "If-Match": '"something-else"' });
      assert.equal(notThis.status, 412);
      assert.equal(notThis.body.type, "urn:dateline:problem:precondition-failed");
      const before = await file(app, url, { "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT" });
      assert.equal(before.status, 412);
    }
    const matching = await file(t, onS3.body.url, { "If-Match": a.headers.etag });
    assert.equal(matching.status, 200);
    assert.deepEqual(matching.bytes, bytes);

    const missing = onS3.body.url.replace(/[0-9a-f]{8}-/, "00000000-");
    const [gone, goneLocal] = [await file(t, missing), await file(local, onDisk.body.url.replace(/[0-9a-f]{8}-/, "00000000-"))];
    assert.equal(gone.status, 404);
    assert.equal(goneLocal.status, 404);
    assert.equal(gone.body.type, goneLocal.body.type);
    assert.equal(gone.headers["last-modified"], undefined);
    assert.equal(gone.headers["cache-control"], goneLocal.headers["cache-control"]);
  });

  it("lets a second instance on the same database and bucket serve and delete what the first stored", async () => {
    const b = await secondInstance(t, s3.env);
    try {
      const bytes = png(2, 6, 3);
      const up = await upload(t, t.writer.token, bytes);
      assert.equal(up.status, 201);
      const there = await file(b, up.body.url);
      assert.equal(there.status, 200);
      assert.deepEqual(there.bytes, bytes);
      assert.equal(there.headers.etag, (await file(t, up.body.url)).headers.etag, "both instances name the object alike");

      // And the other way round.
      const back = await upload(b, t.writer.token, png(4, 1, 5));
      assert.equal(back.status, 201);
      assert.deepEqual((await file(t, back.body.url)).bytes, png(4, 1, 5));

      const del = await request(b.server).delete(`/api/v1/admin/media/${up.body.id}`).set("Authorization", `Bearer ${t.editor.token}`);
      assert.equal(del.status, 204);
      assert.equal(await s3.object(`media/${keyOf(up.body.url)}`), undefined, "the object is gone from the bucket");
      assert.equal((await file(t, up.body.url)).status, 404);
      assert.equal((await file(b, up.body.url)).status, 404);
      assert.equal((await t.get(`/api/v1/admin/media/${up.body.id}`, { token: t.writer.token })).status, 404);
    } finally {
      await b.close();
    }
  });

  it("answers 503 problems, never 500, while the store fails or hangs, and recovers", async () => {
    const up = await upload(t, t.writer.token, png(3, 3, 1));
    assert.equal(up.status, 201);
    const rows = await t.db.prisma.media.count();
    const ok = await file(t, up.body.url);
    for (const failure of [{ status: 503, code: "SlowDown" }, { status: 500, code: "InternalError" }, "hang"] as const) {
      s3.fail(failure);
      try {
        const read = await file(t, up.body.url);
        assert.equal(read.status, 503, `${JSON.stringify(failure)}: ${read.text}`);
        assert.equal(read.body.type, "urn:dateline:problem:storage-unavailable");
        assert.equal(read.headers["retry-after"], "5");
        assert.equal(read.headers["cache-control"], "no-store");
        // None of the file's validators on the problem.
        assert.notEqual(read.headers.etag, ok.headers.etag);
        assert.equal(read.headers["last-modified"], undefined);

        const write = await upload(t, t.writer.token, png(2, 2, 9));
        assert.equal(write.status, 503);
        assert.equal(write.body.type, "urn:dateline:problem:storage-unavailable");
        assert.equal(await t.db.prisma.media.count(), rows, "no record for a file that was not stored");
      } finally {
        s3.fail(null);
      }
    }
    const again = await file(t, up.body.url);
    assert.equal(again.status, 200);
    assert.deepEqual(again.bytes, png(3, 3, 1));
  });

  it("answers 503 when the store refuses the connection or the credentials (the front checks every signature)", async () => {
    const refused = await secondInstance(t, { ...s3.env, S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}`, S3_MAX_ATTEMPTS: "1" });
    const wrongKey = await secondInstance(t, { ...s3.env, S3_SECRET_ACCESS_KEY: "not-the-secret", S3_MAX_ATTEMPTS: "1" });
    try {
      const up = await upload(t, t.writer.token, png(1, 2));
      for (const b of [refused, wrongKey]) {
        const read = await file(b, up.body.url);
        assert.equal(read.status, 503);
        // Not mistaken for the database (ECONNREFUSED).
        assert.equal(read.body.type, "urn:dateline:problem:storage-unavailable");
        const write = await upload(b, t.writer.token, png(2, 1));
        assert.equal(write.status, 503);
        assert.equal(write.body.type, "urn:dateline:problem:storage-unavailable");
      }
      const refusedSigs = s3.requests.filter((r) => !r.verified);
      assert.ok(refusedSigs.length >= 2);
      assert.ok(refusedSigs.every((r) => r.problem === "signature does not match"), JSON.stringify(refusedSigs));
    } finally {
      await refused.close();
      await wrongKey.close();
    }
  });
});

describe("S3 configuration", () => {
  it("fails fast without a bucket, with one half of the keys, or with a bad prefix", () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return "";
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.message;
      }
    };
    assert.match(problems({ MEDIA_STORAGE: "s3" }), /S3_BUCKET: is required when MEDIA_STORAGE=s3/);
    assert.match(problems({ MEDIA_STORAGE: "s3", S3_BUCKET: "media", S3_ACCESS_KEY_ID: "x" }), /S3_SECRET_ACCESS_KEY: .*set together/);
    assert.match(problems({ MEDIA_STORAGE: "s3", S3_BUCKET: "media", S3_PREFIX: "/abs" }), /S3_PREFIX/);
    assert.match(problems({ MEDIA_STORAGE: "s3", S3_BUCKET: "media", S3_ENDPOINT: "ftp://x" }), /S3_ENDPOINT/);
    assert.equal(problems({ MEDIA_STORAGE: "s3", S3_BUCKET: "media" }), "");
    assert.equal(loadConfig({ MEDIA_STORAGE: "s3", S3_BUCKET: "media" }).S3_PREFIX, "media/");
    assert.equal(loadConfig({ MEDIA_STORAGE: "s3", S3_BUCKET: "media", S3_PREFIX: "/" }).S3_PREFIX, "");
    assert.equal(loadConfig({}).MEDIA_STORAGE, "local");
  });
});
