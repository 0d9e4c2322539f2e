-- Webhooks (issue 10 §1): endpoints an ADMIN registers, and one delivery row
-- per (endpoint, event) made by the "webhooks" change-event consumer and sent
-- by the dispatcher (src/distribution/webhooks).
CREATE TABLE "WebhookEndpoint" (
  "id" SERIAL PRIMARY KEY,
  "url" TEXT NOT NULL,
  "description" TEXT NOT NULL DEFAULT '',
  "events" TEXT[] NOT NULL,
  -- Optional filter: only events about this section or its descendants (no FK:
  -- a deleted section leaves a filter that matches nothing rather than everything).
  "sectionId" INTEGER,
  "active" BOOLEAN NOT NULL DEFAULT true,
  -- Needed to sign, so stored as given; never returned except once on create/rotate.
  "secret" TEXT NOT NULL,
  "previousSecret" TEXT,
  "previousSecretExpiresAt" TIMESTAMPTZ(3),
  "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
  "disabledReason" TEXT,
  "disabledAt" TIMESTAMPTZ(3),
  "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

CREATE TABLE "WebhookDelivery" (
  "id" SERIAL PRIMARY KEY,
  "endpointId" INTEGER NOT NULL REFERENCES "WebhookEndpoint"("id") ON DELETE CASCADE,
  -- Dateline-Event-Id: "evt_<change event id>" or "ping_<random>"; the same on every attempt and redelivery.
  "eventId" TEXT NOT NULL,
  "type" TEXT NOT NULL,
  "payload" JSONB NOT NULL,
  "occurredAt" TIMESTAMPTZ(3) NOT NULL,
  "status" TEXT NOT NULL DEFAULT 'pending' CHECK ("status" IN ('pending', 'succeeded', 'failed', 'dead')),
  "attempts" INTEGER NOT NULL DEFAULT 0,
  -- "attempts" when an ADMIN last asked for a redelivery: the attempt limit counts from here, while
  -- Dateline-Delivery-Attempt keeps counting (a receiver always learns it is seeing a repeat).
  "attemptsBase" INTEGER NOT NULL DEFAULT 0,
  "nextAttemptAt" TIMESTAMPTZ(3),
  "lastStatusCode" INTEGER,
  "lastError" TEXT,
  "durationMs" INTEGER,
  "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
  "deliveredAt" TIMESTAMPTZ(3),
  CONSTRAINT "WebhookDelivery_endpointId_eventId_key" UNIQUE ("endpointId", "eventId")
);

-- The dispatcher's claim: due pending deliveries in order.
CREATE INDEX "WebhookDelivery_due_idx" ON "WebhookDelivery" ("nextAttemptAt", "id") WHERE "status" = 'pending';
-- An endpoint's delivery log, newest first (cursor paging by id).
CREATE INDEX "WebhookDelivery_endpointId_id_idx" ON "WebhookDelivery" ("endpointId", "id");
