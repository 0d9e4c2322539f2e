import { useEffect, useRef } from "preact/hooks";
import { formatTime, KIND_LABELS, type Article } from "../api.ts";
import { FIELD_KEYS, FIELD_LABELS, fieldsOf, showField, tagSlugs, type Fields } from "../fields.ts";

/** Shown when a save answers 412: someone saved since this screen last read the article. */
export function ConflictScreen({ theirs, mine, onKeepMine, onTakeTheirs }: { theirs: Article; mine: Fields; onKeepMine: () => void; onTakeTheirs: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const t = fieldsOf(theirs);
  const keys = FIELD_KEYS.filter((k) =>
    k === "body" ? textOf(t.body) !== textOf(mine.body) : k === "tags" ? tagSlugs(t.tags).join() !== tagSlugs(mine.tags).join() : t[k] !== mine[k]);
  const show = (k: keyof Fields, v: Fields[keyof Fields]) =>
    (k === "body" ? textOf(String(v)) : k === "kind" ? KIND_LABELS[v as Article["kind"]] ?? String(v) : showField(k, v)) || "(empty)";

  return (
    <section class="conflict" aria-labelledby="conflict-title" data-testid="conflict">
      <h2 id="conflict-title" ref={heading} tabIndex={-1}>Someone else saved this article while you were editing</h2>
      <p>
        The saved version is now version {theirs.version}, saved {formatTime(theirs.updatedAt)}
        {theirs.lockedBy ? ` (${theirs.lockedBy.name} is editing it)` : ""}. Your changes are not saved yet.
        Compare the fields that differ, then choose which version to keep.
      </p>
      {keys.length === 0 ? <p>The saved version already has the same content as yours.</p> : (
        <table class="diff">
          <caption class="sr-only">Fields that differ</caption>
          <thead><tr><th scope="col">Field</th><th scope="col">Theirs (saved)</th><th scope="col">Mine (not saved)</th></tr></thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k}>
                <th scope="row">{FIELD_LABELS[k]}</th>
                <td class="theirs">{show(k, t[k])}</td>
                <td class="mine">{show(k, mine[k])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="actions">
        <button type="button" class="primary" onClick={onKeepMine}>Keep mine</button>
        <button type="button" onClick={onTakeTheirs}>Take theirs</button>
      </div>
      <p class="hint">“Keep mine” saves your version of every field above over theirs. “Take theirs” drops your unsaved changes and loads the saved version.</p>
    </section>
  );
}

/** The text of some body HTML, for comparing and showing (parsed inert, never inserted). */
export function textOf(html: string): string {
  const doc = new DOMParser().parseFromString(html, "text/html");
  return Array.from(doc.body.children).map((el) => el.textContent?.trim() ?? "").filter(Boolean).join("\n\n") || (doc.body.textContent ?? "").trim();
}
