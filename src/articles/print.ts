// The print view of an article: a complete, script-free HTML page (or plain
// text), with the publish time as the site prints it.
import type { publicArticle } from "./mappers.ts";

type Article = ReturnType<typeof publicArticle>;

const escape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

function datelineLead(a: Article): string {
  if (!a.dateline) return "";
  return a.source ? `${a.dateline} (${a.source}) -- ` : `${a.dateline} -- `;
}

export function printHtml(a: Article): string {
  const editors = a.editors.map((e) => e.name).join(", ");
  // The body is stored sanitized (allow-list, no scripts); everything else is escaped here.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(a.headline)}</title>
<meta name="robots" content="noindex">
<link rel="canonical" href="${escape(a.links.canonical)}">
<style>body{font-family:Georgia,serif;max-width:40em;margin:2em auto;line-height:1.5}img{max-width:100%}.meta{color:#555}</style>
</head>
<body>
<article>
<p class="meta">${escape(a.breadcrumb.map((b) => b.name).join(" >> "))}</p>
<h1>${escape(a.headline)}</h1>
${a.publishedAtLocal ? `<p class="meta"><time datetime="${escape(a.publishedAt ?? "")}">${escape(a.publishedAtLocal)}</time></p>` : ""}
${a.byline ? `<p class="meta">${escape(a.byline)}</p>` : ""}
${a.dateline ? `<p class="dateline"><strong>${escape(datelineLead(a))}</strong></p>` : ""}
${a.body}
${editors ? `<p class="meta">Editor: ${escape(editors)}</p>` : ""}
<p class="meta">${escape(a.links.canonical)}</p>
</article>
</body>
</html>
`;
}

export function printText(a: Article): string {
  const lines = [
    a.headline,
    "",
    [a.publishedAtLocal, a.byline].filter(Boolean).join(" | "),
    "",
    `${datelineLead(a)}${a.bodyText}`,
    "",
  ];
  if (a.editors.length) lines.push(`Editor: ${a.editors.map((e) => e.name).join(", ")}`, "");
  lines.push(a.links.canonical, "");
  return lines.join("\n");
}
