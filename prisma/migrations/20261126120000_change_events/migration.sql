-- Change events (a transactional outbox): every write that changes what a
-- reader can see appends rows here in its own transaction. Consumers (the
-- read model, cache invalidation; later webhooks and CDN purges) read them in
-- id order. Writers serialize on an advisory lock while appending (see
-- src/events/outbox.ts), so ids become visible in commit order and a consumer
-- that has read up to id N never finds a smaller id later.
CREATE TABLE "ChangeEvent" (
    "id" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "entityId" INTEGER,
    "keys" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "data" JSONB,
    "actorId" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChangeEvent_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "ChangeEvent_entityType_entityId_id_idx" ON "ChangeEvent"("entityType", "entityId", "id");
CREATE INDEX "ChangeEvent_createdAt_idx" ON "ChangeEvent"("createdAt");

-- Where each durable consumer has got to: exactly once per consumer, however
-- many instances run it (the row is locked while a batch is processed).
CREATE TABLE "EventConsumer" (
    "name" TEXT NOT NULL,
    "position" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EventConsumer_pkey" PRIMARY KEY ("name")
);

-- Wakes every instance's listener when an event commits (NOTIFY is delivered
-- at commit, and not at all on rollback). The payload is only the id: the
-- listener reads what it has not seen from the table, so a missed
-- notification costs latency (the polling fallback), never an event.
CREATE FUNCTION "dateline_change_notify"() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('dateline_changes', NEW."id"::text);
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "ChangeEvent_notify" AFTER INSERT ON "ChangeEvent"
  FOR EACH ROW EXECUTE FUNCTION "dateline_change_notify"();
