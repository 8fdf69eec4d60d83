/**
 * The hold's pods beyond the throughput part, created the way kwok users fill a cluster: a few
 * Deployments (or ReplicaSets) with many replicas each, whose controllers create the pods.
 * The pods carry the bench label, so ScalePods' watch counts them like the direct ones.
 */
import type { ApiClient } from '../../protocol/client.js';
import type { KubeObject } from '../../protocol/objects.js';

export type HoldKind = 'Deployment' | 'ReplicaSet';

export function parseHoldKind(v: string | undefined): HoldKind {
  const s = (v ?? 'deployment').toLowerCase();
  if (s === 'deployment' || s === 'deploy' || s === 'deployments') return 'Deployment';
  if (s === 'replicaset' || s === 'rs' || s === 'replicasets') return 'ReplicaSet';
  throw new Error(`KUBEACT_SCALE_HOLD_VIA must be deployment or replicaset, got ${v}`);
}

/** `total` replicas split over workloads of at most `perWorkload` each: the replica counts. */
export function splitReplicas(total: number, perWorkload: number): number[] {
  if (!(perWorkload >= 1)) throw new RangeError(`replicas per workload must be at least 1, got ${perWorkload}`);
  const out: number[] = [];
  for (let left = Math.max(0, Math.floor(total)); left > 0; left -= perWorkload) out.push(Math.min(left, perWorkload));
  return out;
}

export function holdWorkload(kind: HoldKind, name: string, replicas: number, label: string): KubeObject {
  const app = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'default', labels: { bench: label } },
    spec: {
      replicas,
      selector: { matchLabels: app },
      template: {
        metadata: { labels: { ...app, bench: label } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
        },
      },
    },
  };
}

/** Creates the workloads (names `hold-<label>-<i>`); returns their names. */
export async function createHoldWorkloads(client: ApiClient, kind: HoldKind, replicas: number[], label: string): Promise<string[]> {
  const names = replicas.map((_, i) => `hold-${label}-${i}`);
  await Promise.all(names.map((name, i) => client.create(holdWorkload(kind, name, replicas[i], label))));
  return names;
}
