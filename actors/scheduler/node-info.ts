/**
 * One node's share of the scheduler's cache (kube-scheduler's NodeInfo): the node, the pods
 * placed on it, and running totals kept up to date as pods come and go, so that filtering
 * and scoring the node for a decision is O(1) instead of a walk over its pods:
 *
 *   requested / scoreRequested / pod count   → NodeResourcesFit, LeastAllocated
 *   pods per workload group                  → spread (how many siblings of a pod are here)
 *
 * Workload groups, within a namespace: each owner uid of a pod (`o`), its whole label set
 * (`l`, non-empty sets only) and each owner uid together with the label set (`b`), so the
 * siblings of a single-owner pod are owner + labels − both (isSibling's "same owner, or the
 * same labels", counted once). Terminated pods hold nothing and are not kept.
 */
import type { Node } from '../../protocol/objects.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { effectiveTaints, isTerminal, nodeAllocatable, type NodeCapacity, type NodeUsage, type PodInfo } from './predicates.js';

/** The workload group keys of a pod, computed once per PodInfo. */
export interface WorkloadKeys {
  /** `o<ns>\0<uid>` per distinct owner uid. */
  owners: string[];
  /** `l<ns>\0<label set>`, when the pod has labels. */
  labels: string | undefined;
  /** `b<ns>\0<uid>\0<label set>` per distinct owner uid, when the pod has labels. */
  both: string[];
}

const keysOf = new WeakMap<PodInfo, WorkloadKeys>();

/** A label set as one string: equal strings ⇔ equal sets (isSibling's sameLabels). */
function labelSignature(labels: Record<string, string>): string | undefined {
  const keys = Object.keys(labels);
  if (keys.length === 0) return undefined;
  keys.sort();
  return JSON.stringify(keys.map((k) => [k, labels[k]]));
}

export function workloadKeys(info: PodInfo): WorkloadKeys {
  let keys = keysOf.get(info);
  if (keys) return keys;
  const ns = info.namespace;
  const sig = labelSignature(info.labels);
  const uids = info.ownerUids.length > 1 ? [...new Set(info.ownerUids)] : info.ownerUids;
  keys = {
    owners: uids.map((uid) => `o${ns}\0${uid}`),
    labels: sig === undefined ? undefined : `l${ns}\0${sig}`,
    both: sig === undefined ? [] : uids.map((uid) => `b${ns}\0${uid}\0${sig}`),
  };
  keysOf.set(info, keys);
  return keys;
}

/** Plain data (the machine's context holds only records, Maps and Sets); change it only through the functions below. */
export interface NodeInfo {
  readonly name: string;
  /** Undefined while only pods name this node (not seen yet, or deleted with pods still on it). */
  node: Node | undefined;
  /** Parsed once per Node object. */
  alloc: Readonly<NodeCapacity>;
  taints: readonly Taint[];
  /** The non-terminated pods on the node, by pod key. */
  pods: Map<string, PodInfo>;
  requestedCpu: number;
  requestedMemory: number;
  scoreCpu: number;
  scoreMemory: number;
  /** Pods per workload group key (see workloadKeys); groups with no pod are absent. */
  groups: Map<string, number>;
}

export function newNodeInfo(name: string): NodeInfo {
  return { name, node: undefined, alloc: { cpu: 0, memory: 0, pods: 0 }, taints: [], pods: new Map(), requestedCpu: 0, requestedMemory: 0, scoreCpu: 0, scoreMemory: 0, groups: new Map() };
}

export function setNode(ni: NodeInfo, node: Node | undefined): void {
  ni.node = node;
  if (!node) return;
  ni.alloc = nodeAllocatable(node);
  ni.taints = effectiveTaints(node);
}

/**
 * Pods per workload group over every NodeInfo of a cache. A decision reads it to skip what
 * cannot matter: a group with no pod anywhere, or (all of an owner's pods sharing one label
 * set, the usual case) two of the three groups, which then hold the same pods on every node.
 */
export type GroupTotals = Map<string, number>;

/** Adds (or replaces) a pod; a terminated one is only removed. */
export function addPod(ni: NodeInfo, key: string, info: PodInfo, totals: GroupTotals): void {
  removePod(ni, key, totals);
  if (isTerminal(info.phase)) return;
  ni.pods.set(key, info);
  count(ni, info, 1, totals);
}

/** True when the pod was here. */
export function removePod(ni: NodeInfo, key: string, totals: GroupTotals): boolean {
  const info = ni.pods.get(key);
  if (!info) return false;
  ni.pods.delete(key);
  count(ni, info, -1, totals);
  return true;
}

function count(ni: NodeInfo, info: PodInfo, sign: 1 | -1, totals: GroupTotals): void {
  ni.requestedCpu += sign * info.requests.cpu;
  ni.requestedMemory += sign * info.requests.memory;
  ni.scoreCpu += sign * info.scoreRequests.cpu;
  ni.scoreMemory += sign * info.scoreRequests.memory;
  const keys = workloadKeys(info);
  for (const k of keys.owners) bump(ni.groups, k, sign), bump(totals, k, sign);
  if (keys.labels !== undefined) bump(ni.groups, keys.labels, sign), bump(totals, keys.labels, sign);
  for (const k of keys.both) bump(ni.groups, k, sign), bump(totals, k, sign);
}

function bump(groups: Map<string, number>, group: string, sign: 1 | -1): void {
  const n = (groups.get(group) ?? 0) + sign;
  if (n === 0) groups.delete(group);
  else groups.set(group, n);
}

/** How many pods on the node are in the group. */
export function inGroup(ni: NodeInfo, group: string): number {
  return ni.groups.get(group) ?? 0;
}

/** What the pods on the node hold, without `self` (the pod being decided, when it is placed there). */
export function usageOf(ni: NodeInfo, self?: PodInfo): NodeUsage {
  const usage: NodeUsage = {
    requested: { cpu: ni.requestedCpu, memory: ni.requestedMemory },
    scoreRequested: { cpu: ni.scoreCpu, memory: ni.scoreMemory },
    pods: ni.pods.size,
  };
  if (self) {
    usage.requested.cpu -= self.requests.cpu;
    usage.requested.memory -= self.requests.memory;
    usage.scoreRequested.cpu -= self.scoreRequests.cpu;
    usage.scoreRequested.memory -= self.scoreRequests.memory;
    usage.pods--;
  }
  return usage;
}

/** The NodeInfo of `name`, created when missing. */
export function nodeInfoOf(byNode: Map<string, NodeInfo>, name: string): NodeInfo {
  let info = byNode.get(name);
  if (!info) byNode.set(name, (info = newNodeInfo(name)));
  return info;
}
