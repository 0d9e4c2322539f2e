// Placeholder wired into the desk's router and menu; the screen itself is being built (issue 14).
import type { Editor } from "../api.ts";

export function Purges({ me }: { me: Editor }) {
  void me;
  return <section><h1 tabIndex={-1}>CDN purges</h1><p>Not built yet.</p></section>;
}
