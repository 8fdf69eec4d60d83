/**
 * What kube-proxy serves, computed from a Service and its Endpoints (pure: no sockets, no
 * clock). For every service port: the addresses to listen on (clusterIP, externalIPs, the
 * node's own IP at the nodePort, the LoadBalancer ingress IPs) and the ready endpoints behind
 * it. kubeact only ever uses 127.0.0.0/8: an address outside it is never listened on or
 * connected to, and is reported as skipped instead.
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Service, ServicePort } from 'kubernetes-types/core/v1.js';

export type ProxyProtocol = 'TCP' | 'UDP';
export type ListenerRole = 'clusterIP' | 'externalIP' | 'nodePort' | 'loadBalancer';

/** One port of one Service: `namespace/name:portName/protocol` (portName is '' when unnamed). */
export interface ServicePortRef {
  namespace: string;
  name: string;
  port: string;
  protocol: ProxyProtocol;
}

export interface ListenerSpec {
  /** `TCP/127.100.0.10:80`: only one listener per key, whichever service asks. */
  key: string;
  protocol: ProxyProtocol;
  ip: string;
  port: number;
  role: ListenerRole;
  service: ServicePortRef;
}

export interface EndpointTarget {
  /** `ip:port`. */
  key: string;
  ip: string;
  port: number;
  nodeName?: string;
  /** `namespace/name` of the pod (targetRef), when the Endpoints carry it. */
  pod?: string;
}

export interface AffinityPolicy {
  clientIP: boolean;
  timeoutMs: number;
}

export interface ServicePortPlan {
  key: string;
  ref: ServicePortRef;
  /** Ready endpoints, sorted by key; never outside 127.0.0.0/8. */
  endpoints: EndpointTarget[];
  affinity: AffinityPolicy;
  listeners: ListenerSpec[];
}

export interface Skipped {
  service: string;
  reason: string;
}

export interface ServicePlan {
  ports: ServicePortPlan[];
  skipped: Skipped[];
}

/** Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds`: 3 hours. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `ip` is an IPv4 address inside 127.0.0.0/8 (the only addresses kubeact uses). */
export function isLoopbackIPv4(ip: unknown): ip is string {
  return typeof ip === 'string' && IPV4.test(ip) && ip.startsWith('127.');
}

export function servicePortKey(ref: ServicePortRef): string {
  return `${ref.namespace}/${ref.name}:${ref.port}/${ref.protocol}`;
}

export function listenerKey(protocol: ProxyProtocol, ip: string, port: number): string {
  return `${protocol}/${ip}:${port}`;
}

export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function validPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536;
}

export function affinityOf(service: Service): AffinityPolicy {
  const clientIP = service.spec?.sessionAffinity === 'ClientIP';
  const seconds = service.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  const timeoutSeconds = typeof seconds === 'number' && seconds > 0 ? seconds : DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  return { clientIP, timeoutMs: timeoutSeconds * 1000 };
}

/**
 * The ready endpoints of one service port: every subset's `addresses` at that subset's port
 * whose `name` (and protocol) is the service port's. Not-ready addresses are not used.
 */
export function endpointsFor(endpoints: Endpoints | undefined, portName: string, protocol: ProxyProtocol, skipped?: (reason: string) => void): EndpointTarget[] {
  const out = new Map<string, EndpointTarget>();
  for (const subset of (endpoints?.subsets ?? []) as EndpointSubset[]) {
    const port = (subset.ports ?? []).find((p: EndpointPort) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port || !validPort(port.port)) continue;
    for (const addr of (subset.addresses ?? []) as EndpointAddress[]) {
      if (!isLoopbackIPv4(addr.ip)) {
        skipped?.(`endpoint ${String(addr.ip)}:${port.port} is outside 127.0.0.0/8`);
        continue;
      }
      const key = `${addr.ip}:${port.port}`;
      const ref = addr.targetRef;
      out.set(key, {
        key,
        ip: addr.ip,
        port: port.port,
        ...(addr.nodeName ? { nodeName: addr.nodeName } : {}),
        ...(ref?.name ? { pod: `${ref.namespace ?? endpoints?.metadata?.namespace ?? 'default'}/${ref.name}` } : {}),
      });
    }
  }
  return [...out.values()].sort((a, b) => compareEndpoint(a, b));
}

function compareEndpoint(a: EndpointTarget, b: EndpointTarget): number {
  return ipNumber(a.ip) - ipNumber(b.ip) || a.port - b.port;
}

function ipNumber(ip: string): number {
  const [a, b, c, d] = ip.split('.').map(Number);
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

/**
 * Everything one node's kube-proxy serves for one Service. `nodeIP` is the node's own
 * address (NodePorts are served there).
 */
export function planService(service: Service, endpoints: Endpoints | undefined, opts: { nodeIP: string }): ServicePlan {
  const namespace = service.metadata?.namespace ?? 'default';
  const name = service.metadata?.name ?? '';
  const svc = serviceKey(namespace, name);
  const plan: ServicePlan = { ports: [], skipped: [] };
  const skip = (reason: string) => plan.skipped.push({ service: svc, reason });
  const spec = service.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (type === 'ExternalName') return plan;
  const clusterIP = spec.clusterIP;
  const headless = clusterIP === 'None';
  if (clusterIP && !headless && !isLoopbackIPv4(clusterIP)) skip(`clusterIP ${clusterIP} is outside 127.0.0.0/8`);
  const externalIPs = (spec.externalIPs ?? []).filter((ip: string) => {
    if (isLoopbackIPv4(ip)) return true;
    skip(`externalIP ${String(ip)} is outside 127.0.0.0/8`);
    return false;
  });
  const ingressIPs: string[] = [];
  if (type === 'LoadBalancer') {
    for (const ing of service.status?.loadBalancer?.ingress ?? []) {
      if (!ing.ip) continue;
      if (isLoopbackIPv4(ing.ip)) ingressIPs.push(ing.ip);
      else skip(`load balancer ingress ${ing.ip} is outside 127.0.0.0/8`);
    }
  }
  const affinity = affinityOf(service);
  for (const sp of (spec.ports ?? []) as ServicePort[]) {
    const protocol = sp.protocol ?? 'TCP';
    const portName = sp.name ?? '';
    if (protocol !== 'TCP' && protocol !== 'UDP') {
      skip(`port ${portName || sp.port}: protocol ${protocol} is not proxied`);
      continue;
    }
    if (!validPort(sp.port)) continue;
    const ref: ServicePortRef = { namespace, name, port: portName, protocol };
    const listeners: ListenerSpec[] = [];
    const add = (ip: string, port: number, role: ListenerRole) => listeners.push({ key: listenerKey(protocol, ip, port), protocol, ip, port, role, service: ref });
    if (clusterIP && !headless && isLoopbackIPv4(clusterIP)) add(clusterIP, sp.port, 'clusterIP');
    for (const ip of externalIPs) add(ip, sp.port, 'externalIP');
    if ((type === 'NodePort' || type === 'LoadBalancer') && validPort(sp.nodePort)) {
      if (isLoopbackIPv4(opts.nodeIP)) add(opts.nodeIP, sp.nodePort, 'nodePort');
      else skip(`node IP ${opts.nodeIP} is outside 127.0.0.0/8`);
    }
    for (const ip of ingressIPs) add(ip, sp.port, 'loadBalancer');
    plan.ports.push({
      key: servicePortKey(ref),
      ref,
      endpoints: endpointsFor(endpoints, portName, protocol, skip),
      affinity,
      listeners,
    });
  }
  return plan;
}

/**
 * The union of every service's listeners, one per address: when two services claim the same
 * ip:port (a misconfiguration the API server should prevent), the service whose key sorts first
 * keeps it and the other is reported.
 */
export function mergeListeners(perService: Iterable<[string, ListenerSpec[]]>): { listeners: Map<string, ListenerSpec>; conflicts: Skipped[] } {
  const listeners = new Map<string, ListenerSpec>();
  const conflicts: Skipped[] = [];
  const sorted = [...perService].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [svc, specs] of sorted) {
    for (const spec of specs) {
      const owner = listeners.get(spec.key);
      if (owner) {
        if (servicePortKey(owner.service) !== servicePortKey(spec.service)) conflicts.push({ service: svc, reason: `${spec.key} is already served for ${servicePortKey(owner.service)}` });
        continue;
      }
      listeners.set(spec.key, spec);
    }
  }
  return { listeners, conflicts };
}

/**
 * Whether the first bytes of a client's chunk start an HTTP/1 request (`GET /path HTTP/1.1`):
 * kube-proxy's request counter counts such chunks (an approximation: pipelined requests in one
 * chunk count once).
 */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'].map((m) => Buffer.from(`${m} `));
export function startsHttpRequest(chunk: Uint8Array): boolean {
  const c = chunk[0];
  if (c === undefined || c < 0x41 || c > 0x54) return false; // 'A'..'T'
  outer: for (const m of METHODS) {
    if (chunk.length < m.length) continue;
    for (let i = 0; i < m.length; i++) if (chunk[i] !== m[i]) continue outer;
    return true;
  }
  return false;
}
