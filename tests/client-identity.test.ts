// Who a client is, for limits and for duplicate checks: the comment rate
// limit and the view counts are keyed on the client's network (IPv4 address,
// IPv6 /64), never on its User-Agent; seeded and old comments carry the same
// duplicate-check hash as new ones; the link limit sees links however they
// are spelled. Addresses are chosen with X-Forwarded-For, which the default
// TRUST_PROXY=loopback honours from the test client.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { canonicalAddress, clientNetwork } from "../src/http/client-hash.ts";
import { countLinks } from "../src/comments/links.ts";
import { bodyHash } from "../src/comments/service.ts";
import { listMigrations } from "../src/db/migrate.ts";
import { seedDemo } from "../src/seed/demo.ts";
import { makeArticle, makeSection, publish, startTestApp, type TestApp } from "./support/harness.ts";

const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
const BACKFILL = "20261126110000_comment_hash_backfill";

let t: TestApp;
before(async () => {
  t = await startTestApp();
  // Into the still empty database, as at a first start.
  assert.equal(await seedDemo(t.db.prisma), true);
});
after(() => t.close());

const from = (address: string, userAgent = BROWSER) => ({ headers: { "X-Forwarded-For": address, "User-Agent": userAgent } });

let n = 0;
/** A published article in a section of its own, so Most Popular can be read for it alone. */
async function story(app = t) {
  n += 1;
  const section = `identity-${n}`;
  await makeSection(app, section);
  const a = await makeArticle(app, { headline: `Identity story ${n}`, section });
  await publish(app, a.id);
  return { id: a.id as number, slug: a.slug as string, section };
}

const comment = (slug: string, body: string, who: ReturnType<typeof from>, app = t) =>
  app.post(`/api/v1/articles/${slug}/comments`, { name: "Reader", body }, who);
const beacon = (slug: string, who: ReturnType<typeof from>, app = t) => app.post(`/api/v1/articles/${slug}/views`, undefined, who);

async function popularViews(section: string, app = t): Promise<number> {
  await app.views.flush();
  const res = await app.get(`/api/v1/popular?section=${section}`);
  assert.equal(res.status, 200);
  return res.body.data[0]?.views ?? 0;
}

describe("client addresses", () => {
  it("treats an IPv4-mapped IPv6 address as the IPv4 address and an IPv6 address as its /64", () => {
    assert.equal(canonicalAddress("::ffff:198.51.100.7"), "198.51.100.7");
    assert.equal(canonicalAddress("::FFFF:c633:6407"), "198.51.100.7");
    assert.equal(clientNetwork("198.51.100.7"), "198.51.100.7");
    assert.notEqual(clientNetwork("198.51.100.7"), clientNetwork("198.51.100.8"));
    assert.equal(clientNetwork("2001:db8:1:2::9"), clientNetwork("2001:DB8:1:2:ffff:0:0:1"));
    assert.equal(clientNetwork("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    assert.notEqual(clientNetwork("2001:db8:1:2::1"), clientNetwork("2001:db8:1:3::1"));
    assert.equal(clientNetwork("fe80::1%eth0"), clientNetwork("fe80::2"));
    assert.equal(clientNetwork(null), "unknown");
  });
});

describe("comment rate limit", () => {
  const max = () => t.config.COMMENT_RATE_MAX;

  it("holds for one address however often the User-Agent changes", async () => {
    const a = await story();
    for (let i = 0; i < max(); i++) {
      const res = await comment(a.slug, `Rotating thought ${i}`, from("192.0.2.10", `Browser ${i}`));
      assert.equal(res.status, 202, res.text);
    }
    for (let i = 0; i < 3; i++) {
      const res = await comment(a.slug, `Rotating thought extra ${i}`, from("192.0.2.10", `Fresh browser ${i}`));
      assert.equal(res.status, 429, `extra ${i}`);
      assert.equal(res.body.type, "urn:dateline:problem:too-many-comments");
    }
    // Also without any User-Agent, and written as an IPv4-mapped IPv6 address.
    const bare = await t.post(`/api/v1/articles/${a.slug}/comments`, { name: "Reader", body: "No browser at all" }, { headers: { "X-Forwarded-For": "192.0.2.10" } });
    assert.equal(bare.status, 429);
    assert.equal((await comment(a.slug, "Mapped address", from("::ffff:192.0.2.10"))).status, 429);
    assert.equal((await comment(a.slug, "Next door", from("192.0.2.11"))).status, 202, "another address has its own budget");
  });

  it("is shared by the addresses of one IPv6 /64 and separate for another /64", async () => {
    const a = await story();
    for (let i = 0; i < max(); i++) {
      const res = await comment(a.slug, `Same prefix ${i}`, from(`2001:db8:a:1::${i + 1}`));
      assert.equal(res.status, 202, res.text);
    }
    assert.equal((await comment(a.slug, "Same prefix, new host", from("2001:db8:a:1:ffff:ffff:ffff:ffff"))).status, 429);
    assert.equal((await comment(a.slug, "Other prefix", from("2001:db8:a:2::1"))).status, 202);
  });
});

describe("view counting", () => {
  it("counts at most VIEW_MAX_PER_ADDRESS_PER_ARTICLE views from one address rotating its User-Agent", async () => {
    const cap = t.config.VIEW_MAX_PER_ADDRESS_PER_ARTICLE;
    assert.equal(cap, 10, "the documented default");
    const a = await story();
    const outcomes: string[] = [];
    for (let i = 0; i < cap + 15; i++) {
      const res = await beacon(a.slug, from("203.0.113.50", `${BROWSER} build/${i}`));
      assert.equal(res.status, 202);
      outcomes.push(res.body.counted ? "counted" : res.body.reason);
    }
    assert.deepEqual(outcomes, [...Array(cap).fill("counted"), ...Array(15).fill("address-limit")]);
    assert.equal(await popularViews(a.section), cap);

    // The cap is per article: the same address still counts elsewhere.
    const b = await story();
    assert.deepEqual((await beacon(b.slug, from("203.0.113.50", "Another browser"))).body, { counted: true });
    // A reader seen before is still a duplicate, not a new view.
    assert.deepEqual((await beacon(a.slug, from("203.0.113.50", `${BROWSER} build/0`))).body, { counted: false, reason: "duplicate" });
    // And another address still counts on the capped article.
    assert.deepEqual((await beacon(a.slug, from("203.0.113.51"))).body, { counted: true });
    assert.equal(await popularViews(a.section), cap + 1);
  });

  it("shares the cap within one IPv6 /64 and across IPv4 spellings, and counts another /64 separately", async () => {
    const cap = t.config.VIEW_MAX_PER_ADDRESS_PER_ARTICLE;
    const a = await story();
    let counted = 0;
    for (let i = 0; i < cap; i++) {
      // Two hosts of one /64, each with its own browser per beacon.
      for (const host of ["2001:db8:b:1::1", "2001:db8:b:1::2"]) {
        if ((await beacon(a.slug, from(host, `UA ${host} ${i}`))).body.counted) counted += 1;
      }
    }
    assert.equal(counted, cap);
    assert.equal(await popularViews(a.section), cap);
    for (let i = 0; i < cap + 2; i++) await beacon(a.slug, from("2001:db8:b:2::1", `UA other ${i}`));
    assert.equal(await popularViews(a.section), 2 * cap, "a second /64 adds its own cap");

    const b = await story();
    for (let i = 0; i < cap; i++) {
      for (const address of ["198.51.100.60", "::ffff:198.51.100.60"]) await beacon(b.slug, from(address, `UA ${address} ${i}`));
    }
    assert.equal(await popularViews(b.section), cap, "an IPv4-mapped address is the same client");
  });

  it("rate-limits beacons per address, not per User-Agent", async () => {
    const app = await startTestApp({ VIEW_RATE_MAX_PER_MINUTE: "3" });
    try {
      const a = await story(app);
      for (let i = 0; i < 3; i++) assert.equal((await beacon(a.slug, from("2001:db8:c:1::1", `UA ${i}`), app)).status, 202);
      const limited = await beacon(a.slug, from("2001:db8:c:1::1", "UA new"), app);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers["retry-after"], "60");
      assert.equal((await beacon(a.slug, from("2001:db8:c:1::99", "UA newer"), app)).status, 429, "same /64");
      assert.equal((await beacon(a.slug, from("2001:db8:c:2::1", "UA 0"), app)).status, 202, "another /64");
    } finally {
      await app.close();
    }
  });
});

describe("duplicate-check hash of seeded and older comments", () => {
  it("seeds demo comments with their hash, so a re-post of one is a duplicate", async () => {
    const seeded = await t.db.prisma.comment.findMany({ select: { body: true, bodyHash: true } });
    assert.ok(seeded.length > 0);
    for (const c of seeded) assert.equal(c.bodyHash, bodyHash(c.body), c.body);

    const c = await t.db.prisma.comment.findFirstOrThrow({
      where: { status: "APPROVED", article: { status: "PUBLISHED", commentsClosed: false } },
      include: { article: { select: { slug: true } } },
      orderBy: { id: "asc" },
    });
    const again = await comment(c.article.slug, `  ${c.body.toUpperCase().replace(/ /g, "\n\t ")} `, from("192.0.2.90"));
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.type, "urn:dateline:problem:duplicate-comment");
  });

  it("backfills a missing hash in SQL exactly as bodyHash() computes it", async () => {
    const a = await story();
    const bodies = [
      "Plain words, nothing odd.",
      "  Tabs\tand\nnewlines\r\n\r\n  and   runs of spaces  ",
      "ÜBER Café ÀÉÎ Straße Ǆ ÆØÅ",
      "ΟΔΟΣ, ΟΔΟΣ.Α ΣΑ Σ ὈΔΥΣΣΕΎΣ",
      "İSTANBUL İ",
      "No\u00a0break\u2003em\u3000ideographic\u2028line\u2029para\u202fnarrow\u205fmath\ufeffbom\u1680ogham\u000bvt\u000cff\u0085nel",
      "中文评论，很好。 Ещё ОДИН Комментарий",
      "Emoji 👍🏽 and ＦＵＬＬＷＩＤＴＨ",
    ];
    const rows = [];
    for (const body of bodies) {
      rows.push(await t.db.prisma.comment.create({ data: { articleId: a.id, authorName: "Old", body, status: "APPROVED" }, select: { id: true } }));
    }
    const kept = await t.db.prisma.comment.create({ data: { articleId: a.id, authorName: "Old", body: "Hashed", bodyHash: "kept", status: "APPROVED" } });

    const migration = listMigrations().find((m) => m.name === BACKFILL);
    assert.ok(migration, `migration ${BACKFILL} exists`);
    await t.db.withConnection((conn) => conn.exec(migration.sql));

    for (const [i, { id }] of rows.entries()) {
      const row = await t.db.prisma.comment.findUniqueOrThrow({ where: { id } });
      assert.equal(row.bodyHash, bodyHash(bodies[i]), JSON.stringify(bodies[i]));
    }
    assert.equal((await t.db.prisma.comment.findUniqueOrThrow({ where: { id: kept.id } })).bodyHash, "kept", "rows with a hash are left alone");
    // And the backfilled hash does its job over HTTP.
    const res = await comment(a.slug, "plain WORDS,   nothing odd.", from("192.0.2.91"));
    assert.equal(res.status, 409);
  });
});

describe("link limit", () => {
  const links: [string, number][] = [
    ["Sources: https://one.example/a and www.two.example", 2],
    ["See https://www.one.example and HTTP://www.two.example too", 2],
    ["example.com", 1],
    ["EXAMPLE.COM/path?q=1", 1],
    ["bit.ly/x and t.co/abc", 2],
    ["example.co.uk", 1],
    ["hxxp://evil.example/x", 1],
    ["hxxps://evil.example", 1],
    ["http[:]//evil.example", 1],
    ["foo://bar", 1],
    ["https:/example.org", 1],
    ["example[.]com", 1],
    ["example(.)com", 1],
    ["example [dot] com", 1],
    ["ｅｘａｍｐｌｅ．ｃｏｍ", 1],
    ["example。com", 1],
    ["exa\u200bmple.com", 1],
    ["example.\u200bcom", 1],
    ["192.168.1.1", 1],
    ["10.0.0.1:8080/admin", 1],
    ["javascript:alert(1)", 1],
    ["mailto:someone", 1],
    ["tg:resolve?domain=x", 1],
    ["write to first.last@example.com", 1],
    ["http://a.com,b.com,c.com", 3],
    ["bit.ly/a,bit.ly/b", 2],
    ["https://en.wikipedia.org/wiki/Foo_(bar) and more", 1],
    ["https://www.example.com/path/file.py", 1],
    ["Visit...example.com now", 1],
    ["пример.рф", 1],
    ["xn--e1afmkfd.xn--p1ai", 1],
    // Ordinary text.
    ["e.g. this, i.e. that, the U.S. and the U.K., a.k.a. Ph.D. vs. etc.", 0],
    ["version 3.5, $3.50, 10.30 am, No.1, Fig.3, 1.2.3, 999.1.1.1", 0],
    ["Node.js and Vue.js, report.pdf, index.html, Mr.Smith, St.Louis", 0],
    ["wait...what? so... it is. The dot com years.", 0],
    ["the http: protocol, and data: the numbers", 0],
    ["这很好。It is good; 我来自北京。中国很大", 0],
    ["example.community", 0],
  ];
  for (const [text, want] of links) {
    it(`counts ${want} in ${JSON.stringify(text)}`, () => assert.equal(countLinks(text), want));
  }

  it("rejects a comment with more bare or disguised links than COMMENT_MAX_LINKS, and accepts ordinary abbreviations", async () => {
    const a = await story();
    const spam = await comment(a.slug, "Cheap deals at pills.example.com, bit.ly/deal and hxxp://evil.example", from("192.0.2.120"));
    assert.equal(spam.status, 400);
    assert.equal(spam.body.errors[0].path, "body.body");
    const disguised = await comment(a.slug, "Go to example[.]com or example。net or ｅｘａｍｐｌｅ．ｏｒｇ", from("192.0.2.121"));
    assert.equal(disguised.status, 400);
    const prose = await comment(a.slug, "The U.S. grew 3.5% in Q1, e.g. exports, i.e. goods; see example.com.", from("192.0.2.122"));
    assert.equal(prose.status, 202, prose.text);
  });
});
