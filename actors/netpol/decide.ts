/**
 * The NetworkPolicy decision for one connection, with Kubernetes' semantics:
 *  - a pod is isolated for ingress (egress) only when some policy of its namespace selects it
 *    and has that policy type; a pod no policy isolates accepts (sends) everything;
 *  - an isolated pod's traffic is allowed when any rule of any policy selecting it allows it
 *    (rules add up; order and policy names do not matter);
 *  - a connection needs both: egress allowed at the source and ingress allowed at the destination;
 *  - a rule matches when one of its peers matches (none listed: every peer) and one of its ports
 *    matches (none listed: every port); a named port is the destination pod's container port;
 *  - podSelector / namespaceSelector peers match pods only; ipBlock peers match addresses that are
 *    not pods' (traffic from a pod is judged by its labels, never by its address).
 */
import { matchesLabels } from '../../protocol/selectors.js';
import { blockContains, ipv4Number } from './cidr.js';
import { NAMESPACE_NAME_LABEL, type CompiledPeer, type CompiledPolicy, type CompiledPort, type CompiledRule, type PolicySet, type Protocol } from './policies.js';

export interface NamedPort {
  name: string;
  port: number;
  protocol: Protocol;
}

/** A pod as policies see it: where it lives, its labels and its named container ports. */
export interface PodIdentity {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ports?: readonly NamedPort[];
}

/** One end of a connection: its address, and the pod when the address is a pod's. */
export interface Peer {
  ip: string;
  pod?: PodIdentity;
}

export interface Connection {
  source: Peer;
  dest: Peer;
  /** The destination port (the endpoint's, after the service translated it). */
  port: number;
  protocol: Protocol;
}

export type Direction = 'Ingress' | 'Egress';

export interface Verdict {
  allowed: boolean;
  /** Which side denied (denied) or the last side checked. */
  direction?: Direction;
  /** The policies that isolate the denying side (denied) or the one whose rule allowed it. */
  policies: string[];
  reason: string;
}

function podName(p: Peer): string {
  return p.pod ? `${p.pod.namespace}/${p.pod.name}` : p.ip;
}

/** Policies of `pod`'s namespace that select it and have the given type. */
export function isolatingPolicies(set: PolicySet, pod: PodIdentity, direction: Direction): CompiledPolicy[] {
  const out: CompiledPolicy[] = [];
  for (const p of set.byNamespace.get(pod.namespace) ?? []) {
    const rules = direction === 'Ingress' ? p.ingress : p.egress;
    if (rules && matchesLabels(p.selector, pod.labels)) out.push(p);
  }
  return out;
}

/**
 * Whether knowing which pod (if any) opened a connection can change its verdict: some policy
 * isolates pods for egress, or the destination is isolated for ingress. When not, callers may
 * skip identifying the source.
 */
export function sourceMatters(set: PolicySet, dest: Peer): boolean {
  if (set.size === 0) return false;
  if (set.anyEgress) return true;
  return !!dest.pod && isolatingPolicies(set, dest.pod, 'Ingress').length > 0;
}

function namespaceLabels(set: PolicySet, namespace: string): Record<string, string> {
  return set.namespaceLabels.get(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace };
}

function peerMatches(set: PolicySet, policy: CompiledPolicy, peer: CompiledPeer, other: Peer): boolean {
  if (peer.kind === 'ipBlock') {
    if (other.pod || !peer.cidr) return false;
    const ip = ipv4Number(other.ip);
    if (ip === undefined || !blockContains(peer.cidr, ip)) return false;
    return !peer.except.some((e) => e !== undefined && blockContains(e, ip));
  }
  const pod = other.pod;
  if (!pod) return false;
  if (peer.namespaces) {
    if (!matchesLabels(peer.namespaces, namespaceLabels(set, pod.namespace))) return false;
  } else if (pod.namespace !== policy.namespace) return false;
  return !peer.pods || matchesLabels(peer.pods, pod.labels);
}

function portMatches(port: CompiledPort, conn: Connection): boolean {
  if (port.protocol !== conn.protocol) return false;
  if (port.name !== undefined) {
    const named = conn.dest.pod?.ports?.find((p) => p.name === port.name && p.protocol === conn.protocol);
    return named?.port === conn.port;
  }
  if (port.port === undefined) return true;
  return conn.port >= port.port && conn.port <= (port.endPort ?? port.port);
}

function ruleMatches(set: PolicySet, policy: CompiledPolicy, rule: CompiledRule, other: Peer, conn: Connection): boolean {
  if (rule.ports && !rule.ports.some((p) => portMatches(p, conn))) return false;
  return !rule.peers || rule.peers.some((peer) => peerMatches(set, policy, peer, other));
}

/** One side's verdict: `undefined` when that pod is not isolated in this direction. */
function judge(set: PolicySet, pod: PodIdentity, direction: Direction, other: Peer, conn: Connection): Verdict | undefined {
  const isolating = isolatingPolicies(set, pod, direction);
  if (!isolating.length) return undefined;
  for (const policy of isolating) {
    const rules = (direction === 'Ingress' ? policy.ingress : policy.egress) ?? [];
    if (rules.some((r) => ruleMatches(set, policy, r, other, conn))) {
      return { allowed: true, direction, policies: [policy.key], reason: `${direction.toLowerCase()} allowed by ${policy.key}` };
    }
  }
  const what = direction === 'Ingress' ? `from ${podName(other)} to ${podName({ ip: '', pod })}` : `from ${podName({ ip: '', pod })} to ${podName(other)}`;
  return {
    allowed: false,
    direction,
    policies: isolating.map((p) => p.key),
    reason: `${direction.toLowerCase()} ${what} port ${conn.port}/${conn.protocol} is not allowed by ${isolating.map((p) => p.key).join(', ')}`,
  };
}

export function decide(set: PolicySet, conn: Connection): Verdict {
  const open: Verdict = { allowed: true, policies: [], reason: 'not isolated' };
  if (set.size === 0) return open;
  let last: Verdict | undefined;
  if (conn.source.pod) {
    const egress = judge(set, conn.source.pod, 'Egress', conn.dest, conn);
    if (egress && !egress.allowed) return egress;
    last = egress;
  }
  if (conn.dest.pod) {
    const ingress = judge(set, conn.dest.pod, 'Ingress', conn.source, conn);
    if (ingress && !ingress.allowed) return ingress;
    last = ingress ?? last;
  }
  return last ?? open;
}
