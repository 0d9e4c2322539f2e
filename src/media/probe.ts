// What an upload is, decided from its bytes alone: the type by its leading
// bytes, the size by decoding it with sharp (libvips). sharp reads exactly the
// bytes of the Buffer it is given, never the rest of a pooled ArrayBuffer
// behind it, and runs in libuv's thread pool, off the event loop. The size the
// header claims is checked against the pixel limit before anything is decoded,
// so a small file cannot make the server allocate a huge picture; then the
// whole image is decoded, so a truncated or damaged file is refused rather
// than stored.
import type { Metadata } from "sharp";

// Loaded on the first upload, not at start: libvips costs a reading-only
// instance memory it never uses.
let sharpModule: Promise<typeof import("sharp")> | undefined;
const loadSharp = async () => (await (sharpModule ??= import("sharp"))).default;
import { HttpError, badRequest } from "../http/errors.ts";
import { CONTENT_TYPES } from "./storage.ts";

export type ImageExt = "jpg" | "png" | "webp" | "gif";

const startsWith = (buf: Buffer, bytes: number[], at = 0) =>
  buf.length >= at + bytes.length && bytes.every((b, i) => buf[at + i] === b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The image type by its leading bytes; the client's Content-Type and file name are not trusted. */
export function sniffImageType(buf: Buffer): ImageExt | undefined {
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return "jpg";
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(buf, ascii("GIF87a")) || startsWith(buf, ascii("GIF89a"))) return "gif";
  if (startsWith(buf, ascii("RIFF")) && startsWith(buf, ascii("WEBP"), 8)) return "webp";
  return undefined;
}

const SHARP_FORMAT: Record<ImageExt, string> = { jpg: "jpeg", png: "png", gif: "gif", webp: "webp" };

// libpng and libnsgif accept a file whose pixels are complete but whose end
// was cut off, and libnsgif even an animation cut inside its last frame, so
// these two must end with their end marker. libjpeg and libwebp refuse a
// truncated file themselves; a JPEG may carry data after its end (motion photos).
const IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const GIF_TRAILER = 0x3b;
const endsComplete: Record<ImageExt, (buf: Buffer) => boolean> = {
  png: (buf) => buf.length >= IEND.length && buf.subarray(buf.length - IEND.length).equals(IEND),
  gif: (buf) => buf[buf.length - 1] === GIF_TRAILER,
  jpg: () => true,
  webp: () => true,
};

export interface ProbedImage {
  ext: ImageExt;
  mimeType: string;
  /** The displayed size of the image, or of one frame of an animation. */
  width: number;
  height: number;
}

/** Runs at most `n` tasks at a time; the others wait their turn in arrival order. */
export function concurrencyLimit(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, or is given back.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

// Decoding an image at the default limit takes seconds and a few hundred MB
// (measured: a 34 KB GIF of 10000 x 5000 took 3.5 s and 430 MB), on libuv's
// thread pool, which logins (scrypt) and file serving share. One decode at a
// time bounds both, so a burst of uploads slows only other uploads.
const decodeSlot = concurrencyLimit(1);

const damaged = () => badRequest("The request is invalid.", [
  { path: "body.file", message: "The image cannot be decoded; the file is damaged or truncated." },
]);

function tooManyPixels(width: number, height: number, frames: number, maxPixels: number): HttpError {
  const size = frames > 1 ? `${frames} frames of ${width} × ${height}` : `${width} × ${height}`;
  return new HttpError(
    413, "image-too-large",
    `The image has ${width * height * frames} pixels (${size}); the limit is ${maxPixels} pixels.`,
  );
}

/**
 * Type and displayed size of an upload: 415 if it is not a JPEG, PNG, WebP or
 * GIF, 413 if it has more than `maxPixels` pixels (all frames of an animation
 * together, since every frame is decoded), 400 if it does not decode completely.
 */
export async function probeImage(buf: Buffer, maxPixels: number): Promise<ProbedImage> {
  const ext = sniffImageType(buf);
  if (!ext) {
    throw new HttpError(415, "unsupported-media-type", "The file is not a JPEG, PNG, WebP or GIF image.");
  }
  let meta: Metadata;
  const sharp = await loadSharp();
  try {
    // The header only; the limit is applied below, with a message that says why.
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch {
    throw damaged();
  }
  if (meta.format !== SHARP_FORMAT[ext] || !meta.width || !meta.height || !endsComplete[ext](buf)) throw damaged();

  // With the default of one page, width and height are the first frame's.
  let { width, height } = meta;
  if (ext === "gif") {
    // libnsgif shrinks an implausible logical screen to its frames, but
    // browsers draw the screen the header declares: that is the size.
    width = Math.max(width, buf.readUInt16LE(6));
    height = Math.max(height, buf.readUInt16LE(8));
  }
  const frames = meta.pages ?? 1;
  if (width * height * frames > maxPixels) throw tooManyPixels(width, height, frames, maxPixels);

  try {
    // "error" rather than sharp's default "warning": cameras write JPEGs with
    // harmless warnings (extraneous bytes before a marker) that every viewer shows.
    await decodeSlot(() => sharp(buf, { failOn: "error", pages: -1, limitInputPixels: maxPixels }).stats());
  } catch {
    throw damaged();
  }

  // EXIF orientations 5-8 turn the picture a quarter; browsers display it
  // turned, so the recorded size is the displayed one.
  if ((meta.orientation ?? 1) >= 5) [width, height] = [height, width];
  return { ext, mimeType: CONTENT_TYPES[ext], width, height };
}
