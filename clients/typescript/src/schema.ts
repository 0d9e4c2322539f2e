// Generated from openapi.yaml by `npm run generate -w @dateline/client` (openapi-typescript). Do not edit.

export interface paths {
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Entry point with links to the docs and the API
         * @description Links to Swagger UI (`/docs`), this document (`/openapi.yaml`) and the API root (`/api/v1`). No authentication; does not touch the database.
         */
        get: operations["getApiIndex"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness probe
         * @description Answers as long as the process serves HTTP. Does not touch the database. `Cache-Control: no-store`.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Readiness probe
         * @description Ready when the database is reachable and every migration in the repository has been applied.
         *     `Cache-Control: no-store`.
         */
        get: operations["getReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics of this instance (protected; off by default)
         * @description This instance's metrics in the Prometheus text exposition format
         *     (`Content-Type: text/plain; version=0.0.4; charset=utf-8`): request counts and latency by route
         *     template and status, the in-process response cache, change-event consumer lag, database pool and
         *     statement durations, the view-count buffer and flushes, the scheduler (including missed scheduled
         *     publishes), dependency health and Node process metrics. Each instance reports its own; the README
         *     ("Metrics") lists every metric. `Cache-Control: no-store`.
         *
         *     **Never public.** Served here only when `METRICS_TOKEN` is set and `METRICS_PORT` is not: the request
         *     must carry `Authorization: Bearer <METRICS_TOKEN>` (`401` otherwise). With `METRICS_PORT` set it is
         *     served on that port only (with the token too, when one is set) and this port answers `404`; with
         *     neither variable set it is not served at all (`404`).
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.yaml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This API description as YAML
         * @description The repository's `openapi.yaml`, byte for byte, as `application/yaml`. Any origin (CORS); no authentication.
         */
        get: operations["getOpenApiYaml"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * This API description as JSON
         * @description The same document as `/openapi.yaml`, parsed and served as JSON (what Swagger UI at `/docs` reads). Any origin (CORS); no authentication.
         */
        get: operations["getOpenApiJson"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign in and open a session
         * @description Exchanges an editor's email (case-insensitive) and password for a short-lived bearer access token
         *     and a refresh token (see `POST /api/v1/auth/refresh`). Unknown emails, wrong passwords and
         *     deactivated accounts all get the same `401`.
         *
         *     **Login limits.** Failed attempts (unknown emails included) are counted over a sliding window
         *     (`LOGIN_WINDOW_SECONDS`, default 900) in three ways; when one of them is reached, the attempt is
         *     not checked and the answer is a `429` with `Retry-After` (seconds until the oldest counted failure
         *     leaves the window), even with the right password:
         *
         *     | counted | limit (default) |
         *     |---|---|
         *     | per account from one client address | `LOGIN_MAX_FAILURES_PER_ACCOUNT` (5) |
         *     | per client address, over all accounts | `LOGIN_MAX_FAILURES_PER_IP` (20) |
         *     | per account, over all addresses | `LOGIN_MAX_FAILURES_PER_ACCOUNT_GLOBAL` (100) |
         *
         *     The per-account ceiling over all addresses does not apply to a *known client*: an address the
         *     account signed in from within `REFRESH_TTL_SECONDS`. So failures from other addresses never lock
         *     the owner out of their usual address. The client address is the one Express derives under
         *     `TRUST_PROXY`; IPv6 addresses count by their /64 prefix. Attempts are counted before the password
         *     is checked, so parallel requests cannot exceed a limit; a successful sign-in clears the failures
         *     of that account from that address. A wrong `currentPassword` in `POST /api/v1/admin/me/password`
         *     counts as a failed login too.
         *
         *     **Trying it out.** The example signs in as Liu Fang, an EDITOR of the demo newsroom:
         *     `liufang@dateline.local` with the password `dateline-demo-desk`, which every demo desk editor
         *     gets when the demo is seeded in development (a plain `npm start` on an empty database; in
         *     production a seeded demo's editors get random passwords). An EDITOR may create, publish and
         *     read back, so the operations below work in order with their examples. The first ADMIN
         *     (`admin@dateline.local`) has a random password, printed once and saved in
         *     `data/initial-admin-password`: to sign in as the ADMIN, put that in the example first (a wrong
         *     password counts towards the limits above). Then press **Authorize** and paste the `accessToken`.
         */
        post: operations["login"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Exchange a refresh token for a new token pair
         * @description Answers a new access token and a new refresh token for the same session. Refresh tokens are
         *     single-use: the one sent is used up (rotation). An unknown, expired or used-up refresh token, or
         *     one of a revoked session or deactivated editor, is a `401`; a used-up one also revokes its whole
         *     session (its tokens were copied), so every other token of that session stops working.
         *
         *     One exception, for two tabs that refresh at once: a token presented again within
         *     `REFRESH_REUSE_GRACE_SECONDS` (default 10) of its rotation, while the refresh token it was rotated
         *     into is still unused, answers `200` with that same refresh token (and a fresh access token).
         */
        post: operations["refreshTokens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign out (revoke the session of a refresh token)
         * @description Revokes the session the refresh token belongs to: its refresh tokens and the access tokens minted
         *     for it stop working at once. Unknown tokens and already revoked sessions are ignored (still `204`).
         */
        post: operations["logout"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The signed-in editor
         * @description Any role.
         */
        get: operations["getCurrentEditor"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/me/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change the signed-in editor's password
         * @description Any role. A wrong `currentPassword` is a `400` (field `body.currentPassword`) and counts as a failed
         *     login of the account from the client address (see `POST /api/v1/auth/login`; beyond the limits, a
         *     `429`). Every other session of the editor is revoked; the session making the request stays signed
         *     in. If the password changed between the check and the write (another change or an ADMIN reset), the
         *     answer is a `409` (`password-changed`) and nothing is written.
         */
        post: operations["changeOwnPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/articles": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List published articles, newest first
         * @description Ordered by `publishedAt` descending (ties by id). `section` includes articles of all its
         *     descendant sections; an unknown `section` is a `404`, an unknown `tag` an empty list.
         */
        get: operations["listPublishedArticles"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Full-text search over published articles
         * @description Published articles only, matched with PostgreSQL full-text search in each article's language (its own,
         *     else its section's or the nearest ancestor section's, else `SITE_LANGUAGE`): stemming and stop words by
         *     language, `simple` (lower-casing only) for languages PostgreSQL has no dictionary for (zh, ja, ko…).
         *     The same results on PGlite and PostgreSQL.
         *
         *     **Syntax** (`websearch_to_tsquery`, never a syntax error): words are ANDed; `"quoted phrases"` match
         *     in order; `-word` excludes; `OR` between words. The last word, while being typed (letters and digits
         *     only, not in an open quote, no trailing space), also matches as a prefix: `harbour bri` finds
         *     "harbour bridge". A query of stop words only (`the`) finds nothing.
         *
         *     **Ranking** (`sort=relevance`, the default): `ts_rank_cd` with headline > summary > body >
         *     dateline/byline/tags (weights 1.0, 0.4, 0.2, 0.1), divided by 1 + log(document length). The newest
         *     200 matches are ranked (older matches of very common words are left out of relevance order; use
         *     `sort=newest` or filters to reach them). `sort=newest` orders every match by `publishedAt`.
         *
         *     **Paging**: pass `meta.nextCursor` back as `cursor` with the same parameters; a cursor of the other
         *     sort order is a `400`. `meta.total` counts matches up to 200; `totalIsEstimate` is true when there
         *     may be more.
         *
         *     Each hit carries a `snippet` of the body text around the matches (from the body's first 600
         *     characters): HTML in which only `<mark>` elements appear (the text itself is escaped), safe to insert as is.
         *
         *     Cached like the lists (surrogate keys `articles`, `sections` and each hit's `article:<id>`), at most
         *     60 s in process.
         */
        get: operations["searchArticles"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/articles/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        /**
         * Get a published article
         * @description Includes the section breadcrumb (root first, ending with the article's section), the credited
         *     desk editors in order, tags, the published "We Recommend" articles in order, and the number of
         *     approved comments. Unpublished and trashed articles are `404`; `ARCHIVED` articles too, unless the
         *     server runs with `ARCHIVED_PUBLIC=true`.
         *
         *     With `format=ninjs` the same article is an IPTC ninjs 3.1 item (`NinjsItem`, valid against the IPTC's
         *     `ninjs-schema_3.1.json`), for partners taking the copy in the industry format; it is cached like the
         *     article (its own cache entry, the article's surrogate keys).
         */
        get: operations["getPublishedArticle"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/preview/{token}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Preview token from `POST /api/v1/admin/articles/{id}/preview`. */
                token: string;
            };
            cookie?: never;
        };
        /**
         * Preview an article in any status
         * @description Shows the article the token was issued for, in whatever status it is now (a draft's `publishedAt`
         *     may be `null`), in the public representation. No authentication: whoever holds the link can read it
         *     until the token expires (`PREVIEW_TTL_SECONDS`, default one day). An invalid or expired token, or a
         *     trashed or deleted article, is a `404`. Sent with `Cache-Control: private, no-store` and
         *     `X-Robots-Tag: noindex`.
         */
        get: operations["getArticlePreview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/articles/{slug}/entries": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The slug of a `LIVE` article (the demo newsroom's live blog in the example).
                 * @example live-typhoon-makes-landfall-on-the-southern-coast
                 */
                slug: components["parameters"]["LiveArticleSlugPath"];
            };
            cookie?: never;
        };
        /**
         * Entries of a live article, newest first (cheap to poll)
         * @description The article must be a readable `LIVE` article (`404` otherwise). Without parameters: the newest
         *     entries, newest first, each flagged `pinned` and `keyEvent`; `meta.nextCursor` pages back in time
         *     (`before`). `meta.cursor` names the newest change: poll with `since=<meta.cursor>` to get only what
         *     changed after it, newest change first, deleted entries as tombstones (`deleted: true`); when more
         *     changed than `limit`, `meta.truncated` is true and the client should reload without `since`.
         *     One SQL statement; cached (`max-age=5`, `s-maxage=30`) under `entries:<articleId>` and
         *     `article:<articleId>`, purged when an entry (or the article) changes, so an unchanged poll is a
         *     `304` with `If-None-Match`, answered from memory.
         */
        get: operations["listLiveEntries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/articles/{slug}/entries/stream": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The slug of a `LIVE` article (the demo newsroom's live blog in the example).
                 * @example live-typhoon-makes-landfall-on-the-southern-coast
                 */
                slug: components["parameters"]["LiveArticleSlugPath"];
            };
            cookie?: never;
        };
        /**
         * Server-Sent Events stream of a live article's entries
         * @description A `text/event-stream` that stays open. Events: `ready` (data `{"cursor": ...}`, once connected),
         *     `entry.created`, `entry.updated` (data: the entry as in the list) and `entry.deleted` (data: a
         *     tombstone), each with the entry's change sequence number as its `id`. A client reconnecting with
         *     `Last-Event-ID` (browsers' EventSource do) or `?since=<cursor>` first receives the changes it
         *     missed (up to 100, oldest first), then `ready`; without either, the stream starts at `ready` (read
         *     the list first, then connect with `since=<meta.cursor>` to miss nothing). No event is sent twice.
         *     A comment line (`: heartbeat`) every 15 seconds
         *     keeps proxies from closing it. Driven by change events, so an entry posted on any instance reaches
         *     readers connected to any instance. Not cached (`no-store`). When the server holds too many streams
         *     it answers `503` (poll `/entries` instead).
         */
        get: operations["streamLiveEntries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/articles/{slug}/comments": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        /**
         * List approved comments of a published article, oldest first
         * @description The article must be readable by slug: `PUBLISHED`, or `ARCHIVED` when the server runs with
         *     `ARCHIVED_PUBLIC=true`; otherwise `404`.
         */
        get: operations["listArticleComments"];
        put?: never;
        /**
         * Submit a comment for moderation
         * @description The comment is stored as `PENDING` and appears in the public list only after an editor approves
         *     it (or as `APPROVED` at once when the server runs with `COMMENTS_AUTO_APPROVE=true`). Only
         *     published articles accept comments: other articles are `404`, except archived ones when the server
         *     runs with `ARCHIVED_PUBLIC=true`, which are readable but closed for comments (`403`). Articles
         *     whose comments are closed answer `403` ("Comments are closed for this article.").
         *
         *     Checks, in order: field validation (`400`); the article (`404`/`403`); the honeypot field `website`
         *     must be absent or empty (`400` on `body.website`); at most `COMMENT_MAX_LINKS` links (`400` on
         *     `body.body`; a link is any `scheme://` including defanged `hxxp://`, `www.`, a bare domain with a
         *     known top-level domain such as `example.com` or `bit.ly/x` (so also the domain of an e-mail
         *     address), an IPv4 address, a `javascript:`, `mailto:`, `data:` or similar URI, and domains
         *     written with `[.]`, `(dot)` or full-width dots); `parentId` must be an approved top-level comment
         *     of the same article (`400` on `body.parentId`); at most `COMMENT_RATE_MAX` comments per client
         *     address (IPv6: per /64; the User-Agent plays no part) in `COMMENT_RATE_WINDOW_SECONDS` (`429`
         *     with `Retry-After`); the same
         *     body (ignoring case and spacing) must not already exist on the article (`409`,
         *     `duplicate-comment`). Rejected submissions are never dropped silently.
         *     `Cache-Control: no-store`.
         */
        post: operations["submitComment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The whole section tree
         * @description Top-level sections with their children, recursively, each level ordered by position, then name. Not paged.
         */
        get: operations["getSectionTree"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sections/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The section's slug.
                 * @example foreign-affairs
                 */
                slug: components["parameters"]["SectionSlugPath"];
            };
            cookie?: never;
        };
        /**
         * Get a section with its breadcrumb and direct children
         * @description One section by slug: its name, description and effective language, the breadcrumb from the top-level section down to it, and its direct children ordered by position, then name. An unknown slug is a `404`. Cached like the section tree.
         */
        get: operations["getSection"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/ingest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ingest an agency item (IPTC ninjs) as a draft
         * @description EDITOR+. The body is one item in IPTC ninjs: 3.x (`versionCreated`, `pubStatus`, `contentType`…),
         *     2.x (`versioncreated`, `pubstatus`, `contenttype`…) or 1.x/Superdesk spellings (`headline`, `body_html`,
         *     `body_text`, `byline`, `subject`). Unknown properties are accepted and kept: the item as last received
         *     is stored with the article (`WireItem.raw`).
         *
         *     - A new `uri` creates a `DRAFT` in the section named by `section` (`201`), authored by the caller.
         *     - The same `uri` again updates that article (`200`, `outcome: updated`), in whatever status editors left
         *       it, and leaves it in its section. Every ingest is a revision with action `ingest`, so editors' changes
         *       between two agency versions stay in the revisions. A version older than the one last ingested (by
         *       `version` when both are whole numbers, else by `versionCreated`) is a `409` (`stale-item`); the same
         *       item again changes nothing (`outcome: unchanged`).
         *     - `pubStatus`/`pubstatus: canceled` takes the story down (`outcome: canceled`): one that ran (`PUBLISHED`,
         *       `ARCHIVED`) is withdrawn (`WITHDRAWN`; its URL answers `410` with the reason "<agency> canceled this story."),
         *       one that never ran goes to the trash (a scheduled one is returned to `DRAFT` first).
         *
         *     Filled from the item: headline (`headlines`, role `main` first), body (`bodies`: the HTML one, else the
         *     plain text as paragraphs; sanitized like any article body), summary (`descriptions`), dateline
         *     (`located`), byline (`by`, `byline`, `bylines`), source = the agency (`copyrightHolder`, `provider`,
         *     `source`, `infoSources`, else the `source` parameter), language, tags (`subjects`). Pictures in
         *     `associations` are listed in the answer (`pictures`), not fetched. An embargo (`embargoed`, 3.x
         *     `embargoedUntil`) still to come becomes the article's `embargoedUntil`; a later version without one lifts
         *     it only if it was the agency's. A malformed item is a `400` with field details; one larger than
         *     `BODY_LIMIT` a `413`.
         */
        post: operations["ingestNinjsItem"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List articles in any status, newest first
         * @description Any role. Ordered by id descending. Trashed articles are left out unless `trashed=true`, which lists
         *     only the trash. `section` includes descendant sections; an unknown `section` is a `404`.
         *
         *     **Draft access.** EDITOR and ADMIN see every article. A WRITER sees their own articles, those that credit
         *     them in `editors` (shared with them) and published ones; every other article is left out of this list and
         *     answers `404` on every `/admin/articles/{id}…` operation, exactly like an id that does not exist.
         */
        get: operations["listArticles"];
        put?: never;
        /**
         * Create a draft article
         * @description Any role. The signed-in editor becomes the author; the article starts as `DRAFT` (revision 1).
         *     Without a `slug`, one is derived from the headline and made unique (`-2`, `-3`, ...). An explicit
         *     slug that is taken is a `409`. `body` is HTML, sanitized against an allow-list; `bodyText` is
         *     derived from it. A `body` longer than `BODY_HTML_MAX_CHARS` (default 200,000 characters), nested deeper
         *     than `BODY_HTML_MAX_DEPTH` (100) or with more than `BODY_HTML_MAX_ELEMENTS` (20,000) elements is a `400`
         *     at `body.body`; one that still takes longer than `BODY_SANITIZE_TIMEOUT_MS` to sanitize a `422`.
         *     Unknown tags are created. Unknown section, editor, related or image ids are a `400`, and
         *     so is a non-empty `gallery` on an article that is not a `PHOTO_STORY`.
         */
        post: operations["createArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * Get an article in any status
         * @description Any role. Trashed articles are readable too (`deletedAt` is set).
         */
        get: operations["getArticle"];
        put?: never;
        post?: never;
        /**
         * Move an article to the trash
         * @description Sets `deletedAt`: the article leaves the public API and the default admin list, keeps its
         *     revisions and comments, and can be restored by an EDITOR or ADMIN (`POST .../restore`) until it is
         *     purged, `TRASH_RETENTION_DAYS` (default 30) later. Same permission rule as changing it: a `WRITER`
         *     may trash only their own articles that are not `SCHEDULED`, `PUBLISHED` or `ARCHIVED`. Requires
         *     `If-Match` (`428` without it, `412` when stale). An article already in the trash is a `409`
         *     (`in-trash`).
         */
        delete: operations["deleteArticle"];
        options?: never;
        head?: never;
        /**
         * Change an article
         * @description Only the fields sent are changed; `editors`, `related` and `tags` replace the whole list. A
         *     `WRITER` may change only their own articles, and not once they are `SCHEDULED`, `PUBLISHED` or
         *     `ARCHIVED` (`403`). The status changes only through the workflow actions. Requires `If-Match`
         *     (`428` without it, `412` when stale). A trashed article is a `409` (`in-trash`); a taken slug a
         *     `409` (`already-exists`). `body` has the limits described under `POST /admin/articles`.
         */
        patch: operations["updateArticle"];
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Restore an article from the trash
         * @description EDITOR or ADMIN. Clears `deletedAt`; the status is unchanged. An article that is not in the trash is
         *     a `409` (`not-in-trash`); one trashed longer than `TRASH_RETENTION_DAYS` ago is a `410`
         *     (`trash-expired`). No `If-Match` is needed; a concurrent change of the article is a `412`. The body,
         *     if any, must be an empty object.
         */
        post: operations["restoreArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/purge": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Delete a trashed article for good
         * @description ADMIN only. Deletes the article with its revisions, comments, tags, credits and recommendations.
         *     Only trashed articles can be purged; any other is a `409` (`not-in-trash`). The body, if any, must be
         *     an empty object.
         */
        post: operations["purgeArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/submit": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Submit a draft for review
         * @description `DRAFT` → `IN_REVIEW`; clears `reviewNote`. Open to every role: a `WRITER` only for their own
         *     article (`403` otherwise). From any other status it is a `409` (`invalid-transition`). Optional
         *     `If-Match` (`412` when stale). The body, if any, must be an empty object.
         */
        post: operations["submitArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/return": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Return an article to its writer
         * @description EDITOR or ADMIN. `IN_REVIEW` or `SCHEDULED` → `DRAFT`, with a `note` for the writer (stored as
         *     `reviewNote`); clears `scheduledAt`. From any other status it is a `409` (`invalid-transition`).
         *     Optional `If-Match` (`412` when stale).
         */
        post: operations["returnArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/schedule": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Schedule an article for publication
         * @description EDITOR or ADMIN. `DRAFT`, `IN_REVIEW` or `SCHEDULED` (to reschedule) → `SCHEDULED`, with
         *     `scheduledAt` set. `scheduledAt` must be in the future (`400`). When it arrives the server publishes
         *     the article with `publishedAt` = `scheduledAt`. From any other status it is a `409`
         *     (`invalid-transition`). Optional `If-Match` (`412` when stale).
         */
        post: operations["scheduleArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/publish": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Publish an article now (or back-dated)
         * @description EDITOR or ADMIN. `DRAFT`, `IN_REVIEW`, `SCHEDULED` or `ARCHIVED` → `PUBLISHED`; clears
         *     `scheduledAt`. `publishedAt` is the given time, or for an archived article its previous
         *     `publishedAt`, or now. It may be in the past (back-dating) but not in the future (more than one
         *     minute ahead is a `400`; use `schedule`). An already `PUBLISHED` article is a `409`
         *     (`invalid-transition`). Optional `If-Match` (`412` when stale).
         */
        post: operations["publishArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/unpublish": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Unpublish an article
         * @description EDITOR or ADMIN. `PUBLISHED` → `DRAFT` (its `publishedAt` is kept). Any other status is a `409`
         *     (`invalid-transition`). Optional `If-Match` (`412` when stale). The body, if any, must be an empty
         *     object.
         */
        post: operations["unpublishArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/withdraw": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Withdraw (kill) a published article
         * @description EDITOR or ADMIN (a WRITER gets `403`). `PUBLISHED` or `ARCHIVED` → `WITHDRAWN`, with a public `reason`
         *     (required). The article leaves every public list, feed, sitemap and the search at once, and its URL
         *     `GET /api/v1/articles/{slug}` answers `410 Gone` with its tombstone `{slug, headline, withdrawnAt,
         *     reason}`. Appends the change event `article.withdrawn` (webhooks `article.withdrawn`; CDN purges are
         *     hard even with `PURGE_SOFT`); audited as `article.withdraw`. Unlike `unpublish` (quiet, reversible by
         *     any editor, `404`), no workflow action leaves `WITHDRAWN`: only an ADMIN reinstates it. An edit lock
         *     held by someone else does not block it. From any other status `409` (`invalid-transition`); in the
         *     trash `409` (`in-trash`). Optional `If-Match` (`412` when stale).
         */
        post: operations["withdrawArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/reinstate": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Reinstate a withdrawn article
         * @description ADMIN only. `WITHDRAWN` → the status it was withdrawn from (`withdrawnFrom`: `PUBLISHED` or
         *     `ARCHIVED`), its `publishedAt` unchanged; the tombstone goes and the article is public again at once
         *     (change event `article.reinstated`, webhooks `article.published`). Audited as `article.reinstate`.
         *     From any other status `409` (`invalid-transition`). Optional `If-Match` (`412` when stale).
         */
        post: operations["reinstateArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/archive": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Archive an article
         * @description EDITOR or ADMIN. Any status but `ARCHIVED` → `ARCHIVED`; clears `scheduledAt`. An archived article
         *     is a `409` (`invalid-transition`). Archived articles stay readable by slug on the public API only
         *     when the server runs with `ARCHIVED_PUBLIC=true`. Optional `If-Match` (`412` when stale). The body,
         *     if any, must be an empty object.
         */
        post: operations["archiveArticle"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/preview": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a shareable preview link
         * @description Any role that may read the article (a WRITER only for their own, shared or published articles; others
         *     answer `404`). Issues a signed token that lets anyone read this one article, in any status, through
         *     `GET /api/v1/preview/{token}` until `expiresAt` (`PREVIEW_TTL_SECONDS`, default one day). A trashed
         *     article is a `404`. The body, if any, must be an empty object.
         */
        post: operations["createArticlePreview"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/revisions": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * List an article's revisions, newest first
         * @description Any role. Ordered by revision number descending.
         */
        get: operations["listArticleRevisions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/revisions/{rev}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                /**
                 * @description Revision number (1, 2, 3, ... per article).
                 * @example 1
                 */
                rev: components["parameters"]["RevisionPath"];
            };
            cookie?: never;
        };
        /**
         * Get one revision with its content and its changes
         * @description Any role. `content` is the article's content as saved in this revision; `diff` lists the fields
         *     that differ from the previous revision (for revision 1, every field, with `before` = `null`).
         */
        get: operations["getArticleRevision"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/revisions/{rev}/restore": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                /**
                 * @description Revision number (1, 2, 3, ... per article).
                 * @example 1
                 */
                rev: components["parameters"]["RevisionPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Bring back the content of a revision
         * @description Same permission rule as changing the article. Restores slug, headline, summary, dateline, source,
         *     byline, body, kind, section, tags, editors and related from the revision (editors, related articles
         *     and sections that no longer exist are skipped); status and times stay as they are. Saved as a new
         *     revision. A trashed article is a `409` (`in-trash`), a slug taken meanwhile by another article a
         *     `409` (`already-exists`). Optional `If-Match` (`412` when stale). The article body is sanitized
         *     again; one saved before the current body limits that exceeds them is a `422` (`body-too-complex`).
         *     The request body, if any, must be an empty object.
         */
        post: operations["restoreArticleRevision"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/lock": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Take, renew or take over the article's edit lock
         * @description An advisory lock saying who is editing the article, held for two minutes and renewed by calling
         *     this again (a heartbeat, every minute or so). While someone else holds it, every write to the
         *     article (`PATCH`, `DELETE`, the workflow actions, restores) answers `423` (`locked`) with
         *     `lockedBy`; the article shows the holder in `lockedBy`. An expired lock is no lock. The lock does
         *     not replace `If-Match`, which still guards every write; without a lock anyone may write.
         *     Taking a lock someone else holds is a `423`, unless `force=true`: an EDITOR or ADMIN takes it over
         *     (a `WRITER` gets `403`); the takeover is audited (`article.lock.force`) and the previous holder
         *     learns of it from the `423` of their next write. A `WRITER` may lock only an article they may
         *     change (`403` otherwise). Live entries (`.../entries`) are not blocked by the lock: several
         *     editors post to a live page at once. The body, if any, must be an empty object.
         */
        post: operations["lockArticle"];
        /**
         * Release the caller's edit lock
         * @description Releases the caller's own lock; nothing to do (still `204`) when there is none or it expired. A
         *     lock held by someone else is a `423` (take it over with `POST .../lock?force=true`).
         */
        delete: operations["unlockArticle"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/entries": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * List every entry of an article, newest first (drafts' too)
         * @description Any role that may read the article (`404` otherwise). Unlike the public list, the article may be
         *     in any status (entries are often prepared before a live page is published), and deleted entries
         *     are listed too by default, as tombstones (`deleted: true`, empty `body`, `title` `null`):
         *     `deleted=exclude` leaves them out, `deleted=only` lists only them. Pinned and key entries are
         *     flagged, not moved: the order is by entry id, newest first, and `meta.nextCursor` pages back.
         *     An article that is no longer `LIVE` keeps its entries and lists them. Never cached.
         */
        get: operations["listAdminLiveEntries"];
        put?: never;
        /**
         * Post an entry to a live article
         * @description The article must be of kind `LIVE` (`409`, `not-live`, otherwise) and not in the trash (`409`,
         *     `in-trash`); it may be in any status (entries can be prepared before the page goes live). EDITOR
         *     and ADMIN post to any live article, a `WRITER` to one they wrote or are credited on (`403`). The
         *     author is the caller. `body` is HTML, sanitized like article bodies (same limits; `422` when too
         *     complex) and must have some content. The entry does not rewrite the article: it appends its own
         *     change event (`live-entry.created`, surrogate key `entries:<articleId>`), which purges the public
         *     entry list and reaches the event streams. Audited (`live-entry.create`).
         */
        post: operations["createLiveEntry"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/entries/{entryId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                entryId: number;
            };
            cookie?: never;
        };
        /**
         * Get an entry of a live article (with its ETag)
         * @description Any role that may read the article. The entry with its `ETag`, to send back in `If-Match` when changing or deleting it. A deleted entry, or one of another article, is a `404`.
         */
        get: operations["getLiveEntry"];
        put?: never;
        post?: never;
        /**
         * Delete an entry
         * @description Requires `If-Match` (`428`/`412`). A `WRITER` may delete only their own entries. The entry leaves
         *     the public list; pollers using `since` and the event stream receive it as a tombstone
         *     (`deleted: true`). Emits `live-entry.deleted`; audited (`live-entry.delete`).
         */
        delete: operations["deleteLiveEntry"];
        options?: never;
        head?: never;
        /**
         * Change an entry
         * @description Only the fields sent change. Requires `If-Match` with the entry's ETag (`428` without it, `412`
         *     when stale). Same rules as posting. Emits `live-entry.updated`; audited (`live-entry.update`).
         */
        patch: operations["updateLiveEntry"];
        trace?: never;
    };
    "/api/v1/admin/sections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List all sections (flat)
         * @description Any role. Ordered by position, then id. Not paged.
         */
        get: operations["listSections"];
        put?: never;
        /**
         * Create a section
         * @description ADMIN only. A taken slug is a `409`; an unknown `parent` slug is a `400`.
         */
        post: operations["createSection"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/sections/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * Get a section
         * @description Any role.
         */
        get: operations["getSectionById"];
        put?: never;
        post?: never;
        /**
         * Delete an empty section
         * @description ADMIN only. A section that still has child sections or articles (trashed articles included) is a
         *     `409`. Requires `If-Match` (`428` without it, `412` when stale).
         */
        delete: operations["deleteSection"];
        options?: never;
        head?: never;
        /**
         * Change or move a section
         * @description ADMIN only. Only the fields sent are changed. `parent: null` makes it a top-level section; moving
         *     a section under itself or one of its descendants is a `400`. A taken slug is a `409`. Requires
         *     `If-Match` (`428` without it, `412` when stale).
         */
        patch: operations["updateSection"];
        trace?: never;
    };
    "/api/v1/admin/comments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List comments in any status, newest first
         * @description EDITOR or ADMIN. Ordered by id descending.
         */
        get: operations["listComments"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/comments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a comment
         * @description EDITOR or ADMIN.
         */
        delete: operations["deleteComment"];
        options?: never;
        head?: never;
        /**
         * Approve or reject a comment
         * @description EDITOR or ADMIN. A comment cannot be set back to `PENDING`.
         */
        patch: operations["moderateComment"];
        trace?: never;
    };
    "/api/v1/admin/editor-directory": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the active editors to credit
         * @description Any signed-in editor (WRITER, EDITOR, ADMIN): the active accounts an article may credit as its desk
         *     editors (`editors` on `ArticleCreate`/`ArticleUpdate`), with their id, name and role only. Ordered by
         *     id ascending. Deactivated accounts, emails and account details stay behind `GET /api/v1/admin/editors`
         *     (ADMIN).
         */
        get: operations["listEditorDirectory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/editors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List editors
         * @description ADMIN only. Ordered by id ascending.
         */
        get: operations["listEditors"];
        put?: never;
        /**
         * Create an editor account
         * @description ADMIN only. The email is stored lower-cased; a taken email is a `409`.
         */
        post: operations["createEditor"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/editors/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * Get an editor
         * @description ADMIN only.
         */
        get: operations["getEditor"];
        put?: never;
        post?: never;
        /**
         * Deactivate an editor
         * @description ADMIN only. Editors are never hard-deleted (their names stay credited on articles): this sets
         *     `active` to `false`, revokes all their sessions and returns the editor. Deactivating the last
         *     active `ADMIN` is a `409`. Requires `If-Match` (`428` without it, `412` when stale).
         */
        delete: operations["deactivateEditor"];
        options?: never;
        head?: never;
        /**
         * Change an editor, reset a password, (de)activate
         * @description ADMIN only. Only the fields sent are changed. Demoting or deactivating the last active `ADMIN`
         *     is a `409`, as is a taken email. Deactivating an editor or setting their password revokes all their
         *     sessions. Requires `If-Match` (`428` without it, `412` when stale).
         */
        patch: operations["updateEditor"];
        trace?: never;
    };
    "/api/v1/admin/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Search the audit log, newest first
         * @description ADMIN only. Ordered by id descending. Entries record sign-ins (`auth.login`, `auth.login-failed`,
         *     `auth.logout`, `auth.refresh-reuse`, `auth.password-change`) and writes (`article.create`,
         *     `article.update`, `article.submit`, `article.publish`, ..., `article.trash`, `article.restore`,
         *     `article.purge`, `section.*` (including `section.pin-lead`, `section.unpin-lead`), `comment.*`, `editor.*`,
         *     `collection.*`); the scheduler's writes have no `actor`.
         */
        get: operations["listAuditEntries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Change events, newest first or tailing from an id
         * @description ADMIN only. Every write that changes what a reader can see appends one or more change events in
         *     its own transaction; each names the entity and the **surrogate keys** whose responses it changes
         *     (`article:<id>`, `section:<id>`, `front:<sectionSlug>`, `latest`, `articles`, `popular`,
         *     `tag:<slug>`, `collection:<slug>`, `comments:<articleId>`, `sections`). A change that no public
         *     response shows (a draft saved, a comment left pending) is still recorded, with no keys.
         *
         *     **Order.** Without `after`, the newest `limit` events, newest first (what just happened). With
         *     `after`, the events whose id is greater, oldest first: an operator or a script tails the log by
         *     passing `meta.nextAfter` back as `after`. Ids only grow, and an id becomes visible only after
         *     every smaller one has committed, so tailing never skips an event.
         *
         *     Types: `article.created`, `article.updated`, `article.submitted`, `article.returned`,
         *     `article.scheduled`, `article.published` (`data.scheduled: true` when the scheduler published
         *     it), `article.unpublished`, `article.archived`, `article.trashed`, `article.restored`,
         *     `article.revision-restored`, `article.purged`, `article.withdrawn`, `article.reinstated`,
         *     `article.embargoed` (an embargo put on a public story), `article.embargo-lifted` (released by the
         *     scheduler, or lifted by an edit); `section.created`, `section.renamed`,
         *     `section.moved`, `section.updated`, `section.deleted`, `section.lead-pinned`,
         *     `section.lead-unpinned`; `comment.created`, `comment.approved`, `comment.rejected`, `comment.spam`,
         *     `comment.pending`, `comment.deleted`; `editor.renamed`, `editor.deactivated`,
         *     `editor.reactivated`; `media.created`, `media.updated` (alt, caption or credit; `data.changed`), `media.deleted`; `collection.created`, `collection.updated`,
         *     `collection.deleted`, `collection.item-added`, `collection.item-updated`,
         *     `collection.item-removed`, `collection.reordered`; `live-entry.created`, `live-entry.updated`,
         *     `live-entry.deleted` (`data.articleId`, `data.seq`; key `entries:<articleId>` only: the article
         *     is not rewritten).
         *
         *     Events are kept for `EVENTS_RETENTION_DAYS` (default 30), and longer while a durable consumer
         *     has not processed them.
         */
        get: operations["listChangeEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/purges": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Recent CDN purge requests and their outcome
         * @description ADMIN only. The purge consumer turns the change events' surrogate keys into purge requests
         *     (de-duplicated, at most the provider's limit of keys each: Fastly 256, Cloudflare 30, Varnish and
         *     HTTP 256), which every instance's sender sends and retries with exponential backoff and jitter
         *     (`Retry-After` honoured) up to `PURGE_MAX_ATTEMPTS`. Newest first. With `PURGE_PROVIDER=log` (the
         *     default dry run) nothing is queued (the keys are logged) and the list stays empty. Finished requests
         *     are kept 7 days.
         */
        get: operations["listPurgeRequests"];
        put?: never;
        /**
         * Purge surrogate keys at the CDN now
         * @description ADMIN only; audited (`cdn.purge`). Queues the keys (de-duplicated) for the configured purger; a
         *     running instance sends them within about a second, with the same retries as event-driven purges.
         *     With `PURGE_PROVIDER=log` the keys are only logged (`dryRun: true`, `requests: 0`); with `none`
         *     the answer is `409` (`purge-disabled`). `soft` defaults to `PURGE_SOFT`; Cloudflare always purges hard.
         */
        post: operations["purgeKeys"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List webhook endpoints
         * @description ADMIN only. Every endpoint, oldest first (at most 500). Secrets are never listed.
         */
        get: operations["listWebhooks"];
        put?: never;
        /**
         * Register a webhook endpoint
         * @description ADMIN only. Registers a receiver for the events it names (see the `webhooks` section of this
         *     document for what it receives). The response carries the signing **secret** — the only time it is
         *     shown (a rotation shows the new one). The URL must be `http://` or `https://`, carry no
         *     credentials, and not be a private, loopback, link-local, CGNAT or reserved IP literal unless its
         *     host is in `WEBHOOK_ALLOWED_HOSTS`; host names are resolved and checked again at every send.
         */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * One webhook endpoint
         * @description ADMIN only. Includes why it was disabled, if it was (`disabledReason`).
         */
        get: operations["getWebhook"];
        put?: never;
        post?: never;
        /**
         * Delete a webhook endpoint and its delivery log
         * @description ADMIN only. Pending deliveries are dropped with it.
         */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        /**
         * Change a webhook endpoint
         * @description ADMIN only. Send the fields to change. `active: true` on a disabled endpoint turns it back on,
         *     clears `disabledReason` and restarts the failure count; its deliveries still pending are then sent.
         */
        patch: operations["updateWebhook"];
        trace?: never;
    };
    "/api/v1/admin/webhooks/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replace the signing secret, keeping the old one valid for an overlap period
         * @description ADMIN only. Returns the new `secret` (shown this once). For `overlapSeconds` (default 86400, at
         *     most 604800; 0 ends the old secret now) every delivery carries two signatures,
         *     `Dateline-Signature: v1=<new>,v1=<old>`, so the receiver can switch secrets without losing a delivery.
         */
        post: operations["rotateWebhookSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * An endpoint's deliveries, newest first
         * @description ADMIN only. Status, attempts, last response code, duration and next attempt of each delivery.
         */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                deliveryId: components["schemas"]["Id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a delivery again
         * @description ADMIN only. Queues the delivery to be sent now, whatever its status, with a fresh retry budget. The
         *     event id is unchanged and `Dateline-Delivery-Attempt` keeps counting, so the receiver can tell it
         *     is a repeat. Sent only while the endpoint is active.
         */
        post: operations["redeliverWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/webhooks/{id}/ping": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Queue a test delivery
         * @description ADMIN only. Queues a signed `ping` delivery (see `webhooks.ping`), whatever events the endpoint subscribes to.
         */
        post: operations["pingWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/media": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List uploaded images, newest first
         * @description Any role. Ordered by id descending.
         */
        get: operations["listMedia"];
        put?: never;
        /**
         * Upload an image
         * @description Any role. The type is recognised by the file's leading bytes (JPEG, PNG, WebP or GIF); the part's
         *     declared content type and file name are ignored. Anything else is a `415`. The whole image is decoded
         *     before it is stored: a truncated or damaged image (one that does not decode completely, a PNG without
         *     its `IEND` chunk, a GIF without its trailer) is a `400` (field `body.file`). A file over the configured
         *     limit (`MEDIA_MAX_BYTES`, 10 MiB by default) is a `413` (`file-too-large`); an image with more pixels
         *     than `MEDIA_MAX_PIXELS` (50 megapixels by default; width × height, all frames of an animation together)
         *     is a `413` (`image-too-large`), answered from the header before anything is decoded. The recorded
         *     `width` and `height` are the displayed size (EXIF orientation applied) of the image or of an
         *     animation's frame. A body that is not `multipart/form-data` is a `415`. Each upload is stored under a
         *     new key, so uploads never replace one another; a failed upload leaves no record and no file behind.
         */
        post: operations["uploadMedia"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/media/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * One uploaded image
         * @description Any role.
         */
        get: operations["getMedia"];
        put?: never;
        post?: never;
        /**
         * Delete an image and its file
         * @description EDITOR or ADMIN. An image still used as an article's lead image (including articles in the trash), in
         *     a gallery, by a collection item, as an author profile's photo, or as a picture in an article's body (the trash included) or a live
         *     entry's body (its `/media/<key>` URL) is a `409` (`in-use`), naming the uses. Old revisions are not
         *     searched: restoring one may bring back a picture deleted since.
         */
        delete: operations["deleteMedia"];
        options?: never;
        head?: never;
        /**
         * Change an image's alt text, caption or credit
         * @description EDITOR or ADMIN (the text shows at once in every published story using the image, which a WRITER may
         *     not change; writers set it when uploading). Send any of `alt`, `caption`, `credit` (at least one; the
         *     same limits as an upload; an empty string clears one). No `If-Match`: an image record carries no
         *     version, and the last write wins. Audited (`media.update`). When the text changed, a `media.updated`
         *     event rebuilds, in the same transaction, the public documents of every published article using the
         *     image as its lead image or in its gallery (a gallery item without a caption of its own shows the
         *     image's), and names the responses showing it (`article:<id>` of those articles, `collection:<slug>` of
         *     collections showing it as an item's picture, `author:<id>` of profiles using it as their photo), so
         *     caches and CDNs drop them. Pictures placed in an article's body keep the alt text they were placed with.
         */
        patch: operations["updateMedia"];
        trace?: never;
    };
    "/media/{year}/{month}/{file}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An uploaded image file
         * @description No authentication; any origin. The URL is the `url` of an image record (unless `MEDIA_BASE_URL` points
         *     elsewhere, such as a CDN). A key is never reused, so files are sent with
         *     `Cache-Control: public, max-age=31536000, immutable`, `ETag` and `Last-Modified`; `HEAD` works too.
         */
        get: operations["getMediaFile"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/articles/{slug}/views": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Read beacon for "Most Popular"
         * @description Frontends call this once per page view; it answers `202` at once and the count is written within
         *     about a second (`VIEW_FLUSH_INTERVAL_MS`). Counts are kept per article per hour. A reader (address
         *     and User-Agent, kept only as a keyed hash, in memory or in Redis) counts once per article per 30 minutes
         *     (`VIEW_DEDUP_SECONDS`); repeats answer `{"counted": false, "reason": "duplicate"}`. One address
         *     (IPv6: one /64) adds at most `VIEW_MAX_PER_ADDRESS_PER_ARTICLE` views (default 10) to one article
         *     in that period, however many User-Agents it sends; beyond that beacons answer
         *     `{"counted": false, "reason": "address-limit"}`. Requests without a User-Agent or from crawlers,
         *     link previews, monitors and HTTP libraries answer `{"counted": false, "reason": "bot"}`. More than
         *     `VIEW_RATE_MAX_PER_MINUTE` beacons (default 120) from one address (IPv6: one /64, any User-Agent)
         *     in a minute are `429`. Only published, not trashed articles count; others are `404`.
         *     De-duplication and rate limits are shared by every server instance when `REDIS_URL` is set, else per
         *     instance; while Redis is unreachable each instance applies them alone (the beacon still answers `202`).
         *     `Cache-Control: no-store`.
         */
        post: operations["recordArticleView"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/popular": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Most read published articles in a time window
         * @description Published, not trashed articles ranked by views in the window (`24h`, `7d` or `30d`), most read first,
         *     ties newest first; each item carries its `views`. Views are counted in whole UTC hours: the hour that
         *     contains the window start counts in full, and `meta.since` is the start of that hour. Articles without
         *     views in the window are not listed. `section` includes its descendant sections; an unknown `section`
         *     is a `404`. Views are written about a second after the beacon; the ranking is cached for at most 60 seconds (see **Caching**).
         */
        get: operations["listPopularArticles"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/comments/bulk": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Approve, reject or mark as spam several comments at once
         * @description EDITOR or ADMIN. All or nothing: if any id does not exist the answer is `404` naming the missing
         *     ids (`errors` on `body.ids.<index>`) and no comment changes. Writes one `comment.moderate` audit
         *     entry per comment (`details.bulk: true`).
         */
        post: operations["moderateComments"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/articles/{slug}/print": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        /**
         * Get the print version of a published article
         * @description The same article as `GET /api/v1/articles/{slug}` (same `404` rules), as a complete, script-free HTML page
         *     (breadcrumb, headline, local publish time, byline, dateline, body, editors, canonical URL) or as plain text.
         *
         *     **Content negotiation:** the `Accept` header chooses between `text/html` and `text/plain`. The answer is
         *     `text/plain` only when `Accept` prefers it to `text/html` (for example `Accept: text/plain`); in every other
         *     case, including a missing `Accept`, `*\/*`, `text/*` or a type the server cannot produce, it is
         *     `text/html` (never `406`). Errors stay `application/problem+json`.
         *
         *     Sent with `Content-Security-Policy: default-src 'none'; img-src * data:; style-src 'unsafe-inline'`.
         */
        get: operations["getArticlePrintView"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/latest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Latest News
         * @description The newest published articles of all sections, newest first (by `publishedAt`, ties by id). Not paged.
         */
        get: operations["listLatestArticles"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/sections/{slug}/front": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The section's slug.
                 * @example foreign-affairs
                 */
                slug: components["parameters"]["SectionSlugPath"];
            };
            cookie?: never;
        };
        /**
         * Get a section front
         * @description A lead story plus up to `limit` further stories of the section and all its descendant sections, published
         *     only, newest first. The lead is the editor-pinned article (`leadSource: pinned`) while it is published and
         *     in the section's subtree; otherwise the newest story with a lead image (`image`); otherwise the newest
         *     story (`newest`). The lead is never repeated in `stories`. A section without published stories has
         *     `lead: null` and `leadSource: null`. An unknown section is a `404`.
         */
        get: operations["getSectionFront"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/sections/{id}/lead": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Pin the lead story of a section front
         * @description EDITOR or ADMIN. Pins an article as the lead of the section front, replacing any pinned before. The article
         *     must exist, not be in the trash and belong to the section or one of its descendants (`400` otherwise); it
         *     may be unpublished, in which case the front ignores it until it is published. Bumps the section's
         *     `version`. No `If-Match` needed.
         */
        put: operations["pinSectionLead"];
        post?: never;
        /**
         * Unpin the lead story of a section front
         * @description EDITOR or ADMIN. Clears `leadArticleId` (also when none was pinned), so the front picks its lead
         *     automatically again. Bumps the section's `version`.
         */
        delete: operations["unpinSectionLead"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/collections/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The collection's slug.
                 * @example selections-for-you
                 */
                slug: components["parameters"]["CollectionSlugPath"];
            };
            cookie?: never;
        };
        /**
         * Get a collection
         * @description The collection's published articles, in the editors' order. Articles that are not published or are in
         *     the trash are left out. Each item shows the collection's headline override (else the article's) and
         *     `image`, the collection's image override (else the article's lead image, else `null`). An unknown
         *     collection is a `404`.
         */
        get: operations["getCollection"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/collections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List collections
         * @description EDITOR or ADMIN. All collections, ordered by slug, with their number of items. Not paged.
         */
        get: operations["listCollections"];
        put?: never;
        /**
         * Create a collection
         * @description EDITOR or ADMIN. Starts empty. A taken slug is a `409`.
         */
        post: operations["createCollection"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/collections/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * Get a collection with its items
         * @description EDITOR or ADMIN. Every item, whatever the status of its article (trashed ones flagged).
         */
        get: operations["getCollectionById"];
        put?: never;
        post?: never;
        /**
         * Delete a collection
         * @description EDITOR or ADMIN. Deletes the collection and its items (the articles stay).
         */
        delete: operations["deleteCollection"];
        options?: never;
        head?: never;
        /**
         * Rename a collection
         * @description EDITOR or ADMIN. Only the fields sent are changed. A taken slug is a `409`. `If-Match` is optional; when
         *     sent and stale, the answer is `412`.
         */
        patch: operations["updateCollection"];
        trace?: never;
    };
    "/api/v1/admin/collections/{id}/items": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        get?: never;
        /**
         * Reorder a collection
         * @description EDITOR or ADMIN. `itemIds` lists the ids of all the collection's items, each exactly once, in the new
         *     order; anything else (missing, extra or repeated ids) is a `400`.
         */
        put: operations["reorderCollectionItems"];
        /**
         * Add an article to a collection
         * @description EDITOR or ADMIN. Inserts the article at `position` (0 is the top; omitted or past the end appends), with
         *     optional headline and image overrides. An unknown or trashed article, or an unknown image, is a `400`;
         *     an article already in the collection is a `409` (`already-in-collection`). Articles in any status can be
         *     added; the public collection shows only the published ones.
         */
        post: operations["addCollectionItem"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/collections/{id}/items/{itemId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                /** @description Id of the collection item (not of the article). */
                itemId: components["schemas"]["Id"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove an article from a collection
         * @description EDITOR or ADMIN. The remaining items close the gap. An item that is not in this collection is a `404`.
         */
        delete: operations["removeCollectionItem"];
        options?: never;
        head?: never;
        /**
         * Change an item's headline or image override
         * @description EDITOR or ADMIN. Only the fields sent are changed; `null` removes an override. An unknown image is a
         *     `400`; an item that is not in this collection is a `404`.
         */
        patch: operations["updateCollectionItem"];
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/corrections": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * The corrections of an article, newest first
         * @description Any role that may read the article.
         */
        get: operations["listCorrections"];
        put?: never;
        /**
         * Add a correction, clarification or retraction to a published article
         * @description EDITOR+. The article must be `PUBLISHED` (or `ARCHIVED`): `409 not-published` otherwise, `409 in-trash`
         *     when trashed, `409 too-many-corrections` past 100. `at` (when the correction was made public) defaults
         *     to now; it must not be in the future nor before the article's `publishedAt` (`400`). In one transaction:
         *     the correction, the article's editorial `updatedAt` (`editorialUpdatedAt`, JSON-LD `dateModified`)
         *     moved to now and its `version` bumped, an audit entry (`article.correction-add`) and an
         *     `article.updated` change event (its `data.correction` says which; surrogate keys of the article plus
         *     `corrections`), so the public article (`corrections`, JSON-LD `correction`), the corrections feed,
         *     caches, webhooks and CDN purges follow. `If-Match` (the article's ETag) is optional: when sent and
         *     stale, `412`.
         */
        post: operations["addCorrection"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/articles/{id}/corrections/{correctionId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                correctionId: number;
            };
            cookie?: never;
        };
        /**
         * Get a correction (with its ETag)
         * @description Any role that may read the article. The correction with its `ETag`, to send back in `If-Match` when changing or deleting it (EDITOR or ADMIN). A correction of another article is a `404`.
         */
        get: operations["getCorrection"];
        put?: never;
        post?: never;
        /**
         * Delete a correction entered in error
         * @description EDITOR+. Requires `If-Match` (`428`/`412`). The article's editorial `updatedAt` stays; its version is
         *     bumped. Audited (`article.correction-delete`, with the text); emits `article.updated`.
         */
        delete: operations["deleteCorrection"];
        options?: never;
        head?: never;
        /**
         * Change a correction
         * @description EDITOR+. Only the fields sent change. Requires `If-Match` with the correction's ETag (`428` without
         *     it, `412` when stale). Same rules as adding one; the article's editorial `updatedAt` moves to now.
         *     Audited (`article.correction-update`, with the previous text); emits `article.updated`.
         */
        patch: operations["updateCorrection"];
        trace?: never;
    };
    "/api/v1/corrections": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The corrections feed (the site's corrections page)
         * @description Corrections of publicly readable articles, newest first (by `at`, then id), each with its article's
         *     slug, headline, section and permalink. Cursor-paged like the other public lists. One statement.
         *     Surrogate keys `corrections` and `article:<id>` of each listed article.
         */
        get: operations["listPublicCorrections"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/authors": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List author profiles
         * @description Any role (to credit them), oldest first; `q` filters by name or slug (substring).
         */
        get: operations["listAuthors"];
        put?: never;
        /**
         * Create an author profile
         * @description EDITOR+. `slug` must be unique (`409 slug-taken`) and contain a letter; `photo` is a media id (`400`
         *     when unknown). Audited (`author.create`); emits `author.created`.
         */
        post: operations["createAuthor"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/admin/authors/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        /**
         * Get an author profile (with its ETag)
         * @description Any role. The profile with its `ETag`, to send back in `If-Match` when changing or deleting it (EDITOR or ADMIN). An unknown id is a `404`.
         */
        get: operations["getAuthor"];
        put?: never;
        post?: never;
        /**
         * Delete an author profile
         * @description EDITOR+. Requires `If-Match` (`428`/`412`). Its credits go with it (the articles keep their `byline`);
         *     the documents of the published articles that credited it are rebuilt. Audited (`author.delete`).
         */
        delete: operations["deleteAuthor"];
        options?: never;
        head?: never;
        /**
         * Change an author profile
         * @description EDITOR+. Only the fields sent change; requires `If-Match` (`428`/`412`). A change of `slug` or `name`
         *     rebuilds the public documents of every published article crediting the profile in the same
         *     transaction (the `author.updated` event names their `article:<id>` keys, so caches and CDNs drop them).
         *     Audited (`author.update`).
         */
        patch: operations["updateAuthor"];
        trace?: never;
    };
    "/api/v1/authors/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An author's page
         * @description The profile and their newest published stories (those crediting the profile), newest first,
         *     cursor-paged. One statement. `404` for an unknown slug. Feeds of the same stories:
         *     `/api/v1/feeds/{format}?authorProfile={slug}`.
         */
        get: operations["getPublicAuthor"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/feeds/{format}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A feed of the newest published stories (RSS 2.0, Atom 1.0 or JSON Feed 1.1)
         * @description The newest 50 published stories, newest first: the whole site, one section with its sub-sections
         *     (`section`), one tag (`tag`) or one editor (`author`: the stories the editor is the author of or is
         *     credited on as desk editor), optionally in one language (`language`, the story's effective language:
         *     its own, else its section's or nearest ancestor's, else `SITE_LANGUAGE`; an exact match). At most one of
         *     `section`, `tag` and `author`.
         *
         *     `rss` is RSS 2.0 (`application/rss+xml`) with `content:encoded` (the body), `dc:creator` (the byline,
         *     else the source agency, else the publication), `dc:contributor` (desk editors), `category` (section,
         *     with its page as `domain`, and tags), the lead image as `enclosure` (length 0: unknown) and
         *     `media:content`, RFC 822 dates and `<atom:link rel="self">`. `atom` is Atom 1.0
         *     (`application/atom+xml`): `content type="html"`, `author`/`contributor`, `category term/label/scheme`,
         *     the lead image as `link rel="enclosure"`, RFC 3339 `published`/`updated`, `link rel="self"`. `json` is
         *     JSON Feed 1.1 (`application/feed+json`). Links are absolute: stories on `PUBLIC_SITE_URL` +
         *     `PERMALINK_PATTERN`, images on `MEDIA_BASE_URL` (when absolute) or `PUBLIC_API_URL`, the feed's own URL
         *     on `PUBLIC_API_URL` (else `PUBLIC_SITE_URL`). An item's modification time is the editorial one
         *     (`updatedAt` of the public article); the feed's `updated`/`lastBuildDate` and `Last-Modified` are the
         *     newest item's. The same feeds of the whole site are at `/rss.xml`, `/atom.xml` and `/feed.json`.
         */
        get: operations["getFeed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rss.xml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The site's RSS 2.0 feed (feed readers look here)
         * @description As `GET /api/v1/feeds/rss` (same parameters), naming itself on `PUBLIC_SITE_URL` (a frontend proxies the path on the site's host).
         */
        get: operations["getRssFeed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/atom.xml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The site's Atom 1.0 feed
         * @description As `GET /api/v1/feeds/atom` (same parameters), naming itself on `PUBLIC_SITE_URL`.
         */
        get: operations["getAtomFeed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/feed.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The site's JSON Feed 1.1
         * @description As `GET /api/v1/feeds/json` (same parameters), naming itself on `PUBLIC_SITE_URL`.
         */
        get: operations["getJsonFeed"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sitemap.xml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The sitemap index
         * @description A sitemap index (sitemaps.org 0.9) listing the article sitemaps `/sitemaps/articles-1.xml` …
         *     `articles-<n>.xml` and `/sitemaps/sections.xml`, on `PUBLIC_SITE_URL` (search engines accept sitemaps
         *     only on the site's own host: the frontend proxies `/sitemap.xml`, `/sitemap-news.xml`, `/sitemaps/*` and
         *     `/robots.txt` to Dateline). Article page `n` holds the published stories with ids in
         *     `((n-1)·SITEMAP_PAGE_SIZE, n·SITEMAP_PAGE_SIZE]` (at most 50,000 URLs): a story stays on its page.
         */
        get: operations["getSitemapIndex"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sitemaps/{file}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One sitemap of the index (articles-<n>.xml or sections.xml)
         * @description `articles-<n>.xml`: the published stories of the page (see `/sitemap.xml`), each with `lastmod` (the
         *     editorial modification time) and, for a story with published translations, `xhtml:link
         *     rel="alternate" hreflang` for itself, each translation and `x-default` (the one in `SITE_LANGUAGE`, else
         *     in its primary language, else the story itself). With many translations per story, lower
         *     `SITEMAP_PAGE_SIZE` to stay under 50 MB a file (a larger page is logged). `sections.xml`: every section
         *     page (`PUBLIC_SITE_URL` + `SECTION_PATH_PATTERN`) with `lastmod` the newest story in it or below.
         *     Pages past the last one are `404`.
         */
        get: operations["getSitemap"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/sitemap-news.xml": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The Google News sitemap
         * @description Stories published in the last 48 hours, newest first, at most 1,000, each with `news:publication`
         *     (`news:name` = `PUBLICATION_NAME`, `news:language` = the story's effective language as an ISO 639 code,
         *     `zh-cn`/`zh-tw` for Chinese), `news:publication_date` and `news:title`. Kept in process at most a minute
         *     (the window moves without a change event).
         */
        get: operations["getNewsSitemap"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/robots.txt": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * robots.txt naming the sitemaps
         * @description `User-agent: *`, a `Disallow:` line per `ROBOTS_DISALLOW` path (default the editor API and draft
         *     previews; they also answer `X-Robots-Tag: noindex`), the lines of `ROBOTS_TXT_EXTRA`, and
         *     `Sitemap:` lines for `/sitemap.xml` and `/sitemap-news.xml` on `PUBLIC_SITE_URL`.
         */
        get: operations["getRobotsTxt"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    "article.published": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * An article became readable (published, or restored from the trash while published); also article.updated
         * @description `article.published` and `article.updated` (a published article edited or a revision restored; an
         *     archived one when ARCHIVED_PUBLIC is on) carry the article's public representation, exactly as
         *     `GET /api/v1/articles/{slug}` renders it when the delivery is queued. If the article is no longer
         *     readable by then, `data` is `{id, slug}`.
         */
        post: operations["articlePublishedWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "article.unpublished": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A readable article was unpublished (or archived while ARCHIVED_PUBLIC is off); also article.deleted (moved to the trash)
         * @description `article.unpublished` (unpublished, or archived while `ARCHIVED_PUBLIC` is off) and `article.deleted`
         *     (moved to the trash): the article left the public API. `data` is `{id, slug}`; drop it from caches and
         *     search indexes.
         */
        post: operations["articleUnpublishedWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "article.withdrawn": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A readable article was withdrawn (killed); its URL now answers 410 with a tombstone
         * @description The article was withdrawn (`POST /api/v1/admin/articles/{id}/withdraw`): its URL now answers `410`
         *     with a tombstone. `data` is `{id, slug}`; replace the page with the tombstone.
         */
        post: operations["articleWithdrawnWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "section.updated": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * section.created, section.updated, section.renamed, section.moved, section.deleted (data is `{id}` for deleted)
         * @description `section.created`, `section.updated`, `section.renamed`, `section.moved` and `section.deleted`: `data` is
         *     the section (`{id}` only for `section.deleted`). Fronts, breadcrumbs and section pages may need rebuilding.
         */
        post: operations["sectionChangedWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "comment.created": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * comment.created (any status, including PENDING) and comment.approved
         * @description `comment.created` (any status, `PENDING` included, for moderation tools) and `comment.approved` (the
         *     comment is now public). `data` is the comment.
         */
        post: operations["commentWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "media.created": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * An image was uploaded
         * @description An image was uploaded (`POST /api/v1/admin/media`). `data` is `{id}`; read the record with
         *     `GET /api/v1/admin/media/{id}`.
         */
        post: operations["mediaCreatedWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "media.updated": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * An image's alt text, caption or credit changed
         * @description An image's alt text, caption or credit was changed (`PATCH /api/v1/admin/media/{id}`); the published
         *     articles showing it have been re-rendered. `data` is `{id}`; read the record with `GET /api/v1/admin/media/{id}`.
         */
        post: operations["mediaUpdatedWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "media.deleted": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * An image was deleted
         * @description An image was deleted. `data` is `{id}`; its file has been removed from storage (a CDN may still hold a copy).
         */
        post: operations["mediaDeletedWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    ping: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A test delivery (POST /api/v1/admin/webhooks/{id}/ping); data is `{endpointId}`
         * @description A test delivery sent by `POST /api/v1/admin/webhooks/{id}/ping`, to check that the receiver answers
         *     `2XX` and verifies the signature. `data` is `{endpointId}`; `type` is `ping`.
         */
        post: operations["pingDelivery"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /** @description JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/). */
        JsonFeed: {
            /** @constant */
            version: "https://jsonfeed.org/version/1.1";
            title: string;
            /** Format: uri */
            home_page_url?: string;
            /** Format: uri */
            feed_url?: string;
            description?: string;
            language?: string;
            /** Format: uri */
            icon?: string;
            authors?: components["schemas"]["JsonFeedAuthor"][];
            items: {
                id: string;
                /** Format: uri */
                url: string;
                title: string;
                summary?: string;
                content_html: string;
                /** Format: uri */
                image?: string;
                /** Format: date-time */
                date_published: string;
                /** Format: date-time */
                date_modified: string;
                authors?: components["schemas"]["JsonFeedAuthor"][];
                tags?: string[];
                language?: string;
                attachments?: {
                    /** Format: uri */
                    url: string;
                    mime_type: string;
                    title?: string;
                }[];
            }[];
        };
        JsonFeedAuthor: {
            name: string;
            /** Format: uri */
            url?: string;
        };
        /** @description The holder of an article's edit lock. */
        LockedBy: {
            id: components["schemas"]["Id"];
            name: string;
            since: components["schemas"]["Timestamp"];
            expiresAt: components["schemas"]["Timestamp"];
        };
        EditLock: {
            articleId: components["schemas"]["Id"];
            lockedBy: components["schemas"]["LockedBy"];
            /** @description With `force=true`, the editor the lock was taken from; else null. */
            takenFrom: null | {
                id: components["schemas"]["Id"];
                name: string;
            };
        };
        LiveEntryCreate: {
            title?: string | null;
            /** @description HTML, sanitized like an article body. */
            body: string;
            /** @description A key moment of the story (readers' "key events" list). Default: `false` (the server fills it in when the field is left out). */
            keyEvent?: boolean;
            /** @description Shown at the top by the reader's page. Default: `false` (the server fills it in when the field is left out). */
            pinned?: boolean;
        };
        LiveEntryUpdate: {
            title?: string | null;
            body?: string;
            keyEvent?: boolean;
            pinned?: boolean;
        };
        AdminLiveEntry: {
            readonly id: components["schemas"]["Id"];
            articleId: components["schemas"]["Id"];
            title: string | null;
            body: string;
            keyEvent: boolean;
            pinned: boolean;
            author: null | {
                id: components["schemas"]["Id"];
                name: string;
            };
            /** @description The entry's version (its ETag). */
            readonly version: number;
            deleted: boolean;
            readonly createdAt: components["schemas"]["Timestamp"];
            readonly updatedAt: components["schemas"]["Timestamp"];
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "id": 42,
         *           "articleId": 7,
         *           "title": "Polls close",
         *           "body": "<p>Counting has begun in all twelve districts.</p>",
         *           "keyEvent": true,
         *           "pinned": false,
         *           "author": {
         *             "id": 2,
         *             "name": "Liu Fang"
         *           },
         *           "version": 1,
         *           "deleted": false,
         *           "createdAt": "2013-06-08T12:00:05.000Z",
         *           "updatedAt": "2013-06-08T12:00:05.000Z"
         *         },
         *         {
         *           "id": 41,
         *           "articleId": 7,
         *           "title": null,
         *           "body": "",
         *           "keyEvent": false,
         *           "pinned": false,
         *           "author": {
         *             "id": 3,
         *             "name": "Chen Yuting"
         *           },
         *           "version": 2,
         *           "deleted": true,
         *           "createdAt": "2013-06-08T11:40:00.000Z",
         *           "updatedAt": "2013-06-08T11:42:30.000Z"
         *         }
         *       ],
         *       "meta": {
         *         "nextCursor": "eyJpZCI6NDF9"
         *       }
         *     }
         */
        AdminLiveEntryList: {
            data: components["schemas"]["AdminLiveEntry"][];
            meta: components["schemas"]["PageMeta"];
        };
        PublicLiveEntry: {
            id: components["schemas"]["Id"];
            title: string | null;
            /** @description Sanitized HTML. */
            body: string;
            keyEvent: boolean;
            pinned: boolean;
            author: null | {
                name: string;
            };
            /** @constant */
            deleted: false;
            createdAt: components["schemas"]["Timestamp"];
            updatedAt: components["schemas"]["Timestamp"];
        };
        /** @description A deleted entry (in `since` answers and the event stream). */
        LiveEntryTombstone: {
            id: components["schemas"]["Id"];
            /** @constant */
            deleted: true;
            updatedAt: components["schemas"]["Timestamp"];
        };
        PublicLiveEntryList: {
            data: (components["schemas"]["PublicLiveEntry"] | components["schemas"]["LiveEntryTombstone"])[];
            meta: {
                /** @description The newest change of the article's entries; poll with `since=<cursor>`. */
                cursor: string;
                /** @description The next, older page (`before=<nextCursor>`); null at the end and for `since`. */
                nextCursor: string | null;
                /** @description `since` only: more changed than `limit`; reload without `since`. */
                truncated: boolean;
            };
        };
        /**
         * @description An RFC 9457 problem detail.
         * @example {
         *       "type": "urn:dateline:problem:validation-error",
         *       "title": "Bad Request",
         *       "status": 400,
         *       "detail": "The request is invalid.",
         *       "instance": "/api/v1/articles?limit=500",
         *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55",
         *       "errors": [
         *         {
         *           "path": "query.limit",
         *           "message": "Too big: expected number to be <=100"
         *         }
         *       ]
         *     }
         */
        Problem: {
            /** @description `urn:dateline:problem:<code>`, for example `urn:dateline:problem:validation-error`. */
            type: string;
            /** @description The HTTP reason phrase of the status. */
            title: string;
            status: number;
            /** @description A human-readable explanation. */
            detail: string;
            /** @description The request path and query. */
            instance: string;
            /** @description Same as the `X-Request-Id` response header. */
            requestId: string;
            /** @description Field errors (validation and uniqueness problems only). */
            errors?: components["schemas"]["FieldError"][];
            /** @description `invalid-transition` only: the article's status. */
            currentStatus?: components["schemas"]["ArticleStatus"];
            /** @description `invalid-transition` only: the status the action leads to. */
            requestedStatus?: components["schemas"]["ArticleStatus"];
            /** @description `precondition-failed` only: the ETag of the current version. */
            currentEtag?: string;
            /** @description `precondition-failed` only: the current representation of the resource (article, section or editor). */
            current?: Record<string, never>;
            /** @description `locked` only (`423`): who holds the article's edit lock. */
            lockedBy?: components["schemas"]["LockedBy"];
        };
        /**
         * @example {
         *       "path": "body.tags.1",
         *       "message": "Use lower-case letters, digits and single hyphens."
         *     }
         */
        FieldError: {
            /** @description Dotted path of the field, prefixed with `params`, `query` or `body`; `(root)` for the whole input. */
            path: string;
            message: string;
        };
        /**
         * @description Lower-case letters, digits and single hyphens.
         * @example foreign-affairs
         */
        Slug: string;
        Id: number;
        /**
         * Format: date-time
         * @example 2013-06-08T06:55:00.000Z
         */
        Timestamp: string;
        /**
         * @description `LIVE`: live coverage, told in entries (`/articles/{slug}/entries`).
         * @example STORY
         * @enum {string}
         */
        ArticleKind: "STORY" | "ANALYSIS" | "OPINION" | "PHOTO_STORY" | "LIVE";
        /**
         * @description What a withdrawn article's URL answers (`410 Gone`).
         * @example {
         *       "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *       "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *       "withdrawnAt": "2013-06-08T09:30:00.000Z",
         *       "reason": "This article has been withdrawn for legal reasons."
         *     }
         */
        ArticleTombstone: {
            slug: string;
            headline: string;
            /** Format: date-time */
            withdrawnAt: string;
            /** @description The public reason the desk gave. */
            reason: string;
        };
        /**
         * @example {
         *       "reason": "This article has been withdrawn for legal reasons."
         *     }
         */
        WithdrawArticleRequest: {
            /** @description The public reason (the tombstone shows it). */
            reason: string;
        };
        /**
         * @description `WITHDRAWN`: killed (`POST /api/v1/admin/articles/{id}/withdraw`); its URL answers `410` with a tombstone.
         * @example PUBLISHED
         * @enum {string}
         */
        ArticleStatus: "DRAFT" | "IN_REVIEW" | "SCHEDULED" | "PUBLISHED" | "ARCHIVED" | "WITHDRAWN";
        /**
         * @example APPROVED
         * @enum {string}
         */
        CommentStatus: "PENDING" | "APPROVED" | "REJECTED" | "SPAM";
        /**
         * @example EDITOR
         * @enum {string}
         */
        Role: "ADMIN" | "EDITOR" | "WRITER";
        /**
         * @example {
         *       "nextCursor": "eyJ0IjoiMjAxMy0wNi0wOFQwNjo1NTowMC4wMDBaIiwiaWQiOjF9"
         *     }
         */
        PageMeta: {
            /** @description Cursor of the next page; `null` on the last page. */
            nextCursor: string | null;
        };
        /**
         * @example {
         *       "nextCursor": "eyJzIjoiciIsInIiOjAuMDcsImlkIjo0Mn0",
         *       "total": 37,
         *       "totalIsEstimate": false,
         *       "sort": "relevance"
         *     }
         */
        SearchMeta: {
            /** @description Cursor of the next page; `null` on the last page. */
            nextCursor: string | null;
            /** @description Matches, counted up to 200. */
            total: number;
            /** @description `true` when `total` reached the cap: there may be more matches. */
            totalIsEstimate: boolean;
            /**
             * @description Public search only (`GET /api/v1/search`, always there): the order of `data`.
             * @enum {string}
             */
            sort?: "relevance" | "newest";
            /** @description Editor API only: per article of `data` (same order), its rank and snippet. */
            hits?: {
                id: components["schemas"]["Id"];
                rank: number;
                snippet: string;
            }[];
        };
        SearchHit: {
            article: components["schemas"]["PublicArticleListItem"];
            /**
             * @description Up to two fragments of the body text around the matches (joined by " … "), or its beginning when
             *     only the headline, summary or tags matched (or the match lies past the first 600 characters). HTML: the text is escaped and each match is wrapped
             *     in `<mark>…</mark>`; no other element appears.
             * @example Residents asked about <mark>flooding</mark> near the river bank.
             */
            snippet: string;
            /**
             * @description The relevance score (ts_rank_cd, weighted and length-normalized); comparable within one query only.
             * @example 0.0721
             */
            rank: number;
        };
        SearchResults: {
            data: components["schemas"]["SearchHit"][];
            meta: components["schemas"]["SearchMeta"];
        };
        /**
         * @example {
         *       "slug": "foreign-affairs",
         *       "name": "Foreign Affairs"
         *     }
         */
        SectionRef: {
            slug: string;
            name: string;
        };
        /**
         * @example {
         *       "slug": "diplomacy",
         *       "name": "Diplomacy"
         *     }
         */
        TagRef: {
            slug: string;
            name: string;
        };
        /**
         * @example {
         *       "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *       "language": "en",
         *       "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *       "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *       "kind": "STORY",
         *       "publishedAt": "2013-06-08T06:55:00.000Z",
         *       "publishedAtLocal": "14:55, June 08, 2013",
         *       "section": {
         *         "slug": "foreign-affairs",
         *         "name": "Foreign Affairs"
         *       },
         *       "leadImage": {
         *         "id": 12,
         *         "url": "/media/2013/06/3f2b8c1e-9a4d-4e7b-8f00-6b1d2c3e4f5a.jpg",
         *         "width": 1600,
         *         "height": 1067,
         *         "mimeType": "image/jpeg",
         *         "caption": "Delegates arrive for the opening session of the forum.",
         *         "credit": "Liu Fang / Dateline",
         *         "alt": "Delegates walking up the steps of the conference hall."
         *       }
         *     }
         */
        PublicArticleListItem: {
            slug: string;
            headline: string;
            summary: string;
            kind: components["schemas"]["ArticleKind"];
            /** @description The article's effective language (for a `lang` attribute in a list of several languages). */
            language: components["schemas"]["LanguageTag"];
            /**
             * Format: date-time
             * @description Set for every published article.
             */
            publishedAt: string | null;
            /**
             * @description `publishedAt` in the site's time zone (`SITE_TIMEZONE`), as the page prints it: `HH:mm, <Month> DD, YYYY`.
             * @example 14:55, June 08, 2013
             */
            publishedAtLocal: string | null;
            section: components["schemas"]["SectionRef"];
            /** @description The article's lead image; `null` when it has none. */
            leadImage: components["schemas"]["PublicImage"] | null;
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *           "language": "en",
         *           "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *           "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *           "kind": "STORY",
         *           "publishedAt": "2013-06-08T06:55:00.000Z",
         *           "publishedAtLocal": "14:55, June 08, 2013",
         *           "section": {
         *             "slug": "foreign-affairs",
         *             "name": "Foreign Affairs"
         *           },
         *           "leadImage": null
         *         },
         *         {
         *           "slug": "consular-service-centre-opens-in-kunming-to-ease-visa-queues",
         *           "language": "en",
         *           "headline": "Consular service centre opens in Kunming to ease visa queues",
         *           "summary": "A new one-stop centre will handle visa and document services for residents and visitors from neighbouring countries.",
         *           "kind": "STORY",
         *           "publishedAt": "2013-06-05T03:40:00.000Z",
         *           "publishedAtLocal": "11:40, June 05, 2013",
         *           "section": {
         *             "slug": "foreign-affairs",
         *             "name": "Foreign Affairs"
         *           },
         *           "leadImage": null
         *         }
         *       ],
         *       "meta": {
         *         "nextCursor": "eyJ0IjoiMjAxMy0wNi0wNVQwMzo0MDowMC4wMDBaIiwiaWQiOjN9"
         *       }
         *     }
         */
        PublicArticleList: {
            data: components["schemas"]["PublicArticleListItem"][];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @example {
         *       "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *       "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *       "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *       "dateline": "CHENGDU",
         *       "source": "Meridian News Agency",
         *       "byline": null,
         *       "body": "<p>Delegations from fourteen partner cities across Asia and Europe opened the Western Gateway Cooperation Forum on Saturday, pledging to expand freight links, student exchanges and joint trade fairs over the next three years.</p>\n<p>The forum closes on Monday with a visit to a local high-tech development zone.</p>",
         *       "bodyText": "Delegations from fourteen partner cities across Asia and Europe opened the Western Gateway Cooperation Forum on Saturday, pledging to expand freight links, student exchanges and joint trade fairs over the next three years.\n\nThe forum closes on Monday with a visit to a local high-tech development zone.",
         *       "kind": "STORY",
         *       "publishedAt": "2013-06-08T06:55:00.000Z",
         *       "publishedAtLocal": "14:55, June 08, 2013",
         *       "updatedAt": "2013-06-08T07:12:31.000Z",
         *       "section": {
         *         "slug": "foreign-affairs",
         *         "name": "Foreign Affairs"
         *       },
         *       "breadcrumb": [
         *         {
         *           "slug": "english",
         *           "name": "English"
         *         },
         *         {
         *           "slug": "foreign-affairs",
         *           "name": "Foreign Affairs"
         *         }
         *       ],
         *       "editors": [
         *         {
         *           "name": "Liu Fang"
         *         },
         *         {
         *           "name": "Zhao Min"
         *         }
         *       ],
         *       "tags": [
         *         {
         *           "slug": "diplomacy",
         *           "name": "Diplomacy"
         *         },
         *         {
         *           "slug": "sichuan",
         *           "name": "Sichuan"
         *         },
         *         {
         *           "slug": "trade",
         *           "name": "Trade"
         *         }
         *       ],
         *       "leadImage": {
         *         "id": 12,
         *         "url": "/media/2013/06/3f2b8c1e-9a4d-4e7b-8f00-6b1d2c3e4f5a.jpg",
         *         "width": 1600,
         *         "height": 1067,
         *         "mimeType": "image/jpeg",
         *         "caption": "Delegates arrive for the opening session of the forum.",
         *         "credit": "Liu Fang / Dateline",
         *         "alt": "Delegates walking up the steps of the conference hall."
         *       },
         *       "gallery": [],
         *       "related": [
         *         {
         *           "slug": "analysis-why-inland-cities-are-courting-partners-abroad",
         *           "headline": "Analysis: Why inland cities are courting partners abroad",
         *           "kind": "ANALYSIS",
         *           "automatic": false
         *         }
         *       ],
         *       "commentCount": 3,
         *       "commentsOpen": true,
         *       "authors": [],
         *       "corrections": [],
         *       "links": {
         *         "canonical": "https://www.dateline.example/foreign-affairs/2013/06/08/western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *         "email": "mailto:?subject=Western%20Gateway%20Forum%20opens%20with%20pledges%20on%20trade%20and%20cultural%20exchanges&body=Delegates%20from%20fourteen%20partner%20cities%20agreed%20to%20expand%20freight%20links%2C%20student%20exchanges%20and%20joint%20trade%20fairs%20at%20the%20opening%20of%20a%20three-day%20forum.%0A%0Ahttps%3A%2F%2Fwww.dateline.example%2Fforeign-affairs%2F2013%2F06%2F08%2Fwestern-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *         "print": "/api/v1/articles/western-gateway-forum-opens-with-pledges-on-trade-and-exchanges/print"
         *       },
         *       "language": "en",
         *       "alternates": [
         *         {
         *           "language": "en",
         *           "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *           "url": "https://www.dateline.example/foreign-affairs/2013/06/08/western-gateway-forum-opens-with-pledges-on-trade-and-exchanges"
         *         },
         *         {
         *           "language": "zh-Hans",
         *           "slug": "western-gateway-forum-opens-zh",
         *           "url": "https://www.dateline.example/zh/2013/06/08/western-gateway-forum-opens-zh"
         *         },
         *         {
         *           "language": "x-default",
         *           "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *           "url": "https://www.dateline.example/foreign-affairs/2013/06/08/western-gateway-forum-opens-with-pledges-on-trade-and-exchanges"
         *         }
         *       ],
         *       "jsonLd": {
         *         "@context": "https://schema.org",
         *         "@type": "NewsArticle",
         *         "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *         "description": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *         "datePublished": "2013-06-08T06:55:00.000Z",
         *         "dateModified": "2013-06-08T06:55:00.000Z",
         *         "dateline": "CHENGDU",
         *         "author": [
         *           {
         *             "@type": "Organization",
         *             "name": "Meridian News Agency"
         *           }
         *         ],
         *         "publisher": {
         *           "@type": "Organization",
         *           "name": "Dateline",
         *           "url": "https://www.dateline.example",
         *           "logo": {
         *             "@type": "ImageObject",
         *             "url": "https://www.dateline.example/logo.png"
         *           }
         *         },
         *         "image": [
         *           "https://api.dateline.example/media/2013/06/3f2b8c1e-9a4d-4e7b-8f00-6b1d2c3e4f5a.jpg"
         *         ],
         *         "articleSection": "Foreign Affairs",
         *         "inLanguage": "en",
         *         "mainEntityOfPage": {
         *           "@type": "WebPage",
         *           "@id": "https://www.dateline.example/foreign-affairs/2013/06/08/western-gateway-forum-opens-with-pledges-on-trade-and-exchanges"
         *         },
         *         "url": "https://www.dateline.example/foreign-affairs/2013/06/08/western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *         "isAccessibleForFree": true,
         *         "keywords": [
         *           "Diplomacy",
         *           "Sichuan",
         *           "Trade"
         *         ]
         *       }
         *     }
         */
        PublicArticle: {
            slug: string;
            headline: string;
            summary: string;
            /** @description Place line, for example `CHENGDU`. */
            dateline: string | null;
            /** @description Agency or outlet the story comes from. */
            source: string | null;
            byline: string | null;
            /**
             * @description Credited author profiles (issue 12), in byline order, each with a role and the author page's URL; empty
             *     when none are credited (wire copy keeps its free-text `byline`).
             */
            authors: components["schemas"]["PublicAuthorCredit"][];
            /** @description Corrections, clarifications and retractions, newest first (empty when none). */
            corrections: components["schemas"]["PublicCorrection"][];
            /** @description Sanitized HTML. */
            body: string;
            /** @description Plain text of the body, paragraphs separated by blank lines. */
            bodyText: string;
            kind: components["schemas"]["ArticleKind"];
            /**
             * Format: date-time
             * @description Set for every published article; `null` only in the preview of an article never published.
             */
            publishedAt: string | null;
            /**
             * @description `publishedAt` in the site's time zone (`SITE_TIMEZONE`), as the page prints it: `HH:mm, <Month> DD, YYYY`; `null` when `publishedAt` is.
             * @example 14:55, June 08, 2013
             */
            publishedAtLocal: string | null;
            /**
             * Format: date-time
             * @description The editorial modification time: moves only when an editor marks an update as significant
             *     (`significantUpdate: true` on publish or on the update of a published article); `publishedAt` until
             *     then. Typo fixes and other edits leave it alone (the system's own modification time is not public).
             *     JSON-LD `dateModified`, feeds and sitemaps use it.
             */
            updatedAt: string;
            section: components["schemas"]["SectionRef"];
            /** @description Sections from the root down to the article's own section. */
            breadcrumb: components["schemas"]["SectionRef"][];
            /** @description Credited desk editors, in credit order. */
            editors: {
                name: string;
            }[];
            tags: components["schemas"]["TagRef"][];
            /** @description The lead image; `null` when the article has none. */
            leadImage: components["schemas"]["PublicImage"] | null;
            /** @description The photo gallery of a `PHOTO_STORY`, in order (empty for other kinds). */
            gallery: {
                image: components["schemas"]["PublicImage"];
                /** @description The gallery caption, or the image's own caption when the gallery gives none. */
                caption: string;
            }[];
            /**
             * @description "We Recommend": the published articles the editors picked, in their order (`automatic: false`); when
             *     they picked none, up to six published stories sharing a tag, then from the same section, newest first
             *     (`automatic: true`).
             */
            related: {
                slug: string;
                headline: string;
                kind: components["schemas"]["ArticleKind"];
                /** @description `true` when chosen by the server rather than by the editors. */
                automatic: boolean;
            }[];
            /** @description Number of approved comments. */
            commentCount: number;
            /** @description Whether readers may comment (the article is `PUBLISHED` and comments are not closed). */
            commentsOpen: boolean;
            /** @description Links for sharing and printing. */
            links: {
                /** @description The article's URL on the public site (`PUBLIC_SITE_URL` plus `PERMALINK_PATTERN`). */
                canonical: string;
                /** @description A `mailto:` link with the headline as subject and the summary and canonical URL as body. */
                email: string;
                /** @description URL of the print version, `GET /api/v1/articles/{slug}/print`. */
                print: string;
            };
            /**
             * @description The article's effective language (BCP 47): its own, else its section's (or the nearest ancestor
             *     section's that has one), else `SITE_LANGUAGE`. For the page's `<html lang>`.
             */
            language: components["schemas"]["LanguageTag"];
            /**
             * @description The same story in other languages (its translation group), for `<link rel="alternate" hreflang>`: the
             *     article itself and each published translation (one per language), sorted by language, then an
             *     `x-default` entry repeating the one in `SITE_LANGUAGE` (else the article itself). Reciprocal: each
             *     listed article lists this one. Empty when the article has no published translation.
             */
            alternates: components["schemas"]["AlternateLink"][];
            jsonLd: components["schemas"]["NewsArticleJsonLd"];
        };
        /**
         * @description A BCP 47 language tag as newsrooms use them: a 2–3 letter language, optional 4-letter script, optional
         *     region (2 letters or 3 digits) and variants. Normalized on input: language lower case, script title case,
         *     region upper case (`zh-hans-cn` is stored as `zh-Hans-CN`).
         * @example zh-Hans
         */
        LanguageTag: string;
        AlternateLink: {
            /**
             * @description A BCP 47 tag (the version's effective language), or `x-default`.
             * @example zh-Hans
             */
            language: string;
            /** @description The version's slug (`GET /api/v1/articles/{slug}`). */
            slug: string;
            /**
             * Format: uri
             * @description The version's absolute permalink (`PUBLIC_SITE_URL` plus `PERMALINK_PATTERN`).
             */
            url: string;
        };
        /**
         * @description schema.org `NewsArticle` for the article page, to paste into a `script` element of type `application/ld+json`.
         *     Rendered at read time from the article and the configuration (`PUBLICATION_NAME`, `PUBLISHER_LOGO_URL`,
         *     `PUBLIC_SITE_URL`, `PUBLIC_API_URL`, `MEDIA_BASE_URL`), so a change of configuration applies at once.
         *     It is plain JSON: when writing it into HTML, escape `<` (for example
         *     `JSON.stringify(jsonLd).replace(/</g, "\\u003c")`) so that a closing script tag inside a headline or
         *     summary cannot end the script element. `headline` is cut to 110 characters (the editor API warns about longer
         *     headlines). `author`: the credited author profiles as `Person`s with `name` and `url` (their page);
         *     without any, one `Person` per name in the byline (split at commas, `and`, `&`); without a
         *     byline the wire agency (`source`) as an `Organization`; without either the publication itself. URLs
         *     are absolute: relative media URLs (no `MEDIA_BASE_URL`) are resolved against `PUBLIC_API_URL`, else
         *     `PUBLIC_SITE_URL`.
         */
        NewsArticleJsonLd: {
            /** @constant */
            "@context": "https://schema.org";
            /**
             * @description `LiveBlogPosting` for a `LIVE` article.
             * @enum {string}
             */
            "@type": "NewsArticle" | "LiveBlogPosting";
            /**
             * Format: date-time
             * @description `LIVE` articles only: when the coverage started (`datePublished`).
             */
            coverageStartTime?: string;
            headline: string;
            /** @description The summary (absent when empty). */
            description?: string;
            /**
             * Format: date-time
             * @description `publishedAt` (absent only in the preview of an article never published).
             */
            datePublished?: string;
            /**
             * Format: date-time
             * @description The editorial `updatedAt`.
             */
            dateModified: string;
            dateline?: string;
            author: {
                /** @enum {unknown} */
                "@type": "Person" | "Organization";
                name: string;
                /** Format: uri */
                url?: string;
            }[];
            publisher: {
                /** @constant */
                "@type": "Organization";
                /** @description `PUBLICATION_NAME`. */
                name: string;
                /** Format: uri */
                url: string;
                /** @description Present when `PUBLISHER_LOGO_URL` is set. */
                logo?: {
                    /** @constant */
                    "@type": "ImageObject";
                    /** Format: uri */
                    url: string;
                };
            };
            /** @description Absolute URLs of the lead image and the gallery images (absent when there are none). */
            image?: string[];
            /** @description The section's name. */
            articleSection: string;
            /** @description The effective language. */
            inLanguage: string;
            mainEntityOfPage: {
                /** @constant */
                "@type": "WebPage";
                /**
                 * Format: uri
                 * @description The permalink.
                 */
                "@id": string;
            };
            /**
             * Format: uri
             * @description The permalink.
             */
            url: string;
            /** @constant */
            isAccessibleForFree: true;
            /** @description The article's corrections, newest first (absent when there are none). */
            correction?: {
                /** @constant */
                "@type": "CorrectionComment";
                text: string;
                /** Format: date-time */
                datePublished: string;
            }[];
            /** @description The tags' names (absent when there are none). */
            keywords?: string[];
        };
        /**
         * @example {
         *       "slug": "china",
         *       "language": "en",
         *       "name": "China",
         *       "description": "News from across the country, from major cities to rural counties.",
         *       "children": [
         *         {
         *           "slug": "china-regions",
         *           "language": "en",
         *           "name": "Regions",
         *           "description": "Reporting from the provinces, with a focus on the west and southwest.",
         *           "children": []
         *         }
         *       ]
         *     }
         */
        PublicSectionNode: {
            slug: string;
            name: string;
            description: string;
            /**
             * @description The section's effective language: its own, else its nearest ancestor's, else `SITE_LANGUAGE` (what its
             *     articles without a language of their own are in). An edition's page can use it for `<html lang>`.
             */
            language: components["schemas"]["LanguageTag"];
            children: components["schemas"]["PublicSectionNode"][];
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "slug": "english",
         *           "language": "en",
         *           "name": "English",
         *           "description": "The English-language edition of the portal.",
         *           "children": [
         *             {
         *               "slug": "foreign-affairs",
         *               "language": "en",
         *               "name": "Foreign Affairs",
         *               "description": "Diplomatic visits, international forums and exchanges between cities and countries.",
         *               "children": []
         *             },
         *             {
         *               "slug": "china",
         *               "language": "en",
         *               "name": "China",
         *               "description": "News from across the country, from major cities to rural counties.",
         *               "children": [
         *                 {
         *                   "slug": "china-regions",
         *                   "language": "en",
         *                   "name": "Regions",
         *                   "description": "Reporting from the provinces, with a focus on the west and southwest.",
         *                   "children": []
         *                 }
         *               ]
         *             }
         *           ]
         *         }
         *       ]
         *     }
         */
        PublicSectionTree: {
            /** @description Top-level sections. */
            data: components["schemas"]["PublicSectionNode"][];
        };
        /**
         * @example {
         *       "slug": "china",
         *       "language": "en",
         *       "name": "China",
         *       "description": "News from across the country, from major cities to rural counties.",
         *       "breadcrumb": [
         *         {
         *           "slug": "english",
         *           "name": "English"
         *         },
         *         {
         *           "slug": "china",
         *           "name": "China"
         *         }
         *       ],
         *       "children": [
         *         {
         *           "slug": "china-regions",
         *           "name": "Regions"
         *         }
         *       ]
         *     }
         */
        PublicSection: {
            slug: string;
            name: string;
            description: string;
            /**
             * @description The section's effective language: its own, else its nearest ancestor's, else `SITE_LANGUAGE` (what its
             *     articles without a language of their own are in). An edition's page can use it for `<html lang>`.
             */
            language: components["schemas"]["LanguageTag"];
            /** @description Sections from the root down to this one (inclusive). */
            breadcrumb: components["schemas"]["SectionRef"][];
            /** @description Direct child sections, ordered by position, then name. */
            children: components["schemas"]["SectionRef"][];
        };
        /**
         * @example {
         *       "id": 1,
         *       "name": "Tomasz K.",
         *       "body": "Good to see the student exchanges mentioned. Our university took part in a summer school two years ago and it was a great experience.",
         *       "createdAt": "2013-06-08T09:14:02.000Z",
         *       "replies": []
         *     }
         */
        PublicComment: {
            id: number;
            /** @description The name the reader gave. */
            name: string;
            /** @description Plain text. */
            body: string;
            createdAt: components["schemas"]["Timestamp"];
            /** @description Approved replies, oldest first (one level; replies have no replies). */
            replies: components["schemas"]["PublicCommentReply"][];
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "id": 1,
         *           "name": "Tomasz K.",
         *           "body": "Good to see the student exchanges mentioned. Our university took part in a summer school two years ago and it was a great experience.",
         *           "createdAt": "2013-06-08T09:14:02.000Z",
         *           "replies": [
         *             {
         *               "id": 3,
         *               "name": "Ana",
         *               "body": "Same here, it was one of the best weeks of my studies.",
         *               "createdAt": "2013-06-08T09:40:11.000Z"
         *             }
         *           ]
         *         },
         *         {
         *           "id": 2,
         *           "name": "Mei",
         *           "body": "Would be helpful to know which cities are in the group of fourteen. Is there a list anywhere?",
         *           "createdAt": "2013-06-08T10:02:45.000Z",
         *           "replies": []
         *         }
         *       ],
         *       "meta": {
         *         "nextCursor": null
         *       }
         *     }
         */
        PublicCommentList: {
            data: components["schemas"]["PublicComment"][];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @example {
         *       "name": "Mei",
         *       "body": "Would be helpful to know which cities are in the group of fourteen. Is there a list anywhere?"
         *     }
         */
        CommentSubmission: {
            /** @description Shown with the comment. Trimmed; must not be blank. */
            name: string;
            /** @description Plain text. Trimmed; must not be blank. At most `COMMENT_MAX_LINKS` links. */
            body: string;
            /** @description Id of the comment this replies to; must be an approved top-level comment of the same article. */
            parentId?: number;
            /** @description Honeypot for bots; leave it out or send an empty string. Any other value is rejected (`400`). */
            website?: string;
        };
        /**
         * @example {
         *       "id": 57,
         *       "status": "PENDING"
         *     }
         */
        CommentReceipt: {
            id: number;
            /**
             * @description `PENDING` (waits for moderation), or `APPROVED` when the server runs with `COMMENTS_AUTO_APPROVE=true`.
             * @enum {string}
             */
            status: "PENDING" | "APPROVED";
        };
        /**
         * @example {
         *       "email": "liufang@dateline.local",
         *       "password": "dateline-demo-desk"
         *     }
         */
        LoginRequest: {
            /** @description Case-insensitive; surrounding spaces are ignored. */
            email: string;
            /** Format: password */
            password: string;
        };
        /**
         * @example {
         *       "accessToken": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzaWQiOiI1YjFlOGQ0Ni0wYzVmLTQ4ZTgtOWE2OC0zYzNkZTFhZjI3YjAiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMDkwMCwiYXVkIjoiZGF0ZWxpbmUtYWRtaW4iLCJpc3MiOiJkYXRlbGluZSIsInN1YiI6IjIifQ.c2lnbmF0dXJl",
         *       "tokenType": "Bearer",
         *       "expiresIn": 900,
         *       "refreshToken": "3q2-7wEAAABkYXRlbGluZS1yZWZyZXNoLXRva2VuLWV4YW1wbGU",
         *       "refreshExpiresIn": 2592000
         *     }
         */
        TokenPair: {
            /** @description HS256 JWT; send as `Authorization: Bearer <accessToken>`. */
            accessToken: string;
            /** @constant */
            tokenType: "Bearer";
            /** @description Lifetime of the access token in seconds (`JWT_TTL_SECONDS`, default 900). */
            expiresIn: number;
            /** @description Opaque, single-use token for `POST /api/v1/auth/refresh` and `POST /api/v1/auth/logout`. */
            refreshToken: string;
            /** @description Lifetime of the refresh token in seconds (`REFRESH_TTL_SECONDS`, default 2592000, 30 days). */
            refreshExpiresIn: number;
        };
        /**
         * @description `refreshToken` is the one answered by `POST /api/v1/auth/login` (or the last refresh): paste it in place
         *     of the example, which is only its shape.
         * @example {
         *       "refreshToken": "3q2-7wEAAABkYXRlbGluZS1yZWZyZXNoLXRva2VuLWV4YW1wbGU"
         *     }
         */
        RefreshRequest: {
            refreshToken: string;
        };
        /**
         * @example {
         *       "currentPassword": "dateline-demo-desk",
         *       "newPassword": "a-much-longer-passphrase"
         *     }
         */
        PasswordChange: {
            /** Format: password */
            currentPassword: string;
            /** Format: password */
            newPassword: string;
        };
        /**
         * @description An IPTC ninjs item (1.x, 2.x or 3.x). Only `uri` is required by ninjs; Dateline also needs a headline
         *     unless the item is canceled. Properties not listed are accepted and kept as received.
         */
        NinjsIngestItem: {
            uri: string;
            version?: string | number;
            type?: string;
            /** Format: date-time */
            firstCreated?: string;
            /** Format: date-time */
            firstcreated?: string;
            /** Format: date-time */
            versionCreated?: string;
            /** Format: date-time */
            versioncreated?: string;
            /** Format: date-time */
            embargoedUntil?: string;
            /** Format: date-time */
            embargoed?: string;
            /** @enum {string} */
            pubStatus?: "usable" | "withheld" | "canceled";
            /** @enum {string} */
            pubstatus?: "usable" | "withheld" | "canceled";
            /** @description ninjs 1.x */
            headline?: string;
            headlines?: components["schemas"]["NinjsText"][];
            /** @description ninjs 1.x */
            body_html?: string;
            /** @description ninjs 1.x */
            body_text?: string;
            bodies?: components["schemas"]["NinjsText"][];
            descriptions?: components["schemas"]["NinjsText"][];
            located?: string;
            by?: string;
            byline?: string;
            copyrightHolder?: string;
            copyrightholder?: string;
            language?: string;
            subjects?: Record<string, never>[];
            subject?: Record<string, never>[];
            /** @description Pictures and other associated objects (3.x an array, 2.x an object by name). */
            associations?: unknown[] | Record<string, never>;
        } & {
            [key: string]: unknown;
        };
        NinjsText: {
            role?: string;
            contentType?: string;
            /** @description ninjs 2.x spelling */
            contenttype?: string;
            value: string;
        } & {
            [key: string]: unknown;
        };
        IngestResult: {
            /** @enum {string} */
            outcome: "created" | "updated" | "unchanged" | "canceled";
            article: components["schemas"]["AdminArticle"];
            /** @description The agency item the article is made from, as last ingested. */
            wire: {
                uri: string;
                version: string | null;
                /** Format: date-time */
                firstCreated: string | null;
                /** Format: date-time */
                versionCreated: string | null;
                /** @enum {string} */
                pubStatus: "usable" | "withheld" | "canceled";
                /** Format: date-time */
                embargoedUntil: string | null;
                ingestCount: number;
                /** Format: date-time */
                receivedAt: string;
            };
            /** @description Pictures named in the item's `associations` (not fetched). */
            pictures: {
                name: string;
                uri: string | null;
                headline: string | null;
            }[];
        };
        /**
         * @description A published article as an IPTC ninjs 3.1 item (the complete rules are the IPTC's
         *     http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json). `uri` is the article's permalink; an article made
         *     from agency copy names the agency's item in `altIds` (roles `agency-uri`, `agency-version`), and the
         *     agency is its `copyrightHolder`. `bodies`: the sanitized HTML (`text/html`, role `main`) and its plain text.
         */
        NinjsItem: {
            /** Format: uri */
            uri: string;
            standard: {
                /** @constant */
                name?: "ninjs";
                version?: string;
                /** Format: uri */
                schema?: string;
            };
            /** @constant */
            type: "text";
            /** @enum {string} */
            representationType?: "full" | "partial";
            /** Format: date-time */
            firstCreated?: string;
            /** Format: date-time */
            versionCreated: string;
            /** @enum {string} */
            pubStatus: "usable" | "withheld" | "canceled";
            language: string;
            headlines: components["schemas"]["NinjsText"][];
            descriptions?: components["schemas"]["NinjsText"][];
            bodies: components["schemas"]["NinjsText"][];
            by?: string;
            located?: string;
            copyrightHolder: string;
            infoSources?: {
                name?: string;
                role?: string;
            }[];
            subjects?: {
                name?: string;
                literal?: string;
            }[];
            altIds?: {
                role?: string;
                value?: string;
            }[];
            associations?: Record<string, never>[];
        };
        /**
         * @example {
         *       "id": 1,
         *       "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *       "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *       "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *       "dateline": "CHENGDU",
         *       "source": "Meridian News Agency",
         *       "byline": null,
         *       "body": "<p>Delegations from fourteen partner cities across Asia and Europe opened the Western Gateway Cooperation Forum on Saturday, pledging to expand freight links, student exchanges and joint trade fairs over the next three years.</p>",
         *       "bodyText": "Delegations from fourteen partner cities across Asia and Europe opened the Western Gateway Cooperation Forum on Saturday, pledging to expand freight links, student exchanges and joint trade fairs over the next three years.",
         *       "kind": "STORY",
         *       "status": "PUBLISHED",
         *       "publishedAt": "2013-06-08T06:55:00.000Z",
         *       "scheduledAt": null,
         *       "reviewNote": null,
         *       "deletedAt": null,
         *       "lockedBy": null,
         *       "embargoedUntil": null,
         *       "withdrawnAt": null,
         *       "withdrawalReason": null,
         *       "withdrawnFrom": null,
         *       "authors": [],
         *       "commentsClosed": false,
         *       "editorialUpdatedAt": "2013-06-08T06:55:00.000Z",
         *       "language": null,
         *       "translationGroup": "tg-41",
         *       "warnings": [],
         *       "version": 5,
         *       "createdAt": "2013-06-08T05:30:12.000Z",
         *       "updatedAt": "2013-06-08T07:12:31.000Z",
         *       "section": {
         *         "id": 2,
         *         "slug": "foreign-affairs",
         *         "name": "Foreign Affairs"
         *       },
         *       "author": {
         *         "id": 1,
         *         "name": "Administrator"
         *       },
         *       "editors": [
         *         {
         *           "id": 2,
         *           "name": "Liu Fang"
         *         },
         *         {
         *           "id": 3,
         *           "name": "Zhao Min"
         *         }
         *       ],
         *       "tags": [
         *         {
         *           "slug": "diplomacy",
         *           "name": "Diplomacy"
         *         },
         *         {
         *           "slug": "sichuan",
         *           "name": "Sichuan"
         *         },
         *         {
         *           "slug": "trade",
         *           "name": "Trade"
         *         }
         *       ],
         *       "related": [
         *         {
         *           "id": 2,
         *           "slug": "analysis-why-inland-cities-are-courting-partners-abroad",
         *           "headline": "Analysis: Why inland cities are courting partners abroad",
         *           "kind": "ANALYSIS",
         *           "status": "PUBLISHED"
         *         },
         *         {
         *           "id": 4,
         *           "slug": "forum-delegates-to-tour-high-tech-zone-on-final-day",
         *           "headline": "Forum delegates to tour high-tech zone on final day",
         *           "kind": "STORY",
         *           "status": "DRAFT"
         *         }
         *       ],
         *       "leadImage": null,
         *       "gallery": []
         *     }
         */
        AdminArticle: {
            /** @description Credited author profiles, in byline order. */
            authors: {
                id: number;
                slug: string;
                name: string;
                role: components["schemas"]["AuthorRole"];
            }[];
            /** @description Who holds the advisory edit lock (`POST .../lock`); null when nobody does or it expired. */
            lockedBy: components["schemas"]["LockedBy"] | null;
            readonly id: number;
            slug: string;
            headline: string;
            summary: string;
            dateline: string | null;
            source: string | null;
            byline: string | null;
            /** @description Sanitized HTML. */
            body: string;
            /** @description Plain text of the body, paragraphs separated by blank lines. */
            bodyText: string;
            kind: components["schemas"]["ArticleKind"];
            status: components["schemas"]["ArticleStatus"];
            /**
             * Format: date-time
             * @description `null` until first published; kept when the article is unpublished or archived.
             */
            publishedAt: string | null;
            /**
             * Format: date-time
             * @description When a `SCHEDULED` article will be published; `null` otherwise.
             */
            scheduledAt: string | null;
            /**
             * Format: date-time
             * @description A pending embargo: until then no public surface shows the article, whatever its status (by slug `404`,
             *     lists, fronts, collections, popular, recommendations, search, feeds, sitemaps, comments). At that
             *     instant the scheduler releases it once (change event `article.embargo-lifted`, webhooks
             *     `article.published`) and sets it back to `null`; a `PUBLISHED` article's `publishedAt` moves up to the
             *     embargo's instant. `null`: no embargo.
             */
            embargoedUntil: string | null;
            /**
             * Format: date-time
             * @description When the article was withdrawn (`WITHDRAWN`); `null` otherwise.
             */
            withdrawnAt: string | null;
            /** @description The public reason of the withdrawal, shown in the tombstone; `null` unless `WITHDRAWN`. */
            withdrawalReason: string | null;
            /** @description The status a reinstatement restores (`PUBLISHED` or `ARCHIVED`); `null` unless `WITHDRAWN`. */
            withdrawnFrom: components["schemas"]["ArticleStatus"] | null;
            /** @description The note of the last `return` to the writer; cleared when the article is submitted again. */
            reviewNote: string | null;
            /**
             * Format: date-time
             * @description When the article was moved to the trash; `null` when it is not in the trash.
             */
            deletedAt: string | null;
            /** @description `true` when editors closed the article to new reader comments. */
            commentsClosed: boolean;
            /**
             * Format: date-time
             * @description The public `updatedAt` (JSON-LD `dateModified`, feeds, sitemaps): set to `publishedAt` when the article
             *     is published (unless already later), and to the time of the write by a publish or an update of a
             *     `PUBLISHED`/`ARCHIVED` article with `significantUpdate: true`. `null` until first published.
             */
            editorialUpdatedAt: string | null;
            /** @description The article's own language; `null` when it inherits its section's (or `SITE_LANGUAGE`). */
            language: components["schemas"]["LanguageTag"] | null;
            /**
             * @description The id of the group of articles that are the same story in other languages (set with `translationOf`);
             *     `null` when the article has no translations.
             * @example tg-41
             */
            translationGroup: string | null;
            /**
             * @description What the desk should know but nothing blocks, e.g. `headline-too-long`: a headline over 110 characters
             *     is cut in the JSON-LD search engines read.
             */
            warnings: {
                /** @example headline-too-long */
                code: string;
                message: string;
            }[];
            /** @description Incremented by every write; the `ETag` is `"<version>"`. */
            readonly version: number;
            readonly createdAt: components["schemas"]["Timestamp"];
            /**
             * Format: date-time
             * @description The system's modification time (every write); not public, unlike `editorialUpdatedAt`.
             */
            readonly updatedAt: string;
            section: {
                id: number;
                slug: string;
                name: string;
            };
            author: {
                id: number;
                name: string;
            };
            /** @description Credited desk editors, in credit order. */
            editors: {
                id: number;
                name: string;
            }[];
            tags: components["schemas"]["TagRef"][];
            /** @description "We Recommend" articles in any status, in order. */
            related: {
                id: number;
                slug: string;
                headline: string;
                kind: components["schemas"]["ArticleKind"];
                status: components["schemas"]["ArticleStatus"];
            }[];
            /** @description The lead image; `null` when the article has none. */
            leadImage: components["schemas"]["PublicImage"] | null;
            /** @description The photo gallery (`PHOTO_STORY` only), in order. */
            gallery: {
                image: components["schemas"]["PublicImage"];
                /** @description The gallery caption; empty when none was given. */
                caption: string;
            }[];
        };
        AdminArticleList: {
            data: components["schemas"]["AdminArticle"][];
            /** @description `PageMeta`; with `q`, `SearchMeta` (with `hits`). */
            meta: components["schemas"]["PageMeta"] | components["schemas"]["SearchMeta"];
        };
        /**
         * @example {
         *       "headline": "Observatory opens its dome to night-sky visitors",
         *       "summary": "A mountain observatory near Kunming welcomes the public for the first time.",
         *       "dateline": "KUNMING",
         *       "source": "Meridian News Agency",
         *       "body": "<p>The observatory opened its main dome to visitors on Saturday.</p><p>Guides led small groups through the night.</p>",
         *       "kind": "STORY",
         *       "section": "china",
         *       "tags": [
         *         "technology",
         *         "tourism"
         *       ]
         *     }
         */
        ArticleCreate: {
            /** @description Derived from the headline (and made unique) when omitted. */
            slug?: components["schemas"]["Slug"];
            /** @description Trimmed; must not be blank. */
            headline: string;
            /** @description Default: `""` (the server fills it in when the field is left out). */
            summary?: string;
            /** @description Default: `null` (the server fills it in when the field is left out). */
            dateline?: string | null;
            /** @description Default: `null` (the server fills it in when the field is left out). */
            source?: string | null;
            /** @description Default: `null` (the server fills it in when the field is left out). */
            byline?: string | null;
            /**
             * @description HTML; sanitized against an allow-list before it is stored. At most `BODY_HTML_MAX_CHARS` characters
             *     (the maxLength shown is its default), elements nested at most `BODY_HTML_MAX_DEPTH` (100) deep and at
             *     most `BODY_HTML_MAX_ELEMENTS` (20,000) elements.
             *     Default: `""` (the server fills it in when the field is left out).
             */
            body?: string;
            /** @description Default: `"STORY"` (the server fills it in when the field is left out). */
            kind?: components["schemas"]["ArticleKind"];
            /** @description Slug of an existing section. */
            section: components["schemas"]["Slug"];
            /** @description Ids of the credited desk editors, in credit order (any role finds them with `GET /api/v1/admin/editor-directory`). */
            editors?: components["schemas"]["Id"][];
            /** @description Ids of "We Recommend" articles, in order. */
            related?: components["schemas"]["Id"][];
            /** @description Tag slugs; unknown tags are created. */
            tags?: components["schemas"]["Slug"][];
            /** @description Id of an uploaded image (`GET /api/v1/admin/media`); an unknown id is a `400`. Default: `null` (the server fills it in when the field is left out). */
            leadImage?: number | null;
            /**
             * @description The photo gallery, in order, each image at most once. A non-empty gallery needs `kind: PHOTO_STORY`
             *     (`400` otherwise); an unknown image id is a `400`.
             *     Default: `[]` (the server fills it in when the field is left out).
             */
            gallery?: components["schemas"]["GalleryItemInput"][];
            /** @description Close the article to new reader comments. Default: `false` (the server fills it in when the field is left out). */
            commentsClosed?: boolean;
            /**
             * @description The article's language (BCP 47, e.g. `en`, `zh-Hans`, `pt-BR`), stored in canonical case; `null` or
             *     omitted: the section's (or its nearest ancestor's), else `SITE_LANGUAGE`. A malformed tag is a `400`.
             */
            language?: components["schemas"]["LanguageTag"] | null;
            /**
             * @description Makes this article a translation of the article with this id: it joins that article's translation group,
             *     which is created when it has none (that article is then written too: version, revision
             *     `translation-linked`, audit). `null` takes the article out of its group. An unknown id, or one the
             *     caller may not read, is a `400`; creating a group on an article the caller may not edit is a `403`.
             *     Published members of a group list each other as `alternates`, one per language.
             */
            translationOf?: number | null;
            /**
             * @description Credited author profiles by slug, in byline order, each with a role (default `writer`); replaces the
             *     list. An unknown slug is a `400` (`body.authors.<i>.slug`); a profile twice is a `400`.
             */
            authors?: components["schemas"]["AuthorCredit"][];
            /**
             * Format: date-time
             * @description Embargo: the article stays off every public surface until this instant (must be in the future, else
             *     `400`), then appears at once (the scheduler releases it). `null` lifts a pending embargo now.
             */
            embargoedUntil?: string | null;
        };
        /**
         * @description Every field is optional; only the fields sent are changed. Lists replace the whole list.
         * @example {
         *       "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *       "byline": "By Chen Yuting in Chengdu",
         *       "related": [
         *         2,
         *         4
         *       ]
         *     }
         */
        ArticleUpdate: {
            slug?: components["schemas"]["Slug"];
            /** @description Trimmed; must not be blank. */
            headline?: string;
            summary?: string;
            dateline?: string | null;
            source?: string | null;
            byline?: string | null;
            /**
             * @description HTML; sanitized against an allow-list before it is stored. At most `BODY_HTML_MAX_CHARS` characters
             *     (the maxLength shown is its default), elements nested at most `BODY_HTML_MAX_DEPTH` (100) deep and at
             *     most `BODY_HTML_MAX_ELEMENTS` (20,000) elements.
             */
            body?: string;
            kind?: components["schemas"]["ArticleKind"];
            /** @description Slug of an existing section. */
            section?: components["schemas"]["Slug"];
            editors?: components["schemas"]["Id"][];
            /** @description Must not contain the article itself. */
            related?: components["schemas"]["Id"][];
            tags?: components["schemas"]["Slug"][];
            /** @description Id of an uploaded image; `null` removes the lead image. An unknown id is a `400`. */
            leadImage?: number | null;
            /**
             * @description Replaces the whole gallery. A non-empty gallery needs the article (with the `kind` sent, if any) to be
             *     a `PHOTO_STORY` (`400` otherwise); each image at most once; an unknown image id is a `400`.
             */
            gallery?: components["schemas"]["GalleryItemInput"][];
            /** @description Close (`true`) or reopen (`false`) the article to new reader comments. */
            commentsClosed?: boolean;
            /**
             * @description The article's language (BCP 47, e.g. `en`, `zh-Hans`, `pt-BR`), stored in canonical case; `null` or
             *     omitted: the section's (or its nearest ancestor's), else `SITE_LANGUAGE`. A malformed tag is a `400`.
             */
            language?: components["schemas"]["LanguageTag"] | null;
            /**
             * @description Makes this article a translation of the article with this id: it joins that article's translation group,
             *     which is created when it has none (that article is then written too: version, revision
             *     `translation-linked`, audit). `null` takes the article out of its group. An unknown id, or one the
             *     caller may not read, is a `400`; creating a group on an article the caller may not edit is a `403`.
             *     Published members of a group list each other as `alternates`, one per language.
             */
            translationOf?: number | null;
            /**
             * @description Credited author profiles by slug, in byline order, each with a role (default `writer`); replaces the
             *     list. An unknown slug is a `400` (`body.authors.<i>.slug`); a profile twice is a `400`.
             */
            authors?: components["schemas"]["AuthorCredit"][];
            /**
             * Format: date-time
             * @description Embargo: the article stays off every public surface until this instant (must be in the future, else
             *     `400`), then appears at once (the scheduler releases it). `null` lifts a pending embargo now.
             */
            embargoedUntil?: string | null;
            /**
             * @description The editor's "significant update" checkbox: `true` moves the public `updatedAt` (`editorialUpdatedAt`,
             *     JSON-LD `dateModified`, feeds, sitemaps) to now. Only for a `PUBLISHED` or `ARCHIVED` article (`400`
             *     otherwise: mark the publish instead). Other updates leave the public `updatedAt` alone.
             */
            significantUpdate?: boolean;
        };
        /** @example {} */
        PublishRequest: {
            /**
             * Format: date-time
             * @description RFC 3339 time with `Z` or an offset; at most one minute in the future. Defaults to now (or, for an
             *     archived article, its previous `publishedAt`).
             */
            publishedAt?: string;
            /**
             * @description The "significant update" checkbox: `true` sets the public `updatedAt` (`editorialUpdatedAt`) to now.
             *     Without it a publish sets `editorialUpdatedAt` to `publishedAt` unless it is already later (a first
             *     publication: `updatedAt` equals `publishedAt`).
             *     Default: `false` (the server fills it in when the field is left out).
             */
            significantUpdate?: boolean;
        };
        /**
         * @description No members; an empty or missing body counts as `{}`.
         * @example {}
         */
        EmptyBody: Record<string, never>;
        /**
         * @example {
         *       "note": "Please confirm the number of partner cities with the organisers and add the closing-day programme."
         *     }
         */
        ReturnRequest: {
            /** @description Why the article goes back to its writer. Trimmed; must not be blank. */
            note: string;
        };
        /**
         * @example {
         *       "scheduledAt": "2030-06-09T07:00:00+08:00"
         *     }
         */
        ScheduleRequest: {
            /**
             * Format: date-time
             * @description RFC 3339 time with `Z` or an offset; must be in the future.
             */
            scheduledAt: string;
        };
        /**
         * @example {
         *       "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDA4NjQwMCwiYXVkIjoiZGF0ZWxpbmUtYWRtaW4tcHJldmlldyIsImlzcyI6ImRhdGVsaW5lIiwic3ViIjoiNyJ9.c2lnbmF0dXJl",
         *       "url": "/api/v1/preview/eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDA4NjQwMCwiYXVkIjoiZGF0ZWxpbmUtYWRtaW4tcHJldmlldyIsImlzcyI6ImRhdGVsaW5lIiwic3ViIjoiNyJ9.c2lnbmF0dXJl",
         *       "expiresAt": "2013-06-09T06:55:00.000Z"
         *     }
         */
        PreviewLink: {
            /** @description Signed preview token (a JWT naming only this article). */
            token: string;
            /** @description Path of the public preview, `/api/v1/preview/<token>`. */
            url: string;
            expiresAt: components["schemas"]["Timestamp"];
        };
        /**
         * @description What saved the revision: `create`, `update`, a workflow action, `restore-revision` (of an earlier revision),
         *     `scheduled-publish` (the scheduler; then `editor` is `null`) or `translation-linked` (another article named this
         *     one in `translationOf`, which gave it a translation group). `ingest`: a version of an agency item (`POST /api/v1/admin/ingest`).
         * @example publish
         * @enum {string}
         */
        RevisionAction: "create" | "update" | "submit" | "return" | "schedule" | "publish" | "unpublish" | "archive" | "restore-revision" | "scheduled-publish" | "translation-linked" | "ingest";
        /**
         * @example {
         *       "number": 3,
         *       "action": "publish",
         *       "createdAt": "2013-06-08T06:55:00.000Z",
         *       "editor": {
         *         "id": 2,
         *         "name": "Liu Fang"
         *       },
         *       "changedFields": [
         *         "status",
         *         "publishedAt"
         *       ]
         *     }
         */
        RevisionSummary: {
            number: number;
            action: components["schemas"]["RevisionAction"];
            createdAt: components["schemas"]["Timestamp"];
            /** @description Who saved it; `null` for the scheduler or a deleted editor. */
            editor: {
                id: number;
                name: string;
            } | null;
            /** @description Names of the content fields that differ from the previous revision. */
            changedFields: string[];
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "number": 3,
         *           "action": "publish",
         *           "createdAt": "2013-06-08T06:55:00.000Z",
         *           "editor": {
         *             "id": 2,
         *             "name": "Liu Fang"
         *           },
         *           "changedFields": [
         *             "status",
         *             "publishedAt"
         *           ]
         *         },
         *         {
         *           "number": 2,
         *           "action": "update",
         *           "createdAt": "2013-06-08T06:40:10.000Z",
         *           "editor": {
         *             "id": 2,
         *             "name": "Liu Fang"
         *           },
         *           "changedFields": [
         *             "headline"
         *           ]
         *         }
         *       ],
         *       "meta": {
         *         "nextCursor": "eyJpZCI6Mn0"
         *       }
         *     }
         */
        RevisionList: {
            data: components["schemas"]["RevisionSummary"][];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @description The article's content as saved in a revision.
         * @example {
         *       "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *       "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *       "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *       "dateline": "CHENGDU",
         *       "source": "Meridian News Agency",
         *       "byline": null,
         *       "body": "<p>Delegations from fourteen partner cities across Asia and Europe opened the Western Gateway Cooperation Forum on Saturday.</p>",
         *       "kind": "STORY",
         *       "section": "foreign-affairs",
         *       "tags": [
         *         "diplomacy",
         *         "sichuan",
         *         "trade"
         *       ],
         *       "editors": [
         *         2,
         *         3
         *       ],
         *       "related": [
         *         2
         *       ],
         *       "leadImage": 12,
         *       "gallery": [],
         *       "commentsClosed": false,
         *       "status": "PUBLISHED",
         *       "publishedAt": "2013-06-08T06:55:00.000Z",
         *       "scheduledAt": null
         *     }
         */
        RevisionContent: {
            slug: string;
            headline: string;
            summary: string;
            dateline: string | null;
            source: string | null;
            byline: string | null;
            /** @description Sanitized HTML. */
            body: string;
            kind: components["schemas"]["ArticleKind"];
            /** @description Slug of the section. */
            section: string;
            /** @description Tag slugs. */
            tags: string[];
            /** @description Ids of the credited desk editors, in credit order. */
            editors: number[];
            /** @description Ids of the "We Recommend" articles, in order. */
            related: number[];
            /** @description Id of the lead image. Absent in revisions saved before images existed; restored as `null` then (and when the image was deleted since). */
            leadImage?: number | null;
            /** @description The gallery, in order. Absent in revisions saved before galleries existed; images deleted since are dropped on restore. */
            gallery?: {
                /** @description Id of the image. */
                media: number;
                caption: string;
            }[];
            /** @description Absent in revisions saved before this setting existed (restored as `false`). */
            commentsClosed?: boolean;
            /** @description The article's own language. Absent in revisions saved before languages existed (a restore then keeps the current one). */
            language?: string | null;
            /** @description Recorded for the history; a restore does not move the article between translation groups. */
            translationGroup?: string | null;
            status: components["schemas"]["ArticleStatus"];
            /** Format: date-time */
            publishedAt: string | null;
            /** Format: date-time */
            scheduledAt: string | null;
        };
        /**
         * @example {
         *       "field": "status",
         *       "before": "SCHEDULED",
         *       "after": "PUBLISHED"
         *     }
         */
        RevisionDiffEntry: {
            /** @description Name of a content field. */
            field: string;
            /** @description The value in the previous revision (`null` for the first revision); any JSON type. */
            before: unknown;
            /** @description The value in this revision; any JSON type. */
            after: unknown;
        };
        /**
         * @example {
         *       "number": 3,
         *       "action": "publish",
         *       "createdAt": "2013-06-08T06:55:00.000Z",
         *       "editor": {
         *         "id": 2,
         *         "name": "Liu Fang"
         *       },
         *       "changedFields": [
         *         "status",
         *         "publishedAt"
         *       ],
         *       "content": {
         *         "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *         "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *         "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *         "dateline": "CHENGDU",
         *         "source": "Meridian News Agency",
         *         "byline": null,
         *         "body": "<p>Delegations from fourteen partner cities across Asia and Europe opened the Western Gateway Cooperation Forum on Saturday.</p>",
         *         "kind": "STORY",
         *         "section": "foreign-affairs",
         *         "tags": [
         *           "diplomacy",
         *           "sichuan",
         *           "trade"
         *         ],
         *         "editors": [
         *           2,
         *           3
         *         ],
         *         "related": [
         *           2
         *         ],
         *         "leadImage": 12,
         *         "gallery": [],
         *         "commentsClosed": false,
         *         "status": "PUBLISHED",
         *         "publishedAt": "2013-06-08T06:55:00.000Z",
         *         "scheduledAt": null
         *       },
         *       "diff": [
         *         {
         *           "field": "status",
         *           "before": "IN_REVIEW",
         *           "after": "PUBLISHED"
         *         },
         *         {
         *           "field": "publishedAt",
         *           "before": null,
         *           "after": "2013-06-08T06:55:00.000Z"
         *         }
         *       ]
         *     }
         */
        Revision: {
            number: number;
            action: components["schemas"]["RevisionAction"];
            createdAt: components["schemas"]["Timestamp"];
            /** @description Who saved it; `null` for the scheduler or a deleted editor. */
            editor: {
                id: number;
                name: string;
            } | null;
            changedFields: string[];
            content: components["schemas"]["RevisionContent"];
            /** @description The fields that differ from the previous revision, with both values. */
            diff: components["schemas"]["RevisionDiffEntry"][];
        };
        /**
         * @example {
         *       "id": 2,
         *       "slug": "foreign-affairs",
         *       "name": "Foreign Affairs",
         *       "description": "Diplomatic visits, international forums and exchanges between cities and countries.",
         *       "position": 10,
         *       "parent": {
         *         "id": 1,
         *         "slug": "english",
         *         "name": "English"
         *       },
         *       "leadArticleId": null,
         *       "language": null,
         *       "version": 1,
         *       "createdAt": "2013-05-30T02:00:00.000Z",
         *       "updatedAt": "2013-05-30T02:00:00.000Z"
         *     }
         */
        AdminSection: {
            readonly id: number;
            slug: string;
            name: string;
            description: string;
            /** @description Sort order among siblings (ascending). */
            position: number;
            /** @description `null` for a top-level section. */
            parent: {
                id: number;
                slug: string;
                name: string;
            } | null;
            /**
             * @description Id of the article pinned as the lead of the section front (`PUT /api/v1/admin/sections/{id}/lead`);
             *     `null` when none is pinned (or the pinned article was purged).
             */
            leadArticleId: number | null;
            /**
             * @description The section's language (BCP 47), stored in canonical case; `null`: its parent's (nearest ancestor's),
             *     else `SITE_LANGUAGE`. Articles without their own language inherit it; changing it (or moving the section
             *     under another language) rebuilds the public documents of those articles.
             */
            language: components["schemas"]["LanguageTag"] | null;
            /** @description Incremented by every write; the `ETag` is `"<version>"`. */
            readonly version: number;
            readonly createdAt: components["schemas"]["Timestamp"];
            readonly updatedAt: components["schemas"]["Timestamp"];
        };
        AdminSectionList: {
            data: components["schemas"]["AdminSection"][];
        };
        /**
         * @example {
         *       "slug": "science",
         *       "name": "Science",
         *       "description": "Research, space and the environment.",
         *       "parent": "english",
         *       "position": 70
         *     }
         */
        SectionCreate: {
            slug: components["schemas"]["Slug"];
            /** @description Trimmed; must not be blank. */
            name: string;
            /** @description Default: `""` (the server fills it in when the field is left out). */
            description?: string;
            /** @description Slug of the parent section; `null` or omitted for a top-level section. Default: `null` (the server fills it in when the field is left out). */
            parent?: string | null;
            /** @description Default: `0` (the server fills it in when the field is left out). */
            position?: number;
            /**
             * @description The section's language (BCP 47), stored in canonical case; `null`: its parent's (nearest ancestor's),
             *     else `SITE_LANGUAGE`. Articles without their own language inherit it; changing it (or moving the section
             *     under another language) rebuilds the public documents of those articles.
             */
            language?: components["schemas"]["LanguageTag"] | null;
        };
        /**
         * @description Every field is optional; only the fields sent are changed.
         * @example {
         *       "parent": "english",
         *       "position": 25
         *     }
         */
        SectionUpdate: {
            slug?: components["schemas"]["Slug"];
            /** @description Trimmed; must not be blank. */
            name?: string;
            description?: string;
            /** @description Slug of the new parent; `null` moves the section to the top level. */
            parent?: string | null;
            position?: number;
            /**
             * @description The section's language (BCP 47), stored in canonical case; `null`: its parent's (nearest ancestor's),
             *     else `SITE_LANGUAGE`. Articles without their own language inherit it; changing it (or moving the section
             *     under another language) rebuilds the public documents of those articles.
             */
            language?: components["schemas"]["LanguageTag"] | null;
        };
        /**
         * @example {
         *       "id": 4,
         *       "name": "Visitor",
         *       "body": "Looking forward to the follow-up on the museum exhibitions.",
         *       "status": "APPROVED",
         *       "parentId": 3,
         *       "parent": {
         *         "id": 3,
         *         "name": "Harbour resident",
         *         "body": "Will the exhibitions travel to the coast as well?",
         *         "status": "APPROVED",
         *         "createdAt": "2013-06-08T10:02:00.000Z"
         *       },
         *       "createdAt": "2013-06-08T11:20:00.000Z",
         *       "updatedAt": "2013-06-08T12:05:43.000Z",
         *       "article": {
         *         "id": 1,
         *         "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *         "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges"
         *       }
         *     }
         */
        AdminComment: {
            readonly id: number;
            name: string;
            body: string;
            status: components["schemas"]["CommentStatus"];
            /** @description Id of the comment this replies to; `null` for a top-level comment. */
            parentId: number | null;
            /** @description The comment this replies to (any status), so a reply can be moderated in context; `null` for a top-level comment. */
            parent: {
                id: number;
                name: string;
                body: string;
                status: components["schemas"]["CommentStatus"];
                createdAt: components["schemas"]["Timestamp"];
            } | null;
            readonly createdAt: components["schemas"]["Timestamp"];
            readonly updatedAt: components["schemas"]["Timestamp"];
            article: {
                id: number;
                slug: string;
                headline: string;
            };
        };
        AdminCommentList: {
            data: components["schemas"]["AdminComment"][];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @example {
         *       "status": "APPROVED"
         *     }
         */
        CommentModeration: {
            /** @enum {string} */
            status: "APPROVED" | "REJECTED" | "SPAM";
        };
        /**
         * @example {
         *       "id": 2,
         *       "name": "Liu Fang",
         *       "email": "liufang@dateline.local",
         *       "role": "EDITOR",
         *       "active": true,
         *       "version": 1,
         *       "createdAt": "2013-05-30T02:00:00.000Z",
         *       "updatedAt": "2013-05-30T02:00:00.000Z"
         *     }
         */
        Editor: {
            readonly id: number;
            name: string;
            /** @description Stored lower-cased. */
            email: string;
            role: components["schemas"]["Role"];
            /** @description Deactivated editors cannot sign in; their names stay credited on articles. */
            active: boolean;
            /** @description Incremented by every change (including password changes); the `ETag` is `"<version>"`. */
            readonly version: number;
            readonly createdAt: components["schemas"]["Timestamp"];
            readonly updatedAt: components["schemas"]["Timestamp"];
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "id": 2,
         *           "name": "Liu Fang",
         *           "email": "liufang@dateline.local",
         *           "role": "EDITOR",
         *           "active": true,
         *           "version": 1,
         *           "createdAt": "2013-05-30T02:00:00.000Z",
         *           "updatedAt": "2013-05-30T02:00:00.000Z"
         *         },
         *         {
         *           "id": 3,
         *           "name": "Zhao Min",
         *           "email": "zhaomin@dateline.local",
         *           "role": "EDITOR",
         *           "active": true,
         *           "version": 1,
         *           "createdAt": "2013-05-30T02:00:00.000Z",
         *           "updatedAt": "2013-05-30T02:00:00.000Z"
         *         }
         *       ],
         *       "meta": {
         *         "nextCursor": "eyJpZCI6M30"
         *       }
         *     }
         */
        EditorList: {
            data: components["schemas"]["Editor"][];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "id": 2,
         *           "name": "Liu Fang",
         *           "role": "EDITOR"
         *         },
         *         {
         *           "id": 3,
         *           "name": "Zhao Min",
         *           "role": "EDITOR"
         *         }
         *       ],
         *       "meta": {
         *         "nextCursor": null
         *       }
         *     }
         */
        EditorDirectory: {
            /** @description Active editors, by id. */
            data: {
                id: number;
                name: string;
                role: components["schemas"]["Role"];
            }[];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @example {
         *       "name": "Night Editor",
         *       "email": "night@dateline.local",
         *       "password": "night-desk-password-1",
         *       "role": "EDITOR"
         *     }
         */
        EditorCreate: {
            /** @description Trimmed; must not be blank. */
            name: string;
            /**
             * Format: email
             * @description Stored lower-cased; must be unique.
             */
            email: string;
            /** Format: password */
            password: string;
            /** @description Default: `"WRITER"` (the server fills it in when the field is left out). */
            role?: components["schemas"]["Role"];
        };
        /**
         * @description Every field is optional; only the fields sent are changed.
         * @example {
         *       "role": "EDITOR",
         *       "active": true
         *     }
         */
        EditorUpdate: {
            name?: string;
            /** Format: email */
            email?: string;
            /**
             * Format: password
             * @description Sets a new password and revokes all the editor's sessions.
             */
            password?: string;
            role?: components["schemas"]["Role"];
            active?: boolean;
        };
        /**
         * @example {
         *       "id": 118,
         *       "createdAt": "2013-06-08T06:55:00.000Z",
         *       "action": "article.publish",
         *       "actor": {
         *         "id": 2,
         *         "name": "Liu Fang"
         *       },
         *       "targetType": "article",
         *       "targetId": 1,
         *       "ip": "203.0.113.7",
         *       "email": null,
         *       "details": {
         *         "revision": 3,
         *         "changed": [
         *           "status",
         *           "publishedAt"
         *         ],
         *         "from": "IN_REVIEW",
         *         "to": "PUBLISHED"
         *       }
         *     }
         */
        AuditEntry: {
            readonly id: number;
            readonly createdAt: components["schemas"]["Timestamp"];
            /** @description What happened, `<area>.<verb>`, for example `article.publish` or `auth.login-failed`. */
            action: string;
            /** @description The acting editor; `null` for failed sign-ins, the scheduler, or a deleted editor. */
            actor: {
                id: number;
                name: string;
            } | null;
            /** @description `article`, `section`, `comment`, `editor`, `media`, `collection`, `author` or `live-entry`. */
            targetType: string | null;
            targetId: number | null;
            /** @description Client address of the request. */
            ip: string | null;
            /**
             * @description For failed sign-ins: the email of the editor tried, or `null` when the email typed is not an
             *     editor's (what was typed is never stored; `details.emailHash` holds a keyed hash of it, the same
             *     for the same typed email, so repeated attempts can be grouped).
             */
            email: string | null;
            /** @description Action-specific details, for example the revision number and changed fields of an article save. */
            details: Record<string, never> | null;
        };
        /**
         * @example {
         *       "id": 1041,
         *       "type": "article.published",
         *       "entityType": "article",
         *       "entityId": 1,
         *       "keys": [
         *         "article:1",
         *         "latest",
         *         "articles",
         *         "popular",
         *         "section:7",
         *         "front:english",
         *         "front:china",
         *         "tag:diplomacy"
         *       ],
         *       "data": {
         *         "from": "IN_REVIEW",
         *         "to": "PUBLISHED"
         *       },
         *       "actorId": 2,
         *       "createdAt": "2013-06-08T06:55:00.000Z"
         *     }
         */
        ChangeEvent: {
            /** @description Grows with every event; ids become visible in order. */
            readonly id: number;
            /** @description What happened, as `<entity>.<change>` (see the operation's list). */
            type: string;
            /** @enum {string} */
            entityType: "article" | "section" | "comment" | "editor" | "media" | "collection" | "author" | "live-entry";
            entityId: number | null;
            /** @description The surrogate keys (`Surrogate-Key` / `Cache-Tag` values) of every public response this change alters; empty when it alters none. */
            keys: string[];
            /** @description Details of the change (for example `from` and `to` statuses), or `null`. */
            data: Record<string, never> | null;
            /** @description The editor who made the change; `null` for the scheduler and for readers' comments. */
            actorId: number | null;
            /** Format: date-time */
            readonly createdAt: string;
        };
        /**
         * @description An event type an endpoint subscribes to; `article.*`, `section.*`, `comment.*`, `media.*` and `*` subscribe to a family or to all.
         * @enum {string}
         */
        WebhookEventType: "article.published" | "article.updated" | "article.unpublished" | "article.deleted" | "article.withdrawn" | "section.created" | "section.updated" | "section.renamed" | "section.moved" | "section.deleted" | "comment.created" | "comment.approved" | "media.created" | "media.updated" | "media.deleted";
        /**
         * @description A WebhookEventType, a family such as `section.*`, or `*`.
         * @example article.published
         * @example section.*
         */
        WebhookEventPattern: components["schemas"]["WebhookEventType"] | ("article.*" | "section.*" | "comment.*" | "media.*" | "*");
        WebhookCreate: {
            /**
             * @description http(s) URL without credentials; see the operation for the address rules.
             * @example https://frontend.example.com/api/revalidate
             */
            url: string;
            events: components["schemas"]["WebhookEventPattern"][];
            /** @description Only events about this section or its subsections (articles in them, their comments). Media events have no section and are not sent to a filtered endpoint. */
            sectionId?: components["schemas"]["Id"] | null;
            /** @description Default: `true` (the server fills it in when the field is left out). */
            active?: boolean;
            description?: string;
        };
        WebhookUpdate: {
            url?: string;
            events?: components["schemas"]["WebhookEventPattern"][];
            sectionId?: components["schemas"]["Id"] | null;
            active?: boolean;
            description?: string;
        };
        WebhookRotate: {
            /** @description Default: `86400` (the server fills it in when the field is left out). */
            overlapSeconds?: number;
        };
        WebhookEndpoint: {
            readonly id: components["schemas"]["Id"];
            url: string;
            description: string;
            events: components["schemas"]["WebhookEventPattern"][];
            sectionId: number | null;
            active: boolean;
            /** @description Why Dateline turned the endpoint off (a 410, or repeated failures); null when active or turned off by an ADMIN. */
            disabledReason: string | null;
            /** Format: date-time */
            disabledAt: string | null;
            /** @description Deliveries in a row that ended failed or dead; at WEBHOOK_DISABLE_AFTER_FAILURES the endpoint is disabled. */
            consecutiveFailures: number;
            /**
             * Format: date-time
             * @description While a rotation's overlap lasts, when the previous secret stops signing.
             */
            previousSecretExpiresAt: string | null;
            /** Format: date-time */
            readonly createdAt: string;
            /** Format: date-time */
            readonly updatedAt: string;
        };
        WebhookEndpointWithSecret: {
            id: components["schemas"]["Id"];
            url: string;
            description: string;
            events: components["schemas"]["WebhookEventPattern"][];
            sectionId: number | null;
            active: boolean;
            /** @description Why Dateline turned the endpoint off (a 410, or repeated failures); null when active or turned off by an ADMIN. */
            disabledReason: string | null;
            /** Format: date-time */
            disabledAt: string | null;
            /** @description Deliveries in a row that ended failed or dead; at WEBHOOK_DISABLE_AFTER_FAILURES the endpoint is disabled. */
            consecutiveFailures: number;
            /**
             * Format: date-time
             * @description While a rotation's overlap lasts, when the previous secret stops signing.
             */
            previousSecretExpiresAt: string | null;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            /**
             * @description The signing secret (HMAC-SHA256 key, its UTF-8 bytes). Shown only here; store it now.
             * @example whsec_Jq3nGkz8sV0uX2m1l6bX1mJ0q4a7dCkqk0nC3o1Zp8E
             */
            secret: string;
        };
        WebhookDelivery: {
            readonly id: components["schemas"]["Id"];
            endpointId: components["schemas"]["Id"];
            /** @description The Dateline-Event-Id (`evt_<n>`, or `ping_<hex>`), the same on every attempt. */
            eventId: string;
            type: string;
            /**
             * @description `failed`: not retried (a 4xx other than 408/429, a redirect, a refused address, or a 410 that disabled the endpoint); `dead`: retries exhausted.
             * @enum {string}
             */
            status: "pending" | "succeeded" | "failed" | "dead";
            /** @description Attempts made so far (including before any redelivery). */
            attempts: number;
            /**
             * Format: date-time
             * @description When a pending delivery is sent next.
             */
            nextAttemptAt: string | null;
            lastStatusCode: number | null;
            lastError: string | null;
            durationMs: number | null;
            /** Format: date-time */
            occurredAt: string;
            /** Format: date-time */
            readonly createdAt: string;
            /** Format: date-time */
            deliveredAt: string | null;
            payload: components["schemas"]["WebhookEvent"];
        };
        /** @description The JSON body of every delivery (signed byte for byte as sent). */
        WebhookEvent: {
            /**
             * @description The event id, also in Dateline-Event-Id; de-duplicate on it.
             * @example evt_1041
             */
            id: string;
            /** @example article.published */
            type: string;
            /**
             * Format: date-time
             * @description When the change committed.
             */
            occurredAt: string;
            /** @description What changed (see each webhook). */
            data: unknown;
        };
        WebhookArticleRef: {
            id: components["schemas"]["Id"];
            /** @description null only when the article was purged before the event was handled. */
            slug: string | null;
        };
        WebhookSection: {
            id: components["schemas"]["Id"];
            slug?: string;
            name?: string;
            parentId?: number | null;
        };
        WebhookComment: {
            id: components["schemas"]["Id"];
            articleId: components["schemas"]["Id"];
            parentId: number | null;
            status: components["schemas"]["CommentStatus"];
            authorName: string;
            body: string;
            /** Format: date-time */
            createdAt: string;
        };
        ChangeEventList: {
            data: components["schemas"]["ChangeEvent"][];
            meta: {
                /** @description Pass as `after` to get the events that follow; the highest id returned, else the `after` sent (`null` when there are no events and no `after`). */
                nextAfter: number | null;
            };
        };
        PurgeRequestList: {
            data: components["schemas"]["PurgeRequest"][];
            meta: {
                /**
                 * @description The configured `PURGE_PROVIDER`.
                 * @enum {string}
                 */
                provider: "none" | "log" | "fastly" | "cloudflare" | "varnish" | "http";
            };
        };
        /**
         * @example {
         *       "id": 12,
         *       "provider": "fastly",
         *       "keys": [
         *         "article:42",
         *         "front:world",
         *         "latest"
         *       ],
         *       "soft": true,
         *       "status": "pending",
         *       "attempts": 2,
         *       "nextAttemptAt": "2013-06-08T07:02:14.000Z",
         *       "lastStatus": 503,
         *       "lastError": "api.fastly.com answered 503",
         *       "createdAt": "2013-06-08T07:02:10.000Z",
         *       "updatedAt": "2013-06-08T07:02:11.000Z"
         *     }
         */
        PurgeRequest: {
            readonly id: number;
            /** @enum {string} */
            provider: "fastly" | "cloudflare" | "varnish" | "http";
            keys: string[];
            soft: boolean;
            /**
             * @description `failed`: gave up after `PURGE_MAX_ATTEMPTS`, or refused (a 4xx other than 408/429).
             * @enum {string}
             */
            status: "pending" | "done" | "failed";
            attempts: number;
            /**
             * Format: date-time
             * @description When a pending request is next sent; `null` once finished.
             */
            nextAttemptAt: string | null;
            /** @description The HTTP status of the last attempt (`null` before one, or on a timeout or connection error). */
            lastStatus: number | null;
            lastError: string | null;
            /** Format: date-time */
            readonly createdAt: string;
            /** Format: date-time */
            readonly updatedAt: string;
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "id": 118,
         *           "createdAt": "2013-06-08T06:55:00.000Z",
         *           "action": "article.publish",
         *           "actor": {
         *             "id": 2,
         *             "name": "Liu Fang"
         *           },
         *           "targetType": "article",
         *           "targetId": 1,
         *           "ip": "203.0.113.7",
         *           "email": null,
         *           "details": {
         *             "revision": 3,
         *             "changed": [
         *               "status",
         *               "publishedAt"
         *             ],
         *             "from": "IN_REVIEW",
         *             "to": "PUBLISHED"
         *           }
         *         },
         *         {
         *           "id": 117,
         *           "createdAt": "2013-06-08T06:50:12.000Z",
         *           "action": "auth.login-failed",
         *           "actor": null,
         *           "targetType": null,
         *           "targetId": null,
         *           "ip": "198.51.100.20",
         *           "email": null,
         *           "details": {
         *             "emailHash": "3tK9cU0yJ8n2gH5qvB1xW7eR4aLm6ZpQ0sDfNhYjIoA"
         *           }
         *         }
         *       ],
         *       "meta": {
         *         "nextCursor": "eyJpZCI6MTE3fQ"
         *       }
         *     }
         */
        AuditList: {
            data: components["schemas"]["AuditEntry"][];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @example {
         *       "status": "ok"
         *     }
         */
        Health: {
            /** @constant */
            status: "ok";
        };
        /**
         * @example {
         *       "status": "ok",
         *       "database": "pglite",
         *       "articleJson": "current"
         *     }
         */
        Readiness: {
            /** @constant */
            status: "ok";
            /**
             * @description `pglite` (embedded, the default) or `postgresql` (when `DATABASE_URL` is set).
             * @enum {string}
             */
            database: "pglite" | "postgresql";
            /**
             * @description Whether every published article's public JSON is stored rendered with this instance's configuration
             *     and section tree (`current`), or is still being rendered in the background (`rendering`: after start-up,
             *     a section change or a deploy that changes the article's JSON). Informational: while `rendering`,
             *     article reads render for themselves (one SQL statement either way), so the instance is ready.
             * @enum {string}
             */
            articleJson: "current" | "rendering";
        };
        /**
         * @example {
         *       "name": "Dateline",
         *       "docs": "/docs",
         *       "openapi": "/openapi.yaml",
         *       "api": "/api/v1"
         *     }
         */
        ApiIndex: {
            /** @constant */
            name: "Dateline";
            /** @description Path of the interactive API docs (Swagger UI). */
            docs: string;
            /** @description Path of this document. */
            openapi: string;
            /** @description Root path of the versioned API. */
            api: string;
        };
        /**
         * @description An image as public payloads show it (lead images, galleries, collections).
         * @example {
         *       "id": 12,
         *       "url": "/media/2013/06/3f2b8c1e-9a4d-4e7b-8f00-6b1d2c3e4f5a.jpg",
         *       "width": 1600,
         *       "height": 1067,
         *       "mimeType": "image/jpeg",
         *       "caption": "Delegates arrive for the opening session of the forum.",
         *       "credit": "Liu Fang / Dateline",
         *       "alt": "Delegates walking up the steps of the conference hall."
         *     }
         */
        PublicImage: {
            id: number;
            /** @description `<MEDIA_BASE_URL>/media/<yyyy>/<mm>/<uuid>.<ext>`; a path on this server when `MEDIA_BASE_URL` is empty. */
            url: string;
            /** @description Pixels, as displayed (EXIF rotation applied). */
            width: number;
            height: number;
            /** @enum {string} */
            mimeType: "image/jpeg" | "image/png" | "image/webp" | "image/gif";
            caption: string;
            credit: string;
            /** @description Text alternative for screen readers. */
            alt: string;
        };
        /** @description An image's text; only the fields sent change (at least one). Leading and trailing spaces are trimmed. */
        MediaUpdate: {
            /** @description Text alternative for screen readers. */
            alt?: string;
            caption?: string;
            credit?: string;
        };
        /**
         * @description The full image record, for the editor API.
         * @example {
         *       "id": 12,
         *       "url": "/media/2013/06/3f2b8c1e-9a4d-4e7b-8f00-6b1d2c3e4f5a.jpg",
         *       "width": 1600,
         *       "height": 1067,
         *       "mimeType": "image/jpeg",
         *       "caption": "Delegates arrive for the opening session of the forum.",
         *       "credit": "Liu Fang / Dateline",
         *       "alt": "Delegates walking up the steps of the conference hall.",
         *       "size": 284113,
         *       "originalName": "forum-opening.jpg",
         *       "uploadedBy": 2,
         *       "createdAt": "2013-06-08T06:40:00.000Z"
         *     }
         */
        AdminMedia: {
            readonly id: number;
            /** @description `<MEDIA_BASE_URL>/media/<yyyy>/<mm>/<uuid>.<ext>`; a path on this server when `MEDIA_BASE_URL` is empty. */
            url: string;
            /** @description Pixels, as displayed (EXIF rotation applied). */
            width: number;
            height: number;
            /**
             * @description Detected from the file's content.
             * @enum {string}
             */
            mimeType: "image/jpeg" | "image/png" | "image/webp" | "image/gif";
            caption: string;
            credit: string;
            /** @description Text alternative for screen readers. */
            alt: string;
            /** @description Bytes. */
            size: number;
            /** @description The uploaded file's name, for display only. */
            originalName: string;
            /** @description Id of the uploading editor; `null` once that account is deleted. */
            uploadedBy: number | null;
            readonly createdAt: components["schemas"]["Timestamp"];
        };
        MediaList: {
            data: components["schemas"]["AdminMedia"][];
            meta: components["schemas"]["PageMeta"];
        };
        MediaUpload: {
            /**
             * Format: binary
             * @description The image (JPEG, PNG, WebP or GIF), at most `MEDIA_MAX_BYTES` (10 MiB by default).
             */
            file: Blob;
            /** @description Default: `""` (the server fills it in when the field is left out). */
            caption?: string;
            /** @description Default: `""` (the server fills it in when the field is left out). */
            credit?: string;
            /** @description Default: `""` (the server fills it in when the field is left out). */
            alt?: string;
        };
        /**
         * @example {
         *       "counted": false,
         *       "reason": "duplicate"
         *     }
         */
        ViewReceipt: {
            counted: boolean;
            /**
             * @description Why the view was not counted; absent when `counted` is true. `address-limit`: the address
             *     (IPv6 /64) already added `VIEW_MAX_PER_ADDRESS_PER_ARTICLE` views to this article in the period.
             * @enum {string}
             */
            reason?: "bot" | "duplicate" | "address-limit";
        };
        /**
         * @description The fields of `PublicArticleListItem` plus `views`. Its fields are referenced one by one because
         *     `additionalProperties: false` on a referenced schema cannot be extended; tests/popular.test.ts checks
         *     that the two lists stay in step.
         * @example {
         *       "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *       "language": "en",
         *       "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *       "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *       "kind": "STORY",
         *       "publishedAt": "2013-06-08T06:55:00.000Z",
         *       "publishedAtLocal": "06:55, June 08, 2013",
         *       "section": {
         *         "slug": "foreign-affairs",
         *         "name": "Foreign Affairs"
         *       },
         *       "leadImage": null,
         *       "views": 1874
         *     }
         */
        PopularArticle: {
            slug: components["schemas"]["PublicArticleListItem"]["slug"];
            language: components["schemas"]["PublicArticleListItem"]["language"];
            headline: components["schemas"]["PublicArticleListItem"]["headline"];
            summary: components["schemas"]["PublicArticleListItem"]["summary"];
            kind: components["schemas"]["PublicArticleListItem"]["kind"];
            publishedAt: components["schemas"]["PublicArticleListItem"]["publishedAt"];
            publishedAtLocal: components["schemas"]["PublicArticleListItem"]["publishedAtLocal"];
            section: components["schemas"]["PublicArticleListItem"]["section"];
            leadImage: components["schemas"]["PublicArticleListItem"]["leadImage"];
            /** @description Views counted in the window. */
            views: number;
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *           "language": "en",
         *           "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *           "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *           "kind": "STORY",
         *           "publishedAt": "2013-06-08T06:55:00.000Z",
         *           "publishedAtLocal": "06:55, June 08, 2013",
         *           "section": {
         *             "slug": "foreign-affairs",
         *             "name": "Foreign Affairs"
         *           },
         *           "leadImage": null,
         *           "views": 1874
         *         }
         *       ],
         *       "meta": {
         *         "window": "24h",
         *         "since": "2013-06-07T07:00:00.000Z"
         *       }
         *     }
         */
        PopularList: {
            data: components["schemas"]["PopularArticle"][];
            meta: {
                /** @enum {string} */
                window: "24h" | "7d" | "30d";
                /** @description Start of the first hour counted (the hour containing now minus the window), UTC. */
                since: components["schemas"]["Timestamp"];
            };
        };
        /**
         * @example {
         *       "id": 3,
         *       "name": "Ana",
         *       "body": "Same here, it was one of the best weeks of my studies.",
         *       "createdAt": "2013-06-08T09:40:11.000Z"
         *     }
         */
        PublicCommentReply: {
            id: number;
            /** @description The name the reader gave. */
            name: string;
            /** @description Plain text. */
            body: string;
            createdAt: components["schemas"]["Timestamp"];
        };
        /**
         * @example {
         *       "ids": [
         *         4,
         *         7,
         *         9
         *       ],
         *       "status": "APPROVED"
         *     }
         */
        CommentBulkModeration: {
            ids: number[];
            /** @enum {string} */
            status: "APPROVED" | "REJECTED" | "SPAM";
        };
        /**
         * @example {
         *       "updated": 3,
         *       "status": "APPROVED"
         *     }
         */
        CommentBulkResult: {
            /** @description Number of comments moderated. */
            updated: number;
            /** @enum {string} */
            status: "APPROVED" | "REJECTED" | "SPAM";
        };
        /**
         * @description One image of an article's gallery.
         * @example {
         *       "media": 12,
         *       "caption": "Delegates arrive for the opening session of the forum."
         *     }
         */
        GalleryItemInput: {
            /** @description Id of an uploaded image. */
            media: components["schemas"]["Id"];
            /** @description Trimmed. When empty, the public gallery shows the image's own caption. Default: `""` (the server fills it in when the field is left out). */
            caption?: string;
        };
        /**
         * @example {
         *       "data": [
         *         {
         *           "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *           "language": "en",
         *           "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *           "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *           "kind": "STORY",
         *           "publishedAt": "2013-06-08T06:55:00.000Z",
         *           "publishedAtLocal": "14:55, June 08, 2013",
         *           "section": {
         *             "slug": "foreign-affairs",
         *             "name": "Foreign Affairs"
         *           },
         *           "leadImage": null
         *         }
         *       ]
         *     }
         */
        LatestList: {
            /** @description Published articles, newest first. */
            data: components["schemas"]["PublicArticleListItem"][];
        };
        /**
         * @example {
         *       "section": {
         *         "slug": "foreign-affairs",
         *         "name": "Foreign Affairs",
         *         "description": "Diplomatic visits, international forums and exchanges between cities and countries.",
         *         "breadcrumb": [
         *           {
         *             "slug": "english",
         *             "name": "English"
         *           },
         *           {
         *             "slug": "foreign-affairs",
         *             "name": "Foreign Affairs"
         *           }
         *         ]
         *       },
         *       "lead": {
         *         "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *         "language": "en",
         *         "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *         "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *         "kind": "STORY",
         *         "publishedAt": "2013-06-08T06:55:00.000Z",
         *         "publishedAtLocal": "14:55, June 08, 2013",
         *         "section": {
         *           "slug": "foreign-affairs",
         *           "name": "Foreign Affairs"
         *         },
         *         "leadImage": {
         *           "id": 12,
         *           "url": "/media/2013/06/3f2b8c1e-9a4d-4e7b-8f00-6b1d2c3e4f5a.jpg",
         *           "width": 1600,
         *           "height": 1067,
         *           "mimeType": "image/jpeg",
         *           "caption": "Delegates arrive for the opening session of the forum.",
         *           "credit": "Liu Fang / Dateline",
         *           "alt": "Delegates walking up the steps of the conference hall."
         *         }
         *       },
         *       "leadSource": "image",
         *       "stories": [
         *         {
         *           "slug": "consular-service-centre-opens-in-kunming-to-ease-visa-queues",
         *           "language": "en",
         *           "headline": "Consular service centre opens in Kunming to ease visa queues",
         *           "summary": "A new one-stop centre will handle visa and document services for residents and visitors from neighbouring countries.",
         *           "kind": "STORY",
         *           "publishedAt": "2013-06-05T03:40:00.000Z",
         *           "publishedAtLocal": "11:40, June 05, 2013",
         *           "section": {
         *             "slug": "foreign-affairs",
         *             "name": "Foreign Affairs"
         *           },
         *           "leadImage": null
         *         }
         *       ]
         *     }
         */
        SectionFront: {
            section: {
                slug: string;
                name: string;
                description: string;
                /** @description Sections from the root down to this one (inclusive). */
                breadcrumb: components["schemas"]["SectionRef"][];
            };
            /** @description The lead story; `null` when the section (with its descendants) has no published story. */
            lead: components["schemas"]["PublicArticleListItem"] | null;
            /**
             * @description How the lead was chosen: `pinned` by an editor, the newest story with a lead `image`, or simply the
             *     `newest` story; `null` when there is no lead.
             * @enum {string|null}
             */
            leadSource: "pinned" | "image" | "newest" | null;
            /** @description The next stories, newest first, without the lead; at most `limit`. */
            stories: components["schemas"]["PublicArticleListItem"][];
        };
        /**
         * @example {
         *       "articleId": 1
         *     }
         */
        SectionLeadPin: {
            /** @description Id of an article of the section or one of its descendants. */
            articleId: components["schemas"]["Id"];
        };
        /**
         * @example {
         *       "id": 1,
         *       "slug": "editors-picks",
         *       "name": "Editors' Picks",
         *       "itemCount": 2,
         *       "version": 4,
         *       "createdAt": "2013-06-01T02:00:00.000Z",
         *       "updatedAt": "2013-06-08T07:30:00.000Z"
         *     }
         */
        AdminCollectionSummary: {
            id: number;
            slug: string;
            name: string;
            /** @description Number of items, whatever the status of their articles. */
            itemCount: number;
            /** @description Incremented by every change to the collection or its items; the `ETag` is `"<version>"`. */
            version: number;
            createdAt: components["schemas"]["Timestamp"];
            updatedAt: components["schemas"]["Timestamp"];
        };
        AdminCollectionList: {
            /** @description All collections, ordered by slug. */
            data: components["schemas"]["AdminCollectionSummary"][];
        };
        AdminCollectionItem: {
            /** @description Id of the item (for `PATCH`/`DELETE .../items/{itemId}` and reordering). */
            readonly id: number;
            /** @description 0-based, dense. */
            position: number;
            /** @description Headline override; `null` shows the article's headline. */
            headline: string | null;
            /** @description Image override; `null` shows the article's lead image. */
            image: components["schemas"]["PublicImage"] | null;
            article: {
                id: number;
                slug: string;
                headline: string;
                status: components["schemas"]["ArticleStatus"];
                /** @description `true` while the article is in the trash (it is then left out of the public collection). */
                trashed: boolean;
            };
        };
        /**
         * @example {
         *       "id": 1,
         *       "slug": "editors-picks",
         *       "name": "Editors' Picks",
         *       "version": 4,
         *       "createdAt": "2013-06-01T02:00:00.000Z",
         *       "updatedAt": "2013-06-08T07:30:00.000Z",
         *       "items": [
         *         {
         *           "id": 7,
         *           "position": 0,
         *           "headline": "Fourteen cities, one forum",
         *           "image": null,
         *           "article": {
         *             "id": 1,
         *             "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *             "headline": "Western Gateway Forum opens with pledges on trade and cultural exchanges",
         *             "status": "PUBLISHED",
         *             "trashed": false
         *           }
         *         },
         *         {
         *           "id": 5,
         *           "position": 1,
         *           "headline": null,
         *           "image": null,
         *           "article": {
         *             "id": 2,
         *             "slug": "analysis-why-inland-cities-are-courting-partners-abroad",
         *             "headline": "Analysis: Why inland cities are courting partners abroad",
         *             "status": "PUBLISHED",
         *             "trashed": false
         *           }
         *         }
         *       ]
         *     }
         */
        AdminCollection: {
            readonly id: number;
            slug: string;
            name: string;
            /** @description Incremented by every change to the collection or its items; the `ETag` is `"<version>"`. */
            readonly version: number;
            readonly createdAt: components["schemas"]["Timestamp"];
            readonly updatedAt: components["schemas"]["Timestamp"];
            /** @description Every item, in order. */
            items: components["schemas"]["AdminCollectionItem"][];
        };
        /**
         * @example {
         *       "slug": "editors-picks",
         *       "name": "Editors' Picks"
         *     }
         */
        CollectionCreate: {
            slug: components["schemas"]["Slug"];
            /** @description Trimmed; must not be blank. */
            name: string;
        };
        /**
         * @description Every field is optional; only the fields sent are changed.
         * @example {
         *       "name": "Selections for You"
         *     }
         */
        CollectionUpdate: {
            slug?: components["schemas"]["Slug"];
            /** @description Trimmed; must not be blank. */
            name?: string;
        };
        /**
         * @example {
         *       "articleId": 1,
         *       "position": 0,
         *       "headline": "Fourteen cities, one forum"
         *     }
         */
        CollectionItemCreate: {
            /** @description Id of an article that is not in the trash. */
            articleId: components["schemas"]["Id"];
            /** @description Where to insert (0 is the top); omitted or past the end appends. */
            position?: number;
            /** @description Headline override. Trimmed; must not be blank. Default: `null` (the server fills it in when the field is left out). */
            headline?: string | null;
            /** @description Id of an uploaded image to show instead of the article's lead image. Default: `null` (the server fills it in when the field is left out). */
            image?: number | null;
        };
        /**
         * @description Every field is optional; only the fields sent are changed; `null` removes an override.
         * @example {
         *       "image": 12
         *     }
         */
        CollectionItemUpdate: {
            /** @description Trimmed; must not be blank. */
            headline?: string | null;
            image?: number | null;
        };
        /**
         * @example {
         *       "itemIds": [
         *         5,
         *         7
         *       ]
         *     }
         */
        CollectionReorder: {
            /** @description The ids of all the collection's items, each exactly once, in the new order. */
            itemIds: components["schemas"]["Id"][];
        };
        /**
         * @description The fields of `PublicArticleListItem` (with the collection's headline override applied) plus `image`.
         *     A copy, because `additionalProperties: false` on a referenced schema cannot be extended.
         */
        PublicCollectionItem: {
            slug: string;
            /** @description The article's effective language. */
            language: components["schemas"]["LanguageTag"];
            /** @description The collection's headline override, else the article's headline. */
            headline: string;
            summary: string;
            kind: components["schemas"]["ArticleKind"];
            /** Format: date-time */
            publishedAt: string | null;
            /** @description `publishedAt` in the site's time zone, as the page prints it: `HH:mm, <Month> DD, YYYY`. */
            publishedAtLocal: string | null;
            section: components["schemas"]["SectionRef"];
            /** @description The article's own lead image; `null` when it has none. */
            leadImage: components["schemas"]["PublicImage"] | null;
            /** @description The image to show: the collection's image override, else the article's lead image, else `null`. */
            image: components["schemas"]["PublicImage"] | null;
        };
        /**
         * @example {
         *       "slug": "editors-picks",
         *       "name": "Editors' Picks",
         *       "items": [
         *         {
         *           "slug": "western-gateway-forum-opens-with-pledges-on-trade-and-exchanges",
         *           "language": "en",
         *           "headline": "Fourteen cities, one forum",
         *           "summary": "Delegates from fourteen partner cities agreed to expand freight links, student exchanges and joint trade fairs at the opening of a three-day forum.",
         *           "kind": "STORY",
         *           "publishedAt": "2013-06-08T06:55:00.000Z",
         *           "publishedAtLocal": "14:55, June 08, 2013",
         *           "section": {
         *             "slug": "foreign-affairs",
         *             "name": "Foreign Affairs"
         *           },
         *           "leadImage": null,
         *           "image": null
         *         }
         *       ]
         *     }
         */
        PublicCollection: {
            slug: string;
            name: string;
            /** @description The published articles of the collection, in the editors' order. */
            items: components["schemas"]["PublicCollectionItem"][];
        };
        /** @enum {string} */
        CorrectionType: "correction" | "clarification" | "retraction";
        Correction: {
            readonly id: number;
            articleId: number;
            type: components["schemas"]["CorrectionType"];
            text: string;
            /**
             * Format: date-time
             * @description When the correction was made public.
             */
            at: string;
            /** @description The editor who added it (null once that account is deleted). */
            author: {
                id: number;
                name: string;
            } | null;
            readonly version: number;
            /** Format: date-time */
            readonly createdAt: string;
            /** Format: date-time */
            readonly updatedAt: string;
        };
        CorrectionList: {
            data: components["schemas"]["Correction"][];
        };
        /**
         * @example {
         *       "type": "correction",
         *       "text": "An earlier version of this story misstated the number of partner cities. There are fourteen, not twelve."
         *     }
         */
        CorrectionCreate: {
            type: components["schemas"]["CorrectionType"];
            /** @description Plain text; trimmed. */
            text: string;
            /**
             * Format: date-time
             * @description Default now; not in the future, not before the article's publication.
             */
            at?: string;
        };
        CorrectionUpdate: {
            type?: components["schemas"]["CorrectionType"];
            text?: string;
            /** Format: date-time */
            at?: string;
        };
        /** @description A correction as the public article shows it (`corrections`, newest first). */
        PublicCorrection: {
            /** @description Stable; for an anchor on the page. */
            id: number;
            type: components["schemas"]["CorrectionType"];
            text: string;
            /** Format: date-time */
            at: string;
        };
        PublicCorrectionList: {
            data: {
                id: number;
                type: components["schemas"]["CorrectionType"];
                text: string;
                /** Format: date-time */
                at: string;
                article: {
                    slug: string;
                    headline: string;
                    section: components["schemas"]["SectionRef"];
                    /** Format: date-time */
                    publishedAt: string | null;
                    /**
                     * Format: uri
                     * @description The permalink (`PUBLIC_SITE_URL` + `PERMALINK_PATTERN`).
                     */
                    url: string;
                };
            }[];
            meta: components["schemas"]["PageMeta"];
        };
        /** @enum {string} */
        AuthorRole: "writer" | "reporter" | "correspondent" | "columnist" | "photographer" | "videographer" | "illustrator" | "graphics" | "editor" | "translator" | "researcher" | "contributor";
        /** @description Lower-case letters, digits and single hyphens, with at least one letter. */
        AuthorSlug: string;
        AuthorLink: {
            label: string;
            /**
             * Format: uri
             * @description http or https.
             */
            url: string;
        };
        Author: {
            readonly id: number;
            slug: string;
            name: string;
            bio: string;
            photo: components["schemas"]["PublicImage"] | null;
            links: components["schemas"]["AuthorLink"][];
            readonly version: number;
            /** Format: date-time */
            readonly createdAt: string;
            /** Format: date-time */
            readonly updatedAt: string;
        };
        AuthorList: {
            data: components["schemas"]["Author"][];
            meta: components["schemas"]["PageMeta"];
        };
        /**
         * @example {
         *       "slug": "ann-lee",
         *       "name": "Ann Lee",
         *       "bio": "Ann Lee covers trade and diplomacy from Chengdu.",
         *       "links": [
         *         {
         *           "label": "Mastodon",
         *           "url": "https://mastodon.example/@annlee"
         *         }
         *       ]
         *     }
         */
        AuthorCreate: {
            slug: components["schemas"]["AuthorSlug"];
            name: string;
            bio?: string;
            /** @description A media id. */
            photo?: number | null;
            links?: components["schemas"]["AuthorLink"][];
        };
        AuthorUpdate: {
            slug?: components["schemas"]["AuthorSlug"];
            name?: string;
            bio?: string;
            photo?: number | null;
            links?: components["schemas"]["AuthorLink"][];
        };
        /** @description An author profile credited on an article. */
        AuthorCredit: {
            slug: components["schemas"]["AuthorSlug"];
            /** @description Default: `"writer"` (the server fills it in when the field is left out). */
            role?: components["schemas"]["AuthorRole"];
        };
        PublicAuthorCredit: {
            slug: string;
            name: string;
            role: components["schemas"]["AuthorRole"];
            /**
             * Format: uri
             * @description The author's page on the site (`PUBLIC_SITE_URL` + `/authors/{slug}`).
             */
            url: string;
        };
        PublicAuthorPage: {
            author: {
                slug: string;
                name: string;
                bio: string;
                photo: components["schemas"]["PublicImage"] | null;
                links: components["schemas"]["AuthorLink"][];
                /** Format: uri */
                url: string;
            };
            /** @description Their newest published stories, newest first. */
            data: components["schemas"]["PublicArticleListItem"][];
            meta: components["schemas"]["PageMeta"];
        };
    };
    responses: {
        /**
         * @description The feed, in the format the path names: `application/rss+xml`, `application/atom+xml` or
         *     `application/feed+json` (charset UTF-8).
         */
        Feed: {
            headers: {
                ETag: components["headers"]["ContentETag"];
                "Cache-Control": components["headers"]["PublicCacheControl"];
                "Surrogate-Key": components["headers"]["SurrogateKey"];
                "Cache-Tag": components["headers"]["CacheTag"];
                /**
                 * @description The newest item's editorial modification time (absent for an empty feed). A request with
                 *     `If-Modified-Since` at or after it (and no `If-None-Match`) gets `304`.
                 */
                "Last-Modified"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/rss+xml": string;
                "application/atom+xml": string;
                "application/feed+json": components["schemas"]["JsonFeed"];
            };
        };
        /** @description A sitemap or sitemap index (sitemaps.org 0.9; the news sitemap with Google News 0.9). */
        Sitemap: {
            headers: {
                ETag: components["headers"]["ContentETag"];
                "Cache-Control": components["headers"]["PublicCacheControl"];
                "Surrogate-Key": components["headers"]["SurrogateKey"];
                /**
                 * @description The newest lastmod (or publication time) listed, when there is one; `If-Modified-Since` at or
                 *     after it (and no `If-None-Match`) gets `304`.
                 */
                "Last-Modified"?: string;
                [name: string]: unknown;
            };
            content: {
                "application/xml": string;
            };
        };
        /**
         * @description `If-None-Match` named the current `ETag`: no body. Carries `ETag`, `Cache-Control`,
         *     `Surrogate-Key` and `Cache-Tag` as the `200` would. Answered from the in-process cache
         *     without any database work when the response is cached.
         */
        NotModified: {
            headers: {
                ETag: components["headers"]["ContentETag"];
                "Cache-Control": components["headers"]["PublicCacheControl"];
                [name: string]: unknown;
            };
            content?: never;
        };
        /**
         * @description The request is invalid: a path, query or body field failed validation (`validation-error`,
         *     with `errors`), or the body is not valid JSON (`malformed-json`). Every operation refuses strings
         *     with the NUL character (U+0000) or lone UTF-16 surrogates anywhere in the path, query or body,
         *     bodies nested more than 32 levels deep, and malformed percent-encoding in the path
         *     (`validation-error`, with `errors`); a value the database cannot store is `invalid-value`.
         */
        BadRequest: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:validation-error",
                 *       "title": "Bad Request",
                 *       "status": 400,
                 *       "detail": "The request is invalid.",
                 *       "instance": "/api/v1/admin/articles",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55",
                 *       "errors": [
                 *         {
                 *           "path": "body.headline",
                 *           "message": "Invalid input: expected string, received undefined"
                 *         },
                 *         {
                 *           "path": "body.section",
                 *           "message": "No section with slug \"foreign-afairs\"."
                 *         }
                 *       ]
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 400;
                };
            };
        };
        /**
         * @description The article body could not be sanitized within `BODY_SANITIZE_TIMEOUT_MS` (`body-too-complex`, with a
         *     field error at `body.body`), or a revision being restored has a body saved before the current limits that
         *     exceeds them (no `errors`). Simplify the markup: fewer and less deeply nested elements.
         */
        BodyTooComplex: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:body-too-complex",
                 *       "title": "Unprocessable Content",
                 *       "status": 422,
                 *       "detail": "The body is too complex to process.",
                 *       "instance": "/api/v1/admin/articles",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55",
                 *       "errors": [
                 *         {
                 *           "path": "body.body",
                 *           "message": "Too complex to process; use fewer and less deeply nested elements."
                 *         }
                 *       ]
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 422;
                    /** @constant */
                    type?: "urn:dateline:problem:body-too-complex";
                };
            };
        };
        /**
         * @description No bearer token, an invalid or expired token, a token of a revoked session (logout, password change,
         *     refresh-token reuse) or of a deactivated editor (`unauthorized`); on login, a wrong email or password;
         *     on refresh, an unknown, expired, already used or revoked refresh token.
         */
        Unauthorized: {
            headers: {
                "WWW-Authenticate": components["headers"]["WwwAuthenticate"];
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:unauthorized",
                 *       "title": "Unauthorized",
                 *       "status": 401,
                 *       "detail": "The access token is invalid or expired.",
                 *       "instance": "/api/v1/admin/articles",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 401;
                };
            };
        };
        /**
         * @description The signed-in editor's role does not allow this, a `WRITER` acted on another's or a locked article,
         *     or (on comment submission) comments are closed on an archived article (`forbidden`).
         */
        Forbidden: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:forbidden",
                 *       "title": "Forbidden",
                 *       "status": 403,
                 *       "detail": "This action requires the role ADMIN or EDITOR.",
                 *       "instance": "/api/v1/admin/articles/7/publish",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 403;
                };
            };
        };
        /** @description The resource does not exist, or is not published (`not-found`). */
        NotFound: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:not-found",
                 *       "title": "Not Found",
                 *       "status": 404,
                 *       "detail": "Article not found.",
                 *       "instance": "/api/v1/articles/no-such-story",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 404;
                };
            };
        };
        /**
         * @description The change conflicts with the current state: a unique value is taken (`already-exists`, with
         *     `errors`), a record is still in use (`section-in-use`, `in-use`), the last active ADMIN would be
         *     lost (`last-admin`), the password changed meanwhile (`password-changed`), the article is in the trash (`in-trash`) or not (`not-in-trash`), entries posted to an article that is not `LIVE` (`not-live`), or the
         *     workflow does not allow the move (`invalid-transition`, with `currentStatus` and `requestedStatus`).
         */
        Conflict: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 409;
                };
            };
        };
        /** @description The article was trashed longer ago than the retention period and can no longer be restored (`trash-expired`). */
        Gone: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:trash-expired",
                 *       "title": "Gone",
                 *       "status": 410,
                 *       "detail": "The article was trashed more than 30 days ago.",
                 *       "instance": "/api/v1/admin/articles/7/restore",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 410;
                };
            };
        };
        /**
         * @description Someone else holds the article's edit lock (`locked`): `lockedBy` says who and until when. Wait,
         *     ask them, or (EDITOR and ADMIN) take the lock over with `POST /admin/articles/{id}/lock?force=true`.
         */
        Locked: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:locked",
                 *       "title": "Locked",
                 *       "status": 423,
                 *       "detail": "Li Wei is editing this article (locked until 2026-11-26T18:02:00.000Z); an EDITOR or ADMIN can take the lock over with POST .../lock?force=true.",
                 *       "instance": "/api/v1/admin/articles/7",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55",
                 *       "lockedBy": {
                 *         "id": 3,
                 *         "name": "Li Wei",
                 *         "since": "2026-11-26T17:58:00.000Z",
                 *         "expiresAt": "2026-11-26T18:02:00.000Z"
                 *       }
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 423;
                };
            };
        };
        /**
         * @description The resource changed since the client read it: the `If-Match` ETag is stale, or a concurrent write won
         *     (`precondition-failed`). The problem carries the `currentEtag` and the `current` representation (also
         *     sent as the `ETag` header); reapply the change to it and retry with the new ETag.
         */
        PreconditionFailed: {
            headers: {
                ETag: components["headers"]["ETag"];
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:precondition-failed",
                 *       "title": "Precondition Failed",
                 *       "status": 412,
                 *       "detail": "The resource changed since you read it: reload, reapply your change and send the new ETag.",
                 *       "instance": "/api/v1/admin/sections/2",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55",
                 *       "currentEtag": "\"4\"",
                 *       "current": {
                 *         "id": 2,
                 *         "slug": "foreign-affairs",
                 *         "name": "Foreign Affairs",
                 *         "description": "Diplomatic visits, international forums and exchanges between cities and countries.",
                 *         "position": 10,
                 *         "parent": {
                 *           "id": 1,
                 *           "slug": "english",
                 *           "name": "English"
                 *         },
                 *         "leadArticleId": null,
                 *         "language": null,
                 *         "version": 4,
                 *         "createdAt": "2013-05-30T02:00:00.000Z",
                 *         "updatedAt": "2013-06-02T08:15:00.000Z"
                 *       }
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 412;
                };
            };
        };
        /** @description The request must carry an `If-Match` header with the ETag last read (`precondition-required`). */
        PreconditionRequired: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:precondition-required",
                 *       "title": "Precondition Required",
                 *       "status": 428,
                 *       "detail": "Send the ETag you last read in an If-Match header, so concurrent edits are not lost.",
                 *       "instance": "/api/v1/admin/articles/7",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 428;
                };
            };
        };
        /**
         * @description Too many failed sign-ins for this account from this address, from this address, or for this account
         *     (`too-many-login-attempts`); see `POST /api/v1/auth/login`.
         */
        TooManyRequests: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:too-many-login-attempts",
                 *       "title": "Too Many Requests",
                 *       "status": 429,
                 *       "detail": "Too many failed logins for this account; try again in 540 seconds.",
                 *       "instance": "/api/v1/auth/login",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 429;
                };
            };
        };
        /** @description The article after the change. */
        ArticleAfterAction: {
            headers: {
                ETag: components["headers"]["ETag"];
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["AdminArticle"];
            };
        };
        /** @description The request body exceeds the configured limit, 1 MiB by default (`body-too-large`). */
        PayloadTooLarge: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:body-too-large",
                 *       "title": "Content Too Large",
                 *       "status": 413,
                 *       "detail": "The request body exceeds the limit of 1048576 bytes.",
                 *       "instance": "/api/v1/admin/articles",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 413;
                };
            };
        };
        /**
         * @description The body is not `application/json` (`unsupported-media-type`), or uses an unsupported charset or
         *     content encoding (`unsupported-encoding`).
         */
        UnsupportedMediaType: {
            headers: {
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:unsupported-media-type",
                 *       "title": "Unsupported Media Type",
                 *       "status": 415,
                 *       "detail": "Send the body as application/json.",
                 *       "instance": "/api/v1/auth/login",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 415;
                };
            };
        };
        /**
         * @description The database is unreachable, overloaded or timed out (`database-unavailable`: connection refused or
         *     lost, no free connection within `DATABASE_CONNECT_TIMEOUT_MS`, a statement beyond
         *     `DATABASE_STATEMENT_TIMEOUT_MS`); on `/readyz` also `not-ready` (no answer within
         *     `READINESS_TIMEOUT_MS`, or pending migrations); `storage-unavailable` when `MEDIA_STORAGE=s3` and the
         *     bucket cannot be reached or refuses the request (image uploads and `/media/...` files). Retry after
         *     `Retry-After` seconds.
         */
        ServiceUnavailable: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                "X-Request-Id": components["headers"]["RequestId"];
                [name: string]: unknown;
            };
            content: {
                /**
                 * @example {
                 *       "type": "urn:dateline:problem:not-ready",
                 *       "title": "Service Unavailable",
                 *       "status": 503,
                 *       "detail": "The database is not reachable.",
                 *       "instance": "/readyz",
                 *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                 *     }
                 */
                "application/problem+json": components["schemas"]["Problem"] & {
                    /** @constant */
                    status?: 503;
                };
            };
        };
    };
    parameters: {
        /** @description A section's slug; its sub-sections' stories are included. Unknown sections are `404`. */
        FeedSection: string;
        /** @description A tag's slug. Unknown tags are `404`. */
        FeedTag: string;
        /**
         * @description An editor's id: the stories the editor is the author of or is credited on as desk editor. An editor
         *     on no published story (or no such editor) is `404`.
         */
        FeedAuthor: number;
        /**
         * @description An author profile's slug (issue 12): the stories crediting the profile. An unknown slug is `404`; a
         *     profile credited on no published story gives an empty feed. At most one of `section`, `tag`, `author`
         *     and `authorProfile`.
         */
        FeedAuthorProfile: components["schemas"]["AuthorSlug"];
        /**
         * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
         * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
         */
        ArticleSlugPath: components["schemas"]["Slug"];
        /**
         * @description The slug of a `LIVE` article (the demo newsroom's live blog in the example).
         * @example live-typhoon-makes-landfall-on-the-southern-coast
         */
        LiveArticleSlugPath: components["schemas"]["Slug"];
        /**
         * @description The section's slug.
         * @example foreign-affairs
         */
        SectionSlugPath: components["schemas"]["Slug"];
        /**
         * @description The collection's slug.
         * @example selections-for-you
         */
        CollectionSlugPath: components["schemas"]["Slug"];
        /** @description The `id` answered when the resource was created or listed. */
        IdPath: number;
        /**
         * @description Revision number (1, 2, 3, ... per article).
         * @example 1
         */
        RevisionPath: number;
        /**
         * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
         *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
         *     you last made. Required by the server: without it the answer is `428`; when it does not match the
         *     current version (weak tags never match), `412`.
         */
        IfMatchRequired: string;
        /**
         * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
         *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
         *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
         *     changes.
         */
        IfMatch: string;
        /**
         * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
         *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
         *     find `zh-Hans`. A malformed tag is a `400`.
         * @example en
         */
        Language: string;
        /** @description Page size. */
        Limit: number;
        /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
        Cursor: string;
    };
    requestBodies: never;
    headers: {
        /**
         * @description Only on servers with read replicas (`DATABASE_REPLICA_URLS`):
         *     `dateline_read_after=<WAL position>.<signature>; Max-Age=300; Path=/; HttpOnly; SameSite=Lax`.
         *     Sent back on public reads, it keeps them off replicas that have not replayed this write yet
         *     (read-your-writes). Opaque to clients; a forged or altered value is ignored.
         */
        ReadAfterCookie: string;
        /**
         * @description Strong entity tag of this exact representation (a hash of its bytes). Send it back in
         *     `If-None-Match` to get `304 Not Modified` without the body.
         * @example "Yk3mR0o1c9bF2cVt4u8J6w7x0zQ1a2B3"
         */
        ContentETag: string;
        /**
         * @description `public, max-age=<browser seconds>, s-maxage=<CDN seconds>, stale-while-revalidate=<n>, stale-if-error=<n>`,
         *     per endpoint (see "Caching" in the API description). Errors are `no-store`.
         * @example public, max-age=30, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400
         */
        PublicCacheControl: string;
        /**
         * @description Space-separated surrogate keys of this response (Fastly, Varnish xkey): purge a key and every
         *     response carrying it goes. `article:<id>`, `section:<id>`, `sections`, `front:<slug>`, `latest`,
         *     `articles`, `collection:<slug>`, `popular`, `comments:<articleId>`, `tag:<slug>`.
         * @example sections article:42 comments:42 section:7
         */
        SurrogateKey: string;
        /**
         * @description The same keys as `Surrogate-Key`, comma-separated (Cloudflare, Akamai).
         * @example sections,article:42,comments:42,section:7
         */
        CacheTag: string;
        /**
         * @description URL path of the created resource.
         * @example /api/v1/admin/articles/42
         */
        Location: string;
        /**
         * @description Strong entity tag of the resource's current version, `"<version>"`; send it back in `If-Match`.
         * @example "3"
         */
        ETag: string;
        /**
         * @description Seconds to wait before trying again.
         * @example 540
         */
        RetryAfter: string;
        /** @description Id of this request, as logged by the server. */
        RequestId: string;
        /** @description Always `Bearer realm="dateline"`. */
        WwwAuthenticate: "Bearer realm=\"dateline\"";
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getApiIndex: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Links to the interactive docs, this document and the API root. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ApiIndex"];
                };
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The process is alive. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    getReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready to serve traffic. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The metrics, in the Prometheus text format 0.0.4. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
        };
    };
    getOpenApiYaml: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document, as stored in the repository. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/yaml": string;
                };
            };
        };
    };
    getOpenApiJson: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI document, parsed from the YAML file. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
        };
    };
    login: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LoginRequest"];
            };
        };
        responses: {
            /** @description Signed in. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPair"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    refreshTokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshRequest"];
            };
        };
        responses: {
            /** @description A new token pair; the refresh token sent is no longer valid. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPair"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    logout: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RefreshRequest"];
            };
        };
        responses: {
            /** @description Signed out (or nothing to do). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCurrentEditor: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The editor the access token belongs to. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Editor"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    changeOwnPassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PasswordChange"];
            };
        };
        responses: {
            /** @description Changed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["TooManyRequests"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listPublishedArticles: {
        parameters: {
            query?: {
                /** @description Slug of a section; its descendants are included. */
                section?: components["schemas"]["Slug"];
                /**
                 * @description Slug of a tag.
                 * @example diplomacy
                 */
                tag?: components["schemas"]["Slug"];
                kind?: components["schemas"]["ArticleKind"];
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of published articles. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicArticleList"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    searchArticles: {
        parameters: {
            query: {
                /**
                 * @description The query text, 1 to 500 characters after trimming (longer is a `400`).
                 * @example forum gate
                 */
                q: string;
                /** @description Slug of a section; its descendants are included. Unknown is a `404`. */
                section?: components["schemas"]["Slug"];
                /**
                 * @description Slug of a tag.
                 * @example diplomacy
                 */
                tag?: components["schemas"]["Slug"];
                kind?: components["schemas"]["ArticleKind"];
                /**
                 * @description BCP 47 tag; `zh` also matches `zh-Hans`, `zh-Hant-TW`… The query is parsed in that language only.
                 * @example en
                 */
                language?: string;
                /**
                 * @description Published at or after this date (`2026-11-01`, 00:00 UTC) or date-time (with offset).
                 * @example 2013-06-01
                 */
                from?: string;
                /**
                 * @description Published on or before this date (the whole day, UTC) or at or before this date-time.
                 * @example 2013-06-30
                 */
                to?: string;
                sort?: "relevance" | "newest";
                /** @description Page size. */
                limit?: number;
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of hits, best (or newest) first. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchResults"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getPublishedArticle: {
        parameters: {
            query?: {
                /** @description `ninjs`: the article as an IPTC ninjs 3.1 item. `json` (or absent): Dateline's own JSON. */
                format?: "json" | "ninjs";
            };
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The article. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicArticle"] | components["schemas"]["NinjsItem"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            /**
             * @description The article was withdrawn (`POST /api/v1/admin/articles/{id}/withdraw`): its tombstone. Public and
             *     cacheable like the article (same `Cache-Control`), under the article's surrogate key, which a
             *     reinstatement purges.
             */
            410: {
                headers: {
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ArticleTombstone"];
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getArticlePreview: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Preview token from `POST /api/v1/admin/articles/{id}/preview`. */
                token: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The article as it would be published. */
            200: {
                headers: {
                    /** @description Always `private, no-store`. */
                    "Cache-Control"?: "private, no-store";
                    /** @description Always `noindex`. */
                    "X-Robots-Tag"?: "noindex";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicArticle"];
                };
            };
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listLiveEntries: {
        parameters: {
            query?: {
                /** @description `meta.cursor` of an earlier answer: only the changes after it. */
                since?: string;
                /** @description `meta.nextCursor` of an earlier answer: the next, older page (not with `since`). */
                before?: string;
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path: {
                /**
                 * @description The slug of a `LIVE` article (the demo newsroom's live blog in the example).
                 * @example live-typhoon-makes-landfall-on-the-southern-coast
                 */
                slug: components["parameters"]["LiveArticleSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Entries (or changes), newest first. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicLiveEntryList"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    streamLiveEntries: {
        parameters: {
            query?: {
                /** @description `meta.cursor` of an earlier list: replay the changes after it first. */
                since?: string;
            };
            header?: {
                /** @description The last event id received (set by EventSource when it reconnects). */
                "Last-Event-ID"?: string;
            };
            path: {
                /**
                 * @description The slug of a `LIVE` article (the demo newsroom's live blog in the example).
                 * @example live-typhoon-makes-landfall-on-the-southern-coast
                 */
                slug: components["parameters"]["LiveArticleSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The event stream. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example retry: 5000
                     *
                     *     event: ready
                     *     data: {"cursor":"eyJzIjo0Mn0"}
                     *
                     *     id: 43
                     *     event: entry.created
                     *     data: {"id":17,"title":null,"body":"<p>Polls close.</p>","keyEvent":true,"pinned":false,"author":{"name":"Li Wei"},"deleted":false,"createdAt":"2026-11-26T18:00:00.000Z","updatedAt":"2026-11-26T18:00:00.000Z"}
                     */
                    "text/event-stream": string;
                };
            };
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listArticleComments: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of approved comments. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicCommentList"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    submitComment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CommentSubmission"];
            };
        };
        responses: {
            /** @description Accepted for moderation. */
            202: {
                headers: {
                    "Set-Cookie": components["headers"]["ReadAfterCookie"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CommentReceipt"];
                };
            };
            400: components["responses"]["BadRequest"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            /** @description The same comment (ignoring case and spacing) was already posted on this article (`duplicate-comment`). */
            409: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 409;
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description Too many comments from this address (IPv6 /64) in the rate window (`too-many-comments`). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 429;
                    };
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSectionTree: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The section tree. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicSectionTree"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The section's slug.
                 * @example foreign-affairs
                 */
                slug: components["parameters"]["SectionSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The section. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicSection"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    ingestNinjsItem: {
        parameters: {
            query?: {
                /** @description Slug of the section a new item goes into (required for a new `uri`). */
                section?: components["schemas"]["Slug"];
                /** @description The agency, when the item names none. */
                source?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NinjsIngestItem"];
            };
        };
        responses: {
            /** @description The article of an item ingested before (updated, unchanged or canceled). */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IngestResult"];
                };
            };
            /** @description A new draft made from the item. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IngestResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["BodyTooComplex"];
            /** @description The article is locked by another editor (canceled item; see the edit locks). */
            423: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listArticles: {
        parameters: {
            query?: {
                /** @description `true` lists only trashed articles; `false` (the default) only those not in the trash. */
                trashed?: boolean;
                status?: components["schemas"]["ArticleStatus"];
                /** @description Slug of a section; its descendants are included. */
                section?: components["schemas"]["Slug"];
                /** @description Id of the authoring editor. */
                author?: components["schemas"]["Id"];
                kind?: components["schemas"]["ArticleKind"];
                /**
                 * @description Only the members of this translation group (an article's `translationGroup`): the versions of one story
                 *     in every language and status. Not applied together with `q`.
                 */
                translationGroup?: string;
                /**
                 * @description Full-text search (the syntax of `GET /api/v1/search`) over every status, drafts included, combined with
                 *     the other filters and the draft access rules above. Ranked (best first) instead of by id: the newest
                 *     200 matches (by id) are ranked and counted. `meta` then also carries `total`, `totalIsEstimate` and `hits`
                 *     (each article's rank and a `<mark>`-highlighted snippet of its body text, in the order of `data`).
                 *     1 to 500 characters after trimming.
                 */
                q?: string;
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of articles. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminArticleList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createArticle: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ArticleCreate"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminArticle"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["BodyTooComplex"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getArticle: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The article. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminArticle"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteArticle: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Moved to the trash. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            423: components["responses"]["Locked"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateArticle: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["ArticleUpdate"];
            };
        };
        responses: {
            /** @description The changed article. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminArticle"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["BodyTooComplex"];
            423: components["responses"]["Locked"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    restoreArticle: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            /** @description The restored article. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminArticle"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            410: components["responses"]["Gone"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    purgeArticle: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            /** @description Purged. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    submitArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    returnArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ReturnRequest"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    scheduleArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ScheduleRequest"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    publishArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["PublishRequest"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    unpublishArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    withdrawArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WithdrawArticleRequest"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    reinstateArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": Record<string, never>;
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    archiveArticle: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createArticlePreview: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            /** @description The preview link. */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PreviewLink"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listArticleRevisions: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of revisions. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevisionList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getArticleRevision: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                /**
                 * @description Revision number (1, 2, 3, ... per article).
                 * @example 1
                 */
                rev: components["parameters"]["RevisionPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The revision. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Revision"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    restoreArticleRevision: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                /**
                 * @description Revision number (1, 2, 3, ... per article).
                 * @example 1
                 */
                rev: components["parameters"]["RevisionPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            200: components["responses"]["ArticleAfterAction"];
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["BodyTooComplex"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    lockArticle: {
        parameters: {
            query?: {
                /** @description Take the lock over from its holder (EDITOR and ADMIN only). */
                force?: "true" | "false";
            };
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            /** @description The lock, now held by the caller until `lockedBy.expiresAt`. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EditLock"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            415: components["responses"]["UnsupportedMediaType"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    unlockArticle: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Released (or there was none). */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            423: components["responses"]["Locked"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAdminLiveEntries: {
        parameters: {
            query?: {
                /**
                 * @description Deleted entries: `include` them (the default), `exclude` them, or list `only` them.
                 * @example exclude
                 */
                deleted?: "include" | "exclude" | "only";
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of entries, newest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminLiveEntryList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createLiveEntry: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LiveEntryCreate"];
            };
        };
        responses: {
            /** @description The entry. */
            201: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminLiveEntry"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["BodyTooComplex"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getLiveEntry: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                entryId: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The entry. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminLiveEntry"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteLiveEntry: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                entryId: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateLiveEntry: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                entryId: number;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["LiveEntryUpdate"];
            };
        };
        responses: {
            /** @description The changed entry. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminLiveEntry"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            422: components["responses"]["BodyTooComplex"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listSections: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All sections. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminSectionList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createSection: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SectionCreate"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminSection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSectionById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The section. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminSection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteSection: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateSection: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["SectionUpdate"];
            };
        };
        responses: {
            /** @description The changed section. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminSection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listComments: {
        parameters: {
            query?: {
                status?: components["schemas"]["CommentStatus"];
                /** @description Id of the article. */
                article?: components["schemas"]["Id"];
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of comments. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCommentList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteComment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    moderateComment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CommentModeration"];
            };
        };
        responses: {
            /** @description The moderated comment. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminComment"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listEditorDirectory: {
        parameters: {
            query?: {
                /** @description Only editors with this role. */
                role?: components["schemas"]["Role"];
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of active editors. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EditorDirectory"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listEditors: {
        parameters: {
            query?: {
                /** @description `true` for active accounts only, `false` for deactivated ones. */
                active?: boolean;
                role?: components["schemas"]["Role"];
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of editors. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["EditorList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createEditor: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["EditorCreate"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Editor"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getEditor: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The editor. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Editor"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deactivateEditor: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The deactivated editor. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Editor"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateEditor: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EditorUpdate"];
            };
        };
        responses: {
            /** @description The changed editor. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Editor"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAuditEntries: {
        parameters: {
            query?: {
                /** @description An exact action such as `article.publish`, or a prefix ending in `.` such as `article.`. */
                action?: string;
                /** @description Id of the acting editor. */
                actor?: components["schemas"]["Id"];
                targetType?: "article" | "section" | "comment" | "editor" | "media" | "collection" | "author" | "live-entry";
                targetId?: components["schemas"]["Id"];
                /** @description Entries at or after this time (RFC 3339, with `Z` or an offset). */
                since?: string;
                /** @description Entries before this time (RFC 3339, with `Z` or an offset). */
                until?: string;
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of audit entries. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuditList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listChangeEvents: {
        parameters: {
            query?: {
                /**
                 * @description List events with a greater id, oldest first. `0` starts at the oldest event kept.
                 * @example 0
                 */
                after?: string;
                /** @description At most this many events (1–500, default 100). */
                limit?: number;
                /** @description An exact type such as `article.published`, or a prefix ending in `.` such as `comment.`. */
                type?: string;
                entityType?: "article" | "section" | "comment" | "editor" | "media" | "collection" | "author" | "live-entry";
                entityId?: components["schemas"]["Id"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Events, newest first without `after`, oldest first with it. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChangeEventList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listPurgeRequests: {
        parameters: {
            query?: {
                /** @description Only requests in this state. */
                status?: "pending" | "done" | "failed";
                /** @description At most this many (1–100, default 50). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Purge requests, newest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PurgeRequestList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    purgeKeys: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "keys": [
                 *         "article:42",
                 *         "front:world"
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @description Surrogate keys such as `article:42`, `front:world`, `latest`. */
                    keys: string[];
                    soft?: boolean;
                };
            };
        };
        responses: {
            /** @description Queued (or, in the dry run, logged). */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "provider": "fastly",
                     *       "dryRun": false,
                     *       "keys": [
                     *         "article:42",
                     *         "front:world"
                     *       ],
                     *       "soft": true,
                     *       "requests": 1
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        provider: "log" | "fastly" | "cloudflare" | "varnish" | "http";
                        dryRun: boolean;
                        keys: string[];
                        soft: boolean;
                        /** @description Purge requests queued (keys split at the provider's limit). */
                        requests: number;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listWebhooks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The endpoints. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        data: components["schemas"]["WebhookEndpoint"][];
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookCreate"];
            };
        };
        responses: {
            /** @description Created; `secret` is shown this once. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The endpoint. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookUpdate"];
            };
        };
        responses: {
            /** @description The endpoint as changed. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    rotateWebhookSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["WebhookRotate"];
            };
        };
        responses: {
            /** @description The endpoint with its new secret. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
                status?: "pending" | "succeeded" | "failed" | "dead";
            };
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of deliveries. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        data: components["schemas"]["WebhookDelivery"][];
                        meta: components["schemas"]["PageMeta"];
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    redeliverWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                deliveryId: components["schemas"]["Id"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Queued. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDelivery"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    pingWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Queued; follow it in the delivery log. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDelivery"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listMedia: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of images. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MediaList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    uploadMedia: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["MediaUpload"];
            };
        };
        responses: {
            /** @description The stored image. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminMedia"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            /**
             * @description The file is over `MEDIA_MAX_BYTES` (`file-too-large`), or the image has more pixels than
             *     `MEDIA_MAX_PIXELS` (`image-too-large`); the detail names the limit.
             */
            413: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:dateline:problem:image-too-large",
                     *       "title": "Content Too Large",
                     *       "status": 413,
                     *       "detail": "The image has 10000000000 pixels (100000 × 100000); the limit is 50000000 pixels.",
                     *       "instance": "/api/v1/admin/media",
                     *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 413;
                    };
                };
            };
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMedia: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The image record. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminMedia"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteMedia: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; the file is no longer served. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateMedia: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["MediaUpdate"];
            };
        };
        responses: {
            /** @description The changed image record. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminMedia"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getMediaFile: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 2013 */
                year: string;
                /** @example 06 */
                month: string;
                /**
                 * @description `<uuid>.<jpg|png|webp|gif>`. No example is filled in: file names are random, so copy the last part of
                 *     an image's `url` (for example the `leadImage.url` of the demo's flagship story, under `/media/2013/06/`).
                 */
                file: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The file, as uploaded. */
            200: {
                headers: {
                    /** @description Always `public, max-age=31536000, immutable`. */
                    "Cache-Control"?: "public, max-age=31536000, immutable";
                    /** @description Entity tag of the file, for conditional requests. */
                    ETag?: string;
                    "X-Content-Type-Options"?: "nosniff";
                    [name: string]: unknown;
                };
                content: {
                    "image/jpeg": unknown;
                    "image/png": unknown;
                    "image/webp": unknown;
                    "image/gif": unknown;
                };
            };
            /** @description One byte range of the file (`Range: bytes=...`), with `Content-Range`. */
            206: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/jpeg": unknown;
                    "image/png": unknown;
                    "image/webp": unknown;
                    "image/gif": unknown;
                };
            };
            /** @description Not modified (`If-None-Match` or `If-Modified-Since` matched). */
            304: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            404: components["responses"]["NotFound"];
            /** @description `If-Match` or `If-Unmodified-Since` did not match the file. */
            412: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The requested range lies outside the file. */
            416: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    recordArticleView: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["EmptyBody"];
            };
        };
        responses: {
            /** @description Accepted; says whether the view was counted. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ViewReceipt"];
                };
            };
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            /** @description Too many beacons from this address (IPv6 /64) in the last minute (`too-many-requests`). */
            429: {
                headers: {
                    "Retry-After": components["headers"]["RetryAfter"];
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "type": "urn:dateline:problem:too-many-requests",
                     *       "title": "Too Many Requests",
                     *       "status": 429,
                     *       "detail": "Too many view beacons from this address; try again in 60 seconds.",
                     *       "instance": "/api/v1/articles/western-gateway-forum-opens-with-pledges-on-trade-and-exchanges/views",
                     *       "requestId": "2f1c7d0e-5b7a-4a43-9d0e-0d6a1c1f4a55"
                     *     }
                     */
                    "application/problem+json": components["schemas"]["Problem"] & {
                        /** @constant */
                        status?: 429;
                    };
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listPopularArticles: {
        parameters: {
            query?: {
                window?: "24h" | "7d" | "30d";
                /** @description Slug of a section; its descendants are included. */
                section?: components["schemas"]["Slug"];
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
                /** @description Number of articles. */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The ranking. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PopularList"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    moderateComments: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CommentBulkModeration"];
            };
        };
        responses: {
            /** @description All comments were moderated. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CommentBulkResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getArticlePrintView: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The article's slug (`slug` in the article's JSON; the demo newsroom's flagship story in the example).
                 * @example western-gateway-forum-opens-with-pledges-on-trade-and-exchanges
                 */
                slug: components["parameters"]["ArticleSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The print version, as HTML or plain text (see the `Accept` negotiation above). */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    /** @description Always `Accept` (the representation is negotiated). */
                    Vary?: "Accept";
                    /** @description Always `default-src 'none'; img-src * data:; style-src 'unsafe-inline'`. */
                    "Content-Security-Policy"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                    "text/plain": string;
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            /** @description The article was withdrawn (`withdrawn`); `GET /api/v1/articles/{slug}` answers with its tombstone. */
            410: {
                headers: {
                    "X-Request-Id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listLatestArticles: {
        parameters: {
            query?: {
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
                /** @description Number of articles. */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The newest articles. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LatestList"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSectionFront: {
        parameters: {
            query?: {
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
                /** @description Number of stories after the lead. */
                limit?: number;
            };
            header?: never;
            path: {
                /**
                 * @description The section's slug.
                 * @example foreign-affairs
                 */
                slug: components["parameters"]["SectionSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The section front. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SectionFront"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    pinSectionLead: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SectionLeadPin"];
            };
        };
        responses: {
            /** @description The section with its new `leadArticleId`. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminSection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    unpinSectionLead: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The section, `leadArticleId` now `null`. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminSection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCollection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The collection's slug.
                 * @example selections-for-you
                 */
                slug: components["parameters"]["CollectionSlugPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The collection. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicCollection"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listCollections: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description All collections. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollectionList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createCollection: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CollectionCreate"];
            };
        };
        responses: {
            /** @description Created. */
            201: {
                headers: {
                    Location: components["headers"]["Location"];
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCollectionById: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The collection. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteCollection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateCollection: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CollectionUpdate"];
            };
        };
        responses: {
            /** @description The changed collection. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    reorderCollectionItems: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CollectionReorder"];
            };
        };
        responses: {
            /** @description The reordered collection. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    addCollectionItem: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CollectionItemCreate"];
            };
        };
        responses: {
            /** @description The collection with the new item. */
            201: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    removeCollectionItem: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                /** @description Id of the collection item (not of the article). */
                itemId: components["schemas"]["Id"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The collection after the removal. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateCollectionItem: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                /** @description Id of the collection item (not of the article). */
                itemId: components["schemas"]["Id"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CollectionItemUpdate"];
            };
        };
        responses: {
            /** @description The collection after the change. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AdminCollection"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listCorrections: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every correction of the article (at most 100), newest first (by `at`, then id). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CorrectionList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    addCorrection: {
        parameters: {
            query?: never;
            header?: {
                /**
                 * @description Optional. The `ETag` response header of your last read of the article (quotes included, for example
                 *     `"3"`), or `*`. No example is filled in: leave it empty, or copy the `ETag` you last read. When sent
                 *     and it does not match the current version (weak tags never match), the answer is `412` and nothing
                 *     changes.
                 */
                "If-Match"?: components["parameters"]["IfMatch"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CorrectionCreate"];
            };
        };
        responses: {
            /** @description The correction. */
            201: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Correction"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            413: components["responses"]["PayloadTooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getCorrection: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                correctionId: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The correction. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Correction"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteCorrection: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                correctionId: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateCorrection: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
                correctionId: number;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["CorrectionUpdate"];
            };
        };
        responses: {
            /** @description The changed correction. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Correction"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            415: components["responses"]["UnsupportedMediaType"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listPublicCorrections: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of corrections. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicCorrectionList"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    listAuthors: {
        parameters: {
            query?: {
                q?: string;
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of profiles. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthorList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    createAuthor: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AuthorCreate"];
            };
        };
        responses: {
            /** @description The profile. */
            201: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    Location: components["headers"]["Location"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Author"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            415: components["responses"]["UnsupportedMediaType"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getAuthor: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The profile. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Author"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    deleteAuthor: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            412: components["responses"]["PreconditionFailed"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    updateAuthor: {
        parameters: {
            query?: never;
            header: {
                /**
                 * @description The `ETag` response header of your last read of this resource (quotes included, for example `"3"`),
                 *     or `*` to skip the check. No example is filled in: copy the `ETag` of the `GET` (or of the write)
                 *     you last made. Required by the server: without it the answer is `428`; when it does not match the
                 *     current version (weak tags never match), `412`.
                 */
                "If-Match": components["parameters"]["IfMatchRequired"];
            };
            path: {
                /** @description The `id` answered when the resource was created or listed. */
                id: components["parameters"]["IdPath"];
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": components["schemas"]["AuthorUpdate"];
            };
        };
        responses: {
            /** @description The changed profile. */
            200: {
                headers: {
                    ETag: components["headers"]["ETag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Author"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            412: components["responses"]["PreconditionFailed"];
            415: components["responses"]["UnsupportedMediaType"];
            428: components["responses"]["PreconditionRequired"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getPublicAuthor: {
        parameters: {
            query?: {
                /** @description Page size. */
                limit?: components["parameters"]["Limit"];
                /** @description Opaque cursor from `meta.nextCursor` of the previous page. */
                cursor?: components["parameters"]["Cursor"];
            };
            header?: never;
            path: {
                /**
                 * @description The author profile's slug.
                 * @example zhou-min
                 */
                slug: components["schemas"]["AuthorSlug"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The author page. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    "Surrogate-Key": components["headers"]["SurrogateKey"];
                    "Cache-Tag": components["headers"]["CacheTag"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PublicAuthorPage"];
                };
            };
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getFeed: {
        parameters: {
            query?: {
                /** @description A section's slug; its sub-sections' stories are included. Unknown sections are `404`. */
                section?: components["parameters"]["FeedSection"];
                /** @description A tag's slug. Unknown tags are `404`. */
                tag?: components["parameters"]["FeedTag"];
                /**
                 * @description An editor's id: the stories the editor is the author of or is credited on as desk editor. An editor
                 *     on no published story (or no such editor) is `404`.
                 */
                author?: components["parameters"]["FeedAuthor"];
                /**
                 * @description An author profile's slug (issue 12): the stories crediting the profile. An unknown slug is `404`; a
                 *     profile credited on no published story gives an empty feed. At most one of `section`, `tag`, `author`
                 *     and `authorProfile`.
                 */
                authorProfile?: components["parameters"]["FeedAuthorProfile"];
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
            };
            header?: never;
            path: {
                /**
                 * @description `rss` (RSS 2.0), `atom` (Atom 1.0) or `json` (JSON Feed 1.1).
                 * @example rss
                 */
                format: "rss" | "atom" | "json";
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Feed"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getRssFeed: {
        parameters: {
            query?: {
                /** @description A section's slug; its sub-sections' stories are included. Unknown sections are `404`. */
                section?: components["parameters"]["FeedSection"];
                /** @description A tag's slug. Unknown tags are `404`. */
                tag?: components["parameters"]["FeedTag"];
                /**
                 * @description An editor's id: the stories the editor is the author of or is credited on as desk editor. An editor
                 *     on no published story (or no such editor) is `404`.
                 */
                author?: components["parameters"]["FeedAuthor"];
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Feed"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getAtomFeed: {
        parameters: {
            query?: {
                /** @description A section's slug; its sub-sections' stories are included. Unknown sections are `404`. */
                section?: components["parameters"]["FeedSection"];
                /** @description A tag's slug. Unknown tags are `404`. */
                tag?: components["parameters"]["FeedTag"];
                /**
                 * @description An editor's id: the stories the editor is the author of or is credited on as desk editor. An editor
                 *     on no published story (or no such editor) is `404`.
                 */
                author?: components["parameters"]["FeedAuthor"];
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Feed"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getJsonFeed: {
        parameters: {
            query?: {
                /** @description A section's slug; its sub-sections' stories are included. Unknown sections are `404`. */
                section?: components["parameters"]["FeedSection"];
                /** @description A tag's slug. Unknown tags are `404`. */
                tag?: components["parameters"]["FeedTag"];
                /**
                 * @description An editor's id: the stories the editor is the author of or is credited on as desk editor. An editor
                 *     on no published story (or no such editor) is `404`.
                 */
                author?: components["parameters"]["FeedAuthor"];
                /**
                 * @description Only articles in this language (BCP 47; their effective language: the article's own, else its section's,
                 *     else `SITE_LANGUAGE`). Matched in canonical case (`zh-hans` finds `zh-Hans`), exactly: `zh` does not
                 *     find `zh-Hans`. A malformed tag is a `400`.
                 * @example en
                 */
                language?: components["parameters"]["Language"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Feed"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSitemapIndex: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Sitemap"];
            304: components["responses"]["NotModified"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getSitemap: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example articles-1.xml */
                file: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Sitemap"];
            304: components["responses"]["NotModified"];
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getNewsSitemap: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            200: components["responses"]["Sitemap"];
            304: components["responses"]["NotModified"];
            503: components["responses"]["ServiceUnavailable"];
        };
    };
    getRobotsTxt: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The robots.txt file. */
            200: {
                headers: {
                    ETag: components["headers"]["ContentETag"];
                    "Cache-Control": components["headers"]["PublicCacheControl"];
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example User-agent: *
                     *     Disallow: /api/v1/admin/
                     *     Disallow: /api/v1/preview/
                     *
                     *     Sitemap: https://www.example.com/sitemap.xml
                     *     Sitemap: https://www.example.com/sitemap-news.xml
                     */
                    "text/plain": string;
                };
            };
            304: components["responses"]["NotModified"];
        };
    };
    articlePublishedWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: components["schemas"]["PublicArticle"] | components["schemas"]["WebhookArticleRef"];
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    articleUnpublishedWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: components["schemas"]["WebhookArticleRef"];
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    articleWithdrawnWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: components["schemas"]["WebhookArticleRef"];
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    sectionChangedWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: components["schemas"]["WebhookSection"];
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    commentWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: components["schemas"]["WebhookComment"];
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    mediaCreatedWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: {
                        id: components["schemas"]["Id"];
                    };
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    mediaUpdatedWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: {
                        id: components["schemas"]["Id"];
                    };
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    mediaDeletedWebhook: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"] & {
                    data?: {
                        id: components["schemas"]["Id"];
                    };
                };
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    pingDelivery: {
        parameters: {
            query?: never;
            header: {
                /** @description The event id, the same on every attempt and redelivery. Process each id once. */
                "Dateline-Event-Id": string;
                "Dateline-Event-Type": string;
                /** @description Unix seconds when this attempt was signed; refuse values far from your clock (e.g. 5 minutes). */
                "Dateline-Timestamp": string;
                /** @description `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a secret rotation two values, comma-separated. Accept if any matches. */
                "Dateline-Signature": string;
                /** @description 1 on the first attempt; higher on retries and redeliveries. */
                "Dateline-Delivery-Attempt": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookEvent"];
            };
        };
        responses: {
            /** @description Delivered. Anything else is a failure; 408, 429 and 5xx (and timeouts and connection errors) are retried with backoff, honouring Retry-After; 410 disables the endpoint; redirects are not followed. */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
