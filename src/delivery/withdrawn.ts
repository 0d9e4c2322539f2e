// The public answer for a withdrawn article's URL (issue 12 §3): 410 Gone
// with its tombstone, cacheable by shared caches under the article's
// surrogate key (src/delivery/response-cache.ts), so a reinstatement purges it.
import type { Response } from "express";
import { HttpError } from "../http/errors.ts";
import { surrogateKeys } from "./response-cache.ts";
import type { Tombstone } from "./tombstones.ts";

/** Thrown by the article loader when the slug names a withdrawn article. */
export class Withdrawn extends Error {
  constructor(readonly tombstone: Tombstone, readonly keys: string) {
    super("withdrawn");
  }
}

/** 410 with the tombstone { slug, headline, withdrawnAt, reason }. */
export function sendTombstone(res: Response, w: Withdrawn): void {
  surrogateKeys(res, w.keys ? w.keys.split(" ") : []);
  res.locals.tombstone = true;
  const t = w.tombstone;
  res.status(410).json({ slug: t.slug, headline: t.headline, withdrawnAt: t.withdrawnAt, reason: t.reason });
}

/** For routes that answer a withdrawn article with a problem document (the print page). */
export function goneError(err: unknown): never {
  if (err instanceof Withdrawn) {
    throw new HttpError(410, "withdrawn", `The article was withdrawn on ${err.tombstone.withdrawnAt}: ${err.tombstone.reason}`);
  }
  throw err;
}
