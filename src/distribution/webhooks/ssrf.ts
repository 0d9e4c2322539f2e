// The private-address guard for webhook targets. The address checked is the
// one connected to: the host is resolved once, every address is vetted, and
// the request is pinned to a vetted address through a custom `lookup`, so a
// DNS answer that changes between the check and the connect (rebinding)
// cannot point the request somewhere else. Redirects are never followed.
import dns from "node:dns/promises";
import net from "node:net";

const blocked = new net.BlockList();
// IPv4
blocked.addSubnet("0.0.0.0", 8, "ipv4"); // "this network", incl. 0.0.0.0
blocked.addSubnet("10.0.0.0", 8, "ipv4");
blocked.addSubnet("100.64.0.0", 10, "ipv4"); // CGNAT
blocked.addSubnet("127.0.0.0", 8, "ipv4");
blocked.addSubnet("169.254.0.0", 16, "ipv4"); // link-local, incl. 169.254.169.254 (cloud metadata)
blocked.addSubnet("172.16.0.0", 12, "ipv4");
blocked.addSubnet("192.0.0.0", 24, "ipv4"); // IETF protocol assignments
blocked.addSubnet("192.168.0.0", 16, "ipv4");
blocked.addSubnet("198.18.0.0", 15, "ipv4"); // benchmarking
blocked.addSubnet("224.0.0.0", 4, "ipv4"); // multicast
blocked.addSubnet("240.0.0.0", 4, "ipv4"); // reserved, incl. 255.255.255.255
// IPv6
blocked.addAddress("::", "ipv6");
blocked.addAddress("::1", "ipv6");
blocked.addSubnet("fc00::", 7, "ipv6"); // unique local
blocked.addSubnet("fe80::", 10, "ipv6"); // link-local
blocked.addSubnet("ff00::", 8, "ipv6"); // multicast
blocked.addSubnet("64:ff9b::", 96, "ipv6"); // NAT64: embeds an IPv4 address
blocked.addSubnet("2001:db8::", 32, "ipv6"); // documentation

/** The IPv4 address an IPv6 address embeds (::ffff:a.b.c.d, ::a.b.c.d, or their hex forms), if any. */
function embeddedIPv4(addr: string): string | undefined {
  const lower = addr.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/.exec(lower.replace(/^::/, "0:"));
  if (dotted) return dotted[1];
  // Hex forms such as ::ffff:7f00:1 (what URL parsing normalizes ::ffff:127.0.0.1 to).
  const hex = /^::(?:ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** Why an address may not be a webhook target, or undefined when it may. */
export function blockedReason(address: string): string | undefined {
  const family = net.isIP(address);
  if (!family) return "not an IP address";
  if (family === 6) {
    const v4 = embeddedIPv4(address);
    if (v4 && blocked.check(v4, "ipv4")) return `${address} embeds the private or reserved address ${v4}`;
    if (blocked.check(address, "ipv6")) return `${address} is a loopback, private, link-local or reserved address`;
    return undefined;
  }
  if (blocked.check(address, "ipv4")) return `${address} is a loopback, private, link-local, CGNAT or reserved address`;
  return undefined;
}

/** The URL's host as Node connects to it: IPv6 literals without brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

export interface AddressCheck {
  /** Host names and IP literals, as written in URLs, exempt from the guard. */
  allowedHosts: readonly string[];
  /** Resolver (tests inject one); dns.lookup with all addresses by default. */
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>;
}

export class BlockedTargetError extends Error {}

const defaultLookup = (host: string) => dns.lookup(host, { all: true, verbatim: true });

export function isAllowedHost(url: URL, allowedHosts: readonly string[]): boolean {
  const host = hostOf(url).toLowerCase();
  return allowedHosts.some((h) => h.toLowerCase().replace(/^\[(.*)\]$/, "$1") === host);
}

/**
 * Resolves the URL's host and returns the address to connect to; throws
 * BlockedTargetError when any resolved address is private (a name with one
 * public and one private address is refused: the resolver could hand either
 * to a later connection).
 */
export async function vetTarget(url: URL, check: AddressCheck): Promise<{ address: string; family: number }> {
  const host = hostOf(url);
  const literal = net.isIP(host);
  const allowed = isAllowedHost(url, check.allowedHosts);
  const addresses = literal ? [{ address: host, family: literal }] : await (check.lookup ?? defaultLookup)(host);
  if (!addresses.length) throw new BlockedTargetError(`${host} did not resolve`);
  if (!allowed) {
    for (const a of addresses) {
      const why = blockedReason(a.address);
      if (why) throw new BlockedTargetError(`refused: ${host} resolves to ${why}`);
    }
  }
  return addresses[0];
}

/** Checks an endpoint URL when it is registered: http(s), a host, no credentials, no private IP literal. */
export function urlProblem(raw: string, allowedHosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Must be an absolute http:// or https:// URL.";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "Must be an http:// or https:// URL.";
  if (url.username || url.password) return "Must not contain credentials (user:password@); the signature authenticates Dateline.";
  if (!url.hostname) return "Must name a host.";
  if (url.hash) return "Must not contain a fragment.";
  const host = hostOf(url);
  if (net.isIP(host) && !isAllowedHost(url, allowedHosts)) {
    const why = blockedReason(host);
    if (why) return `Must not target a private or reserved address (${why}).`;
  }
  // Names are resolved and checked at every send (an answer may change); see vetTarget.
  return undefined;
}
