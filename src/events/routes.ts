import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.ts";
import { requireRole } from "../auth/middleware.ts";
import { idSchema, route } from "../http/validate.ts";
import { listEvents, type ListedEvent } from "./service.ts";

export function adminEventRoutes(ctx: AppContext): Router {
  const r = Router();
  const query = z.object({
    // Event ids are bigint in the table; 15 digits stay exact in a JavaScript number.
    after: z.string().regex(/^(0|[1-9][0-9]{0,14})$/, "Must be a non-negative integer (an event id).").transform(Number).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    type: z.string().regex(/^[a-z.-]{1,60}$/, "A type such as article.published, or a prefix such as article.").optional(),
    entityType: z.enum(["article", "section", "comment", "editor", "media", "collection", "author", "live-entry"]).optional(),
    entityId: idSchema.optional(),
  });
  r.get("/events", requireRole("ADMIN"), route({ query }, async ({ query }, _req, res) => {
    const events = await listEvents(ctx.prisma, query);
    res.json({ data: events.map(eventView), meta: { nextAfter: nextAfter(events, query.after) } });
  }));
  return r;
}

/** Where to continue tailing: the highest id returned, else where the caller already was. */
function nextAfter(events: ListedEvent[], after: number | undefined): number | null {
  if (!events.length) return after ?? null;
  return Math.max(...events.map((e) => e.id));
}

function eventView(e: ListedEvent) {
  return {
    id: e.id,
    type: e.type,
    entityType: e.entityType,
    entityId: e.entityId,
    keys: e.keys,
    data: e.data ?? null,
    actorId: e.actorId,
    createdAt: e.createdAt.toISOString(),
  };
}
