/**
 * Feasibility: can this node run this pod at all? Pure functions over an immutable
 * snapshot (nodes plus the pods already placed on them), with kube-scheduler's filter
 * plugins, in its order, and its wording of the reasons:
 *
 *   NodeUnschedulable → TaintToleration → NodeAffinity → NodeResourcesFit
 *
 * A node is reported under the first filter that rejects it (kube-scheduler stops there
 * too); NodeResourcesFit may report several reasons at once (`Insufficient cpu` and
 * `Insufficient memory`).
 */
import type { Container, Node, Pod } from '../../protocol/objects.js';
import { isNodeReady, nodeCondition } from '../../protocol/objects.js';
import { cpuMillis, quantityValue } from '../../protocol/quantity.js';
import type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from 'kubernetes-types/core/v1.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/** kube-scheduler's reason strings (framework plugin constants). */
export const REASON = {
  unschedulable: 'node(s) were unschedulable',
  nodeAffinity: "node(s) didn't match Pod's node affinity/selector",
  insufficientCpu: 'Insufficient cpu',
  insufficientMemory: 'Insufficient memory',
  tooManyPods: 'Too many pods',
} as const;

export function untoleratedTaintReason(taint: Pick<Taint, 'key' | 'value'>): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

/** Taints the node lifecycle controller puts on nodes that are not Ready. */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** Kubelet's default `--max-pods`, used when a node does not report `allocatable.pods`. */
export const DEFAULT_MAX_PODS = 110;
/** Requests assumed for scoring when a container requests nothing (kube-scheduler's non-zero defaults). */
export const DEFAULT_CPU_REQUEST_MILLIS = 100;
export const DEFAULT_MEMORY_REQUEST_BYTES = 200 * 1024 * 1024;

/** cpu in millicores, memory in bytes. */
export interface Resources {
  cpu: number;
  memory: number;
}

/** What the scheduler needs to remember about a pod that occupies (or will occupy) a node. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid?: string;
  nodeName?: string;
  phase?: string;
  /** Requests as the fit check counts them. */
  requests: Resources;
  /** Requests with non-zero defaults, as the scoring counts them. */
  scoreRequests: Resources;
  labels: Record<string, string>;
  ownerUids: string[];
  /** Bound by this scheduler, not yet seen back from the API. */
  assumed?: boolean;
}

/** A pod in the snapshot: either the full object or its summary. */
export type PodLike = Pod | PodInfo;

/** The pods on each node: a map of lists or of keyed maps (the scheduler's index), or a record of lists. */
export type PodsByNode = ReadonlyMap<string, readonly PodLike[] | ReadonlyMap<string, PodLike>> | Readonly<Record<string, readonly PodLike[] | undefined>>;

export function podKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace || 'default'}/${name ?? ''}`;
}

export function keyOf(pod: Pod): string {
  return podKey(pod.metadata?.namespace, pod.metadata?.name);
}

export function isTerminal(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}

/** An unbound, live pod that this scheduler (`default-scheduler`) is responsible for. */
export function needsScheduling(pod: Pod): boolean {
  return (
    !pod.spec?.nodeName &&
    !pod.metadata?.deletionTimestamp &&
    !isTerminal(pod.status?.phase) &&
    (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER_NAME) === DEFAULT_SCHEDULER_NAME
  );
}

// ---------------------------------------------------------------------------------------
// Requests

function containerRequests(c: Container, nonZero: boolean): Resources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  // Kubernetes defaults a missing request to the limit.
  const cpu = req.cpu ?? lim.cpu;
  const memory = req.memory ?? lim.memory;
  return {
    cpu: cpu === undefined && nonZero ? DEFAULT_CPU_REQUEST_MILLIS : cpuMillis(cpu),
    memory: memory === undefined && nonZero ? DEFAULT_MEMORY_REQUEST_BYTES : quantityValue(memory),
  };
}

const add = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory });
const max = (a: Resources, b: Resources): Resources => ({ cpu: Math.max(a.cpu, b.cpu), memory: Math.max(a.memory, b.memory) });

/**
 * The pod's effective requests, as kube-scheduler computes them: the sum over containers,
 * at least the largest init container (sidecar init containers, `restartPolicy: Always`,
 * run alongside and add up), plus the RuntimeClass overhead.
 */
export function podRequests(pod: Pod, opts: { nonZero?: boolean } = {}): Resources {
  const nonZero = opts.nonZero ?? false;
  let sum: Resources = { cpu: 0, memory: 0 };
  for (const c of pod.spec?.containers ?? []) sum = add(sum, containerRequests(c, nonZero));
  let sidecars: Resources = { cpu: 0, memory: 0 };
  let init: Resources = { cpu: 0, memory: 0 };
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === 'Always') {
      sum = add(sum, r);
      sidecars = add(sidecars, r);
      init = max(init, sidecars);
    } else {
      init = max(init, add(r, sidecars));
    }
  }
  const overhead = pod.spec?.overhead;
  return add(max(sum, init), { cpu: cpuMillis(overhead?.cpu), memory: quantityValue(overhead?.memory) });
}

export function podInfo(pod: Pod): PodInfo {
  const meta = pod.metadata ?? {};
  return {
    namespace: meta.namespace || 'default',
    name: meta.name ?? '',
    uid: meta.uid,
    nodeName: pod.spec?.nodeName,
    phase: pod.status?.phase,
    requests: podRequests(pod),
    scoreRequests: podRequests(pod, { nonZero: true }),
    labels: { ...(meta.labels ?? {}) },
    ownerUids: (meta.ownerReferences ?? []).map((o) => o.uid),
  };
}

export function toPodInfo(pod: PodLike): PodInfo {
  return 'requests' in pod && 'scoreRequests' in pod ? (pod as PodInfo) : podInfo(pod as Pod);
}

// ---------------------------------------------------------------------------------------
// Nodes

export interface NodeCapacity extends Resources {
  pods: number;
}

// A decision filters hundreds of nodes; each Node object (replaced, never changed, on every
// update) has its quantities parsed and its taints listed once.
const allocatableOf = new WeakMap<Node, Readonly<NodeCapacity>>();
const taintsOf = new WeakMap<Node, readonly Taint[]>();

/** `status.allocatable` (falling back to `status.capacity`). */
export function nodeAllocatable(node: Node): Readonly<NodeCapacity> {
  let alloc = allocatableOf.get(node);
  if (!alloc) allocatableOf.set(node, (alloc = parseAllocatable(node)));
  return alloc;
}

function parseAllocatable(node: Node): NodeCapacity {
  const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    cpu: cpuMillis(alloc.cpu),
    memory: quantityValue(alloc.memory),
    pods: alloc.pods === undefined ? DEFAULT_MAX_PODS : quantityValue(alloc.pods),
  };
}

/** What the pods already on a node hold: requests of the non-terminated ones, and their count. */
export interface NodeUsage {
  requested: Resources;
  scoreRequested: Resources;
  pods: number;
}

export function nodeUsage(podsOnNode: Iterable<PodLike> | undefined, exclude?: string): NodeUsage {
  const usage: NodeUsage = { requested: { cpu: 0, memory: 0 }, scoreRequested: { cpu: 0, memory: 0 }, pods: 0 };
  for (const p of podsOnNode ?? []) {
    const info = toPodInfo(p);
    if (isTerminal(info.phase)) continue;
    if (exclude !== undefined && podKey(info.namespace, info.name) === exclude) continue;
    usage.requested.cpu += info.requests.cpu;
    usage.requested.memory += info.requests.memory;
    usage.scoreRequested.cpu += info.scoreRequests.cpu;
    usage.scoreRequested.memory += info.scoreRequests.memory;
    usage.pods++;
  }
  return usage;
}

/**
 * The node's NoSchedule/NoExecute taints, plus the one the node lifecycle controller would
 * add for a node that is not Ready (`not-ready`, or `unreachable` when Ready is Unknown)
 * if the node does not carry it yet.
 */
export function effectiveTaints(node: Node): readonly Taint[] {
  let taints = taintsOf.get(node);
  if (!taints) taintsOf.set(node, (taints = listTaints(node)));
  return taints;
}

function listTaints(node: Node): Taint[] {
  const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  if (!isNodeReady(node)) {
    const key = nodeCondition(node, 'Ready')?.status === 'Unknown' ? TAINT_UNREACHABLE : TAINT_NOT_READY;
    if (!taints.some((t) => t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE)) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (!toleration.key && toleration.operator !== 'Exists') return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

function tolerated(pod: Pod, taint: Taint): boolean {
  return (pod.spec?.tolerations ?? []).some((t) => tolerates(t, taint));
}

function matchesRequirement(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(values[0], 10);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

export function matchesTerm(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing
  const labels = node.metadata?.labels ?? {};
  return (
    exprs.every((r) => matchesRequirement(r, labels)) &&
    fields.every((r) => matchesRequirement(r, r.key === 'metadata.name' ? { 'metadata.name': node.metadata?.name ?? '' } : {}))
  );
}

/** `spec.nodeSelector` and required node affinity (terms ORed, expressions ANDed). */
export function matchesNodeSelector(pod: Pod, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !(required.nodeSelectorTerms ?? []).some((t) => matchesTerm(t, node))) return false;
  return true;
}

/**
 * Why `node` cannot run `pod` (empty when it can). `requests` is the pod's podRequests,
 * `usage` what the pods already on the node hold.
 */
export function filterNode(pod: Pod, requests: Resources, node: Node, usage: NodeUsage): string[] {
  // NodeUnschedulable
  if (node.spec?.unschedulable && !tolerated(pod, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' })) return [REASON.unschedulable];
  // TaintToleration: the first taint the pod does not tolerate
  const taint = effectiveTaints(node).find((t) => !tolerated(pod, t));
  if (taint) return [untoleratedTaintReason(taint)];
  // NodeAffinity
  if (!matchesNodeSelector(pod, node)) return [REASON.nodeAffinity];
  // NodeResourcesFit
  const alloc = nodeAllocatable(node);
  const reasons: string[] = [];
  if (usage.pods + 1 > alloc.pods) reasons.push(REASON.tooManyPods);
  if (requests.cpu > 0 && requests.cpu > alloc.cpu - usage.requested.cpu) reasons.push(REASON.insufficientCpu);
  if (requests.memory > 0 && requests.memory > alloc.memory - usage.requested.memory) reasons.push(REASON.insufficientMemory);
  return reasons;
}

/**
 * The FailedScheduling message, as kube-scheduler's FitError formats it: a histogram of
 * reasons, each `"<count> <reason>"`, sorted as strings, e.g.
 * `0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu.`
 */
export function unschedulableMessage(totalNodes: number, reasonsPerNode: readonly (readonly string[])[]): string {
  if (totalNodes === 0) return '0/0 nodes are available: no nodes available to schedule pods.';
  const counts = new Map<string, number>();
  for (const reasons of reasonsPerNode) for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `0/${totalNodes} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}
