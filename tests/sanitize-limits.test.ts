// Article bodies: sanitizing runs off the event loop, within size, structure
// and time limits (issue 7, item 2). A body of a few hundred KB of unclosed
// inline tags used to block every request, /healthz included, for ~30 s.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { plainText, sanitizeBody } from "../src/articles/sanitize.ts";
import { makeArticle, makeSection, startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";

const articles = "/api/v1/admin/articles";
const path = (id: number) => `${articles}/${id}`;

/** The shape from the report: nested inline tags, never closed. */
const hostile = (chars: number) => "<b><i><u>".repeat(Math.floor(chars / 9));

function assertFieldError(res: TestResponse, status: number, code: string, message: RegExp) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body.type, `urn:dateline:problem:${code}`);
  assert.equal(res.body.errors?.length, 1, res.text);
  assert.equal(res.body.errors[0].path, "body.body");
  assert.match(res.body.errors[0].message, message);
}

describe("article body limits (defaults)", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
    await makeSection(t, "desk");
  });
  after(() => t.close());

  const create = (body: string) =>
    t.post(articles, { headline: "Limits", section: "desk", body }, { token: t.writer.token });

  it("refuses the hostile shape at the largest allowed size with 400 at body.body, storing nothing", async () => {
    const before = await t.get(articles, { token: t.admin.token });
    const body = hostile(t.config.BODY_HTML_MAX_CHARS);
    assert.ok(body.length > t.config.BODY_HTML_MAX_CHARS - 9);
    assertFieldError(await create(body), 400, "validation-error", /nested at most 100 deep/);
    assertFieldError(await create("<span>".repeat(101)), 400, "validation-error", /nested at most 100 deep/);
    const after = await t.get(articles, { token: t.admin.token });
    assert.equal(after.body.data.length, before.body.data.length);
  });

  it("takes nesting up to the limit and sanitizes it exactly as the in-process sanitizer does", async () => {
    const nested = (depth: number) =>
      `${"<b>".repeat(depth - 1)}<a href="javascript:alert(1)" target="_blank" onclick="x()">x</a><script>y</script>${"</b>".repeat(depth - 1)}`;
    const ok = await create(nested(100));
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.body, sanitizeBody(nested(100)));
    assert.equal(ok.body.bodyText, plainText(ok.body.body));
    assert.match(ok.body.body, /^<b><b>.*<a target="_blank" rel="noopener noreferrer">x<\/a><\/b>/);
    assert.doesNotMatch(ok.body.body, /script|onclick|javascript/);
    assertFieldError(await create(nested(101)), 400, "validation-error", /nested at most 100 deep/);
  });

  it("counts elements, void ones included", async () => {
    const max = t.config.BODY_HTML_MAX_ELEMENTS;
    const ok = await create("<br>".repeat(max));
    assert.equal(ok.status, 201, ok.text);
    assertFieldError(await create("<br>".repeat(max + 1)), 400, "validation-error", /At most 20000 elements/);
  });

  it("caps the size at BODY_HTML_MAX_CHARS, well below the JSON body limit", async () => {
    const max = t.config.BODY_HTML_MAX_CHARS;
    assert.ok(max * 2 < t.config.BODY_LIMIT);
    const ok = await create(`<p>${"x".repeat(max - 7)}</p>`);
    assert.equal(ok.status, 201, ok.text);
    assertFieldError(await create(`<p>${"x".repeat(max - 6)}</p>`), 400, "validation-error", /at most 200000 characters/);
  });

  it("applies the same limits to PATCH and leaves the article unchanged", async () => {
    const a = await makeArticle(t, { headline: "Patch me", section: "desk", body: "<p>Before.</p>" }, t.writer.token);
    const headers = await t.ifMatch(path(a.id));
    const res = await t.patch(path(a.id), { body: hostile(100_000) }, { token: t.writer.token, headers });
    assertFieldError(res, 400, "validation-error", /nested at most 100 deep/);
    const now = await t.get(path(a.id), { token: t.writer.token });
    assert.equal(now.body.body, "<p>Before.</p>");
    assert.equal(now.headers.etag, headers["If-Match"]);
    const ok = await t.patch(path(a.id), { body: "<p>After.</p>" }, { token: t.writer.token, headers });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.bodyText, "After.");
  });

  it("refuses to restore a revision whose stored body exceeds today's limits, with 422 and no change", async () => {
    const a = await makeArticle(t, { headline: "Legacy", section: "desk", body: "<p>Now.</p>" }, t.editor.token);
    // As saved before the limits existed: the stored revision content is what a restore reads.
    const rev = await t.db.prisma.articleRevision.findFirstOrThrow({ where: { articleId: a.id, number: 1 } });
    await t.db.prisma.articleRevision.update({
      where: { id: rev.id },
      data: { content: { ...(rev.content as object), body: "<span>".repeat(5000) } },
    });
    const res = await t.post(`${path(a.id)}/revisions/1/restore`, undefined, { token: t.editor.token });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.type, "urn:dateline:problem:body-too-complex");
    assert.match(res.body.detail, /revision 1/);
    assert.equal((await t.get(path(a.id), { token: t.editor.token })).body.body, "<p>Now.</p>");
  });
});

describe("sanitizing off the event loop, with a time limit", () => {
  let t: TestApp;
  before(async () => {
    // Structural limits lifted, so that the report's 480 KB body reaches the
    // sanitizer itself (tens of seconds of work) and only the worker thread
    // and its time limit stand between it and the other requests.
    t = await startTestApp({
      BODY_HTML_MAX_CHARS: "500000",
      BODY_HTML_MAX_DEPTH: "1000000",
      BODY_HTML_MAX_ELEMENTS: "1000000",
      BODY_SANITIZE_TIMEOUT_MS: "1500",
    });
    await makeSection(t, "desk");
  });
  after(() => t.close());

  it("answers /healthz while the hostile body is being sanitized, then refuses the body with 422", async () => {
    const events: string[] = [];
    const posting = t
      .post(articles, { headline: "Hostile", section: "desk", body: hostile(480_000) }, { token: t.writer.token })
      .then((res) => {
        events.push("hostile");
        return res;
      });
    // Wait for the worker to pick the body up: from here on the old code held the event loop.
    while (t.sanitizer.running === 0 && !events.includes("hostile")) await new Promise((r) => setTimeout(r, 5));
    assert.equal(t.sanitizer.running, 1, "the hostile body is being sanitized");
    for (let i = 0; i < 3; i++) {
      const health = await t.get("/healthz");
      assert.equal(health.status, 200);
      events.push("healthz");
    }
    const res = await posting;
    assert.deepEqual(events, ["healthz", "healthz", "healthz", "hostile"]);
    assertFieldError(res, 422, "body-too-complex", /Too complex/);
    assert.equal(t.sanitizer.running, 0);

    // The terminated worker is replaced: the next body is sanitized as usual.
    const ok = await t.post(articles, { headline: "Fine", section: "desk", body: "<p>Fine &amp; well.</p>" }, { token: t.writer.token });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.bodyText, "Fine & well.");
    const list = await t.get(articles, { token: t.admin.token });
    assert.deepEqual(list.body.data.map((a: { headline: string }) => a.headline), ["Fine"]);
  });
});
