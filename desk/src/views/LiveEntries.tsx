// Placeholder wired into the article editor for LIVE articles; the panel itself is being built (issue 14).
import type { Article, Editor } from "../api.ts";

export function LiveEntries({ article, me }: { article: Article; me: Editor }) {
  void me;
  if (article.kind !== "LIVE") return null;
  return null;
}
