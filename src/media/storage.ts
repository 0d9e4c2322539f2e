// Where uploaded files live, behind a small interface so an S3-compatible
// store can be added without touching the routes.
import type { RequestHandler } from "express";

export interface MediaStorage {
  /** Stores a new file; fails (never overwrites) if `key` exists. */
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** Removes a file; missing files are ignored. */
  remove(key: string): Promise<void>;
  /** Serves GET /media/<key> with long-lived cache headers. */
  serve(): RequestHandler;
}

// TODO(media): LocalDiskStorage implementation.
export function localDiskStorage(_dir: string): MediaStorage {
  return {
    put: async () => { throw new Error("not implemented"); },
    remove: async () => {},
    serve: () => (_req, _res, next) => next(),
  };
}
