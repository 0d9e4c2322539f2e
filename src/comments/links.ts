// Counting links in a comment, for the per-comment link limit.
//
// A link is anything a reader (or a frontend's linkifier) could follow, in the
// forms spammers use to get past filters: any scheme with `//` (including
// defanged `hxxp://`), `www.`, bare domains (`example.com`, `bit.ly/x`, the
// domain of an e-mail address), IPv4 addresses, dangerous or app schemes
// without slashes (`javascript:`, `mailto:`, `tg:`), and domains spelled with
// bracketed dots (`example[.]com`, `example(dot)com`) or full-width and
// ideographic dots (`example．com`, `example。com`). Text is NFKC-normalised
// first, so full-width and styled letters count like plain ones.
//
// linkify-it was considered: it finds neither defanged forms nor most
// schemes, so a hand-made pattern would still be needed beside it.
//
// A bare domain needs a known top-level domain (the common generic ones, the
// ones most used for spam, and every two-letter country code), so "e.g.",
// "U.S.", "3.5" or "node.js" are not links. Still counted, by design: file
// names whose extension is a country code ("setup.py") and a missing space
// after a full stop before a two-letter word ("agree.It"); a single one rarely
// reaches the limit. Not counted: spaced-out dots ("example . com") and
// "example dot com", which ordinary prose uses ("the dot com years").

const GENERIC_TLDS = [
  // Long-standing generic domains.
  "com", "net", "org", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "aero", "asia", "coop", "museum",
  "mobi", "jobs", "tel", "travel", "cat", "xxx", "onion",
  // New generic domains, mostly those seen in spam.
  "xyz", "top", "club", "online", "site", "website", "shop", "store", "app", "dev", "page", "link", "click", "live",
  "life", "tech", "space", "icu", "vip", "win", "bid", "loan", "loans", "work", "buzz", "cyou", "sbs", "cfd", "rest",
  "bond", "monster", "fun", "blog", "cloud", "news", "email", "porn", "sex", "casino", "bet", "poker", "dating",
  "today", "world", "stream", "download", "review", "party", "trade", "date", "racing", "men", "host", "press",
  "digital", "media", "network", "systems", "solutions", "services", "support", "company", "agency", "money", "cash",
  "finance", "credit", "tokyo", "london", "nyc", "berlin",
];
// Every assigned two-letter country code (the list linkify-it uses).
const COUNTRY_TLDS =
  "a[cdefgilmnoqrstuwxz]|b[abdefghijmnorstvwyz]|c[acdfghiklmnoruvwxyz]|d[ejkmoz]|e[cegrstu]|f[ijkmor]|" +
  "g[abdefghilmnpqrstuwy]|h[kmnrtu]|i[delmnoqrst]|j[emop]|k[eghimnprwyz]|l[abcikrstuvy]|" +
  "m[acdeghklmnopqrstuvwxyz]|n[acefgilopruz]|om|p[aefghklmnrstwy]|qa|r[eosuw]|s[abcdeghijklmnortuvxyz]|" +
  "t[cdfghjklmnortvwz]|u[agksyz]|v[aceginu]|w[fs]|y[et]|z[amw]";
// Longest first, so "loans" is not cut to "loan" before the end-of-domain check.
const TLD = `(?:${[...GENERIC_TLDS].sort((a, b) => b.length - a.length).join("|")}|${COUNTRY_TLDS}|xn--[a-z0-9-]{1,59}|рф)`;

// "." and its bracketed or look-alike spellings. The ideographic full stop
// counts only between ASCII letters or digits: in Chinese text it ends
// sentences. (Full-width dots are "." once NFKC-normalised.)
// Spaces around a bracketed dot are bounded: DOT sits inside START's
// lookbehind, which runs at every position, and an unbounded \s* there made a
// comment of 5,000 spaces cost tens of milliseconds of event-loop time.
const DOT = String.raw`(?:\.|(?<=[a-z0-9])。(?=[a-z0-9])|\s{0,3}[\[({<]\s{0,3}(?:\.|dot)\s{0,3}[\])}>]\s{0,3})`;
const COLON = String.raw`(?::|\[:\]|\(:\))`;
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?`;
const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
// The rest of a URL. Commas, brackets and quotes end it, so "a.com,b.com"
// is two links, and a link in parentheses does not swallow the text after it.
const REST = String.raw`[^\s<>"'\x60,;()\[\]{}|\\^]*`;
const PORT_PATH = String.raw`(?::\d{1,5})?(?:[/?#]${REST})?`;
// Not in the middle of a word or domain: no label character just before, nor
// a label character and a dot (where a longer domain started and failed; this
// also keeps the scan linear on long runs of labels and dots).
const START = String.raw`(?<![\p{L}\p{N}_-]|[\p{L}\p{N}_-]${DOT})`;
// A domain ends where no label character (or "@": "first.name@") follows.
const END = String.raw`(?![\p{L}\p{N}_@-])`;
const SCHEMES_WITHOUT_SLASHES = [
  "mailto", "javascript", "vbscript", "data", "file", "tel", "sms", "callto", "skype", "tg", "whatsapp", "viber",
  "magnet", "bitcoin", "ethereum", "xmpp", "irc", "ircs", "news", "nntp", "ftp", "sftp", "ssh", "telnet", "ws", "wss",
  "intent", "market", "itms-services",
];

const LINK = new RegExp(
  [
    // Any scheme followed by two slashes (or backslashes); "http:" also without them.
    String.raw`[a-z][a-z0-9+.-]{0,31}${COLON}[/\\]{2}${REST}`,
    String.raw`\bh(?:tt|xx)ps?${COLON}(?=\S)${REST}`,
    String.raw`\b(?:${SCHEMES_WITHOUT_SLASHES.join("|")})${COLON}(?=\S)${REST}`,
    String.raw`${START}www\d{0,3}${DOT}${REST}`,
    String.raw`(?<![\p{N}.])(?:${OCTET}${DOT}){3}${OCTET}(?!\p{N}|\.\p{N})${PORT_PATH}`,
    String.raw`${START}(?:${LABEL}${DOT})+${TLD}${END}${PORT_PATH}`,
  ].join("|"),
  "giu",
);

// Zero-width and other invisible format characters would split a link ("example.\u200Bcom").
const FORMAT_CHARS = /\p{Cf}/gu;

export function countLinks(text: string): number {
  const normal = text.normalize("NFKC").replace(FORMAT_CHARS, "");
  return normal.match(LINK)?.length ?? 0;
}
