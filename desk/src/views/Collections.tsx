// Placeholder wired into the desk's router and menu; the screen itself is being built (issue 14).
import type { Editor } from "../api.ts";

export function Collections({ me, id }: { me: Editor; id?: number }) {
  void me; void id;
  return <section><h1 tabIndex={-1}>Collections</h1><p>Not built yet.</p></section>;
}
