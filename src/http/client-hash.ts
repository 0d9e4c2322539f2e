import crypto from "node:crypto";
import net from "node:net";

/**
 * One spelling per client address: IPv6 in canonical form, and an
 * IPv4-mapped IPv6 address `::ffff:a.b.c.d` as the IPv4 address it is (the
 * same client seen through a dual-stack socket). Anything else (no address, or
 * a value a trusted proxy passed on that is not an address) stands for itself.
 */
export function canonicalAddress(ip: string | null | undefined): string {
  if (!ip) return "unknown";
  let a = ip.trim();
  const zone = a.indexOf("%");
  if (zone >= 0) a = a.slice(0, zone);
  if (net.isIPv4(a)) return a;
  if (!net.isIPv6(a)) return a.toLowerCase();
  const h = hextets(a);
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) {
    return `${h[6] >> 8}.${h[6] & 255}.${h[7] >> 8}.${h[7] & 255}`;
  }
  return h.map((x) => x.toString(16)).join(":");
}

/**
 * The network a client address stands for, which is what limits count: an
 * IPv4 address itself, an IPv6 address its /64, because one subscriber is
 * usually handed a whole /64 and can pick any address inside it.
 */
export function clientNetwork(ip: string | null | undefined): string {
  const a = canonicalAddress(ip);
  if (!net.isIPv6(a)) return a;
  return `${a.split(":").slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address. */
function hextets(ip: string): number[] {
  // The WHATWG URL parser canonicalises IPv6 (lower case, embedded IPv4 as
  // hex, one `::` for the longest zero run), so only `::` is left to expand.
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head, tail] = host.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":").map((x) => parseInt(x, 16)) : []);
  const hi = groups(head);
  const lo = groups(tail);
  return [...hi, ...new Array<number>(8 - hi.length - lo.length).fill(0), ...lo];
}

/**
 * Keyed hashes of a client: enough to recognise a repeat visitor, useless to
 * anyone who reads the database without the key.
 */
export interface ClientHasher {
  /**
   * The client's network (see clientNetwork): the key for every limit. Never
   * mixes in the User-Agent or any other header the client chooses, since a
   * new value per request would be a fresh budget per request.
   */
  network(ip: string | null): string;
  /**
   * One reader (exact address and User-Agent), to de-duplicate views only:
   * people behind one address are told apart, so it must never key a limit.
   */
  reader(ip: string | null, userAgent: string | undefined): string;
}

export function clientHasher(secret: string): ClientHasher {
  const key = crypto.createHash("sha256").update(`client-hash:${secret}`).digest();
  // The prefixes keep the two kinds of key from ever being equal.
  const hash = (text: string) => crypto.createHmac("sha256", key).update(text).digest("base64url").slice(0, 32);
  return {
    network: (ip) => hash(`network\n${clientNetwork(ip)}`),
    reader: (ip, userAgent) => hash(`reader\n${canonicalAddress(ip)}\n${userAgent ?? ""}`),
  };
}
