import { useEffect, useState } from "preact/hooks";
import { unwrap } from "@dateline/client";
import { dateline, describe, KIND_LABELS, loadSections, sectionTree, type ArticleKind, type Section } from "../api.ts";
import { navigate } from "../router.ts";

/** Creates the draft (headline and section are all the API needs), then opens it in the editor. */
export function NewArticle() {
  const [headline, setHeadline] = useState("");
  const [section, setSection] = useState("");
  const [kind, setKind] = useState<ArticleKind>("STORY");
  const [sections, setSections] = useState<Section[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => { loadSections().then(setSections, (err) => setError(describe(err))); }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await unwrap(dateline.api.POST("/api/v1/admin/articles", { body: { headline, section, kind } }));
      navigate(`/articles/${created.id}`, { replace: true });
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };

  return (
    <section class="narrow">
      <h1 tabIndex={-1}>New article</h1>
      <form class="card" onSubmit={submit}>
        {error && <p class="error" role="alert">{error}</p>}
        <label for="new-headline">Headline</label>
        <input id="new-headline" required maxLength={300} value={headline} onInput={(e) => setHeadline(e.currentTarget.value)} />
        <label for="new-section">Section</label>
        <SectionSelect id="new-section" sections={sections} value={section} onChange={setSection} required />
        <label for="new-kind">Kind</label>
        <select id="new-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as ArticleKind)}>
          {Object.entries(KIND_LABELS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}
        </select>
        <button type="submit" class="primary" disabled={busy}>{busy ? "Creating…" : "Create draft"}</button>
      </form>
    </section>
  );
}

export function SectionSelect(props: { id: string; sections: Section[]; value: string; onChange: (slug: string) => void; required?: boolean; disabled?: boolean }) {
  const tree = sectionTree(props.sections);
  return (
    <select id={props.id} required={props.required} disabled={props.disabled} value={props.value}
      onChange={(e) => props.onChange(e.currentTarget.value)}>
      <option value="" disabled>Choose a section…</option>
      {tree.map(({ section, depth }) => (
        <option key={section.id} value={section.slug}>{"\u2003".repeat(depth)}{depth ? "└ " : ""}{section.name}</option>
      ))}
    </select>
  );
}
