/**
 * NetworkPolicy (networking.k8s.io/v1), as ValidateNetworkPolicy does: the pod selector, every
 * ingress/egress rule's ports (protocol, number or IANA name, endPort) and peers (podSelector,
 * namespaceSelector, or an ipBlock alone whose `except` entries lie strictly inside its `cidr`),
 * and policyTypes. Every problem is reported at once.
 */
import { isIP } from 'node:net';
import { isValidPortName, isValidPortNum } from './names.js';
import { validateLabelSelector } from './selector.js';
import {
  absent,
  asObject,
  asString,
  asStringArray,
  child,
  forbidden,
  index,
  invalid,
  notSupported,
  objectItems,
  required,
  typeInvalid,
  validateEnum,
  type Causes,
  type JsonObject,
} from './types.js';

export const POLICY_TYPES = ['Ingress', 'Egress'] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const CIDR_MESSAGE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

export function validateNetworkPolicy(errs: Causes, obj: JsonObject): void {
  const spec = asObject(errs, obj.spec ?? {}, 'spec');
  if (!spec) return;
  // podSelector is a struct in Go: omitted means `{}`, every pod of the namespace.
  if (!absent(spec.podSelector)) validateLabelSelector(errs, spec.podSelector, 'spec.podSelector');
  validateRules(errs, spec.ingress, 'spec.ingress', 'from');
  validateRules(errs, spec.egress, 'spec.egress', 'to');
  const types = asStringArray(errs, spec.policyTypes, 'spec.policyTypes');
  if (types && types.length > POLICY_TYPES.length) {
    errs.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
    return;
  }
  (types ?? []).forEach((t, i) => {
    if (!(POLICY_TYPES as readonly string[]).includes(t)) errs.push(notSupported(index('spec.policyTypes', i), t, POLICY_TYPES));
  });
}

function validateRules(errs: Causes, value: unknown, path: string, peersField: 'from' | 'to'): void {
  for (const [rule, rulePath] of objectItems(errs, value ?? [], path)) {
    for (const [port, portPath] of objectItems(errs, rule.ports ?? [], child(rulePath, 'ports'))) validatePort(errs, port, portPath);
    for (const [peer, peerPath] of objectItems(errs, rule[peersField] ?? [], child(rulePath, peersField))) validatePeer(errs, peer, peerPath);
  }
}

/** A NetworkPolicyPort: protocol, port (number or name, or absent = every port) and endPort (a range, numbers only). */
function validatePort(errs: Causes, port: JsonObject, path: string): void {
  const protocol = asString(errs, port.protocol, child(path, 'protocol'));
  if (protocol !== undefined && !PROTOCOLS.includes(protocol)) errs.push(notSupported(child(path, 'protocol'), protocol, PROTOCOLS));
  const endPath = child(path, 'endPort');
  const end = port.endPort;
  if (!absent(end) && (typeof end !== 'number' || !Number.isInteger(end))) {
    errs.push(typeInvalid(endPath, end, 'integer'));
    return;
  }
  const p = port.port;
  const portPath = child(path, 'port');
  if (absent(p)) {
    if (!absent(end)) errs.push(invalid(endPath, end, 'may not be specified when `port` is not specified'));
  } else if (typeof p === 'number' && Number.isInteger(p)) {
    for (const msg of isValidPortNum(p)) errs.push(invalid(portPath, p, msg));
    if (typeof end === 'number') {
      if (end < p) errs.push(invalid(endPath, p, 'must be greater than or equal to `port`'));
      for (const msg of isValidPortNum(end)) errs.push(invalid(endPath, end, msg));
    }
  } else if (typeof p === 'string') {
    if (!absent(end)) errs.push(invalid(endPath, end, 'may not be specified when `port` is non-numeric'));
    for (const msg of isValidPortName(p)) errs.push(invalid(portPath, p, msg));
  } else {
    errs.push(typeInvalid(portPath, p, 'integer or string'));
  }
}

/** A NetworkPolicyPeer: at least one of its fields; ipBlock only on its own. */
function validatePeer(errs: Causes, peer: JsonObject, path: string): void {
  let count = 0;
  if (!absent(peer.podSelector)) {
    count++;
    validateLabelSelector(errs, peer.podSelector, child(path, 'podSelector'));
  }
  if (!absent(peer.namespaceSelector)) {
    count++;
    validateLabelSelector(errs, peer.namespaceSelector, child(path, 'namespaceSelector'));
  }
  if (!absent(peer.ipBlock)) {
    count++;
    validateIPBlock(errs, peer.ipBlock, child(path, 'ipBlock'));
  }
  if (count === 0) errs.push(required(path, 'must specify a peer'));
  else if (count > 1 && !absent(peer.ipBlock)) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
}

function validateIPBlock(errs: Causes, value: unknown, path: string): void {
  const block = asObject(errs, value, path);
  if (!block) return;
  const cidrPath = child(path, 'cidr');
  const cidr = asString(errs, block.cidr, cidrPath);
  if (block.cidr !== undefined && cidr === undefined) return;
  if (!cidr) {
    errs.push(required(cidrPath));
    return;
  }
  const outer = parseCidr(cidr);
  if (!outer) errs.push(invalid(cidrPath, cidr, CIDR_MESSAGE));
  (asStringArray(errs, block.except, child(path, 'except')) ?? []).forEach((text, i) => {
    const p = index(child(path, 'except'), i);
    const inner = parseCidr(text);
    if (!inner) errs.push(invalid(p, text, CIDR_MESSAGE));
    else if (outer && !(inner.family === outer.family && inner.bits > outer.bits && sameNetwork(inner.ip, outer.ip, outer.bits, outer.family))) {
      errs.push(invalid(p, text, 'must be a strict subset of `cidr`'));
    }
  });
}

interface ParsedCidr {
  family: 4 | 6;
  ip: bigint;
  bits: number;
}

/** `a.b.c.d/n` or an IPv6 CIDR, with its address as a number (host bits kept, as net.ParseCIDR's IP). */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = text.slice(0, slash);
  const bitsText = text.slice(slash + 1);
  const family = isIP(addr);
  if (!family || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > (family === 4 ? 32 : 128)) return undefined;
  if (family === 4) {
    if (addr.split('.').some((o) => o.length > 1 && o.startsWith('0'))) return undefined; // no leading zeros (strict parsing)
    return { family, bits, ip: addr.split('.').reduce((n, o) => (n << 8n) + BigInt(o), 0n) };
  }
  return { family: 6, bits, ip: ipv6Number(addr) };
}

function ipv6Number(addr: string): bigint {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const parse = (s: string | undefined) => (s ? s.split(':') : []);
  let left = parse(head);
  let right = parse(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const v4 = (groups: string[]) => {
    const last = groups[groups.length - 1];
    if (!last?.includes('.')) return groups;
    const n = last.split('.').reduce((x, o) => x * 256 + Number(o), 0);
    return [...groups.slice(0, -1), (n >>> 16).toString(16), (n & 0xffff).toString(16)];
  };
  if (tail === undefined) left = v4(left);
  else right = v4(right);
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) + BigInt(parseInt(g, 16)), 0n);
}

function sameNetwork(a: bigint, b: bigint, bits: number, family: 4 | 6): boolean {
  const shift = BigInt((family === 4 ? 32 : 128) - bits);
  return a >> shift === b >> shift;
}
