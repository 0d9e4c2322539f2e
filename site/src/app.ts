// The reference reader site: every page is rendered on the server from the public API, read through
// @dateline/client (no database here). Routes:
//   /                           home: Latest News, Selections for you, Most Popular
//   /section/:slug              section front (lead and stories)
//   /articles/:slug             article page (also any permalink ending in the slug, e.g. /world/2013/06/08/:slug)
//   /articles/:slug/print       print view
//   POST /articles/:slug/comments   the comment form (name and comment only), then back to the page
import http from "node:http";
import { createDatelineClient, DatelineProblem, toProblem, type DatelineClient, type Schemas } from "@dateline/client";
import { html, jsonForScript, raw, type Html } from "./html.ts";
import { CSS, FAVICON } from "./style.ts";

export interface SiteOptions {
  /** Where the site's server reaches the API (e.g. `http://127.0.0.1:3000`). */
  apiUrl: string;
  /** Where readers' browsers reach the API (images, the view beacon); default `apiUrl`. */
  publicApiUrl?: string;
  /** Masthead name. */
  siteName?: string;
  /** The collection shown as "Selections for you". */
  selectionsCollection?: string;
  fetch?: typeof globalThis.fetch;
}

type ListItem = Schemas["PublicArticleListItem"];
type Article = Schemas["PublicArticle"];
type Image = Schemas["PublicImage"];

class NotFound extends Error {}

const COMMENT_ERRORS: Record<string, string> = {
  "validation-error": "please give your name and a comment (with at most a couple of links)",
  "duplicate-comment": "you have already posted this comment",
  "too-many-requests": "too many comments in a short time, please wait a minute",
  forbidden: "comments are closed on this story",
};

export function createSite(options: SiteOptions): http.RequestListener {
  const client: DatelineClient = createDatelineClient({ baseUrl: options.apiUrl, fetch: options.fetch });
  const publicApi = (options.publicApiUrl ?? options.apiUrl).replace(/\/+$/, "");
  const siteName = options.siteName ?? "Dateline";
  const selections = options.selectionsCollection ?? "selections-for-you";

  const mediaUrl = (url: string) => (/^https?:\/\//.test(url) ? url : publicApi + url);
  const articleHref = (slug: string) => `/articles/${encodeURIComponent(slug)}`;
  const sectionHref = (slug: string) => `/section/${encodeURIComponent(slug)}`;

  /** The data, or `fallback` when the API has nothing there (a 404): side boxes are optional. */
  async function read<D>(p: Promise<{ data?: D; error?: unknown; response: Response }>, fallback?: D): Promise<D> {
    const r = await p;
    if (r.response.ok && r.data !== undefined) return r.data;
    if (r.response.status === 404) {
      if (fallback !== undefined) return fallback;
      throw new NotFound();
    }
    throw toProblem(r.error, r.response);
  }

  const sectionTree = () => read(client.api.GET("/api/v1/sections"));
  const latest = () => read(client.api.GET("/api/v1/latest", { params: { query: { limit: 8 } } }));
  const popular = () => read(client.api.GET("/api/v1/popular", { params: { query: { window: "7d", limit: 5 } } }));
  const collection = () => read(client.api.GET("/api/v1/collections/{slug}", { params: { path: { slug: selections } } }),
    { slug: selections, name: "Selections for you", items: [] });
  const front = (slug: string, limit = 6) =>
    read(client.api.GET("/api/v1/sections/{slug}/front", { params: { path: { slug }, query: { limit } } }));

  // ---- pieces ----

  /** An image; lazily loaded unless `eager` (the article's lead photo, seen first: no delay for it). */
  function picture(image: Image | null, sizes = "(max-width: 760px) 100vw, 320px", eager = false): Html {
    if (!image) return html``;
    return html`<img src="${mediaUrl(image.url)}" width="${image.width}" height="${image.height}" alt="${image.alt || image.caption}" sizes="${sizes}"${raw(eager ? ' fetchpriority="high"' : ' loading="lazy"')}>`;
  }

  function sectionBar(tree: Schemas["PublicSectionTree"], current?: string): Html {
    // The top-level sections and their children: the reference page's bar ("English", "China", "Foreign Affairs", ...).
    const nodes = tree.data.flatMap((root) => [root, ...root.children]);
    return html`<nav class="sections" aria-label="Sections"><ul>${nodes.map((s) =>
      html`<li><a href="${sectionHref(s.slug)}"${s.slug === current ? raw(' aria-current="page"') : ""}>${s.name}</a></li>`)}</ul></nav>`;
  }

  function latestBox(items: ListItem[]): Html {
    return html`<section class="box latest" aria-labelledby="latest-h"><h2 id="latest-h">Latest News</h2>
<ul class="plain">${items.map((a) => html`<li><a href="${articleHref(a.slug)}" lang="${a.language}">${a.headline}</a>${a.publishedAtLocal ? html` <time datetime="${a.publishedAt}">${a.publishedAtLocal}</time>` : ""}</li>`)}</ul></section>`;
  }

  function selectionsBox(c: Schemas["PublicCollection"]): Html {
    if (!c.items.length) return html``;
    return html`<section class="box selections" aria-labelledby="sel-h"><h2 id="sel-h">${c.name}</h2>
<div class="thumbs">${c.items.map((a) => html`<div class="thumb"><a href="${articleHref(a.slug)}" lang="${a.language}">${picture(a.image, "150px")}<span>${a.headline}</span></a></div>`)}</div></section>`;
  }

  function popularBox(p: Schemas["PopularList"]): Html {
    return html`<section class="box popular" aria-labelledby="pop-h"><h2 id="pop-h">Most Popular</h2>
${p.data.length
    ? html`<ol class="popular">${p.data.map((a) => html`<li><a href="${articleHref(a.slug)}" lang="${a.language}">${a.headline}</a></li>`)}</ol>`
    : html`<p>No views counted yet.</p>`}</section>`;
  }

  function sectionBox(f: Schemas["SectionFront"]): Html {
    return html`<section class="box section-box" aria-labelledby="sec-h"><h2 id="sec-h"><a href="${sectionHref(f.section.slug)}">${f.section.name}</a></h2>
${f.lead ? html`<article class="lead-story"><a href="${articleHref(f.lead.slug)}">${picture(f.lead.leadImage)}<h3>${f.lead.headline}</h3></a><p>${f.lead.summary}</p></article>` : ""}
<ul class="plain">${f.stories.map((a) => html`<li><a href="${articleHref(a.slug)}">${a.headline}</a></li>`)}</ul></section>`;
  }

  function layout(p: { title: string; lang?: string; head?: Html; bar: Html; main: Html; rail?: Html; tail?: Html }): string {
    return html`<!doctype html>
<html lang="${p.lang ?? "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title}</title>
<link rel="stylesheet" href="/site.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
${p.head ?? ""}
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="masthead" role="banner"><a class="brand" href="/">${siteName}</a>
${p.bar}</header>
<div class="page">
<main id="content" tabindex="-1">
${p.main}
</main>
${p.rail ? html`<aside class="rail" aria-label="More stories">${p.rail}</aside>` : ""}
</div>
<footer class="site" role="contentinfo">${siteName} · built on the Dateline public API</footer>
${p.tail ?? ""}
</body>
</html>`.value;
  }

  // ---- pages ----

  async function home(): Promise<string> {
    const [tree, late, pop, sel] = await Promise.all([sectionTree(), latest(), popular(), collection()]);
    return layout({
      title: siteName,
      bar: sectionBar(tree),
      main: html`<h1>${siteName}</h1>${latestBox(late.data)}`,
      rail: html`${selectionsBox(sel)}${popularBox(pop)}`,
    });
  }

  async function sectionPage(slug: string): Promise<string> {
    const [tree, f, pop] = await Promise.all([sectionTree(), front(slug, 20), popular()]);
    return layout({
      title: `${f.section.name} – ${siteName}`,
      bar: sectionBar(tree, slug),
      main: html`<nav class="breadcrumb" aria-label="Breadcrumb"><ol>${f.section.breadcrumb.map((b) => html`<li><a href="${sectionHref(b.slug)}">${b.name}</a></li>`)}</ol></nav>
<h1>${f.section.name}</h1>${f.section.description ? html`<p>${f.section.description}</p>` : ""}
${f.lead ? html`<article class="lead-story"><h2><a href="${articleHref(f.lead.slug)}">${f.lead.headline}</a></h2>${picture(f.lead.leadImage, "100vw", true)}<p>${f.lead.summary}</p></article>` : html`<p>No stories yet.</p>`}
<ul class="plain">${f.stories.map((a) => html`<li><h2 class="story"><a href="${articleHref(a.slug)}">${a.headline}</a></h2><p>${a.summary}</p></li>`)}</ul>`,
      rail: popularBox(pop),
    });
  }

  function articleHeader(a: Article): Html {
    return html`<nav class="breadcrumb" aria-label="Breadcrumb"><ol>${a.breadcrumb.map((b) => html`<li><a href="${sectionHref(b.slug)}">${b.name}</a></li>`)}</ol></nav>
<h1 class="headline" id="headline">${a.headline}</h1>
<p class="meta">${a.publishedAtLocal ? html`<time class="published" datetime="${a.publishedAt}">${a.publishedAtLocal}</time>` : ""}${a.dateline ? html` <span class="dateline">${a.dateline}</span>` : ""}${a.source ? html` <span class="source">(${a.source})</span>` : ""}${a.byline ? html` <span class="byline">By ${a.byline}</span>` : ""}</p>
${a.leadImage ? html`<figure>${picture(a.leadImage, "(max-width: 760px) 100vw, 700px", true)}${a.leadImage.caption ? html`<figcaption>${a.leadImage.caption}${a.leadImage.credit ? html` (${a.leadImage.credit})` : ""}</figcaption>` : ""}</figure>` : ""}
<div class="article-body">${raw(a.body)}</div>
${a.gallery.map((g) => html`<figure>${picture(g.image, "100vw")}<figcaption>${g.caption}</figcaption></figure>`)}
${a.editors.length ? html`<p class="editors">Editor: ${a.editors.map((e) => e.name).join(", ")}</p>` : ""}`;
  }

  async function articlePage(slug: string, query: URLSearchParams): Promise<string> {
    const article = await read(client.api.GET("/api/v1/articles/{slug}", { params: { path: { slug } } }));
    if (!("breadcrumb" in article)) throw new NotFound();
    const [tree, late, pop, sel, box, comments] = await Promise.all([
      sectionTree(), latest(), popular(), collection(), front(article.section.slug, 5),
      read(client.api.GET("/api/v1/articles/{slug}/comments", { params: { path: { slug } } })),
    ]);
    const beacon = `${publicApi}/api/v1/articles/${encodeURIComponent(article.slug)}/views`;
    const posted = query.get("comment");
    return layout({
      title: `${article.headline} – ${siteName}`,
      lang: article.language,
      head: html`<link rel="canonical" href="${article.links.canonical}">
${article.alternates.map((l) => html`<link rel="alternate" hreflang="${l.language}" href="${l.url}">`)}
<meta name="description" content="${article.summary}">
<script type="application/ld+json">${jsonForScript(article.jsonLd)}</script>`,
      bar: sectionBar(tree, article.section.slug),
      main: html`<article class="story" aria-labelledby="headline">
${articleHeader(article)}
<p class="tools"><a href="${article.links.email}">Email</a> | <a href="${articleHref(article.slug)}/print">Print</a> | <a href="#comments">Comments</a></p>
</article>
<section id="comments" class="comments" aria-labelledby="comments-h">
<h2 id="comments-h">Comments (<span class="comment-count">${article.commentCount}</span>)</h2>
${posted === "pending" ? html`<p class="notice" role="status">Thank you: your comment will appear once a moderator approves it.</p>` : ""}
${posted === "approved" ? html`<p class="notice" role="status">Thank you: your comment is published.</p>` : ""}
${posted === "error" ? html`<p class="notice" role="alert">Your comment could not be posted: ${COMMENT_ERRORS[query.get("reason") ?? ""] ?? "please try again"}.</p>` : ""}
<ol class="plain comment-list">${comments.data.map((c) => html`<li><p><strong>${c.name}</strong> <time datetime="${c.createdAt}">${c.createdAt.slice(0, 10)}</time></p><p>${c.body}</p></li>`)}</ol>
${article.commentsOpen ? html`<form class="comment" method="post" action="${articleHref(article.slug)}/comments">
<label for="c-name">Name</label><input id="c-name" name="name" required maxlength="100" autocomplete="nickname">
<label for="c-body">Comment</label><textarea id="c-body" name="body" required rows="4" maxlength="5000"></textarea>
<button type="submit">Post comment</button>
</form>` : html`<p>Comments are closed.</p>`}
</section>
${article.related.length ? html`<section class="box recommend" aria-labelledby="rec-h"><h2 id="rec-h">We Recommend</h2>
<ul class="plain">${article.related.map((r) => html`<li><a href="${articleHref(r.slug)}">${r.headline}</a></li>`)}</ul></section>` : ""}`,
      rail: html`${selectionsBox(sel)}${latestBox(late.data)}${popularBox(pop)}${sectionBox(box)}`,
      // The view beacon ("Most Popular"): sent by the reader's browser, so the API counts readers, not this server.
      tail: html`<script>fetch(${jsonForScript(beacon)},{method:"POST",keepalive:true,mode:"cors",credentials:"omit"}).catch(function(){});</script>`,
    });
  }

  async function printPage(slug: string): Promise<string> {
    const article = await read(client.api.GET("/api/v1/articles/{slug}", { params: { path: { slug } } }));
    if (!("breadcrumb" in article)) throw new NotFound();
    return html`<!doctype html>
<html lang="${article.language}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${article.headline} – ${siteName} (print)</title><link rel="stylesheet" href="/site.css"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="canonical" href="${article.links.canonical}"></head>
<body class="print">
<main id="content" class="page print-view">
<p class="brand">${siteName}</p>
<article>${articleHeader(article)}<p class="no-print"><a href="${articleHref(article.slug)}">Back to the article</a> · <button type="button" onclick="window.print()">Print</button></p></article>
<p class="permalink">${article.links.canonical}</p>
</main>
</body>
</html>`.value;
  }

  async function postComment(slug: string, req: http.IncomingMessage): Promise<string> {
    const form = new URLSearchParams(await readBody(req));
    const r = await client.api.POST("/api/v1/articles/{slug}/comments", {
      params: { path: { slug } },
      body: { name: form.get("name") ?? "", body: form.get("body") ?? "" },
    });
    if (r.data) return `${articleHref(slug)}?comment=${r.data.status === "APPROVED" ? "approved" : "pending"}#comments`;
    if (r.response.status === 404) throw new NotFound();
    const problem = toProblem(r.error, r.response);
    if (problem.status >= 500) throw problem;
    // Only the problem's code travels in the URL: the page shows its own text for it, never text from the query.
    return `${articleHref(slug)}?comment=error&reason=${encodeURIComponent(problem.code)}#comments`;
  }

  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://site.invalid");
    const parts = url.pathname.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
    const send = (status: number, body: string, type = "text/html; charset=utf-8", extra: Record<string, string> = {}) => {
      res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body), "X-Content-Type-Options": "nosniff", ...extra });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    const page = async (): Promise<void> => {
      const get = req.method === "GET" || req.method === "HEAD";
      if (get && parts.length === 0) return send(200, await home());
      if (get && url.pathname === "/site.css") return send(200, CSS, "text/css; charset=utf-8", { "Cache-Control": "public, max-age=300" });
      if (get && url.pathname === "/favicon.svg") return send(200, FAVICON, "image/svg+xml", { "Cache-Control": "public, max-age=86400" });
      // Browsers that ignore the page's icon link ask for /favicon.ico.
      if (get && url.pathname === "/favicon.ico") { res.writeHead(301, { Location: "/favicon.svg" }).end(); return; }
      if (get && parts[0] === "section" && parts.length === 2) return send(200, await sectionPage(parts[1]));
      if (parts[0] === "articles" && parts.length === 3 && parts[2] === "comments" && req.method === "POST") {
        const location = await postComment(parts[1], req);
        res.writeHead(303, { Location: location }).end();
        return;
      }
      if (get && parts[0] === "articles" && parts.length === 3 && parts[2] === "print") return send(200, await printPage(parts[1]));
      if (get && parts[0] === "articles" && parts.length === 2) return send(200, await articlePage(parts[1], url.searchParams));
      // The API's permalinks (PERMALINK_PATTERN, e.g. /{section}/{yyyy}/{mm}/{dd}/{slug}) end in the slug.
      if (get && parts.length >= 3 && /^\d{4}$/.test(parts[parts.length - 4] ?? "")) return send(200, await articlePage(parts[parts.length - 1], url.searchParams));
      throw new NotFound();
    };
    page().catch((err: unknown) => {
      if (res.headersSent) { res.destroy(); return; }
      if (err instanceof NotFound || (err instanceof DatelineProblem && err.status === 404)) {
        send(404, layout({ title: `Not found – ${siteName}`, bar: html``, main: html`<h1>Page not found</h1><p><a href="/">Front page</a></p>` }));
      } else if (err instanceof DatelineProblem && err.status >= 400 && err.status < 500) {
        // A malformed slug (400) is a page that does not exist; other client errors keep their status.
        const status = err.status === 400 ? 404 : err.status;
        send(status, layout({ title: `${err.title} – ${siteName}`, bar: html``, main: html`<h1>${status === 404 ? "Page not found" : err.title}</h1><p><a href="/">Front page</a></p>` }));
      } else {
        console.error(err);
        send(502, layout({ title: `Unavailable – ${siteName}`, bar: html``, main: html`<h1>The news service is unavailable</h1><p>Please try again in a moment.</p>` }));
      }
    });
  };
}

function readBody(req: http.IncomingMessage, max = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) { reject(new DatelineProblem(413, { title: "Payload Too Large" })); req.destroy(); return; }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
