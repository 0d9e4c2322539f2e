// A tiny history router for the desk's few screens, all under /desk/.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/desk";

export type Route =
  | { name: "list" }
  | { name: "new" }
  | { name: "article"; id: number }
  | { name: "password" }
  | { name: "comments" }
  | { name: "editors" }
  | { name: "media" }
  | { name: "collections" }
  | { name: "collection"; id: number }
  | { name: "sections" }
  | { name: "authors" }
  | { name: "webhooks" }
  | { name: "purges" }
  | { name: "audit" }
  | { name: "not-found" };

export function parse(pathname: string): Route {
  const p = pathname.startsWith(BASE) ? pathname.slice(BASE.length) || "/" : pathname;
  if (p === "/" || p === "/articles" || p === "/articles/") return { name: "list" };
  if (p === "/articles/new") return { name: "new" };
  if (p === "/account/password") return { name: "password" };
  if (p === "/comments") return { name: "comments" };
  if (p === "/editors") return { name: "editors" };
  if (p === "/media") return { name: "media" };
  if (p === "/collections" || p === "/collections/") return { name: "collections" };
  if (p === "/sections") return { name: "sections" };
  if (p === "/authors") return { name: "authors" };
  if (p === "/webhooks") return { name: "webhooks" };
  if (p === "/purges") return { name: "purges" };
  if (p === "/audit") return { name: "audit" };
  const c = /^\/collections\/(\d{1,10})\/?$/.exec(p);
  if (c) return { name: "collection", id: Number(c[1]) };
  const m = /^\/articles\/(\d{1,10})\/?$/.exec(p);
  if (m) return { name: "article", id: Number(m[1]) };
  return { name: "not-found" };
}

type Guard = () => boolean;
let guard: Guard | null = null;
/** While set, leaving the current screen asks first (unsaved changes). */
export function setLeaveGuard(g: Guard | null): void {
  guard = g;
}

const subscribers = new Set<() => void>();

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (guard && !guard()) return;
  guard = null;
  const url = to.startsWith(BASE) ? to : `${BASE}${to}`;
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  for (const s of subscribers) s();
}

addEventListener("popstate", () => {
  for (const s of subscribers) s();
});

/** Links inside the desk navigate without a reload (plain clicks only). */
addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.("a[href]") as HTMLAnchorElement | null;
  if (!a || a.target || a.origin !== location.origin || !a.pathname.startsWith(`${BASE}/`) && a.pathname !== BASE) return;
  if (a.hasAttribute("download")) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
});

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parse(location.pathname));
    subscribers.add(update);
    return () => { subscribers.delete(update); };
  }, []);
  return route;
}

export const href = (p: string) => `${BASE}${p}`;
