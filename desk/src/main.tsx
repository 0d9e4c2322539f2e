// The desk: Dateline's web app for editors (issue 14). One origin with the API,
// every call through @dateline/client, the editor API only.
import "./desk.css";
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { dateline, describe, onSession, type Editor } from "./api.ts";
import { href, navigate, useRoute } from "./router.ts";
import { Login } from "./views/Login.tsx";
import { ArticleList } from "./views/ArticleList.tsx";
import { NewArticle } from "./views/NewArticle.tsx";
import { ArticleEditor } from "./views/ArticleEditor.tsx";
import { ChangePassword } from "./views/ChangePassword.tsx";
import { Comments } from "./views/Comments.tsx";
import { Editors } from "./views/Editors.tsx";
import { MediaLibrary } from "./views/Media.tsx";
import { Collections } from "./views/Collections.tsx";
import { Sections } from "./views/Sections.tsx";
import { Authors } from "./views/Authors.tsx";
import { Webhooks } from "./views/Webhooks.tsx";
import { Purges } from "./views/Purges.tsx";
import { Audit } from "./views/Audit.tsx";

const forEditors = (title: string) => <section><h1 tabIndex={-1}>{title}</h1><p>This page is for editors.</p></section>;
const forAdmins = (title: string) => <section><h1 tabIndex={-1}>{title}</h1><p>This page is for admins.</p></section>;

const ROLE_LABELS: Record<string, string> = { WRITER: "Writer", EDITOR: "Editor", ADMIN: "Admin" };

function App() {
  const [me, setMe] = useState<Editor | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const route = useRoute();

  const loadMe = async () => {
    if (!dateline.tokens) { setMe(null); return; }
    try {
      const r = await dateline.api.GET("/api/v1/admin/me");
      if (r.data) { setMe(r.data); setError(null); }
      else if (r.response.status === 401) setMe(null);
      else setError(`Could not load your account (HTTP ${r.response.status}).`);
    } catch (err) {
      setError(describe(err));
    }
  };

  useEffect(() => {
    void loadMe();
    return onSession((signedIn) => {
      if (!signedIn) setMe(null);
      else if (!me) void loadMe();
    });
  }, []);

  // Each screen's heading takes the focus when the screen changes (screen readers announce it).
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // Not on the page's first load (the reader starts at the top, where the skip link is); after a
  // login and on every change of screen, yes.
  useEffect(() => {
    if (me === undefined) return;
    if (me === null) { first.current = false; return; }
    if (first.current) { first.current = false; return; }
    requestAnimationFrame(() => main.current?.querySelector<HTMLElement>("h1")?.focus());
  }, [route, me?.id, me === null]);

  if (me === undefined) {
    return <main id="main" class="centered"><p role="status">{error ?? "Loading the desk…"}</p></main>;
  }
  if (me === null) {
    return <Login onLoggedIn={(editor) => { setMe(editor); }} />;
  }

  const logout = async () => {
    try { await dateline.logout(); } catch { /* the tokens are gone either way */ }
    setMe(null);
    navigate("/", { replace: true });
  };

  let screen;
  switch (route.name) {
    case "list": screen = <ArticleList me={me} />; break;
    case "new": screen = <NewArticle />; break;
    case "article": screen = <ArticleEditor key={route.id} id={route.id} me={me} />; break;
    case "password": screen = <ChangePassword />; break;
    case "comments": screen = me.role === "WRITER"
      ? <section><h1 tabIndex={-1}>Comments</h1><p>Moderating comments is for editors.</p></section>
      : <Comments />; break;
    case "media": screen = <MediaLibrary me={me} />; break;
    case "editors": screen = me.role === "ADMIN"
      ? <Editors me={me} />
      : <section><h1 tabIndex={-1}>Editors</h1><p>Managing accounts is for admins.</p></section>; break;
    case "collections": screen = me.role === "WRITER" ? forEditors("Collections") : <Collections me={me} />; break;
    case "collection": screen = me.role === "WRITER" ? forEditors("Collections") : <Collections key={route.id} me={me} id={route.id} />; break;
    case "sections": screen = me.role === "WRITER" ? forEditors("Sections") : <Sections me={me} />; break;
    case "authors": screen = <Authors me={me} />; break;
    case "webhooks": screen = me.role === "ADMIN" ? <Webhooks me={me} /> : forAdmins("Webhooks"); break;
    case "purges": screen = me.role === "ADMIN" ? <Purges me={me} /> : forAdmins("CDN purges"); break;
    case "audit": screen = me.role === "ADMIN" ? <Audit me={me} /> : forAdmins("Audit log"); break;
    default: screen = <section><h1 tabIndex={-1}>Not found</h1><p>No such page on the desk. <a href={href("/")}>Back to the articles</a>.</p></section>;
  }

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <a class="brand" href={href("/")}>Dateline desk</a>
        <nav aria-label="Desk">
          <ul>
            <li><a href={href("/")} aria-current={route.name === "list" ? "page" : undefined}>Articles</a></li>
            <li><a href={href("/articles/new")} aria-current={route.name === "new" ? "page" : undefined}>New article</a></li>
            <li><a href={href("/media")} aria-current={route.name === "media" ? "page" : undefined}>Media</a></li>
            {me.role !== "WRITER" && <li><a href={href("/comments")} aria-current={route.name === "comments" ? "page" : undefined}>Comments</a></li>}
            {me.role !== "WRITER" && <li><a href={href("/collections")} aria-current={route.name === "collections" || route.name === "collection" ? "page" : undefined}>Collections</a></li>}
            {me.role !== "WRITER" && <li><a href={href("/sections")} aria-current={route.name === "sections" ? "page" : undefined}>Sections</a></li>}
            <li><a href={href("/authors")} aria-current={route.name === "authors" ? "page" : undefined}>Authors</a></li>
            {me.role === "ADMIN" && <li><a href={href("/editors")} aria-current={route.name === "editors" ? "page" : undefined}>Editors</a></li>}
            {me.role === "ADMIN" && <li><a href={href("/webhooks")} aria-current={route.name === "webhooks" ? "page" : undefined}>Webhooks</a></li>}
            {me.role === "ADMIN" && <li><a href={href("/purges")} aria-current={route.name === "purges" ? "page" : undefined}>Purges</a></li>}
            {me.role === "ADMIN" && <li><a href={href("/audit")} aria-current={route.name === "audit" ? "page" : undefined}>Audit log</a></li>}
          </ul>
        </nav>
        <div class="who">
          <span data-testid="whoami">{me.name} <span class="role">{ROLE_LABELS[me.role] ?? me.role}</span></span>
          <a href={href("/account/password")}>Password</a>
          <button type="button" class="link" onClick={logout}>Log out</button>
        </div>
      </header>
      <main id="main" ref={main}>{screen}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
