/**
 * How the docker runtime marks the containers it starts, so that a restarted kubelet finds
 * them again (recover) and `kubeact down` can sweep them: labels on every container, and a
 * container name in dockershim's `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>` layout.
 */
import { randomBytes } from 'node:crypto';
import type { ContainerConfig } from './types.js';

export const LABEL = {
  /** The worker's data dir: tells the clusters sharing one engine apart (node names repeat). */
  scope: 'io.kubeact.scope',
  node: 'io.kubeact.node',
  id: 'io.kubeact.id',
  podUid: 'io.kubeact.pod.uid',
  podName: 'io.kubeact.pod.name',
  namespace: 'io.kubeact.pod.namespace',
  container: 'io.kubeact.container.name',
  restartCount: 'io.kubeact.container.restart-count',
} as const;

export interface ContainerIdentity {
  /** The kubelet's id: `<podUid>/<container>/<restartCount>`. */
  id: string;
  podUid: string;
  podName: string;
  namespace: string;
  name: string;
  restartCount: number;
}

export function containerLabels(config: ContainerConfig, scope: string, node: string): Record<string, string> {
  return {
    [LABEL.scope]: scope,
    [LABEL.node]: node,
    [LABEL.id]: config.id,
    [LABEL.podUid]: config.podUid,
    [LABEL.podName]: config.podName,
    [LABEL.namespace]: config.namespace,
    [LABEL.container]: config.name,
    [LABEL.restartCount]: String(config.restartCount),
  };
}

/** The identity a container's labels carry, or undefined when they are not ours / incomplete. */
export function identityFromLabels(labels: Record<string, string> | undefined): ContainerIdentity | undefined {
  if (!labels) return undefined;
  const id = labels[LABEL.id];
  const podUid = labels[LABEL.podUid];
  const name = labels[LABEL.container];
  const restartCount = Number(labels[LABEL.restartCount]);
  if (!id || !podUid || !name || !Number.isInteger(restartCount) || restartCount < 0) return undefined;
  return { id, podUid, podName: labels[LABEL.podName] ?? '', namespace: labels[LABEL.namespace] ?? 'default', name, restartCount };
}

/** Label filters selecting one node's containers of one cluster (Engine API `filters`). */
export function scopeFilters(scope: string, node: string, extra: Record<string, string> = {}): { label: string[] } {
  const all = { [LABEL.scope]: scope, [LABEL.node]: node, ...extra };
  return { label: Object.entries(all).map(([k, v]) => `${k}=${v}`) };
}

/**
 * `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>_<random>`: readable in `docker ps`; the
 * random tail keeps names unique when a restarted kubelet counts attempts from 0 again while
 * containers of its predecessor still exist.
 */
export function containerName(config: ContainerConfig): string {
  const raw = `k8s_${config.name}_${config.podName}_${config.namespace}_${config.podUid}_${config.restartCount}_${randomBytes(3).toString('hex')}`;
  return raw.replace(/[^a-zA-Z0-9_.-]/g, '-');
}
