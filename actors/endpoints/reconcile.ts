/**
 * The Endpoints controller's decision, as one pure function (kube-controller-manager's
 * pkg/controller/endpoint `syncService`): given a Service (or its absence), the pods of its
 * namespace and the Endpoints object of the same name, what to write. Level-based: the answer
 * depends only on what is observed now.
 *
 *  - Service gone → delete its Endpoints (Kubernetes' Endpoints have no ownerReference: the
 *    controller deletes them with the Service).
 *  - Service without a selector → nothing: its Endpoints are the user's.
 *  - Otherwise the pods the selector matches, minus terminal pods (Succeeded/Failed), pods
 *    without an IP and terminating pods (unless `publishNotReadyAddresses`), become addresses:
 *    `addresses` when the pod is Ready, `notReadyAddresses` otherwise; each service port's
 *    `targetPort` resolved per pod (a number as is, a name through the pod's container ports
 *    of the same protocol; a pod without that named port is no endpoint of that port).
 *    Subsets are repacked as `endpoints.RepackSubsets` does: addresses offering the same
 *    ports share a subset.
 */
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../protocol/objects.js';

/** The label kube puts on the Endpoints of a headless Service. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** Endpoints carrying a leader-election record are not a Service's (kube skips them too). */
export const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

export type EndpointsAction =
  | { type: 'none' }
  | { type: 'create'; endpoints: Endpoints & KubeObject }
  | { type: 'update'; endpoints: Endpoints & KubeObject }
  | { type: 'delete'; namespace: string; name: string; uid?: string };

export interface EndpointsInput {
  /** The Service; undefined when there is none of that name. */
  service?: Service;
  /** Pods of the Service's namespace (others are ignored). */
  pods: readonly Pod[];
  /** The Endpoints object of the same name, if any. */
  endpoints?: Endpoints;
  /** When the Service is gone: which Endpoints to delete. */
  namespace?: string;
  name?: string;
}

/** A selector from `spec.selector`: undefined (no selector) when absent or empty. */
export function serviceSelector(service: Service | undefined): Record<string, string> | undefined {
  const sel = service?.spec?.selector;
  return sel && typeof sel === 'object' && Object.keys(sel).length ? (sel as Record<string, string>) : undefined;
}

/** Whether a map selector selects these labels (every key with its value). */
export function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** kube's `ShouldPodBeInEndpoints`: not terminal, has an IP, not terminating (unless asked). */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/**
 * kube's `podutil.FindPort`: the pod's port for a service port. A number is the port; a name
 * is looked up among the containers' (and restartable init containers') ports with the same
 * protocol. Undefined when the pod has no such named port.
 */
export function findPort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (typeof target !== 'string' || target === '') return servicePort.port;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

function endpointAddress(service: Service, pod: Pod): EndpointAddress {
  const addr: Record<string, unknown> = { ip: pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip ?? '' };
  // kube's ShouldSetHostname: a pod with spec.hostname in the Service's subdomain.
  if (pod.spec?.hostname && pod.spec.subdomain === service.metadata?.name && pod.metadata?.namespace === service.metadata?.namespace) addr.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) addr.nodeName = pod.spec.nodeName;
  addr.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  return addr as unknown as EndpointAddress;
}

function endpointPort(servicePort: ServicePort, port: number): EndpointPort {
  const out: EndpointPort = { port, protocol: servicePort.protocol ?? 'TCP' } as EndpointPort;
  const named = servicePort.name ? { name: servicePort.name } : {};
  const app = servicePort.appProtocol ? { appProtocol: servicePort.appProtocol } : {};
  return { ...named, ...out, ...app };
}

/** `a.b.c.d` compared numerically, then uid: kube sorts addresses by IP then uid. */
function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  const na = ipSortKey(a.ip);
  const nb = ipSortKey(b.ip);
  if (na !== nb) return na < nb ? -1 : 1;
  const ua = a.targetRef?.uid ?? '';
  const ub = b.targetRef?.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

function ipSortKey(ip: string): string {
  const parts = ip.split('.');
  return parts.length === 4 ? parts.map((p) => p.padStart(3, '0')).join('.') : ip;
}

function comparePorts(a: EndpointPort, b: EndpointPort): number {
  const an = a.name ?? '';
  const bn = b.name ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  if (a.port !== b.port) return a.port - b.port;
  const ap = a.protocol ?? '';
  const bp = b.protocol ?? '';
  return ap < bp ? -1 : ap > bp ? 1 : 0;
}

interface Entry {
  addr: EndpointAddress;
  ready: boolean;
}

/**
 * `endpoints.RepackSubsets`: every port is offered by a set of addresses; ports offered by the
 * same set (same addresses, same readiness) form one subset. Addresses of a headless Service
 * without ports go in a subset without ports. Sorted: addresses by IP, ports by name, subsets by
 * their first address (kube orders them by a hash; any fixed order reads the same).
 */
export function repackSubsets(entries: ReadonlyArray<{ addr: EndpointAddress; ready: boolean; port?: EndpointPort }>): EndpointSubset[] {
  const addrKey = (a: EndpointAddress) => `${a.ip}|${a.targetRef?.uid ?? ''}`;
  const byPort = new Map<string, { port?: EndpointPort; addrs: Map<string, Entry> }>();
  for (const e of entries) {
    const pk = e.port ? JSON.stringify([e.port.name ?? '', e.port.port, e.port.protocol ?? 'TCP', e.port.appProtocol ?? '']) : '';
    let slot = byPort.get(pk);
    if (!slot) byPort.set(pk, (slot = { port: e.port, addrs: new Map() }));
    slot.addrs.set(addrKey(e.addr), { addr: e.addr, ready: e.ready });
  }
  const groups = new Map<string, { entries: Entry[]; ports: EndpointPort[] }>();
  for (const slot of byPort.values()) {
    const list = [...slot.addrs.values()];
    const key = list
      .map((x) => `${addrKey(x.addr)}|${x.ready ? 1 : 0}`)
      .sort()
      .join(',');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { entries: list, ports: [] }));
    if (slot.port) g.ports.push(slot.port);
  }
  const subsets: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready = g.entries.filter((e) => e.ready).map((e) => e.addr).sort(compareAddresses);
    const notReady = g.entries.filter((e) => !e.ready).map((e) => e.addr).sort(compareAddresses);
    const subset: EndpointSubset = {};
    if (ready.length) (subset as { addresses?: EndpointAddress[] }).addresses = ready;
    if (notReady.length) (subset as { notReadyAddresses?: EndpointAddress[] }).notReadyAddresses = notReady;
    if (g.ports.length) (subset as { ports?: EndpointPort[] }).ports = g.ports.sort(comparePorts);
    subsets.push(subset);
  }
  const first = (s: EndpointSubset) => (s.addresses ?? s.notReadyAddresses ?? [])[0];
  return subsets.sort((a, b) => {
    const c = compareAddresses(first(a) ?? { ip: '' }, first(b) ?? { ip: '' });
    return c !== 0 ? c : JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0;
  });
}

/** The subsets a Service with a selector should have, given its namespace's pods. */
export function desiredSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const selector = serviceSelector(service);
  if (!selector) return [];
  const namespace = service.metadata?.namespace ?? 'default';
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const ports = service.spec?.ports ?? [];
  const headless = service.spec?.clusterIP === 'None';
  const entries: Array<{ addr: EndpointAddress; ready: boolean; port?: EndpointPort }> = [];
  for (const pod of pods) {
    if ((pod.metadata?.namespace ?? 'default') !== namespace) continue;
    if (!selects(selector, pod.metadata?.labels as Record<string, string> | undefined)) continue;
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const addr = endpointAddress(service, pod);
    const ready = publishNotReady || isPodReady(pod);
    if (!ports.length) {
      if (headless) entries.push({ addr, ready }); // a headless Service may have no ports
      continue;
    }
    for (const sp of ports) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      entries.push({ addr, ready, port: endpointPort(sp, port) });
    }
  }
  return repackSubsets(entries);
}

/** Labels of a Service's Endpoints: the Service's, plus the headless marker for headless ones. */
export function desiredLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = { ...((service.metadata?.labels as Record<string, string>) ?? {}) };
  if (service.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function sortedLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What to write so that the Endpoints of `service` match the pods observed now. */
export function reconcileEndpoints(input: EndpointsInput): EndpointsAction {
  const { service, endpoints } = input;
  if (!service) {
    if (!endpoints) return { type: 'none' };
    if (endpoints.metadata?.annotations?.[LEADER_ANNOTATION] !== undefined) return { type: 'none' };
    return { type: 'delete', namespace: endpoints.metadata?.namespace ?? input.namespace ?? 'default', name: endpoints.metadata?.name ?? input.name ?? '', uid: endpoints.metadata?.uid };
  }
  if (!serviceSelector(service)) return { type: 'none' }; // user-managed Endpoints
  const subsets = desiredSubsets(service, input.pods);
  const labels = desiredLabels(service);
  const name = service.metadata?.name ?? '';
  const namespace = service.metadata?.namespace ?? 'default';
  if (!endpoints) {
    const created: Endpoints & KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels } };
    if (subsets.length) (created as { subsets?: EndpointSubset[] }).subsets = subsets;
    return { type: 'create', endpoints: created };
  }
  if (sameJson(endpoints.subsets?.length ? endpoints.subsets : undefined, subsets.length ? subsets : undefined) && sameJson(sortedLabels(endpoints.metadata?.labels as Record<string, string>), sortedLabels(labels))) {
    return { type: 'none' };
  }
  const updated = structuredClone(endpoints) as Endpoints & KubeObject;
  updated.apiVersion ??= 'v1';
  updated.kind ??= 'Endpoints';
  updated.metadata = { ...updated.metadata, labels };
  if (subsets.length) (updated as { subsets?: EndpointSubset[] }).subsets = subsets;
  else delete (updated as { subsets?: EndpointSubset[] }).subsets;
  return { type: 'update', endpoints: updated };
}
