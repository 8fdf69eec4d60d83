/**
 * What `kubeact port-forward` forwards to — pure, from objects already read:
 *  - port mappings `[LOCAL:]REMOTE` (`8080`, `8888:8080`, `:8080` for a random local port; a
 *    REMOTE may be a port name);
 *  - the pod of a target: the pod itself; for a Service one of its ready endpoint pods; for a
 *    Deployment or ReplicaSet a pod its selector picks, ready ones first (kubectl's choice);
 *  - the pod port of each mapping: a Service port (number or name) becomes its `targetPort`,
 *    a named port (of the Service's target or given directly) the pod's container port of
 *    that name.
 * Errors are worded like kubectl's.
 */
import type { Container, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { fromLabelSelectorObject, matchesLabels } from '../../protocol/selectors.js';
import { CliError } from './session.js';

export interface PortMapping {
  /** 0: pick a free one. */
  local: number;
  /** A port number or a port name, as typed. */
  remote: string;
}

function portNumber(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** An IANA service name (validation's isValidPortName): lower-case letters, digits, dashes, at least one letter. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function parsePortMapping(text: string): PortMapping {
  const parts = text.split(':');
  if (parts.length > 2) throw new CliError(`invalid port mapping "${text}": expected [LOCAL_PORT:]REMOTE_PORT`);
  const [localText, remote] = parts.length === 2 ? parts : [parts[0], parts[0]];
  if (!remote || (portNumber(remote) === undefined && !PORT_NAME.test(remote))) {
    throw new CliError(`invalid port mapping "${text}": the remote port must be a number from 1 to 65535 or a port name`);
  }
  if (localText === '') return { local: 0, remote };
  const local = portNumber(localText);
  if (local === undefined) {
    if (parts.length === 1 && PORT_NAME.test(remote)) throw new CliError(`invalid port mapping "${text}": a port name needs a local port (LOCAL:${remote})`);
    throw new CliError(`invalid port mapping "${text}": the local port must be a number from 1 to 65535 (or empty for a random one)`);
  }
  return { local, remote };
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && Boolean(pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

/** A ready endpoint's pod name of a Service (the first in the Endpoints' order); undefined when none. */
export function endpointPod(endpoints: Endpoints | undefined): string | undefined {
  for (const subset of endpoints?.subsets ?? []) {
    for (const addr of subset.addresses ?? []) if (addr.targetRef?.kind === 'Pod' && addr.targetRef.name) return addr.targetRef.name;
  }
  return undefined;
}

/** The pod a workload's selector picks: running and ready first, then running, then the oldest. */
export function pickPod(selector: { matchLabels?: Record<string, string>; matchExpressions?: any[] } | undefined, pods: Pod[]): Pod | undefined {
  if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length)) return undefined;
  const sel = fromLabelSelectorObject(selector);
  const rank = (p: Pod) => (isPodReady(p) ? 0 : p.status?.phase === 'Running' ? 1 : 2);
  return pods
    .filter((p) => !p.metadata?.deletionTimestamp && matchesLabels(sel, p.metadata?.labels as Record<string, string> | undefined))
    .sort((a, b) => rank(a) - rank(b) || String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)))[0];
}

function containerPortByName(pod: Pod, name: string): number | undefined {
  for (const c of (pod.spec?.containers ?? []) as Container[]) {
    for (const p of c.ports ?? []) if (p.name === name && (p.protocol ?? 'TCP') === 'TCP') return p.containerPort;
  }
  return undefined;
}

/** The pod port a mapping reaches: through the Service's ports when forwarding a Service. */
export function podPort(pod: Pod, remote: string, service?: Service): number {
  const podName = pod.metadata?.name;
  if (service) {
    const asNumber = portNumber(remote);
    const sp = (service.spec?.ports ?? []).find((p) => (asNumber !== undefined ? p.port === asNumber : p.name === remote) && (p.protocol ?? 'TCP') === 'TCP');
    if (!sp) throw new CliError(`Service ${service.metadata?.name} does not have a service port ${remote}`);
    const target = sp.targetPort ?? sp.port;
    if (typeof target === 'number') return target;
    if (/^\d+$/.test(target)) return Number(target);
    const byName = containerPortByName(pod, target);
    if (byName === undefined) throw new CliError(`Pod '${podName}' does not have a named port '${target}'`);
    return byName;
  }
  const n = portNumber(remote);
  if (n !== undefined) return n;
  const byName = containerPortByName(pod, remote);
  if (byName === undefined) throw new CliError(`Pod '${podName}' does not have a named port '${remote}'`);
  return byName;
}
