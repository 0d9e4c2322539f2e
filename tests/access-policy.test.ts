// Who may read drafts, what reaches the request log, and what a write without
// a precondition may answer under concurrency.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { makeArticle, makeSection, publish, startTestApp, type TestApp, type TestEditor } from "./support/harness.ts";

const logLines: string[] = [];
const logStream = new Writable({
  write(chunk, _enc, done) {
    logLines.push(...String(chunk).split("\n").filter(Boolean));
    done();
  },
});

let t: TestApp;
let otherWriter: TestEditor;
before(async () => {
  t = await startTestApp({}, { logger: pino({ level: "info" }, logStream) });
  await makeSection(t, "desk");
  otherWriter = await t.addEditor("WRITER", "Other Writer");
});
after(() => t.close());

describe("draft access for writers", () => {
  it("hides other writers' drafts from lists, reads, revisions and preview links", async () => {
    const mine = await makeArticle(t, { headline: "My own draft", section: "desk" }, t.writer.token);
    const theirs = await makeArticle(t, { headline: "Their secret draft", section: "desk" }, otherWriter.token);
    const desk = await makeArticle(t, { headline: "Desk draft", section: "desk" }, t.editor.token);

    const list = await t.get("/api/v1/admin/articles?limit=100", { token: t.writer.token });
    assert.equal(list.status, 200);
    const ids = list.body.data.map((a: { id: number }) => a.id);
    assert.ok(ids.includes(mine.id));
    assert.ok(!ids.includes(theirs.id), "another writer's draft is not listed");
    assert.ok(!ids.includes(desk.id), "a desk draft is not listed");
    const drafts = await t.get("/api/v1/admin/articles?status=DRAFT&limit=100", { token: t.writer.token });
    assert.deepEqual(drafts.body.data.map((a: { id: number }) => a.id), [mine.id]);

    for (const path of [
      `/api/v1/admin/articles/${theirs.id}`,
      `/api/v1/admin/articles/${theirs.id}/revisions`,
      `/api/v1/admin/articles/${theirs.id}/revisions/1`,
    ]) {
      const res = await t.get(path, { token: t.writer.token });
      assert.equal(res.status, 404, path);
    }
    const preview = await t.post(`/api/v1/admin/articles/${theirs.id}/preview`, {}, { token: t.writer.token });
    assert.equal(preview.status, 404, "no anonymous preview link for someone else's draft");
    const edit = await t.patch(`/api/v1/admin/articles/${theirs.id}`, { summary: "x" }, { token: t.writer.token, headers: { "If-Match": "*" } });
    assert.equal(edit.status, 404);
    // Nor can a writer learn of a draft by recommending it.
    const rel = await t.patch(`/api/v1/admin/articles/${mine.id}`, { related: [theirs.id] }, { token: t.writer.token, headers: { "If-Match": "*" } });
    assert.equal(rel.status, 400);
    assert.equal(rel.body.errors[0].path, "body.related.0");

    // Their own, as before.
    assert.equal((await t.get(`/api/v1/admin/articles/${mine.id}`, { token: t.writer.token })).status, 200);
    assert.equal((await t.get(`/api/v1/admin/articles/${mine.id}/revisions`, { token: t.writer.token })).status, 200);
    assert.equal((await t.post(`/api/v1/admin/articles/${mine.id}/preview`, {}, { token: t.writer.token })).status, 201);
    // Editors see everything.
    assert.equal((await t.get(`/api/v1/admin/articles/${theirs.id}`, { token: t.editor.token })).status, 200);
    assert.equal((await t.post(`/api/v1/admin/articles/${theirs.id}/preview`, {}, { token: t.editor.token })).status, 201);
  });

  it("shares a draft with the writers it credits, and shows every writer what is published", async () => {
    const shared = await makeArticle(t, { headline: "Shared draft", section: "desk", editors: [t.writer.id] }, otherWriter.token);
    const published = await makeArticle(t, { headline: "Out already", section: "desk" }, otherWriter.token);
    await publish(t, published.id);
    assert.equal((await t.get(`/api/v1/admin/articles/${shared.id}`, { token: t.writer.token })).status, 200);
    assert.equal((await t.get(`/api/v1/admin/articles/${published.id}`, { token: t.writer.token })).status, 200);
    const list = await t.get("/api/v1/admin/articles?limit=100", { token: t.writer.token });
    const ids = list.body.data.map((a: { id: number }) => a.id);
    assert.ok(ids.includes(shared.id) && ids.includes(published.id));
    // Reading is not editing: the credited writer still cannot change it.
    const edit = await t.patch(`/api/v1/admin/articles/${shared.id}`, { summary: "x" }, { token: t.writer.token, headers: { "If-Match": "*" } });
    assert.equal(edit.status, 403);
  });
});

describe("the request log", () => {
  it("never records preview tokens or token-like query values", async () => {
    const a = await makeArticle(t, { headline: "Preview me", section: "desk" });
    const link = await t.post(`/api/v1/admin/articles/${a.id}/preview`, {}, { token: t.editor.token });
    assert.equal(link.status, 201);
    const token: string = link.body.token;
    const ok = await t.get(`/api/v1/preview/${token}`);
    assert.equal(ok.status, 200);
    const bad = await t.get(`/api/v1/preview/${token}x`);
    assert.equal(bad.status, 404);
    assert.doesNotMatch(bad.body.instance, new RegExp(token), "nor does the problem document");
    await t.get(`/api/v1/articles?access_token=${token}&refreshToken=${token}&limit=5`);
    const logged = logLines.join("\n");
    assert.match(logged, /\/api\/v1\/preview\/\[REDACTED\]/, "the request is logged");
    assert.match(logged, /access_token=\[REDACTED\]&refreshToken=\[REDACTED\]&limit=5/);
    assert.ok(!logged.includes(token), "the token itself is in no log line");
    // And no signature part either (the part after the last dot).
    assert.ok(!logged.includes(token.split(".")[2]));
  });
});

describe("writes without If-Match under concurrency", () => {
  it("answers success or 409 to parallel publishes that sent no precondition, never 412", async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      const a = await makeArticle(t, { headline: `Race ${round}`, section: "desk" });
      const res = await Promise.all(
        Array.from({ length: 10 }, () => t.post(`/api/v1/admin/articles/${a.id}/publish`, undefined, { token: t.editor.token })),
      );
      const codes = res.map((r) => r.status);
      statuses.push(...codes);
      assert.equal(codes.filter((c) => c === 200).length, 1, `exactly one publish wins: ${codes}`);
      for (const r of res.filter((x) => x.status === 409)) assert.equal(r.body.currentStatus, "PUBLISHED");
    }
    assert.ok(!statuses.includes(412), `no 412 without If-Match: ${statuses}`);
  });

  it("applies a collection rename without If-Match while items change", async () => {
    const c = await t.post("/api/v1/admin/collections", { slug: "race-picks", name: "Picks" }, { token: t.editor.token });
    assert.equal(c.status, 201);
    const stories = [];
    for (let i = 0; i < 4; i++) {
      const a = await makeArticle(t, { headline: `Pick ${i}`, section: "desk" });
      await publish(t, a.id);
      stories.push(a);
    }
    const res = await Promise.all([
      ...stories.map((a) => t.post(`/api/v1/admin/collections/${c.body.id}/items`, { articleId: a.id }, { token: t.editor.token })),
      ...[1, 2, 3].map((n) => t.patch(`/api/v1/admin/collections/${c.body.id}`, { name: `Picks ${n}` }, { token: t.editor.token })),
    ]);
    assert.deepEqual(res.map((r) => r.status).filter((s) => s >= 300), [], "every write succeeds");
  });
});
