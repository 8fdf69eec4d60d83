/**
 * The ReplicaSet controller's decision, as one pure function (kube-controller-manager's
 * pkg/controller/replicaset `syncReplicaSet`): given the ReplicaSet and the pods of its
 * namespace, which pods to adopt or release, how many pods to create or which to delete,
 * and the status to report. Level-based: the answer depends only on what is observed now.
 *
 *   claim (adopt orphans that match, release owned pods that no longer match)
 *     → diff = active − spec.replicas → create −diff | delete the `diff` lowest-ranked
 *     → status (replicas, fullyLabeled, ready, available, observedGeneration, terminating)
 */
import type { ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { OwnerReference, Pod } from '../../protocol/objects.js';
import { podCondition } from '../../protocol/objects.js';
import { fromLabelSelectorObject, matchesLabels, type LabelSelector } from '../../protocol/selectors.js';

/** kube's `BurstReplicas`: at most this many creates or deletes per sync. */
export const DEFAULT_BURST_REPLICAS = 500;

/** A pod named with the uid it had when the decision was taken (deletes and patches use it as a precondition). */
export interface PodRef {
  name: string;
  uid: string;
}

export interface Plan {
  /** Orphans matching the selector: set this ReplicaSet as their controller. */
  adopt: PodRef[];
  /** Owned pods that no longer match the selector: remove our controller reference. */
  release: PodRef[];
  /** Pods to create from the template (capped at burstReplicas). */
  create: number;
  /** Pods to delete, lowest-ranked first (capped at burstReplicas). */
  delete: PodRef[];
  status: ReplicaSetStatus;
  /** When a ready pod will become available later (minReadySeconds): ms from `now` until the first one does. */
  nextAvailableCheckMs?: number;
}

export interface ReconcileOptions {
  burstReplicas?: number;
}

// ---------------------------------------------------------------------------------------
// Pod predicates

export function controllerRef(pod: Pod): OwnerReference | undefined {
  return pod.metadata?.ownerReferences?.find((r) => r.controller === true);
}

export function isControlledBy(pod: Pod, uid: string | undefined): boolean {
  return uid !== undefined && uid !== '' && controllerRef(pod)?.uid === uid;
}

export function isTerminalPod(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** kube's `IsPodActive`: not Succeeded/Failed and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  return !isTerminalPod(pod) && !pod.metadata?.deletionTimestamp;
}

export function isPodReady(pod: Pod): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** The Ready condition's lastTransitionTime for a ready pod, in ms; undefined when unknown or not ready. */
export function podReadySince(pod: Pod): number | undefined {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * kube's `IsPodAvailable`: ready, and (minReadySeconds = 0 or ready for at least
 * minReadySeconds). kube compares strictly (`ready + minReady < now`) on second-precision
 * timestamps; this compares `≤` on milliseconds, so a timer set for the exact moment sees it.
 */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

function maxContainerRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function timestamp(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** kube's `afterOrZero`: an unknown time ranks first, then the later time. Assumes a ≠ b. */
function afterOrZero(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined;
  return a > b;
}

/**
 * kube's `controller.ActivePods` order: negative when `a` should be deleted before `b`.
 *   1. unassigned < assigned        2. Pending < Unknown < Running
 *   3. not ready < ready            4. ready for less time < longer (unknown first)
 *   5. more restarts < fewer        6. newer creationTimestamp < older (unknown first)
 * Ties (kube leaves them to sort.Sort) are broken by name, so the choice is reproducible.
 */
export function comparePodsForDeletion(a: Pod, b: Pod): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '' ? -1 : 1;
  const pa = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
  const pb = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  if (ra && rb) {
    const ta = podReadySince(a);
    const tb = podReadySince(b);
    if (ta !== tb) return afterOrZero(ta, tb) ? -1 : 1;
  }
  const ca = maxContainerRestarts(a);
  const cb = maxContainerRestarts(b);
  if (ca !== cb) return cb - ca;
  const ta = timestamp(a.metadata?.creationTimestamp);
  const tb = timestamp(b.metadata?.creationTimestamp);
  if (ta !== tb) return afterOrZero(ta, tb) ? -1 : 1;
  const ka = a.metadata?.name ?? '';
  const kb = b.metadata?.name ?? '';
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The pods in deletion order: the first ones are the ones to delete. */
export function rankPodsForDeletion(pods: readonly Pod[]): Pod[] {
  return [...pods].sort(comparePodsForDeletion);
}

// ---------------------------------------------------------------------------------------
// ReplicaSet helpers

/** The selector as requirements; undefined (matches nothing) when absent or empty, which validation rejects. */
export function replicaSetSelector(rs: ReplicaSet): LabelSelector | undefined {
  const sel = rs.spec?.selector;
  if (!sel) return undefined;
  const reqs = fromLabelSelectorObject(sel as Parameters<typeof fromLabelSelectorObject>[0]);
  return reqs.length ? reqs : undefined;
}

export function replicaSetMatches(rs: ReplicaSet, pod: Pod, selector = replicaSetSelector(rs)): boolean {
  return selector !== undefined && matchesLabels(selector, pod.metadata?.labels);
}

export function desiredReplicas(rs: ReplicaSet): number {
  return Math.max(0, rs.spec?.replicas ?? 1);
}

/** The controller reference a ReplicaSet puts on the pods it creates or adopts. */
export function ownerReferenceFor(rs: ReplicaSet): OwnerReference {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: rs.metadata?.name ?? '',
    uid: rs.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** kube's `GetPodFromTemplate`: a pod to create for this ReplicaSet (generateName `<rs>-`, template labels, controller reference). */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const template = rs.spec?.template;
  const meta = template?.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata?.name ?? ''}-`,
      namespace: rs.metadata?.namespace || 'default',
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [ownerReferenceFor(rs)],
    },
    spec: structuredClone(template?.spec ?? { containers: [] }),
  };
}

function ref(pod: Pod): PodRef {
  return { name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
}

function labelsContain(labels: Record<string, string> | undefined, wanted: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return Object.entries(wanted ?? {}).every(([k, v]) => l[k] === v);
}

// ---------------------------------------------------------------------------------------

/**
 * One sync of the ReplicaSet against the pods the host knows in its namespace.
 *
 * Like kube, only active pods (not Succeeded/Failed, not being deleted) take part in
 * claiming: a terminal orphan is not adopted and a terminal owned pod is not released.
 * While the ReplicaSet is being deleted nothing is adopted, released, created or deleted
 * (the garbage collector removes the dependents); the status is still computed.
 */
export function reconcileReplicaSet(rs: ReplicaSet, pods: readonly Pod[], now: number, opts: ReconcileOptions = {}): Plan {
  const uid = rs.metadata?.uid;
  const namespace = rs.metadata?.namespace || 'default';
  const deleting = !!rs.metadata?.deletionTimestamp;
  const selector = replicaSetSelector(rs);
  const burst = Math.max(0, opts.burstReplicas ?? DEFAULT_BURST_REPLICAS);

  const adopt: PodRef[] = [];
  const release: PodRef[] = [];
  const active: Pod[] = [];
  let terminatingReplicas = 0;
  for (const pod of pods) {
    if ((pod.metadata?.namespace || 'default') !== namespace) continue;
    if (!isPodActive(pod)) {
      if (!isTerminalPod(pod) && isControlledBy(pod, uid)) terminatingReplicas++; // kube's FilterTerminatingPods
      continue;
    }
    const matches = replicaSetMatches(rs, pod, selector);
    const owner = controllerRef(pod);
    if (owner) {
      if (!isControlledBy(pod, uid)) continue; // another controller's
      if (matches) active.push(pod);
      else if (!deleting) release.push(ref(pod));
    } else if (matches && !deleting) {
      adopt.push(ref(pod));
      active.push(pod);
    }
  }

  let create = 0;
  let remove: PodRef[] = [];
  if (!deleting) {
    const diff = active.length - desiredReplicas(rs);
    if (diff < 0) create = Math.min(-diff, burst);
    else if (diff > 0) remove = rankPodsForDeletion(active).slice(0, Math.min(diff, burst)).map(ref);
  }

  const minReadySeconds = Math.max(0, rs.spec?.minReadySeconds ?? 0);
  const templateLabels = rs.spec?.template?.metadata?.labels;
  let fullyLabeledReplicas = 0;
  let readyReplicas = 0;
  let availableReplicas = 0;
  let nextAvailableCheckMs: number | undefined;
  for (const pod of active) {
    if (labelsContain(pod.metadata?.labels, templateLabels)) fullyLabeledReplicas++;
    if (!isPodReady(pod)) continue;
    readyReplicas++;
    if (isPodAvailable(pod, minReadySeconds, now)) availableReplicas++;
    else {
      const since = podReadySince(pod);
      if (since === undefined) continue; // never available without a transition time (as in kube)
      const wait = since + minReadySeconds * 1000 - now;
      if (nextAvailableCheckMs === undefined || wait < nextAvailableCheckMs) nextAvailableCheckMs = wait;
    }
  }

  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas,
    readyReplicas,
    availableReplicas,
    ...(rs.metadata?.generation !== undefined ? { observedGeneration: rs.metadata.generation } : {}),
    // Pods being deleted but not gone yet: a Recreate rollout waits for them (omitted when 0).
    ...(terminatingReplicas > 0 ? { terminatingReplicas } : {}),
  } as ReplicaSetStatus;
  return { adopt, release, create, delete: remove, status, ...(nextAvailableCheckMs !== undefined ? { nextAvailableCheckMs } : {}) };
}
