import { Router, type RequestHandler } from "express";
import multer from "multer";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { HttpError, badRequest, zodToFieldErrors, type FieldError } from "../http/errors.ts";
import { pageQuery } from "../http/pagination.ts";
import { idParams, route } from "../http/validate.ts";
import { adminMedia } from "./mappers.ts";
import { deleteMedia, getMedia, listMedia, updateMediaMetadata, uploadMedia } from "./service.ts";

const uploadFields = z.strictObject({
  caption: z.string().trim().max(1000).default(""),
  credit: z.string().trim().max(200).default(""),
  alt: z.string().trim().max(500).default(""),
});

// The same limits as an upload's fields; at least one of them.
const metadataBody = z.strictObject({
  caption: z.string().trim().max(1000),
  credit: z.string().trim().max(200),
  alt: z.string().trim().max(500),
}).partial().refine((b) => Object.keys(b).length > 0, "Send at least one of alt, caption, credit.");

const MULTER_MESSAGES: Partial<Record<multer.ErrorCode, string>> = {
  LIMIT_FILE_COUNT: "Send exactly one file.",
  LIMIT_UNEXPECTED_FILE: "Unexpected file; send the image in the field `file`.",
  LIMIT_FIELD_COUNT: "Too many fields.",
  LIMIT_FIELD_VALUE: "Too long.",
  LIMIT_FIELD_KEY: "Field name too long.",
  LIMIT_PART_COUNT: "Too many parts.",
};

function translateUploadError(err: unknown, maxBytes: number): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof multer.MulterError) {
    if (err.code === "LIMIT_FILE_SIZE") {
      return new HttpError(413, "file-too-large", `The file exceeds the limit of ${maxBytes} bytes.`);
    }
    // busboy names no field when it counts a second file.
    const path = err.field ? `body.${err.field}` : err.code === "LIMIT_FILE_COUNT" ? "body.file" : "body";
    return badRequest("The request is invalid.", [{ path, message: MULTER_MESSAGES[err.code] ?? err.message }]);
  }
  // busboy's parse errors (no boundary, truncated body) are the client's doing.
  return new HttpError(400, "malformed-multipart", "The request body is not valid multipart/form-data.");
}

function hasBody(req: Parameters<RequestHandler>[0]): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

export function adminMediaRoutes(ctx: AppContext): Router {
  const r = Router();
  const maxBytes = ctx.config.MEDIA_MAX_BYTES;
  const single = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 16 * 1024 },
    // Browsers send UTF-8 file names without marking them.
    defParamCharset: "utf8",
  }).single("file");

  const receiveUpload: RequestHandler = (req, res, next) => {
    if (hasBody(req) && !req.is("multipart/form-data")) {
      throw new HttpError(415, "unsupported-media-type", "Send the upload as multipart/form-data.");
    }
    single(req, res, (err?: unknown) => next(err ? translateUploadError(err, maxBytes) : undefined));
  };

  r.post("/media", receiveUpload, route({}, async (_i, req, res) => {
    const errors: FieldError[] = [];
    if (!req.file) errors.push({ path: "body.file", message: "Attach an image file (JPEG, PNG, WebP or GIF)." });
    // A text part named "file" is reported as the missing file above, not as an unknown field.
    const { file: _text, ...raw } = (req.body ?? {}) as Record<string, unknown>;
    const fields = uploadFields.safeParse(raw);
    if (!fields.success) errors.push(...zodToFieldErrors(fields.error, "body"));
    if (errors.length || !fields.success || !req.file) throw badRequest("The request is invalid.", errors);
    const m = await uploadMedia(
      { prisma: ctx.prisma, storage: ctx.media, maxPixels: ctx.config.MEDIA_MAX_PIXELS },
      req.editor!,
      { buffer: req.file.buffer, originalName: req.file.originalname },
      fields.data,
    );
    res.status(201).location(`/api/v1/admin/media/${m.id}`).json(adminMedia(m, ctx.config.MEDIA_BASE_URL));
  }));

  r.get("/media", route({ query: z.object(pageQuery) }, async ({ query }, _req, res) => {
    const { page, nextCursor } = await listMedia(ctx.prisma, query.limit, query.cursor);
    res.json({ data: page.map((m) => adminMedia(m, ctx.config.MEDIA_BASE_URL)), meta: { nextCursor } });
  }));

  r.get("/media/:id", route({ params: idParams }, async ({ params }, _req, res) => {
    res.json(adminMedia(await getMedia(ctx.prisma, params.id), ctx.config.MEDIA_BASE_URL));
  }));

  // EDITOR+, like a delete: the text shows at once in every published story using the image, which a
  // WRITER may not change (src/articles/service.ts assertCanEdit). Writers set it when they upload.
  r.patch("/media/:id", requireRole(...EDITOR_PLUS), route({ params: idParams, body: metadataBody }, async ({ params, body }, req, res) => {
    const m = await updateMediaMetadata(ctx.prisma, req.editor!, params.id, body);
    res.json(adminMedia(m, ctx.config.MEDIA_BASE_URL));
  }));

  r.delete("/media/:id", requireRole(...EDITOR_PLUS), route({ params: idParams }, async ({ params }, req, res) => {
    await deleteMedia({ prisma: ctx.prisma, storage: ctx.media }, req.editor!, params.id, req.log);
    res.status(204).end();
  }));

  return r;
}
