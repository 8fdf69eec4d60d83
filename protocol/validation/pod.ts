/** Pods: ValidatePodSpec and ValidatePodUpdate, the parts kubeact's pods use. */
import { validateLabelName, validateLabels } from './labels.js';
import { isDNS1123Label, isDNS1123Subdomain, isEnvVarName, isQualifiedName, isValidLabelValue, isValidPortName, isValidPortNum } from './names.js';
import { validateResourceRequirements } from './resources.js';
import { validatePodDNSConfig } from './pod-dns.js';
import {
  absent,
  asArray,
  asBoolean,
  asInteger,
  asObject,
  asString,
  asStringArray,
  child,
  deepEqual,
  duplicate,
  forbidden,
  invalid,
  isObject,
  notSupported,
  objectItems,
  required,
  typeInvalid,
  validateEnum,
  validateMinInteger,
  type Causes,
  type JsonObject,
} from './types.js';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
export const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const;
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
const TOLERATION_OPERATORS = ['Equal', 'Exists'] as const;
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'] as const;
const HTTP_SCHEMES = ['HTTP', 'HTTPS'] as const;
/** What `env[*].valueFrom.fieldRef.fieldPath` may name (plus `metadata.labels['k']` / `metadata.annotations['k']`). */
export const ENV_FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
] as const;
const ENV_RESOURCE_FIELDS = [
  'limits.cpu',
  'limits.ephemeral-storage',
  'limits.memory',
  'requests.cpu',
  'requests.ephemeral-storage',
  'requests.memory',
] as const;
const MAX_INT32 = 2147483647;

export const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, ' +
  '`spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const HTTP_HEADER_NAME = /^[-A-Za-z0-9]+$/;
const HTTP_HEADER_NAME_ERROR =
  "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')";

type ContainerKind = 'container' | 'init';
type ProbeKind = 'livenessProbe' | 'readinessProbe' | 'startupProbe';

/** A required, non-empty string: Required when absent or empty, TypeInvalid when not a string. */
function requiredString(errs: Causes, value: unknown, path: string, detail = ''): string | undefined {
  const s = asString(errs, value, path);
  if (s === '' || absent(value)) errs.push(required(path, detail));
  return s || undefined;
}

/** A port as int-or-string: a number 1..65535 or an IANA service name. */
function validatePortNumOrName(errs: Causes, value: unknown, path: string): void {
  if (absent(value)) errs.push(required(path));
  else if (typeof value === 'number') for (const msg of isValidPortNum(value)) errs.push(invalid(path, value, msg));
  else if (typeof value === 'string') for (const msg of isValidPortName(value)) errs.push(invalid(path, value, msg));
  else errs.push(typeInvalid(path, value, 'integer or string'));
}

function validateDNSField(errs: Causes, value: unknown, path: string, check: (v: string) => string[]): void {
  const s = asString(errs, value, path);
  if (s) for (const msg of check(s)) errs.push(invalid(path, s, msg));
}

function validateHandlerAction(errs: Causes, type: string, action: JsonObject, path: string): void {
  switch (type) {
    case 'exec': {
      const command = asStringArray(errs, action.command, child(path, 'command'));
      if (absent(action.command) || command?.length === 0) errs.push(required(child(path, 'command')));
      break;
    }
    case 'httpGet': {
      asString(errs, action.path, child(path, 'path'));
      validatePortNumOrName(errs, action.port, child(path, 'port'));
      asString(errs, action.host, child(path, 'host'));
      validateEnum(errs, action.scheme, child(path, 'scheme'), HTTP_SCHEMES);
      for (const [header, hp] of objectItems(errs, action.httpHeaders, child(path, 'httpHeaders'))) {
        const name = requiredString(errs, header.name, child(hp, 'name'));
        if (name && !HTTP_HEADER_NAME.test(name)) errs.push(invalid(child(hp, 'name'), name, HTTP_HEADER_NAME_ERROR));
        asString(errs, header.value, child(hp, 'value'));
      }
      break;
    }
    case 'tcpSocket':
      validatePortNumOrName(errs, action.port, child(path, 'port'));
      asString(errs, action.host, child(path, 'host'));
      break;
    case 'grpc': {
      const p = child(path, 'port');
      if (absent(action.port)) errs.push(required(p));
      const port = asInteger(errs, action.port, p);
      if (port !== undefined) for (const msg of isValidPortNum(port)) errs.push(invalid(p, port, msg));
      asString(errs, action.service, child(path, 'service'));
      break;
    }
  }
}

const HANDLER_TYPES = ['exec', 'httpGet', 'tcpSocket', 'grpc'] as const;

export function validateProbe(errs: Causes, value: unknown, path: string, kind: ProbeKind): void {
  const probe = asObject(errs, value, path);
  if (!probe) return;
  let handlers = 0;
  for (const type of HANDLER_TYPES) {
    if (absent(probe[type])) continue;
    const hp = child(path, type);
    if (++handlers > 1) {
      errs.push(forbidden(hp, 'may not specify more than 1 handler type'));
      continue;
    }
    const action = asObject(errs, probe[type], hp);
    if (action) validateHandlerAction(errs, type, action, hp);
  }
  if (handlers === 0) errs.push(required(path, 'must specify a handler type'));

  validateMinInteger(errs, probe.initialDelaySeconds, child(path, 'initialDelaySeconds'), 0);
  for (const field of ['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    validateMinInteger(errs, probe[field], child(path, field), 1);
  }
  if (kind !== 'readinessProbe') {
    const p = child(path, 'successThreshold');
    if (probe.successThreshold !== 1 && Number.isInteger(probe.successThreshold) && (probe.successThreshold as number) >= 1) {
      errs.push(invalid(p, probe.successThreshold, 'must be 1'));
    }
  }
  const tgp = child(path, 'terminationGracePeriodSeconds');
  const grace = asInteger(errs, probe.terminationGracePeriodSeconds, tgp);
  if (grace !== undefined && kind === 'readinessProbe') errs.push(invalid(tgp, grace, 'must not be set for readinessProbes'));
  else if (grace !== undefined && grace <= 0) errs.push(invalid(tgp, grace, 'must be greater than 0'));
}

function validateEnvValueFrom(errs: Causes, value: unknown, path: string, hasValue: boolean): void {
  const from = asObject(errs, value, path);
  if (!from) return;
  let sources = 0;
  const fieldRef = asObject(errs, from.fieldRef, child(path, 'fieldRef'));
  if (fieldRef) {
    sources++;
    const rp = child(path, 'fieldRef');
    asString(errs, fieldRef.apiVersion, child(rp, 'apiVersion'));
    const fp = child(rp, 'fieldPath');
    const fieldPath = requiredString(errs, fieldRef.fieldPath, fp);
    if (fieldPath) {
      const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fieldPath);
      if (sub) {
        const k = sub[1] === 'metadata.annotations' ? sub[2].toLowerCase() : sub[2];
        for (const msg of isQualifiedName(k)) errs.push(invalid(fp, k, msg));
      } else if (!(ENV_FIELD_PATHS as readonly string[]).includes(fieldPath)) {
        errs.push(notSupported(fp, fieldPath, ENV_FIELD_PATHS));
      }
    }
  }
  const resourceRef = asObject(errs, from.resourceFieldRef, child(path, 'resourceFieldRef'));
  if (resourceRef) {
    sources++;
    const rp = child(path, 'resourceFieldRef');
    asString(errs, resourceRef.containerName, child(rp, 'containerName'));
    const resource = requiredString(errs, resourceRef.resource, child(rp, 'resource'));
    if (resource && !(ENV_RESOURCE_FIELDS as readonly string[]).includes(resource)) {
      errs.push(notSupported(child(rp, 'resource'), resource, ENV_RESOURCE_FIELDS));
    }
  }
  for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
    const selector = asObject(errs, from[ref], child(path, ref));
    if (!selector) continue;
    sources++;
    const rp = child(path, ref);
    asString(errs, selector.name, child(rp, 'name'));
    requiredString(errs, selector.key, child(rp, 'key'));
    asBoolean(errs, selector.optional, child(rp, 'optional'));
  }
  if (sources === 0) errs.push(invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  else if (hasValue) errs.push(invalid(path, '', 'may not be specified when `value` is not empty'));
  else if (sources > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
}

function validateEnv(errs: Causes, value: unknown, path: string): void {
  for (const [env, ep] of objectItems(errs, value, path)) {
    const np = child(ep, 'name');
    const name = requiredString(errs, env.name, np);
    if (name) for (const msg of isEnvVarName(name)) errs.push(invalid(np, name, msg));
    const v = asString(errs, env.value, child(ep, 'value'));
    if (!absent(env.valueFrom)) validateEnvValueFrom(errs, env.valueFrom, child(ep, 'valueFrom'), !!v);
  }
}

function validatePorts(errs: Causes, value: unknown, path: string): void {
  const names = new Set<string>();
  for (const [port, pp] of objectItems(errs, value, path)) {
    const np = child(pp, 'name');
    const name = asString(errs, port.name, np);
    if (name) {
      for (const msg of isValidPortName(name)) errs.push(invalid(np, name, msg));
      if (names.has(name)) errs.push(duplicate(np, name));
      names.add(name);
    }
    const cp = child(pp, 'containerPort');
    if (absent(port.containerPort) || port.containerPort === 0) errs.push(required(cp));
    else {
      const containerPort = asInteger(errs, port.containerPort, cp);
      if (containerPort !== undefined) for (const msg of isValidPortNum(containerPort)) errs.push(invalid(cp, containerPort, msg));
    }
    const hp = child(pp, 'hostPort');
    const hostPort = asInteger(errs, port.hostPort, hp);
    if (hostPort) for (const msg of isValidPortNum(hostPort)) errs.push(invalid(hp, hostPort, msg));
    validateEnum(errs, port.protocol, child(pp, 'protocol'), PORT_PROTOCOLS);
    asString(errs, port.hostIP, child(pp, 'hostIP'));
  }
}

function validateContainer(
  errs: Causes,
  c: JsonObject,
  path: string,
  kind: ContainerKind,
  names: Set<string>,
  volumes: Set<string> | undefined,
): void {
  const np = child(path, 'name');
  const name = requiredString(errs, c.name, np);
  if (name) {
    for (const msg of isDNS1123Label(name)) errs.push(invalid(np, name, msg));
    if (names.has(name)) errs.push(duplicate(np, name));
    names.add(name);
  }

  const ip = child(path, 'image');
  const image = requiredString(errs, c.image, ip);
  if (image && image.trim() !== image) errs.push(invalid(ip, image, 'must not have leading or trailing whitespace'));
  validateEnum(errs, c.imagePullPolicy, child(path, 'imagePullPolicy'), PULL_POLICIES);
  asStringArray(errs, c.command, child(path, 'command'));
  asStringArray(errs, c.args, child(path, 'args'));
  asString(errs, c.workingDir, child(path, 'workingDir'));
  validatePorts(errs, c.ports, child(path, 'ports'));
  validateEnv(errs, c.env, child(path, 'env'));
  validateResourceRequirements(errs, c.resources, child(path, 'resources'));

  for (const [mount, mp] of objectItems(errs, c.volumeMounts, child(path, 'volumeMounts'))) {
    const mountName = requiredString(errs, mount.name, child(mp, 'name'));
    if (mountName && volumes && !volumes.has(mountName)) errs.push(invalid(child(mp, 'name'), mountName, 'must match the name of a volume in spec.volumes'));
    requiredString(errs, mount.mountPath, child(mp, 'mountPath'));
    asBoolean(errs, mount.readOnly, child(mp, 'readOnly'));
    asString(errs, mount.subPath, child(mp, 'subPath'));
  }

  asString(errs, c.terminationMessagePath, child(path, 'terminationMessagePath'));
  validateEnum(errs, c.terminationMessagePolicy, child(path, 'terminationMessagePolicy'), TERMINATION_MESSAGE_POLICIES);
  for (const field of ['stdin', 'stdinOnce', 'tty']) asBoolean(errs, c[field], child(path, field));

  // Only sidecars (init containers with restartPolicy: Always) may carry probes among init containers.
  const rp = child(path, 'restartPolicy');
  let sidecar = false;
  if (kind === 'init') sidecar = validateEnum(errs, c.restartPolicy, rp, ['Always']) === 'Always';
  else asString(errs, c.restartPolicy, rp);
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const pp = child(path, probe);
    if (kind === 'init' && !sidecar && !absent(c[probe])) errs.push(forbidden(pp, 'may not be set for init containers without restartPolicy=Always'));
    else validateProbe(errs, c[probe], pp, probe);
  }
}

function validateTolerations(errs: Causes, value: unknown, path: string): void {
  for (const [t, tp] of objectItems(errs, value, path)) {
    const kp = child(tp, 'key');
    const op = child(tp, 'operator');
    const ep = child(tp, 'effect');
    const k = asString(errs, t.key, kp);
    if (k) validateLabelName(errs, k, kp);
    const operator = asString(errs, t.operator, op);
    const v = asString(errs, t.value, child(tp, 'value'));
    if (!k && operator !== 'Exists' && (operator !== undefined || absent(t.operator))) {
      errs.push(invalid(op, operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (operator === undefined || operator === '' || operator === 'Equal') {
      if (v) for (const msg of isValidLabelValue(v)) errs.push(invalid(child(tp, 'value'), v, msg));
    } else if (operator === 'Exists') {
      if (v) errs.push(invalid(op, operator, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupported(op, operator, TOLERATION_OPERATORS));
    }
    const effect = validateEnum(errs, t.effect === '' ? undefined : t.effect, ep, TAINT_EFFECTS);
    const seconds = asInteger(errs, t.tolerationSeconds, child(tp, 'tolerationSeconds'));
    if (seconds !== undefined && effect !== 'NoExecute') errs.push(invalid(ep, effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  }
}

/** The pod spec; `spec` absent counts as an empty spec (so `spec.containers: Required value`). */
export function validatePodSpec(errs: Causes, value: unknown, path = 'spec'): void {
  const spec = absent(value) ? {} : asObject(errs, value, path);
  if (!spec) return;

  let volumes: Set<string> | undefined = new Set<string>();
  if (!absent(spec.volumes) && !Array.isArray(spec.volumes)) volumes = undefined;
  for (const [vol, vp] of objectItems(errs, spec.volumes, child(path, 'volumes'))) {
    const np = child(vp, 'name');
    const name = requiredString(errs, vol.name, np);
    if (!name) continue;
    for (const msg of isDNS1123Label(name)) errs.push(invalid(np, name, msg));
    if (volumes?.has(name)) errs.push(duplicate(np, name));
    volumes?.add(name);
  }

  const names = new Set<string>();
  const cp = child(path, 'containers');
  const containers = asArray(errs, spec.containers, cp);
  if (absent(spec.containers) || containers?.length === 0) errs.push(required(cp));
  for (const [c, p] of objectItems(errs, containers, cp)) validateContainer(errs, c, p, 'container', names, volumes);
  for (const [c, p] of objectItems(errs, spec.initContainers, child(path, 'initContainers'))) validateContainer(errs, c, p, 'init', names, volumes);

  validateEnum(errs, spec.restartPolicy, child(path, 'restartPolicy'), RESTART_POLICIES);
  validateEnum(errs, spec.dnsPolicy, child(path, 'dnsPolicy'), DNS_POLICIES);
  validatePodDNSConfig(errs, spec, path);
  validateLabels(errs, spec.nodeSelector, child(path, 'nodeSelector'));
  validateDNSField(errs, spec.nodeName, child(path, 'nodeName'), isDNS1123Subdomain);
  validateDNSField(errs, spec.serviceAccountName, child(path, 'serviceAccountName'), isDNS1123Subdomain);
  validateDNSField(errs, spec.schedulerName, child(path, 'schedulerName'), isDNS1123Subdomain);
  validateDNSField(errs, spec.hostname, child(path, 'hostname'), isDNS1123Label);
  validateDNSField(errs, spec.subdomain, child(path, 'subdomain'), isDNS1123Label);
  asString(errs, spec.priorityClassName, child(path, 'priorityClassName'));
  asInteger(errs, spec.priority, child(path, 'priority'));
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC', 'automountServiceAccountToken', 'enableServiceLinks']) {
    asBoolean(errs, spec[field], child(path, field));
  }
  validateMinInteger(errs, spec.terminationGracePeriodSeconds, child(path, 'terminationGracePeriodSeconds'), 0);
  const ap = child(path, 'activeDeadlineSeconds');
  const deadline = asInteger(errs, spec.activeDeadlineSeconds, ap);
  if (deadline !== undefined && (deadline < 1 || deadline > MAX_INT32)) errs.push(invalid(ap, deadline, `must be between 1 and ${MAX_INT32}, inclusive`));
  validateTolerations(errs, spec.tolerations, child(path, 'tolerations'));
}

/** Tolerations are equal but for tolerationSeconds. */
function sameToleration(a: unknown, b: unknown): boolean {
  if (!isObject(a) || !isObject(b)) return deepEqual(a, b);
  return deepEqual({ ...a, tolerationSeconds: undefined }, { ...b, tolerationSeconds: undefined });
}

/** Copies `to` with each container's image taken from `from` (same count and all objects, else unchanged). */
function withImagesOf(to: unknown, from: unknown): unknown {
  if (!Array.isArray(to) || !Array.isArray(from) || to.length !== from.length) return to;
  return to.map((c, i) => (isObject(c) && isObject(from[i]) ? { ...c, image: from[i].image } : c));
}

/** What may change on a pod's spec once it exists. */
export function validatePodSpecUpdate(errs: Causes, value: unknown, oldValue: unknown, path = 'spec'): void {
  if (!isObject(value) || !isObject(oldValue)) return;

  const ap = child(path, 'activeDeadlineSeconds');
  const deadline = value.activeDeadlineSeconds;
  const oldDeadline = oldValue.activeDeadlineSeconds;
  if (typeof oldDeadline === 'number' && oldDeadline > 0) {
    if (absent(deadline)) errs.push(invalid(ap, null, 'must not update from a positive integer to nil value'));
    else if (typeof deadline === 'number' && deadline > oldDeadline) errs.push(invalid(ap, deadline, 'must be less than or equal to previous value'));
  }

  const oldNode = oldValue.nodeName;
  if (typeof oldNode === 'string' && oldNode !== '' && value.nodeName !== oldNode) {
    errs.push(forbidden(child(path, 'nodeName'), `may not be changed once set (pod is bound to node ${JSON.stringify(oldNode)})`));
  }

  const oldTolerations = Array.isArray(oldValue.tolerations) ? oldValue.tolerations : [];
  const tolerations = Array.isArray(value.tolerations) ? value.tolerations : [];
  if (!oldTolerations.every((t) => tolerations.some((n) => sameToleration(t, n)))) {
    errs.push(forbidden(child(path, 'tolerations'), 'existing toleration can not be modified except its tolerationSeconds'));
  }

  // Everything else must be as it was: mask the mutable fields with their old values and compare.
  const munged: JsonObject = {
    ...value,
    containers: withImagesOf(value.containers, oldValue.containers),
    initContainers: withImagesOf(value.initContainers, oldValue.initContainers),
    activeDeadlineSeconds: oldDeadline,
    terminationGracePeriodSeconds: oldValue.terminationGracePeriodSeconds,
    tolerations: oldValue.tolerations,
    // Reported above when it moves; setting it on an unbound pod is the binding path.
    nodeName: oldValue.nodeName,
  };
  if (!deepEqual(munged, oldValue)) errs.push(forbidden(path, POD_UPDATE_FORBIDDEN));
}
