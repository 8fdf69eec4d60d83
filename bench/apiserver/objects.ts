/** The objects bench/apiserver/run.ts writes: shaped as a cluster's own (a kubelet's status, a recorder's Event). */
import { nowMicroTime, nowTimestamp, type KubeObject } from '../../protocol/objects.js';

export function nodeManifest(name: string): KubeObject {
  const resources = { cpu: '64', memory: '256Gi', pods: '10000', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
    spec: {},
    status: { capacity: resources, allocatable: resources, addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
  };
}

export function podManifest(name: string, label: string, nodeName?: string, namespace = 'default'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { bench: label, app: 'api-bench' } },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  };
}

/** A Running pod's status as the kubelet writes it (actors/pod/status.ts). */
export function runningStatus(i: number, now = Date.now()): Record<string, unknown> {
  const at = nowTimestamp(now);
  const ip = `127.${128 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: at });
  return {
    phase: 'Running',
    conditions: [cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: at,
    containerStatuses: [
      { name: 'main', image: 'registry.k8s.io/pause:3.10', imageID: '', containerID: `sim://${i}`, ready: true, started: true, restartCount: 0, state: { running: { startedAt: at } }, lastState: {} },
    ],
    qosClass: 'Burstable',
  };
}

/** A `Started` Event about the pod, as nodes/shared/events.ts records it. */
export function eventManifest(pod: KubeObject, now = Date.now()): KubeObject {
  const meta = pod.metadata!;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${meta.name}.${now.toString(16)}`, namespace: meta.namespace },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion },
    reason: 'Started',
    message: 'Started container main',
    type: 'Normal',
    count: 1,
    source: { component: 'kubelet', host: 'node-0' },
    firstTimestamp: nowTimestamp(now),
    lastTimestamp: nowTimestamp(now),
    eventTime: nowMicroTime(now),
    reportingComponent: 'kubelet',
    reportingInstance: 'node-0',
  } as KubeObject;
}
