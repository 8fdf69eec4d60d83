/**
 * What one HPA sync sees, assembled from the informers' objects and the metrics server's
 * replies (pure, so it is tested without a cluster): the scale target's replica count and
 * selector (what its `/scale` subresource would say), its pods with their requests, readiness,
 * usage and traffic, and the traffic per Service of the namespace.
 */
import type { ObservedPod, Observation } from '../../actors/hpa/index.js';
import type { PodMetrics, TrafficReply } from '../../protocol/metrics.js';
import type { KubeObject, Pod } from '../../protocol/objects.js';
import { parseQuantity } from '../../protocol/quantity.js';
import { fromLabelSelectorObject, matchesLabels, type LabelSelector } from '../../protocol/selectors.js';

/** The kinds an HPA can scale here, with the resource name Kubernetes' messages use. */
export const SCALABLE_KINDS = { Deployment: 'deployments.apps', ReplicaSet: 'replicasets.apps' } as const;
export type ScalableKind = keyof typeof SCALABLE_KINDS;

export function isScalableKind(kind: string | undefined): kind is ScalableKind {
  return kind === 'Deployment' || kind === 'ReplicaSet';
}

/** The target's `/scale`: spec.replicas and the selector; undefined without a usable selector. */
export function scaleOf(target: KubeObject): { replicas: number; selector: LabelSelector } | undefined {
  const sel = target.spec?.selector;
  if (!sel || typeof sel !== 'object') return undefined;
  const selector = fromLabelSelectorObject(sel);
  if (!selector.length) return undefined; // an empty selector would match every pod of the namespace
  return { replicas: Number(target.spec?.replicas ?? 1), selector };
}

/** Sum of the containers' requests; undefined when a container has none (Kubernetes: "missing request"). */
function podRequest(pod: Pod, resource: 'cpu' | 'memory'): number | undefined {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const q = parseQuantity(c.resources?.requests?.[resource]);
    if (q === undefined) return undefined;
    sum += q;
  }
  return sum;
}

function isReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function usageOf(m: PodMetrics | undefined): ObservedPod['usage'] {
  if (!m || !m.containers.length) return undefined;
  let cpu = 0;
  let memory = 0;
  for (const c of m.containers) {
    cpu += parseQuantity(c.usage.cpu) ?? 0;
    memory += parseQuantity(c.usage.memory) ?? 0;
  }
  return { cpu, memory };
}

export interface ObservationInput {
  now: number;
  namespace: string;
  /** The scale target, undefined when it does not exist. */
  target?: KubeObject;
  targetRef: { kind: string; name: string };
  /** Every pod of the namespace (the informer's). */
  pods: KubeObject[];
  /** PodMetrics of the namespace; undefined when the metrics server did not answer. */
  podMetrics?: PodMetrics[];
  /** Traffic of the namespace; undefined when the metrics server did not answer. */
  traffic?: TrafficReply;
}

export function buildObservation(input: ObservationInput): Observation {
  const { now, namespace, target, targetRef } = input;
  const resource = isScalableKind(targetRef.kind) ? SCALABLE_KINDS[targetRef.kind] : `${targetRef.kind.toLowerCase()}s`;
  if (!isScalableKind(targetRef.kind)) return { now, targetError: `the server could not find the requested resource: ${resource} has no scale subresource`, pods: [], services: {} };
  if (!target) return { now, targetError: `${resource} "${targetRef.name}" not found`, pods: [], services: {} };
  const scale = scaleOf(target);
  if (!scale) return { now, targetError: `${resource} "${targetRef.name}" has no selector`, pods: [], services: {} };
  const usage = new Map((input.podMetrics ?? []).map((m) => [m.metadata.name, m]));
  const podTraffic = new Map((input.traffic?.pods ?? []).filter((r) => r.namespace === namespace).map((r) => [r.name, r]));
  const pods: ObservedPod[] = [];
  for (const obj of input.pods) {
    const pod = obj as Pod;
    if ((pod.metadata?.namespace ?? 'default') !== namespace || !matchesLabels(scale.selector, pod.metadata?.labels)) continue;
    const name = pod.metadata!.name!;
    const rate = podTraffic.get(name);
    pods.push({
      name,
      ready: isReady(pod),
      ignored: Boolean(pod.metadata?.deletionTimestamp) || pod.status?.phase === 'Failed',
      requests: { cpu: podRequest(pod, 'cpu'), memory: podRequest(pod, 'memory') },
      usage: usageOf(usage.get(name)),
      // Every endpoint a kube-proxy knows has a rate (0 when idle); a pod that is no endpoint yet has none (missing).
      traffic: rate ? { requests_per_second: rate.requestsPerSecond, connections_per_second: rate.connectionsPerSecond } : undefined,
    });
  }
  const services: Observation['services'] = {};
  for (const s of input.traffic?.services ?? []) {
    if (s.namespace === namespace) services[s.name] = { requests_per_second: s.requestsPerSecond, connections_per_second: s.connectionsPerSecond };
  }
  return { now, currentReplicas: scale.replicas, pods: pods.sort((a, b) => a.name.localeCompare(b.name)), services };
}
