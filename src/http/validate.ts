// Parse, then replace: each route declares Zod schemas for params, query and
// body; the handler receives only the parsed, typed result.
import type { Request, RequestHandler, Response } from "express";
import { z } from "zod";
import { HttpError, badRequest, zodToFieldErrors, type FieldError } from "./errors.ts";
import { assertStorable } from "./input-hygiene.ts";

interface Schemas {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface Input<S extends Schemas> {
  params: Out<S["params"]>;
  query: Out<S["query"]>;
  body: Out<S["body"]>;
}

function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

export function route<S extends Schemas>(
  schemas: S,
  fn: (input: Input<S>, req: Request, res: Response) => Promise<unknown> | unknown,
): RequestHandler {
  return async (req, res) => {
    // Path parameters are decoded by the router and multipart fields parsed by
    // multer, both after the app-wide inputHygiene check: same rules here.
    assertStorable({ params: req.params, body: req.body });
    const errors: FieldError[] = [];
    const input = { params: undefined, query: undefined, body: undefined } as Record<string, unknown>;
    for (const part of ["params", "query", "body"] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      let raw: unknown = req[part];
      if (part === "body") {
        if (hasBody(req) && !req.is("application/json")) {
          throw new HttpError(415, "unsupported-media-type", "Send the body as application/json.");
        }
        raw ??= {};
      }
      const result = schema.safeParse(raw);
      if (result.success) input[part] = result.data;
      else errors.push(...zodToFieldErrors(result.error, part));
    }
    if (errors.length) throw badRequest("The request is invalid.", errors);
    await fn(input as unknown as Input<S>, req, res);
  };
}

// Shared field schemas.
export const slugSchema = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "Use lower-case letters, digits and single hyphens.");

/** An id in a path or query string: digits only (no "0x10", no "1e3"). */
export const idSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, "Must be a positive integer.")
  .transform(Number)
  .pipe(z.number().max(2147483647, "Must be a positive integer."));

/** An id in a JSON body. */
export const bodyIdSchema = z.number().int().positive().max(2147483647);

// Years 1000-9999 (UTC): beyond 9999 a Date serializes as "+010000-..." and
// Prisma refuses it; PostgreSQL refuses year 0; and PGlite reads years below
// 100 back as 19xx/20xx.
const MIN_TIME = Date.UTC(1000, 0, 1);
const MAX_TIME = Date.UTC(10000, 0, 1) - 1;

/** An ISO 8601 date-time with offset that the database stores as given. */
export const isoDateTimeSchema = z.iso
  .datetime({ offset: true })
  .refine((v) => {
    const t = Date.parse(v);
    return t >= MIN_TIME && t <= MAX_TIME;
  }, "Must be between the years 1000 and 9999 (UTC).");

export const dateTimeSchema = isoDateTimeSchema.transform((v) => new Date(v));

export const idParams = z.object({ id: idSchema });
export const slugParams = z.object({ slug: slugSchema });
