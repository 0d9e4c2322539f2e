// An ordered list the editor rearranges three ways: drag and drop (the handle, HTML5 drag events), the
// keyboard (focus an item's handle, then Alt+ArrowUp / Alt+ArrowDown, or Home/End with Alt), and the
// "Up" / "Down" buttons. Each move is announced in a live region for screen readers and handed to
// `onMove` as the whole new order; the caller saves it (the server's answer is the truth). Used by the
// related stories, editor credits, the gallery and collections.
import "./ordered-list.css";
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

let instances = 0;

export function moved<T>(items: readonly T[], from: number, to: number): T[] {
  const next = items.slice();
  const [item] = next.splice(from, 1);
  next.splice(Math.max(0, Math.min(to, next.length)), 0, item!);
  return next;
}

export function OrderedList<T>(props: {
  items: readonly T[];
  keyOf: (item: T) => string | number;
  /** Plain-text name of an item, for button labels and announcements. */
  labelOf: (item: T) => string;
  render: (item: T, index: number) => ComponentChildren;
  /** Saves the new order; resolves when done. */
  onMove: (next: T[]) => void | Promise<unknown>;
  /** Extra per-item actions (Remove, …), after the move buttons. */
  actions?: (item: T, index: number) => ComponentChildren;
  disabled?: boolean;
  /** Accessible name of the list. */
  label: string;
  testId?: string;
}) {
  const { items, disabled } = props;
  const [dragging, setDragging] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const refocus = useRef<string | number | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const helpId = useMemo(() => `ordered-list-help-${++instances}`, []);

  // After a keyboard move the moved item's handle keeps the focus (it was re-rendered elsewhere).
  useEffect(() => {
    if (refocus.current === null) return;
    const key = String(refocus.current);
    refocus.current = null;
    listRef.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"] .drag-handle`)?.focus();
  }, [items]);

  const move = async (from: number, to: number, keepFocus: boolean) => {
    if (disabled || from === to || to < 0 || to >= items.length) return;
    const item = items[from]!;
    if (keepFocus) refocus.current = props.keyOf(item);
    setAnnouncement(`Moved ${props.labelOf(item)} to position ${to + 1} of ${items.length}.`);
    await props.onMove(moved(items, from, to));
  };

  const onKey = (e: KeyboardEvent, i: number) => {
    if (!e.altKey) return;
    const to = e.key === "ArrowUp" ? i - 1 : e.key === "ArrowDown" ? i + 1 : e.key === "Home" ? 0 : e.key === "End" ? items.length - 1 : null;
    if (to === null) return;
    e.preventDefault();
    void move(i, to, true);
  };

  return (
    <>
      <ol class="ordered-list" ref={listRef} aria-label={props.label} data-testid={props.testId}>
        {items.map((item, i) => {
          const name = props.labelOf(item);
          return (
            <li key={props.keyOf(item)} data-key={String(props.keyOf(item))}
              class={`${dragging === i ? "dragging" : ""} ${over === i && dragging !== null && dragging !== i ? "drop-target" : ""}`}
              onDragOver={(e) => { if (dragging !== null) { e.preventDefault(); setOver(i); } }}
              onDragLeave={() => setOver((o) => (o === i ? null : o))}
              onDrop={(e) => { e.preventDefault(); const from = dragging; setDragging(null); setOver(null); if (from !== null) void move(from, i, false); }}>
              <button type="button" class="drag-handle" draggable={!disabled} disabled={disabled}
                aria-label={`Reorder ${name}, position ${i + 1} of ${items.length}`}
                aria-describedby={helpId}
                onKeyDown={(e) => onKey(e, i)}
                onDragStart={(e) => { setDragging(i); e.dataTransfer?.setData("text/plain", String(props.keyOf(item))); if (e.dataTransfer) e.dataTransfer.effectAllowed = "move"; }}
                onDragEnd={() => { setDragging(null); setOver(null); }}>
                <span aria-hidden="true">⠿</span>
              </button>
              <span class="ordered-item">{props.render(item, i)}</span>
              <span class="row-actions">
                <button type="button" disabled={disabled || i === 0} aria-label={`Move up: ${name}`} onClick={() => move(i, i - 1, false)}>Up</button>
                <button type="button" disabled={disabled || i === items.length - 1} aria-label={`Move down: ${name}`} onClick={() => move(i, i + 1, false)}>Down</button>
                {props.actions?.(item, i)}
              </span>
            </li>
          );
        })}
      </ol>
      <p id={helpId} class="sr-only">Drag to reorder, or press Alt with the up or down arrow.</p>
      <p class="sr-only" role="status" aria-live="polite">{announcement}</p>
    </>
  );
}
