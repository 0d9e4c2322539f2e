// Demo newsroom, issue 12 §1 and §5: author profiles credited on a few
// stories, and one corrected story. Seeded in seedRows' transaction, after
// the articles (by their demo keys); the read model is built afterwards.
import type { Prisma } from "../generated/prisma/client.ts";

type Tx = Prisma.TransactionClient;

export const DEMO_AUTHORS = [
  {
    slug: "han-xiaodong", name: "Han Xiaodong",
    bio: "Han Xiaodong writes a weekly column on cities, trade and the interior's place in the world.",
    links: [{ label: "Column archive", url: "https://dateline.example/columns/han-xiaodong" }],
  },
  {
    slug: "margaret-ellison", name: "Margaret Ellison",
    bio: "Margaret Ellison is a former librarian who writes about reading, schools and public space.",
    links: [],
  },
  {
    slug: "zhou-min", name: "Zhou Min",
    bio: "Zhou Min covers transport, energy and the economy of western China from Chengdu.",
    links: [{ label: "Mastodon", url: "https://social.example/@zhoumin" }],
  },
  {
    slug: "li-na", name: "Li Na",
    bio: "Li Na is a staff photographer covering rural life and landscapes.",
    links: [],
  },
];

/** Article key -> credited profiles, in byline order. */
export const DEMO_CREDITS: Record<string, { author: string; role: string }[]> = {
  "opinion-inland-cities": [{ author: "han-xiaodong", role: "columnist" }],
  "opinion-public-libraries": [{ author: "margaret-ellison", role: "columnist" }],
  "fa-forum-analysis": [{ author: "zhou-min", role: "writer" }],
  "china-ev-charging": [{ author: "zhou-min", role: "writer" }, { author: "li-na", role: "photographer" }],
  "photo-yunnan-terraces": [{ author: "li-na", role: "photographer" }],
  "photo-tea-pickers-at-dawn": [{ author: "li-na", role: "photographer" }],
};

/** The corrected story: hours after its publication each correction was made. */
export const DEMO_CORRECTIONS: Record<string, { type: "correction" | "clarification" | "retraction"; text: string; hoursAfter: number }[]> = {
  flagship: [
    {
      type: "correction", hoursAfter: 5,
      text: "An earlier version of this story said twelve partner cities sent delegations to the forum. There were fourteen.",
    },
  ],
};

export async function seedAuthorsAndCorrections(tx: Tx, articleIds: Map<string, number>): Promise<void> {
  const authorIds = new Map<string, number>();
  for (const a of DEMO_AUTHORS) {
    const row = await tx.author.create({ data: { slug: a.slug, name: a.name, bio: a.bio, links: a.links } });
    authorIds.set(a.slug, row.id);
  }
  for (const [key, credits] of Object.entries(DEMO_CREDITS)) {
    const articleId = articleIds.get(key);
    if (!articleId) continue;
    await tx.articleAuthor.createMany({
      data: credits.map((c, position) => ({ articleId, authorId: authorIds.get(c.author)!, role: c.role, position })),
    });
  }
  for (const [key, list] of Object.entries(DEMO_CORRECTIONS)) {
    const articleId = articleIds.get(key);
    if (!articleId) continue;
    const article = await tx.article.findUniqueOrThrow({ where: { id: articleId }, select: { publishedAt: true } });
    if (!article.publishedAt) continue;
    let latest = article.publishedAt;
    for (const c of list) {
      const at = new Date(article.publishedAt.getTime() + c.hoursAfter * 3_600_000);
      await tx.correction.create({ data: { articleId, type: c.type, text: c.text, at } });
      if (at > latest) latest = at;
    }
    // A correction is a significant update: the public updatedAt shows it.
    await tx.article.update({ where: { id: articleId }, data: { editorialUpdatedAt: latest } });
  }
}
