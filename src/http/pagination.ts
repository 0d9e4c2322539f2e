// Opaque cursors for keyset pagination: base64url of a JSON tuple of the sort
// key and the id, so pages never skip or repeat rows when new rows arrive.
import { z } from "zod";
import { badRequest } from "./errors.ts";
import { bodyIdSchema, isoDateTimeSchema } from "./validate.ts";

export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT),
  cursor: z.string().max(200).optional(),
};

export interface Cursor {
  /** ISO timestamp of the sort key, when the list is ordered by time. */
  t?: string;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

// Cursors come back from clients: hold them to what the queries can use
// (an int4 id, a storable time) or a forged one reaches the database.
const cursorShape = z.object({
  t: isoDateTimeSchema.optional(),
  id: bodyIdSchema,
});

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined) return undefined;
  try {
    return cursorShape.parse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
  } catch {
    throw badRequest("The request is invalid.", [{ path: "query.cursor", message: "Invalid cursor." }]);
  }
}

/** Splits a fetched page of limit+1 rows into the page and the next cursor. */
export function paginate<T>(rows: T[], limit: number, key: (row: T) => Cursor) {
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  return { page, nextCursor: hasMore ? encodeCursor(key(page[page.length - 1])) : null };
}
