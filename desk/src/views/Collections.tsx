// Collections (EDITOR+): the curated lists readers see as boxes ("We Recommend", "Selections for you").
// The list of collections with a form to start one; a collection's own page with its name and slug
// (saved with If-Match: a 412 says someone else changed it and offers a reload), its items in order
// (added by full-text search, reordered by drag or keyboard through OrderedList, removed), and delete.
import "./collections.css";
import { useEffect, useRef, useState } from "preact/hooks";
import { unwrap, type Schemas } from "@dateline/client";
import { dateline, describe, DatelineProblem, formatTime, STATUS_LABELS, withEtag, type Article, type Editor } from "../api.ts";
import { href, navigate } from "../router.ts";
import { OrderedList } from "./OrderedList.tsx";

type Collection = Schemas["AdminCollection"];
type Summary = Schemas["AdminCollectionSummary"];
type Item = Schemas["AdminCollectionItem"];
type Message = { ok: boolean; text: string } | null;

/** A slug suggested from a name: "Selections for You" → "selections-for-you". */
export function slugify(name: string): string {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 120).replace(/-+$/, "");
}

export const SLUG_PATTERN = "[a-z0-9]+(-[a-z0-9]+)*";

/** Focus for after the next render (the control that had it is gone, e.g. a removed row's button). */
export function focusSoon(find: () => HTMLElement | null | undefined): void {
  requestAnimationFrame(() => find()?.focus());
}

export function Collections({ me, id }: { me: Editor; id?: number }) {
  void me;
  return id === undefined ? <CollectionList /> : <CollectionPage id={id} />;
}

function Status({ message }: { message: Message }) {
  if (!message) return null;
  return <p class={message.ok ? "ok" : "error"} role={message.ok ? "status" : "alert"}>{message.text}</p>;
}

function CollectionList() {
  const [list, setList] = useState<Summary[] | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugTouched, setSlugTouched] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    dateline.api.GET("/api/v1/admin/collections").then((r) => unwrap(r))
      .then((page) => setList(page.data))
      .catch((err) => setMessage({ ok: false, text: describe(err) }));
  }, []);

  const create = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    setBusy(true);
    try {
      const created = await unwrap(dateline.api.POST("/api/v1/admin/collections", { body: { name: name.trim(), slug } }));
      navigate(`/collections/${created.id}`);
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
      setBusy(false);
    }
  };

  return (
    <section class="collections">
      <h1 tabIndex={-1}>Collections</h1>
      <p class="muted">Curated lists of stories that readers see as boxes, in the order set here.</p>
      <Status message={message} />
      {list === null ? <p role="status">Loading the collections…</p> : list.length === 0 ? <p class="empty">No collections yet.</p> : (
        <table class="collection-table">
          <caption class="sr-only">Collections</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Slug</th><th scope="col">Stories</th><th scope="col">Changed</th></tr></thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.id}>
                <td><a href={href(`/collections/${c.id}`)}>{c.name}</a></td>
                <td><code>{c.slug}</code></td>
                <td>{c.itemCount}</td>
                <td>{formatTime(c.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <form class="card narrow new-collection" onSubmit={create}>
        <h2>New collection</h2>
        <label for="nc-name">Name</label>
        <input id="nc-name" required maxLength={120} value={name}
          onInput={(e) => { const v = e.currentTarget.value; setName(v); if (!slugTouched) setSlug(slugify(v)); }} />
        <label for="nc-slug">Slug</label>
        <input id="nc-slug" required maxLength={120} pattern={SLUG_PATTERN} aria-describedby="nc-slug-hint" value={slug}
          onInput={(e) => { setSlug(e.currentTarget.value); setSlugTouched(true); }} />
        <p id="nc-slug-hint" class="hint">Lower-case letters, digits and hyphens; readers' apps ask for the collection by it.</p>
        <button type="submit" class="primary" disabled={busy}>Create collection</button>
      </form>
    </section>
  );
}

function CollectionPage({ id }: { id: number }) {
  const [collection, setCollection] = useState<Collection | null>(null);
  const [etag, setEtag] = useState("");
  const [loadError, setLoadError] = useState<string | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [conflict, setConflict] = useState(false);
  const [form, setForm] = useState({ name: "", slug: "" });
  const [q, setQ] = useState("");
  const [results, setResults] = useState<Article[] | null>(null);
  const [editing, setEditing] = useState<{ itemId: number; headline: string } | null>(null);
  const saving = useRef<Promise<unknown>>(Promise.resolve());

  const adopt = (c: Collection, tag?: string | null) => {
    setCollection(c);
    setEtag(tag ?? `"${c.version}"`);
  };

  const load = async (resetForm = true) => {
    try {
      const { data, etag } = await withEtag(dateline.api.GET("/api/v1/admin/collections/{id}", { params: { path: { id } } }));
      adopt(data, etag);
      if (resetForm) setForm({ name: data.name, slug: data.slug });
      setLoadError(null);
    } catch (err) {
      setLoadError(err instanceof DatelineProblem && err.status === 404 ? "There is no such collection (it may have been deleted)." : describe(err));
    }
  };
  useEffect(() => { void load(); }, [id]);

  if (loadError && !collection) {
    return <section><h1 tabIndex={-1}>Collection</h1><p class="error" role="alert">{loadError}</p><p><a href={href("/collections")}>All collections</a></p></section>;
  }
  if (!collection) return <section><h1 tabIndex={-1}>Collection</h1><p role="status">Loading the collection…</p></section>;

  const items = collection.items;
  const articleIds = new Set(items.map((i) => i.article.id));
  const headlineOf = (i: Item) => i.headline ?? i.article.headline;

  // Item changes are saved one after another (a fast series of keyboard moves keeps its order); the
  // server's answer is the truth, and a change that no longer fits (someone else edited the list
  // meanwhile) reloads the list and says so.
  const change = (what: () => Promise<{ data?: Collection; error?: unknown; response: Response }>, done: string, optimistic?: Item[]) => {
    setMessage(null);
    if (optimistic) setCollection({ ...collection, items: optimistic });
    const run = saving.current.then(async () => {
      try {
        const r = await what();
        const c = await unwrap(r);
        adopt(c, r.response.headers.get("etag"));
        setMessage({ ok: true, text: done });
      } catch (err) {
        setMessage({ ok: false, text: `${describe(err)} The collection was reloaded: check it and try again.` });
        await load(false);
      }
    });
    saving.current = run;
    return run;
  };

  const reorder = (next: Item[]) => change(
    () => dateline.api.PUT("/api/v1/admin/collections/{id}/items", { params: { path: { id } }, body: { itemIds: next.map((i) => i.id) } }),
    "Order saved.", next.map((i, position) => ({ ...i, position })));

  const remove = async (item: Item) => {
    await change(
      () => dateline.api.DELETE("/api/v1/admin/collections/{id}/items/{itemId}", { params: { path: { id, itemId: item.id } } }),
      `Removed: ${headlineOf(item)}.`);
    focusSoon(() => document.getElementById("items-heading"));
  };

  // The Add button gives way to "in the collection": the focus goes to the first Add left, else to the search box.
  const add = async (a: Article) => {
    await change(
      () => dateline.api.POST("/api/v1/admin/collections/{id}/items", { params: { path: { id } }, body: { articleId: a.id } }),
      `Added: ${a.headline}.`);
    focusSoon(() => document.querySelector<HTMLElement>("ul.results button") ?? document.getElementById("col-q"));
  };

  // The headline readers see in this collection's box; empty gives the story's own back.
  const saveHeadline = async (e: Event, item: Item) => {
    e.preventDefault();
    if (!editing) return;
    const headline = editing.headline.trim() || null;
    setEditing(null);
    await change(
      () => dateline.api.PATCH("/api/v1/admin/collections/{id}/items/{itemId}", { params: { path: { id, itemId: item.id } }, body: { headline } }),
      headline ? `Headline on this list: ${headline}.` : `Headline on this list: the story's own (${item.article.headline}).`);
    focusSoon(() => document.querySelector<HTMLElement>(`[data-key="${item.id}"] .headline-button`));
  };

  const search = async (e: Event) => {
    e.preventDefault();
    if (!q.trim()) return;
    setMessage(null);
    try {
      const page = await unwrap(dateline.api.GET("/api/v1/admin/articles", { params: { query: { q: q.trim(), limit: 10 } } }));
      setResults(page.data);
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };

  const saveDetails = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    setConflict(false);
    const body: Schemas["CollectionUpdate"] = {};
    if (form.name.trim() !== collection.name) body.name = form.name.trim();
    if (form.slug !== collection.slug) body.slug = form.slug;
    if (!Object.keys(body).length) { setMessage({ ok: true, text: "Nothing to save." }); return; }
    try {
      const r = await dateline.api.PATCH("/api/v1/admin/collections/{id}", { params: { path: { id }, header: { "If-Match": etag } }, body });
      const c = await unwrap(r);
      adopt(c, r.response.headers.get("etag"));
      setForm({ name: c.name, slug: c.slug });
      setMessage({ ok: true, text: "Name and slug saved." });
    } catch (err) {
      if (err instanceof DatelineProblem && err.status === 412) setConflict(true);
      else setMessage({ ok: false, text: describe(err) });
    }
  };

  const reloadTheirs = async () => {
    setConflict(false);
    await load(true);
    setMessage({ ok: true, text: "Reloaded: this is the collection as it is now. Make your change again if it is still needed." });
  };

  const destroy = async () => {
    if (!confirm(`Delete the collection “${collection.name}”? Its stories stay; readers' boxes using it go empty.`)) return;
    try {
      await unwrap(dateline.api.DELETE("/api/v1/admin/collections/{id}", { params: { path: { id } } }));
      navigate("/collections");
    } catch (err) {
      setMessage({ ok: false, text: describe(err) });
    }
  };

  return (
    <section class="collections">
      <p class="back"><a href={href("/collections")}>All collections</a></p>
      <div class="heading-row">
        <h1 tabIndex={-1}>{collection.name}</h1>
        <button type="button" class="danger" onClick={destroy}>Delete collection</button>
      </div>
      <p class="muted small">Readers' API: <code>/api/v1/collections/{collection.slug}</code> · changed {formatTime(collection.updatedAt)}</p>
      <Status message={message} />
      {conflict && (
        <div class="conflict" role="alert" data-testid="collection-conflict">
          <h2>Someone else changed this collection</h2>
          <p>Your name and slug were not saved: the collection changed after you opened it. Reload it to see the
            current version, then make your change again.</p>
          <div class="actions"><button type="button" class="primary" onClick={reloadTheirs}>Reload the collection</button></div>
        </div>
      )}

      <div class="collection-layout">
        <div>
          <h2 id="items-heading" tabIndex={-1}>Stories, in order</h2>
          {items.length === 0 ? <p class="empty">No stories yet: find one below and add it.</p> : (
            <OrderedList items={items} keyOf={(i) => i.id} labelOf={headlineOf} label="Stories in the collection, in order"
              testId="collection-items"
              render={(i) => (
                <>
                  <a href={href(`/articles/${i.article.id}`)}>{headlineOf(i)}</a>
                  {i.headline && <span class="muted small"> (story: {i.article.headline})</span>}
                  {" "}<span class={`status s-${i.article.status.toLowerCase()}`}>{STATUS_LABELS[i.article.status]}</span>
                  {i.article.trashed && <span class="tag">In the trash</span>}
                  {(i.article.status !== "PUBLISHED" || i.article.trashed) && <span class="muted small"> not shown to readers</span>}
                  {editing?.itemId === i.id && (
                    <form class="headline-form" onSubmit={(e) => saveHeadline(e, i)}>
                      <label for={`hl-${i.id}`}>Headline on this list</label>
                      <div class="row">
                        <input id={`hl-${i.id}`} maxLength={300} aria-describedby={`hl-${i.id}-hint`} value={editing.headline}
                          onInput={(e) => setEditing({ itemId: i.id, headline: e.currentTarget.value })}
                          onKeyDown={(e) => { if (e.key === "Escape") { setEditing(null); focusSoon(() => document.querySelector<HTMLElement>(`[data-key="${i.id}"] .headline-button`)); } }} />
                        <button type="submit" class="primary">Save headline</button>
                        <button type="button" onClick={() => setEditing(null)}>Cancel</button>
                      </div>
                      <p id={`hl-${i.id}-hint`} class="hint">Empty: the story's own headline ({i.article.headline}).</p>
                    </form>
                  )}
                </>
              )}
              onMove={reorder}
              actions={(i) => (
                <>
                  <button type="button" class="headline-button" aria-label={`Change headline: ${headlineOf(i)}`} aria-expanded={editing?.itemId === i.id}
                    onClick={() => { setEditing(editing?.itemId === i.id ? null : { itemId: i.id, headline: i.headline ?? "" }); focusSoon(() => document.getElementById(`hl-${i.id}`)); }}>Headline</button>
                  <button type="button" aria-label={`Remove: ${headlineOf(i)}`} onClick={() => remove(i)}>Remove</button>
                </>
              )} />
          )}

          <form onSubmit={search} class="inline-search" role="search" aria-label="Stories to add">
            <label for="col-q">Find a story to add</label>
            <div class="row">
              <input id="col-q" type="search" value={q} maxLength={500} onInput={(e) => setQ(e.currentTarget.value)} />
              <button type="submit">Find</button>
            </div>
          </form>
          {results && (results.length === 0 ? <p class="muted small" role="status">No stories found.</p> : (
            <ul class="results" aria-label="Stories found">
              {results.map((a) => (
                <li key={a.id}>
                  <span>{a.headline}</span> <span class={`status s-${a.status.toLowerCase()}`}>{STATUS_LABELS[a.status]}</span>
                  {articleIds.has(a.id)
                    ? <span class="muted small"> in the collection</span>
                    : <button type="button" aria-label={`Add: ${a.headline}`} onClick={() => add(a)}>Add</button>}
                </li>
              ))}
            </ul>
          ))}
        </div>

        <form class="card collection-details" onSubmit={saveDetails}>
          <h2>Name and slug</h2>
          <label for="col-name">Name</label>
          <input id="col-name" required maxLength={120} value={form.name} onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
          <label for="col-slug">Slug</label>
          <input id="col-slug" required maxLength={120} pattern={SLUG_PATTERN} aria-describedby="col-slug-hint" value={form.slug}
            onInput={(e) => setForm({ ...form, slug: e.currentTarget.value })} />
          <p id="col-slug-hint" class="hint">Changing it changes the address readers' apps use.</p>
          <button type="submit" class="primary">Save name and slug</button>
        </form>
      </div>
    </section>
  );
}
