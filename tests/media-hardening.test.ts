// Hostile image uploads: truncated headers that once made the server read
// past the upload into pooled process memory, undecodable data, and images
// that claim more pixels than MEDIA_MAX_PIXELS allows. Valid images are made
// with sharp; damaged ones are cut or forged from them byte by byte.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import request from "supertest";
import { startTestApp, type TestApp, type TestResponse } from "./support/harness.ts";
import { assertMatchesSpec } from "./support/contract.ts";
import { pngChunk } from "../src/seed/placeholder.ts";
import { concurrencyLimit, probeImage } from "../src/media/probe.ts";
import { HttpError } from "../src/http/errors.ts";

// ---- images ----

type Format = "png" | "jpeg" | "gif" | "webp";

/** A small picture with some detail, so encoders produce real compressed data. */
async function picture(format: Format, width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + (i >> 5) * 11) & 0xff;
  return sharp(rgb, { raw: { width, height, channels: 3 } }).toFormat(format).toBuffer();
}

/** An animation of `frames` different frames of width x height. */
async function animation(format: "gif" | "webp", width: number, height: number, frames: number): Promise<Buffer> {
  const pngs = await Promise.all(Array.from({ length: frames }, (_, f) =>
    sharp({ create: { width, height, channels: 3, background: { r: 60 * f, g: 255 - 60 * f, b: 90 } } }).png().toBuffer()));
  return sharp(pngs, { join: { animated: true } }).toFormat(format).toBuffer();
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const IEND = pngChunk("IEND", Buffer.alloc(0));

function ihdr(width: number, height: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.set([8, 2, 0, 0, 0], 8); // 8-bit truecolour
  return pngChunk("IHDR", data);
}

/** A well-formed PNG (valid CRCs) whose header claims width x height, with one row of pixel data. */
const claimedPng = (width: number, height: number) =>
  Buffer.concat([PNG_SIGNATURE, ihdr(width, height), pngChunk("IDAT", zlib.deflateSync(Buffer.alloc(4))), IEND]);

/** A GIF whose logical screen claims width x height, holding one complete 1x1 frame. */
function claimedGif(width: number, height: number): Buffer {
  const le16 = (v: number) => [v & 0xff, v >> 8];
  return Buffer.concat([
    Buffer.from("GIF89a", "ascii"),
    Buffer.from([...le16(width), ...le16(height), 0x80, 0, 0]), // global colour table of 2
    Buffer.from([0, 0, 0, 0xff, 0xff, 0xff]),
    Buffer.from([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]), // a 1x1 frame at 0,0
    Buffer.from([2, 2, 0x44, 0x01, 0]), // LZW: clear, pixel 0, end
    Buffer.from([0x3b]),
  ]);
}

/** A RIFF WebP container around `chunk` (its RIFF size counts what is present). */
function riffWebp(chunk: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(4 + chunk.length);
  return Buffer.concat([Buffer.from("RIFF"), size, Buffer.from("WEBP"), chunk]);
}

// ---- helpers ----

async function upload(app: TestApp, data: Buffer, name = "upload.bin"): Promise<TestResponse> {
  const url = "/api/v1/admin/media";
  const res = await request(app.server).post(url)
    .set("Authorization", `Bearer ${app.writer.token}`)
    .attach("file", data, { filename: name, contentType: "application/octet-stream" });
  const out = { status: res.status, headers: res.headers as Record<string, string>, body: res.body, text: res.text };
  assertMatchesSpec("POST", url, out);
  return out;
}

/** Every media id the API lists, newest first. */
async function listedIds(app: TestApp): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const res: TestResponse = await app.get(`/api/v1/admin/media?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { token: app.editor.token });
    assert.equal(res.status, 200);
    ids.push(...res.body.data.map((m: { id: number }) => m.id));
    cursor = res.body.meta.nextCursor;
  } while (cursor);
  return ids;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const snapshot = async (app: TestApp) => ({ ids: await listedIds(app), files: filesUnder(app.mediaDir) });

async function assertNothingStored(app: TestApp, before: { ids: number[]; files: string[] }, what: string) {
  assert.deepEqual(await listedIds(app), before.ids, `${what}: no media record`);
  assert.deepEqual(filesUnder(app.mediaDir), before.files, `${what}: no file in the media directory`);
}

function assertDamaged(res: TestResponse, what: string) {
  assert.equal(res.status, 400, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.body.type, "urn:dateline:problem:validation-error", what);
  assert.deepEqual(res.body.errors.map((e: { path: string }) => e.path), ["body.file"], what);
}

function assertTooManyPixels(res: TestResponse, limit: number, what: string) {
  assert.equal(res.status, 413, `${what}: ${res.status} ${res.text}`);
  assert.equal(res.body.type, "urn:dateline:problem:image-too-large", what);
  assert.match(res.body.detail, new RegExp(`limit is ${limit} pixels`), what);
}

// ---- tests ----

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

describe("truncated and undecodable images", () => {
  it("answers 400 (body.file) for truncated headers and damaged data of every accepted format, storing nothing", async () => {
    const png = await picture("png", 24, 16);
    const jpeg = await picture("jpeg", 24, 16);
    const gif = await picture("gif", 24, 16);
    const lossy = await picture("webp", 24, 16);
    const lossless = await sharp(png).webp({ lossless: true }).toBuffer();
    const animatedGif = await animation("gif", 12, 8, 3);
    const animatedWebp = await animation("webp", 12, 8, 3);
    const idat = png.indexOf("IDAT") - 4;
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    assert.ok(idat > 0 && sof > 0 && lossy.includes("VP8 ") && lossless.includes("VP8L"));

    const cases: Record<string, Buffer> = {
      "JPEG: SOI only": jpeg.subarray(0, 3),
      "JPEG: SOI and part of SOF": jpeg.subarray(0, sof + 7),
      "JPEG: no end of image": jpeg.subarray(0, jpeg.length - 2),
      "JPEG: cut in the scan": jpeg.subarray(0, jpeg.length - 40),
      "PNG: signature and IHDR name (16 bytes)": png.subarray(0, 16),
      "PNG: signature and IHDR, nothing more": png.subarray(0, 33),
      "PNG: cut in IDAT": png.subarray(0, idat + 20),
      "PNG: no IEND": png.subarray(0, png.length - IEND.length),
      "PNG: IDAT that is not deflate data": Buffer.concat([PNG_SIGNATURE, ihdr(24, 16), pngChunk("IDAT", Buffer.from("not deflate data at all")), IEND]),
      "PNG: IDAT with too few rows": Buffer.concat([PNG_SIGNATURE, ihdr(24, 16), pngChunk("IDAT", zlib.deflateSync(Buffer.alloc(73))), IEND]),
      "PNG: bad IDAT checksum": (() => {
        const b = Buffer.from(png);
        b[idat + 8] ^= 0xff;
        return b;
      })(),
      "GIF: GIF89a alone": Buffer.from("GIF89a"),
      "GIF: GIF87a alone": Buffer.from("GIF87a"),
      "GIF: header and screen descriptor": gif.subarray(0, 13),
      "GIF: header, screen and colour table, no image": Buffer.concat([claimedGif(24, 16).subarray(0, 19), Buffer.from([0x3b])]),
      "GIF: image descriptor without data": claimedGif(24, 16).subarray(0, 29),
      "GIF: cut in the image data": gif.subarray(0, gif.length - 6),
      "GIF: no trailer": gif.subarray(0, gif.length - 1),
      "GIF: animation cut in its last frame": animatedGif.subarray(0, animatedGif.length - 6),
      "WebP: bare RIFF header": Buffer.concat([Buffer.from("RIFF"), Buffer.from([4, 0, 0, 0]), Buffer.from("WEBP")]),
      "WebP: RIFF header claiming more": Buffer.concat([Buffer.from("RIFF"), Buffer.from([0xf0, 0, 0, 0]), Buffer.from("WEBP")]),
      "WebP: truncated VP8 chunk": lossy.subarray(0, 30),
      "WebP: VP8 chunk cut near its end": lossy.subarray(0, lossy.length - 8),
      "WebP: truncated VP8L chunk": lossless.subarray(0, 25),
      "WebP: VP8L chunk header only": riffWebp(Buffer.concat([Buffer.from("VP8L"), Buffer.from([0x40, 0, 0, 0])])),
      "WebP: animation cut in its last frame": animatedWebp.subarray(0, animatedWebp.length - 6),
    };
    const before = await snapshot(t);
    for (const [what, bytes] of Object.entries(cases)) {
      assertDamaged(await upload(t, bytes), what);
    }
    await assertNothingStored(t, before, "damaged uploads");
  });

  it("answers the same 400 to the same truncated header every time, whatever the server did in between", async () => {
    const headers = {
      "16-byte PNG": Buffer.concat([PNG_SIGNATURE, Buffer.from([0, 0, 0, 13]), Buffer.from("IHDR")]),
      "GIF89a": Buffer.from("GIF89a"),
      "bare RIFF WebP": Buffer.concat([Buffer.from("RIFF"), Buffer.from([4, 0, 0, 0]), Buffer.from("WEBP")]),
    };
    const before = await snapshot(t);
    for (let i = 0; i < 50; i++) {
      for (const [what, bytes] of Object.entries(headers)) {
        const res = await upload(t, bytes);
        // A 201 here means the width and height came from memory after the upload.
        assertDamaged(res, `${what}, attempt ${i + 1}`);
      }
      // Fill the shared allocation pool with other requests' data between attempts.
      assert.equal((await t.get("/api/v1/admin/media?limit=5", { token: t.admin.token })).status, 200);
    }
    await assertNothingStored(t, before, "repeated truncated headers");
  });

  it("never reads past the upload into the memory around it", async () => {
    // multer's Buffer can be a slice of Node's shared pool; here the memory
    // around the upload is deliberately non-zero, as a token or key would be.
    const truncated = {
      "16-byte PNG": Buffer.concat([PNG_SIGNATURE, Buffer.from([0, 0, 0, 13]), Buffer.from("IHDR")]),
      "GIF89a": Buffer.from("GIF89a"),
      "bare RIFF WebP": Buffer.concat([Buffer.from("RIFF"), Buffer.from([4, 0, 0, 0]), Buffer.from("WEBP")]),
      "JPEG SOI and part of SOF": Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08]),
      "lossless WebP header": riffWebp(Buffer.concat([Buffer.from("VP8L"), Buffer.from([0x40, 0, 0, 0, 0x2f])])),
    };
    for (const [what, bytes] of Object.entries(truncated)) {
      const memory = new ArrayBuffer(8192);
      new Uint8Array(memory).fill(0x41);
      const view = Buffer.from(memory, 100, bytes.length);
      bytes.copy(view);
      await assert.rejects(probeImage(view, 50_000_000), (err: unknown) => {
        assert.ok(err instanceof HttpError, `${what}: ${String(err)}`);
        assert.equal(err.status, 400, what);
        return true;
      }, `${what} was accepted with a size read from the memory after it`);
    }
  });

  it("still stores valid images of every format with their own width and height", async () => {
    const cases = [
      { bytes: await picture("jpeg", 33, 21), mime: "image/jpeg", size: [33, 21] },
      { bytes: await picture("png", 17, 29), mime: "image/png", size: [17, 29] },
      { bytes: await picture("gif", 40, 3), mime: "image/gif", size: [40, 3] },
      { bytes: await picture("webp", 9, 31), mime: "image/webp", size: [9, 31] },
      { bytes: await sharp(await picture("png", 14, 6)).webp({ lossless: true }).toBuffer(), mime: "image/webp", size: [14, 6] },
      // An animation records one frame's size, not the strip of all frames.
      { bytes: await animation("gif", 12, 8, 3), mime: "image/gif", size: [12, 8] },
      { bytes: await animation("webp", 10, 7, 4), mime: "image/webp", size: [10, 7] },
      // EXIF orientation 6 turns the picture a quarter: the displayed size is recorded.
      { bytes: await sharp(await picture("jpeg", 30, 20)).withMetadata({ orientation: 6 }).toBuffer(), mime: "image/jpeg", size: [20, 30] },
      { bytes: await sharp(await picture("webp", 30, 20)).withMetadata({ orientation: 8 }).toBuffer(), mime: "image/webp", size: [20, 30] },
      // JPEGs often carry data after their end (motion photos); it is not truncation.
      { bytes: Buffer.concat([await picture("jpeg", 8, 8), Buffer.from("trailing data")]), mime: "image/jpeg", size: [8, 8] },
      // A libjpeg warning ("extraneous bytes before marker"), common from cameras, is not damage.
      { bytes: await (async () => {
        const jpeg = await picture("jpeg", 12, 9);
        const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
        return Buffer.concat([jpeg.subarray(0, sos), Buffer.from([1, 2, 3]), jpeg.subarray(sos)]);
      })(), mime: "image/jpeg", size: [12, 9] },
    ];
    for (const c of cases) {
      const res = await upload(t, c.bytes);
      assert.equal(res.status, 201, `${c.mime} ${c.size}: ${res.text}`);
      assert.equal(res.body.mimeType, c.mime);
      assert.deepEqual([res.body.width, res.body.height], c.size);
      assert.equal(res.body.size, c.bytes.length);
      const stored = path.join(t.mediaDir, ...res.body.url.replace(/^\/media\//, "").split("/"));
      assert.deepEqual(fs.readFileSync(stored), c.bytes);
    }
  });

  it("still answers 415 for files that are not images at all", async () => {
    const before = await snapshot(t);
    for (const bytes of [Buffer.from("GIF8"), Buffer.from("RIFF\x04\x00\x00\x00AVI "), Buffer.from([0xff, 0xd8]), Buffer.from("<svg/>")]) {
      const res = await upload(t, bytes);
      assert.equal(res.status, 415, res.text);
      assert.equal(res.body.type, "urn:dateline:problem:unsupported-media-type");
    }
    await assertNothingStored(t, before, "non-images");
  });
});

describe("pixel limit (MEDIA_MAX_PIXELS, 50 megapixels by default)", () => {
  it("answers 413 for small files that claim huge images, before decoding them", async () => {
    const before = await snapshot(t);
    assertTooManyPixels(await upload(t, claimedPng(100000, 100000)), 50000000, "PNG claiming 100000x100000");
    assertTooManyPixels(await upload(t, claimedPng(10000, 5001)), 50000000, "PNG one row over 50 megapixels");
    assertTooManyPixels(await upload(t, claimedGif(65535, 65535)), 50000000, "GIF screen claiming 65535x65535");
    // libpng refuses widths over a million as a damaged header before any size is known.
    assertDamaged(await upload(t, claimedPng(2 ** 31 - 1, 1)), "PNG claiming 2^31-1 pixels wide");
    assertDamaged(await upload(t, claimedPng(2 ** 31 - 1, 2 ** 31 - 1)), "PNG claiming 2^31-1 x 2^31-1");
    await assertNothingStored(t, before, "oversized claims");
  });

  describe("with a low limit", () => {
    let low: TestApp;
    before(async () => {
      low = await startTestApp({ MEDIA_MAX_PIXELS: "100" });
    });
    after(() => low.close());

    it("rejects images over the limit with a message naming it, and accepts those at or under it", async () => {
      const before = await snapshot(low);
      assertTooManyPixels(await upload(low, await picture("png", 20, 20)), 100, "20x20 PNG");
      assertTooManyPixels(await upload(low, await picture("jpeg", 11, 10)), 100, "11x10 JPEG");
      assertTooManyPixels(await upload(low, claimedGif(11, 10)), 100, "GIF screen of 11x10 with a 1x1 frame");
      // Every frame of an animation is decoded, so the frames count together.
      assertTooManyPixels(await upload(low, await animation("gif", 5, 5, 5)), 100, "five 5x5 frames");
      await assertNothingStored(low, before, "over the limit");

      const cases = [
        { bytes: await picture("png", 10, 10), size: [10, 10] },
        { bytes: await picture("webp", 4, 25), size: [4, 25] },
        { bytes: await animation("gif", 5, 5, 4), size: [5, 5] },
      ];
      for (const c of cases) {
        const res = await upload(low, c.bytes);
        assert.equal(res.status, 201, res.text);
        assert.deepEqual([res.body.width, res.body.height], c.size);
      }
    });
  });
});

describe("decoding one image at a time", () => {
  it("runs queued tasks one by one in arrival order, and frees the slot when a task fails", async () => {
    const limit = concurrencyLimit(1);
    const started: string[] = [];
    const release = new Map<string, (ok: boolean) => void>();
    const task = (name: string) => limit(() => new Promise<string>((resolve, reject) => {
      started.push(name);
      release.set(name, (ok) => (ok ? resolve(name) : reject(new Error(name))));
    }));
    const a = task("a");
    const b = task("b");
    const c = task("c");
    await new Promise(setImmediate);
    assert.deepEqual(started, ["a"]);
    release.get("a")!(false);
    await assert.rejects(a, /a/);
    await new Promise(setImmediate);
    assert.deepEqual(started, ["a", "b"]);
    release.get("b")!(true);
    assert.equal(await b, "b");
    await new Promise(setImmediate);
    assert.deepEqual(started, ["a", "b", "c"]);
    release.get("c")!(true);
    assert.equal(await c, "c");
    // With nothing waiting the slot is free again: the next task starts at once.
    const d = task("d");
    await new Promise(setImmediate);
    assert.deepEqual(started, ["a", "b", "c", "d"]);
    release.get("d")!(true);
    assert.equal(await d, "d");
  });

  it("answers every one of many simultaneous uploads, valid and damaged", async () => {
    const valid = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => picture(n % 2 ? "png" : "webp", 10 + n, 5 + n)));
    const damaged = Buffer.from("GIF89a");
    const results = await Promise.all([...valid, damaged, ...valid, damaged].map((b) => upload(t, b)));
    assert.deepEqual(results.map((r) => r.status), [...valid.map(() => 201), 400, ...valid.map(() => 201), 400]);
    assert.deepEqual(results.slice(0, 6).map((r) => [r.body.width, r.body.height]), [1, 2, 3, 4, 5, 6].map((n) => [10 + n, 5 + n]));
  });
});
