-- CDN purges waiting to be sent, being retried, or done (src/distribution/purge).
-- The purge consumer turns each batch of change events into rows here in the
-- same transaction that advances its position, so a key is queued exactly
-- once however many instances run; senders claim due rows with FOR UPDATE
-- SKIP LOCKED and record the outcome. A CDN that is down therefore delays
-- purges (retried with backoff) without blocking the consumer or losing keys.
CREATE TABLE "PurgeRequest" (
    "id" BIGSERIAL NOT NULL,
    -- The consumer that queued it (one per configured purger; "cdn-purge").
    "consumer" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "keys" TEXT[] NOT NULL,
    "soft" BOOLEAN NOT NULL DEFAULT false,
    -- pending (to send at nextAttemptAt), done, failed (gave up or refused).
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastStatus" INTEGER,
    "lastError" TEXT,
    -- The change events whose keys it carries.
    "firstEventId" BIGINT NOT NULL,
    "lastEventId" BIGINT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PurgeRequest_pkey" PRIMARY KEY ("id")
);

-- What a sender looks for: due pending rows of its consumer, oldest first.
CREATE INDEX "PurgeRequest_due_idx" ON "PurgeRequest"("consumer", "nextAttemptAt", "id") WHERE "status" = 'pending';
-- Pruning finished rows, and listing the newest.
CREATE INDEX "PurgeRequest_updatedAt_idx" ON "PurgeRequest"("updatedAt");
