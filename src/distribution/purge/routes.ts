// ADMIN endpoints of the CDN purge: see the queued requests and their outcome,
// and queue a manual purge (sent by the running instances' senders, within
// about a second). README "Purging".
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { requireRole } from "../../auth/middleware.ts";
import { route } from "../../http/validate.ts";
import { conflict } from "../../http/errors.ts";
import { audit } from "../../audit/service.ts";
import { createPurgeService, type PurgeRow } from "./service.ts";

// What a surrogate key looks like (README "Caching and CDN"): no spaces or commas, which separate keys in headers.
const KEY = /^[A-Za-z0-9][A-Za-z0-9:._\/-]{0,199}$/;

export function adminPurgeRoutes(ctx: AppContext): Router {
  const r = Router();
  // Enqueue and list only: the sender runs in the server (src/server.ts), not per request.
  const purge = createPurgeService(ctx.prisma, ctx.logger, ctx.config);

  const query = z.object({
    status: z.enum(["pending", "done", "failed"]).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  });
  r.get("/purges", requireRole("ADMIN"), route({ query }, async ({ query }, _req, res) => {
    const rows = await purge.list(query);
    res.json({ data: rows.map(view), meta: { provider: ctx.config.PURGE_PROVIDER } });
  }));

  const body = z.strictObject({
    keys: z.array(z.string().regex(KEY, "A surrogate key such as article:42, front:world or latest.")).min(1).max(1000),
    soft: z.boolean().optional(),
  });
  r.post("/purges", requireRole("ADMIN"), route({ body }, async ({ body }, req, res) => {
    if (ctx.config.PURGE_PROVIDER === "none") {
      throw conflict("CDN purge is off (PURGE_PROVIDER=none).", "purge-disabled");
    }
    const keys = [...new Set(body.keys)];
    const soft = body.soft ?? ctx.config.PURGE_SOFT;
    const requests = await purge.enqueue(keys, soft, (tx) =>
      audit(tx, { actorId: req.editor!.id, action: "cdn.purge", ip: req.editor!.ip, details: { keys, soft } }));
    res.status(202).json({ provider: ctx.config.PURGE_PROVIDER, dryRun: ctx.config.PURGE_PROVIDER === "log", keys, soft, requests });
  }));
  return r;
}

function view(p: PurgeRow) {
  return {
    id: p.id,
    provider: p.provider,
    keys: p.keys,
    soft: p.soft,
    status: p.status,
    attempts: p.attempts,
    nextAttemptAt: p.status === "pending" ? p.nextAttemptAt.toISOString() : null,
    lastStatus: p.lastStatus,
    lastError: p.lastError,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
