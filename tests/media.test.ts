import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import request from "supertest";
import { makeArticle, startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";
import { assertMatchesSpec } from "./support/contract.ts";
import { uploadMedia } from "../src/media/service.ts";
import { localDiskStorage } from "../src/media/storage.ts";
import { pngChunk } from "../src/seed/placeholder.ts";

// ---- tiny images, built byte by byte ----

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

/** Packs variable-width codes least significant bit first (GIF LZW, WebP). */
function packBits(codes: [value: number, bits: number][]): Buffer {
  const out: number[] = [];
  let acc = 0;
  let n = 0;
  for (const [value, bits] of codes) {
    for (let i = 0; i < bits; i++) {
      acc |= ((value >> i) & 1) << n;
      if (++n === 8) {
        out.push(acc);
        acc = 0;
        n = 0;
      }
    }
  }
  if (n) out.push(acc);
  return Buffer.from(out);
}

/** A two-colour GIF89a. Clearing the LZW table every two pixels keeps every code 3 bits wide. */
function gif(width: number, height: number): Buffer {
  const CLEAR = 4;
  const EOI = 5;
  const codes: [number, number][] = [];
  for (let i = 0; i < width * height; i++) {
    if (i % 2 === 0) codes.push([CLEAR, 3]);
    codes.push([(i % 3) & 1, 3]);
  }
  codes.push([EOI, 3]);
  const lzw = packBits(codes);
  const le16 = (v: number) => [v & 0xff, v >> 8];
  return Buffer.concat([
    Buffer.from("GIF89a", "ascii"),
    Buffer.from([...le16(width), ...le16(height), 0x80, 0, 0]),
    Buffer.from([0, 0, 0, 0xff, 0xff, 0xff]),
    Buffer.from([0x2c, 0, 0, 0, 0, ...le16(width), ...le16(height), 0]),
    Buffer.from([2, lzw.length]),
    lzw,
    Buffer.from([0, 0x3b]),
  ]);
}

/**
 * A grey baseline JPEG of at most 8x8 pixels: one block whose only codes are
 * "DC difference 0" and "end of block", both the 1-bit code 0.
 */
function jpeg(width: number, height: number, orientation?: number): Buffer {
  const seg = (marker: number, data: number[]) =>
    Buffer.from([0xff, marker, (data.length + 2) >> 8, (data.length + 2) & 0xff, ...data]);
  const oneCodeTable = (cls: number) => [cls, 1, ...new Array(15).fill(0), 0];
  const exif = orientation === undefined ? [] : [seg(0xe1, [
    ...Buffer.from("Exif\0\0", "latin1"),
    0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, // little-endian TIFF, first IFD at 8
    0x01, 0x00, // one entry
    0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00, // Orientation, SHORT
    0x00, 0x00, 0x00, 0x00,
  ])];
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    ...exif,
    seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    seg(0xc4, oneCodeTable(0x00)),
    seg(0xc4, oneCodeTable(0x10)),
    seg(0xda, [1, 1, 0x00, 0, 63, 0]),
    Buffer.from([0x3f, 0xff, 0xd9]),
  ]);
}

/** A lossless (VP8L) WebP of one opaque black colour: every prefix code has a single symbol, so pixels take no bits. */
function webp(width: number, height: number): Buffer {
  const oneSymbol = (symbol: number): [number, number][] =>
    symbol < 2 ? [[1, 1], [0, 1], [0, 1], [symbol, 1]] : [[1, 1], [0, 1], [1, 1], [symbol, 8]];
  const vp8l = Buffer.concat([
    Buffer.from([0x2f]),
    packBits([
      [width - 1, 14], [height - 1, 14], [1, 1], [0, 3],
      [0, 1], [0, 1], [0, 1], // no transform, no colour cache, no meta prefix codes
      ...oneSymbol(0), ...oneSymbol(0), ...oneSymbol(0), ...oneSymbol(255), ...oneSymbol(0),
    ]),
  ]);
  const chunk = vp8l.length % 2 ? Buffer.concat([vp8l, Buffer.alloc(1)]) : vp8l;
  const le32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  };
  return Buffer.concat([
    Buffer.from("RIFF"), le32(4 + 8 + chunk.length), Buffer.from("WEBP"),
    Buffer.from("VP8L"), le32(vp8l.length), chunk,
  ]);
}

// ---- helpers ----

function toTestResponse(res: request.Response): TestResponse {
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.body, text: res.text };
}

interface UploadOptions {
  token?: string;
  name?: string;
  contentType?: string;
  fields?: Record<string, string>;
  /** Field name of the file part; `null` sends no file. */
  fileField?: string | null;
}

async function upload(app: TestApp, data: Buffer, opts: UploadOptions = {}): Promise<TestResponse> {
  const url = "/api/v1/admin/media";
  let req = request(app.server).post(url);
  const token = opts.token === undefined ? app.writer.token : opts.token;
  if (token) req = req.set("Authorization", `Bearer ${token}`);
  for (const [k, v] of Object.entries(opts.fields ?? {})) req = req.field(k, v);
  if (opts.fileField !== null) {
    req = req.attach(opts.fileField ?? "file", data, { filename: opts.name ?? "x.png", contentType: opts.contentType ?? "image/png" });
  }
  const out = toTestResponse(await req);
  assertMatchesSpec("POST", url, out);
  return out;
}

/** GETs a file under /media, keeping binary bodies as Buffers. */
async function getFile(app: TestApp, url: string, headers: Record<string, string> = {}): Promise<TestResponse & { bytes?: Buffer }> {
  let req = request(app.server).get(url).buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => cb(null, Buffer.concat(chunks)));
  });
  for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
  const res = await req;
  const bytes = res.body as Buffer;
  const isJson = String(res.headers["content-type"] ?? "").includes("json");
  const out = {
    status: res.status,
    headers: res.headers as Record<string, string>,
    body: isJson ? JSON.parse(bytes.toString("utf8")) : bytes,
    text: isJson ? bytes.toString("utf8") : "",
    bytes,
  };
  assertMatchesSpec("GET", url, out);
  return out;
}

/** A raw GET, so the path reaches the server exactly as written (no URL normalisation). */
function rawGet(app: TestApp, rawPath: string): Promise<TestResponse> {
  const { port } = app.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: rawPath }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const out = { status: res.statusCode!, headers: res.headers as Record<string, string>, body: JSON.parse(text), text };
        try {
          assertMatchesSpec("GET", rawPath, out);
          resolve(out);
        } catch (err) {
          reject(err);
        }
      });
    }).on("error", reject);
  });
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

async function assertNothingLeft(app: TestApp, before: { rows: number; files: number }) {
  assert.equal(await app.db.prisma.media.count(), before.rows, "no media row left behind");
  assert.equal(filesUnder(app.mediaDir).length, before.files, "no file left behind");
}

const snapshot = async (app: TestApp) => ({ rows: await app.db.prisma.media.count(), files: filesUnder(app.mediaDir).length });

const fileOf = (app: TestApp, url: string) => path.join(app.mediaDir, ...url.replace(/^\/media\//, "").split("/"));

// ---- tests ----

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe("media uploads", () => {
  it("stores a WRITER's PNG with its size, serves it immutable, and audits the upload", async () => {
    const bytes = png(3, 2);
    const res = await upload(t, bytes, {
      name: "harbour.png",
      fields: { caption: "The harbour at dawn.", credit: "Staff photographer", alt: "Boats in a harbour" },
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.location, `/api/v1/admin/media/${res.body.id}`);
    assert.equal(res.body.width, 3);
    assert.equal(res.body.height, 2);
    assert.equal(res.body.mimeType, "image/png");
    assert.equal(res.body.size, bytes.length);
    assert.equal(res.body.originalName, "harbour.png");
    assert.equal(res.body.caption, "The harbour at dawn.");
    assert.equal(res.body.credit, "Staff photographer");
    assert.equal(res.body.alt, "Boats in a harbour");
    assert.equal(res.body.uploadedBy, t.writer.id);
    assert.match(res.body.url, /^\/media\/\d{4}\/\d{2}\/[0-9a-f-]{36}\.png$/);

    const file = await getFile(t, res.body.url);
    assert.equal(file.status, 200);
    assert.deepEqual(file.bytes, bytes);
    assert.equal(file.headers["content-type"], "image/png");
    assert.equal(file.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(file.headers["x-content-type-options"], "nosniff");
    assert.equal(file.headers["cross-origin-resource-policy"], "cross-origin");
    assert.equal(file.headers["access-control-allow-origin"], "*");

    const again = await getFile(t, res.body.url, { "If-None-Match": file.headers.etag });
    assert.equal(again.status, 304);

    const one = await t.get(`/api/v1/admin/media/${res.body.id}`, { token: t.writer.token });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, res.body);

    const log = await t.get(`/api/v1/admin/audit?targetType=media&targetId=${res.body.id}`, { token: t.admin.token });
    assert.equal(log.status, 200);
    assert.deepEqual(log.body.data.map((e: { action: string }) => e.action), ["media.upload"]);
    assert.equal(log.body.data[0].actor.id, t.writer.id);
  });

  it("recognises JPEG, GIF and WebP by their bytes, whatever the declared type and name", async () => {
    const cases = [
      { bytes: jpeg(5, 4), ext: "jpg", mime: "image/jpeg", w: 5, h: 4 },
      { bytes: gif(3, 2), ext: "gif", mime: "image/gif", w: 3, h: 2 },
      { bytes: webp(4, 3), ext: "webp", mime: "image/webp", w: 4, h: 3 },
      { bytes: png(2, 7), ext: "png", mime: "image/png", w: 2, h: 7 },
    ];
    for (const c of cases) {
      const res = await upload(t, c.bytes, { name: "photo.txt", contentType: "text/plain" });
      assert.equal(res.status, 201, `${c.ext}: ${res.text}`);
      assert.equal(res.body.mimeType, c.mime);
      assert.deepEqual([res.body.width, res.body.height], [c.w, c.h]);
      assert.ok(res.body.url.endsWith(`.${c.ext}`));
      const file = await getFile(t, res.body.url);
      assert.equal(file.status, 200);
      assert.equal(file.headers["content-type"], c.mime);
      assert.deepEqual(file.bytes, c.bytes);
    }
  });

  it("records the displayed size of a JPEG turned by its EXIF orientation", async () => {
    const res = await upload(t, jpeg(5, 3, 6), { name: "portrait.jpg" });
    assert.equal(res.status, 201);
    assert.deepEqual([res.body.width, res.body.height], [3, 5]);
  });

  it("never overwrites: the same bytes twice are two records and two files", async () => {
    const bytes = png(4, 4, 9);
    const a = await upload(t, bytes, { name: "same.png" });
    const b = await upload(t, bytes, { name: "same.png" });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
    assert.notEqual(a.body.url, b.body.url);
    assert.ok(fs.existsSync(fileOf(t, a.body.url)));
    assert.ok(fs.existsSync(fileOf(t, b.body.url)));
  });

  it("refuses a storage key that already exists", async () => {
    const res = await upload(t, png(1, 1));
    await assert.rejects(localDiskStorage(t.mediaDir).put(res.body.url.replace(/^\/media\//, ""), Buffer.from("x"), "image/png"), { code: "EEXIST" });
    assert.deepEqual(fs.readFileSync(fileOf(t, res.body.url)), png(1, 1));
  });

  it("answers 415 for a non-image named .png, leaving no row and no file", async () => {
    const before = await snapshot(t);
    const res = await upload(t, Buffer.from("just some text, not a picture\n"), { name: "fake.png", contentType: "image/png" });
    assert.equal(res.status, 415);
    assert.equal(res.body.type, "urn:dateline:problem:unsupported-media-type");
    await assertNothingLeft(t, before);
  });

  it("answers 400 for a damaged image, leaving nothing behind", async () => {
    const before = await snapshot(t);
    const truncated = png(3, 2).subarray(0, 12);
    const res = await upload(t, truncated);
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ["body.file"]);
    await assertNothingLeft(t, before);
  });

  it("answers 400 when the file is missing, a field is unknown or too long", async () => {
    const before = await snapshot(t);
    const missing = await upload(t, Buffer.alloc(0), { fileField: null, fields: { caption: "No file" } });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.errors.map((e: { path: string }) => e.path), ["body.file"]);

    const unknown = await upload(t, png(2, 2), { fields: { title: "Not a field" } });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.errors, [{ path: "body.title", message: "Unknown field." }]);

    const long = await upload(t, png(2, 2), { fields: { credit: "x".repeat(201) } });
    assert.equal(long.status, 400);
    assert.deepEqual(long.body.errors.map((e: { path: string }) => e.path), ["body.credit"]);

    const otherField = await upload(t, png(2, 2), { fileField: "image" });
    assert.equal(otherField.status, 400);
    assert.deepEqual(otherField.body.errors.map((e: { path: string }) => e.path), ["body.image"]);

    const twoFiles = toTestResponse(await request(t.server).post("/api/v1/admin/media")
      .set("Authorization", `Bearer ${t.writer.token}`)
      .attach("file", png(2, 2), "a.png")
      .attach("file", png(2, 2), "b.png"));
    assertMatchesSpec("POST", "/api/v1/admin/media", twoFiles);
    assert.equal(twoFiles.status, 400);
    assert.deepEqual(twoFiles.body.errors.map((e: { path: string }) => e.path), ["body.file"]);
    const noBoundary = await t.call("POST", "/api/v1/admin/media", {
      token: t.writer.token, raw: { data: "--x\r\n", type: "multipart/form-data" },
    });
    assert.equal(noBoundary.status, 400);
    assert.equal(noBoundary.body.type, "urn:dateline:problem:malformed-multipart");

    const json = await t.post("/api/v1/admin/media", { caption: "JSON is not an upload" }, { token: t.writer.token });
    assert.equal(json.status, 415);
    await assertNothingLeft(t, before);
  });

  it("removes the stored file again when the record cannot be written", async () => {
    const before = await snapshot(t);
    const gone = { ...(await t.db.prisma.editor.findUniqueOrThrow({ where: { id: t.writer.id } })), id: 2147483000, sessionId: "x", ip: null };
    await assert.rejects(uploadMedia({ prisma: t.db.prisma, storage: localDiskStorage(t.mediaDir), maxPixels: t.config.MEDIA_MAX_PIXELS }, gone, { buffer: png(2, 2) }, { caption: "", credit: "", alt: "" }));
    await assertNothingLeft(t, before);
  });

  it("requires a signed-in editor", async () => {
    const before = await snapshot(t);
    const res = await upload(t, png(2, 2), { token: "" });
    assert.equal(res.status, 401);
    assert.equal((await t.get("/api/v1/admin/media")).status, 401);
    await assertNothingLeft(t, before);
  });

  it("pages the list newest first without gaps or repeats", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await upload(t, png(1, 1, i))).status, 201);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res: TestResponse = await t.get(`/api/v1/admin/media?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token: t.writer.token });
      assert.equal(res.status, 200);
      assert.ok(res.body.data.length <= 2);
      seen.push(...res.body.data.map((m: { id: number }) => m.id));
      cursor = res.body.meta.nextCursor;
    } while (cursor);
    assert.equal(seen.length, await t.db.prisma.media.count());
    assert.deepEqual(seen, [...seen].sort((a, b) => b - a));
    assert.equal(new Set(seen).size, seen.length);

    assert.equal((await t.get("/api/v1/admin/media?cursor=nonsense", { token: t.writer.token })).status, 400);
    assert.equal((await t.get("/api/v1/admin/media?limit=500", { token: t.writer.token })).status, 400);
  });

  it("deletes (EDITOR and up) the record and the file", async () => {
    const up = await upload(t, png(2, 3));
    const file = fileOf(t, up.body.url);
    assert.ok(fs.existsSync(file));

    assert.equal((await t.del(`/api/v1/admin/media/${up.body.id}`, { token: t.writer.token })).status, 403);
    assert.ok(fs.existsSync(file));

    assert.equal((await t.del(`/api/v1/admin/media/${up.body.id}`, { token: t.editor.token })).status, 204);
    assert.equal(fs.existsSync(file), false);
    assert.equal((await t.get(`/api/v1/admin/media/${up.body.id}`, { token: t.editor.token })).status, 404);
    assert.equal((await getFile(t, up.body.url)).status, 404);
    assert.equal((await t.del(`/api/v1/admin/media/${up.body.id}`, { token: t.editor.token })).status, 404);
    assert.equal((await t.get("/api/v1/admin/media/abc", { token: t.editor.token })).status, 400);

    const log = await t.db.prisma.auditLog.findMany({ where: { targetType: "media", targetId: up.body.id }, orderBy: { id: "asc" } });
    assert.deepEqual(log.map((e) => e.action), ["media.upload", "media.delete"]);
  });

  it("answers 409 for an image still in use, and keeps it", async () => {
    // Straight to the database: these tests are about media, not the article API.
    const section = await t.db.prisma.section.create({ data: { slug: "media-world", name: "World" } });
    const article = await t.db.prisma.article.create({
      data: { slug: "pictured", headline: "Pictured", sectionId: section.id, authorId: t.writer.id },
    });
    const lead = await upload(t, png(3, 3));
    await t.db.prisma.article.update({ where: { id: article.id }, data: { leadImageId: lead.body.id } });
    const inUse = await t.del(`/api/v1/admin/media/${lead.body.id}`, { token: t.admin.token });
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.type, "urn:dateline:problem:in-use");
    assert.match(inUse.body.detail, /lead image/);
    assert.ok(fs.existsSync(fileOf(t, lead.body.url)));
    assert.equal((await t.get(`/api/v1/admin/media/${lead.body.id}`, { token: t.admin.token })).status, 200);

    const galleryImage = await upload(t, png(3, 4));
    await t.db.prisma.galleryItem.create({ data: { articleId: article.id, mediaId: galleryImage.body.id, position: 0 } });
    assert.equal((await t.del(`/api/v1/admin/media/${galleryImage.body.id}`, { token: t.admin.token })).status, 409);

    const collectionImage = await upload(t, png(3, 5));
    const collection = await t.db.prisma.collection.create({ data: { slug: "media-test", name: "Media test" } });
    await t.db.prisma.collectionItem.create({
      data: { collectionId: collection.id, articleId: article.id, position: 0, imageId: collectionImage.body.id },
    });
    assert.equal((await t.del(`/api/v1/admin/media/${collectionImage.body.id}`, { token: t.admin.token })).status, 409);

    const photo = await upload(t, png(3, 6));
    await t.post("/api/v1/admin/authors", { slug: "media-photographer", name: "Media Photographer", photo: photo.body.id }, { token: t.editor.token });
    const photoInUse = await t.del(`/api/v1/admin/media/${photo.body.id}`, { token: t.admin.token });
    assert.equal(photoInUse.status, 409);
    assert.match(photoInUse.body.detail, /1 author profile photo/);

    await t.db.prisma.article.update({ where: { id: article.id }, data: { leadImageId: null } });
    assert.equal((await t.del(`/api/v1/admin/media/${lead.body.id}`, { token: t.admin.token })).status, 204);
  });

  it("answers 409 for a picture placed in an article body or a live entry, and 204 once it is taken out", async () => {
    await t.db.prisma.section.upsert({ where: { slug: "media-world" }, update: {}, create: { slug: "media-world", name: "World" } });
    const inBody = await upload(t, png(4, 3));
    // Through the editor API, as the desk's Image button writes it: the sanitizer keeps the picture.
    const made = await makeArticle(t, { headline: "A picture in the text", section: "media-world",
      body: `<p>Before.</p><img src="${inBody.body.url}" alt="A ferry"><p>After.</p>` });
    const id = made.id as number;
    assert.ok(made.body.includes(`src="${inBody.body.url}"`), made.body);
    const refused = await t.del(`/api/v1/admin/media/${inBody.body.id}`, { token: t.editor.token });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.type, "urn:dateline:problem:in-use");
    assert.match(refused.body.detail, /a picture in 1 article body/);
    assert.ok(fs.existsSync(fileOf(t, inBody.body.url)));
    // In the trash it still counts (the article may be restored).
    const before = await t.get(`/api/v1/admin/articles/${id}`, { token: t.editor.token });
    assert.equal((await t.del(`/api/v1/admin/articles/${id}`, { token: t.editor.token, headers: { "if-match": before.headers.etag! } })).status, 204);
    assert.equal((await t.del(`/api/v1/admin/media/${inBody.body.id}`, { token: t.editor.token })).status, 409);
    assert.equal((await t.post(`/api/v1/admin/articles/${id}/restore`, undefined, { token: t.editor.token })).status, 200);
    const current = await t.get(`/api/v1/admin/articles/${id}`, { token: t.editor.token });
    const cleared = await t.patch(`/api/v1/admin/articles/${id}`, { body: "<p>No picture now.</p>" },
      { token: t.editor.token, headers: { "if-match": current.headers.etag! } });
    assert.equal(cleared.status, 200);

    // A live entry's body holds it too (straight to the database: entries are another suite's subject).
    const entry = await t.db.prisma.liveEntry.create({ data: { articleId: id, body: `<p><img src="${inBody.body.url}" alt=""></p>` } });
    const refusedByEntry = await t.del(`/api/v1/admin/media/${inBody.body.id}`, { token: t.editor.token });
    assert.equal(refusedByEntry.status, 409);
    assert.match(refusedByEntry.body.detail, /a picture in 1 live entry/);
    await t.db.prisma.liveEntry.delete({ where: { id: entry.id } });

    assert.equal((await t.del(`/api/v1/admin/media/${inBody.body.id}`, { token: t.editor.token })).status, 204);
    assert.equal(fs.existsSync(fileOf(t, inBody.body.url)), false);
  });

  it("answers 404 problems for traversal attempts and unknown keys", async () => {
    for (const p of ["/media/../../etc/passwd", "/media/2026/11/../../../package.json", "/media/%2e%2e/%2e%2e/etc/passwd"]) {
      const res = await rawGet(t, p);
      assert.equal(res.status, 404, p);
      assert.equal(res.body.type, "urn:dateline:problem:not-found");
    }
    for (const p of ["/media/..%2f..%2fpackage.json", "/media/2026/11/00000000-0000-0000-0000-000000000000.png", "/media/2026/11/readme.txt"]) {
      const res = await getFile(t, p);
      assert.equal(res.status, 404, p);
      assert.equal(res.body.type, "urn:dateline:problem:not-found");
    }
  });
});

describe("media size limit", () => {
  let small: TestApp;
  before(async () => {
    small = await startTestApp({ MEDIA_MAX_BYTES: "1kb" });
  });
  after(() => small.close());

  it("answers 413 over MEDIA_MAX_BYTES, leaving nothing behind, and accepts smaller files", async () => {
    const big = Buffer.concat([png(2, 2), crypto.randomBytes(2048)]);
    const before = await snapshot(small);
    const res = await upload(small, big);
    assert.equal(res.status, 413);
    assert.match(res.body.detail, /1024 bytes/);
    await assertNothingLeft(small, before);

    assert.equal((await upload(small, png(2, 2))).status, 201);
  });
});
