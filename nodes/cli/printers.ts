/**
 * What `kubeact get` prints, the way kubectl prints it: tables through a port of Go's
 * text/tabwriter (kubectl's settings), kubectl's pod and node status logic, Kubernetes'
 * HumanDuration for ages, `-o yaml|json`, and kubectl's one-line error messages.
 */
import YAML from 'yaml';
import type { Event, Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import { KINDS, isKind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';
import { STORAGE_COLUMNS } from './storage-columns.js';
import { HPA_COLUMNS } from './hpa-columns.js';

export { formatAge, humanDuration, parseTime } from './age.js';
import { formatAge, humanDuration, parseTime } from './age.js';

// ---------------------------------------------------------------------------------------
// Go's text/tabwriter

export interface TabwriterOptions {
  minwidth: number;
  padding: number;
}

/** kubectl's table settings (`printers.GetNewTabWriter`): minwidth 6, padding 3. */
export const TABLE_TABWRITER: TabwriterOptions = { minwidth: 6, padding: 3 };
/** kubectl describe's settings (`tabbedString`): minwidth 0, padding 2. */
export const DESCRIBE_TABWRITER: TabwriterOptions = { minwidth: 0, padding: 2 };

/**
 * Aligns tab-separated text exactly as Go's text/tabwriter does with a space pad char and
 * no flags: a cell is text ended by a tab; the text after a line's last tab is not part of
 * any column; a column's width is settled over each run of consecutive lines having that
 * cell, so a line without tabs ends every column above it.
 */
export function tabwrite(text: string, opts: TabwriterOptions): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];
  const width = (s: string) => [...s].length;

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i];
      let s = '';
      for (let j = 0; j < line.length; j++) {
        s += line[j];
        if (j < widths.length) s += ' '.repeat(Math.max(0, widths[j] - width(line[j])));
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t].length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = opts.minwidth;
      for (; t < line1; t++) {
        const line = lines[t];
        if (column >= line.length - 1) break;
        w = Math.max(w, width(line[column]) + opts.padding);
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
    }
    writeLines(line0, line1);
  };

  format(0, lines.length);
  return out.join('\n');
}

/** Rows of cells as kubectl prints a table: cells joined by tabs, each row ending in a newline. */
export function formatRows(rows: string[][], opts: TabwriterOptions = TABLE_TABWRITER): string {
  if (!rows.length) return '';
  return tabwrite(rows.map((r) => r.join('\t') + '\n').join(''), opts);
}

// ---------------------------------------------------------------------------------------
// Small helpers shared with describe

/** `labels.FormatLabels`: `a=b,c=d` sorted by key, `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort(compareStrings);
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>';
}

/**
 * `metav1.FormatLabelSelector`: requirements sorted by key (`a=b`, `k in (x,y)`, `k notin (x)`,
 * `k`, `!k`, values sorted), `<none>` for an empty selector.
 */
export function formatLabelSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined | null): string {
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of sel?.matchExpressions ?? []) {
    const values = [...new Set(e.values ?? [])].sort(compareStrings).join(',');
    const text = e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})` : e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator} (${values})`;
    reqs.push({ key: e.key, text });
  }
  reqs.sort((a, b) => compareStrings(a.key, b.key));
  return reqs.length ? reqs.map((r) => r.text).join(',') : '<none>';
}

/** Go's byte-wise string order (sort.Strings), not the locale's. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const LABEL_NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_LABEL_ROLE = 'kubernetes.io/role';

/** kubectl's `findNodeRoles`: `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values, sorted. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith(LABEL_NODE_ROLE_PREFIX)) {
      const role = k.slice(LABEL_NODE_ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === NODE_LABEL_ROLE && v) {
      roles.add(v);
    }
  }
  return [...roles].sort(compareStrings);
}

/** `Ready`, `NotReady`, `Unknown` (no Ready condition), with `,SchedulingDisabled` when cordoned. */
export function nodeStatus(node: Node): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeAddress(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

// ---------------------------------------------------------------------------------------
// Pods: kubectl's printPod (1.32)

type Container = NonNullable<Pod['spec']>['containers'][number];

function isRestartableInitContainer(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function conditionTrue(pod: Pod, type: string): boolean {
  return pod.status?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

export interface PodSummary {
  ready: string;
  status: string;
  restarts: number;
  /** When the last restarted container last finished (ms), if known. */
  lastRestart?: number;
}

/** The READY, STATUS and RESTARTS of a pod, computed as kubectl's `printPod`. */
export function podSummary(pod: Pod): PodSummary {
  const spec = pod.spec ?? ({ containers: [] } as NonNullable<Pod['spec']>);
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = spec.containers?.length ?? 0;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;
  const later = (a: number | undefined, b: number | undefined) => (b !== undefined && (a === undefined || b > a) ? b : a);

  const phase = status.phase ?? 'Pending';
  let reason: string = status.reason || phase;
  if (status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initContainers = new Map<string, Container>();
  for (const c of spec.initContainers ?? []) {
    initContainers.set(c.name, c);
    if (isRestartableInitContainer(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i];
    restarts += container.restartCount ?? 0;
    const finished = parseTime(container.lastState?.terminated?.finishedAt);
    lastRestart = later(lastRestart, finished);
    const restartable = isRestartableInitContainer(initContainers.get(container.name));
    if (restartable) {
      restartableInitRestarts += container.restartCount ?? 0;
      lastRestartableInitRestart = later(lastRestartableInitRestart, finished);
    }
    const terminated = container.state?.terminated;
    const waiting = container.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (restartable && container.started) {
      if (container.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
      else reason = `Init:${terminated.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(pod, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      restarts += container.restartCount ?? 0;
      lastRestart = later(lastRestart, parseTime(container.lastState?.terminated?.finishedAt));
      const waiting = container.state?.waiting;
      const terminated = container.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated?.reason) {
        reason = terminated.reason;
      } else if (terminated) {
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      } else if (container.ready && container.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // Back to "Running" if a container still runs after another completed.
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts, lastRestart };
}

function podRestarts(summary: PodSummary, now: number): string {
  if (summary.restarts !== 0 && summary.lastRestart !== undefined) return `${summary.restarts} (${humanDuration(now - summary.lastRestart)} ago)`;
  return String(summary.restarts);
}

// ---------------------------------------------------------------------------------------
// Tables

export interface TableOptions {
  wide?: boolean;
  allNamespaces?: boolean;
  now: number;
  showLabels?: boolean;
  noHeaders?: boolean;
}

export interface Columns {
  headers: string[];
  wideHeaders: string[];
  row(obj: KubeObject, now: number, wide: boolean): string[];
}

const COLUMNS: Record<string, Columns> = {
  Pod: {
    headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    wideHeaders: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
    row(obj, now, wide) {
      const pod = obj as unknown as Pod;
      const s = podSummary(pod);
      const cells = [pod.metadata?.name ?? '', s.ready, s.status, podRestarts(s, now), formatAge(pod.metadata?.creationTimestamp, now)];
      if (wide) {
        const gates = pod.spec?.readinessGates ?? [];
        let readiness = '<none>';
        if (gates.length) {
          const trueCount = gates.filter((g) => pod.status?.conditions?.find((c) => c.type === g.conditionType)?.status === 'True').length;
          readiness = `${trueCount}/${gates.length}`;
        }
        cells.push(
          pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>',
          pod.spec?.nodeName || '<none>',
          pod.status?.nominatedNodeName || '<none>',
          readiness,
        );
      }
      return cells;
    },
  },
  Node: {
    headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    wideHeaders: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
    row(obj, now, wide) {
      const node = obj as unknown as Node;
      const info = node.status?.nodeInfo;
      const cells = [node.metadata?.name ?? '', nodeStatus(node), nodeRoles(node).join(',') || '<none>', formatAge(node.metadata?.creationTimestamp, now), info?.kubeletVersion ?? ''];
      if (wide) {
        cells.push(
          nodeAddress(node, 'InternalIP'),
          nodeAddress(node, 'ExternalIP'),
          info?.osImage || '<unknown>',
          info?.kernelVersion || '<unknown>',
          info?.containerRuntimeVersion || '<unknown>',
        );
      }
      return cells;
    },
  },
  Namespace: {
    headers: ['NAME', 'STATUS', 'AGE'],
    wideHeaders: [],
    row: (obj, now) => [obj.metadata?.name ?? '', String(obj.status?.phase ?? ''), formatAge(obj.metadata?.creationTimestamp, now)],
  },
  Event: {
    headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
    wideHeaders: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'SUBOBJECT', 'SOURCE', 'MESSAGE', 'FIRST SEEN', 'COUNT', 'NAME'],
    row(obj, now, wide) {
      const ev = obj as unknown as Event;
      let first = formatAge(ev.firstTimestamp, now);
      if (parseTime(ev.firstTimestamp) === undefined) first = formatAge(ev.eventTime, now);
      let last = parseTime(ev.lastTimestamp) === undefined ? first : formatAge(ev.lastTimestamp, now);
      let count = ev.count ?? 0;
      if (ev.series) {
        last = formatAge(ev.series.lastObservedTime, now);
        count = ev.series.count ?? 0;
      } else if (count === 0) {
        count = 1;
      }
      const involved = ev.involvedObject ?? {};
      const target = involved.name ? `${String(involved.kind ?? '').toLowerCase()}/${involved.name}` : String(involved.kind ?? '').toLowerCase();
      const message = (ev.message ?? '').trim();
      if (!wide) return [last, ev.type ?? '', ev.reason ?? '', target, message];
      const component = ev.source?.component || ev.reportingComponent || '';
      const instance = ev.source?.host || ev.reportingInstance || '';
      return [last, ev.type ?? '', ev.reason ?? '', target, involved.fieldPath ?? '', instance ? `${component}, ${instance}` : component, message, first, String(count), ev.metadata?.name ?? ''];
    },
  },
  Lease: {
    headers: ['NAME', 'HOLDER', 'AGE'],
    wideHeaders: [],
    row(obj, now) {
      const lease = obj as unknown as Lease;
      return [lease.metadata?.name ?? '', lease.spec?.holderIdentity ?? '', formatAge(lease.metadata?.creationTimestamp, now)];
    },
  },
};

/** CONTAINERS, IMAGES, SELECTOR: the wide columns of workloads. */
function workloadWide(obj: KubeObject): string[] {
  const containers: { name: string; image?: string }[] = obj.spec?.template?.spec?.containers ?? [];
  const sel = obj.spec?.selector ?? {};
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) parts.push(`${e.key} ${String(e.operator).toLowerCase()} (${(e.values ?? []).join(',')})`);
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image ?? '').join(','), parts.join(',') || '<none>'];
}

COLUMNS.Deployment = {
  headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row(obj, now, wide) {
    const st = obj.status ?? {};
    const cells = [obj.metadata?.name ?? '', `${st.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`, String(st.updatedReplicas ?? 0), String(st.availableReplicas ?? 0), formatAge(obj.metadata?.creationTimestamp, now)];
    return wide ? [...cells, ...workloadWide(obj)] : cells;
  },
};

COLUMNS.ReplicaSet = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row(obj, now, wide) {
    const st = obj.status ?? {};
    const cells = [obj.metadata?.name ?? '', String(obj.spec?.replicas ?? 0), String(st.replicas ?? 0), String(st.readyReplicas ?? 0), formatAge(obj.metadata?.creationTimestamp, now)];
    return wide ? [...cells, ...workloadWide(obj)] : cells;
  },
};

// ---------------------------------------------------------------------------------------
// Services and Endpoints: kubectl's printService / printEndpoints

/** kubectl's `loadBalancerWidth`: a narrow table cuts the LoadBalancer addresses at 16 characters. */
const LOAD_BALANCER_WIDTH = 16;

/** kubectl's `loadBalancerStatusStringer`: ingress IPs (or hostnames), sorted, joined with commas. */
export function loadBalancerAddresses(svc: KubeObject, wide: boolean): string {
  const ingress: Array<{ ip?: string; hostname?: string }> = svc.status?.loadBalancer?.ingress ?? [];
  const set = new Set<string>();
  for (const i of ingress) {
    if (i?.ip) set.add(i.ip);
    else if (i?.hostname) set.add(i.hostname);
  }
  const r = [...set].sort(compareStrings).join(',');
  return !wide && r.length > LOAD_BALANCER_WIDTH ? `${r.slice(0, LOAD_BALANCER_WIDTH - 3)}...` : r;
}

/** kubectl's `getServiceExternalIP`: `<none>`, the LoadBalancer address or `<pending>`, the external name. */
export function serviceExternalIP(svc: KubeObject, wide: boolean): string {
  const externalIPs: string[] = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc, wide);
      if (externalIPs.length) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** kubectl's `makePortString`: `80/TCP`, `80:30080/TCP`, comma-separated. */
export function servicePorts(svc: KubeObject): string {
  const ports: Array<{ port: number; nodePort?: number; protocol?: string }> = svc.spec?.ports ?? [];
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

/**
 * kubectl's `formatEndpoints`: the first 3 ready `ip:port` (or `ip` for port-less subsets), then
 * ` + N more...`; `<none>` without subsets. `portNames` keeps only those ports (describe shows one
 * service port per line).
 */
export function formatEndpoints(endpoints: KubeObject | undefined | null, portNames?: Set<string>): string {
  const subsets: Array<{ addresses?: Array<{ ip: string }>; ports?: Array<{ name?: string; port: number }> }> = (endpoints as any)?.subsets ?? [];
  if (!subsets.length) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    if (!ss.ports?.length) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ss.ports) {
      if (portNames && !portNames.has(port.name ?? '')) continue;
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(`${a.ip}:${port.port}`);
      }
    }
  }
  const joined = list.join(',');
  return more ? `${joined} + ${count - max} more...` : joined;
}

COLUMNS.Service = {
  headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
  wideHeaders: ['SELECTOR'],
  row(obj, now, wide) {
    const clusterIPs: string[] = obj.spec?.clusterIPs ?? [];
    const cells = [
      obj.metadata?.name ?? '',
      String(obj.spec?.type ?? ''),
      clusterIPs[0] || obj.spec?.clusterIP || '<none>',
      serviceExternalIP(obj, wide),
      servicePorts(obj) || '<none>',
      formatAge(obj.metadata?.creationTimestamp, now),
    ];
    if (wide) cells.push(formatLabels(obj.spec?.selector));
    return cells;
  },
};

COLUMNS.Endpoints = {
  headers: ['NAME', 'ENDPOINTS', 'AGE'],
  wideHeaders: [],
  row: (obj, now) => [obj.metadata?.name ?? '', formatEndpoints(obj), formatAge(obj.metadata?.creationTimestamp, now)],
};

COLUMNS.NetworkPolicy = {
  headers: ['NAME', 'POD-SELECTOR', 'AGE'],
  wideHeaders: [],
  row: (obj, now) => [obj.metadata?.name ?? '', formatLabelSelector(obj.spec?.podSelector), formatAge(obj.metadata?.creationTimestamp, now)],
};

Object.assign(COLUMNS, STORAGE_COLUMNS);
Object.assign(COLUMNS, HPA_COLUMNS);

const GENERIC: Columns = {
  headers: ['NAME', 'AGE'],
  wideHeaders: [],
  row: (obj, now) => [obj.metadata?.name ?? '', formatAge(obj.metadata?.creationTimestamp, now)],
};

/**
 * A `kubectl get` table for objects of one kind. Returns '' for no objects (the caller
 * prints `No resources found in default namespace.`); otherwise rows ending in newlines.
 * The NAMESPACE column only appears for namespaced kinds, as kubectl does.
 */
export function printTable(kind: string, objects: KubeObject[], opts: TableOptions): string {
  if (!objects.length) return '';
  const cols = COLUMNS[kind] ?? GENERIC;
  const wide = Boolean(opts.wide);
  const withNamespace = Boolean(opts.allNamespaces) && (!isKind(kind) || KINDS[kind].namespaced);
  // The Event table's wide form reorders its columns, so it lists them all.
  const headers = kind === 'Event' && wide ? [...cols.wideHeaders] : [...cols.headers, ...(wide ? cols.wideHeaders : [])];
  if (withNamespace) headers.unshift('NAMESPACE');
  if (opts.showLabels) headers.push('LABELS');
  const rows: string[][] = opts.noHeaders ? [] : [headers];
  for (const obj of objects) {
    const cells = cols.row(obj, opts.now, wide);
    if (withNamespace) cells.unshift(obj.metadata?.namespace ?? '');
    if (opts.showLabels) cells.push(formatLabels(obj.metadata?.labels));
    rows.push(cells.map((c) => c.replace(/[\t\n]/g, ' ')));
  }
  return formatRows(rows);
}

// ---------------------------------------------------------------------------------------
// -o yaml / -o json

/** An array of objects as kubectl wraps several: `kind: List` with `items`. */
export function asList(items: KubeObject[]): KubeObject {
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } } as KubeObject;
}

/**
 * `-o yaml`: keys in the object's order, sequences not indented under their key and
 * YAML 1.1-ambiguous strings (`"yes"`, timestamps) quoted, as kubectl prints them.
 * An array is printed as a `kind: List`.
 */
export function toYaml(obj: KubeObject | KubeObject[]): string {
  const doc = Array.isArray(obj) ? asList(obj) : obj;
  return YAML.stringify(doc, { version: '1.1', indentSeq: false, aliasDuplicateObjects: false, customTags: quoteTimestamps });
}

/**
 * The YAML 1.1 tags with `!!timestamp` counted as a default tag, so strings that read as
 * timestamps are quoted (`creationTimestamp: "2024-05-01T12:00:00Z"`, as kubectl prints).
 * A fresh copy: other users of the yaml module (tap's reporter) switch the shared one off.
 */
function quoteTimestamps(tags: YAML.Tags): YAML.Tags {
  return tags.map((tag) => (typeof tag === 'object' && 'tag' in tag && tag.tag === 'tag:yaml.org,2002:timestamp' ? { ...tag, default: true } : tag)) as YAML.Tags;
}

/** `-o json`: four-space indent and a final newline, as kubectl's JSON printer. An array is a `kind: List`. */
export function toJson(obj: KubeObject | KubeObject[]): string {
  const doc = Array.isArray(obj) ? asList(obj) : obj;
  return JSON.stringify(doc, null, 4) + '\n';
}

// ---------------------------------------------------------------------------------------
// Errors

export interface ErrorContext {
  /** What was being done, as kubectl words it: `creating`, `applying`, `deleting`, `retrieving current configuration of`. */
  verb: string;
  /** The manifest the object came from (`pod.yaml`, `STDIN`). */
  source?: string;
}

/**
 * kubectl's rendering of a server error (no trailing newline):
 * - `Error from server (NotFound): pods "web" not found`
 * - Invalid with causes: `The Pod "web" is invalid: spec.containers[0].image: Required value`
 *   (one cause), or `The Pod "web" is invalid: ` then one `* field: message` line per cause
 * - no control plane (ServiceUnavailable/Timeout raised by the client): `Unable to connect to the server: ...`
 * With `context.source`, the message is prefixed `error when creating "pod.yaml": ` as
 * kubectl's AddSourceToErr does (Invalid errors keep their own form, as in kubectl).
 */
export function formatApiError(e: ApiError, context?: ErrorContext): string {
  if (e.reason === Reason.Invalid && e.causes.length) {
    const head = e.kind || e.objectName ? `The ${e.kind ?? ''} "${e.objectName ?? ''}" is invalid` : 'The request is invalid';
    const lines = e.causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    if (lines.length === 1) return `${head}: ${lines[0]}`;
    return [`${head}: `, ...lines.map((l) => `* ${l}`)].join('\n');
  }
  if (e.reason === Reason.ServiceUnavailable || e.reason === Reason.Timeout) {
    if (isClientSideFailure(e)) return `Unable to connect to the server: ${e.message}`;
  }
  const message = context?.source ? `error when ${context.verb} "${context.source}": ${e.message}` : e.message;
  return `Error from server (${e.reason}): ${message}`;
}

/**
 * A ServiceUnavailable/Timeout made by the client (no one answered, or the request timed
 * out) rather than sent by the API server. The protocol client keeps the transport error
 * as `cause`; one decoded from the wire has none.
 */
function isClientSideFailure(e: ApiError): boolean {
  return e.cause !== undefined || /no server answers|timed out|request on .* failed/.test(e.message);
}
