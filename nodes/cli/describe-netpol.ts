/**
 * The `Spec:` part of `kubectl describe networkpolicy` (kubectl's describeNetworkPolicySpec and
 * printNetworkPolicySpecIngressFrom / EgressTo), line by line as kubectl writes it.
 */
import type { NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec } from 'kubernetes-types/networking/v1.js';
import { policyTypesOf } from '../../actors/netpol/index.js';
import { formatLabelSelector } from './printers.js';

export interface LevelWriter {
  write(level: number, text: string): void;
}

const INDENT = '    ';

/** Go's `time.Time.String()` in local time: `2024-07-28 10:03:17 +0000 UTC`. */
export function formatGoTime(value: string | undefined | null): string {
  const t = value ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const abs = Math.abs(offset);
  const zone = Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
    `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)} ${zone}`
  );
}

function isEmptySelector(sel: NetworkPolicySpec['podSelector'] | undefined): boolean {
  return !Object.keys(sel?.matchLabels ?? {}).length && !(sel?.matchExpressions ?? []).length;
}

function printPorts(w: LevelWriter, ports: readonly NetworkPolicyPort[] | undefined): void {
  if (!ports?.length) {
    w.write(0, `${INDENT}To Port: <any> (traffic allowed to all ports)\n`);
    return;
  }
  for (const p of ports) {
    const proto = p.protocol ?? 'TCP';
    const port = p.port === undefined || p.port === null ? '<nil>' : String(p.port);
    if (p.endPort === undefined || p.endPort === null) w.write(0, `${INDENT}To Port: ${port}/${proto}\n`);
    else w.write(0, `${INDENT}To Port Range: ${port}-${p.endPort}/${proto}\n`);
  }
}

function printPeers(w: LevelWriter, peers: readonly NetworkPolicyPeer[] | undefined, title: 'From' | 'To', anyText: string): void {
  if (!peers?.length) {
    w.write(0, `${INDENT}${title}: <any> (${anyText})\n`);
    return;
  }
  for (const peer of peers) {
    w.write(0, `${INDENT}${title}:\n`);
    if (peer.podSelector && peer.namespaceSelector) {
      w.write(1, `${INDENT}NamespaceSelector: ${formatLabelSelector(peer.namespaceSelector)}\n`);
      w.write(1, `${INDENT}PodSelector: ${formatLabelSelector(peer.podSelector)}\n`);
    } else if (peer.podSelector) {
      w.write(1, `${INDENT}PodSelector: ${formatLabelSelector(peer.podSelector)}\n`);
    } else if (peer.namespaceSelector) {
      w.write(1, `${INDENT}NamespaceSelector: ${formatLabelSelector(peer.namespaceSelector)}\n`);
    } else if (peer.ipBlock) {
      w.write(1, `${INDENT}IPBlock:\n`);
      w.write(2, `${INDENT}CIDR: ${peer.ipBlock.cidr}\n`);
      w.write(2, `${INDENT}Except: ${(peer.ipBlock.except ?? []).join(', ')}\n`);
    }
  }
}

function printRules(w: LevelWriter, rules: ReadonlyArray<{ ports?: NetworkPolicyPort[]; peers?: NetworkPolicyPeer[] }>, title: 'From' | 'To', direction: 'ingress' | 'egress', anyText: string): void {
  if (!rules.length) {
    w.write(0, `${INDENT}<none> (Selected pods are isolated for ${direction} connectivity)\n`);
    return;
  }
  rules.forEach((rule, i) => {
    printPorts(w, rule.ports);
    printPeers(w, rule.peers, title, anyText);
    if (i !== rules.length - 1) w.write(0, `${INDENT}----------\n`);
  });
}

export function describeNetworkPolicySpec(w: LevelWriter, spec: NetworkPolicySpec | undefined): void {
  const s: NetworkPolicySpec = spec ?? { podSelector: {} };
  w.write(0, 'Spec:\n');
  w.write(1, 'PodSelector: ');
  if (isEmptySelector(s.podSelector)) w.write(2, '<none> (Allowing the specific traffic to all pods in this namespace)\n');
  else w.write(2, `${formatLabelSelector(s.podSelector)}\n`);
  const types = policyTypesOf({ spec: s });
  if (types.ingress) {
    w.write(1, 'Allowing ingress traffic:\n');
    printRules(w, (s.ingress ?? []).map((r) => ({ ports: r.ports, peers: r.from })), 'From', 'ingress', 'traffic not restricted by source');
  } else w.write(1, 'Not affecting ingress traffic\n');
  if (types.egress) {
    w.write(1, 'Allowing egress traffic:\n');
    printRules(w, (s.egress ?? []).map((r) => ({ ports: r.ports, peers: r.to })), 'To', 'egress', 'traffic not restricted by destination');
  } else w.write(1, 'Not affecting egress traffic\n');
  w.write(1, `Policy Types: ${(s.policyTypes ?? []).join(', ')}\n`);
}
