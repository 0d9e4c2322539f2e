// The site's one stylesheet: a two-column page on wide screens, one column on phones, a plain print layout.
export const CSS = `
:root { --ink: #1b1b1b; --muted: #5b5b5b; --line: #d9d9d9; --brand: #0b4f8a; --bg: #fff; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 Georgia, "Times New Roman", serif; color: var(--ink); background: var(--bg); }
a { color: var(--brand); }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 10; }
header.masthead { border-bottom: 3px solid var(--brand); padding: .75rem 1rem; }
header.masthead .brand { font: 700 1.8rem/1 Arial, sans-serif; color: var(--brand); text-decoration: none; }
nav.sections ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .5rem 0 0; padding: 0; font-family: Arial, sans-serif; }
nav.sections a { text-decoration: none; font-weight: 700; }
nav.sections a[aria-current="page"] { text-decoration: underline; }
.page { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 2rem; max-width: 1100px; margin: 1rem auto; padding: 0 1rem; }
main { min-width: 0; }
aside.rail section { border-top: 2px solid var(--brand); margin-bottom: 1.5rem; }
aside.rail h2, .box h2 { font: 700 1rem/1.3 Arial, sans-serif; text-transform: uppercase; margin: .5rem 0; }
.breadcrumb ol { list-style: none; display: flex; flex-wrap: wrap; padding: 0; margin: 0 0 .5rem; font-family: Arial, sans-serif; font-size: .9rem; }
.breadcrumb li + li::before { content: " >> "; white-space: pre; color: var(--muted); }
h1.headline { font-size: 2rem; line-height: 1.2; margin: .25rem 0 .5rem; }
.meta { color: var(--muted); font-family: Arial, sans-serif; font-size: .9rem; margin: 0 0 1rem; }
.tools { font-family: Arial, sans-serif; font-size: .9rem; }
.article-body img { max-width: 100%; height: auto; }
figure { margin: 0 0 1rem; }
figure img { display: block; width: 100%; height: auto; max-height: 28rem; object-fit: cover; background: var(--line); }
figcaption { color: var(--muted); font-size: .85rem; }
.editors { font-style: italic; color: var(--muted); }
.plain { list-style: none; padding: 0; margin: 0; }
.plain > li { padding: .35rem 0; border-bottom: 1px solid var(--line); }
.comment-list > li p { margin: .25rem 0; }
.latest time { display: block; color: var(--muted); font-family: Arial, sans-serif; font-size: .8rem; }
.meta .dateline { font-weight: 700; }
.comment-list time { color: var(--muted); font-family: Arial, sans-serif; font-size: .85rem; }
ol.popular { padding-left: 1.5rem; }
.thumbs { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
.thumb { font-size: .9rem; line-height: 1.3; }
.thumb a { display: block; text-decoration: none; }
.thumb a:hover span, .thumb a:focus-visible span { text-decoration: underline; }
.thumb img { display: block; width: 100%; height: auto; aspect-ratio: 3 / 2; object-fit: cover; margin-bottom: .3rem; background: var(--line); }
.thumb span { display: block; }
.lead-story img { display: block; width: 100%; height: auto; aspect-ratio: 16 / 9; object-fit: cover; background: var(--line); }
.lead-story h3 { margin: .5rem 0 .25rem; font-size: 1.05rem; line-height: 1.3; }
.lead-story p { margin: 0 0 .5rem; font-size: .95rem; }
form.comment label { display: block; font-family: Arial, sans-serif; margin-top: .5rem; }
form.comment input, form.comment textarea { display: block; width: 100%; max-width: 32rem; font: inherit; padding: .4rem; border: 1px solid #8a8a8a; border-radius: 2px; }
form.comment button { display: block; margin-top: .75rem; font: 700 1rem Arial, sans-serif; padding: .5rem 1.2rem; color: #fff; background: var(--brand); border: 0; border-radius: 2px; cursor: pointer; }
.recommend { margin-top: 2rem; border-top: 2px solid var(--brand); }
.notice { background: #eef6ee; border: 1px solid #9c9; padding: .5rem; }
footer.site { border-top: 1px solid var(--line); padding: 1rem; text-align: center; color: var(--muted); font-size: .85rem; }
@media (max-width: 760px) {
  .page { grid-template-columns: minmax(0, 1fr); }
  h1.headline { font-size: 1.5rem; }
}
@media print {
  header.masthead nav, aside.rail, .tools, form.comment, footer.site, .no-print { display: none !important; }
  .page { display: block; max-width: none; }
  a { color: inherit; text-decoration: none; }
}
`;

/** The site's icon: the masthead's initial on the brand colour. */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="4" fill="#0b4f8a"/>\
<text x="16" y="23" font-family="Georgia, serif" font-size="20" font-weight="700" fill="#fff" text-anchor="middle">D</text></svg>`;
