-- GET /api/v1/admin/purges lists a consumer's newest purge requests, optionally
-- of one status: both read this index backwards and stop after `limit` rows.
CREATE INDEX "PurgeRequest_consumer_status_id_idx" ON "PurgeRequest"("consumer", "status", "id");
CREATE INDEX "PurgeRequest_consumer_id_idx" ON "PurgeRequest"("consumer", "id");
