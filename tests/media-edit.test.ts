// PATCH /api/v1/admin/media/{id}: an image's alt text, caption and credit
// change, audited, and every public response showing them (the stored article
// JSON, cached responses, lists, collections, author pages) shows the new text
// right after the edit.
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";
import { pngChunk } from "../src/seed/placeholder.ts";

let t: TestApp;
let n = 0;
const uniq = (s: string) => `${s}-${process.pid}-${++n}`;

function png(seed: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(2, 0);
  ihdr.writeUInt32BE(2, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.from([0, seed & 0xff, 1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 11]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr), pngChunk("IDAT", zlib.deflateSync(rows)), pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

async function upload(fields: Record<string, string> = {}, token = t.editor.token): Promise<{ id: number; url: string }> {
  const boundary = "----media-edit-test";
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n`));
  parts.push(png(++n), Buffer.from(`\r\n--${boundary}--\r\n`));
  const res = await t.call("POST", "/api/v1/admin/media", {
    token, raw: { data: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** Waits until the background renderer has stored the article's JSON (so the edit must clear it). */
async function rendered(id: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [row] = await t.db.prisma.$queryRaw<{ json: string | null }[]>`SELECT json FROM "PublishedArticle" WHERE "articleId" = ${id}`;
    if (row?.json) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`article ${id}: no stored JSON after 5 s`);
}

before(async () => {
  t = await startTestApp();
  await makeSection(t, "harbour", undefined, "Harbour");
});
after(() => t.close());

describe("editing an image's alt text, caption and credit", () => {
  it("changes only the fields sent, trims them, and audits the change", async () => {
    const m = await upload({ alt: "Old alt", caption: "Old caption", credit: "Old credit" });
    const res = await t.patch(`/api/v1/admin/media/${m.id}`, { caption: "  A new caption  " }, { token: t.editor.token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.caption, "A new caption");
    assert.equal(res.body.alt, "Old alt");
    assert.equal(res.body.credit, "Old credit");
    const again = await t.get(`/api/v1/admin/media/${m.id}`, { token: t.writer.token });
    assert.deepEqual(again.body, res.body);

    const cleared = await t.patch(`/api/v1/admin/media/${m.id}`, { credit: "" }, { token: t.admin.token });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.credit, "");

    const rows = await t.db.prisma.auditLog.findMany({ where: { action: "media.update", targetId: m.id }, orderBy: { id: "asc" } });
    assert.equal(rows.length, 2);
    assert.equal(rows[0].actorId, t.editor.id);
    assert.equal(rows[0].targetType, "media");
    assert.deepEqual(rows[0].details, { changed: ["caption"] });
    assert.deepEqual(rows[1].details, { changed: ["credit"] });

    const events = await t.db.prisma.changeEvent.findMany({ where: { type: "media.updated", entityId: m.id } });
    assert.equal(events.length, 2);
    assert.deepEqual(events[0].keys, [], "an unused image: no public response to purge");
  });

  it("answers 400 with field details for unknown fields, too long text, wrong types and an empty body", async () => {
    const m = await upload();
    const cases: [unknown, string][] = [
      [{ title: "x" }, "body"],
      [{ alt: "a".repeat(501) }, "body.alt"],
      [{ caption: "c".repeat(1001) }, "body.caption"],
      [{ credit: "r".repeat(201) }, "body.credit"],
      [{ alt: 5 }, "body.alt"],
      [{}, "body"],
    ];
    for (const [body, path] of cases) {
      const res = await t.patch(`/api/v1/admin/media/${m.id}`, body, { token: t.editor.token });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.headers["content-type"], /application\/problem\+json/);
      assert.ok(res.body.errors.some((e: { path: string }) => e.path === path), `${JSON.stringify(body)}: ${res.text}`);
    }
    const limits = await t.patch(`/api/v1/admin/media/${m.id}`, { alt: "a".repeat(500), caption: "c".repeat(1000), credit: "r".repeat(200) }, { token: t.editor.token });
    assert.equal(limits.status, 200);
    const text = await t.call("PATCH", `/api/v1/admin/media/${m.id}`, { token: t.editor.token, raw: { data: "alt=x", type: "text/plain" } });
    assert.equal(text.status, 415);
  });

  it("answers 404 for an unknown image and 403 to a WRITER, 401 without a token; nothing changes or is audited", async () => {
    assert.equal((await t.patch("/api/v1/admin/media/999999", { alt: "x" }, { token: t.editor.token })).status, 404);
    const own = await upload({ alt: "Mine" }, t.writer.token);
    const writer = await t.patch(`/api/v1/admin/media/${own.id}`, { alt: "Changed" }, { token: t.writer.token });
    assert.equal(writer.status, 403);
    assert.equal((await t.patch(`/api/v1/admin/media/${own.id}`, { alt: "Changed" })).status, 401);
    assert.equal((await t.get(`/api/v1/admin/media/${own.id}`, { token: t.writer.token })).body.alt, "Mine");
    assert.equal(await t.db.prisma.auditLog.count({ where: { action: "media.update", targetId: own.id } }), 0);
  });

  it("reaches readers at once: the public article, lists, collections and author pages show the new text", async () => {
    const lead = await upload({ alt: "Cranes at dusk", caption: "The old caption", credit: "Desk photo" });
    const other = await upload({ alt: "Pier", caption: "Pier caption" });
    const author = await t.post("/api/v1/admin/authors", { slug: uniq("ann"), name: "Ann Lens", photo: lead.id }, { token: t.editor.token });
    assert.equal(author.status, 201, author.text);
    const a = await makeArticle(t, {
      headline: uniq("Cranes switched on"), section: "harbour", kind: "PHOTO_STORY", leadImage: lead.id,
      gallery: [{ media: lead.id }, { media: other.id, caption: "Its own caption" }],
      authors: [{ slug: author.body.slug }],
    });
    await publish(t, a.id);
    const coll = await t.post("/api/v1/admin/collections", { slug: uniq("picks"), name: "Picks" }, { token: t.editor.token });
    assert.equal(coll.status, 201, coll.text);
    const item = await t.post(`/api/v1/admin/collections/${coll.body.id}/items`, { articleId: a.id, image: lead.id }, { token: t.editor.token });
    assert.ok(item.status === 201 || item.status === 200, item.text);

    // Stored and cached before the edit.
    await rendered(a.id);
    const paths = [`/api/v1/articles/${a.slug}`, "/api/v1/latest", `/api/v1/collections/${coll.body.slug}`, `/api/v1/authors/${author.body.slug}`];
    for (const p of paths) {
      assert.equal((await t.get(p)).status, 200, p);
      assert.equal((await t.get(p)).status, 200, p);
    }
    const first = (await t.get(`/api/v1/articles/${a.slug}`)).body;
    assert.equal(first.leadImage.caption, "The old caption");
    assert.equal(first.gallery[0].caption, "The old caption", "a gallery item without its own caption shows the image's");

    const edit = await t.patch(`/api/v1/admin/media/${lead.id}`, { alt: "Three cranes lit up at dusk", caption: "The new cranes" }, { token: t.editor.token });
    assert.equal(edit.status, 200, edit.text);

    const pub = await t.get(`/api/v1/articles/${a.slug}`);
    assert.equal(pub.status, 200);
    assert.equal(pub.body.leadImage.alt, "Three cranes lit up at dusk");
    assert.equal(pub.body.leadImage.caption, "The new cranes");
    assert.equal(pub.body.leadImage.credit, "Desk photo");
    assert.equal(pub.body.gallery[0].image.alt, "Three cranes lit up at dusk");
    assert.equal(pub.body.gallery[0].caption, "The new cranes");
    assert.equal(pub.body.gallery[1].caption, "Its own caption");
    assert.notEqual(pub.headers.etag, undefined);

    const latest = (await t.get("/api/v1/latest")).body.data.find((x: { slug: string }) => x.slug === a.slug);
    assert.equal(latest.leadImage.alt, "Three cranes lit up at dusk");
    const c = (await t.get(`/api/v1/collections/${coll.body.slug}`)).body;
    assert.equal(c.items[0].image.caption, "The new cranes");
    const page = (await t.get(`/api/v1/authors/${author.body.slug}`)).body;
    assert.equal(page.author.photo.alt, "Three cranes lit up at dusk");

    // The event names every response showing the image, for caches and CDNs.
    const [event] = await t.db.prisma.changeEvent.findMany({ where: { type: "media.updated", entityId: lead.id } });
    for (const k of [`article:${a.id}`, `collection:${coll.body.slug}`, `author:${author.body.id}`]) {
      assert.ok(event.keys.includes(k), `${k} in ${event.keys.join(" ")}`);
    }
    assert.deepEqual(event.data, { changed: ["alt", "caption"] });

    // The renderer stores the new JSON again, and it is what readers get.
    await rendered(a.id);
    const [row] = await t.db.prisma.$queryRaw<{ json: string }[]>`SELECT json FROM "PublishedArticle" WHERE "articleId" = ${a.id}`;
    assert.equal(JSON.parse(row.json).leadImage.caption, "The new cranes");
  });
});
