/**
 * Ranking the feasible nodes, and the whole decision for one pod (Nomad-style:
 * feasibility → fit → score → pick). Pure: the same snapshot gives the same answer.
 *
 * score = LeastAllocated (0..100) + spread (0..100)
 *   LeastAllocated: mean over cpu and memory of (allocatable − requested after placing) / allocatable × 100,
 *     with kube-scheduler's non-zero default requests (100m, 200Mi) for containers that request nothing.
 *   spread: 100 × (max − count) / max, where count is the number of the pod's siblings on the node
 *     (same namespace and same owner uid, or identical non-empty labels) and max the largest count
 *     over the feasible nodes (SelectorSpread-like).
 * Ties are broken by a hash of pod key and node name: deterministic, yet different pods
 * prefer different nodes among equals.
 */
import { podHasClaims, volumeFilter, volumePreFilter, type VolumeSnapshot } from './volumes.js';
import type { Node, Pod } from '../../protocol/objects.js';
import { addPod, inGroup, newNodeInfo, setNode, usageOf, workloadKeys, type GroupTotals, type NodeInfo } from './node-info.js';
import {
  filterNode,
  keyOf,
  matchesNodeSelector,
  nodeAllocatable,
  podInfo,
  podKey,
  toPodInfo,
  unschedulableMessage,
  type PodInfo,
  type PodLike,
  type PodsByNode,
  type NodeUsage,
  type Resources,
} from './predicates.js';

export const MAX_NODE_SCORE = 100;

export type ScheduleResult = { nodeName: string } | { unschedulable: string };

/** One resource's LeastAllocated score, in integers like kube-scheduler. */
function leastRequested(requested: number, capacity: number): number {
  if (capacity <= 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** LeastAllocated score of placing a pod needing `podScoreRequests` on a node. */
export function leastAllocatedScore(node: Node, usage: NodeUsage, podScoreRequests: Resources): number {
  const alloc = nodeAllocatable(node);
  const cpu = leastRequested(usage.scoreRequested.cpu + podScoreRequests.cpu, alloc.cpu);
  const memory = leastRequested(usage.scoreRequested.memory + podScoreRequests.memory, alloc.memory);
  return Math.floor((cpu + memory) / 2);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length === 0 || ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
}

/** Whether `other` belongs to the same workload as `pod` (same owner, or the same labels). */
export function isSibling(pod: PodInfo, other: PodInfo): boolean {
  if (other.namespace !== pod.namespace) return false;
  if (other.name === pod.name) return false;
  if (pod.ownerUids.some((uid) => other.ownerUids.includes(uid))) return true;
  return sameLabels(pod.labels, other.labels);
}

export function siblingCount(pod: PodInfo, podsOnNode: Iterable<PodLike> | undefined): number {
  let n = 0;
  for (const p of podsOnNode ?? []) {
    const other = toPodInfo(p);
    if (other.phase !== 'Succeeded' && other.phase !== 'Failed' && isSibling(pod, other)) n++;
  }
  return n;
}

/** 32-bit FNV-1a of `text`; from `h`, the hash of the text before it (so hashing a prefix once serves every suffix). */
export function fnv1a(text: string, h = 0x811c9dc5): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function podsOn(podsByNode: PodsByNode, nodeName: string): Iterable<PodLike> | undefined {
  if (podsByNode instanceof Map) return podsByNode.get(nodeName)?.values();
  return Object.prototype.hasOwnProperty.call(podsByNode, nodeName) ? (podsByNode as Readonly<Record<string, readonly PodLike[] | undefined>>)[nodeName] : undefined;
}

/** Below this many nodes every node is filtered and scored (kube-scheduler's minFeasibleNodesToFind). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The least share of the nodes scored at any size (minFeasibleNodesPercentageToFind). */
export const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

/**
 * How many feasible nodes a decision looks for before it stops filtering, as kube-scheduler's
 * adaptive percentageOfNodesToScore: all of them below 100 nodes, else 50% minus 1% per 125
 * nodes (at least 5%, at least 100 nodes): 420 of 1,000 nodes, 500 of 5,000.
 */
export function numFeasibleNodesToFind(totalNodes: number): number {
  if (totalNodes < MIN_FEASIBLE_NODES_TO_FIND) return totalNodes;
  const percentage = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - Math.floor(totalNodes / 125));
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((totalNodes * percentage) / 100));
}

export interface ScheduleOptions {
  /** Index of the node filtering starts at (kube-scheduler rotates it so every node gets its turn). */
  start?: number;
  /** Filled in: how many nodes were filtered (the caller's next start is `start + evaluated`). */
  stats?: { evaluated: number };
}


/**
 * Decides where `pod` goes, from a snapshot given as the nodes and the pods on each
 * (terminated ones are ignored; the pod itself, if listed, is not counted). Builds the
 * per-node index and runs `scheduleOnNodes`; the scheduler machine keeps that index instead.
 */
export function schedulePod(pod: Pod, nodes: readonly Node[], podsByNode: PodsByNode, volumes?: VolumeSnapshot, opts: ScheduleOptions = {}): ScheduleResult {
  const self = keyOf(pod);
  const totals: GroupTotals = new Map();
  const infos = nodes.map((node) => {
    const name = node.metadata?.name ?? '';
    const info = newNodeInfo(name);
    setNode(info, node);
    for (const p of podsOn(podsByNode, name) ?? []) {
      const placed = toPodInfo(p);
      let key = podKey(placed.namespace, placed.name);
      if (key === self) continue;
      while (info.pods.has(key)) key += '\0'; // a list may name a pod twice: both count
      addPod(info, key, placed, totals);
    }
    return info;
  });
  return scheduleOnNodes(pod, infos, totals, undefined, volumes, opts);
}

/** The pod being decided where it is already placed (its own requests and sibling-ness are not counted there). */
export interface PlacedSelf {
  node: NodeInfo;
  info: PodInfo;
}

/**
 * Decides where `pod` goes: filter the nodes from `start` on (wrapping around) until
 * numFeasibleNodesToFind fit, score those, take the best. Only when fewer fit is every node
 * filtered, so an unschedulable message always counts every node. Every node in `nodes` must
 * have its `node` set. Filtering and scoring a node reads its NodeInfo totals: O(1) per node.
 */
export function scheduleOnNodes(
  pod: Pod,
  nodes: readonly NodeInfo[],
  totals: GroupTotals,
  self: PlacedSelf | undefined,
  volumes?: VolumeSnapshot,
  opts: ScheduleOptions = {},
): ScheduleResult {
  const info = podInfo(pod);
  const requests = info.requests;
  const withClaims = volumes !== undefined && podHasClaims(pod);
  if (withClaims) {
    const all = volumePreFilter(pod, volumes);
    if (all) return { unschedulable: `0/${nodes.length} nodes are available: ${all}.` };
  }
  const anySelector = hasNodeSelector(pod);
  const feasible: NodeInfo[] = [];
  const reasons: (readonly string[])[] = [];
  const total = nodes.length;
  const wanted = numFeasibleNodesToFind(total);
  const start = total ? (opts.start ?? 0) % total : 0;
  let evaluated = 0;
  for (; evaluated < total && feasible.length < wanted; evaluated++) {
    const ni = nodes[(start + evaluated) % total];
    const node = ni.node!;
    const mine = self?.node === ni ? self.info : undefined;
    // Fast path: nothing to tolerate, and the resources fit (filterNode would return no reason).
    let fits = false;
    if (ni.taints.length === 0 && !node.spec?.unschedulable && (!anySelector || matchesNodeSelector(pod, node))) {
      const alloc = ni.alloc;
      const pods = ni.pods.size - (mine ? 1 : 0);
      const cpu = ni.requestedCpu - (mine ? mine.requests.cpu : 0);
      const memory = ni.requestedMemory - (mine ? mine.requests.memory : 0);
      fits = pods + 1 <= alloc.pods && !(requests.cpu > 0 && requests.cpu > alloc.cpu - cpu) && !(requests.memory > 0 && requests.memory > alloc.memory - memory);
    }
    let failed = fits ? NONE : filterNode(pod, requests, node, usageOf(ni, mine));
    // VolumeBinding runs after NodeResourcesFit, as in kube-scheduler's filter order.
    if (failed.length === 0 && withClaims) {
      const volumeReason = volumeFilter(pod, node, volumes);
      if (volumeReason) failed = [volumeReason];
    }
    if (failed.length === 0) feasible.push(ni);
    else reasons.push(failed);
  }
  if (opts.stats) opts.stats.evaluated = evaluated;
  if (feasible.length === 0) return { unschedulable: unschedulableMessage(total, reasons) };
  return { nodeName: pickBest(info, keyOf(pod), feasible, totals, self) };
}

/** No reason: the node fits (shared, never changed). */
const NONE: readonly string[] = Object.freeze([]);

function hasNodeSelector(pod: Pod): boolean {
  const selector = pod.spec?.nodeSelector;
  if (selector) for (const _ in selector) return true;
  return pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution !== undefined;
}

/**
 * The best-scoring node, in one pass over the candidates: the highest total, then among equal
 * totals the lowest FNV-1a of `<pod key>|<node name>`, then the lowest name (what sorting by
 * score, tie-break and name and taking the first gives).
 */
function pickBest(info: PodInfo, key: string, feasible: readonly NodeInfo[], totals: GroupTotals, self: PlacedSelf | undefined): string {
  const counter = siblingCounter(info, totals);
  const siblings: number[] = [];
  let maxSiblings = 0;
  for (let i = 0; i < feasible.length; i++) {
    const ni = feasible[i];
    const n = counter(ni, self?.node === ni ? self.info : undefined);
    siblings.push(n);
    if (n > maxSiblings) maxSiblings = n;
  }
  const prefix = fnv1a(`${key}|`);
  let best = -1;
  let bestTotal = -1;
  let bestHash = -1; // computed only when another candidate ties with the best
  for (let i = 0; i < feasible.length; i++) {
    const ni = feasible[i];
    const alloc = ni.alloc;
    const mine = self?.node === ni ? self.info : undefined;
    const cpu = leastRequested(ni.scoreCpu - (mine ? mine.scoreRequests.cpu : 0) + info.scoreRequests.cpu, alloc.cpu);
    const memory = leastRequested(ni.scoreMemory - (mine ? mine.scoreRequests.memory : 0) + info.scoreRequests.memory, alloc.memory);
    const spread = maxSiblings === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (maxSiblings - siblings[i])) / maxSiblings);
    const total = Math.floor((cpu + memory) / 2) + spread;
    if (total < bestTotal) continue;
    if (total > bestTotal) {
      [best, bestTotal, bestHash] = [i, total, -1];
      continue;
    }
    if (bestHash < 0) bestHash = fnv1a(feasible[best].name, prefix);
    const hash = fnv1a(ni.name, prefix);
    if (hash < bestHash || (hash === bestHash && ni.name < feasible[best].name)) [best, bestHash] = [i, hash];
  }
  return feasible[best].name;
}

/**
 * Counts a pod's siblings on a node (isSibling: same namespace, and a shared owner uid or the
 * same non-empty labels) from the node's workload groups: owner + labels − both; `mine` is the
 * pod itself when placed there. The cache-wide totals pick the fewest lookups that give the
 * same count (a group empty everywhere is 0 on every node; owner = both everywhere means
 * owner = both on every node). A pod with several owner uids is counted by walking the node's pods.
 */
export function siblingCounter(info: PodInfo, totals: GroupTotals): (ni: NodeInfo, mine: PodInfo | undefined) => number {
  const keys = workloadKeys(info);
  if (keys.owners.length > 1) return (ni) => siblingCount(info, ni.pods.values());
  const unself = (mine: PodInfo | undefined) => (mine && related(info, mine) ? 1 : 0);
  const total = (group: string | undefined) => (group === undefined ? 0 : (totals.get(group) ?? 0));
  const [owner] = keys.owners;
  const labels = keys.labels;
  const both = keys.both[0];
  const [o, l, b] = [total(owner), total(labels), total(both)];
  const one = (group: string) => (ni: NodeInfo, mine: PodInfo | undefined) => inGroup(ni, group) - unself(mine);
  if (o === 0 && l === 0) return () => 0; // no pod of either group anywhere (not even the pod itself)
  if (owner === undefined) return one(labels!);
  if (labels === undefined) return one(owner);
  if (o === b) return one(labels); // owner − both is 0 on every node
  if (l === b) return one(owner); // labels − both is 0 on every node
  return (ni, mine) => inGroup(ni, owner) + inGroup(ni, labels) - inGroup(ni, both) - unself(mine);
}

/** isSibling without its "not the pod itself" rule. */
function related(pod: PodInfo, other: PodInfo): boolean {
  return other.namespace === pod.namespace && (pod.ownerUids.some((uid) => other.ownerUids.includes(uid)) || sameLabels(pod.labels, other.labels));
}
