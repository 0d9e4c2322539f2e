// Swagger UI's "Try it out" against the demo newsroom (issue 13 §1): the examples written in openapi.yaml
// are the requests a developer sends when pressing Execute without editing anything, so they must succeed.
// This file reads the examples from openapi.yaml itself (nothing here repeats them) and runs them against a
// live server holding the demo newsroom as a development start seeds it (desk editors with the documented
// demo password): log in
// with the login example, create an article with the create example, publish it with the publish example,
// read it publicly by its slug; schedule with the schedule example (its date must still be in the future);
// and call every public GET with its documented parameter examples (2xx, and lists and searches find
// something). An example that goes stale (a slug the demo does not have, a filter that matches nothing, a
// past date, an If-Match that cannot match) fails here.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import YAML from "yaml";
import { OPENAPI_PATH } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { DEMO_DESK_PASSWORD, seedDemo } from "../src/seed/demo.ts";
import { backfillSearch } from "../src/search/index.ts";
import { startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";

type Obj = Record<string, any>;
const doc: Obj = YAML.parse(fs.readFileSync(OPENAPI_PATH, "utf8"));
const METHODS = ["get", "put", "post", "patch", "delete"] as const;

function resolve<T = Obj>(node: any): T {
  let n = node;
  for (let hops = 0; n && typeof n.$ref === "string"; hops++) {
    assert.ok(hops < 20, `$ref loop at ${n.$ref}`);
    n = n.$ref.slice(2).split("/").reduce((o: Obj, k: string) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
  }
  return n as T;
}

interface Operation { id: string; method: string; path: string; op: Obj; params: Obj[] }

const operations: Operation[] = Object.entries(doc.paths as Obj).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({
    id: item[method].operationId as string, method, path, op: item[method],
    params: [...(item.parameters ?? []), ...(item[method].parameters ?? [])].map((p) => resolve(p)),
  })));

function operation(id: string): Operation {
  const found = operations.find((o) => o.id === id);
  assert.ok(found, `no operation ${id} in openapi.yaml`);
  return found;
}

/** What Swagger UI pre-fills for a parameter: its example, else its schema's. */
function paramExample(p: Obj): unknown {
  if (p.example !== undefined) return p.example;
  if (p.examples) return resolve(Object.values(p.examples)[0]).value;
  const schema = resolve(p.schema ?? {});
  if (schema.example !== undefined) return schema.example;
  return Array.isArray(schema.examples) ? schema.examples[0] : undefined;
}

/** The request body Swagger UI pre-fills: the media type's example, its first named example, else the schema's. */
function bodyExample(o: Operation, type = "application/json"): unknown {
  const media = resolve(o.op.requestBody)?.content?.[type];
  assert.ok(media, `${o.id} takes no ${type} body`);
  if (media.example !== undefined) return media.example;
  if (media.examples) return resolve(Object.values(media.examples)[0]).value;
  const schema = resolve(media.schema);
  assert.ok(schema.example !== undefined, `${o.id}: no example for its ${type} body`);
  return schema.example;
}

/** The request path and headers of an operation with its documented parameter examples; `given` fills the rest. */
function request(o: Operation, given: Record<string, string | number> = {}) {
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  let path = o.path;
  const missing: string[] = [];
  for (const p of o.params) {
    const value = given[p.name] ?? paramExample(p);
    if (value === undefined) {
      if (p.required) missing.push(p.name);
      continue;
    }
    if (p.in === "path") path = path.replace(`{${p.name}}`, encodeURIComponent(String(value)));
    else if (p.in === "query") query.append(p.name, String(value));
    else if (p.in === "header") headers[p.name] = String(value);
  }
  return { url: query.size ? `${path}?${query}` : path, headers, missing };
}

const isPublic = (o: Operation) => Array.isArray(o.op.security) && o.op.security.length === 0;

/** At least one item in a list, search, feed or sitemap answer. */
function firstItems(res: TestResponse): number {
  const type = res.headers["content-type"] ?? "";
  if (/json/.test(type)) {
    const body = res.body && typeof res.body === "object" ? res.body : JSON.parse(res.text);
    const lists = ["data", "items", "stories"].filter((k) => Array.isArray(body[k]));
    return lists.length ? Math.max(...lists.map((k) => body[k].length)) : 1;
  }
  if (/xml/.test(type)) return (res.text.match(/<(item|entry|url|sitemap)[\s>]/g) ?? []).length;
  return 1;
}

let t: TestApp;

before(async () => {
  t = await startTestApp();
  // The newsroom as a plain development `npm start` makes it (src/server.ts): the demo seed with the
  // desk editors' documented password, then the search backfill.
  const config = loadConfig({ NODE_ENV: "development", JWT_SECRET: t.secret });
  assert.equal(config.SEED_DEMO, true, "development seeds the demo by default");
  assert.equal(await seedDemo(t.db.prisma, undefined, { deskPassword: DEMO_DESK_PASSWORD }), true, "the demo newsroom is seeded into the fresh database");
  await backfillSearch(t.db.prisma, t.config.SITE_LANGUAGE);
});
after(() => t?.close());

describe("openapi.yaml's examples against the demo newsroom", () => {
  let token = "";

  it("the login example signs in as a demo desk editor with the password the documentation names", async () => {
    const login = operation("login");
    const body = bodyExample(login) as { email: string; password: string };
    assert.equal(body.password, DEMO_DESK_PASSWORD, "the example uses the demo desk editors' password");
    const described = String(login.op.description).replace(/\s+/g, " ");
    assert.ok(described.includes(`\`${body.email}\``) && described.includes(`\`${body.password}\``), "the description names the example's account");
    const res = await t.post(login.path, body);
    assert.equal(res.status, 200, res.text);
    token = res.body.accessToken;
    const me = await t.get("/api/v1/admin/me", { token });
    assert.equal(me.body.email, body.email);
    assert.ok(["EDITOR", "ADMIN"].includes(me.body.role), "the account may create and publish");
  });

  it("Try it out in order: create with the example body, publish with the example, read it publicly by its slug", async () => {
    assert.ok(token, "signed in by the login example");
    const create = operation("createArticle");
    const draft = bodyExample(create) as { headline: string };
    const created = await t.post(create.path, draft, { token });
    assert.equal(created.status, 201, created.text);

    const publish = operation("publishArticle");
    const req = request(publish, { id: created.body.id });
    assert.deepEqual(req.headers, {}, "no If-Match pre-filled: the optional precondition is left out");
    const published = await t.post(req.url, bodyExample(publish), { token, headers: req.headers });
    assert.equal(published.status, 200, published.text);
    assert.equal(published.body.status, "PUBLISHED");

    const read = operation("getPublishedArticle");
    const { url } = request(read, { slug: created.body.slug });
    const res = await t.get(url);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.headline, draft.headline);
    // Newest first: the story published now leads the public list.
    const list = await t.get(operation("listPublishedArticles").path);
    assert.equal(list.body.data[0].slug, created.body.slug);
  });

  it("the schedule example's date is still in the future", async () => {
    const created = await t.post(operation("createArticle").path, bodyExample(operation("createArticle")), { token });
    assert.equal(created.status, 201, created.text);
    const schedule = operation("scheduleArticle");
    const res = await t.post(request(schedule, { id: created.body.id }).url, bodyExample(schedule), { token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, "SCHEDULED");
  });

  it("no If-Match parameter has an example (an ETag must be copied from a read, never guessed)", () => {
    const offenders = operations.flatMap((o) => o.params
      .filter((p) => p.in === "header" && p.name.toLowerCase() === "if-match" && paramExample(p) !== undefined)
      .map(() => o.id));
    assert.deepEqual(offenders, []);
  });

  it("every public GET answers 2xx with its documented parameter examples, and lists and searches find something", async () => {
    // Operations whose required parameters cannot have a working example, with why.
    const noExample: Record<string, string> = {
      getArticlePreview: "the token is signed and expires: it comes from POST .../preview",
      getMediaFile: "uploaded file names are random UUIDs",
    };
    const gets = operations.filter((o) => o.method === "get" && isPublic(o));
    assert.ok(gets.length >= 30, `${gets.length} public GETs`);
    const failures: string[] = [];
    const skipped: string[] = [];
    for (const o of gets) {
      const req = request(o);
      if (req.missing.length) {
        skipped.push(o.id);
        continue;
      }
      if (resolve(o.op.responses["200"])?.content?.["text/event-stream"]) {
        const status = await streamStatus(req.url, req.headers);
        if (status !== 200) failures.push(`${o.id} ${req.url}: ${status}`);
        continue;
      }
      const res = await t.get(req.url, { headers: req.headers });
      if (res.status < 200 || res.status > 299) failures.push(`${o.id} ${req.url}: ${res.status} ${res.text.slice(0, 200)}`);
      else if (firstItems(res) < 1) failures.push(`${o.id} ${req.url}: nothing found`);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(skipped.sort(), Object.keys(noExample).sort(), "only these public GETs lack an example for a required parameter");
  });

  it("the editor API's list filters, with their examples, find something in the demo newsroom", async () => {
    assert.ok(token, "signed in by the login example");
    const lists = operations.filter((o) => o.method === "get" && !isPublic(o) && !o.path.includes("{")
      && o.params.some((p) => p.in === "query" && paramExample(p) !== undefined));
    assert.ok(lists.length >= 4, lists.map((o) => o.id).join());
    const failures: string[] = [];
    for (const o of lists) {
      const { url } = request(o);
      let res = await t.get(url, { token });
      // ADMIN-only lists refuse the demo EDITOR; their examples must work for an ADMIN.
      if (res.status === 403) res = await t.get(url, { token: t.admin.token });
      if (res.status !== 200) failures.push(`${o.id} ${url}: ${res.status} ${res.text.slice(0, 200)}`);
      else if (firstItems(res) < 1) failures.push(`${o.id} ${url}: nothing found`);
    }
    assert.deepEqual(failures, []);
  });
});

/** The status of a Server-Sent Events stream (which never ends: the connection is closed at once). */
function streamStatus(url: string, headers: Record<string, string>): Promise<number> {
  const { port } = t.server.address() as { port: number };
  return new Promise((resolveStatus, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: url, headers }, (res) => {
      resolveStatus(res.statusCode ?? 0);
      req.destroy();
    });
    req.on("error", (err) => (req.destroyed ? undefined : reject(err)));
  });
}
