// Optimistic concurrency for the editor API. Every article, section and
// editor carries a version that changes on every write; it leaves as a
// strong ETag, and PATCH/DELETE must send it back in If-Match. A stale one
// answers 412 with the current representation; a missing one 428.
import type { Request, Response } from "express";
import { HttpError } from "./errors.ts";

export type IfMatch = { any: true } | { any: false; versions: number[] };

export const etag = (version: number) => `"${version}"`;

export function setEtag(res: Response, version: number): void {
  res.setHeader("ETag", etag(version));
}

/** Parses If-Match; null when absent. Weak tags never match (RFC 9110 13.1.1). */
export function parseIfMatch(req: Request): IfMatch | null {
  const raw = req.headers["if-match"];
  if (raw === undefined) return null;
  const value = raw.trim();
  if (value === "*") return { any: true };
  const versions = [...value.matchAll(/(W\/)?"(\d{1,10})"/g)].filter((m) => !m[1]).map((m) => Number(m[2]));
  return { any: false, versions };
}

export function preconditionRequired(): HttpError {
  return new HttpError(428, "precondition-required",
    "Send the ETag you last read in an If-Match header, so concurrent edits are not lost.");
}

export function preconditionFailed(version: number, current: unknown): HttpError {
  return new HttpError(412, "precondition-failed",
    "The resource changed since you read it: reload, reapply your change and send the new ETag.",
    undefined, { ETag: etag(version) }, { currentEtag: etag(version), current });
}

/**
 * Checks a precondition against the version just read. `required` makes a
 * missing header a 428. Returns the version the write must still find.
 */
export function checkIfMatch(ifMatch: IfMatch | null, version: number, required: boolean, current: () => unknown): number {
  if (ifMatch === null) {
    if (required) throw preconditionRequired();
    return version;
  }
  if (!ifMatch.any && !ifMatch.versions.includes(version)) throw preconditionFailed(version, current());
  return version;
}
