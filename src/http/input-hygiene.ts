// Strings PostgreSQL cannot store, checked once for every operation instead
// of in each schema: text columns refuse U+0000, and a lone UTF-16 surrogate
// (legal in JSON's \ud800 escape, not in UTF-8) fails on the way to the
// database. Both become field-level 400s before any handler runs. Deeply
// nested JSON is refused here too: JSON.parse takes any depth, but recursive
// code after it (logging, JSON columns) would overflow the stack.
import type { RequestHandler } from "express";
import { badRequest, type FieldError } from "./errors.ts";

// Node 20 has both (ES2024); the project's lib setting is ES2023.
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/** No request schema nests deeper than a handful of levels. */
export const MAX_DEPTH = 32;
/** Enough to name every bad field a client may want fixed, not an amplifier. */
const MAX_ERRORS = 20;

function stringProblem(s: string): string | undefined {
  if (s.includes("\u0000")) return "Must not contain the NUL character (U+0000).";
  if (!s.isWellFormed()) return "Must be well-formed Unicode text (no lone surrogates).";
  return undefined;
}

/** A key as it can be shown back in a field path. */
const printable = (key: string) => key.replaceAll("\u0000", "\ufffd").toWellFormed();

/**
 * Field errors for every string (values and object keys) in `value` that
 * the database cannot store, and for nesting beyond MAX_DEPTH. Iterative, so
 * hostile depth cannot overflow the stack here.
 */
export function unsafeInputErrors(value: unknown, prefix: string): FieldError[] {
  const errors: FieldError[] = [];
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: prefix, depth: 0 }];
  while (stack.length && errors.length < MAX_ERRORS) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      const problem = stringProblem(v);
      if (problem) errors.push({ path, message: problem });
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth >= MAX_DEPTH) {
      errors.push({ path, message: `Nested too deeply (more than ${MAX_DEPTH} levels).` });
      continue;
    }
    // Own enumerable keys only, as JSON.parse, querystring and multer create them
    // (a "__proto__" key is an own property there, never the prototype).
    for (const key of Object.keys(v)) {
      const child = `${path}.${printable(key)}`;
      const keyProblem = stringProblem(key);
      if (keyProblem) errors.push({ path: child, message: `Field name: ${keyProblem}` });
      else stack.push({ v: (v as Record<string, unknown>)[key], path: child, depth: depth + 1 });
    }
  }
  return errors;
}

/** Throws a 400 naming every unstorable string in the given request parts. */
export function assertStorable(parts: Record<string, unknown>): void {
  const errors = Object.entries(parts).flatMap(([prefix, v]) => unsafeInputErrors(v, prefix));
  if (errors.length) throw badRequest("The request is invalid.", errors.slice(0, MAX_ERRORS));
}

/**
 * Runs after express.json for every route: the query string and a JSON body.
 * Path parameters and multipart fields exist only later (router, multer) and
 * are checked by route() in validate.ts with the same rules.
 */
export const inputHygiene: RequestHandler = (req, _res, next) => {
  assertStorable({ query: req.query, body: req.body });
  next();
};
