// Starts the real app on a fresh, migrated database for one test file:
// an in-memory PGlite by default, or its own schema on the PostgreSQL server
// named by DATABASE_URL. Every response goes through assertMatchesSpec.
import crypto from "node:crypto";
import http from "node:http";
import { pino, type Logger } from "pino";
import request from "supertest";
import { createApp, stopApp } from "../../src/app.ts";
import { createTokenService, type TokenService } from "../../src/auth/tokens.ts";
import { openSession } from "../../src/auth/sessions.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { createEditor } from "../../src/editors/service.ts";
import type { Role } from "../../src/generated/prisma/client.ts";
import { assertMatchesSpec } from "./contract.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mediaStorageFromConfig } from "../../src/media/from-config.ts";
import { createViewCounter, type ViewCounter } from "../../src/views/counter.ts";
import { createEventBus, type EventBus } from "../../src/events/bus.ts";
import { bodySanitizerOptions, createBodySanitizer, type BodySanitizer } from "../../src/articles/sanitize-pool.ts";
import { clientHasher } from "../../src/http/client-hash.ts";
import { createReplicaReads, type PublicReads } from "../../src/db/replicas.ts";

export const PASSWORD = "correct horse battery staple";

export interface TestEditor {
  id: number;
  email: string;
  role: Role;
  token: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw body (string or Buffer) with its own content type. */
  raw?: { data: string | Buffer; type: string };
}

export interface TestResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
}

export interface TestApp {
  config: Config;
  db: Database;
  /** The PostgreSQL schema this file runs in (undefined on PGlite). */
  schema?: string;
  /** A second, independent connection to the same database (PostgreSQL), or the same one (PGlite). */
  openPeer(): Promise<Database>;
  server: http.Server;
  secret: string;
  tokens: TokenService;
  views: ViewCounter;
  /** Change events as this app instance receives them. */
  events: EventBus;
  /** Its read replicas, when `env` named some (DATABASE_REPLICA_URLS). */
  reads?: PublicReads;
  /** The app's article-body sanitizer (its worker pool). */
  sanitizer: BodySanitizer;
  /** Where this app's uploads are stored. */
  mediaDir: string;
  admin: TestEditor;
  editor: TestEditor;
  writer: TestEditor;
  call(method: string, path: string, opts?: CallOptions): Promise<TestResponse>;
  get(path: string, opts?: CallOptions): Promise<TestResponse>;
  post(path: string, body?: unknown, opts?: CallOptions): Promise<TestResponse>;
  patch(path: string, body?: unknown, opts?: CallOptions): Promise<TestResponse>;
  del(path: string, opts?: CallOptions): Promise<TestResponse>;
  addEditor(role: Role, name?: string): Promise<TestEditor>;
  /** `{ "If-Match": <current ETag> }` of an editor-API resource, read as ADMIN. */
  ifMatch(path: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where the app logs (silent by default); tests that read the request log pass their own. */
  logger?: Logger;
}

export async function startTestApp(env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestApp> {
  const secret = crypto.randomBytes(32).toString("hex");
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    JWT_SECRET: secret,
    SEED_DEMO: "false",
    SCHEDULER_ENABLED: "false",
    ...env,
  });
  const url = process.env.DATABASE_URL || undefined;
  const schema = url ? `t_${crypto.randomBytes(6).toString("hex")}` : undefined;
  const db = await openDatabase({
    url, schema, poolSize: 5,
    // As the server does: tests that simulate an outage shorten these through `env`.
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_TX_TIMEOUT_MS,
  });
  await migrate(db);
  const logger = options.logger ?? pino({ level: "silent" });
  const tokens = createTokenService(config, secret);
  const mediaDir = fs.mkdtempSync(path.join(os.tmpdir(), "dateline-media-"));
  // MEDIA_STORAGE=s3 in `env` stores in a bucket (tests/media-s3.test.ts); else the temporary directory.
  const media = mediaStorageFromConfig(config, mediaDir);
  const views = createViewCounter(db.prisma, logger, {
    flushIntervalMs: config.VIEW_FLUSH_INTERVAL_MS,
    dedupSeconds: config.VIEW_DEDUP_SECONDS,
    rateMaxPerMinute: config.VIEW_RATE_MAX_PER_MINUTE,
    maxPerNetworkPerArticle: config.VIEW_MAX_PER_ADDRESS_PER_ARTICLE,
  });
  // Tests flush explicitly (views.flush()) rather than waiting for the timer.
  const sanitizer = createBodySanitizer(bodySanitizerOptions(config));
  const events = createEventBus(db, logger, { pollIntervalMs: config.EVENTS_POLL_INTERVAL_MS });
  await events.start();
  // DATABASE_REPLICA_URLS in `env` (with DATABASE_URL): public reads on those standbys (tests/replicas.test.ts).
  const reads = config.DATABASE_REPLICA_URLS.length
    ? await createReplicaReads({
      primary: db, urls: config.DATABASE_REPLICA_URLS, secret, logger, events, probeIntervalMs: config.DATABASE_REPLICA_PROBE_INTERVAL_MS,
      open: { schema, poolSize: 5, connectTimeoutMs: Math.min(config.DATABASE_CONNECT_TIMEOUT_MS, 2000), statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS },
    })
    : undefined;
  const app = createApp({ config, db, prisma: db.prisma, tokens, logger, media, views, sanitizer, events, hashClient: clientHasher(secret), reads });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  let n = 0;
  const addEditor = async (role: Role, name?: string): Promise<TestEditor> => {
    n += 1;
    const email = `${role.toLowerCase()}${n}@test.local`;
    const e = await createEditor(db.prisma, { name: name ?? `${role} ${n}`, email, password: PASSWORD, role });
    const session = await openSession(db.prisma, tokens, config, e.id);
    return { id: e.id, email, role, token: session.accessToken };
  };

  const call = async (method: string, path: string, opts: CallOptions = {}): Promise<TestResponse> => {
    let req = (request(server) as any)[method.toLowerCase()](path) as request.Test;
    if (opts.token) req = req.set("Authorization", `Bearer ${opts.token}`);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req = req.set(k, v);
    if (opts.raw) req = req.set("Content-Type", opts.raw.type).send(opts.raw.data);
    else if (opts.body !== undefined) req = req.send(opts.body as object);
    const res = await req;
    const out: TestResponse = { status: res.status, headers: res.headers as Record<string, string>, body: res.body, text: res.text };
    assertMatchesSpec(method, path, out);
    return out;
  };

  const [admin, editor, writer] = [await addEditor("ADMIN"), await addEditor("EDITOR"), await addEditor("WRITER")];

  const ifMatch = async (path: string) => {
    const res = await call("GET", path, { token: admin.token });
    if (res.status !== 200 || !res.headers.etag) throw new Error(`no ETag for ${path}: ${res.status}`);
    return { "If-Match": res.headers.etag };
  };

  return {
    config, db, schema, server, secret, tokens, views, events, reads, sanitizer, mediaDir, admin, editor, writer, ifMatch,
    openPeer: async () => (url ? openDatabase({ url, schema, poolSize: 5 }) : db),
    call,
    get: (p, o) => call("GET", p, o),
    post: (p, body, o) => call("POST", p, { ...o, body }),
    patch: (p, body, o) => call("PATCH", p, { ...o, body }),
    del: (p, o) => call("DELETE", p, o),
    addEditor,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopApp(app);
      await views.stop();
      await events.stop();
      await sanitizer.close();
      await media.close?.();
      fs.rmSync(mediaDir, { recursive: true, force: true });
      if (schema) {
        await db.withConnection((c) => c.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
      }
      await reads?.close();
      await db.close();
    },
  };
}

// ---- fixtures ----

export async function makeSection(t: TestApp, slug: string, parent?: string, name?: string) {
  const res = await t.post("/api/v1/admin/sections", { slug, name: name ?? slug, ...(parent ? { parent } : {}) }, { token: t.admin.token });
  if (res.status !== 201) throw new Error(`section ${slug}: ${res.status} ${res.text}`);
  return res.body;
}

export async function makeArticle(t: TestApp, fields: Record<string, unknown>, token = t.editor.token) {
  const res = await t.post("/api/v1/admin/articles", { body: "<p>Text.</p>", ...fields }, { token });
  if (res.status !== 201) throw new Error(`article: ${res.status} ${res.text}`);
  return res.body;
}

export async function publish(t: TestApp, id: number, publishedAt?: string) {
  const res = await t.post(`/api/v1/admin/articles/${id}/publish`, publishedAt ? { publishedAt } : undefined, { token: t.editor.token });
  if (res.status !== 200) throw new Error(`publish ${id}: ${res.status} ${res.text}`);
  return res.body;
}
