/** Services and Endpoints (v1), as ValidateService / ValidateEndpoints do. */
import { validateLabels } from './labels.js';
import { isDNS1123Label, isValidPortName, isValidPortNum } from './names.js';
import {
  asArray,
  asObject,
  asString,
  child,
  duplicate,
  forbidden,
  index,
  invalid,
  isObject,
  objectItems,
  required,
  validateEnum,
  type Causes,
  type JsonObject,
} from './types.js';

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(value: string): boolean {
  return IPV4.test(value);
}

function validatePortNumber(errs: Causes, value: unknown, path: string): number | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errs.push(invalid(path, value ?? null, 'must be an integer'));
    return undefined;
  }
  for (const msg of isValidPortNum(value)) errs.push(invalid(path, value, msg));
  return value;
}

export function validateService(errs: Causes, obj: JsonObject): void {
  const spec = asObject(errs, obj.spec ?? {}, 'spec');
  if (!spec) return;
  const type = validateEnum(errs, spec.type ?? 'ClusterIP', 'spec.type', SERVICE_TYPES) ?? 'ClusterIP';
  const clusterIP = asString(errs, spec.clusterIP, 'spec.clusterIP');
  const headless = clusterIP === 'None';
  if (clusterIP && !headless && !isIPv4(clusterIP)) errs.push(invalid('spec.clusterIP', clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  if (headless && type !== 'ClusterIP') errs.push(invalid('spec.clusterIP', clusterIP, 'may not be set to \'None\' for ' + type + ' services'));
  validateLabels(errs, spec.selector, 'spec.selector');
  validateEnum(errs, spec.sessionAffinity ?? 'None', 'spec.sessionAffinity', ['None', 'ClientIP']);
  const ports = objectItems(errs, spec.ports ?? [], 'spec.ports');
  if (type !== 'ExternalName' && !headless && ports.length === 0) errs.push(required('spec.ports'));
  const names = new Set<string>();
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
    validatePortNumber(errs, port.port, child(path, 'port'));
    const target = port.targetPort;
    if (target !== undefined && target !== null) {
      if (typeof target === 'number') validatePortNumber(errs, target, child(path, 'targetPort'));
      else if (typeof target === 'string') for (const msg of isValidPortName(target)) errs.push(invalid(child(path, 'targetPort'), target, msg));
      else errs.push(invalid(child(path, 'targetPort'), target, 'must be an integer or a port name'));
    }
    if (port.nodePort !== undefined && port.nodePort !== null && port.nodePort !== 0) {
      if (type !== 'NodePort' && type !== 'LoadBalancer') errs.push(forbidden(child(path, 'nodePort'), 'may not be used when `type` is \'' + type + '\''));
      else if (typeof port.nodePort !== 'number' || !Number.isInteger(port.nodePort) || port.nodePort < NODE_PORT_RANGE.min || port.nodePort > NODE_PORT_RANGE.max) {
        errs.push(invalid(child(path, 'nodePort'), port.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`));
      } else {
        const key = `${protocol}/${port.nodePort}`;
        if (nodePorts.has(key)) errs.push(duplicate(child(path, 'nodePort'), port.nodePort));
        nodePorts.add(key);
      }
    }
  });
  if (type === 'ExternalName') {
    const external = asString(errs, spec.externalName, 'spec.externalName');
    if (!external) errs.push(required('spec.externalName'));
  }
}

/** spec.clusterIP is immutable once set (Kubernetes: "field is immutable"). */
export function validateServiceUpdate(errs: Causes, obj: JsonObject, old: JsonObject): void {
  const now = isObject(obj.spec) ? obj.spec.clusterIP : undefined;
  const before = isObject(old.spec) ? old.spec.clusterIP : undefined;
  if (before && now !== before) errs.push(invalid('spec.clusterIP', now ?? '', 'field is immutable'));
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
      });
    }
    objectItems(errs, subset.ports ?? [], child(path, 'ports')).forEach(([port, p]) => {
      validatePortNumber(errs, port.port, child(p, 'port'));
      validateEnum(errs, port.protocol ?? 'TCP', child(p, 'protocol'), PROTOCOLS);
    });
  });
}
