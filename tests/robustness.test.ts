// Input the database cannot store (NUL, lone surrogates, out-of-range dates
// and ids, malformed percent-encoding) is a 400 on every route, and a
// PostgreSQL that is down, hanging or too slow is a 503 with Retry-After,
// never a 500 or an endless wait.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, PASSWORD, publish, startTestApp, type TestApp } from "./support/harness.ts";

const BAD_STRINGS = { nul: "a\u0000b", surrogate: "a\ud800b", lowSurrogate: "\udc00" };

function assertFieldErrors(res: { status: number; headers: Record<string, string>; body: any }, paths: string[]) {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.headers["content-type"].split(";")[0], "application/problem+json");
  assert.equal(res.body.type, "urn:dateline:problem:validation-error");
  assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path).sort(), [...paths].sort());
}

/** JSON text as a client would send it; JSON.stringify escapes lone surrogates as \udXXX. */
const json = (value: unknown) => ({ raw: { data: JSON.stringify(value), type: "application/json" } });

describe("strings and encodings the database cannot store", () => {
  let t: TestApp;
  let slug: string;
  before(async () => {
    t = await startTestApp();
    await makeSection(t, "news");
    const a = await makeArticle(t, { headline: "Open for comments", section: "news" });
    await publish(t, a.id);
    slug = a.slug;
  });
  after(() => t.close());

  for (const [name, bad] of Object.entries(BAD_STRINGS)) {
    it(`refuses ${name} in login, comments and editor fields with a field-level 400`, async () => {
      assertFieldErrors(await t.call("POST", "/api/v1/auth/login", json({ email: `x${bad}@test.local`, password: bad })),
        ["body.email", "body.password"]);
      assertFieldErrors(await t.call("POST", `/api/v1/articles/${slug}/comments`, json({ name: bad, body: `Hello ${bad}` })),
        ["body.name", "body.body"]);
      assertFieldErrors(await t.call("POST", "/api/v1/admin/articles", { ...json({ headline: bad, section: "news", body: `<p>${bad}</p>` }), token: t.admin.token }),
        ["body.body", "body.headline"]);
      assertFieldErrors(await t.call("POST", "/api/v1/admin/sections", { ...json({ slug: "s", name: "S", description: bad }), token: t.admin.token }),
        ["body.description"]);
      // In nested values and in field names too.
      assertFieldErrors(await t.call("POST", "/api/v1/admin/articles", { ...json({ headline: "H", section: "news", gallery: [{ media: 1, caption: bad }] }), token: t.admin.token }),
        ["body.gallery.0.caption"]);
      const badKey = await t.call("POST", "/api/v1/auth/login", json({ email: "a@b.c", password: "p", [`x${bad}`]: 1 }));
      assert.equal(badKey.status, 400);
      assert.match(badKey.body.errors[0].message, /^Field name: /);
    });
  }

  it("refuses NUL in the query string and in path parameters", async () => {
    assertFieldErrors(await t.get("/api/v1/articles?tag=a%00b"), ["query.tag"]);
    assertFieldErrors(await t.get("/api/v1/articles?tag=a&tag=%00"), ["query.tag.1"]);
    assertFieldErrors(await t.get("/api/v1/admin/audit?action=%00", { token: t.admin.token }), ["query.action"]);
    // The preview token is any string: only the NUL check stands between it and the database.
    assertFieldErrors(await t.get("/api/v1/preview/abc%00def"), ["params.token"]);
  });

  it("answers 400, not 500, for malformed percent-encoding in the path", async () => {
    for (const path of ["/api/v1/articles/%ff", "/api/v1/sections/%E0%A4%A", "/api/v1/articles/%ED%A0%80/comments", "/api/v1/preview/%C0"]) {
      const res = await t.get(path);
      assertFieldErrors(res, ["params"]);
      assert.match(res.body.errors[0].message, /percent-encoding/);
    }
    assertFieldErrors(await t.get("/api/v1/admin/articles/%ff", { token: t.admin.token }), ["params"]);
  });

  it("refuses NUL in multipart fields (parsed after the JSON check)", async () => {
    const boundary = "----dateline";
    const body = [
      `--${boundary}`, 'Content-Disposition: form-data; name="caption"', "", "A\u0000B",
      `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="x.png"', "Content-Type: image/png", "", "not really a png",
      `--${boundary}--`, "",
    ].join("\r\n");
    const res = await t.call("POST", "/api/v1/admin/media", {
      token: t.writer.token, raw: { data: Buffer.from(body, "utf8"), type: `multipart/form-data; boundary=${boundary}` },
    });
    assertFieldErrors(res, ["body.caption"]);
  });

  it("refuses bodies nested beyond 32 levels, without a stack overflow", async () => {
    const n = 200_000;
    const deep = `{"email":"a@b.c","password":"p","x":${"[".repeat(n)}${"]".repeat(n)}}`;
    const res = await t.call("POST", "/api/v1/auth/login", { raw: { data: deep, type: "application/json" } });
    assert.equal(res.status, 400);
    assert.match(res.body.errors[0].message, /Nested too deeply/);
  });

  it("does not let __proto__ or constructor keys reach any prototype", async () => {
    const data = '{"email":"a@b.c","password":"p","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    const res = await t.call("POST", "/api/v1/auth/login", { raw: { data, type: "application/json" } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path).sort(), ["body.__proto__", "body.constructor"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("refuses date-times the database cannot store", async () => {
    const a = await makeArticle(t, { headline: "Dated", section: "news" });
    for (const publishedAt of ["0000-06-01T00:00:00Z", "9999-12-31T23:00:00-05:00", "0099-01-01T00:00:00Z"]) {
      const res = await t.post(`/api/v1/admin/articles/${a.id}/publish`, { publishedAt }, { token: t.editor.token });
      assertFieldErrors(res, ["body.publishedAt"]);
    }
    assertFieldErrors(await t.post(`/api/v1/admin/articles/${a.id}/schedule`, { scheduledAt: "9999-12-31T23:59:59-23:59" }, { token: t.editor.token }),
      ["body.scheduledAt"]);
    assertFieldErrors(await t.get("/api/v1/admin/audit?since=0000-01-01T00:00:00Z&until=9999-12-31T23:59:59-01:00", { token: t.admin.token }),
      ["query.since", "query.until"]);
    // The bounds themselves are fine.
    const ok = await t.get("/api/v1/admin/audit?since=1000-01-01T00:00:00Z&until=9999-12-31T23:59:59.999Z", { token: t.admin.token });
    assert.equal(ok.status, 200);
  });

  it("refuses forged cursors that decode to ids or times the database cannot take", async () => {
    const forged = (c: unknown) => Buffer.from(JSON.stringify(c)).toString("base64url");
    for (const c of [{ id: 2 ** 40 }, { id: 1e300 }, { t: "0000-01-01T00:00:00Z", id: 1 }, { t: "2024-01-01T00:00:00Z", id: -1 }]) {
      const res = await t.get(`/api/v1/articles?cursor=${forged(c)}`);
      assertFieldErrors(res, ["query.cursor"]);
      assertFieldErrors(await t.get(`/api/v1/admin/editors?cursor=${forged(c)}`, { token: t.admin.token }), ["query.cursor"]);
    }
    assertFieldErrors(await t.get("/api/v1/articles?cursor=%ff%fe"), ["query.cursor"]);
  });

  it("leaves header values to Node's parser: NUL in User-Agent is refused before the app, Latin-1 is stored", async () => {
    const { port } = t.server.address() as net.AddressInfo;
    const raw = await new Promise<string>((resolve, reject) => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.end(Buffer.concat([Buffer.from("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nUser-Agent: a"), Buffer.from([0]),
          Buffer.from("b\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")]));
      });
      let out = "";
      c.on("data", (d) => (out += d.toString("latin1")));
      c.on("end", () => resolve(out));
      c.on("error", reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    const res = await t.post("/api/v1/auth/login", { email: t.admin.email, password: PASSWORD }, { headers: { "User-Agent": "Caf\u00e9 browser \u00ff" } });
    assert.equal(res.status, 200);
  });
});

// ---------------------------------------------------------------- outages

const onPostgres = Boolean(process.env.DATABASE_URL);

/**
 * A TCP proxy in front of PostgreSQL that a test can take down (connections
 * refused), freeze (connections accepted, existing ones kept open, nothing
 * forwarded either way: a hanging server or a network partition) and restore.
 */
async function dbProxy(target: URL) {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (frozen) return;
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on("close", () => { sockets.delete(upstream); client.destroy(); });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.on("data", (d) => { if (!frozen) upstream.write(d); });
    upstream.on("data", (d) => { if (!frozen) client.write(d); });
  });
  const listen = (port = 0) => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  await listen();
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    freeze() { frozen = true; },
    async down() {
      frozen = false;
      await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); });
    },
    async up() {
      // Frozen connections are lost, as after a partition; live ones stay.
      if (frozen) for (const s of sockets) s.destroy();
      frozen = false;
      if (!server.listening) await listen(port);
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** startTestApp with its database reached through `url` instead of DATABASE_URL. */
async function startBehind(url: string, env: Record<string, string>): Promise<TestApp> {
  const saved = process.env.DATABASE_URL;
  process.env.DATABASE_URL = url;
  try {
    return await startTestApp(env);
  } finally {
    process.env.DATABASE_URL = saved;
  }
}

function assertUnavailable(res: { status: number; headers: Record<string, string>; body: any }, code = "database-unavailable") {
  assert.equal(res.status, 503, JSON.stringify(res.body));
  assert.equal(res.headers["content-type"].split(";")[0], "application/problem+json");
  assert.equal(res.body.type, `urn:dateline:problem:${code}`);
  assert.match(res.headers["retry-after"] ?? "", /^[1-9][0-9]*$/);
}

describe("a PostgreSQL outage", { skip: !onPostgres && "PGlite runs in-process: it cannot go down or hang apart from the app" }, () => {
  it("answers 503 with Retry-After while the server is down or hanging, and recovers", { timeout: 60_000 }, async () => {
    const proxy = await dbProxy(new URL(process.env.DATABASE_URL!));
    const t = await startBehind(proxy.url, { DATABASE_CONNECT_TIMEOUT_MS: "500", DATABASE_STATEMENT_TIMEOUT_MS: "1000" });
    try {
      await makeSection(t, "news");
      assert.equal((await t.get("/readyz")).status, 200);
      assert.equal((await t.get("/api/v1/articles")).status, 200);

      // Hanging: pooled connections stop answering, new ones never finish the handshake.
      proxy.freeze();
      // What the in-process cache holds keeps being served (it is invalidated
      // by change events, and none can commit while the database is away);
      // anything it has to read answers 503.
      assert.equal((await t.get("/api/v1/articles")).status, 200);
      assertUnavailable(await t.get("/api/v1/articles?limit=7"));
      assertUnavailable(await t.post("/api/v1/auth/login", { email: t.admin.email, password: PASSWORD }));
      assertUnavailable(await t.get("/readyz"), "not-ready");

      // Down: connections refused.
      await proxy.down();
      assertUnavailable(await t.get("/api/v1/articles?limit=8"));
      assertUnavailable(await t.get("/api/v1/sections/news"));
      assertUnavailable(await t.post("/api/v1/auth/login", { email: t.admin.email, password: PASSWORD }));
      assertUnavailable(await t.get("/api/v1/admin/me", { token: t.admin.token }));
      assertUnavailable(await t.post("/api/v1/admin/sections", { slug: "more", name: "More" }, { token: t.admin.token }));
      assertUnavailable(await t.get("/readyz"), "not-ready");

      // Back: the pool reconnects on its own.
      await proxy.up();
      assert.equal((await t.get("/readyz")).status, 200);
      assert.equal((await t.get("/api/v1/sections/news")).status, 200);
      assert.equal((await t.post("/api/v1/auth/login", { email: t.admin.email, password: PASSWORD })).status, 200);
    } finally {
      await proxy.up();
      await t.close();
      await proxy.close();
    }
  });

  it("answers /readyz within its own timeout when the database hangs, however long the pool would wait", { timeout: 30_000 }, async () => {
    const proxy = await dbProxy(new URL(process.env.DATABASE_URL!));
    // Connect and statement timeouts far beyond this test's timeout: only the probe's own limit can answer.
    const t = await startBehind(proxy.url, { DATABASE_CONNECT_TIMEOUT_MS: "120000", DATABASE_STATEMENT_TIMEOUT_MS: "120000" });
    try {
      assert.equal((await t.get("/readyz")).status, 200);
      proxy.freeze();
      const res = await t.get("/readyz");
      assertUnavailable(res, "not-ready");
      assert.equal(res.body.detail, "The database is not reachable.");
    } finally {
      await proxy.up();
      await t.close();
      await proxy.close();
    }
  });

  it("answers 503 when a statement outlives DATABASE_STATEMENT_TIMEOUT_MS; migrations and locks run without it", { timeout: 60_000 }, async () => {
    const t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: "300", DATABASE_IDLE_TX_TIMEOUT_MS: "4000" });
    const peer = await t.openPeer();
    try {
      await makeSection(t, "news");
      const settings = await t.db.prisma.$queryRawUnsafe<{ s: string; i: string }[]>(
        "SELECT current_setting('statement_timeout') AS s, current_setting('idle_in_transaction_session_timeout') AS i");
      assert.deepEqual(settings, [{ s: "300ms", i: "4s" }]);
      const lent = await t.db.withConnection((c) => c.query<{ s: string }>("SELECT current_setting('statement_timeout') AS s"));
      assert.deepEqual(lent, [{ s: "0" }]);

      // Another session holds the table: the app's query waits past its timeout.
      const res = await peer.withConnection(async (c) => {
        await c.exec('BEGIN; LOCK TABLE "Section" IN ACCESS EXCLUSIVE MODE');
        try {
          return await t.get("/api/v1/sections/news");
        } finally {
          await c.exec("ROLLBACK");
        }
      });
      assertUnavailable(res);
      assert.equal((await t.get("/api/v1/sections/news")).status, 200);
    } finally {
      await peer.close();
      await t.close();
    }
  });
});
