// Builds the desk into dist/: esbuild bundles src/main.tsx (the rich-text editor
// split into its own chunk, loaded when an article is opened) and src/desk.css
// into content-hashed files under dist/assets/, then writes dist/index.html
// pointing at them. No inline script or style anywhere: the desk runs under
// a strict Content-Security-Policy (src/desk/routes.ts).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "dist");
const BASE = "/desk/";

const started = Date.now();
// Built into a fresh folder, then swapped in: a running server never sees half a build.
const tmp = path.join(here, `.dist-${process.pid}`);
fs.rmSync(tmp, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { main: "src/main.tsx" },
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2022", "chrome111", "firefox115", "safari16"],
  platform: "browser",
  minify: true,
  sourcemap: "linked",
  legalComments: "linked",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: path.join(tmp, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "[name]-[hash]",
  publicPath: `${BASE}assets/`,
  metafile: true,
  // The typed client from its sources: no dependency on its own build having run first.
  alias: { "@dateline/client": path.join(here, "..", "clients", "typescript", "src", "index.ts") },
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs);
const entry = outputs.find(([, o]) => o.entryPoint === "src/main.tsx");
if (!entry) throw new Error("esbuild produced no entry for src/main.tsx");
const rel = (p) => path.relative(tmp, path.join(here, p)).split(path.sep).join("/");
const js = rel(entry[0]);
const css = entry[1].cssBundle ? rel(entry[1].cssBundle) : null;
// The chunks the entry imports statically: preloaded so they do not wait for the entry.
const preloads = entry[1].imports.filter((i) => i.kind === "import-statement" && !i.external).map((i) => rel(i.path));

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="same-origin">
<meta name="dateline-site-timezone" content="UTC">
<title>Dateline desk</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="${BASE}${css}">\n` : ""}${preloads.map((p) => `<link rel="modulepreload" href="${BASE}${p}">\n`).join("")}<script type="module" src="${BASE}${js}"></script>
</head>
<body>
<div id="app"><noscript>The desk needs JavaScript.</noscript></div>
</body>
</html>
`;
fs.writeFileSync(path.join(tmp, "index.html"), html);
fs.writeFileSync(path.join(tmp, "manifest.json"), JSON.stringify({ entry: js, css, preloads }, null, 2) + "\n");
const old = path.join(here, `.dist-old-${process.pid}`);
if (fs.existsSync(out)) fs.renameSync(out, old);
fs.renameSync(tmp, out);
fs.rmSync(old, { recursive: true, force: true });
console.log(`desk: built dist/ in ${Date.now() - started} ms (${js}${css ? `, ${css}` : ""})`);
