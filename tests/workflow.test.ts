import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import jwt from "jsonwebtoken";
import { makeArticle, makeSection, startTestApp, type TestApp } from "./support/harness.ts";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  await makeSection(t, "desk");
});
after(() => t.close());

const future = (ms = 3_600_000) => new Date(Date.now() + ms).toISOString();
const act = (id: number, action: string, body?: unknown, token = t.editor.token) =>
  t.post(`/api/v1/admin/articles/${id}/${action}`, body, { token });

type Status = "DRAFT" | "IN_REVIEW" | "SCHEDULED" | "PUBLISHED" | "ARCHIVED";
let n = 0;
async function articleIn(status: Status) {
  const a = await makeArticle(t, { headline: `Flow ${++n}`, section: "desk" });
  const steps: Record<Status, [string, unknown][]> = {
    DRAFT: [],
    IN_REVIEW: [["submit", undefined]],
    SCHEDULED: [["schedule", { scheduledAt: future() }]],
    PUBLISHED: [["publish", undefined]],
    ARCHIVED: [["archive", undefined]],
  };
  let current = a;
  for (const [action, body] of steps[status]) {
    const res = await act(a.id, action, body);
    assert.equal(res.status, 200, res.text);
    current = res.body;
  }
  return current;
}

const bodies: Record<string, unknown> = {
  submit: undefined,
  return: { note: "Needs a second source." },
  schedule: { scheduledAt: future() },
  publish: undefined,
  unpublish: undefined,
  archive: undefined,
};
const table: Record<string, { from: Status[]; to: Status }> = {
  submit: { from: ["DRAFT"], to: "IN_REVIEW" },
  return: { from: ["IN_REVIEW", "SCHEDULED"], to: "DRAFT" },
  schedule: { from: ["DRAFT", "IN_REVIEW", "SCHEDULED"], to: "SCHEDULED" },
  publish: { from: ["DRAFT", "IN_REVIEW", "SCHEDULED", "ARCHIVED"], to: "PUBLISHED" },
  unpublish: { from: ["PUBLISHED"], to: "DRAFT" },
  archive: { from: ["DRAFT", "IN_REVIEW", "SCHEDULED", "PUBLISHED"], to: "ARCHIVED" },
};

describe("status transitions (action x current status)", () => {
  for (const [action, rule] of Object.entries(table)) {
    for (const from of ["DRAFT", "IN_REVIEW", "SCHEDULED", "PUBLISHED", "ARCHIVED"] as Status[]) {
      const legal = rule.from.includes(from);
      it(`${action} from ${from}: ${legal ? rule.to : "409"}`, async () => {
        const a = await articleIn(from);
        const res = await act(a.id, action, bodies[action]);
        if (legal) {
          assert.equal(res.status, 200, res.text);
          assert.equal(res.body.status, rule.to);
          assert.ok(res.headers.etag);
        } else {
          assert.equal(res.status, 409);
          assert.equal(res.body.currentStatus, from);
          assert.equal(res.body.requestedStatus, rule.to);
          assert.match(res.body.detail, new RegExp(from));
        }
      });
    }
  }
});

describe("workflow rules", () => {
  it("lets a writer submit their own draft but nothing further", async () => {
    const mine = await makeArticle(t, { headline: "Writer's piece", section: "desk" }, t.writer.token);
    const theirs = await makeArticle(t, { headline: "Someone else's", section: "desk" });
    // Hidden from a writer altogether (see tests/access-policy.test.ts).
    assert.equal((await act(theirs.id, "submit", undefined, t.writer.token)).status, 404);
    const sub = await act(mine.id, "submit", undefined, t.writer.token);
    assert.equal(sub.status, 200);
    assert.equal(sub.body.status, "IN_REVIEW");
    // Still editable while in review...
    const edit = await t.patch(`/api/v1/admin/articles/${mine.id}`, { summary: "Tightened." }, { token: t.writer.token, headers: { "If-Match": sub.headers.etag } });
    assert.equal(edit.status, 200);
    for (const action of ["return", "schedule", "publish", "unpublish", "archive"]) {
      assert.equal((await act(mine.id, action, bodies[action], t.writer.token)).status, 403, action);
    }
    // ...but not once scheduled.
    const sch = await act(mine.id, "schedule", { scheduledAt: future() });
    assert.equal(sch.body.status, "SCHEDULED");
    const locked = await t.patch(`/api/v1/admin/articles/${mine.id}`, { summary: "Again" }, { token: t.writer.token, headers: { "If-Match": sch.headers.etag } });
    assert.equal(locked.status, 403);
  });

  it("keeps the note when an article is sent back, and requires one", async () => {
    const a = await articleIn("IN_REVIEW");
    const none = await act(a.id, "return", {});
    assert.equal(none.status, 400);
    assert.equal(none.body.errors[0].path, "body.note");
    const ret = await act(a.id, "return", { note: "Check the figures in paragraph two." });
    assert.equal(ret.body.status, "DRAFT");
    assert.equal(ret.body.reviewNote, "Check the figures in paragraph two.");
    const again = await act(a.id, "submit");
    assert.equal(again.body.reviewNote, null);
  });

  it("requires a future scheduledAt and clears it when published", async () => {
    const a = await articleIn("DRAFT");
    const past = await act(a.id, "schedule", { scheduledAt: "2013-06-08T14:55:00+08:00" });
    assert.equal(past.status, 400);
    assert.equal(past.body.errors[0].path, "body.scheduledAt");
    const at = future();
    const sch = await act(a.id, "schedule", { scheduledAt: at });
    assert.equal(sch.body.scheduledAt, new Date(at).toISOString());
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404, "scheduled is not public yet");
    const pub = await act(a.id, "publish");
    assert.equal(pub.body.scheduledAt, null);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 200);
  });

  it("hides archived articles publicly by default", async () => {
    const a = await articleIn("PUBLISHED");
    await act(a.id, "archive");
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404);
    const list = await t.get("/api/v1/articles?section=desk&limit=100");
    assert.ok(!list.body.data.some((x: { slug: string }) => x.slug === a.slug));
    const back = await act(a.id, "publish");
    assert.ok(a.publishedAt);
    assert.equal(back.body.publishedAt, a.publishedAt, "bringing it back keeps the original time");
  });
});

describe("archived articles when ARCHIVED_PUBLIC=true", () => {
  it("stay readable by slug, drop out of lists, and close comments", async () => {
    const t2 = await startTestApp({ ARCHIVED_PUBLIC: "true" });
    try {
      await makeSection(t2, "old");
      const a = await makeArticle(t2, { headline: "From the archive", section: "old" });
      const pub = await t2.post(`/api/v1/admin/articles/${a.id}/publish`, { publishedAt: "2013-06-08T14:55:00+08:00" }, { token: t2.editor.token });
      assert.equal(pub.status, 200);
      await t2.post(`/api/v1/admin/articles/${a.id}/archive`, undefined, { token: t2.editor.token });
      const read = await t2.get(`/api/v1/articles/${a.slug}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.publishedAt, "2013-06-08T06:55:00.000Z");
      assert.equal((await t2.get(`/api/v1/articles/${a.slug}/comments`)).status, 200);
      const post = await t2.post(`/api/v1/articles/${a.slug}/comments`, { name: "Late reader", body: "Still relevant." });
      assert.equal(post.status, 403);
      const list = await t2.get("/api/v1/articles?section=old");
      assert.deepEqual(list.body.data, []);
    } finally {
      await t2.close();
    }
  });
});

describe("draft preview", () => {
  it("opens exactly one unpublished article, as it would be published, until it expires", async () => {
    const related = await articleIn("PUBLISHED");
    const a = await makeArticle(t, { headline: "Embargoed story", section: "desk", related: [related.id], dateline: "LHASA" });
    const mint = await t.post(`/api/v1/admin/articles/${a.id}/preview`, undefined, { token: t.editor.token });
    assert.equal(mint.status, 201);
    assert.equal(mint.body.url, `/api/v1/preview/${mint.body.token}`);
    const expiresIn = Date.parse(mint.body.expiresAt) - Date.now();
    assert.ok(expiresIn > 23.9 * 3600_000 && expiresIn <= 24 * 3600_000, "24 h by default");

    const view = await t.get(mint.body.url);
    assert.equal(view.status, 200);
    assert.equal(view.body.headline, "Embargoed story");
    assert.equal(view.body.dateline, "LHASA");
    assert.equal(view.body.publishedAt, null);
    assert.deepEqual(view.body.related.map((r: { slug: string }) => r.slug), [related.slug]);
    assert.match(view.headers["cache-control"], /no-store/);
    assert.equal((await t.get(`/api/v1/articles/${a.slug}`)).status, 404, "still not public");

    // The latest saved content shows.
    const et = await t.ifMatch(`/api/v1/admin/articles/${a.id}`);
    await t.patch(`/api/v1/admin/articles/${a.id}`, { headline: "Embargoed story, updated" }, { token: t.editor.token, headers: et });
    assert.equal((await t.get(mint.body.url)).body.headline, "Embargoed story, updated");

    // A preview token is not an access token, and an access token is not a preview.
    assert.equal((await t.get("/api/v1/admin/me", { token: mint.body.token })).status, 401);
    assert.equal((await t.get(`/api/v1/preview/${t.editor.token}`)).status, 404);

    const expired = jwt.sign({}, t.secret, { algorithm: "HS256", subject: String(a.id), issuer: "dateline", audience: "dateline-admin-preview", expiresIn: -1 });
    assert.equal((await t.get(`/api/v1/preview/${expired}`)).status, 404);
    const forged = jwt.sign({}, "not-the-secret-not-the-secret-0000", { algorithm: "HS256", subject: String(related.id), issuer: "dateline", audience: "dateline-admin-preview", expiresIn: 60 });
    assert.equal((await t.get(`/api/v1/preview/${forged}`)).status, 404);

    await t.del(`/api/v1/admin/articles/${a.id}`, { token: t.editor.token, headers: await t.ifMatch(`/api/v1/admin/articles/${a.id}`) });
    assert.equal((await t.get(mint.body.url)).status, 404, "trashed articles are not previewable");
  });
});
