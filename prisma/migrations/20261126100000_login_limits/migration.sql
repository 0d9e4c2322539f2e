-- Login limits move out of the audit log into their own table, written
-- before the password check (see src/auth/login-limits.ts).
CREATE TABLE "LoginAttempt" (
    "id" SERIAL NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "accountKey" TEXT NOT NULL,
    "addressKey" TEXT NOT NULL,

    CONSTRAINT "LoginAttempt_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "LoginAttempt_accountKey_createdAt_idx" ON "LoginAttempt"("accountKey", "createdAt");

CREATE INDEX "LoginAttempt_addressKey_createdAt_idx" ON "LoginAttempt"("addressKey", "createdAt");

CREATE INDEX "LoginAttempt_createdAt_idx" ON "LoginAttempt"("createdAt");

-- The limiter no longer reads failed logins from the audit log.
DROP INDEX "AuditLog_email_action_createdAt_idx";

DROP INDEX "AuditLog_ip_action_createdAt_idx";

-- Refresh-token grace window: the sealed successor of a rotated token.
ALTER TABLE "RefreshToken" ADD COLUMN "successor" TEXT;

-- Failed logins stored the email field verbatim (a password typed into it
-- ended up here). Keep it only where it names an existing editor.
UPDATE "AuditLog" SET "email" = NULL
 WHERE "action" = 'auth.login-failed' AND "email" IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM "Editor" e WHERE e."email" = "AuditLog"."email");
