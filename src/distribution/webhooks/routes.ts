// ADMIN-only management of webhook endpoints and their deliveries (README "Webhooks").
import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../../context.ts";
import { requireRole } from "../../auth/middleware.ts";
import { bodyIdSchema, idSchema, route } from "../../http/validate.ts";
import { pageQuery } from "../../http/pagination.ts";
import {
  DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, createEndpoint, deleteEndpoint, deliveryView, endpointView, getEndpoint,
  isEventPattern, listDeliveries, listEndpoints, ping, redeliver, rotateSecret, updateEndpoint,
} from "./service.ts";

const events = z
  .array(z.string().refine(isEventPattern, "Unknown event type; see the list in the API reference (a family such as section.* or * also works)."))
  .min(1)
  .max(20);

const fields = {
  url: z.string().max(2000),
  events,
  sectionId: bodyIdSchema.nullable(),
  active: z.boolean(),
  description: z.string().max(500),
};

const createBody = z.strictObject({
  url: fields.url,
  events: fields.events,
  sectionId: fields.sectionId.optional(),
  active: fields.active.optional(),
  description: fields.description.optional(),
});
const updateBody = createBody.partial().refine((b) => Object.keys(b).length > 0, "Send at least one field to change.");
const rotateBody = z.strictObject({
  overlapSeconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(DEFAULT_OVERLAP_SECONDS),
});
const idParams = z.object({ id: idSchema });
const deliveryParams = z.object({ id: idSchema, deliveryId: idSchema });
const deliveriesQuery = z.object({ ...pageQuery, status: z.enum(["pending", "succeeded", "failed", "dead"]).optional() });

export function adminWebhookRoutes(ctx: AppContext): Router {
  const r = Router();
  const admin = requireRole("ADMIN");

  r.post("/webhooks", admin, route({ body: createBody }, async ({ body }, req, res) => {
    const e = await createEndpoint(ctx.prisma, ctx.config, req.editor!, body);
    // The only time the secret is shown (and after a rotation).
    res.status(201).location(`/api/v1/admin/webhooks/${e.id}`).json({ ...endpointView(e), secret: e.secret });
  }));

  r.get("/webhooks", admin, route({}, async (_input, _req, res) => {
    const rows = await listEndpoints(ctx.prisma);
    res.json({ data: rows.map((e) => endpointView(e)) });
  }));

  r.get("/webhooks/:id", admin, route({ params: idParams }, async ({ params }, _req, res) => {
    res.json(endpointView(await getEndpoint(ctx.prisma, params.id)));
  }));

  r.patch("/webhooks/:id", admin, route({ params: idParams, body: updateBody }, async ({ params, body }, req, res) => {
    res.json(endpointView(await updateEndpoint(ctx.prisma, ctx.config, req.editor!, params.id, body)));
  }));

  r.delete("/webhooks/:id", admin, route({ params: idParams }, async ({ params }, req, res) => {
    await deleteEndpoint(ctx.prisma, req.editor!, params.id);
    res.status(204).end();
  }));

  r.post("/webhooks/:id/rotate-secret", admin, route({ params: idParams, body: rotateBody }, async ({ params, body }, req, res) => {
    const e = await rotateSecret(ctx.prisma, req.editor!, params.id, body.overlapSeconds);
    res.json({ ...endpointView(e), secret: e.secret });
  }));

  r.get("/webhooks/:id/deliveries", admin, route({ params: idParams, query: deliveriesQuery }, async ({ params, query }, _req, res) => {
    const { page, nextCursor } = await listDeliveries(ctx.prisma, params.id, query);
    res.json({ data: page.map(deliveryView), meta: { nextCursor } });
  }));

  r.post("/webhooks/:id/deliveries/:deliveryId/redeliver", admin, route({ params: deliveryParams }, async ({ params }, req, res) => {
    const d = await redeliver(ctx.prisma, req.editor!, params.id, params.deliveryId);
    res.status(202).json(deliveryView(d));
  }));

  r.post("/webhooks/:id/ping", admin, route({ params: idParams }, async ({ params }, req, res) => {
    const d = await ping(ctx.prisma, req.editor!, params.id);
    res.status(202).json(deliveryView(d));
  }));

  return r;
}
