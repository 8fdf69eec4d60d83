/**
 * The `kube-system/kube-dns` Service has no selector in kubeact: the DNS server runs inside the
 * control plane rather than as pods, so the control plane keeps the Service's Endpoints pointing
 * at the server's address (as one does for any selector-less Service). kube-proxy then carries
 * the kube-dns ClusterIP (53/UDP and 53/TCP) to it like any other Service.
 *
 * Pure decision: what the Endpoints should be, and what to write to get there.
 */
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';

export interface DnsListen {
  host: string;
  port: number;
}

/** `127.0.1.254:53` → host and port; throws a clear error for anything else. */
export function parseDnsListen(text: string): DnsListen {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || m[1].split('.').some((o) => Number(o) > 255) || port < 1 || port > 65535) {
    throw new Error(`--dns-listen: expected ADDRESS:PORT with an IPv4 address (e.g. 127.0.1.254:53) or "off", got ${JSON.stringify(text)}`);
  }
  if (!m[1].startsWith('127.')) throw new Error(`--dns-listen: ${m[1]} is not a loopback address (127.0.0.0/8); kubeact only listens on loopback`);
  return { host: m[1], port };
}

/** The Endpoints the kube-dns Service should have: the server's address, one port per Service port (by name and protocol). */
export function desiredDnsEndpoints(service: Service, listen: DnsListen): Endpoints {
  const ports = (service.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: listen.port, protocol: p.protocol ?? 'TCP' }));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: service.metadata!.name,
      namespace: service.metadata!.namespace,
      labels: { ...(service.metadata?.labels ?? {}) },
    },
    subsets: ports.length ? [{ addresses: [{ ip: listen.host }], ports }] : [],
  } as Endpoints;
}

export type DnsEndpointsAction =
  | { type: 'none' }
  | { type: 'create'; endpoints: Endpoints }
  | { type: 'update'; endpoints: Endpoints }
  /** The Service still has a selector (stored by an older kubeact): drop it so the Endpoints controller leaves the Endpoints to us. */
  | { type: 'dropSelector'; service: Service };

export function reconcileDnsEndpoints(service: Service | undefined, current: Endpoints | undefined, listen: DnsListen): DnsEndpointsAction {
  if (!service) return { type: 'none' }; // the API server creates kube-dns at start; nothing to point yet
  if (service.spec?.selector && Object.keys(service.spec.selector).length) {
    const { selector: _dropped, ...spec } = service.spec;
    return { type: 'dropSelector', service: { ...service, spec } };
  }
  const desired = desiredDnsEndpoints(service, listen);
  if (!current) return { type: 'create', endpoints: desired };
  const same = JSON.stringify(current.subsets ?? []) === JSON.stringify(desired.subsets) && JSON.stringify(current.metadata?.labels ?? {}) === JSON.stringify(desired.metadata?.labels);
  if (same) return { type: 'none' };
  return { type: 'update', endpoints: { ...desired, metadata: { ...current.metadata, labels: desired.metadata!.labels } } };
}
