/**
 * The cluster DNS zone, built by a pure function from the Services, Endpoints and Pods the
 * server watches — the records of Kubernetes' DNS specification (as CoreDNS's kubernetes
 * plugin serves them):
 *
 *  - `svc.ns.svc.<domain>` A → the ClusterIP; headless (`clusterIP: None`) → one A per ready
 *    endpoint address; ExternalName → CNAME to `spec.externalName`.
 *  - `_port._proto.svc.ns.svc.<domain>` SRV for every named port: `0 100 port svc…` for a
 *    ClusterIP service; one per ready endpoint (`0 w port host.svc…`) for a headless one.
 *  - headless endpoints: `host.svc.ns.svc.<domain>` A, `host` being the endpoint's `hostname`
 *    (a pod with `hostname`/`subdomain`) or its address with dashes (`127-64-0-5`).
 *  - `1-2-3-4.ns.pod.<domain>` A for each pod with that IP in that namespace (CoreDNS's
 *    `pods verified`).
 *  - the apex: SOA and NS (`ns.dns.<domain>`, whose A is the kube-dns ClusterIP).
 * Names are kept lower-case; every name between a record and the apex exists (empty
 * non-terminals), so `ns.svc.<domain>` is NODATA, not NXDOMAIN.
 */
import type { SoaData, SrvData } from 'dns-packet';
import type { EndpointAddress, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** Every record's TTL, seconds (CoreDNS's kubernetes plugin default is 5 too). */
export const DNS_TTL = 5;

/** The record types the zone holds, in dns-packet's shape (so they encode as they are). */
export type ZoneRecord =
  | { type: 'A' | 'CNAME' | 'NS'; name: string; ttl: number; class: 'IN'; data: string }
  | { type: 'SRV'; name: string; ttl: number; class: 'IN'; data: SrvData }
  | { type: 'SOA'; name: string; ttl: number; class: 'IN'; data: SoaData };

export interface Zone {
  /** The cluster domain, lower-case, no trailing dot. */
  domain: string;
  soa: ZoneRecord;
  /** Lower-case owner name → its records. */
  records: Map<string, ZoneRecord[]>;
  /** Every name that exists (owners and their ancestors down to the apex). */
  names: Set<string>;
}

export interface ZoneInput {
  domain?: string;
  services: Service[];
  endpoints: Endpoints[];
  pods: Pod[];
  /** The kube-dns ClusterIP (the A of `ns.dns.<domain>`); none: no NS glue. */
  nameserverIP?: string;
  /** SOA serial; the server bumps it whenever the zone is rebuilt. */
  serial?: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIPv4(ip: unknown): ip is string {
  const m = typeof ip === 'string' ? IPV4.exec(ip) : null;
  return Boolean(m && m.slice(1).every((o) => Number(o) <= 255));
}

/** `127.64.0.5` → `127-64-0-5`, the label of a pod or an endpoint without a hostname. */
export function dashed(ip: string): string {
  return ip.replace(/\./g, '-');
}

/** A DNS name in the form zone lookups use: lower-case, no trailing dot. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Whether `name` is the domain or below it. */
export function inDomain(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

const isHeadless = (svc: Service) => svc.spec?.clusterIP === 'None';

export function buildZone(input: ZoneInput): Zone {
  const domain = canonicalName(input.domain ?? DEFAULT_CLUSTER_DOMAIN);
  const records = new Map<string, ZoneRecord[]>();
  const names = new Set<string>();
  const touch = (name: string) => {
    for (let n = canonicalName(name); inDomain(n, domain); n = n.slice(n.indexOf('.') + 1)) {
      names.add(n);
      if (n === domain) break;
    }
  };
  const add = (rec: ZoneRecord) => {
    const name = canonicalName(rec.name);
    const list = records.get(name) ?? [];
    list.push({ ...rec, name });
    records.set(name, list);
    touch(name);
  };
  const soaData: SoaData = {
    mname: `ns.dns.${domain}`,
    rname: `hostmaster.${domain}`,
    serial: input.serial ?? 1,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: DNS_TTL,
  };
  const soa: ZoneRecord = { type: 'SOA', name: domain, ttl: DNS_TTL, class: 'IN', data: soaData };
  add(soa);
  add({ type: 'NS', name: domain, ttl: DNS_TTL, class: 'IN', data: `ns.dns.${domain}` });
  if (isIPv4(input.nameserverIP)) add({ type: 'A', name: `ns.dns.${domain}`, ttl: DNS_TTL, class: 'IN', data: input.nameserverIP });

  const endpointsByKey = new Map<string, Endpoints>();
  for (const ep of input.endpoints) endpointsByKey.set(`${ep.metadata?.namespace ?? 'default'}/${ep.metadata?.name}`, ep);
  for (const svc of input.services) {
    const name = svc.metadata?.name;
    if (!name) continue;
    const namespace = svc.metadata?.namespace ?? 'default';
    const ep = endpointsByKey.get(`${namespace}/${name}`);
    addService(add, touch, svc, ep, `${name}.${namespace}.svc.${domain}`.toLowerCase());
  }
  for (const pod of input.pods) {
    const ip = pod.status?.podIP;
    if (!isIPv4(ip) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const namespace = pod.metadata?.namespace ?? 'default';
    add({ type: 'A', name: `${dashed(ip)}.${namespace}.pod.${domain}`, ttl: DNS_TTL, class: 'IN', data: ip });
  }
  return { domain, soa, records, names };
}

type Add = (rec: ZoneRecord) => void;

function addService(add: Add, touch: (name: string) => void, svc: Service, ep: Endpoints | undefined, fqdn: string): void {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') {
    if (typeof spec.externalName === 'string' && spec.externalName) add({ type: 'CNAME', name: fqdn, ttl: DNS_TTL, class: 'IN', data: canonicalName(spec.externalName) });
    return;
  }
  const ports = (spec.ports ?? []).filter((p) => p && typeof p.name === 'string' && p.name !== '');
  const srvName = (p: { name?: string; protocol?: string }) => `_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${fqdn}`;
  if (!isHeadless(svc)) {
    if (!isIPv4(spec.clusterIP)) return;
    add({ type: 'A', name: fqdn, ttl: DNS_TTL, class: 'IN', data: spec.clusterIP });
    for (const p of ports) add({ type: 'SRV', name: srvName(p), ttl: DNS_TTL, class: 'IN', data: { priority: 0, weight: 100, port: p.port, target: fqdn } satisfies SrvData });
    return;
  }
  // Headless: the ready endpoints, each under its own name too. The service name exists even
  // when it has no ready endpoint (NODATA, not NXDOMAIN).
  touch(fqdn);
  const targets: Array<{ host: string; ip: string; ports: NonNullable<NonNullable<Endpoints['subsets']>[number]['ports']> }> = [];
  for (const subset of ep?.subsets ?? []) {
    for (const addr of subset.addresses ?? []) {
      if (!isIPv4(addr.ip)) continue;
      targets.push({ host: `${hostLabel(addr)}.${fqdn}`, ip: addr.ip, ports: subset.ports ?? [] });
    }
  }
  const seenA = new Set<string>();
  for (const t of targets) {
    if (!seenA.has(t.ip)) add({ type: 'A', name: fqdn, ttl: DNS_TTL, class: 'IN', data: t.ip });
    seenA.add(t.ip);
    add({ type: 'A', name: t.host, ttl: DNS_TTL, class: 'IN', data: t.ip });
  }
  for (const p of ports) {
    touch(srvName(p));
    const matching = targets.flatMap((t) => t.ports.filter((ep) => ep.name === p.name && (ep.protocol ?? 'TCP') === (p.protocol ?? 'TCP')).map((ep) => ({ t, port: ep.port })));
    const weight = matching.length ? Math.max(1, Math.floor(100 / matching.length)) : 0;
    for (const { t, port } of matching) add({ type: 'SRV', name: srvName(p), ttl: DNS_TTL, class: 'IN', data: { priority: 0, weight, port, target: t.host } satisfies SrvData });
  }
}

/** An endpoint's own label: its hostname when it has a valid one, else its dashed address. */
function hostLabel(addr: EndpointAddress): string {
  const h = addr.hostname;
  if (typeof h === 'string' && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i.test(h)) return h.toLowerCase();
  return dashed(addr.ip);
}
