/**
 * The pod's status, computed from the pod actor's context: what `publishStatus` hands to the
 * host. Pure: same context and `now`, same PodStatus.
 */
import { nowTimestamp, type ContainerState, type ContainerStatus, type Pod, type PodCondition, type PodStatus } from '../../protocol/objects.js';
import type { ConditionState, ContainerView, PodContext, Termination } from './types.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/** What computePodStatus reads. */
export type StatusInput = Pick<PodContext, 'pod' | 'podIP' | 'hostIP' | 'startTime' | 'containers' | 'conditions' | 'eviction'>;

/**
 * Kubelet's getPhase, for regular containers:
 * - Pending while a container has not run yet;
 * - Running while one is running, being stopped, or going to restart;
 * - once all are Terminated for good: Succeeded if all exited 0, Failed otherwise.
 */
export function podPhase(containers: readonly ContainerView[]): PodPhase {
  if (containers.length === 0) return 'Pending';
  if (containers.some((c) => !c.hasRun && c.phase !== 'Terminated')) return 'Pending';
  if (containers.some((c) => c.phase !== 'Terminated')) return 'Running';
  return containers.every((c) => c.lastTerminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
}

/** Container IDs carry their runtime as a scheme, as in Kubernetes (`containerd://…`). */
export function containerIdUri(id: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//.test(id) ? id : `process://${id}`;
}

function terminated(t: Termination): ContainerState {
  return {
    terminated: {
      exitCode: t.exitCode,
      ...(t.signal !== undefined ? { signal: t.signal } : {}),
      reason: t.reason,
      ...(t.message ? { message: t.message } : {}),
      ...(t.startedAt ? { startedAt: t.startedAt } : {}),
      finishedAt: t.finishedAt,
      ...(t.containerId ? { containerID: containerIdUri(t.containerId) } : {}),
    },
  };
}

export function containerStatus(view: ContainerView): ContainerStatus {
  let state: ContainerState;
  let lastState: ContainerState;
  let containerId: string | undefined;
  switch (view.phase) {
    case 'Running':
    case 'Stopping':
      state = { running: { startedAt: view.startedAt } };
      lastState = view.lastTerminated ? terminated(view.lastTerminated) : {};
      containerId = view.containerId;
      break;
    case 'Terminated':
      state = view.lastTerminated ? terminated(view.lastTerminated) : { waiting: { reason: 'ContainerCreating' } };
      lastState = view.priorTerminated ? terminated(view.priorTerminated) : {};
      containerId = view.lastTerminated?.containerId;
      break;
    default:
      state = { waiting: { ...(view.waiting ?? { reason: 'ContainerCreating' }) } };
      lastState = view.lastTerminated ? terminated(view.lastTerminated) : {};
      containerId = view.lastTerminated?.containerId;
  }
  const running = view.phase === 'Running' || view.phase === 'Stopping';
  return {
    name: view.name,
    image: view.image,
    imageID: view.hasRun ? view.image : '',
    ...(containerId ? { containerID: containerIdUri(containerId) } : {}),
    ready: running && view.started !== false && view.ready,
    restartCount: view.restartCount,
    started: running && view.started !== false,
    state,
    lastState,
  };
}

/** Keeps the stored transition time while a condition holds, `now` when it flips. */
function condition(type: string, ok: boolean, stored: ConditionState | undefined, now: string, why?: { reason: string; message?: string }): PodCondition {
  const status = ok ? 'True' : 'False';
  const lastTransitionTime = stored && stored.status === status ? stored.lastTransitionTime : now;
  return { type, status, lastTransitionTime, ...(ok || !why ? {} : why) };
}

/** Kubernetes' QoS class from the containers' requests and limits. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = pod.spec?.containers ?? [];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const requests = c.resources?.requests ?? {};
    const limits = c.resources?.limits ?? {};
    if (Object.keys(requests).length || Object.keys(limits).length) any = true;
    for (const r of ['cpu', 'memory']) {
      const limit = limits[r];
      const request = requests[r] ?? limit;
      if (limit === undefined || String(request) !== String(limit)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function computePodStatus(context: StatusInput, now: number): PodStatus {
  const at = nowTimestamp(now);
  // An evicted pod is Failed at once, as the kubelet reports it, while its containers are killed.
  const evicted = context.eviction;
  const phase = evicted ? 'Failed' : podPhase(context.containers);
  const unready = context.containers.filter((c) => !((c.phase === 'Running' || c.phase === 'Stopping') && c.ready)).map((c) => c.name);
  const allReady = context.containers.length > 0 && unready.length === 0;
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const notReady = completed
    ? { reason: 'PodCompleted' }
    : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  const scheduled = context.pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const stored = context.conditions;
  const conditions: PodCondition[] = [
    condition('Initialized', true, stored.Initialized ?? { status: 'True', lastTransitionTime: context.startTime }, at),
    condition('Ready', allReady, stored.Ready, at, notReady),
    condition('ContainersReady', allReady, stored.ContainersReady, at, notReady),
    condition('PodScheduled', true, stored.PodScheduled ?? { status: 'True', lastTransitionTime: scheduled?.lastTransitionTime ?? context.startTime }, at),
    // Kubernetes (PodDisruptionConditions) marks a pod the kubelet evicts this way.
    ...(evicted ? [condition('DisruptionTarget', true, stored.DisruptionTarget, at)].map((c) => ({ ...c, reason: 'TerminationByKubelet', message: evicted.message })) : []),
  ];
  return {
    phase,
    ...(evicted ? { reason: evicted.reason, message: evicted.message } : {}),
    conditions,
    hostIP: context.hostIP,
    hostIPs: [{ ip: context.hostIP }],
    podIP: context.podIP,
    podIPs: [{ ip: context.podIP }],
    startTime: context.startTime,
    containerStatuses: context.containers.map(containerStatus),
    qosClass: qosClass(context.pod),
  };
}

/** The conditions of a computed status, as the context keeps them (to detect flips next time). */
export function conditionStates(status: PodStatus): Record<string, ConditionState> {
  const out: Record<string, ConditionState> = {};
  for (const c of status.conditions ?? []) out[c.type] = { status: c.status as 'True' | 'False', lastTransitionTime: c.lastTransitionTime! };
  return out;
}
