/**
 * IPv4 CIDR blocks for ipBlock peers. kubeact's traffic is IPv4 only, so an IPv6 block (valid
 * in a policy) parses to `undefined` and matches nothing.
 */
export interface Ipv4Block {
  /** The network address (host bits cleared, as Go's net.ParseCIDR gives it). */
  network: number;
  mask: number;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipv4Number(ip: string): number | undefined {
  const m = OCTETS.exec(ip);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    n = n * 256 + o;
  }
  return n;
}

export function parseIpv4Block(cidr: string): Ipv4Block | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const ip = ipv4Number(cidr.slice(0, slash));
  const bitsText = cidr.slice(slash + 1);
  if (ip === undefined || !/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) return undefined;
  const bits = Number(bitsText);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { network: (ip & mask) >>> 0, mask };
}

export function blockContains(block: Ipv4Block, ip: number): boolean {
  return ((ip & block.mask) >>> 0) === block.network;
}
