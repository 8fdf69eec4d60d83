/**
 * Services and Endpoints (v1), as ValidateService / ValidateServiceUpdate / ValidateEndpoints do
 * on a single-stack IPv4 cluster. Allocation problems (a requested ClusterIP or node port that is
 * taken, an IP outside the service CIDR) are the API server's allocators' (nodes/apiserver/service-ips.ts).
 */
import { validateLabels } from './labels.js';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortName, isValidPortNum } from './names.js';
import {
  absent,
  asArray,
  asBoolean,
  asObject,
  asString,
  asStringArray,
  child,
  duplicate,
  forbidden,
  index,
  invalid,
  isObject,
  objectItems,
  required,
  typeInvalid,
  validateEnum,
  type Causes,
  type JsonObject,
} from './types.js';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
const IP_FAMILY_POLICIES = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];
const IP_FAMILIES = ['IPv4', 'IPv6'];
const MAX_CLIENT_IP_TIMEOUT = 86400;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

export function isIPv4(value: string): boolean {
  return IPV4.test(value);
}

/** A port number field: required, an integer, 1..65535. */
function validatePortNumber(errs: Causes, value: unknown, path: string): number | undefined {
  if (absent(value)) {
    errs.push(required(path));
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errs.push(typeInvalid(path, value, 'integer'));
    return undefined;
  }
  for (const msg of isValidPortNum(value)) errs.push(invalid(path, value, msg));
  return value;
}

/** An IntOrString port: a number 1..65535 or an IANA service name (a container port's name). */
function validateIntOrStringPort(errs: Causes, value: unknown, path: string): void {
  if (absent(value)) return;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) errs.push(typeInvalid(path, value, 'integer or string'));
    else for (const msg of isValidPortNum(value)) errs.push(invalid(path, value, msg));
  } else if (typeof value === 'string') {
    for (const msg of isValidPortName(value)) errs.push(invalid(path, value, msg));
  } else {
    errs.push(typeInvalid(path, value, 'integer or string'));
  }
}

function isExternallyAccessible(type: string): boolean {
  return type === 'NodePort' || type === 'LoadBalancer';
}

export function validateService(errs: Causes, obj: JsonObject): void {
  const spec = asObject(errs, obj.spec ?? {}, 'spec');
  if (!spec) return;
  const type = validateEnum(errs, spec.type ?? 'ClusterIP', 'spec.type', SERVICE_TYPES) ?? 'ClusterIP';
  const external = type === 'ExternalName';

  // ClusterIP(s)
  const clusterIP = asString(errs, spec.clusterIP, 'spec.clusterIP');
  const clusterIPs = asStringArray(errs, spec.clusterIPs, 'spec.clusterIPs') ?? [];
  const headless = clusterIP === 'None' || (!clusterIP && clusterIPs[0] === 'None');
  if (clusterIP && clusterIP !== 'None' && !isIPv4(clusterIP)) errs.push(invalid('spec.clusterIP', clusterIP, IP_MESSAGE));
  clusterIPs.forEach((ip, i) => {
    if (ip !== 'None' && !isIPv4(ip)) errs.push(invalid(index('spec.clusterIPs', i), ip, IP_MESSAGE));
  });
  if (clusterIPs.length > 1) errs.push(invalid('spec.clusterIPs', clusterIPs, 'may specify no more than one IP: this cluster is single-stack (IPv4)'));
  if (clusterIP && clusterIPs.length && clusterIPs[0] !== clusterIP) errs.push(invalid(index('spec.clusterIPs', 0), clusterIPs[0], 'must match clusterIP when both are specified'));
  if (external) {
    if (clusterIP || clusterIPs.length) errs.push(forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
    const name = asString(errs, spec.externalName, 'spec.externalName');
    if (!name) errs.push(required('spec.externalName'));
    else for (const msg of isDNS1123Subdomain(name.replace(/\.$/, ''))) errs.push(invalid('spec.externalName', name, msg));
  } else if (headless && type !== 'ClusterIP') {
    errs.push(invalid('spec.clusterIP', 'None', `may not be set to 'None' for ${type} services`));
  }

  // IP families: single-stack IPv4.
  const policy = validateEnum(errs, spec.ipFamilyPolicy, 'spec.ipFamilyPolicy', IP_FAMILY_POLICIES);
  if (policy === 'RequireDualStack') errs.push(invalid('spec.ipFamilyPolicy', policy, 'this cluster is not configured for dual-stack services'));
  const families = asStringArray(errs, spec.ipFamilies, 'spec.ipFamilies') ?? [];
  families.forEach((f, i) => {
    const path = index('spec.ipFamilies', i);
    if (!IP_FAMILIES.includes(f)) errs.push(invalid(path, f, 'must be IPv4 or IPv6'));
    else if (f !== 'IPv4') errs.push(invalid(path, f, 'not configured on this cluster'));
  });
  if (families.length > 1) errs.push(invalid('spec.ipFamilies', families, 'may not have more than one family: this cluster is single-stack (IPv4)'));

  validateLabels(errs, spec.selector, 'spec.selector');

  // Session affinity
  const affinity = validateEnum(errs, spec.sessionAffinity ?? 'None', 'spec.sessionAffinity', ['None', 'ClientIP']);
  const affinityConfig = asObject(errs, spec.sessionAffinityConfig, 'spec.sessionAffinityConfig');
  if (affinity === 'ClientIP') {
    const clientIP = affinityConfig ? asObject(errs, affinityConfig.clientIP, 'spec.sessionAffinityConfig.clientIP') : undefined;
    const timeout = clientIP?.timeoutSeconds;
    const path = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';
    if (!absent(timeout)) {
      if (typeof timeout !== 'number' || !Number.isInteger(timeout)) errs.push(typeInvalid(path, timeout, 'integer'));
      else if (timeout <= 0 || timeout > MAX_CLIENT_IP_TIMEOUT) errs.push(invalid(path, timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_TIMEOUT}`));
    }
  } else if (affinityConfig && Object.keys(affinityConfig).length) {
    errs.push(forbidden('spec.sessionAffinityConfig', `must not be set when session affinity is ${affinity ?? 'None'}`));
  }

  // Traffic policies
  validateEnum(errs, spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', TRAFFIC_POLICIES);
  const etp = validateEnum(errs, spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', TRAFFIC_POLICIES);
  if (etp && !isExternallyAccessible(type)) errs.push(invalid('spec.externalTrafficPolicy', etp, 'may only be set for externally-accessible services'));
  const allocateLB = asBoolean(errs, spec.allocateLoadBalancerNodePorts, 'spec.allocateLoadBalancerNodePorts');
  if (allocateLB !== undefined && type !== 'LoadBalancer') errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  const lbIP = asString(errs, spec.loadBalancerIP, 'spec.loadBalancerIP');
  if (lbIP) {
    if (type !== 'LoadBalancer') errs.push(forbidden('spec.loadBalancerIP', "may only be used when `type` is 'LoadBalancer'"));
    else if (!isIPv4(lbIP)) errs.push(invalid('spec.loadBalancerIP', lbIP, IP_MESSAGE));
  }
  (asStringArray(errs, spec.externalIPs, 'spec.externalIPs') ?? []).forEach((ip, i) => {
    if (!isIPv4(ip)) errs.push(invalid(index('spec.externalIPs', i), ip, IP_MESSAGE));
  });

  // Ports
  const ports = objectItems(errs, spec.ports ?? [], 'spec.ports');
  if (!external && !headless && ports.length === 0 && (absent(spec.ports) || Array.isArray(spec.ports))) errs.push(required('spec.ports'));
  const names = new Set<string>();
  const portKeys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach(([port, path]) => {
    const name = asString(errs, port.name, child(path, 'name'));
    if (ports.length > 1 && !name) errs.push(required(child(path, 'name')));
    if (name) {
      for (const msg of isDNS1123Label(name)) errs.push(invalid(child(path, 'name'), name, msg));
      if (names.has(name)) errs.push(duplicate(child(path, 'name'), name));
      names.add(name);
    }
    const protocol = validateEnum(errs, port.protocol ?? 'TCP', child(path, 'protocol'), PROTOCOLS) ?? 'TCP';
    const number = validatePortNumber(errs, port.port, child(path, 'port'));
    if (number !== undefined) {
      const key = `${number}/${protocol}`;
      if (portKeys.has(key)) errs.push(duplicate(path, key));
      portKeys.add(key);
    }
    validateIntOrStringPort(errs, port.targetPort, child(path, 'targetPort'));
    if (!absent(port.appProtocol)) asString(errs, port.appProtocol, child(path, 'appProtocol'));
    if (!absent(port.nodePort) && port.nodePort !== 0) {
      const np = child(path, 'nodePort');
      if (!isExternallyAccessible(type)) errs.push(forbidden(np, `may not be used when \`type\` is '${type}'`));
      else if (typeof port.nodePort !== 'number' || !Number.isInteger(port.nodePort)) errs.push(typeInvalid(np, port.nodePort, 'integer'));
      else if (port.nodePort < NODE_PORT_RANGE.min || port.nodePort > NODE_PORT_RANGE.max) {
        errs.push(invalid(np, port.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`));
      } else {
        const key = `${protocol}/${port.nodePort}`;
        if (nodePorts.has(key)) errs.push(duplicate(np, port.nodePort));
        nodePorts.add(key);
      }
    }
  });
}

/**
 * spec.clusterIP and spec.clusterIPs never change once set (Kubernetes: "field is immutable"),
 * except that a Service becoming ExternalName drops them.
 */
export function validateServiceUpdate(errs: Causes, obj: JsonObject, old: JsonObject): void {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const before = isObject(old.spec) ? old.spec : {};
  if (spec.type === 'ExternalName' && absent(spec.clusterIP) && absent(spec.clusterIPs)) return;
  if (before.clusterIP && spec.clusterIP !== before.clusterIP) errs.push(invalid('spec.clusterIP', spec.clusterIP ?? '', 'field is immutable'));
  const now0 = Array.isArray(spec.clusterIPs) ? spec.clusterIPs[0] : undefined;
  const before0 = Array.isArray(before.clusterIPs) ? before.clusterIPs[0] : undefined;
  if (before0 && now0 !== before0 && !(before.clusterIP && spec.clusterIP !== before.clusterIP)) {
    errs.push(invalid(index('spec.clusterIPs', 0), now0 ?? '', 'may not change once set'));
  }
}

export function validateEndpoints(errs: Causes, obj: JsonObject): void {
  const subsets = asArray(errs, obj.subsets ?? [], 'subsets') ?? [];
  subsets.forEach((raw, i) => {
    const path = index('subsets', i);
    const subset = asObject(errs, raw, path);
    if (!subset) return;
    for (const field of ['addresses', 'notReadyAddresses']) {
      objectItems(errs, subset[field] ?? [], child(path, field)).forEach(([a, p]) => {
        const ip = asString(errs, a.ip, child(p, 'ip'));
        if (!ip) errs.push(required(child(p, 'ip')));
        else if (!isIPv4(ip)) errs.push(invalid(child(p, 'ip'), ip, 'must be a valid IP address'));
        const hostname = asString(errs, a.hostname, child(p, 'hostname'));
        if (hostname) for (const msg of isDNS1123Label(hostname)) errs.push(invalid(child(p, 'hostname'), hostname, msg));
        const nodeName = asString(errs, a.nodeName, child(p, 'nodeName'));
        if (nodeName) for (const msg of isDNS1123Subdomain(nodeName)) errs.push(invalid(child(p, 'nodeName'), nodeName, msg));
        asObject(errs, a.targetRef, child(p, 'targetRef'));
      });
    }
    const ports = objectItems(errs, subset.ports ?? [], child(path, 'ports'));
    const names = new Set<string>();
    ports.forEach(([port, p]) => {
      const name = asString(errs, port.name, child(p, 'name'));
      if (ports.length > 1 && !name) errs.push(required(child(p, 'name')));
      if (name) {
        for (const msg of isDNS1123Label(name)) errs.push(invalid(child(p, 'name'), name, msg));
        if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
        names.add(name);
      }
      validatePortNumber(errs, port.port, child(p, 'port'));
      validateEnum(errs, port.protocol ?? 'TCP', child(p, 'protocol'), PROTOCOLS);
    });
  });
}
