-- Finished webhook deliveries are pruned after a retention period
-- (src/distribution/webhooks/delivery.ts, DELIVERY_RETENTION_DAYS): the
-- dispatcher deletes the oldest in bounded batches through this index.
CREATE INDEX "WebhookDelivery_finished_createdAt_idx" ON "WebhookDelivery" ("createdAt", "id") WHERE "status" <> 'pending';
