// One error type and one renderer. Everything that goes wrong in a request
// becomes an HttpError and leaves as application/problem+json (RFC 9457).
// Unknown errors are logged in full and answered with a bare 500.
import type { ErrorRequestHandler, RequestHandler } from "express";
import { z } from "zod";
import { Prisma } from "../generated/prisma/client.ts";
import { redactUrl } from "./redact.ts";

export interface FieldError {
  path: string;
  message: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  412: "Precondition Failed",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  422: "Unprocessable Content",
  423: "Locked",
  428: "Precondition Required",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    /** Extra members of the problem document (e.g. currentStatus). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const badRequest = (msg: string, errors?: FieldError[]) =>
  new HttpError(400, "validation-error", msg, errors);
export const unauthorized = (msg = "Authentication required.") =>
  new HttpError(401, "unauthorized", msg, undefined, { "WWW-Authenticate": 'Bearer realm="dateline"' });
export const forbidden = (msg = "You are not allowed to do this.") => new HttpError(403, "forbidden", msg);
export const notFound = (what = "Resource") => new HttpError(404, "not-found", `${what} not found.`);
export const conflict = (msg: string, code = "conflict") => new HttpError(409, code, msg);

export function zodToFieldErrors(err: z.ZodError, prefix?: string): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of err.issues) {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        out.push({ path: base ? `${base}.${key}` : key, message: "Unknown field." });
      }
    } else {
      out.push({ path: base || "(root)", message: issue.message });
    }
  }
  return out;
}

/** The PostgreSQL SQLSTATE and detail behind an error, if any. */
function pgError(err: unknown): { code: string; detail?: string } | undefined {
  // adapter-pg maps these to P2002/P2003; pglite-prisma-adapter 0.6 passes
  // the raw PostgreSQL error through as DriverAdapterError's cause.
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return { code: e.code, detail: e.detail };
    if (typeof e.originalCode === "string") return { code: e.originalCode, detail: e.originalMessage };
  }
  return undefined;
}

function uniqueViolation(fields: string[]): HttpError {
  return new HttpError(409, "already-exists", `A record with this ${fields.join(", ")} already exists.`,
    fields.map((f) => ({ path: f, message: "Already taken." })));
}

/** Translates database errors that a client can cause into 4xx. */
function translatePrisma(err: unknown): HttpError | undefined {
  const pg = pgError(err);
  if (pg?.code === "23505") {
    const m = /Key \(([^)]+)\)=/.exec(pg.detail ?? "");
    return uniqueViolation(m ? m[1].split(",").map((f) => f.trim().replace(/"/g, "")) : ["value"]);
  }
  if (pg?.code === "23503") return conflict("The record is still referenced by other records.", "in-use");
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (err.code === "P2002") {
      // With driver adapters the fields sit under meta.driverAdapterError.
      const meta = err.meta as { target?: string[] | string; driverAdapterError?: { cause?: { constraint?: { fields?: string[] } } } } | undefined;
      const target = meta?.target ?? meta?.driverAdapterError?.cause?.constraint?.fields ?? "value";
      return uniqueViolation((Array.isArray(target) ? target : [target]).map((f) => f.replace(/"/g, "")));
    }
    if (err.code === "P2025") return notFound();
    if (err.code === "P2003") return conflict("The record is still referenced by other records.", "in-use");
  }
  return undefined;
}

/**
 * The error and what it wraps: `cause` chains (pg, PGlite) and the driver
 * adapter error Prisma keeps under meta.driverAdapterError.
 */
function errorChain(err: unknown): any[] {
  const out: any[] = [];
  const queue: unknown[] = [err];
  while (queue.length && out.length < 10) {
    const e = queue.shift() as any;
    if (!e || typeof e !== "object" || out.includes(e)) continue;
    out.push(e);
    queue.push(e.cause, e.meta?.driverAdapterError);
  }
  return out;
}

const sqlState = (e: any): string | undefined =>
  [e.originalCode, e.code].find((c) => typeof c === "string" && /^[0-9A-Z]{5}$/.test(c));

// Seconds a client should wait before retrying while the database is away:
// about one connect timeout, so a retry meets a recovered server.
export const DATABASE_RETRY_AFTER_SECONDS = 5;

const UNAVAILABLE_SOCKET = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN",
  "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
// Shutdown and crash (57P01-03), statement and lock timeouts, too many
// connections / out of resources (53xxx), and the whole connection class 08.
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|57014|55P03|53...)$/;
// P1001 unreachable, P1002/P1008 timed out, P1017 connection closed, P2024
// pool timeout, P2028 a transaction that could not start or outlived its timeout.
const UNAVAILABLE_PRISMA = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
const UNAVAILABLE_KIND = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
// pg and pg-pool raise these as plain Errors without a code.
const UNAVAILABLE_MESSAGE = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|Client has encountered a connection error|Cannot use a pool after calling end|PGlite is closed/i;

/** True when the error means "the database is away or overloaded", not "this request is wrong". */
export function isDatabaseUnavailable(err: unknown): boolean {
  return errorChain(err).some((e) => {
    if (typeof e.code === "string" && (UNAVAILABLE_SOCKET.has(e.code) || UNAVAILABLE_PRISMA.has(e.code))) return true;
    const state = sqlState(e);
    if (state && UNAVAILABLE_SQLSTATE.test(state)) return true;
    if (typeof e.kind === "string" && UNAVAILABLE_KIND.has(e.kind)) return true;
    return typeof e.message === "string" && UNAVAILABLE_MESSAGE.test(e.message);
  });
}

export const databaseUnavailable = () =>
  new HttpError(503, "database-unavailable", "The database is unavailable; try again shortly.", undefined,
    { "Retry-After": String(DATABASE_RETRY_AFTER_SECONDS) });

/**
 * PostgreSQL data exceptions (class 22: a NUL byte, a date or number out of
 * range, ...). Input checks stop these first; a value that slips through is
 * still the request's fault, not a server error.
 */
function isDataException(err: unknown): boolean {
  return errorChain(err).some((e) => sqlState(e)?.startsWith("22"));
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, "not-found", `No route for ${req.method} ${req.path}.`));
};

export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  let httpErr: HttpError;
  if (err instanceof HttpError) {
    httpErr = err;
  } else if (err instanceof z.ZodError) {
    httpErr = badRequest("The request is invalid.", zodToFieldErrors(err));
  } else if (err?.type === "entity.parse.failed") {
    httpErr = new HttpError(400, "malformed-json", "The request body is not valid JSON.");
  } else if (err?.type === "entity.too.large") {
    httpErr = new HttpError(413, "body-too-large", `The request body exceeds the limit of ${err.limit} bytes.`);
  } else if (err?.type === "encoding.unsupported" || err?.type === "charset.unsupported") {
    httpErr = new HttpError(415, "unsupported-encoding", "Unsupported body encoding.");
  } else if (err instanceof URIError) {
    // The router's decodeURIComponent of a path parameter (e.g. /articles/%ff).
    httpErr = badRequest("The request is invalid.", [{ path: "params", message: "Malformed percent-encoding in the URL path." }]);
  } else if (isDatabaseUnavailable(err)) {
    httpErr = databaseUnavailable();
  } else if (isDataException(err)) {
    req.log?.warn({ err }, "database refused a value");
    httpErr = new HttpError(400, "invalid-value", "A value in the request cannot be stored.");
  } else {
    httpErr = translatePrisma(err) ?? new HttpError(500, "internal", "An unexpected error occurred.");
  }
  if (httpErr.status >= 500) req.log?.error({ err }, "request failed");
  if (res.headersSent) return;
  res.setHeader("Cache-Control", "no-store");
  for (const [k, v] of Object.entries(httpErr.headers ?? {})) res.setHeader(k, v);
  res
    .status(httpErr.status)
    .type("application/problem+json")
    .json({
      type: `urn:dateline:problem:${httpErr.code}`,
      title: TITLES[httpErr.status] ?? "Error",
      status: httpErr.status,
      detail: httpErr.message,
      // Redacted like the log: problem documents get copied into tickets and logs.
      instance: redactUrl(req.originalUrl),
      requestId: String(req.id ?? ""),
      ...(httpErr.errors ? { errors: httpErr.errors } : {}),
      ...httpErr.extra,
    });
};
