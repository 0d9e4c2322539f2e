import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp({ BODY_LIMIT: "16kb" });
  await makeSection(t, "news");
});
after(() => t.close());

describe("input validation and errors", () => {
  it("answers field-level problem+json for invalid bodies", async () => {
    const res = await t.post("/api/v1/admin/articles", { headline: "", section: "No Such", kind: "GOSSIP", editors: [1, 1] }, { token: t.editor.token });
    assert.equal(res.status, 400);
    assert.equal(res.headers["content-type"].split(";")[0], "application/problem+json");
    assert.equal(res.body.type, "urn:dateline:problem:validation-error");
    const paths = res.body.errors.map((e: { path: string }) => e.path).sort();
    assert.deepEqual(paths, ["body.editors", "body.headline", "body.kind", "body.section"]);
    for (const e of res.body.errors) assert.ok(e.message.length > 0);
  });

  it("names unknown references in the body", async () => {
    const res = await t.post("/api/v1/admin/articles", { headline: "Refs", section: "missing", editors: [424242], related: [515151] }, { token: t.editor.token });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ["body.section", "body.editors.0", "body.related.0"]);
  });

  it("writes nothing when any part of a multi-row change fails", async () => {
    const a = await makeArticle(t, { headline: "Atomic", section: "news", tags: ["one"] });
    const before = await t.get(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token });
    // New tags would be created and old links replaced, but the related id is bad.
    const res = await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "Changed", tags: ["two", "three"], related: [a.id] }, { token: t.editor.token, headers: { "If-Match": before.headers.etag } });
    assert.equal(res.status, 400);
    const after = await t.get(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token });
    assert.deepEqual(after.body, before.body);
    const pub = await publish(t, a.id);
    const tagged = await t.get("/api/v1/articles?tag=two");
    assert.deepEqual(tagged.body.data, []);
    assert.equal(pub.headline, "Atomic");
  });

  it("answers 400 for malformed JSON, 415 for other media types, 413 over the body limit", async () => {
    const malformed = await t.call("POST", "/api/v1/auth/login", { raw: { data: '{"email": ', type: "application/json" } });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.type, "urn:dateline:problem:malformed-json");
    const form = await t.call("POST", "/api/v1/auth/login", { raw: { data: "email=a&password=b", type: "application/x-www-form-urlencoded" } });
    assert.equal(form.status, 415);
    const big = await t.post("/api/v1/admin/articles", { headline: "Big", section: "news", body: "x".repeat(20 * 1024) }, { token: t.editor.token });
    assert.equal(big.status, 413);
    assert.equal(big.body.status, 413);
  });

  it("answers 404 problem+json for unknown routes and bad ids", async () => {
    const res = await t.get("/api/v1/nothing-here");
    assert.equal(res.status, 404);
    assert.equal(res.body.type, "urn:dateline:problem:not-found");
    assert.equal((await t.get("/api/v1/admin/articles/424242", { token: t.editor.token })).status, 404);
    const bad = await t.get("/api/v1/admin/articles/abc", { token: t.editor.token });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, "params.id");
  });

  it("strips scripts, event handlers and javascript: URLs from bodies", async () => {
    const a = await makeArticle(t, {
      headline: "Sanitized",
      section: "news",
      body: '<p onclick="steal()">Hello <script>alert(1)</script><a href="javascript:alert(2)">x</a> <a href="https://example.org/" target="_blank">ok</a><img src="x" onerror="alert(3)"></p><iframe src="https://evil"></iframe><style>p{}</style>',
    });
    assert.doesNotMatch(a.body, /script|onclick|onerror|javascript:|iframe|style/i);
    assert.match(a.body, /<a href="https:\/\/example.org\/" target="_blank" rel="noopener noreferrer">ok<\/a>/);
    assert.equal(a.bodyText, "Hello x ok");
  });

  it("derives unique slugs from headlines and refuses a taken explicit slug", async () => {
    const a = await makeArticle(t, { headline: "Same headline!", section: "news" });
    const b = await makeArticle(t, { headline: "Same headline?", section: "news" });
    assert.equal(a.slug, "same-headline");
    assert.equal(b.slug, "same-headline-2");
    const clash = await t.post("/api/v1/admin/articles", { headline: "Other", slug: "same-headline", section: "news" }, { token: t.editor.token });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.errors[0].path, "slug");
  });

  it("refuses a publish time in the future (scheduling is a separate action)", async () => {
    const a = await makeArticle(t, { headline: "Later", section: "news" });
    const res = await t.post(`/api/v1/admin/articles/${a.id}/publish`, { publishedAt: "2999-01-01T00:00:00Z" }, { token: t.editor.token });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].path, "body.publishedAt");
    const un = await t.post(`/api/v1/admin/articles/${a.id}/unpublish`, undefined, { token: t.editor.token });
    assert.equal(un.status, 409);
  });
});
