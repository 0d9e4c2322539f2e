// Webhook endpoints (ADMIN-managed) and the "webhooks" change-event consumer
// that turns events into one persisted delivery per interested endpoint.
// Sending is delivery.ts; the address guard is ssrf.ts.
import crypto from "node:crypto";
import type { Logger } from "pino";
import type { Actor } from "../../auth/middleware.ts";
import type { Config } from "../../config.ts";
import { audit } from "../../audit/service.ts";
import { publicView } from "../../articles/presentation.ts";
import { renderArticle } from "../../delivery/render.ts";
import type { ArticleDoc } from "../../delivery/read-model.ts";
import type { CommittedEvent, EventBus } from "../../events/bus.ts";
import { createConsumer, type Consumer } from "../../events/consumers.ts";
import { Prisma, type PrismaClient, type WebhookDelivery, type WebhookEndpoint } from "../../generated/prisma/client.ts";
import { badRequest, notFound } from "../../http/errors.ts";
import { decodeCursor, paginate } from "../../http/pagination.ts";
import { loadTree, type SectionTree } from "../../sections/service.ts";
import { createDispatcher, httpSender, type Clock, type Dispatcher, type Sender } from "./delivery.ts";
import { urlProblem } from "./ssrf.ts";

type Tx = Prisma.TransactionClient;

/** The event types an endpoint can subscribe to (also as "article.*", "section.*"… or "*"). */
export const WEBHOOK_EVENTS = [
  "article.published", "article.updated", "article.unpublished", "article.deleted", "article.withdrawn",
  "section.created", "section.updated", "section.renamed", "section.moved", "section.deleted",
  "comment.created", "comment.approved",
  "media.created", "media.updated", "media.deleted",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number] | "ping";

const FAMILIES = new Set(WEBHOOK_EVENTS.map((t) => t.split(".")[0]));

export function isEventPattern(p: string): boolean {
  if (p === "*") return true;
  if (p.endsWith(".*")) return FAMILIES.has(p.slice(0, -2));
  return (WEBHOOK_EVENTS as readonly string[]).includes(p);
}

export function wants(patterns: string[], type: string): boolean {
  return patterns.some((p) => p === "*" || p === type || (p.endsWith(".*") && type.startsWith(p.slice(0, -1))));
}

// ---- secrets ----

export const newSecret = () => `whsec_${crypto.randomBytes(32).toString("base64url")}`;

/** Longest overlap a rotation may ask for, and the default. */
export const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;
export const DEFAULT_OVERLAP_SECONDS = 24 * 3600;

// ---- endpoints ----

export interface EndpointInput {
  url: string;
  events: string[];
  sectionId?: number | null;
  active?: boolean;
  description?: string;
}

export function endpointView(e: WebhookEndpoint, now = new Date()) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    events: e.events,
    sectionId: e.sectionId,
    active: e.active,
    disabledReason: e.disabledReason,
    disabledAt: e.disabledAt?.toISOString() ?? null,
    consecutiveFailures: e.consecutiveFailures,
    // Whether a previous secret still signs too (a rotation's overlap), and until when.
    previousSecretExpiresAt: e.previousSecret && e.previousSecretExpiresAt && e.previousSecretExpiresAt > now
      ? e.previousSecretExpiresAt.toISOString() : null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
  };
}

function checkInput(config: Config, input: Partial<EndpointInput>) {
  if (input.url !== undefined) {
    const problem = urlProblem(input.url, config.WEBHOOK_ALLOWED_HOSTS);
    if (problem) throw badRequest("The request is invalid.", [{ path: "body.url", message: problem }]);
  }
}

async function checkSection(tx: Tx, sectionId: number | null | undefined) {
  if (sectionId == null) return;
  const s = await tx.section.findUnique({ where: { id: sectionId }, select: { id: true } });
  if (!s) throw badRequest("The request is invalid.", [{ path: "body.sectionId", message: "No such section." }]);
}

const redacted = (url: string) => {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
};

export async function createEndpoint(prisma: PrismaClient, config: Config, actor: Actor, input: EndpointInput) {
  checkInput(config, input);
  return prisma.$transaction(async (tx) => {
    await checkSection(tx, input.sectionId);
    const row = await tx.webhookEndpoint.create({
      data: {
        url: input.url, events: [...new Set(input.events)], sectionId: input.sectionId ?? null,
        active: input.active ?? true, description: input.description ?? "", secret: newSecret(),
      },
    });
    await audit(tx, {
      actorId: actor.id, action: "webhook.create", targetType: "webhook", targetId: row.id, ip: actor.ip,
      details: { url: redacted(row.url), events: row.events },
    });
    return row;
  });
}

export async function listEndpoints(prisma: PrismaClient) {
  return prisma.webhookEndpoint.findMany({ orderBy: { id: "asc" }, take: 500 });
}

export async function getEndpoint(prisma: PrismaClient | Tx, id: number) {
  const row = await prisma.webhookEndpoint.findUnique({ where: { id } });
  if (!row) throw notFound("Webhook");
  return row;
}

export async function updateEndpoint(prisma: PrismaClient, config: Config, actor: Actor, id: number, input: Partial<EndpointInput>) {
  checkInput(config, input);
  return prisma.$transaction(async (tx) => {
    const existing = await getEndpoint(tx, id);
    await checkSection(tx, input.sectionId);
    const reenable = input.active === true && !existing.active;
    const row = await tx.webhookEndpoint.update({
      where: { id },
      data: {
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
        ...(input.sectionId !== undefined ? { sectionId: input.sectionId } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
        // Turning an endpoint back on clears why it was turned off and starts counting failures afresh.
        ...(reenable ? { disabledReason: null, disabledAt: null, consecutiveFailures: 0 } : {}),
        updatedAt: new Date(),
      },
    });
    await audit(tx, {
      actorId: actor.id, action: "webhook.update", targetType: "webhook", targetId: id, ip: actor.ip,
      details: { changed: Object.keys(input) },
    });
    return row;
  });
}

export async function deleteEndpoint(prisma: PrismaClient, actor: Actor, id: number) {
  await prisma.$transaction(async (tx) => {
    const existing = await getEndpoint(tx, id);
    await tx.webhookEndpoint.delete({ where: { id } });
    await audit(tx, {
      actorId: actor.id, action: "webhook.delete", targetType: "webhook", targetId: id, ip: actor.ip,
      details: { url: redacted(existing.url) },
    });
  });
}

/** A new secret; the old one keeps signing (a second v1= value) for overlapSeconds. */
export async function rotateSecret(prisma: PrismaClient, actor: Actor, id: number, overlapSeconds: number, now = new Date()) {
  return prisma.$transaction(async (tx) => {
    const existing = await getEndpoint(tx, id);
    const row = await tx.webhookEndpoint.update({
      where: { id },
      data: {
        secret: newSecret(),
        previousSecret: overlapSeconds > 0 ? existing.secret : null,
        previousSecretExpiresAt: overlapSeconds > 0 ? new Date(now.getTime() + overlapSeconds * 1000) : null,
        updatedAt: now,
      },
    });
    await audit(tx, {
      actorId: actor.id, action: "webhook.rotate-secret", targetType: "webhook", targetId: id, ip: actor.ip,
      details: { overlapSeconds },
    });
    return row;
  });
}

// ---- deliveries ----

export function deliveryView(d: WebhookDelivery) {
  return {
    id: d.id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "pending" ? d.nextAttemptAt?.toISOString() ?? null : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    durationMs: d.durationMs,
    occurredAt: d.occurredAt.toISOString(),
    createdAt: d.createdAt.toISOString(),
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    payload: d.payload,
  };
}

export async function listDeliveries(
  prisma: PrismaClient, endpointId: number, q: { limit: number; cursor?: string; status?: string },
) {
  await getEndpoint(prisma, endpointId);
  const cursor = decodeCursor(q.cursor);
  const rows = await prisma.webhookDelivery.findMany({
    where: { endpointId, ...(q.status ? { status: q.status } : {}), ...(cursor ? { id: { lt: cursor.id } } : {}) },
    orderBy: { id: "desc" },
    take: q.limit + 1,
  });
  return paginate(rows, q.limit, (d) => ({ id: d.id }));
}

/** Queues a delivery again now, with a fresh attempt budget; the event id stays the same. */
export async function redeliver(prisma: PrismaClient, actor: Actor, endpointId: number, deliveryId: number, now = new Date()) {
  return prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ id: number }[]>`
      SELECT id FROM "WebhookDelivery" WHERE id = ${deliveryId} AND "endpointId" = ${endpointId} FOR UPDATE`;
    if (!row) throw notFound("Delivery");
    // The attempt limit counts from here; Dateline-Delivery-Attempt keeps counting.
    await tx.$executeRaw`
      UPDATE "WebhookDelivery" SET status = 'pending', "nextAttemptAt" = ${now}, "attemptsBase" = attempts
       WHERE id = ${deliveryId}`;
    const d = await tx.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId } });
    await audit(tx, {
      actorId: actor.id, action: "webhook.redeliver", targetType: "webhook", targetId: endpointId, ip: actor.ip,
      details: { deliveryId, eventId: d.eventId },
    });
    return d;
  });
}

/** Queues a "ping" delivery to the endpoint (whatever events it subscribes to). */
export async function ping(prisma: PrismaClient, actor: Actor, endpointId: number, now = new Date()) {
  return prisma.$transaction(async (tx) => {
    await getEndpoint(tx, endpointId);
    const eventId = `ping_${crypto.randomBytes(12).toString("hex")}`;
    const d = await tx.webhookDelivery.create({
      data: {
        endpointId, eventId, type: "ping", occurredAt: now, nextAttemptAt: now,
        payload: { id: eventId, type: "ping", occurredAt: now.toISOString(), data: { endpointId } },
      },
    });
    await audit(tx, {
      actorId: actor.id, action: "webhook.ping", targetType: "webhook", targetId: endpointId, ip: actor.ip,
      details: { deliveryId: d.id },
    });
    return d;
  });
}

// ---- the consumer: change events → deliveries ----

/** What a change event means to webhook receivers, or null when nothing they subscribe to. */
export function webhookType(e: Pick<CommittedEvent, "type" | "keys">, archivedPublic: boolean): WebhookEventType | null {
  // Article events without keys changed nothing public (drafts, trashed drafts…).
  const visible = e.keys.length > 0;
  switch (e.type) {
    case "article.published":
      // No keys: published under a pending embargo (src/articles/embargo.ts), which nobody may hear of yet.
      return visible ? "article.published" : null;
    case "article.embargo-lifted":
    case "article.reinstated":
      return visible ? "article.published" : null;
    case "article.embargoed":
      return visible ? "article.unpublished" : null;
    case "article.withdrawn":
      return visible ? "article.withdrawn" : null;
    case "article.updated":
    case "article.revision-restored":
      return visible ? "article.updated" : null;
    case "article.unpublished":
      return visible ? "article.unpublished" : null;
    case "article.archived":
      return visible ? (archivedPublic ? "article.updated" : "article.unpublished") : null;
    case "article.restored":
      return visible ? "article.published" : null;
    case "article.trashed":
      return visible ? "article.deleted" : null;
    case "section.created":
    case "section.updated":
    case "section.renamed":
    case "section.moved":
    case "section.deleted":
    case "comment.created":
    case "comment.approved":
    case "media.created":
    case "media.updated":
    case "media.deleted":
      return e.type;
    default:
      return null;
  }
}

interface Subject {
  sectionId: number | null;
  data: Prisma.InputJsonValue;
}

async function subjectOf(tx: Tx, e: CommittedEvent, type: WebhookEventType, tree: SectionTree, config: Config): Promise<Subject | null> {
  const id = e.entityId;
  if (id == null) return null;
  if (type.startsWith("article.")) {
    const article = await tx.article.findUnique({ where: { id }, select: { id: true, slug: true, sectionId: true } });
    if (type === "article.published" || type === "article.updated") {
      const [row] = await tx.$queryRaw<{ doc: ArticleDoc; status: string; commentCount: number; sectionId: number }[]>`
        SELECT doc, status::text AS status, "commentCount", "sectionId" FROM "PublishedArticle" WHERE "articleId" = ${id}`;
      if (row) {
        const data = renderArticle(row.doc, row, tree, publicView(config));
        return { sectionId: row.sectionId, data: JSON.parse(JSON.stringify(data)) };
      }
    }
    // Unpublished, deleted, or no longer readable by the time the event is handled.
    if (!article) return { sectionId: null, data: { id, slug: null } };
    return { sectionId: article.sectionId, data: { id, slug: article.slug } };
  }
  if (type.startsWith("section.")) {
    const s = tree.byId.get(id);
    if (!s || type === "section.deleted") return { sectionId: id, data: { id } };
    return { sectionId: id, data: { id, slug: s.slug, name: s.name, parentId: s.parentId ?? null } };
  }
  if (type.startsWith("comment.")) {
    const c = await tx.comment.findUnique({
      where: { id },
      select: { id: true, articleId: true, parentId: true, status: true, authorName: true, body: true, createdAt: true, article: { select: { sectionId: true } } },
    });
    if (!c) return null;
    const { article, ...rest } = c;
    return { sectionId: article.sectionId, data: { ...rest, createdAt: c.createdAt.toISOString() } };
  }
  if (type.startsWith("media.")) return { sectionId: null, data: { id } };
  return null;
}

function inSection(tree: SectionTree, filter: number | null, sectionId: number | null): boolean {
  if (filter == null) return true;
  if (sectionId == null) return false;
  return filter === sectionId || tree.breadcrumb(sectionId).some((s) => s.id === filter);
}

export const CONSUMER_NAME = "webhooks";

export function createWebhookConsumer(prisma: PrismaClient, logger: Logger, config: Config): Consumer {
  return createConsumer(prisma, logger, {
    name: CONSUMER_NAME,
    handle: async (tx, events) => {
      const endpoints = await tx.webhookEndpoint.findMany({ where: { active: true }, select: { id: true, events: true, sectionId: true } });
      if (!endpoints.length) return;
      let tree: SectionTree | undefined;
      const rows: Prisma.WebhookDeliveryCreateManyInput[] = [];
      for (const e of events) {
        const type = webhookType(e, config.ARCHIVED_PUBLIC);
        if (!type) continue;
        const targets = endpoints.filter((ep) => wants(ep.events, type));
        if (!targets.length) continue;
        tree ??= await loadTree(tx);
        const subject = await subjectOf(tx, e, type, tree, config);
        if (!subject) continue;
        const eventId = `evt_${e.id}`;
        const occurredAt = new Date(e.createdAt);
        const payload = { id: eventId, type, occurredAt: occurredAt.toISOString(), data: subject.data };
        for (const ep of targets) {
          if (!inSection(tree, ep.sectionId, subject.sectionId)) continue;
          rows.push({ endpointId: ep.id, eventId, type, payload, occurredAt, nextAttemptAt: occurredAt });
        }
      }
      // The unique (endpointId, eventId) makes a handled-again batch add nothing.
      if (rows.length) await tx.webhookDelivery.createMany({ data: rows, skipDuplicates: true });
    },
  });
}

// ---- wiring ----

/**
 * WEBHOOKS_ENABLED=false: forget the consumer's position, so it does not hold
 * back the pruning of change events (EVENTS_RETENTION_DAYS). Turning webhooks
 * on again starts at the newest event.
 */
export async function dropWebhookPosition(prisma: PrismaClient): Promise<void> {
  await prisma.$executeRaw`DELETE FROM "EventConsumer" WHERE name = ${CONSUMER_NAME}`;
}

export interface WebhookRuntime {
  consumer: Consumer;
  dispatcher: Dispatcher;
  start(bus: EventBus): Promise<void>;
  stop(): Promise<void>;
}

export interface WebhookRuntimeOptions {
  clock?: Clock;
  sender?: Sender;
  random?: () => number;
}

/** The consumer and the dispatcher, started together: new deliveries wake the dispatcher. */
export function createWebhookRuntime(prisma: PrismaClient, logger: Logger, config: Config, o: WebhookRuntimeOptions = {}): WebhookRuntime {
  const consumer = createWebhookConsumer(prisma, logger, config);
  const dispatcher = createDispatcher(prisma, logger, {
    sender: o.sender ?? httpSender({ allowedHosts: config.WEBHOOK_ALLOWED_HOSTS }),
    clock: o.clock,
    random: o.random,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
    pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
  });
  let unsubscribe: (() => void) | undefined;
  return {
    consumer,
    dispatcher,
    async start(bus) {
      // First start (or again after WEBHOOKS_ENABLED was off): begin at the newest event, so
      // endpoints do not receive the whole retained history.
      await prisma.$executeRaw`
        INSERT INTO "EventConsumer" (name, position)
        SELECT ${CONSUMER_NAME}, COALESCE(max(id), 0) FROM "ChangeEvent"
        ON CONFLICT (name) DO NOTHING`;
      await consumer.start(bus);
      unsubscribe = bus.subscribe(() => consumer.run().catch(() => 0).then(() => dispatcher.wake()));
      dispatcher.start();
    },
    async stop() {
      unsubscribe?.();
      await consumer.stop();
      await dispatcher.stop();
    },
  };
}
