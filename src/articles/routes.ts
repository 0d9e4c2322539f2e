import { Router, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { EDITOR_PLUS, requireRole } from "../auth/middleware.ts";
import { notFound } from "../http/errors.ts";
import { pageQuery } from "../http/pagination.ts";
import { parseIfMatch, setEtag } from "../http/preconditions.ts";
import { bodyIdSchema, dateTimeSchema, idParams, idSchema, route, slugSchema } from "../http/validate.ts";
import { adminArticle, publicArticle } from "./mappers.ts";
import { publicView } from "./presentation.ts";
import { effectiveLanguage } from "../i18n/languages.ts";
import { languageSchema } from "../i18n/schema.ts";
import { creditsSchema } from "../authors/schema.ts";
import { getRevision, listRevisions, revisionSummary } from "./revisions.ts";
import { searchArticlesAdmin } from "../search/admin.ts";
import { queryTextSchema } from "../search/query.ts";
import {
  automaticRelated, createArticle, getArticleFor, getArticlePublic, listArticlesAdmin,
  purgeArticle, restoreFromTrash, restoreRevision, transition, trashArticle, updateArticle,
  type AdminArticleRow, type Transition,
} from "./service.ts";

const kind = z.enum(["STORY", "ANALYSIS", "OPINION", "PHOTO_STORY", "LIVE"]);
const status = z.enum(["DRAFT", "IN_REVIEW", "SCHEDULED", "PUBLISHED", "ARCHIVED", "WITHDRAWN"]);

/** The draft preview: the editorial path (drafts are not in the read model; src/delivery serves the public reads). */
export function publicArticleRoutes(ctx: AppContext): Router {
  const r = Router();
  const view = publicView(ctx.config);
  const load = async (where: Parameters<typeof getArticlePublic>[1]) => {
    const { article, tree } = await getArticlePublic(ctx.prisma, where);
    const auto = article.related.length ? [] : await automaticRelated(ctx.prisma, article);
    // As the read model builds it (src/delivery/read-model.ts); a draft lists no translations.
    const language = effectiveLanguage(article.language, tree.languageOf(article.sectionId), view.siteLanguage);
    const updatedAt = article.editorialUpdatedAt ?? article.publishedAt ?? article.updatedAt;
    return publicArticle({ ...article, updatedAt, language, alternates: [] }, tree, view, auto);
  };
  // Draft preview: the token names exactly one article and nothing else.
  const previewParams = z.object({ token: z.string().min(1).max(2000) });
  r.get("/preview/:token", route({ params: previewParams }, async ({ params }, _req, res) => {
    const id = ctx.tokens.verifyPreview(params.token);
    if (id === undefined) throw notFound("Preview");
    const payload = await load({ id });
    res.set({ "Cache-Control": "private, no-store", "X-Robots-Tag": "noindex" }).json(payload);
  }));
  return r;
}

// Blank strings are stored as null, so "no dateline" has one representation.
const optionalText = (max: number) =>
  z.string().trim().max(max).nullable().transform((v) => (v === "" ? null : v));
const uniqueList = <T extends z.ZodType>(item: T, max: number) =>
  z.array(item).max(max).refine((a) => new Set(a).size === a.length, "Must not contain duplicates.");

const articleFields = {
  slug: slugSchema,
  headline: z.string().trim().min(1).max(300),
  summary: z.string().trim().max(2000),
  dateline: optionalText(100),
  source: optionalText(200),
  byline: optionalText(200),
  // At most BODY_HTML_MAX_CHARS, checked with its structure by ctx.sanitizer.
  body: z.string(),
  kind,
  section: slugSchema,
  editors: uniqueList(bodyIdSchema, 20),
  related: uniqueList(bodyIdSchema, 20),
  tags: uniqueList(slugSchema, 30),
  leadImage: bodyIdSchema.nullable(),
  gallery: z
    .array(z.strictObject({ media: bodyIdSchema, caption: z.string().trim().max(1000).optional() }))
    .max(100)
    .refine((g) => new Set(g.map((x) => x.media)).size === g.length, "Must not contain an image twice."),
  commentsClosed: z.boolean(),
  // Languages and translations (issue 9): null clears the language (inherit the section's) or leaves the group.
  language: languageSchema.nullable(),
  translationOf: bodyIdSchema.nullable(),
  // Issue 12 §2: hidden from every public surface until then (must be in the future); null lifts it.
  embargoedUntil: dateTimeSchema.nullable(),
  // Issue 12 §5: credited author profiles [{ slug, role }], in byline order.
  authors: creditsSchema,
};

const createBody = z.strictObject({
  ...articleFields,
  slug: articleFields.slug.optional(),
  summary: articleFields.summary.optional(),
  dateline: articleFields.dateline.optional(),
  source: articleFields.source.optional(),
  byline: articleFields.byline.optional(),
  body: articleFields.body.optional(),
  kind: articleFields.kind.optional(),
  editors: articleFields.editors.optional(),
  related: articleFields.related.optional(),
  tags: articleFields.tags.optional(),
  leadImage: articleFields.leadImage.optional(),
  gallery: articleFields.gallery.optional(),
  commentsClosed: articleFields.commentsClosed.optional(),
  language: articleFields.language.optional(),
  translationOf: articleFields.translationOf.optional(),
  embargoedUntil: articleFields.embargoedUntil.optional(),
  authors: articleFields.authors.optional(),
}).refine((b) => !b.gallery?.length || b.kind === "PHOTO_STORY", {
  path: ["gallery"], message: "Only PHOTO_STORY articles have a gallery.",
});
// significantUpdate: the editor's "significant update" checkbox (moves the public updatedAt).
const updateBody = z.strictObject({ ...articleFields, significantUpdate: z.boolean() }).partial();

const transitionBodies: Record<Transition, z.ZodType<{ note?: string; scheduledAt?: Date; publishedAt?: Date; significantUpdate?: boolean }>> = {
  submit: z.strictObject({}),
  return: z.strictObject({ note: z.string().trim().min(1).max(2000) }),
  schedule: z.strictObject({ scheduledAt: dateTimeSchema }),
  publish: z.strictObject({ publishedAt: dateTimeSchema.optional(), significantUpdate: z.boolean().optional() }),
  unpublish: z.strictObject({}),
  archive: z.strictObject({}),
};

export function adminArticleRoutes(ctx: AppContext): Router {
  const r = Router();
  const sendArticle = (res: Response, a: AdminArticleRow, status = 200) => {
    setEtag(res, a.version);
    res.status(status).json(adminArticle(a, ctx.config.MEDIA_BASE_URL));
  };
  const listQuery = z.object({
    trashed: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
    status: status.optional(),
    section: slugSchema.optional(),
    author: idSchema.optional(),
    kind: kind.optional(),
    // The versions of one story (issue 9): the members of a translation group.
    translationGroup: z.string().trim().min(1).max(200).optional(),
    // Full-text search, ranked (src/search/admin.ts).
    q: queryTextSchema.optional(),
    ...pageQuery,
  });
  r.get("/articles", route({ query: listQuery }, async ({ query }, req, res) => {
    if (query.q !== undefined) {
      const found = await searchArticlesAdmin(ctx.prisma, req.editor!, { ...query, q: query.q });
      res.json({
        data: found.page.map((a) => adminArticle(a, ctx.config.MEDIA_BASE_URL)),
        meta: { nextCursor: found.nextCursor, total: found.total, totalIsEstimate: found.totalIsEstimate, hits: found.hits },
      });
      return;
    }
    const { page, nextCursor } = await listArticlesAdmin(ctx.prisma, req.editor!, query);
    res.json({ data: page.map((a) => adminArticle(a, ctx.config.MEDIA_BASE_URL)), meta: { nextCursor } });
  }));
  r.get("/articles/:id", route({ params: idParams }, async ({ params }, req, res) => {
    sendArticle(res, await getArticleFor(ctx.prisma, req.editor!, params.id));
  }));
  r.post("/articles", route({ body: createBody }, async ({ body }, req, res) => {
    const a = await createArticle(ctx.prisma, ctx.sanitizer, req.editor!, body);
    res.location(`/api/v1/admin/articles/${a.id}`);
    sendArticle(res, a, 201);
  }));
  r.patch("/articles/:id", route({ params: idParams, body: updateBody }, async ({ params, body }, req, res) => {
    sendArticle(res, await updateArticle(ctx.prisma, ctx.sanitizer, req.editor!, params.id, body, parseIfMatch(req)));
  }));
  r.delete("/articles/:id", route({ params: idParams }, async ({ params }, req, res) => {
    await trashArticle(ctx.prisma, req.editor!, params.id, parseIfMatch(req));
    res.status(204).end();
  }));
  r.post("/articles/:id/restore", requireRole(...EDITOR_PLUS), route({ params: idParams, body: z.strictObject({}) }, async ({ params }, req, res) => {
    sendArticle(res, await restoreFromTrash(ctx.prisma, req.editor!, params.id, ctx.config.TRASH_RETENTION_DAYS));
  }));
  r.post("/articles/:id/purge", requireRole("ADMIN"), route({ params: idParams, body: z.strictObject({}) }, async ({ params }, req, res) => {
    await purgeArticle(ctx.prisma, req.editor!, params.id);
    res.status(204).end();
  }));

  for (const action of Object.keys(transitionBodies) as Transition[]) {
    // Submitting is open to the article's writer; every other move is EDITOR+.
    const roles = action === "submit" ? [] : [requireRole(...EDITOR_PLUS)];
    r.post(`/articles/:id/${action}`, ...roles, route({ params: idParams, body: transitionBodies[action] }, async ({ params, body }, req, res) => {
      sendArticle(res, await transition(ctx.prisma, req.editor!, params.id, action, body, parseIfMatch(req)));
    }));
  }

  // Anyone holding the link reads the draft, so only those who may read it mint one.
  r.post("/articles/:id/preview", route({ params: idParams, body: z.strictObject({}) }, async ({ params }, req, res) => {
    const a = await getArticleFor(ctx.prisma, req.editor!, params.id);
    if (a.deletedAt) throw notFound("Article");
    const { token, expiresAt } = ctx.tokens.signPreview(a.id);
    res.status(201).json({ token, url: `/api/v1/preview/${token}`, expiresAt: expiresAt.toISOString() });
  }));

  const revParams = z.object({ id: idSchema, rev: idSchema });
  r.get("/articles/:id/revisions", route({ params: idParams, query: z.object(pageQuery) }, async ({ params, query }, req, res) => {
    await getArticleFor(ctx.prisma, req.editor!, params.id);
    const { page, nextCursor } = await listRevisions(ctx.prisma, params.id, query.limit, query.cursor);
    res.json({ data: page.map(revisionSummary), meta: { nextCursor } });
  }));
  r.get("/articles/:id/revisions/:rev", route({ params: revParams }, async ({ params }, req, res) => {
    await getArticleFor(ctx.prisma, req.editor!, params.id);
    res.json(await getRevision(ctx.prisma, params.id, params.rev));
  }));
  r.post("/articles/:id/revisions/:rev/restore", route({ params: revParams, body: z.strictObject({}) }, async ({ params }, req, res) => {
    sendArticle(res, await restoreRevision(ctx.prisma, ctx.sanitizer, req.editor!, params.id, params.rev, parseIfMatch(req)));
  }));
  return r;
}
