/**
 * IPv4 blocks inside 127.0.0.0/8 (all loopback on Linux): node addresses, a /24 of pod
 * IPs per node. Every address a cluster uses comes from blocks it was given, so clusters
 * running side by side (tests, playground) never collide.
 */
export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr {
  const m = text.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/);
  if (!m) throw new Error(`invalid CIDR "${text}": expected a.b.c.d/n`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix < 8 || prefix > 32) throw new Error(`invalid CIDR "${text}"`);
  if (octets[0] !== 127) throw new Error(`CIDR "${text}" is outside 127.0.0.0/8: kubeact only uses loopback addresses`);
  const ip = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3];
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ip & mask) >>> 0, prefix };
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: string): boolean {
  const m = ip.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (!m) return false;
  const n = ((Number(m[1]) << 24) >>> 0) + (Number(m[2]) << 16) + (Number(m[3]) << 8) + Number(m[4]);
  return n >= c.base && n < c.base + cidrSize(c);
}

/** The i-th /`prefix` block inside `network` (node i's pod CIDR). */
export function subnet(network: Cidr, prefix: number, index: number): Cidr {
  if (prefix < network.prefix) throw new Error(`cannot cut /${prefix} blocks out of a /${network.prefix}`);
  const count = 2 ** (prefix - network.prefix);
  if (index < 0 || index >= count) throw new Error(`${formatCidr(network)} holds only ${count} /${prefix} blocks`);
  return { base: network.base + index * 2 ** (32 - prefix), prefix };
}

/** The i-th usable host address of a block (skipping the network address). */
export function hostAddress(c: Cidr, index: number): string {
  if (index + 1 >= cidrSize(c)) throw new Error(`${formatCidr(c)} has no host #${index}`);
  return formatIp(c.base + index + 1);
}

/** Hands out pod IPs of one node's block; the first address stays reserved (like a gateway). */
export class IpAllocator {
  private readonly used = new Set<string>();
  constructor(private readonly block: Cidr) {}

  /** Takes `preferred` when it is in the block and free (a restarted kubelet keeps pod IPs). */
  allocate(preferred?: string): string {
    if (preferred && contains(this.block, preferred) && !this.used.has(preferred) && preferred !== hostAddress(this.block, 0)) {
      this.used.add(preferred);
      return preferred;
    }
    const size = cidrSize(this.block);
    for (let i = 1; i < size - 2; i++) {
      const ip = hostAddress(this.block, i);
      if (!this.used.has(ip)) {
        this.used.add(ip);
        return ip;
      }
    }
    throw new Error(`no free pod IP left in ${formatCidr(this.block)}`);
  }

  release(ip: string | undefined): void {
    if (ip) this.used.delete(ip);
  }

  get inUse(): number {
    return this.used.size;
  }
}
