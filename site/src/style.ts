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
.article-body img, figure img, .thumb img { max-width: 100%; height: auto; }
figure { margin: 0 0 1rem; }
figcaption { color: var(--muted); font-size: .85rem; }
.editors { font-style: italic; color: var(--muted); }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain li { padding: .35rem 0; border-bottom: 1px solid var(--line); }
ol.popular { padding-left: 1.5rem; }
.thumbs { display: grid; grid-template-columns: 1fr 1fr; gap: .75rem; }
.thumb { font-size: .9rem; }
.lead-story img { width: 100%; height: auto; }
form.comment label { display: block; font-family: Arial, sans-serif; margin-top: .5rem; }
form.comment input, form.comment textarea { width: 100%; max-width: 32rem; font: inherit; padding: .4rem; }
form.comment button { margin-top: .5rem; font: 700 1rem Arial, sans-serif; padding: .4rem 1rem; }
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
