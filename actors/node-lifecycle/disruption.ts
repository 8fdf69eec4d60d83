/**
 * kube-controller-manager's zone disruption rules (node_lifecycle_controller.go
 * ComputeZoneState / handleDisruption), for kubeact's single zone. When every node stops
 * renewing at once, the likely fault is the control plane's own connectivity (or a starved
 * control plane), not every node: evicting every pod then would only add load and destroy
 * workloads that are in fact running. Pure: the host counts nodes and keeps the clock.
 */

export type DisruptionMode = 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** `--unhealthy-zone-threshold`: the share of NotReady nodes (more than 2) that is a partial disruption. */
export const UNHEALTHY_ZONE_THRESHOLD = 0.55;
/** `--large-cluster-size-threshold`: at or below this many nodes a partial disruption stops evictions. */
export const LARGE_CLUSTER_SIZE_THRESHOLD = 50;
/** `--secondary-node-eviction-rate`: nodes evicted per second in a partially disrupted large cluster. */
export const SECONDARY_NODE_EVICTION_RATE = 0.01;

/** ComputeZoneState: no ready node → Full; more than 2 and at least 55 % not ready → Partial. */
export function disruptionMode(ready: number, notReady: number): DisruptionMode {
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (ready + notReady) >= UNHEALTHY_ZONE_THRESHOLD) return 'PartialDisruption';
  return 'Normal';
}

/**
 * May a node whose pods are not being evicted yet start eviction now? Normal: yes (kubeact does
 * not rate-limit the normal case). Full disruption: never. Partial: never in a cluster of at most
 * 50 nodes, else one node per 1 / 0.01 s = 100 s since the last node whose eviction started.
 */
export function mayStartEviction(mode: DisruptionMode, totalNodes: number, now: number, lastStartedAt: number | undefined): boolean {
  if (mode === 'Normal') return true;
  if (mode === 'FullDisruption') return false;
  if (totalNodes <= LARGE_CLUSTER_SIZE_THRESHOLD) return false;
  return lastStartedAt === undefined || now - lastStartedAt >= 1000 / SECONDARY_NODE_EVICTION_RATE;
}
