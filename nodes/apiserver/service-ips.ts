/**
 * The API server's Service allocators, as kube-apiserver has them: ClusterIPs from the service
 * CIDR (`--service-cidr`) and NodePorts from 30000–32767.
 *
 *  - A ClusterIP is allocated when a Service is created (the requested one when it is inside
 *    the block and free), never changes while the Service lives (validation makes it
 *    immutable; updates that leave it out get it patched back), and is released when the
 *    Service is deleted. `clusterIP: None` is headless (nothing allocated); ExternalName
 *    Services have none. `spec.clusterIPs` mirrors `spec.clusterIP` (single-stack IPv4).
 *  - The block's 10th address is the cluster DNS address, reserved for `kube-system/kube-dns`.
 *  - NodePort and LoadBalancer Services get a node port per port that has none; ports that
 *    share a port number (53/UDP and 53/TCP) share the node port, as in Kubernetes.
 *  - Dynamic allocations prefer the upper part of each range and leave the lower band for
 *    requested values (Kubernetes' static subrange, KEP-3070 / KEP-3668), starting at a random
 *    place in it.
 *
 * Level-based: what is in use is rebuilt from the stored Services at start and then follows
 * the Service store's own change events (a deleted Service frees its values whoever deleted
 * it), plus the reservations of writes in flight. Choosing and reserving happen in one
 * synchronous step, so concurrent creates never get the same value. The tables live in this
 * process: kubeact runs one API server per cluster.
 */
import { ApiError, Reason, type FieldCause } from '../../protocol/errors.js';
import type { KubeObject, WatchEvent } from '../../protocol/objects.js';
import { NODE_PORT_RANGE } from '../../protocol/validation/service.js';
import { cidrSize, formatCidr, formatIp, parseCidr, type Cidr } from '../shared/cidr.js';
import type { Logger } from '../shared/logger.js';

export const DEFAULT_SERVICE_CIDR = '127.100.0.0/16';
export const DNS_SERVICE_NAMESPACE = 'kube-system';
export const DNS_SERVICE_NAME = 'kube-dns';

/** `a.b.c.d` → its 32-bit number; undefined when it is not a dotted quad. */
function ipNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];
}

/** The cluster DNS address of a service CIDR: its 10th address (10.96.0.10 in 10.96.0.0/12). */
export function dnsServiceIP(cidr: string | Cidr): string {
  const c = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  return formatIp(c.base + 10);
}

/**
 * The `kube-dns` Service the API server creates at start. Selector-less: the DNS server runs in
 * the control plane (nodes/dns/), which keeps the Service's Endpoints pointing at it.
 */
export function dnsServiceObject(clusterIP: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: DNS_SERVICE_NAME,
      namespace: DNS_SERVICE_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
    },
    spec: {
      clusterIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  };
}

/** Values a create or update reserved; `done()` drops the reservation once the write has finished (either way). */
export interface Claim {
  done(): void;
}

const NO_CLAIM: Claim = { done: () => {} };

/** A Service needs a ClusterIP (or is headless) unless it is ExternalName. */
function needsClusterIP(spec: any): boolean {
  return spec?.type !== 'ExternalName';
}

function needsNodePorts(spec: any): boolean {
  return spec?.type === 'NodePort' || spec?.type === 'LoadBalancer';
}

function wantsDynamicNodePorts(spec: any): boolean {
  return spec?.type === 'NodePort' || (spec?.type === 'LoadBalancer' && spec?.allocateLoadBalancerNodePorts !== false);
}

function portsOf(spec: any): any[] {
  return Array.isArray(spec?.ports) ? spec.ports.filter((p: unknown) => p && typeof p === 'object') : [];
}

function isSet(nodePort: unknown): nodePort is number {
  return typeof nodePort === 'number' && nodePort !== 0;
}

/**
 * Before an update (or apply) of a Service is validated, as kube-apiserver prepares one:
 *  - `patchAllocatedValues`: a new spec that leaves out the allocated ClusterIP or node ports
 *    keeps the ones the Service has, rather than asking for new ones (node ports matched by port
 *    name, unless the new spec already uses that value elsewhere);
 *  - `dropTypeDependentFields`: when the type changes, fields the new type does not have are
 *    cleared if they were carried over unchanged (node ports when leaving NodePort/LoadBalancer,
 *    externalTrafficPolicy, the ClusterIP when becoming ExternalName, ...).
 */
export function prepareServiceUpdate(existing: KubeObject, next: KubeObject): void {
  patchAllocatedValues(existing, next);
  dropTypeDependentFields(existing, next);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function dropTypeDependentFields(existing: KubeObject, next: KubeObject): void {
  const before = existing.spec;
  const after = next.spec;
  if (!before || !after || typeof after !== 'object' || Array.isArray(after)) return;
  if (needsClusterIP(before) && !needsClusterIP(after)) {
    if (same(before.clusterIP, after.clusterIP)) delete after.clusterIP;
    if (same(before.clusterIPs, after.clusterIPs)) delete after.clusterIPs;
    if (same(before.ipFamilies, after.ipFamilies)) delete after.ipFamilies;
    if (same(before.ipFamilyPolicy, after.ipFamilyPolicy)) delete after.ipFamilyPolicy;
    if (same(before.internalTrafficPolicy, after.internalTrafficPolicy)) delete after.internalTrafficPolicy;
  }
  if (!needsNodePorts(after)) {
    const oldPorts = portsOf(before);
    const newPorts = portsOf(after);
    const oldNodePorts = oldPorts.map((p) => p.nodePort ?? 0);
    const newNodePorts = newPorts.map((p) => p.nodePort ?? 0);
    if (newNodePorts.some((n) => n !== 0) && same(oldNodePorts, newNodePorts)) for (const p of newPorts) delete p.nodePort;
  }
  if (after.type !== 'LoadBalancer') {
    if (same(before.allocateLoadBalancerNodePorts, after.allocateLoadBalancerNodePorts)) delete after.allocateLoadBalancerNodePorts;
    if (same(before.loadBalancerIP, after.loadBalancerIP)) delete after.loadBalancerIP;
  }
  if (!needsNodePorts(after) && same(before.externalTrafficPolicy, after.externalTrafficPolicy)) delete after.externalTrafficPolicy;
}

function patchAllocatedValues(existing: KubeObject, next: KubeObject): void {
  const before = existing.spec;
  const after = next.spec;
  if (!before || !after || typeof after !== 'object' || Array.isArray(after)) return;
  if (needsClusterIP(before) && needsClusterIP(after)) {
    if (after.clusterIP === undefined || after.clusterIP === null || after.clusterIP === '') {
      if (before.clusterIP !== undefined) after.clusterIP = before.clusterIP;
    }
    if ((!Array.isArray(after.clusterIPs) || after.clusterIPs.length === 0) && Array.isArray(before.clusterIPs) && before.clusterIPs.length) {
      after.clusterIPs = [...before.clusterIPs];
    }
  }
  if (needsNodePorts(before) && needsNodePorts(after)) {
    const oldPorts = portsOf(before);
    const newPorts = portsOf(after);
    const oldUsed = new Set(oldPorts.map((p) => p.nodePort).filter(isSet));
    const used = new Set(newPorts.map((p) => p.nodePort).filter((n: unknown) => isSet(n) && oldUsed.has(n)));
    const byName = new Map<string, number>();
    for (const p of oldPorts) if (isSet(p.nodePort)) byName.set(p.name ?? '', p.nodePort);
    for (const p of newPorts) {
      if (isSet(p.nodePort)) continue;
      const old = byName.get(p.name ?? '');
      if (old !== undefined && !used.has(old)) p.nodePort = old;
    }
  }
}

/** One range of values (IPs as numbers, or ports) with owners, reservations and a preferred band for dynamic picks. */
class Range {
  /** value → uid of the stored Service holding it. */
  private readonly held = new Map<number, string>();
  /** value → token of the write in flight that reserved it. */
  private readonly reserved = new Map<number, number>();

  constructor(
    readonly first: number,
    readonly last: number,
    /** Dynamic picks start above this value (the lower band is kept for requested values). */
    private readonly staticBandEnd: number,
    private readonly isReserved: (value: number) => boolean = () => false,
    private readonly random: () => number = Math.random,
  ) {}

  contains(v: number): boolean {
    return v >= this.first && v <= this.last;
  }

  /** Taken by a stored Service other than `uid`, or by a write in flight. */
  takenBy(v: number, uid: string | undefined): boolean {
    const owner = this.held.get(v);
    return (owner !== undefined && owner !== uid) || this.reserved.has(v);
  }

  isFree(v: number): boolean {
    return !this.held.has(v) && !this.reserved.has(v) && !this.isReserved(v);
  }

  reserve(v: number, token: number): void {
    this.reserved.set(v, token);
  }

  unreserve(v: number, token: number): void {
    if (this.reserved.get(v) === token) this.reserved.delete(v);
  }

  hold(v: number, uid: string): string | undefined {
    const previous = this.held.get(v);
    this.held.set(v, uid);
    return previous !== undefined && previous !== uid ? previous : undefined;
  }

  release(v: number, uid: string): void {
    if (this.held.get(v) === uid) this.held.delete(v);
  }

  /** A free value: the upper band first (from a random place), then the lower one. */
  pick(): number | undefined {
    const bands: Array<[number, number]> = [
      [Math.max(this.first, this.staticBandEnd + 1), this.last],
      [this.first, Math.min(this.last, this.staticBandEnd)],
    ];
    for (const [lo, hi] of bands) {
      const size = hi - lo + 1;
      if (size <= 0) continue;
      const start = Math.floor(this.random() * size);
      for (let i = 0; i < size; i++) {
        const v = lo + ((start + i) % size);
        if (this.isFree(v)) return v;
      }
    }
    return undefined;
  }

  get used(): number {
    return new Set([...this.held.keys(), ...this.reserved.keys()]).size;
  }
}

/** Kubernetes' static band: min(max(min, size/divisor), max) values at the bottom of the range. */
function staticBand(size: number, min: number, divisor: number, max: number): number {
  return Math.min(Math.max(min, Math.floor(size / divisor)), max);
}

export interface ServiceAllocatorOptions {
  serviceCidr?: string;
  logger?: Logger;
  random?: () => number;
}

export class ServiceAllocator {
  readonly cidr: Cidr;
  readonly dnsIP: string;
  private readonly ips: Range;
  private readonly nodePorts: Range;
  /** uid → what a stored Service holds (so a MODIFIED or DELETED event frees the rest). */
  private readonly holdings = new Map<string, { key: string; ips: number[]; ports: number[] }>();
  private nextToken = 1;
  private readonly log?: Logger;

  constructor(opts: ServiceAllocatorOptions = {}) {
    this.cidr = parseCidr(opts.serviceCidr ?? DEFAULT_SERVICE_CIDR);
    if (this.cidr.prefix > 28) throw new Error(`service CIDR ${formatCidr(this.cidr)} is too small: it needs at least a /28 (the DNS service takes its 10th address)`);
    this.log = opts.logger;
    const size = cidrSize(this.cidr);
    const dns = this.cidr.base + 10;
    this.dnsIP = formatIp(dns);
    // Usable: every address but the network and broadcast ones.
    const first = this.cidr.base + 1;
    const last = this.cidr.base + size - 2;
    this.ips = new Range(first, last, this.cidr.base + staticBand(size, 16, 16, 256) - 1, (v) => v === dns, opts.random);
    const ports = NODE_PORT_RANGE.max - NODE_PORT_RANGE.min + 1;
    this.nodePorts = new Range(NODE_PORT_RANGE.min, NODE_PORT_RANGE.max, NODE_PORT_RANGE.min + staticBand(ports, 16, 32, 128) - 1, undefined, opts.random);
  }

  get cidrText(): string {
    return formatCidr(this.cidr);
  }

  /** Start: what the stored Services hold. */
  rebuild(services: Iterable<KubeObject>): void {
    for (const svc of services) this.observe({ type: 'ADDED', object: svc });
    this.log?.info({ serviceCidr: this.cidrText, clusterIPs: this.ips.used, nodePorts: this.nodePorts.used }, 'service allocators rebuilt from the stored services');
  }

  /** A change of the Service store (any writer): hold what the Service has now, free what it no longer has. */
  observe(ev: WatchEvent): void {
    const svc = ev.object;
    const uid = svc.metadata?.uid;
    if (!uid) return;
    const before = this.holdings.get(uid);
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const now = ev.type === 'DELETED' ? { key, ips: [], ports: [] } : this.valuesOf(svc);
    for (const v of before?.ips ?? []) if (!now.ips.includes(v)) this.ips.release(v, uid);
    for (const v of before?.ports ?? []) if (!now.ports.includes(v)) this.nodePorts.release(v, uid);
    for (const v of now.ips) {
      const other = this.ips.hold(v, uid);
      if (other) this.log?.warn({ service: key, clusterIP: formatIp(v), alsoHeldBy: this.holdings.get(other)?.key }, 'two services hold the same ClusterIP');
    }
    for (const v of now.ports) {
      const other = this.nodePorts.hold(v, uid);
      if (other) this.log?.warn({ service: key, nodePort: v, alsoHeldBy: this.holdings.get(other)?.key }, 'two services hold the same node port');
    }
    if (ev.type === 'DELETED') this.holdings.delete(uid);
    else this.holdings.set(uid, now);
  }

  private valuesOf(svc: KubeObject): { key: string; ips: number[]; ports: number[] } {
    const key = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    const ips: number[] = [];
    const ip = typeof svc.spec?.clusterIP === 'string' ? ipNumber(svc.spec.clusterIP) : undefined;
    if (ip !== undefined) {
      ips.push(ip);
      if (!this.ips.contains(ip) && !this.isDnsService(svc)) this.log?.warn({ service: key, clusterIP: svc.spec.clusterIP, serviceCidr: this.cidrText }, 'a stored service has a ClusterIP outside the service CIDR; recreate it to get one inside');
    }
    const ports = [...new Set(portsOf(svc.spec).map((p) => p.nodePort).filter(isSet))];
    return { key, ips, ports };
  }

  private isDnsService(svc: KubeObject): boolean {
    return svc.metadata?.namespace === DNS_SERVICE_NAMESPACE && svc.metadata?.name === DNS_SERVICE_NAME;
  }

  /**
   * A new Service (validated, defaulted, uid stamped): sets `spec.clusterIP`/`clusterIPs` and
   * missing node ports, reserving them until `done()`. Throws Invalid (field errors, all at
   * once) for requested values that are taken or out of range; nothing stays reserved then.
   */
  allocateCreate(svc: KubeObject): Claim {
    return this.allocate(svc, undefined);
  }

  /** An update: allocates what the new spec needs and the old one did not have (type changes, new ports). */
  allocateUpdate(existing: KubeObject, next: KubeObject): Claim {
    return this.allocate(next, existing);
  }

  private allocate(svc: KubeObject, existing: KubeObject | undefined): Claim {
    const spec = svc.spec;
    if (!spec || typeof spec !== 'object') return NO_CLAIM;
    const uid = svc.metadata?.uid;
    const token = this.nextToken++;
    const reservedIps: number[] = [];
    const reservedPorts: number[] = [];
    const claim: Claim = {
      done: () => {
        for (const v of reservedIps) this.ips.unreserve(v, token);
        for (const v of reservedPorts) this.nodePorts.unreserve(v, token);
      },
    };
    const causes: FieldCause[] = [];
    try {
      this.allocateClusterIP(svc, existing, token, reservedIps, causes);
      this.allocateNodePorts(svc, existing, uid, token, reservedPorts, causes);
    } catch (e) {
      claim.done();
      throw e;
    }
    if (causes.length) {
      claim.done();
      throw ApiError.invalid('Service', String(svc.metadata?.name ?? ''), causes);
    }
    return claim;
  }

  private allocateClusterIP(svc: KubeObject, existing: KubeObject | undefined, token: number, reserved: number[], causes: FieldCause[]): void {
    const spec = svc.spec;
    if (!needsClusterIP(spec)) {
      delete spec.clusterIPs;
      return;
    }
    let requested: string | undefined = typeof spec.clusterIP === 'string' && spec.clusterIP ? spec.clusterIP : undefined;
    if (!requested && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string' && spec.clusterIPs[0]) requested = spec.clusterIPs[0];
    const had = existing && needsClusterIP(existing.spec) ? existing.spec?.clusterIP : undefined;
    if (had && requested === had) {
      spec.clusterIP = had;
      spec.clusterIPs = [had];
      return; // it keeps what it has (immutability is validation's business)
    }
    if (requested === 'None') {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
      return;
    }
    if (requested) {
      const n = ipNumber(requested);
      if (n === undefined || !this.ips.contains(n)) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'spec.clusterIP',
          message: `Invalid value: ${JSON.stringify(requested)}: provided IP is not in the valid range. The range of valid IPs is ${this.cidrText}`,
        });
        return;
      }
      const dnsForOther = n === ipNumber(this.dnsIP) && !this.isDnsService(svc);
      if (dnsForOther || this.ips.takenBy(n, svc.metadata?.uid)) {
        causes.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: `Invalid value: ${JSON.stringify(requested)}: provided IP is already allocated` });
        return;
      }
      this.ips.reserve(n, token);
      reserved.push(n);
      spec.clusterIP = requested;
      spec.clusterIPs = [requested];
      return;
    }
    const n = this.ips.pick();
    if (n === undefined) throw new ApiError(Reason.InternalError, `Internal error occurred: failed to allocate a serviceIP: range is full (${this.cidrText})`);
    this.ips.reserve(n, token);
    reserved.push(n);
    spec.clusterIP = formatIp(n);
    spec.clusterIPs = [spec.clusterIP];
  }

  private allocateNodePorts(svc: KubeObject, existing: KubeObject | undefined, uid: string | undefined, token: number, reserved: number[], causes: FieldCause[]): void {
    const spec = svc.spec;
    if (!needsNodePorts(spec)) return;
    const ports = Array.isArray(spec.ports) ? spec.ports : [];
    const own = new Set<number>(existing && needsNodePorts(existing.spec) ? portsOf(existing.spec).map((p) => p.nodePort).filter(isSet) : []);
    const taken = new Set<number>(); // requested ones checked (a value may repeat across protocols)
    ports.forEach((p: any, i: number) => {
      if (!p || typeof p !== 'object' || !isSet(p.nodePort)) return;
      const v = p.nodePort;
      if (own.has(v) || taken.has(v)) return;
      if (!this.nodePorts.contains(v)) return; // validation reports the range
      if (this.nodePorts.takenBy(v, uid)) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${v}: provided port is already allocated` });
        return;
      }
      this.nodePorts.reserve(v, token);
      reserved.push(v);
      taken.add(v);
    });
    if (causes.length || !wantsDynamicNodePorts(spec)) return;
    // Ports with the same port number share one node port (53/UDP and 53/TCP).
    const byPortNumber = new Map<number, number>();
    for (const p of ports) if (p && typeof p === 'object' && isSet(p.nodePort)) byPortNumber.set(p.port, p.nodePort);
    for (const p of ports) {
      if (!p || typeof p !== 'object' || isSet(p.nodePort)) continue;
      const shared = byPortNumber.get(p.port);
      if (shared !== undefined) {
        p.nodePort = shared;
        continue;
      }
      const v = this.nodePorts.pick();
      if (v === undefined) throw new ApiError(Reason.InternalError, `Internal error occurred: failed to allocate a nodePort: range is full (${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max})`);
      this.nodePorts.reserve(v, token);
      reserved.push(v);
      p.nodePort = v;
      byPortNumber.set(p.port, v);
    }
  }

  /** How many values are in use (held or reserved): for logs and tests. */
  usage(): { clusterIPs: number; nodePorts: number } {
    return { clusterIPs: this.ips.used, nodePorts: this.nodePorts.used };
  }
}
