-- Agency copy in IPTC ninjs (issue 12 §7, src/wire): the item an article was
-- made from, by its uri, with the last version as received.
CREATE TABLE "WireItem" (
    "id" SERIAL NOT NULL,
    "uri" TEXT NOT NULL,
    "articleId" INTEGER NOT NULL,
    "version" TEXT,
    "firstCreated" TIMESTAMPTZ(3),
    "versionCreated" TIMESTAMPTZ(3),
    "pubStatus" TEXT NOT NULL DEFAULT 'usable',
    "embargoedUntil" TIMESTAMPTZ(3),
    "ingestCount" INTEGER NOT NULL DEFAULT 1,
    "raw" JSONB NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WireItem_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "WireItem_uri_key" ON "WireItem"("uri");
CREATE UNIQUE INDEX "WireItem_articleId_key" ON "WireItem"("articleId");

ALTER TABLE "WireItem" ADD CONSTRAINT "WireItem_articleId_fkey" FOREIGN KEY ("articleId") REFERENCES "Article"("id") ON DELETE CASCADE ON UPDATE CASCADE;
