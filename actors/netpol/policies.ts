/**
 * NetworkPolicies compiled for fast decisions: selectors parsed once, ipBlocks as numbers,
 * policies grouped by namespace, with each namespace's labels (plus the
 * `kubernetes.io/metadata.name` label kube-apiserver puts on every namespace).
 */
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { fromLabelSelectorObject, type LabelSelector } from '../../protocol/selectors.js';
import { parseIpv4Block, type Ipv4Block } from './cidr.js';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A pod/namespace selector peer (`namespaces: undefined` = the policy's own namespace), or an ipBlock. */
export type CompiledPeer =
  | { kind: 'pods'; pods?: LabelSelector; namespaces?: LabelSelector }
  | { kind: 'ipBlock'; cidr?: Ipv4Block; except: Array<Ipv4Block | undefined> };

export interface CompiledPort {
  protocol: Protocol;
  /** Absent: every port of the protocol. */
  port?: number;
  endPort?: number;
  /** A named port: the destination pod's container port of that name. */
  name?: string;
}

export interface CompiledRule {
  /** Absent or empty in the policy: every peer. */
  peers?: CompiledPeer[];
  /** Absent or empty in the policy: every port. */
  ports?: CompiledPort[];
}

export interface CompiledPolicy {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  selector: LabelSelector;
  /** Set when the policy's policyTypes include Ingress (then [] isolates and allows nothing). */
  ingress?: CompiledRule[];
  egress?: CompiledRule[];
}

export interface PolicySet {
  byNamespace: Map<string, CompiledPolicy[]>;
  namespaceLabels: Map<string, Record<string, string>>;
  /** How many policies there are; 0 means nothing is ever denied. */
  size: number;
  /** Whether any policy isolates pods for egress (then the source's identity matters for every connection). */
  anyEgress: boolean;
}

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** The policy types as Kubernetes defaults them: Ingress always, Egress when there are egress rules. */
export function policyTypesOf(policy: NetworkPolicy): { ingress: boolean; egress: boolean } {
  const types = policy.spec?.policyTypes;
  if (types && types.length) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: (policy.spec?.egress?.length ?? 0) > 0 };
}

function compilePeer(peer: NetworkPolicyPeer): CompiledPeer {
  if (peer.ipBlock) return { kind: 'ipBlock', cidr: parseIpv4Block(peer.ipBlock.cidr), except: (peer.ipBlock.except ?? []).map(parseIpv4Block) };
  return {
    kind: 'pods',
    ...(peer.podSelector ? { pods: fromLabelSelectorObject(peer.podSelector as never) } : {}),
    ...(peer.namespaceSelector ? { namespaces: fromLabelSelectorObject(peer.namespaceSelector as never) } : {}),
  };
}

function compilePort(port: NetworkPolicyPort): CompiledPort {
  const protocol = (port.protocol ?? 'TCP') as Protocol;
  if (typeof port.port === 'string') return { protocol, name: port.port };
  if (typeof port.port === 'number') return { protocol, port: port.port, ...(typeof port.endPort === 'number' ? { endPort: port.endPort } : {}) };
  return { protocol };
}

function compileRules(rules: Array<{ ports?: NetworkPolicyPort[]; peers?: NetworkPolicyPeer[] }>): CompiledRule[] {
  return rules.map((r) => ({
    ...(r.peers?.length ? { peers: r.peers.map(compilePeer) } : {}),
    ...(r.ports?.length ? { ports: r.ports.map(compilePort) } : {}),
  }));
}

export function compilePolicies(policies: readonly NetworkPolicy[], namespaces: readonly Namespace[]): PolicySet {
  const byNamespace = new Map<string, CompiledPolicy[]>();
  let anyEgress = false;
  for (const p of policies) {
    const namespace = p.metadata?.namespace ?? 'default';
    const types = policyTypesOf(p);
    const compiled: CompiledPolicy = {
      key: `${namespace}/${p.metadata?.name ?? ''}`,
      namespace,
      selector: fromLabelSelectorObject((p.spec?.podSelector ?? {}) as never),
      ...(types.ingress ? { ingress: compileRules((p.spec?.ingress ?? []).map((r) => ({ ports: r.ports, peers: r.from }))) } : {}),
      ...(types.egress ? { egress: compileRules((p.spec?.egress ?? []).map((r) => ({ ports: r.ports, peers: r.to }))) } : {}),
    };
    anyEgress ||= types.egress;
    const list = byNamespace.get(namespace) ?? [];
    list.push(compiled);
    byNamespace.set(namespace, list);
  }
  for (const list of byNamespace.values()) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const ns of namespaces) {
    const name = ns.metadata?.name;
    if (name) namespaceLabels.set(name, { ...(ns.metadata?.labels ?? {}), [NAMESPACE_NAME_LABEL]: name });
  }
  return { byNamespace, namespaceLabels, size: policies.length, anyEgress };
}
