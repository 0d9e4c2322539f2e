// Where uploaded files live, behind a small interface: the local disk here
// (the default), an S3-compatible bucket in s3-storage.ts.
import fs from "node:fs/promises";
import path from "node:path";
import type { RequestHandler } from "express";
import { HttpError } from "../http/errors.ts";

export interface MediaStorage {
  /** Stores a new file; fails (never overwrites) if `key` exists. */
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** Removes a file; missing files are ignored. */
  remove(key: string): Promise<void>;
  /** Serves GET /media/<key> with long-lived cache headers. */
  serve(): RequestHandler;
  /** Releases connections (the S3 client's sockets); the local disk has none. */
  close?(): Promise<void>;
}

/** `yyyy/mm/<uuid>.<ext>`: the only shape of key ever written or served. */
export const STORAGE_KEY = /^\d{4}\/\d{2}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(jpg|png|webp|gif)$/;

export const CONTENT_TYPES: Record<string, string> = {
  jpg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
};

/** The headers every stored file is served with, whatever the backend. */
export const FILE_HEADERS = {
  // A key names one upload forever (random, never overwritten).
  "Cache-Control": "public, max-age=31536000, immutable",
  "X-Content-Type-Options": "nosniff",
  // helmet's same-origin default would stop reader sites on other origins from embedding images.
  "Cross-Origin-Resource-Policy": "cross-origin",
} as const;

export const rangeNotSatisfiable = (contentRange?: string) =>
  new HttpError(416, "range-not-satisfiable", "The requested range is outside the file.", undefined,
    contentRange ? { "Content-Range": contentRange } : undefined);
export const preconditionFailed = () =>
  new HttpError(412, "precondition-failed", "The file does not match If-Match or If-Unmodified-Since.");

export function checkKey(key: string): void {
  // Keys come from the server, never from a client; this guards against a
  // future caller passing something that could escape the directory.
  if (!STORAGE_KEY.test(key)) throw new Error(`invalid media storage key: ${JSON.stringify(key)}`);
}

export function localDiskStorage(dir: string): MediaStorage {
  const root = path.resolve(dir);
  const fileOf = (key: string) => path.join(root, ...key.split("/"));

  return {
    async put(key, data) {
      checkKey(key);
      const file = fileOf(key);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const handle = await fs.open(file, "wx");
      try {
        await handle.writeFile(data);
        await handle.close();
      } catch (err) {
        // Only a file this call created is removed: "wx" failed above for an existing one.
        await handle.close().catch(() => {});
        await fs.rm(file, { force: true });
        throw err;
      }
    },

    async remove(key) {
      checkKey(key);
      await fs.rm(fileOf(key), { force: true });
    },

    serve() {
      return (req, res, next) => {
        if (req.method !== "GET" && req.method !== "HEAD") return next();
        // req.path is still percent-encoded, so "%2e%2e" or "%2f" never match either.
        const key = req.path.slice(1);
        if (!STORAGE_KEY.test(key)) return next();
        const ext = key.slice(key.lastIndexOf(".") + 1);
        res.sendFile(fileOf(key), {
          dotfiles: "deny",
          cacheControl: false,
          headers: { "Content-Type": CONTENT_TYPES[ext], ...FILE_HEADERS },
        }, (err?: Error & { code?: string; status?: number; headers?: Record<string, string> }) => {
          if (!err) return;
          if (err.code === "ENOENT" || err.code === "ENOTDIR" || err.status === 404) return next();
          // The reader's own conditions (send's errors), not server faults.
          if (err.status === 416) return next(rangeNotSatisfiable(err.headers?.["Content-Range"]));
          if (err.status === 412) return next(preconditionFailed());
          next(err);
        });
      };
    },
  };
}
