// Comments, complete: moderation settings, closing per article, anti-spam
// (honeypot, links, rate limit, duplicates, lengths), one level of replies and
// bulk moderation. Each test speaks as its own client(s) (X-Forwarded-For), so
// the per-client rate limit of one test never trips another.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type CallOptions, type TestApp } from "./support/harness.ts";

let t: TestApp;
let auto: TestApp;
before(async () => {
  [t, auto] = await Promise.all([startTestApp(), startTestApp({ COMMENTS_AUTO_APPROVE: "true" })]);
  await Promise.all([makeSection(t, "world"), makeSection(auto, "world")]);
});
after(() => Promise.all([t.close(), auto.close()]));

let ipCount = 0;
/** A fresh reader: its own address, so its own rate-limit budget. */
function reader(userAgent = "Mozilla/5.0 (comments-spam test)"): CallOptions {
  ipCount += 1;
  return { headers: { "X-Forwarded-For": `198.51.100.${ipCount}`, "User-Agent": userAgent } };
}

let articleCount = 0;
async function article(app = t) {
  articleCount += 1;
  const a = await makeArticle(app, { headline: `Talking point ${articleCount}`, section: "world" });
  await publish(app, a.id);
  return a as { id: number; slug: string };
}

const url = (slug: string) => `/api/v1/articles/${slug}/comments`;
const submit = (slug: string, fields: Record<string, unknown>, who: CallOptions, app = t) =>
  app.post(url(slug), { name: "Reader", ...fields }, who);
const approve = async (id: number, app = t) => {
  const res = await app.patch(`/api/v1/admin/comments/${id}`, { status: "APPROVED" }, { token: app.editor.token });
  assert.equal(res.status, 200, res.text);
};
const commentCount = async (slug: string, app = t) => (await app.get(`/api/v1/articles/${slug}`)).body.commentCount as number;
const statusOf = async (id: number) => (await t.db.prisma.comment.findUniqueOrThrow({ where: { id } })).status;

describe("moderation settings", () => {
  it("holds new comments for moderation by default", async () => {
    const a = await article();
    const res = await submit(a.slug, { body: "Waiting my turn." }, reader());
    assert.equal(res.status, 202);
    assert.equal(res.body.status, "PENDING");
    assert.deepEqual((await t.get(url(a.slug))).body.data, []);
    assert.equal(await commentCount(a.slug), 0);
  });

  it("publishes at once with COMMENTS_AUTO_APPROVE=true", async () => {
    const a = await article(auto);
    const res = await submit(a.slug, { body: "Straight through." }, reader(), auto);
    assert.equal(res.status, 202);
    assert.deepEqual(Object.keys(res.body).sort(), ["id", "status"]);
    assert.equal(res.body.status, "APPROVED");
    const list = await auto.get(url(a.slug));
    assert.deepEqual(list.body.data.map((c: { id: number }) => c.id), [res.body.id]);
    assert.equal(await commentCount(a.slug, auto), 1);
  });

  it("answers 403 when comments are closed on the article, and still lists the approved ones", async () => {
    const a = await article();
    const early = await submit(a.slug, { body: "Got in before closing." }, reader());
    await approve(early.body.id);
    await t.db.prisma.article.update({ where: { id: a.id }, data: { commentsClosed: true } });
    const before = await t.db.prisma.comment.count();
    const res = await submit(a.slug, { body: "Too late?" }, reader());
    assert.equal(res.status, 403);
    assert.equal(res.body.detail, "Comments are closed for this article.");
    // Closed wins over the spam checks that come after it.
    assert.equal((await submit(a.slug, { body: "Too late?", website: "x" }, reader())).status, 403);
    assert.equal(await t.db.prisma.comment.count(), before);
    const list = await t.get(url(a.slug));
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((c: { id: number }) => c.id), [early.body.id]);
  });
});

describe("anti-spam", () => {
  it("rejects a filled honeypot with a clear 400 and stores nothing; an empty one is fine", async () => {
    const a = await article();
    const before = await t.db.prisma.comment.count();
    const bot = await submit(a.slug, { body: "Cheap watches", website: "https://spam.example" }, reader());
    assert.equal(bot.status, 400);
    assert.deepEqual(bot.body.errors, [{ path: "body.website", message: "Leave this field empty." }]);
    assert.equal(await t.db.prisma.comment.count(), before);
    assert.equal((await submit(a.slug, { body: "Human here.", website: "" }, reader())).status, 202);
    const typed = await submit(a.slug, { body: "Odd client.", website: 1 }, reader());
    assert.equal(typed.status, 400);
    assert.deepEqual(typed.body.errors.map((e: { path: string }) => e.path), ["body.website"]);
  });

  it("allows COMMENT_MAX_LINKS links and rejects one more", async () => {
    const a = await article();
    const who = reader();
    const two = await submit(a.slug, { body: "Sources: https://one.example/a and www.two.example" }, who);
    assert.equal(two.status, 202, two.text);
    // A scheme followed by www. is one link, not two.
    const full = await submit(a.slug, { body: "See https://www.one.example and HTTP://www.two.example too" }, who);
    assert.equal(full.status, 202, full.text);
    const three = await submit(a.slug, { body: "http://a.example https://b.example www.c.example" }, who);
    assert.equal(three.status, 400);
    assert.equal(three.body.errors.length, 1);
    assert.equal(three.body.errors[0].path, "body.body");
    assert.match(three.body.errors[0].message, /at most 2 links/);
  });

  it("limits comments per client with 429 and Retry-After; other clients are unaffected", async () => {
    const a = await article();
    const b = await article();
    const who = reader();
    for (let i = 0; i < t.config.COMMENT_RATE_MAX; i++) {
      // The limit is per client, across articles.
      const res = await submit(i % 2 ? a.slug : b.slug, { body: `Thought number ${i}` }, who);
      assert.equal(res.status, 202, res.text);
    }
    const before = await t.db.prisma.comment.count();
    const limited = await submit(a.slug, { body: "One more thought" }, who);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.type, "urn:dateline:problem:too-many-comments");
    const wait = Number(limited.headers["retry-after"]);
    assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= t.config.COMMENT_RATE_WINDOW_SECONDS, `Retry-After ${limited.headers["retry-after"]}`);
    assert.match(limited.body.detail, new RegExp(`${wait} second`));
    assert.equal(await t.db.prisma.comment.count(), before);

    assert.equal((await submit(a.slug, { body: "A different reader" }, reader())).status, 202);
    // Same address, different browser: the same client (the limit ignores the User-Agent).
    const sameIp = { headers: { ...who.headers, "User-Agent": "Another browser" } };
    assert.equal((await submit(a.slug, { body: "Same network, other browser" }, sameIp)).status, 429);
  });

  it("holds the rate limit under concurrent submissions", async () => {
    const a = await article();
    const who = reader();
    const results = await Promise.all(
      Array.from({ length: t.config.COMMENT_RATE_MAX + 3 }, (_, i) => submit(a.slug, { body: `Burst ${i}` }, who)),
    );
    const codes = results.map((r) => r.status).sort();
    assert.equal(codes.filter((s) => s === 202).length, t.config.COMMENT_RATE_MAX, codes.join(","));
    assert.equal(codes.filter((s) => s === 429).length, 3, codes.join(","));
  });

  it("answers 409 to the same body on the same article, ignoring case and spacing", async () => {
    const a = await article();
    const b = await article();
    const first = await submit(a.slug, { body: "Great reporting, thank you!" }, reader());
    assert.equal(first.status, 202);
    for (const body of ["great reporting, thank you!", "  GREAT   reporting,\n\tthank you!  "]) {
      const dup = await submit(a.slug, { name: "Someone else", body }, reader());
      assert.equal(dup.status, 409, JSON.stringify(body));
      assert.equal(dup.body.type, "urn:dateline:problem:duplicate-comment");
    }
    assert.equal((await submit(b.slug, { body: "Great reporting, thank you!" }, reader())).status, 202);
    assert.equal((await submit(a.slug, { body: "Great reporting, thank you" }, reader())).status, 202);

    // Moderated-away comments still count: resending rejected spam is still spam.
    const spam = await submit(a.slug, { body: "Visit my shop" }, reader());
    await t.patch(`/api/v1/admin/comments/${spam.body.id}`, { status: "SPAM" }, { token: t.editor.token });
    assert.equal((await submit(a.slug, { body: "visit my shop" }, reader())).status, 409);
  });

  it("lets exactly one of concurrent identical submissions through", async () => {
    const a = await article();
    const results = await Promise.all(Array.from({ length: 4 }, () => submit(a.slug, { body: "Me first!" }, reader())));
    const codes = results.map((r) => r.status).sort();
    assert.deepEqual(codes, [202, 409, 409, 409]);
  });

  it("enforces maximum lengths after trimming", async () => {
    const a = await article();
    const who = reader();
    const ok = await submit(a.slug, { name: ` ${"n".repeat(80)} `, body: ` ${"b".repeat(5000)} ` }, who);
    assert.equal(ok.status, 202, ok.text);
    const stored = await t.db.prisma.comment.findUniqueOrThrow({ where: { id: ok.body.id } });
    assert.equal(stored.authorName.length, 80);
    assert.equal(stored.body.length, 5000);
    const long = await submit(a.slug, { name: "n".repeat(81), body: "b".repeat(5001) }, who);
    assert.equal(long.status, 400);
    assert.deepEqual(long.body.errors.map((e: { path: string }) => e.path).sort(), ["body.body", "body.name"]);
    const blank = await submit(a.slug, { name: "   ", body: "\n\t " }, who);
    assert.equal(blank.status, 400);
    assert.deepEqual(blank.body.errors.map((e: { path: string }) => e.path).sort(), ["body.body", "body.name"]);
  });

  it("stores a keyed client hash and the body hash, never the raw address", async () => {
    const a = await article();
    const res = await submit(a.slug, { body: "Privacy matters." }, reader());
    const row = await t.db.prisma.comment.findUniqueOrThrow({ where: { id: res.body.id } });
    assert.ok(row.clientHash && !row.clientHash.includes("198.51.100"));
    assert.match(row.bodyHash ?? "", /^[0-9a-f]{64}$/);
  });
});

describe("replies", () => {
  it("shows approved replies under their approved parent, oldest first", async () => {
    const a = await article();
    const parent = await submit(a.slug, { body: "Top-level opinion." }, reader());
    const lonely = await submit(a.slug, { body: "Nobody answers me." }, reader());
    await approve(parent.body.id);
    await approve(lonely.body.id);

    const r1 = await submit(a.slug, { name: "Ana", body: "I agree.", parentId: parent.body.id }, reader());
    assert.equal(r1.status, 202, r1.text);
    assert.equal(r1.body.status, "PENDING");
    const r2 = await submit(a.slug, { name: "Ben", body: "I do not.", parentId: parent.body.id }, reader());
    assert.equal(r2.status, 202, r2.text);

    // Not shown until approved.
    let list = await t.get(url(a.slug));
    assert.deepEqual(list.body.data.map((c: { id: number; replies: unknown[] }) => [c.id, c.replies.length]), [[parent.body.id, 0], [lonely.body.id, 0]]);

    await approve(r2.body.id);
    await approve(r1.body.id);
    list = await t.get(url(a.slug));
    assert.deepEqual(list.body.data.map((c: { id: number }) => c.id), [parent.body.id, lonely.body.id]);
    const [top] = list.body.data;
    assert.deepEqual(top.replies.map((r: { id: number }) => r.id), [r1.body.id, r2.body.id]);
    assert.deepEqual(Object.keys(top.replies[0]).sort(), ["body", "createdAt", "id", "name"]);
    assert.equal(top.replies[0].name, "Ana");
    assert.equal(top.replies[0].body, "I agree.");
    assert.deepEqual(list.body.data[1].replies, []);
    // Replies count as approved comments.
    assert.equal(await commentCount(a.slug), 4);

    const admin = await t.get(`/api/v1/admin/comments?article=${a.id}`, { token: t.editor.token });
    const parentOf = new Map(admin.body.data.map((c: { id: number; parentId: number | null }) => [c.id, c.parentId]));
    assert.equal(parentOf.get(parent.body.id), null);
    assert.equal(parentOf.get(r1.body.id), parent.body.id);
    // The editor's view of a reply carries the comment it answers.
    const reply = admin.body.data.find((c: { id: number }) => c.id === r1.body.id);
    assert.deepEqual(reply.parent, { id: parent.body.id, name: "Reader", body: "Top-level opinion.", status: "APPROVED", createdAt: reply.parent.createdAt });
    assert.equal(admin.body.data.find((c: { id: number }) => c.id === parent.body.id).parent, null);

    // A reply never outlives its parent's approval in the public list.
    await t.patch(`/api/v1/admin/comments/${parent.body.id}`, { status: "REJECTED" }, { token: t.editor.token });
    list = await t.get(url(a.slug));
    assert.deepEqual(list.body.data.map((c: { id: number }) => c.id), [lonely.body.id]);
  });

  it("pages by top-level comments, each with its replies", async () => {
    const a = await article(auto);
    const tops: number[] = [];
    for (let i = 0; i < 3; i++) tops.push((await submit(a.slug, { body: `Top ${i}` }, reader(), auto)).body.id);
    const reply = await submit(a.slug, { body: "Reply to the last", parentId: tops[2] }, reader(), auto);
    assert.equal(reply.body.status, "APPROVED");
    const p1 = await auto.get(`${url(a.slug)}?limit=2`);
    const p2 = await auto.get(`${url(a.slug)}?limit=2&cursor=${p1.body.meta.nextCursor}`);
    assert.deepEqual([...p1.body.data, ...p2.body.data].map((c: { id: number }) => c.id), tops);
    assert.deepEqual(p2.body.data[0].replies.map((r: { id: number }) => r.id), [reply.body.id]);
    assert.equal(p2.body.meta.nextCursor, null);
  });

  it("rejects replies to replies, to other articles' comments, to unapproved or unknown comments", async () => {
    const a = await article();
    const other = await article();
    const parent = await submit(a.slug, { body: "Parent comment." }, reader());
    await approve(parent.body.id);
    const reply = await submit(a.slug, { body: "First-level reply.", parentId: parent.body.id }, reader());
    await approve(reply.body.id);
    const foreign = await submit(other.slug, { body: "Elsewhere." }, reader());
    await approve(foreign.body.id);
    const pending = await submit(a.slug, { body: "Still waiting." }, reader());

    const before = await t.db.prisma.comment.count();
    const cases: [string, unknown][] = [
      ["reply to a reply", reply.body.id],
      ["another article's comment", foreign.body.id],
      ["a pending comment", pending.body.id],
      ["an unknown comment", 999999],
    ];
    for (const [what, parentId] of cases) {
      const res = await submit(a.slug, { body: `Replying to ${what}.`, parentId }, reader());
      assert.equal(res.status, 400, what);
      assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ["body.parentId"], what);
    }
    for (const parentId of [0, -1, "1", 1.5]) {
      const res = await submit(a.slug, { body: "Bad id.", parentId }, reader());
      assert.equal(res.status, 400, String(parentId));
      assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ["body.parentId"]);
    }
    assert.equal(await t.db.prisma.comment.count(), before);
  });
});

describe("bulk moderation", () => {
  const bulk = (body: unknown, token = t.editor.token) => t.post("/api/v1/admin/comments/bulk", body, { token });
  async function pendingComments(slug: string, n: number) {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push((await submit(slug, { body: `Bulk candidate ${i}` }, reader())).body.id);
    return ids;
  }

  it("approves several comments at once and commentCount follows immediately", async () => {
    const a = await article();
    const ids = await pendingComments(a.slug, 3);
    const res = await bulk({ ids, status: "APPROVED" });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { updated: 3, status: "APPROVED" });
    assert.equal(await commentCount(a.slug), 3);
    assert.deepEqual((await t.get(url(a.slug))).body.data.map((c: { id: number }) => c.id), ids);

    const rej = await bulk({ ids: ids.slice(0, 2), status: "REJECTED" }, t.admin.token);
    assert.deepEqual(rej.body, { updated: 2, status: "REJECTED" });
    assert.equal(await commentCount(a.slug), 1);
    assert.deepEqual((await bulk({ ids: [ids[2]], status: "SPAM" })).body, { updated: 1, status: "SPAM" });
    assert.equal(await commentCount(a.slug), 0);
    assert.equal(await statusOf(ids[2]), "SPAM");
  });

  it("changes nothing and names the missing ids when one does not exist", async () => {
    const a = await article();
    const ids = await pendingComments(a.slug, 2);
    const auditBefore = await t.db.prisma.auditLog.count({ where: { action: "comment.moderate" } });
    const res = await bulk({ ids: [ids[0], 999999, ids[1]], status: "APPROVED" });
    assert.equal(res.status, 404);
    assert.match(res.body.detail, /999999/);
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ["body.ids.1"]);
    assert.deepEqual([await statusOf(ids[0]), await statusOf(ids[1])], ["PENDING", "PENDING"]);
    assert.equal(await commentCount(a.slug), 0);
    assert.equal(await t.db.prisma.auditLog.count({ where: { action: "comment.moderate" } }), auditBefore);
  });

  it("writes one audit entry per comment", async () => {
    const a = await article();
    const ids = await pendingComments(a.slug, 3);
    await approve(ids[0]);
    const res = await bulk({ ids, status: "REJECTED" }, t.admin.token);
    assert.equal(res.status, 200);
    const rows = await t.db.prisma.auditLog.findMany({
      where: { action: "comment.moderate", targetType: "comment", targetId: { in: ids }, actorId: t.admin.id },
      orderBy: { targetId: "asc" },
    });
    assert.deepEqual(rows.map((r) => [r.targetId, r.details]), [
      [ids[0], { from: "APPROVED", to: "REJECTED", bulk: true }],
      [ids[1], { from: "PENDING", to: "REJECTED", bulk: true }],
      [ids[2], { from: "PENDING", to: "REJECTED", bulk: true }],
    ]);
    assert.ok(rows.every((r) => r.ip));
  });

  it("is for EDITOR and ADMIN only", async () => {
    const a = await article();
    const ids = await pendingComments(a.slug, 1);
    assert.equal((await bulk({ ids, status: "APPROVED" }, t.writer.token)).status, 403);
    assert.equal((await t.post("/api/v1/admin/comments/bulk", { ids, status: "APPROVED" })).status, 401);
    assert.equal(await statusOf(ids[0]), "PENDING");
  });

  it("validates the request", async () => {
    const paths = async (body: unknown) => {
      const res = await bulk(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      return res.body.errors.map((e: { path: string }) => e.path);
    };
    assert.deepEqual(await paths({ ids: [], status: "APPROVED" }), ["body.ids"]);
    assert.deepEqual(await paths({ ids: Array.from({ length: 101 }, (_, i) => i + 1), status: "APPROVED" }), ["body.ids"]);
    assert.deepEqual(await paths({ ids: [1, 2, 1], status: "APPROVED" }), ["body.ids.2"]);
    assert.deepEqual(await paths({ ids: [0, "2"], status: "APPROVED" }), ["body.ids.0", "body.ids.1"]);
    assert.deepEqual(await paths({ ids: [1], status: "PENDING" }), ["body.status"]);
    assert.deepEqual(await paths({ ids: [1], status: "APPROVED", force: true }), ["body.force"]);
  });
});
