/**
 * `kubeact describe`: kubectl's describers for Pods, Nodes, Namespaces, Services, NetworkPolicies, HPAs, PVs, PVCs and StorageClasses (and its generic
 * describer for the other kinds), written line by line as kubectl writes them and aligned
 * through the same tabwriter settings, so the output reads exactly like `kubectl describe`.
 */
import type { Container, ContainerState, ContainerStatus, Event, Node, Pod, Probe, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { KubeObject } from '../../protocol/objects.js';
import { cpuMillis, formatBytes, formatCpu, parseQuantity, quantityValue } from '../../protocol/quantity.js';
import { describeHpaBody } from './describe-hpa.js';
import { describeNetworkPolicySpec, formatGoTime, type LevelWriter } from './describe-netpol.js';
import { describePersistentVolume, describePersistentVolumeClaim, describeStorageClass } from './describe-storage.js';
import { DESCRIBE_TABWRITER, compareStrings, formatAge, formatEndpoints, formatLabels, humanDuration, nodeRoles, parseTime, tabwrite } from './printers.js';

/** What a Node's description shows besides the Node itself (kubectl fetches these). */
export interface DescribeExtras {
  /** The node's heartbeat Lease (`kube-node-lease/<node>`); `null` when it could not be read. */
  lease?: Lease | null;
  /** Pods bound to the node (the non-terminated ones are listed with their requests and limits); a claim's users. */
  pods?: Pod[];
  /** A Service's Endpoints (same name); `null` or absent when there are none. */
  endpoints?: KubeObject | null;
}

/**
 * The description of one object, as `kubectl describe` prints it (ends with a newline).
 * `events` are the object's Events (any order: they are sorted by time); `now` is the
 * clock the ages are computed against.
 */
export function describe(kind: string, obj: KubeObject, events: Event[], now: number, extras: DescribeExtras = {}): string {
  const w = new PrefixWriter();
  switch (kind) {
    case 'Pod':
      describePod(w, obj as unknown as Pod, now);
      describeEvents(w, events, now);
      break;
    case 'Node':
      describeNode(w, obj as unknown as Node, now, extras);
      describeEvents(w, events, now);
      break;
    case 'Namespace':
      describeNamespace(w, obj);
      break;
    case 'Service':
      describeService(w, obj, extras.endpoints ?? null);
      describeEvents(w, events, now);
      break;
    case 'PersistentVolume':
      describePersistentVolume(w, obj, events, now);
      break;
    case 'PersistentVolumeClaim':
      describePersistentVolumeClaim(w, obj, extras.pods ?? [], events, now);
      break;
    case 'StorageClass':
      describeStorageClass(w, obj, events, now);
      break;
    case 'NetworkPolicy':
      // kubectl's describeNetworkPolicy prints no events.
      w.write(LEVEL_0, `Name:\t${obj.metadata?.name ?? ''}\n`);
      w.write(LEVEL_0, `Namespace:\t${obj.metadata?.namespace ?? ''}\n`);
      w.write(LEVEL_0, `Created on:\t${formatGoTime(obj.metadata?.creationTimestamp)}\n`);
      printLabelsMultiline(w, 'Labels', obj.metadata?.labels);
      printAnnotationsMultiline(w, 'Annotations', obj.metadata?.annotations);
      describeNetworkPolicySpec(w, obj.spec);
      break;
    case 'HorizontalPodAutoscaler':
      w.write(LEVEL_0, `Name:\t${obj.metadata?.name ?? ''}\n`);
      w.write(LEVEL_0, `Namespace:\t${obj.metadata?.namespace ?? ''}\n`);
      printLabelsMultiline(w, 'Labels', obj.metadata?.labels);
      printAnnotationsMultiline(w, 'Annotations', obj.metadata?.annotations);
      describeHpaBody(w, obj, formatRFC1123Z(obj.metadata?.creationTimestamp));
      describeEvents(w, events, now);
      break;
    default:
      describeGeneric(w, obj);
      describeEvents(w, events, now);
  }
  return w.toString();
}

// ---------------------------------------------------------------------------------------
// Writer

const LEVEL_0 = 0;
const LEVEL_1 = 1;
const LEVEL_2 = 2;
const LEVEL_3 = 3;

/** kubectl's PrefixWriter: two spaces per level before the text, tabs aligned at the end. */
class PrefixWriter {
  private chunks: string[] = [];

  write(level: number, text: string): void {
    this.chunks.push('  '.repeat(level) + text);
  }

  toString(): string {
    return tabwrite(this.chunks.join(''), DESCRIBE_TABWRITER);
  }
}

// ---------------------------------------------------------------------------------------
// Formatting helpers

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** Go's `time.RFC1123Z` in local time (`Mon, 02 Jan 2006 15:04:05 -0700`); Go's zero time when absent. */
export function formatRFC1123Z(value: string | undefined | null): string {
  const t = parseTime(value);
  if (t === undefined) return 'Mon, 01 Jan 0001 00:00:00 +0000';
  const d = new Date(t);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${DAYS[d.getDay()]}, ${pad2(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`
  );
}

export function printLabelsMultiline(w: LevelWriter, title: string, labels: Record<string, string> | undefined): void {
  w.write(LEVEL_0, `${title}:\t`);
  const keys = Object.keys(labels ?? {}).sort(compareStrings);
  if (!keys.length) {
    w.write(LEVEL_0, '<none>\n');
    return;
  }
  keys.forEach((key, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t');
    w.write(LEVEL_0, `${key}=${labels![key]}\n`);
  });
}

const SKIP_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);
const MAX_ANNOTATION_LEN = 140;

export function printAnnotationsMultiline(w: LevelWriter, title: string, annotations: Record<string, string> | undefined): void {
  w.write(LEVEL_0, `${title}:\t`);
  const keys = Object.keys(annotations ?? {})
    .filter((k) => !SKIP_ANNOTATIONS.has(k))
    .sort(compareStrings);
  if (!keys.length) {
    w.write(LEVEL_0, '<none>\n');
    return;
  }
  keys.forEach((key, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t');
    const value = annotations![key].replace(/\n$/, '');
    if (value.length + key.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      w.write(LEVEL_0, `${key}:\n`);
      for (const s of value.split('\n')) {
        const short = s.length > MAX_ANNOTATION_LEN - 2 ? `${s.slice(0, MAX_ANNOTATION_LEN - 2)}...` : s;
        w.write(LEVEL_0, `\t  ${short}\n`);
      }
    } else {
      w.write(LEVEL_0, `${key}: ${value}\n`);
    }
  });
}

function taintString(t: Taint): string {
  return t.value ? `${t.key}=${t.value}:${t.effect}` : `${t.key}:${t.effect}`;
}

function printTaintsMultiline(w: PrefixWriter, title: string, taints: readonly Taint[] | undefined): void {
  w.write(LEVEL_0, `${title}:\t`);
  if (!taints?.length) {
    w.write(LEVEL_0, '<none>\n');
    return;
  }
  const sorted = [...taints].sort((a, b) => compareStrings(`${a.effect},${a.key}`, `${b.effect},${b.key}`));
  sorted.forEach((t, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t');
    w.write(LEVEL_0, `${taintString(t)}\n`);
  });
}

function printTolerationsMultiline(w: PrefixWriter, title: string, tolerations: readonly Toleration[] | undefined): void {
  w.write(LEVEL_0, `${title}:\t`);
  if (!tolerations?.length) {
    w.write(LEVEL_0, '<none>\n');
    return;
  }
  const sorted = [...tolerations].sort((a, b) => compareStrings(a.key ?? '', b.key ?? ''));
  sorted.forEach((t, i) => {
    if (i !== 0) w.write(LEVEL_0, '\t');
    let s = t.key ?? '';
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.value) s += t.key || t.effect ? ' op=Exists' : 'op=Exists';
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
    w.write(LEVEL_0, `${s}\n`);
  });
}

function boolString(v: boolean | undefined): string {
  return v ? 'True' : 'False';
}

// ---------------------------------------------------------------------------------------
// Events

function eventSortTime(e: Event): number {
  return parseTime(e.series?.lastObservedTime) ?? parseTime(e.lastTimestamp) ?? parseTime(e.eventTime) ?? 0;
}

/** kubectl's DescribeEvents: oldest first, `Age` as `2m (x5 over 10m)` for repeated events. */
export function describeEvents(w: LevelWriter, events: readonly Event[], now: number): void {
  if (!events.length) {
    w.write(LEVEL_0, 'Events:\t<none>\n');
    return;
  }
  // Timestamps have second precision; within a second, eventTime (microseconds) keeps the order they happened in.
  const sorted = [...events].sort((a, b) => eventSortTime(a) - eventSortTime(b) || (parseTime(a.eventTime) ?? 0) - (parseTime(b.eventTime) ?? 0));
  w.write(LEVEL_0, 'Events:\n  Type\tReason\tAge\tFrom\tMessage\n');
  w.write(LEVEL_1, '----\t------\t----\t----\t-------\n');
  for (const e of sorted) {
    const first = parseTime(e.eventTime) !== undefined ? formatAge(e.eventTime, now) : formatAge(e.firstTimestamp, now);
    let interval: string;
    if (e.series) interval = `${formatAge(e.series.lastObservedTime, now)} (x${e.series.count ?? 0} over ${first})`;
    else if ((e.count ?? 0) > 1) interval = `${formatAge(e.lastTimestamp, now)} (x${e.count} over ${first})`;
    else interval = first;
    const source = e.source?.component || e.reportingComponent || '';
    w.write(LEVEL_1, `${e.type ?? ''}\t${e.reason ?? ''}\t${interval}\t${source}\t${(e.message ?? '').trim()}\n`);
  }
}

// ---------------------------------------------------------------------------------------
// Pod

function describePod(w: PrefixWriter, pod: Pod, now: number): void {
  const meta = pod.metadata ?? {};
  const spec = pod.spec ?? ({ containers: [] } as NonNullable<Pod['spec']>);
  const status = pod.status ?? {};
  w.write(LEVEL_0, `Name:\t${meta.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${meta.namespace ?? ''}\n`);
  if (spec.priority !== undefined && spec.priority !== null) w.write(LEVEL_0, `Priority:\t${spec.priority}\n`);
  if (spec.priorityClassName) w.write(LEVEL_0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  if (spec.runtimeClassName) w.write(LEVEL_0, `Runtime Class Name:\t${spec.runtimeClassName}\n`);
  if (spec.serviceAccountName) w.write(LEVEL_0, `Service Account:\t${spec.serviceAccountName}\n`);
  w.write(LEVEL_0, spec.nodeName ? `Node:\t${spec.nodeName}/${status.hostIP ?? ''}\n` : 'Node:\t<none>\n');
  if (status.startTime) w.write(LEVEL_0, `Start Time:\t${formatRFC1123Z(status.startTime)}\n`);
  printLabelsMultiline(w, 'Labels', meta.labels);
  printAnnotationsMultiline(w, 'Annotations', meta.annotations);
  if (meta.deletionTimestamp && status.phase !== 'Failed' && status.phase !== 'Succeeded') {
    // How long the grace period lasts: the deletion timestamp is when it ends.
    const deadline = parseTime(meta.deletionTimestamp);
    const lasts = deadline === undefined ? '<unknown>' : humanDuration(Math.abs(deadline - now));
    w.write(LEVEL_0, `Status:\tTerminating (lasts ${lasts})\n`);
    w.write(LEVEL_0, `Termination Grace Period:\t${meta.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30}s\n`);
  } else {
    w.write(LEVEL_0, `Status:\t${status.phase ?? ''}\n`);
  }
  if (status.reason) w.write(LEVEL_0, `Reason:\t${status.reason}\n`);
  if (status.message) w.write(LEVEL_0, `Message:\t${status.message}\n`);
  w.write(LEVEL_0, `IP:\t${status.podIP ?? ''}\n`);
  if (!status.podIPs?.length) {
    w.write(LEVEL_0, 'IPs:\t<none>\n');
  } else {
    w.write(LEVEL_0, 'IPs:\n');
    for (const ip of status.podIPs) w.write(LEVEL_1, `IP:\t${ip.ip}\n`);
  }
  const controller = meta.ownerReferences?.find((r) => r.controller);
  if (controller) w.write(LEVEL_0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  if (status.nominatedNodeName) w.write(LEVEL_0, `NominatedNodeName:\t${status.nominatedNodeName}\n`);
  if (spec.initContainers?.length) describeContainers(w, pod, 'Init Containers', spec.initContainers, status.initContainerStatuses);
  describeContainers(w, pod, 'Containers', spec.containers ?? [], status.containerStatuses);
  if (spec.readinessGates?.length) {
    w.write(LEVEL_0, 'Readiness Gates:\n  Type\tStatus\n');
    for (const g of spec.readinessGates) {
      const c = status.conditions?.find((c) => c.type === g.conditionType);
      w.write(LEVEL_1, `${g.conditionType} \t${c ? c.status : '<none>'} \n`);
    }
  }
  if (status.conditions?.length) {
    w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\n');
    for (const c of status.conditions) w.write(LEVEL_1, `${c.type} \t${c.status} \n`);
  }
  describeVolumes(w, spec.volumes);
  w.write(LEVEL_0, `QoS Class:\t${status.qosClass || computePodQOS(pod)}\n`);
  printLabelsMultiline(w, 'Node-Selectors', spec.nodeSelector);
  printTolerationsMultiline(w, 'Tolerations', spec.tolerations);
}

function describeContainers(w: PrefixWriter, pod: Pod, label: string, containers: readonly Container[], statuses: readonly ContainerStatus[] | undefined): void {
  const byName = new Map((statuses ?? []).map((s) => [s.name, s]));
  w.write(LEVEL_0, `${label}:${containers.length ? '' : ' <none>'}\n`);
  for (const c of containers) {
    const status = byName.get(c.name);
    w.write(LEVEL_1, `${c.name}:\n`);
    if (status) w.write(LEVEL_2, `Container ID:\t${status.containerID ?? ''}\n`);
    w.write(LEVEL_2, `Image:\t${c.image ?? ''}\n`);
    if (status) w.write(LEVEL_2, `Image ID:\t${status.imageID ?? ''}\n`);
    const ports = (c.ports ?? []).map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ');
    w.write(LEVEL_2, ports.includes(',') ? `Ports:\t${ports}\n` : `Port:\t${ports || '<none>'}\n`);
    const hostPorts = (c.ports ?? []).map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', ');
    w.write(LEVEL_2, hostPorts.includes(',') ? `Host Ports:\t${hostPorts}\n` : `Host Port:\t${hostPorts || '<none>'}\n`);
    if (c.command?.length) {
      w.write(LEVEL_2, 'Command:\n');
      for (const part of c.command) for (const s of part.split('\n')) w.write(LEVEL_3, `${s}\n`);
    }
    if (c.args?.length) {
      w.write(LEVEL_2, 'Args:\n');
      for (const part of c.args) for (const s of part.split('\n')) w.write(LEVEL_3, `${s}\n`);
    }
    if (status) {
      describeState(w, 'State', status.state);
      if (status.lastState?.terminated) describeState(w, 'Last State', status.lastState);
      w.write(LEVEL_2, `Ready:\t${boolString(status.ready)}\n`);
      w.write(LEVEL_2, `Restart Count:\t${status.restartCount ?? 0}\n`);
    }
    describeResources(w, c.resources, LEVEL_2);
    if (c.livenessProbe) w.write(LEVEL_2, `Liveness:\t${describeProbe(c.livenessProbe)}\n`);
    if (c.readinessProbe) w.write(LEVEL_2, `Readiness:\t${describeProbe(c.readinessProbe)}\n`);
    if (c.startupProbe) w.write(LEVEL_2, `Startup:\t${describeProbe(c.startupProbe)}\n`);
    if (c.envFrom?.length) {
      w.write(LEVEL_2, 'Environment Variables from:\n');
      for (const e of c.envFrom) {
        const from = e.configMapRef ? 'ConfigMap' : e.secretRef ? 'Secret' : '';
        const name = e.configMapRef?.name ?? e.secretRef?.name ?? '';
        const optional = Boolean(e.configMapRef?.optional ?? e.secretRef?.optional);
        w.write(LEVEL_3, e.prefix ? `${name}\t${from} with prefix '${e.prefix}'\tOptional: ${optional}\n` : `${name}\t${from}\tOptional: ${optional}\n`);
      }
    }
    describeEnv(w, pod, c);
    w.write(LEVEL_2, `Mounts:${c.volumeMounts?.length ? '' : '\t<none>'}\n`);
    for (const m of [...(c.volumeMounts ?? [])].sort((a, b) => compareStrings(a.mountPath, b.mountPath))) {
      const flags = [m.readOnly ? 'ro' : 'rw'];
      if (m.subPath) flags.push(`path=${JSON.stringify(m.subPath)}`);
      w.write(LEVEL_3, `${m.mountPath} from ${m.name} (${flags.join(',')})\n`);
    }
  }
}

function describeState(w: PrefixWriter, name: string, state: ContainerState | undefined): void {
  if (state?.running) {
    w.write(LEVEL_2, `${name}:\tRunning\n`);
    w.write(LEVEL_3, `Started:\t${formatRFC1123Z(state.running.startedAt)}\n`);
  } else if (state?.waiting) {
    w.write(LEVEL_2, `${name}:\tWaiting\n`);
    if (state.waiting.reason) w.write(LEVEL_3, `Reason:\t${state.waiting.reason}\n`);
  } else if (state?.terminated) {
    const t = state.terminated;
    w.write(LEVEL_2, `${name}:\tTerminated\n`);
    if (t.reason) w.write(LEVEL_3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(LEVEL_3, `Message:\t${t.message}\n`);
    w.write(LEVEL_3, `Exit Code:\t${t.exitCode}\n`);
    if (t.signal && t.signal > 0) w.write(LEVEL_3, `Signal:\t${t.signal}\n`);
    w.write(LEVEL_3, `Started:\t${formatRFC1123Z(t.startedAt)}\n`);
    w.write(LEVEL_3, `Finished:\t${formatRFC1123Z(t.finishedAt)}\n`);
  } else {
    w.write(LEVEL_2, `${name}:\tWaiting\n`);
  }
}

function describeResources(w: PrefixWriter, resources: Container['resources'], level: number): void {
  if (!resources) return;
  const limits = resources.limits ?? {};
  const requests = resources.requests ?? {};
  const limitNames = Object.keys(limits).sort(compareStrings);
  if (limitNames.length) w.write(level, 'Limits:\n');
  for (const name of limitNames) w.write(level + 1, `${name}:\t${limits[name]}\n`);
  const requestNames = Object.keys(requests).sort(compareStrings);
  if (requestNames.length) w.write(level, 'Requests:\n');
  for (const name of requestNames) w.write(level + 1, `${name}:\t${requests[name]}\n`);
}

function describeProbe(p: Probe): string {
  const attrs = `delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
  if (p.exec) return `exec [${(p.exec.command ?? []).join(' ')}] ${attrs}`;
  if (p.httpGet) {
    const scheme = (p.httpGet.scheme ?? 'HTTP').toLowerCase();
    const host = p.httpGet.host ?? '';
    const port = String(p.httpGet.port ?? '');
    const hostPort = port ? (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`) : host;
    return `http-get ${scheme}://${hostPort}${p.httpGet.path ?? ''} ${attrs}`;
  }
  if (p.tcpSocket) return `tcp-socket ${p.tcpSocket.host ?? ''}:${p.tcpSocket.port} ${attrs}`;
  if (p.grpc) return `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

/** The value of a downward-API field reference, as kubectl's EnvValueRetriever resolves it. */
function fieldRefValue(pod: Pod, path: string): string {
  const meta = pod.metadata ?? {};
  const keyed = path.match(/^metadata\.(labels|annotations)\['(.*)'\]$/);
  if (keyed) return (keyed[1] === 'labels' ? meta.labels : meta.annotations)?.[keyed[2]] ?? '';
  const simple: Record<string, string | undefined> = {
    'metadata.name': meta.name,
    'metadata.namespace': meta.namespace,
    'metadata.uid': meta.uid,
    'spec.nodeName': pod.spec?.nodeName,
    'spec.serviceAccountName': pod.spec?.serviceAccountName,
    'status.hostIP': pod.status?.hostIP,
    'status.podIP': pod.status?.podIP,
    'status.podIPs': pod.status?.podIPs?.map((p) => p.ip).join(','),
    'status.hostIPs': pod.status?.hostIPs?.map((p) => p.ip).join(','),
  };
  return simple[path] ?? '';
}

/** A container's `resourceFieldRef` value (divisor 1), `node allocatable` for an unset CPU or memory limit. */
function resourceFieldValue(c: Container, resource: string): string {
  const [field, name] = resource.split('.', 2) as ['limits' | 'requests', string];
  const q = c.resources?.[field]?.[name] ?? (field === 'requests' ? c.resources?.limits?.[name] : undefined);
  if (q === undefined) return field === 'limits' && (name === 'cpu' || name === 'memory') ? 'node allocatable' : '0';
  return name === 'cpu' ? String(Math.ceil(cpuMillis(q) / 1000)) : String(quantityValue(q));
}

function describeEnv(w: PrefixWriter, pod: Pod, c: Container): void {
  w.write(LEVEL_2, `Environment:${c.env?.length ? '' : '\t<none>'}\n`);
  for (const e of c.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      (e.value ?? '').split('\n').forEach((s, i) => w.write(LEVEL_3, i === 0 ? `${e.name}:\t${s}\n` : `\t${s}\n`));
    } else if (from.fieldRef) {
      w.write(LEVEL_3, `${e.name}:\t${fieldRefValue(pod, from.fieldRef.fieldPath)} (${from.fieldRef.apiVersion ?? 'v1'}:${from.fieldRef.fieldPath})\n`);
    } else if (from.resourceFieldRef) {
      w.write(LEVEL_3, `${e.name}:\t${resourceFieldValue(c, from.resourceFieldRef.resource)} (${from.resourceFieldRef.resource})\n`);
    } else if (from.secretKeyRef) {
      w.write(LEVEL_3, `${e.name}:\t<set to the key '${from.secretKeyRef.key}' in secret '${from.secretKeyRef.name ?? ''}'>\tOptional: ${Boolean(from.secretKeyRef.optional)}\n`);
    } else if (from.configMapKeyRef) {
      w.write(LEVEL_3, `${e.name}:\t<set to the key '${from.configMapKeyRef.key}' of config map '${from.configMapKeyRef.name ?? ''}'>\tOptional: ${Boolean(from.configMapKeyRef.optional)}\n`);
    }
  }
}

function describeVolumes(w: PrefixWriter, volumes: NonNullable<Pod['spec']>['volumes']): void {
  if (!volumes?.length) {
    w.write(LEVEL_0, 'Volumes:\t<none>\n');
    return;
  }
  w.write(LEVEL_0, 'Volumes:\n');
  for (const v of volumes) {
    w.write(LEVEL_1, `${v.name}:\n`);
    if (v.hostPath) {
      w.write(LEVEL_2, `Type:\tHostPath (bare host directory volume)\n    Path:\t${v.hostPath.path}\n    HostPathType:\t${v.hostPath.type ?? '<none>'}\n`);
    } else if (v.emptyDir) {
      w.write(LEVEL_2, `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${v.emptyDir.medium ?? ''}\n    SizeLimit:\t${v.emptyDir.sizeLimit ?? '<unset>'}\n`);
    } else if (v.configMap) {
      w.write(LEVEL_2, `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${v.configMap.name ?? ''}\n    Optional:\t${Boolean(v.configMap.optional)}\n`);
    } else if (v.persistentVolumeClaim) {
      w.write(LEVEL_2, `Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t${v.persistentVolumeClaim.claimName}\n    ReadOnly:\t${Boolean(v.persistentVolumeClaim.readOnly)}\n`);
    } else if (v.secret) {
      w.write(LEVEL_2, `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${v.secret.secretName ?? ''}\n    Optional:\t${Boolean(v.secret.optional)}\n`);
    } else {
      w.write(LEVEL_1, '<unknown>\n');
    }
  }
}

/** `qos.ComputePodQOS` (requests defaulting to limits, as the API server does). */
export function computePodQOS(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const value = (name: string, q: unknown) => (name === 'cpu' ? cpuMillis(q) : quantityValue(q));
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of containers) {
    const lim = c.resources?.limits ?? {};
    const req = { ...lim, ...(c.resources?.requests ?? {}) };
    for (const [name, q] of Object.entries(req)) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const v = value(name, q);
      if (v > 0) requests.set(name, (requests.get(name) ?? 0) + v);
    }
    const found = new Set<string>();
    for (const [name, q] of Object.entries(lim)) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const v = value(name, q);
      if (v > 0) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0) + v);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (!requests.size && !limits.size) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      if (limits.get(name) !== req) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

// ---------------------------------------------------------------------------------------
// Node

function describeNode(w: PrefixWriter, node: Node, now: number, extras: DescribeExtras): void {
  const meta = node.metadata ?? {};
  const spec = node.spec ?? {};
  const status = node.status ?? {};
  w.write(LEVEL_0, `Name:\t${meta.name ?? ''}\n`);
  w.write(LEVEL_0, `Roles:\t${nodeRoles(node).join(',') || '<none>'}\n`);
  printLabelsMultiline(w, 'Labels', meta.labels);
  printAnnotationsMultiline(w, 'Annotations', meta.annotations);
  w.write(LEVEL_0, `CreationTimestamp:\t${formatRFC1123Z(meta.creationTimestamp)}\n`);
  printTaintsMultiline(w, 'Taints', spec.taints);
  w.write(LEVEL_0, `Unschedulable:\t${Boolean(spec.unschedulable)}\n`);
  if (extras.lease !== undefined) {
    const lease = extras.lease;
    w.write(LEVEL_0, 'Lease:\n');
    w.write(LEVEL_1, `HolderIdentity:\t${lease?.spec?.holderIdentity ?? '<unset>'}\n`);
    w.write(LEVEL_1, `AcquireTime:\t${lease?.spec?.acquireTime ? formatRFC1123Z(lease.spec.acquireTime) : '<unset>'}\n`);
    w.write(LEVEL_1, `RenewTime:\t${lease?.spec?.renewTime ? formatRFC1123Z(lease.spec.renewTime) : '<unset>'}\n`);
  }
  if (status.conditions?.length) {
    w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
    w.write(LEVEL_1, '----\t------\t-----------------\t------------------\t------\t-------\n');
    for (const c of status.conditions) {
      w.write(
        LEVEL_1,
        `${c.type} \t${c.status} \t${formatRFC1123Z(c.lastHeartbeatTime)} \t${formatRFC1123Z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`,
      );
    }
  }
  w.write(LEVEL_0, 'Addresses:\n');
  for (const a of status.addresses ?? []) w.write(LEVEL_1, `${a.type}:\t${a.address}\n`);
  const printResources = (list: Record<string, string>) => {
    for (const name of Object.keys(list).sort(compareStrings)) w.write(LEVEL_0, `  ${name}:\t${list[name]}\n`);
  };
  if (Object.keys(status.capacity ?? {}).length) {
    w.write(LEVEL_0, 'Capacity:\n');
    printResources(status.capacity!);
  }
  if (Object.keys(status.allocatable ?? {}).length) {
    w.write(LEVEL_0, 'Allocatable:\n');
    printResources(status.allocatable!);
  }
  const info = status.nodeInfo;
  w.write(LEVEL_0, 'System Info:\n');
  w.write(LEVEL_0, `  Machine ID:\t${info?.machineID ?? ''}\n`);
  w.write(LEVEL_0, `  System UUID:\t${info?.systemUUID ?? ''}\n`);
  w.write(LEVEL_0, `  Boot ID:\t${info?.bootID ?? ''}\n`);
  w.write(LEVEL_0, `  Kernel Version:\t${info?.kernelVersion ?? ''}\n`);
  w.write(LEVEL_0, `  OS Image:\t${info?.osImage ?? ''}\n`);
  w.write(LEVEL_0, `  Operating System:\t${info?.operatingSystem ?? ''}\n`);
  w.write(LEVEL_0, `  Architecture:\t${info?.architecture ?? ''}\n`);
  w.write(LEVEL_0, `  Container Runtime Version:\t${info?.containerRuntimeVersion ?? ''}\n`);
  w.write(LEVEL_0, `  Kubelet Version:\t${info?.kubeletVersion ?? ''}\n`);
  w.write(LEVEL_0, `  Kube-Proxy Version:\t${info?.kubeProxyVersion ?? ''}\n`);
  if (spec.podCIDR) w.write(LEVEL_0, `PodCIDR:\t${spec.podCIDR}\n`);
  if (spec.podCIDRs?.length) w.write(LEVEL_0, `PodCIDRs:\t${spec.podCIDRs.join(',')}\n`);
  if (spec.providerID) w.write(LEVEL_0, `ProviderID:\t${spec.providerID}\n`);
  if (extras.pods) describeNodeResource(w, node, extras.pods, now);
}

interface PodResources {
  requests: Map<string, number>;
  limits: Map<string, number>;
}

function resourceValue(name: string, q: unknown): number {
  return name === 'cpu' ? cpuMillis(q) : (parseQuantity(q) ?? 0);
}

function formatResource(name: string, v: number): string {
  if (name === 'cpu') return formatCpu(v);
  if (name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-')) return formatBytes(Math.ceil(v));
  return String(v);
}

/** `resourcehelper.PodRequestsAndLimits`: containers summed, init containers as a floor, plus overhead. */
function podRequestsAndLimits(pod: Pod): PodResources {
  const sum = (field: 'requests' | 'limits') => {
    const total = new Map<string, number>();
    for (const c of pod.spec?.containers ?? []) {
      for (const [name, q] of Object.entries(c.resources?.[field] ?? {})) total.set(name, (total.get(name) ?? 0) + resourceValue(name, q));
    }
    for (const c of pod.spec?.initContainers ?? []) {
      for (const [name, q] of Object.entries(c.resources?.[field] ?? {})) {
        const v = resourceValue(name, q);
        if (v > (total.get(name) ?? 0)) total.set(name, v);
      }
    }
    for (const [name, q] of Object.entries(pod.spec?.overhead ?? {})) {
      if (field === 'requests' || total.has(name)) total.set(name, (total.get(name) ?? 0) + resourceValue(name, q));
    }
    return total;
  };
  return { requests: sum('requests'), limits: sum('limits') };
}

function describeNodeResource(w: PrefixWriter, node: Node, allPods: Pod[], now: number): void {
  const name = node.metadata?.name;
  const pods = allPods.filter((p) => (!p.spec?.nodeName || p.spec.nodeName === name) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  const allocatable = Object.keys(node.status?.allocatable ?? {}).length ? node.status!.allocatable! : (node.status?.capacity ?? {});
  const alloc = (res: string) => resourceValue(res, allocatable[res]);
  const pct = (v: number, res: string) => (alloc(res) ? Math.trunc((v / alloc(res)) * 100) : 0);
  w.write(LEVEL_0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(LEVEL_1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  w.write(LEVEL_1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n');
  const totals: PodResources = { requests: new Map(), limits: new Map() };
  for (const pod of pods) {
    const { requests, limits } = podRequestsAndLimits(pod);
    for (const [k, v] of requests) totals.requests.set(k, (totals.requests.get(k) ?? 0) + v);
    for (const [k, v] of limits) totals.limits.set(k, (totals.limits.get(k) ?? 0) + v);
    const cell = (m: Map<string, number>, res: string) => `${formatResource(res, m.get(res) ?? 0)} (${pct(m.get(res) ?? 0, res)}%)`;
    w.write(
      LEVEL_1,
      `${pod.metadata?.namespace ?? ''}\t${pod.metadata?.name ?? ''}\t\t${cell(requests, 'cpu')}\t${cell(limits, 'cpu')}\t${cell(requests, 'memory')}\t${cell(limits, 'memory')}\t${formatAge(pod.metadata?.creationTimestamp, now)}\n`,
    );
  }
  w.write(LEVEL_0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
  w.write(LEVEL_1, 'Resource\tRequests\tLimits\n');
  w.write(LEVEL_1, '--------\t--------\t------\n');
  for (const res of ['cpu', 'memory', 'ephemeral-storage']) {
    const req = totals.requests.get(res) ?? 0;
    const lim = totals.limits.get(res) ?? 0;
    w.write(LEVEL_1, `${res}\t${formatResource(res, req)} (${pct(req, res)}%)\t${formatResource(res, lim)} (${pct(lim, res)}%)\n`);
  }
  const standard = new Set(['cpu', 'memory', 'ephemeral-storage', 'pods']);
  const names = Object.keys(allocatable).sort(compareStrings);
  for (const res of names.filter((n) => n.startsWith('hugepages-'))) {
    const req = totals.requests.get(res) ?? 0;
    const lim = totals.limits.get(res) ?? 0;
    w.write(LEVEL_1, `${res}\t${formatResource(res, req)} (${pct(req, res)}%)\t${formatResource(res, lim)} (${pct(lim, res)}%)\n`);
  }
  for (const res of names.filter((n) => !standard.has(n) && !n.startsWith('hugepages-'))) {
    w.write(LEVEL_1, `${res}\t${formatResource(res, totals.requests.get(res) ?? 0)}\t${formatResource(res, totals.limits.get(res) ?? 0)}\n`);
  }
}

// ---------------------------------------------------------------------------------------
// Namespace

function describeNamespace(w: PrefixWriter, ns: KubeObject): void {
  w.write(LEVEL_0, `Name:\t${ns.metadata?.name ?? ''}\n`);
  printLabelsMultiline(w, 'Labels', ns.metadata?.labels);
  printAnnotationsMultiline(w, 'Annotations', ns.metadata?.annotations);
  w.write(LEVEL_0, `Status:\t${ns.status?.phase ?? ''}\n`);
  const conditions = (ns.status?.conditions ?? []) as Array<Record<string, string | undefined>>;
  if (conditions.length) {
    w.write(LEVEL_0, 'Conditions:\n');
    w.write(LEVEL_1, 'Type\tStatus\tLastTransitionTime\tReason\tMessage\n');
    w.write(LEVEL_1, '----\t------\t------------------\t------\t-------\n');
    for (const c of conditions) {
      w.write(LEVEL_1, `${c.type ?? ''}\t${c.status ?? ''}\t${formatRFC1123Z(c.lastTransitionTime)}\t${c.reason ?? ''}\t${c.message ?? ''}\n`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Service: kubectl's describeService (with the Service's Endpoints)

function describeService(w: PrefixWriter, svc: KubeObject, endpoints: KubeObject | null): void {
  const spec = svc.spec ?? {};
  w.write(LEVEL_0, `Name:\t${svc.metadata?.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${svc.metadata?.namespace ?? ''}\n`);
  printLabelsMultiline(w, 'Labels', svc.metadata?.labels);
  printAnnotationsMultiline(w, 'Annotations', svc.metadata?.annotations);
  w.write(LEVEL_0, `Selector:\t${formatLabels(spec.selector)}\n`);
  w.write(LEVEL_0, `Type:\t${spec.type ?? ''}\n`);
  if (spec.ipFamilyPolicy) w.write(LEVEL_0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  w.write(LEVEL_0, `IP Families:\t${spec.ipFamilies?.length ? spec.ipFamilies.join(',') : '<none>'}\n`);
  w.write(LEVEL_0, `IP:\t${spec.clusterIP ?? ''}\n`);
  w.write(LEVEL_0, `IPs:\t${spec.clusterIPs?.length ? spec.clusterIPs.join(',') : '<none>'}\n`);
  if (spec.externalIPs?.length) w.write(LEVEL_0, `External IPs:\t${spec.externalIPs.join(',')}\n`);
  if (spec.loadBalancerIP) w.write(LEVEL_0, `IP:\t${spec.loadBalancerIP}\n`);
  if (spec.externalName) w.write(LEVEL_0, `External Name:\t${spec.externalName}\n`);
  const ingress: Array<{ ip?: string; hostname?: string }> = svc.status?.loadBalancer?.ingress ?? [];
  if (ingress.length) w.write(LEVEL_0, `LoadBalancer Ingress:\t${ingress.map((i) => i.ip || i.hostname || '').join(', ')}\n`);
  for (const sp of (spec.ports ?? []) as Array<{ name?: string; port: number; protocol?: string; targetPort?: number | string; nodePort?: number }>) {
    const name = sp.name || '<unset>';
    const protocol = sp.protocol ?? 'TCP';
    w.write(LEVEL_0, `Port:\t${name}\t${sp.port}/${protocol}\n`);
    w.write(LEVEL_0, `TargetPort:\t${sp.targetPort ?? sp.port}/${protocol}\n`);
    if (sp.nodePort) w.write(LEVEL_0, `NodePort:\t${name}\t${sp.nodePort}/${protocol}\n`);
    w.write(LEVEL_0, `Endpoints:\t${formatEndpoints(endpoints, new Set([sp.name ?? '']))}\n`);
  }
  if (!spec.ports?.length) w.write(LEVEL_0, `Endpoints:\t${formatEndpoints(endpoints)}\n`);
  w.write(LEVEL_0, `Session Affinity:\t${spec.sessionAffinity ?? ''}\n`);
  if (spec.externalTrafficPolicy) w.write(LEVEL_0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec.internalTrafficPolicy) w.write(LEVEL_0, `Internal Traffic Policy:\t${spec.internalTrafficPolicy}\n`);
  if (spec.healthCheckNodePort) w.write(LEVEL_0, `HealthCheck NodePort:\t${spec.healthCheckNodePort}\n`);
  if (spec.loadBalancerSourceRanges?.length) w.write(LEVEL_0, `LoadBalancer Source Ranges:\t${spec.loadBalancerSourceRanges.join(',')}\n`);
}

// ---------------------------------------------------------------------------------------
// Generic: kubectl's describer for kinds without their own

const GENERIC_SKIP = ['.metadata.managedFields', '.metadata.name', '.metadata.namespace', '.metadata.labels', '.metadata.annotations'];

function describeGeneric(w: PrefixWriter, obj: KubeObject): void {
  w.write(LEVEL_0, `Name:\t${obj.metadata?.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${obj.metadata?.namespace ?? ''}\n`);
  printLabelsMultiline(w, 'Labels', obj.metadata?.labels);
  printAnnotationsMultiline(w, 'Annotations', obj.metadata?.annotations);
  printUnstructured(w, LEVEL_0, obj as Record<string, unknown>, '');
}

function printUnstructured(w: PrefixWriter, level: number, content: Record<string, unknown>, prefix: string): void {
  for (const field of Object.keys(content).sort(compareStrings)) {
    const value = content[field];
    const path = `${prefix}.${field}`;
    if (GENERIC_SKIP.includes(path) || value === undefined) continue;
    if (Array.isArray(value)) {
      w.write(level, `${smartLabelFor(field)}:\n`);
      for (const child of value) {
        if (isPlainObject(child)) printUnstructured(w, level + 1, child, path);
        else w.write(level + 1, `${goValue(child)}\n`);
      }
    } else if (isPlainObject(value)) {
      w.write(level, `${smartLabelFor(field)}:\n`);
      printUnstructured(w, level + 1, value, path);
    } else {
      w.write(level, `${smartLabelFor(field)}:\t${goValue(value)}\n`);
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function goValue(v: unknown): string {
  return v === null ? '<nil>' : String(v);
}

const ACRONYMS = new Set(['API', 'URL', 'UID', 'OSB', 'GUID']);

/** kubectl's `smartLabelFor`: `leaseDurationSeconds` → `Lease Duration Seconds`, `apiVersion` → `API Version`. */
export function smartLabelFor(field: string): string {
  if (/[^\p{L}-]/u.test(field)) return field;
  return camelcaseSplit(field)
    .filter((part) => part !== '_')
    .map((part) => (ACRONYMS.has(part.toUpperCase()) ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1)))
    .join(' ');
}

/** github.com/fatih/camelcase.Split: runs of one character class, an upper-case run's last letter joining a following lower-case run. */
function camelcaseSplit(s: string): string[] {
  const classOf = (c: string) => (/\p{Ll}/u.test(c) ? 1 : /\p{Lu}/u.test(c) ? 2 : /\p{N}/u.test(c) ? 3 : 4);
  const runs: string[][] = [];
  let last = 0;
  for (const c of s) {
    const cls = classOf(c);
    if (cls === last && runs.length) runs[runs.length - 1].push(c);
    else runs.push([c]);
    last = cls;
  }
  for (let i = 0; i < runs.length - 1; i++) {
    if (classOf(runs[i][0]) === 2 && classOf(runs[i + 1][0]) === 1) {
      runs[i + 1].unshift(runs[i].pop()!);
    }
  }
  return runs.filter((r) => r.length).map((r) => r.join(''));
}
